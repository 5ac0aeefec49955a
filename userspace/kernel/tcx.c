// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* TCX links: attach, replace, detach and query; see tc_attach.h for the contract. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include "log.h"
#include "tc_hook.h"
#include "tcx.h"

/*
 * Kernel UAPI values (6.6+) that the installed headers predate.  Own names,
 * so that newer headers, where they are enumerators, cannot clash.
 */
#define XTC_LINK_TYPE_TCX 11
#define XTC_ATTACH_TCX_INGRESS ((enum bpf_attach_type)46)
#define XTC_ATTACH_TCX_EGRESS ((enum bpf_attach_type)47)

/* The TCX member of the kernel's struct bpf_link_info, at its offset. */
struct tcx_link_info {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	__u32 pad;			/* the kernel's union is 8-byte aligned */
	__u32 ifindex;			/* 0 once the device went away */
	__u32 attach_type;
};

/*
 * The kernel's BPF_PROG_QUERY attributes as of 6.6: libbpf 1.1 cannot ask
 * for link_ids nor the revision.
 */
struct tcx_query_attr {
	__u32 target_ifindex;
	__u32 attach_type;
	__u32 query_flags;
	__u32 attach_flags;
	__aligned_u64 prog_ids;
	__u32 count;
	__u32 pad;
	__aligned_u64 prog_attach_flags;
	__aligned_u64 link_ids;
	__aligned_u64 link_attach_flags;
	__u64 revision;
};

static enum bpf_attach_type attach_type(bool egress)
{
	return egress ? XTC_ATTACH_TCX_EGRESS : XTC_ATTACH_TCX_INGRESS;
}

bool xtc_tcx_available(void)
{
	static int cached = -1;
	__u32 cnt = 0;
	int err;

	if (cached >= 0)
		return cached;
	/* Loopback is ifindex 1 in every namespace; an unknown attach type is EINVAL. */
	err = bpf_prog_query(1, XTC_ATTACH_TCX_INGRESS, 0, NULL, NULL, &cnt);
	if (err)
		pr_debug("TCX probe: %s\n", strerror(-err));
	cached = err != -EINVAL;
	return cached;
}

static int link_info(int link_fd, struct tcx_link_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(link_fd, info, &len);
}

static bool link_is_at(const struct tcx_link_info *info, const struct xtc_tc_hook *h)
{
	return info->type == XTC_LINK_TYPE_TCX && info->ifindex == h->ifindex &&
	       info->attach_type == (__u32)attach_type(h->egress);
}

/* A TCX link whose device is gone: it holds nothing and may be replaced. */
static bool link_is_defunct(const struct tcx_link_info *info)
{
	return info->type == XTC_LINK_TYPE_TCX && info->ifindex == 0;
}

/* Our pinned link: *link_fd -1 when there is no pin; info filled otherwise. */
static int link_open(const struct xtc_tc_hook *h, int *link_fd, struct tcx_link_info *info,
		     const char *where)
{
	int fd, err;

	*link_fd = -1;
	if (!h->link_pin)
		return -EINVAL;
	fd = bpf_obj_get(h->link_pin);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0) {
		pr_warn("%s: cannot open TCX link %s: %s\n", where, h->link_pin, strerror(-fd));
		return fd;
	}
	err = link_info(fd, info);
	if (err) {
		pr_warn("%s: cannot inspect TCX link %s: %s\n", where, h->link_pin, strerror(-err));
		close(fd);
		return err;
	}
	if (!link_is_defunct(info) && !link_is_at(info, h)) {
		pr_warn("%s: %s is not a TCX link of this hook\n", where, h->link_pin);
		close(fd);
		return -EEXIST;
	}
	*link_fd = fd;
	return 0;
}

static int link_create(const struct xtc_tc_hook *h, int prog_fd, const char *where)
{
	int link_fd, err;

	link_fd = bpf_link_create(prog_fd, h->ifindex, attach_type(h->egress), NULL);
	if (link_fd < 0) {
		pr_warn("%s: cannot create TCX link: %s\n", where, strerror(-link_fd));
		return link_fd;
	}
	/* Until pinned, closing our fd is what detaches the link again on failure. */
	err = bpf_obj_pin(link_fd, h->link_pin);
	if (err)
		pr_warn("%s: cannot pin TCX link at %s: %s\n", where, h->link_pin, strerror(-err));
	close(link_fd);
	return err;
}

static int link_recreate(const struct xtc_tc_hook *h, int prog_fd, const char *where)
{
	int err;

	pr_debug("%s: replacing stale TCX link %s\n", where, h->link_pin);
	if (unlink(h->link_pin) && errno != ENOENT) {
		err = -errno;
		pr_warn("%s: cannot remove stale TCX link %s: %s\n", where, h->link_pin,
			strerror(errno));
		return err;
	}
	return link_create(h, prog_fd, where);
}

/*
 * Swaps the link's program.  With old_id the kernel compares it under its
 * own lock (BPF_F_REPLACE), so a concurrent change is refused, not lost.
 */
static int link_swap(int link_fd, const struct tcx_link_info *info, int prog_fd, __u32 old_id,
		     const char *where)
{
	LIBBPF_OPTS(bpf_link_update_opts, opts);
	int old_fd = -1, err;

	if (old_id && info->prog_id != old_id) {
		pr_warn("%s: our TCX link %u runs program %u, not %u as expected; leaving it\n",
			where, info->id, info->prog_id, old_id);
		return -EBUSY;
	}
	if (old_id) {
		old_fd = bpf_prog_get_fd_by_id(old_id);
		if (old_fd < 0) {
			pr_warn("%s: cannot open program %u: %s\n", where, old_id, strerror(-old_fd));
			return old_fd;
		}
		opts.flags = BPF_F_REPLACE;
		opts.old_prog_fd = old_fd;
	}
	err = bpf_link_update(link_fd, prog_fd, &opts);
	if (err == -EPERM && old_id)
		err = -EBUSY;
	if (err)
		pr_warn("%s: cannot update TCX link %u: %s\n", where, info->id, strerror(-err));
	if (old_fd >= 0)
		close(old_fd);
	return err;
}

/*
 * Our link runs prog_fd afterwards.  create: make the link when there is
 * none (attach); without it, no link is -ENOENT (replace).
 */
static int tcx_put(const struct xtc_tc_hook *h, int prog_fd, __u32 old_id, bool create)
{
	struct tcx_link_info info;
	struct xtc_tc_label l;
	const char *where = xtc_tc_label(&l, h);
	int link_fd, err;
	__u32 prog_id;

	err = link_open(h, &link_fd, &info, where);
	if (err)
		return err;
	if (link_fd < 0 || link_is_defunct(&info)) {
		if (create) {
			err = link_fd < 0 ? link_create(h, prog_fd, where) :
					    link_recreate(h, prog_fd, where);
		} else {
			pr_warn("%s: no TCX link of ours at %s to replace the program of\n", where,
				h->link_pin);
			err = -ENOENT;
		}
		goto out;
	}
	err = xtc_tc_prog_id(prog_fd, where, &prog_id);
	/* Updating in place leaves no moment without a program. */
	if (!err && info.prog_id != prog_id)
		err = link_swap(link_fd, &info, prog_fd, old_id, where);
out:
	if (link_fd >= 0)
		close(link_fd);
	return err;
}

static int tcx_attach(const struct xtc_tc_hook *h, int prog_fd, __u32 replace_id,
		      bool *created_qdisc)
{
	if (created_qdisc)
		*created_qdisc = false;
	return tcx_put(h, prog_fd, replace_id, true);
}

static int tcx_replace(const struct xtc_tc_hook *h, int prog_fd, __u32 old_id)
{
	return old_id ? tcx_put(h, prog_fd, old_id, false) : -EINVAL;
}

/* The link is ours whatever it runs: xtc made it and pinned it in its state. */
static int tcx_detach(const struct xtc_tc_hook *h, __u32 expect_id, bool remove_qdisc,
		      bool *left_foreign)
{
	struct tcx_link_info info;
	struct xtc_tc_label l;
	const char *where = xtc_tc_label(&l, h);
	int link_fd, err;

	(void)remove_qdisc;
	if (left_foreign)
		*left_foreign = false;
	err = link_open(h, &link_fd, &info, where);
	if (err == -EEXIST)
		err = -EINVAL;
	if (err || link_fd < 0)
		return err;
	if (expect_id && info.prog_id != expect_id && !link_is_defunct(&info))
		pr_debug("%s: our TCX link %u runs program %u, not %u; detaching it all the same\n",
			 where, info.id, info.prog_id, expect_id);
	/* Detach explicitly: another process may still hold the link open. */
	if (!link_is_defunct(&info)) {
		err = bpf_link_detach(link_fd);
		if (err) {
			pr_warn("%s: cannot detach TCX link: %s\n", where, strerror(-err));
			goto out;
		}
	}
	if (unlink(h->link_pin) && errno != ENOENT) {
		err = -errno;
		pr_warn("%s: cannot remove TCX link pin %s: %s\n", where, h->link_pin,
			strerror(errno));
	}
out:
	close(link_fd);
	return err;
}

static int query_hook(const struct xtc_tc_hook *h, struct xtc_tc_obs *obs)
{
	__u32 prog_ids[XTC_TCX_MAX_PROGS], link_ids[XTC_TCX_MAX_PROGS];
	struct tcx_query_attr attr;
	__u32 i;

	memset(&attr, 0, sizeof(attr));
	attr.target_ifindex = h->ifindex;
	attr.attach_type = attach_type(h->egress);
	attr.prog_ids = (__u64)(unsigned long)prog_ids;
	attr.link_ids = (__u64)(unsigned long)link_ids;
	attr.count = XTC_TCX_MAX_PROGS;
	if (syscall(__NR_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)) && errno != ENOSPC)
		return -errno;
	obs->n_tcx = attr.count < XTC_TCX_MAX_PROGS ? (int)attr.count : XTC_TCX_MAX_PROGS;
	obs->tcx_revision = attr.revision;
	for (i = 0; i < (__u32)obs->n_tcx; i++) {
		obs->tcx[i].id = prog_ids[i];
		obs->tcx[i].link_id = link_ids[i];
		xtc_tc_prog_name(prog_ids[i], obs->tcx[i].name, sizeof(obs->tcx[i].name));
	}
	return 0;
}

static int tcx_query(const struct xtc_tc_hook *h, struct xtc_tc_obs *obs)
{
	struct tcx_link_info info;
	int fd, err;

	obs->n_tcx = 0;
	obs->tcx_revision = 0;
	obs->link_id = obs->link_prog_id = 0;
	if (!xtc_tcx_available())
		return 0;
	err = query_hook(h, obs);
	if (err || !h->link_pin)
		return err;
	fd = bpf_obj_get(h->link_pin);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	err = link_info(fd, &info);
	if (!err && link_is_at(&info, h)) {
		obs->link_id = info.id;
		obs->link_prog_id = info.prog_id;
	}
	close(fd);
	return err;
}

const struct xtc_tc_ops xtc_tcx_ops = {
	.name = "tcx",
	.attach = tcx_attach,
	.detach = tcx_detach,
	.query = tcx_query,
	.replace = tcx_replace,
};
