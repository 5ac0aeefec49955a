// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Our cls_bpf filter in its slot: chain 0, the operator's prio (tc_prio),
 * handle XTC_CLS_HANDLE; see tc_attach.h for the contract.  The slot is
 * ours only while the filter there runs a program the caller knows to be
 * its own: whatever else holds it is named and left alone.
 *
 * The kernel has no compare-and-swap for filters: between reading the slot
 * and replacing or deleting the filter, another process could change it.
 * Attaching into an empty slot is exact (NLM_F_EXCL); the rest is as close
 * as rtnetlink allows.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include "clsact.h"
#include "cls_bpf.h"
#include "log.h"
#include "nlutil.h"
#include "tc_hook.h"

struct scan {
	__u32 prio;
	struct xtc_tc_filter exact;	/* the filter at our prio and handle */
	struct xtc_tc_filter other;	/* another classifier at our prio */
	bool has_exact, has_other;
	int filters;			/* every real filter, the slot's included */
	int entries;			/* every dump entry, filter or not */
};

static void scan_entry(const struct xtc_tc_filter *f, void *arg)
{
	struct scan *s = arg;

	s->entries++;
	if (xtc_tc_filter_is_real(f))
		s->filters++;
	if (f->chain || f->prio != s->prio)
		return;
	if (f->handle == XTC_CLS_HANDLE && !s->has_exact) {
		s->exact = *f;
		s->has_exact = true;
	} else if ((strcmp(f->kind, "bpf") || f->protocol != ETH_P_ALL) && !s->has_other) {
		/* A prio holds one classifier, of one protocol: ours (all) fits beside no other. */
		s->other = *f;
		s->has_other = true;
	}
}

static int scan_hook(struct nl_sock *sk, const struct xtc_tc_hook *h, struct scan *s)
{
	memset(s, 0, sizeof(*s));
	s->prio = xtc_tc_hook_prio(h);
	return xtc_clsact_filters(sk, h->ifindex, h->egress, scan_entry, s);
}

static void slot_of(const struct scan *s, struct xtc_cls_slot *slot)
{
	const struct xtc_tc_filter *f = s->has_exact ? &s->exact : s->has_other ? &s->other : NULL;

	memset(slot, 0, sizeof(*slot));
	slot->prio = s->prio;
	if (!f)
		return;
	slot->taken = true;
	snprintf(slot->kind, sizeof(slot->kind), "%s", f->kind);
	slot->handle = s->has_exact ? f->handle : 0;
	slot->prog_id = f->prog_id;
	xtc_tc_prog_name(f->prog_id, slot->prog_name, sizeof(slot->prog_name));
}

static int read_slot(struct nl_sock *sk, const struct xtc_tc_hook *h, struct scan *s,
		     struct xtc_cls_slot *slot, const char *where)
{
	int err = scan_hook(sk, h, s);

	if (err) {
		pr_warn("%s: cannot list TC filters: %s\n", where, strerror(-err));
		return err;
	}
	slot_of(s, slot);
	return 0;
}

/* Whether the slot holds our bpf filter running prog_id. */
static bool slot_runs(const struct xtc_cls_slot *slot, __u32 prog_id)
{
	return slot->taken && prog_id && slot->handle == XTC_CLS_HANDLE &&
	       !strcmp(slot->kind, "bpf") && slot->prog_id == prog_id;
}

void xtc_cls_slot_describe(const struct xtc_cls_slot *slot, char *buf, size_t len)
{
	if (!strcmp(slot->kind, "bpf") && slot->handle)
		snprintf(buf, len, "a bpf filter running program '%s' (id %u)",
			 slot->prog_name[0] ? slot->prog_name : "?", slot->prog_id);
	else if (slot->handle)
		snprintf(buf, len, "a %s filter (handle 0x%x)", slot->kind, slot->handle);
	else
		snprintf(buf, len, "a %s classifier, which takes the whole prio", slot->kind);
}

/* What `tc filter del` removes the holder with. */
void xtc_cls_slot_del_command(const struct xtc_tc_hook *h, const struct xtc_cls_slot *slot,
			      char *buf, size_t len)
{
	char ifname[IF_NAMESIZE + 8];

	xtc_tc_ifname(h->ifindex, ifname, sizeof(ifname));
	if (slot->handle)
		snprintf(buf, len, "tc filter del dev %s %s prio %u handle 0x%x %s", ifname,
			 h->egress ? "egress" : "ingress", slot->prio, slot->handle, slot->kind);
	else
		snprintf(buf, len, "tc filter del dev %s %s prio %u", ifname,
			 h->egress ? "egress" : "ingress", slot->prio);
}

static int refuse(const struct xtc_tc_hook *h, const struct xtc_cls_slot *slot, const char *where)
{
	char holder[128], cmd[128];

	xtc_cls_slot_describe(slot, holder, sizeof(holder));
	xtc_cls_slot_del_command(h, slot, cmd, sizeof(cmd));
	pr_warn("%s: the cls_bpf slot prio %u (0x%x) handle 0x%x is taken by %s, which is not "
		"xtc's; xtc leaves it alone: choose another tc_prio, or remove that filter (%s)\n",
		where, slot->prio, slot->prio, XTC_CLS_HANDLE, holder, cmd);
	return -EBUSY;
}

static void tc_hook_init(struct bpf_tc_hook *hook, const struct xtc_tc_hook *h)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = (int)h->ifindex;
	hook->attach_point = h->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

static void tc_opts_init(struct bpf_tc_opts *opts, const struct xtc_tc_hook *h)
{
	memset(opts, 0, sizeof(*opts));
	opts->sz = sizeof(*opts);
	opts->handle = XTC_CLS_HANDLE;
	opts->priority = xtc_tc_hook_prio(h);
}

/* NLM_F_EXCL into an empty slot, or NLM_F_REPLACE over ours: never a gap. */
static int filter_put(const struct xtc_tc_hook *h, int prog_fd, bool replace)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;

	tc_hook_init(&hook, h);
	tc_opts_init(&opts, h);
	opts.prog_fd = prog_fd;
	opts.flags = replace ? BPF_TC_F_REPLACE : 0;
	return bpf_tc_attach(&hook, &opts);
}

/* An existing qdisc at ffff: must be clsact, or our filter would land elsewhere. */
static int clsact_ensure(struct nl_sock *sk, const struct xtc_tc_hook *h, bool *created,
			 const char *where)
{
	enum xtc_ffff_qdisc q;
	struct bpf_tc_hook hook;
	int err;

	tc_hook_init(&hook, h);
	err = bpf_tc_hook_create(&hook);
	*created = !err;
	if (!err)
		return 0;
	if (err != -EEXIST) {
		pr_warn("%s: cannot create clsact qdisc: %s\n", where, strerror(-err));
		return err;
	}
	err = xtc_clsact_probe(sk, h->ifindex, &q);
	if (err) {
		pr_warn("%s: cannot list qdiscs: %s\n", where, strerror(-err));
		return err;
	}
	if (q != XTC_FFFF_CLSACT) {
		pr_warn("%s: another qdisc than clsact is in the way (delete the ingress qdisc)\n",
			where);
		return -EEXIST;
	}
	return 0;
}

/* A clsact we made moments ago for a filter that failed holds nothing. */
static void clsact_undo(const struct xtc_tc_hook *h)
{
	struct bpf_tc_hook hook;

	tc_hook_init(&hook, h);
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
}

static int cls_put(struct nl_sock *sk, const struct xtc_tc_hook *h, int prog_fd,
		   __u32 replace_id, const char *where)
{
	struct xtc_cls_slot slot;
	struct scan s;
	__u32 prog_id;
	int err;

	err = xtc_tc_prog_id(prog_fd, where, &prog_id);
	if (!err)
		err = read_slot(sk, h, &s, &slot, where);
	if (err || slot_runs(&slot, prog_id))
		return err;
	if (slot.taken && !slot_runs(&slot, replace_id))
		return refuse(h, &slot, where);
	err = filter_put(h, prog_fd, slot.taken);
	/* Taken since we looked: EEXIST from NLM_F_EXCL, EINVAL for another classifier. */
	if ((err == -EEXIST || err == -EINVAL) && !slot.taken &&
	    !read_slot(sk, h, &s, &slot, where) && slot.taken)
		return refuse(h, &slot, where);
	if (err)
		pr_warn("%s: cannot %s cls_bpf filter: %s\n", where,
			slot.taken ? "replace the" : "attach the", strerror(-err));
	return err;
}

static int cls_attach(const struct xtc_tc_hook *h, int prog_fd, __u32 replace_id,
		      bool *created_qdisc)
{
	struct xtc_tc_label l;
	const char *where = xtc_tc_label(&l, h);
	struct nl_sock *sk = NULL;
	bool created = false;
	int err;

	err = xtc_nl_route_open(&sk, "tc");
	if (!err)
		err = clsact_ensure(sk, h, &created, where);
	if (!err)
		err = cls_put(sk, h, prog_fd, replace_id, where);
	if (err && created) {
		clsact_undo(h);
		created = false;
	}
	if (created_qdisc)
		*created_qdisc = created;
	if (sk)
		nl_socket_free(sk);
	return err;
}

static int cls_replace(const struct xtc_tc_hook *h, int prog_fd, __u32 old_id)
{
	struct xtc_tc_label l;
	const char *where = xtc_tc_label(&l, h);
	struct nl_sock *sk = NULL;
	struct xtc_cls_slot slot;
	struct scan s;
	__u32 prog_id;
	int err;

	err = xtc_nl_route_open(&sk, "tc");
	if (!err)
		err = xtc_tc_prog_id(prog_fd, where, &prog_id);
	if (!err)
		err = read_slot(sk, h, &s, &slot, where);
	if (err || slot_runs(&slot, prog_id))
		goto out;
	if (!slot.taken) {
		pr_warn("%s: no cls_bpf filter at prio %u handle 0x%x to replace the program of\n",
			where, slot.prio, XTC_CLS_HANDLE);
		err = -ENOENT;
	} else if (!slot_runs(&slot, old_id)) {
		err = refuse(h, &slot, where);
	} else {
		err = filter_put(h, prog_fd, true);
		if (err)
			pr_warn("%s: cannot replace the cls_bpf filter: %s\n", where, strerror(-err));
	}
out:
	if (sk)
		nl_socket_free(sk);
	return err;
}

/* Deletes clsact unless a filter, anyone's, is on either of its hooks. */
static int clsact_remove_if_unused(struct nl_sock *sk, const struct xtc_tc_hook *h,
				   const char *where)
{
	struct xtc_tc_hook other = *h;
	struct bpf_tc_hook hook;
	enum xtc_ffff_qdisc q;
	struct scan in, eg;
	int err;

	err = xtc_clsact_probe(sk, h->ifindex, &q);
	if (!err && q != XTC_FFFF_CLSACT)
		return 0;
	other.egress = false;
	if (!err)
		err = scan_hook(sk, &other, &in);
	other.egress = true;
	if (!err)
		err = scan_hook(sk, &other, &eg);
	if (err) {
		pr_warn("%s: cannot list TC filters: %s\n", where, strerror(-err));
		return err;
	}
	/* Any entry, even an empty u32 hash table, is someone's setup. */
	if (in.entries || eg.entries) {
		pr_debug("%s: keeping clsact, filters remain\n", where);
		return 0;
	}
	tc_hook_init(&hook, h);
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	err = bpf_tc_hook_destroy(&hook);
	if (err == -ENOENT)
		err = 0;
	if (err)
		pr_warn("%s: cannot delete clsact qdisc: %s\n", where, strerror(-err));
	return err;
}

static void leave(const struct xtc_tc_hook *h, const struct xtc_cls_slot *slot, __u32 expect_id,
		  const char *where)
{
	char holder[128], cmd[128];

	xtc_cls_slot_describe(slot, holder, sizeof(holder));
	xtc_cls_slot_del_command(h, slot, cmd, sizeof(cmd));
	if (expect_id)
		pr_warn("%s: leaving %s at prio %u alone: it is not xtc's program (id %u); remove "
			"it yourself if it should go (%s)\n", where, holder, slot->prio, expect_id,
			cmd);
	else
		pr_warn("%s: leaving %s at prio %u alone: xtc cannot tell whether it is its own "
			"(xtc's program pin is gone); if it is, remove it (%s)\n", where, holder,
			slot->prio, cmd);
}

static int cls_detach(const struct xtc_tc_hook *h, __u32 expect_id, bool remove_qdisc,
		      bool *left_foreign)
{
	struct xtc_tc_label l;
	const char *where = xtc_tc_label(&l, h);
	struct nl_sock *sk = NULL;
	struct xtc_cls_slot slot;
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	struct scan s;
	int err;

	if (left_foreign)
		*left_foreign = false;
	err = xtc_nl_route_open(&sk, "tc");
	if (!err)
		err = read_slot(sk, h, &s, &slot, where);
	if (err)
		goto out;
	if (slot_runs(&slot, expect_id)) {
		tc_hook_init(&hook, h);
		tc_opts_init(&opts, h);
		err = bpf_tc_detach(&hook, &opts);
		if (err == -ENOENT)
			err = 0;
		if (err) {
			pr_warn("%s: cannot delete cls_bpf filter: %s\n", where, strerror(-err));
			goto out;
		}
	} else if (slot.taken) {
		leave(h, &slot, expect_id, where);
		if (left_foreign)
			*left_foreign = true;
	}
	if (remove_qdisc)
		err = clsact_remove_if_unused(sk, h, where);
out:
	if (sk)
		nl_socket_free(sk);
	return err;
}

static int cls_query(const struct xtc_tc_hook *h, struct xtc_tc_obs *obs)
{
	struct nl_sock *sk = NULL;
	enum xtc_ffff_qdisc q = XTC_FFFF_NONE;
	struct scan s;
	int err;

	obs->clsact = false;
	obs->n_filters = 0;
	memset(&obs->slot, 0, sizeof(obs->slot));
	if (h->no_ffff)
		return 0;
	err = xtc_nl_route_open(&sk, "tc");
	if (!err)
		err = xtc_clsact_probe(sk, h->ifindex, &q);
	/* Without a ffff: qdisc there is no filter to list (most pods' veths). */
	if (!err && q == XTC_FFFF_NONE) {
		nl_socket_free(sk);
		return 0;
	}
	if (!err)
		err = scan_hook(sk, h, &s);
	if (!err) {
		obs->clsact = q == XTC_FFFF_CLSACT;
		slot_of(&s, &obs->slot);
		obs->n_filters = s.filters - (s.has_exact && xtc_tc_filter_is_real(&s.exact));
	}
	if (sk)
		nl_socket_free(sk);
	return err;
}

const struct xtc_tc_ops xtc_cls_bpf_ops = {
	.name = "cls_bpf",
	.attach = cls_attach,
	.detach = cls_detach,
	.query = cls_query,
	.replace = cls_replace,
};
