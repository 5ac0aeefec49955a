// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Our TC programs on an interface, as TCX links or one cls_bpf filter; see tc_attach.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/classifier.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <linux/pkt_sched.h>
#include "log.h"
#include "nlutil.h"
#include "tc_attach.h"

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

/* A bpf mprog hook holds at most 64 programs. */
#define TCX_MAX_PROGS 64

/* "eth0: TC ingress": the prefix of every message about one hook. */
struct hook_name {
	char s[IF_NAMESIZE + 32];
};

static const char *hook_name(struct hook_name *n, __u32 ifindex, bool egress)
{
	char ifname[IF_NAMESIZE];

	if (!if_indextoname(ifindex, ifname))
		snprintf(ifname, sizeof(ifname), "if%u", ifindex);
	snprintf(n->s, sizeof(n->s), "%s: TC %s", ifname, egress ? "egress" : "ingress");
	return n->s;
}

static enum bpf_attach_type tcx_attach_type(bool egress)
{
	return egress ? XTC_ATTACH_TCX_EGRESS : XTC_ATTACH_TCX_INGRESS;
}

static __u32 clsact_parent(bool egress)
{
	return TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
}

static int prog_id_of(int prog_fd, __u32 *id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int err;

	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
	if (err)
		return err;
	*id = info.id;
	return 0;
}

/* ---- TCX ---- */

bool xtc_tc_tcx_available(void)
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

/* The ids of all TCX programs at a hook; none without TCX. */
static int tcx_prog_ids(__u32 ifindex, bool egress, __u32 *ids, __u32 *cnt)
{
	int err;

	if (!xtc_tc_tcx_available()) {
		*cnt = 0;
		return 0;
	}
	*cnt = TCX_MAX_PROGS;
	err = bpf_prog_query(ifindex, tcx_attach_type(egress), 0, NULL, ids, cnt);
	return err == -ENOSPC ? 0 : err;
}

static int tcx_link_info(int link_fd, struct tcx_link_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(link_fd, info, &len);
}

static bool tcx_link_is_at(const struct tcx_link_info *info, __u32 ifindex, bool egress)
{
	return info->type == XTC_LINK_TYPE_TCX && info->ifindex == ifindex &&
	       info->attach_type == (__u32)tcx_attach_type(egress);
}

/* A TCX link whose device is gone: it holds nothing and may be replaced. */
static bool tcx_link_is_defunct(const struct tcx_link_info *info)
{
	return info->type == XTC_LINK_TYPE_TCX && info->ifindex == 0;
}

static int tcx_create(__u32 ifindex, bool egress, int prog_fd, const char *pin, const char *where)
{
	int link_fd, err;

	link_fd = bpf_link_create(prog_fd, ifindex, tcx_attach_type(egress), NULL);
	if (link_fd < 0) {
		pr_warn("%s: cannot create TCX link: %s\n", where, strerror(-link_fd));
		return link_fd;
	}
	/* Until pinned, closing our fd is what detaches the link again on failure. */
	err = bpf_obj_pin(link_fd, pin);
	if (err)
		pr_warn("%s: cannot pin TCX link at %s: %s\n", where, pin, strerror(-err));
	close(link_fd);
	return err;
}

/* The pin exists: keep it, retarget it, or replace it when stale. */
static int tcx_reuse(int link_fd, __u32 ifindex, bool egress, int prog_fd, const char *pin,
		     const char *where)
{
	struct tcx_link_info info;
	__u32 prog_id;
	int err;

	err = tcx_link_info(link_fd, &info);
	if (!err)
		err = prog_id_of(prog_fd, &prog_id);
	if (err) {
		pr_warn("%s: cannot inspect TCX link %s: %s\n", where, pin, strerror(-err));
		return err;
	}
	if (tcx_link_is_defunct(&info)) {
		pr_debug("%s: replacing stale TCX link %s\n", where, pin);
		if (unlink(pin) && errno != ENOENT) {
			err = -errno;
			pr_warn("%s: cannot remove stale TCX link %s: %s\n", where, pin, strerror(errno));
			return err;
		}
		return tcx_create(ifindex, egress, prog_fd, pin, where);
	}
	if (!tcx_link_is_at(&info, ifindex, egress)) {
		pr_warn("%s: %s is not a TCX link of this hook\n", where, pin);
		return -EEXIST;
	}
	if (info.prog_id == prog_id)
		return 0;
	/* Updating in place leaves no moment without a program. */
	err = bpf_link_update(link_fd, prog_fd, NULL);
	if (err)
		pr_warn("%s: cannot update TCX link %s: %s\n", where, pin, strerror(-err));
	return err;
}

static int tcx_attach(__u32 ifindex, bool egress, int prog_fd, const char *pin, const char *where)
{
	int link_fd, err;

	if (!pin)
		return -EINVAL;
	link_fd = bpf_obj_get(pin);
	if (link_fd == -ENOENT)
		return tcx_create(ifindex, egress, prog_fd, pin, where);
	if (link_fd < 0) {
		pr_warn("%s: cannot open TCX link %s: %s\n", where, pin, strerror(-link_fd));
		return link_fd;
	}
	err = tcx_reuse(link_fd, ifindex, egress, prog_fd, pin, where);
	close(link_fd);
	return err;
}

static int tcx_detach(__u32 ifindex, bool egress, const char *pin, const char *where)
{
	struct tcx_link_info info;
	int link_fd, err;

	if (!pin)
		return -EINVAL;
	link_fd = bpf_obj_get(pin);
	if (link_fd == -ENOENT)
		return 0;
	if (link_fd < 0) {
		pr_warn("%s: cannot open TCX link %s: %s\n", where, pin, strerror(-link_fd));
		return link_fd;
	}
	err = tcx_link_info(link_fd, &info);
	if (err) {
		pr_warn("%s: cannot inspect TCX link %s: %s\n", where, pin, strerror(-err));
		goto out;
	}
	if (!tcx_link_is_defunct(&info) && !tcx_link_is_at(&info, ifindex, egress)) {
		pr_warn("%s: %s is not a TCX link of this hook\n", where, pin);
		err = -EINVAL;
		goto out;
	}
	/* Detach explicitly: another process may still hold the link open. */
	if (!tcx_link_is_defunct(&info)) {
		err = bpf_link_detach(link_fd);
		if (err) {
			pr_warn("%s: cannot detach TCX link: %s\n", where, strerror(-err));
			goto out;
		}
	}
	if (unlink(pin) && errno != ENOENT) {
		err = -errno;
		pr_warn("%s: cannot remove TCX link pin %s: %s\n", where, pin, strerror(errno));
	}
out:
	close(link_fd);
	return err;
}

/* ---- cls_bpf ---- */

struct cls_scan {
	bool ours;		/* our filter is there */
	int filters;		/* other filters */
	int entries;		/* every other dump entry, filter or not */
};

static void tc_hook_init(struct bpf_tc_hook *hook, __u32 ifindex, enum bpf_tc_attach_point at)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = (int)ifindex;
	hook->attach_point = at;
}

static void tc_opts_init(struct bpf_tc_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->sz = sizeof(*opts);
	opts->handle = XTC_CLS_HANDLE;
	opts->priority = XTC_CLS_PRIO;
}

static void route_sock_free(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

/*
 * A dump lists each prio's classifier instance itself with handle 0, and
 * u32 its hash tables (node 0) too: neither is a filter of its own.
 */
static bool cls_entry_is_filter(struct rtnl_cls *cls)
{
	__u32 handle = rtnl_tc_get_handle(TC_CAST(cls));
	const char *kind = rtnl_tc_get_kind(TC_CAST(cls));

	if (!handle)
		return false;
	return !(kind && !strcmp(kind, "u32") && !(handle & 0xfff));
}

static void cls_scan_entry(struct rtnl_cls *cls, struct cls_scan *scan)
{
	__u32 handle = rtnl_tc_get_handle(TC_CAST(cls));

	if (rtnl_cls_get_prio(cls) == XTC_CLS_PRIO && handle == XTC_CLS_HANDLE) {
		scan->ours = true;
		return;
	}
	if (rtnl_cls_get_prio(cls) == XTC_CLS_PRIO && !handle)
		return;
	scan->entries++;
	if (cls_entry_is_filter(cls))
		scan->filters++;
}

/* Filters under one clsact parent; no qdisc there simply dumps nothing. */
static int cls_dump(struct nl_sock *sk, __u32 ifindex, bool egress, struct cls_scan *scan)
{
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int err;

	memset(scan, 0, sizeof(*scan));
	err = rtnl_cls_alloc_cache(sk, (int)ifindex, clsact_parent(egress), &cache);
	if (err)
		return xtc_nl_errno(err);
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj))
		cls_scan_entry((struct rtnl_cls *)obj, scan);
	nl_cache_free(cache);
	return 0;
}

/* What holds handle ffff: of a device: clsact, the older ingress qdisc, or nothing. */
enum ffff_qdisc {
	FFFF_NONE,
	FFFF_CLSACT,
	FFFF_OTHER,
};

static int ffff_qdisc(struct nl_sock *sk, __u32 ifindex, enum ffff_qdisc *found)
{
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	struct rtnl_tc *tc;
	const char *kind;
	int err;

	*found = FFFF_NONE;
	err = rtnl_qdisc_alloc_cache(sk, &cache);
	if (err)
		return xtc_nl_errno(err);
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		tc = TC_CAST(obj);
		if (rtnl_tc_get_ifindex(tc) != (int)ifindex ||
		    rtnl_tc_get_handle(tc) != TC_H_MAKE(TC_H_CLSACT, 0))
			continue;
		kind = rtnl_tc_get_kind(tc);
		*found = kind && !strcmp(kind, "clsact") ? FFFF_CLSACT : FFFF_OTHER;
		break;
	}
	nl_cache_free(cache);
	return 0;
}

/*
 * The ingress qdisc takes filters for ffff:fff3 too, but puts them on its
 * only hook, ingress: an egress filter needs a real clsact.
 */
static int cls_scan(struct nl_sock *sk, __u32 ifindex, bool egress, struct cls_scan *scan)
{
	enum ffff_qdisc q = FFFF_CLSACT;
	int err;

	if (egress) {
		err = ffff_qdisc(sk, ifindex, &q);
		if (err)
			return err;
	}
	if (q != FFFF_CLSACT) {
		memset(scan, 0, sizeof(*scan));
		return 0;
	}
	return cls_dump(sk, ifindex, egress, scan);
}

/* An existing qdisc at ffff: must be clsact, or our filter would land elsewhere. */
static int clsact_check(__u32 ifindex, const char *where)
{
	struct nl_sock *sk = NULL;
	enum ffff_qdisc q;
	int err;

	err = xtc_nl_route_open(&sk, "tc");
	if (!err)
		err = ffff_qdisc(sk, ifindex, &q);
	if (err) {
		pr_warn("%s: cannot list qdiscs: %s\n", where, strerror(-err));
		goto out;
	}
	if (q != FFFF_CLSACT) {
		pr_warn("%s: another qdisc than clsact is in the way (delete the ingress qdisc)\n",
			where);
		err = -EEXIST;
	}
out:
	route_sock_free(sk);
	return err;
}

static int cls_attach(__u32 ifindex, bool egress, int prog_fd, bool *created_qdisc,
		      const char *where)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	bool created = false;
	__u32 prog_id;
	int err;

	tc_hook_init(&hook, ifindex, egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_warn("%s: cannot create clsact qdisc: %s\n", where, strerror(-err));
		goto out;
	}
	created = !err;
	if (!created) {
		err = clsact_check(ifindex, where);
		if (err)
			goto out;
	}
	err = prog_id_of(prog_fd, &prog_id);
	if (err) {
		pr_warn("%s: cannot identify the program: %s\n", where, strerror(-err));
		goto out;
	}
	tc_opts_init(&opts);
	if (!bpf_tc_query(&hook, &opts) && opts.prog_id == prog_id)
		goto out;
	tc_opts_init(&opts);
	opts.prog_fd = prog_fd;
	opts.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pr_warn("%s: cannot attach cls_bpf filter: %s\n", where, strerror(-err));
out:
	/* A clsact we made moments ago for a filter that failed holds nothing. */
	if (err && created) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
		created = false;
	}
	if (created_qdisc)
		*created_qdisc = created;
	return err;
}

/* Deletes clsact unless someone else's filter is on either of its hooks. */
static int clsact_remove_if_unused(struct nl_sock *sk, __u32 ifindex, const char *where)
{
	struct cls_scan in, eg;
	struct bpf_tc_hook hook;
	enum ffff_qdisc q;
	int err;

	err = ffff_qdisc(sk, ifindex, &q);
	if (!err && q != FFFF_CLSACT)
		return 0;
	if (!err)
		err = cls_scan(sk, ifindex, false, &in);
	if (!err)
		err = cls_scan(sk, ifindex, true, &eg);
	if (err) {
		pr_warn("%s: cannot list TC filters: %s\n", where, strerror(-err));
		return err;
	}
	/* Any entry, even an empty u32 hash table, is someone else's setup. */
	if (in.ours || eg.ours || in.entries || eg.entries) {
		pr_debug("%s: keeping clsact, other filters remain\n", where);
		return 0;
	}
	tc_hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	err = bpf_tc_hook_destroy(&hook);
	if (err == -ENOENT)
		err = 0;
	if (err)
		pr_warn("%s: cannot delete clsact qdisc: %s\n", where, strerror(-err));
	return err;
}

static int cls_detach(__u32 ifindex, bool egress, bool remove_qdisc, const char *where)
{
	struct nl_sock *sk = NULL;
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	struct cls_scan scan;
	int err;

	err = xtc_nl_route_open(&sk, "tc");
	if (!err)
		err = cls_scan(sk, ifindex, egress, &scan);
	if (err) {
		pr_warn("%s: cannot list TC filters: %s\n", where, strerror(-err));
		goto out;
	}
	/* Asking first keeps "no clsact" and "no filter" apart from real errors. */
	if (scan.ours) {
		tc_hook_init(&hook, ifindex, egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		tc_opts_init(&opts);
		err = bpf_tc_detach(&hook, &opts);
		if (err == -ENOENT)
			err = 0;
		if (err) {
			pr_warn("%s: cannot delete cls_bpf filter: %s\n", where, strerror(-err));
			goto out;
		}
	}
	if (remove_qdisc)
		err = clsact_remove_if_unused(sk, ifindex, where);
out:
	route_sock_free(sk);
	return err;
}

/* ---- the interface of tc_attach.h ---- */

int xtc_tc_attach(enum xtc_tc_kind kind, __u32 ifindex, bool egress, int prog_fd,
		  const char *link_pin, bool *created_qdisc)
{
	struct hook_name n;
	const char *where = hook_name(&n, ifindex, egress);

	if (created_qdisc)
		*created_qdisc = false;
	switch (kind) {
	case XTC_TC_KIND_TCX:
		return tcx_attach(ifindex, egress, prog_fd, link_pin, where);
	case XTC_TC_KIND_CLS_BPF:
		return cls_attach(ifindex, egress, prog_fd, created_qdisc, where);
	default:
		return -EINVAL;
	}
}

int xtc_tc_detach(enum xtc_tc_kind kind, __u32 ifindex, bool egress, const char *link_pin,
		  bool remove_qdisc)
{
	struct hook_name n;
	const char *where = hook_name(&n, ifindex, egress);

	switch (kind) {
	case XTC_TC_KIND_TCX:
		return tcx_detach(ifindex, egress, link_pin, where);
	case XTC_TC_KIND_CLS_BPF:
		return cls_detach(ifindex, egress, remove_qdisc, where);
	default:
		return -EINVAL;
	}
}

static int query_tcx(__u32 ifindex, bool egress, __u32 our_prog_id, struct xtc_tc_info *info)
{
	__u32 ids[TCX_MAX_PROGS], cnt, i;
	int err;

	err = tcx_prog_ids(ifindex, egress, ids, &cnt);
	if (err)
		return err;
	for (i = 0; i < cnt; i++) {
		if (our_prog_id && ids[i] == our_prog_id && info->kind == XTC_TC_KIND_NONE) {
			info->kind = XTC_TC_KIND_TCX;
			info->prog_id = ids[i];
		} else {
			info->n_others++;
		}
	}
	return 0;
}

static int query_cls(__u32 ifindex, bool egress, struct xtc_tc_info *info)
{
	struct nl_sock *sk = NULL;
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	struct cls_scan scan;
	int err;

	err = xtc_nl_route_open(&sk, "tc");
	if (!err)
		err = cls_scan(sk, ifindex, egress, &scan);
	if (err)
		goto out;
	info->n_others += scan.filters;
	if (!scan.ours)
		goto out;
	/* Ours reported as TCX: a leftover filter of ours is one more program. */
	if (info->kind != XTC_TC_KIND_NONE) {
		info->n_others++;
		goto out;
	}
	tc_hook_init(&hook, ifindex, egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	tc_opts_init(&opts);
	err = bpf_tc_query(&hook, &opts);
	if (err == -ENOENT) {
		/* Deleted since the dump, or not a bpf filter at all. */
		err = 0;
		goto out;
	}
	if (err)
		goto out;
	info->kind = XTC_TC_KIND_CLS_BPF;
	info->prog_id = opts.prog_id;
	info->prio = opts.priority;
	info->handle = opts.handle;
out:
	route_sock_free(sk);
	return err;
}

int xtc_tc_query(__u32 ifindex, bool egress, __u32 our_prog_id, struct xtc_tc_info *info)
{
	struct hook_name n;
	int err;

	memset(info, 0, sizeof(*info));
	err = query_tcx(ifindex, egress, our_prog_id, info);
	if (err) {
		pr_warn("%s: cannot query TCX programs: %s\n",
			hook_name(&n, ifindex, egress), strerror(-err));
		return err;
	}
	err = query_cls(ifindex, egress, info);
	if (err)
		pr_warn("%s: cannot query TC filters: %s\n",
			hook_name(&n, ifindex, egress), strerror(-err));
	return err;
}
