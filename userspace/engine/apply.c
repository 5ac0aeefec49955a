// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "apply.h"
#include "log.h"
#include "objs.h"
#include "xdp_attach.h"
#include "xtc_tc.skel.h"

enum undo_kind {
	UNDO_XDP_ATTACH,		/* detach what we attached */
	UNDO_XDP_DETACH,		/* attach again with the old settings */
	UNDO_TC_ATTACH,
	UNDO_TC_DETACH,
	UNDO_IFACE_ENTRY,		/* put the old xtc_ifaces entry back */
};

struct undo {
	enum undo_kind kind;
	__u32 ifindex;
	char name[IF_NAMESIZE];
	bool egress;
	bool had_entry;
	struct xtc_iface_cfg cfg;	/* the settings to restore */
};

struct undo_log {
	struct undo *u;
	int n, cap;
};

static int push(struct undo_log *l, const struct undo *u)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 32;
		struct undo *nu = realloc(l->u, cap * sizeof(*nu));

		if (!nu)
			return -ENOMEM;
		l->u = nu;
		l->cap = cap;
	}
	l->u[l->n++] = *u;
	return 0;
}

static int tc_prog_fd(const struct xtc_state *st, bool egress)
{
	return egress ? st->tc_egress_fd : st->tc_ingress_fd;
}

static int tc_on(struct xtc_state *st, const char *name, __u32 ifindex, bool egress, int kind,
		 bool *created_qdisc)
{
	char pin[4400];
	int err;

	xtc_state_link_path(st, ifindex, egress, pin, sizeof(pin));
	err = xtc_tc_attach(kind, ifindex, egress, tc_prog_fd(st, egress), pin, created_qdisc);
	if (err)
		pr_warn("%s: attaching TC %s failed: %s\n", name, egress ? "egress" : "ingress",
			strerror(-err));
	return err;
}

static int tc_off(struct xtc_state *st, const char *name, __u32 ifindex, bool egress, int kind,
		  bool remove_qdisc)
{
	char pin[4400];
	int err;

	xtc_state_link_path(st, ifindex, egress, pin, sizeof(pin));
	err = xtc_tc_detach(kind, ifindex, egress, pin, remove_qdisc);
	if (err)
		pr_warn("%s: detaching TC %s failed: %s\n", name, egress ? "egress" : "ingress",
			strerror(-err));
	return err;
}

/* Zero counters for every hook we run, so stats lists them before traffic. */
static void create_counters(const struct xtc_state *st, __u32 ifindex, __u32 flags)
{
	static const __u32 hook_flag[XTC_HOOK_MAX] = { XTC_IF_XDP, XTC_IF_TC_INGRESS,
						       XTC_IF_TC_EGRESS };
	int ncpus = libbpf_num_possible_cpus(), h;
	struct xtc_iface_stats *zero;

	if (ncpus <= 0 || !(zero = calloc(ncpus, sizeof(*zero))))
		return;
	for (h = 0; h < XTC_HOOK_MAX; h++) {
		struct xtc_iface_key k = { .ifindex = ifindex, .hook = h };

		if (flags & hook_flag[h])
			bpf_map_update_elem(st->maps.fd[XTC_MAP_IFACE_STATS], &k, zero, BPF_NOEXIST);
	}
	free(zero);
}

static int set_entry(const struct xtc_state *st, __u32 ifindex, const struct xtc_iface_cfg *cfg)
{
	if (bpf_map_update_elem(st->maps.fd[XTC_MAP_IFACES], &ifindex, cfg, BPF_ANY))
		return -errno;
	create_counters(st, ifindex, cfg->flags);
	return 0;
}

static void forget_iface(const struct xtc_state *st, __u32 ifindex)
{
	int h;

	bpf_map_delete_elem(st->maps.fd[XTC_MAP_IFACES], &ifindex);
	for (h = 0; h < XTC_HOOK_MAX; h++) {
		struct xtc_iface_key k = { .ifindex = ifindex, .hook = h };

		bpf_map_delete_elem(st->maps.fd[XTC_MAP_IFACE_STATS], &k);
	}
}

/*
 * The old program came back with a new id: the entry that the remaining
 * undo steps will restore must name the program that is really there.
 */
static void note_reattach(struct undo_log *l, __u32 ifindex, __u32 id, bool single)
{
	int i;

	for (i = 0; i < l->n; i++) {
		struct undo *u = &l->u[i];

		if (u->kind != UNDO_IFACE_ENTRY || u->ifindex != ifindex)
			continue;
		u->cfg.xdp_prog_id = id;
		u->cfg.flags &= ~XTC_IF_XDP_SINGLE;
		if (single)
			u->cfg.flags |= XTC_IF_XDP_SINGLE;
	}
}

static void run_undo(struct xtc_state *st, struct undo_log *l)
{
	__u32 id;
	bool single, created;

	while (l->n > 0) {
		const struct undo *u = &l->u[--l->n];

		switch (u->kind) {
		case UNDO_XDP_ATTACH:
			xtc_xdp_detach(u->ifindex, u->name, u->cfg.xdp_prog_id);
			break;
		case UNDO_XDP_DETACH:
			if (!xtc_xdp_attach(&st->maps, u->ifindex, u->name, u->cfg.xdp_mode,
					    u->cfg.xdp_prio, XTC_ACT_PASS, &id, &single))
				note_reattach(l, u->ifindex, id, single);
			break;
		case UNDO_TC_ATTACH:
			tc_off(st, u->name, u->ifindex, u->egress, u->cfg.tc_kind,
			       u->cfg.flags & XTC_IF_QDISC_OURS);
			break;
		case UNDO_TC_DETACH:
			tc_on(st, u->name, u->ifindex, u->egress, u->cfg.tc_kind, &created);
			break;
		case UNDO_IFACE_ENTRY:
			if (u->had_entry)
				set_entry(st, u->ifindex, &u->cfg);
			else
				forget_iface(st, u->ifindex);
			break;
		}
	}
}

/* Loads the TC object, which creates every map, and pins both. */
static int create_state(const struct xtc_model *m, struct xtc_state *st, const struct xtc_plan *p)
{
	struct xtc_objs_opts oo = {
		.max_rules = m->max_rules,
		.max_entries = p->max_entries,
		.malformed_action = XTC_ACT_PASS,
	};
	struct xtc_objs o;
	int err;

	err = xtc_objs_load(&o, &oo);
	if (err)
		return err;
	err = xtc_state_pin(st, &o.maps, xtc_objs_prog_fd(&o, XTC_HOOK_TC_INGRESS),
			    xtc_objs_prog_fd(&o, XTC_HOOK_TC_EGRESS));
	if (!err) {
		/* Pins left by an incomplete state were replaced or kept: drop our old fds. */
		xtc_maps_close(&st->maps);
		if (st->tc_ingress_fd >= 0)
			close(st->tc_ingress_fd);
		if (st->tc_egress_fd >= 0)
			close(st->tc_egress_fd);
		st->maps = o.maps;
		xtc_maps_init(&o.maps);
		st->tc_ingress_fd = dup(xtc_objs_prog_fd(&o, XTC_HOOK_TC_INGRESS));
		st->tc_egress_fd = dup(xtc_objs_prog_fd(&o, XTC_HOOK_TC_EGRESS));
		st->exists = true;
	} else {
		pr_warn("%s: cannot pin: %s\n", st->dir, strerror(-err));
	}
	xtc_objs_destroy(&o);
	return err;
}

static int write_tables(struct xtc_state *st, struct xtc_plan *p,
			struct xtc_tables_snapshot *snap)
{
	size_t n;
	int err;

	/* A state from before the rule digests gets them now (this apply compared in full). */
	if (st->maps.fd[XTC_MAP_RULE_DIGEST] < 0) {
		char dir[4200];

		snprintf(dir, sizeof(dir), "%s/maps", st->dir);
		if (xtc_maps_add_optional(&st->maps, dir))
			pr_debug("rules: cannot add the rule digests; re-applies stay slower\n");
	}
	err = xtc_tables_write(&st->maps, &p->tplan, &p->obs, snap);
	if (err)
		return err;
	err = xtc_ipmap_sync(&st->maps, p->ip, p->n_ip, false, &n);
	if (err)
		pr_warn("ip-to-ifindex map: cannot write %zu entries: %s\n", p->n_ip,
			strerror(-err));
	return err;
}

/* Progress lines on stdout, unless the output is JSON. */
static bool quiet;

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void progress(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static int do_iface(struct xtc_state *st, struct xtc_iface_plan *ip, struct undo_log *l)
{
	struct undo u = { .ifindex = ip->ifindex, .had_entry = ip->had, .cfg = ip->cur };
	struct xtc_iface_cfg mid = ip->cur;
	bool created = false, single = false;
	int h, err;

	snprintf(u.name, sizeof(u.name), "%s", ip->name);
	u.kind = UNDO_IFACE_ENTRY;
	err = push(l, &u);
	if (err)
		return err;

	if (ip->xdp_off) {
		/* TC must stop trusting XDP before XDP goes away. */
		mid.flags &= ~(XTC_IF_XDP | XTC_IF_XDP_SINGLE);
		if (!ip->gone) {
			err = set_entry(st, ip->ifindex, &mid);
			if (!err)
				err = xtc_xdp_detach(ip->ifindex, ip->name, ip->cur.xdp_prog_id);
			if (err) {
				pr_warn("%s: detaching XDP failed: %s\n", ip->name, strerror(-err));
				return err;
			}
		}
		u.kind = UNDO_XDP_DETACH;
		if ((err = push(l, &u)))
			return err;
	}
	for (h = 0; h < 2; h++) {
		if (!ip->tc_off[h] || ip->gone)
			continue;
		bool other_cls = ip->cur.tc_kind == XTC_TC_KIND_CLS_BPF &&
				 (ip->cur.flags & (h ? XTC_IF_TC_INGRESS : XTC_IF_TC_EGRESS)) &&
				 !ip->tc_off[!h];
		err = tc_off(st, ip->name, ip->ifindex, h, ip->cur.tc_kind,
			     (ip->cur.flags & XTC_IF_QDISC_OURS) && !other_cls && !ip->tc_on[h]);
		if (err)
			return err;
		u.kind = UNDO_TC_DETACH;
		u.egress = h;
		if ((err = push(l, &u)))
			return err;
	}
	for (h = 0; h < 2; h++) {
		if (!ip->tc_on[h])
			continue;
		err = tc_on(st, ip->name, ip->ifindex, h, ip->want.tc_kind, &created);
		if (err)
			return err;
		if (created)
			ip->want.flags |= XTC_IF_QDISC_OURS;
		u.kind = UNDO_TC_ATTACH;
		u.egress = h;
		u.cfg.tc_kind = ip->want.tc_kind;
		u.cfg.flags = created ? XTC_IF_QDISC_OURS : 0;
		if ((err = push(l, &u)))
			return err;
		progress("%s: TC %s attached (%s)\n", ip->name, h ? "egress" : "ingress",
		       ip->want.tc_kind == XTC_TC_KIND_TCX ? "tcx" : "cls_bpf");
	}
	if (ip->xdp_on) {
		err = xtc_xdp_attach(&st->maps, ip->ifindex, ip->name, ip->want.xdp_mode,
				     ip->want.xdp_prio, XTC_ACT_PASS, &ip->want.xdp_prog_id, &single);
		if (err) {
			pr_warn("%s: attaching XDP failed: %s\n", ip->name, strerror(-err));
			return err;
		}
		if (single)
			ip->want.flags |= XTC_IF_XDP_SINGLE;
		u.kind = UNDO_XDP_ATTACH;
		u.cfg.xdp_prog_id = ip->want.xdp_prog_id;
		if ((err = push(l, &u)))
			return err;
		progress("%s: XDP attached (%s mode, priority %u, id %u%s)\n", ip->name,
		       ip->want.xdp_mode == XTC_XDP_SKB ? "skb" : "native", ip->want.xdp_prio,
		       ip->want.xdp_prog_id,
		       single ? "; single program: this kernel cannot run the libxdp dispatcher" : "");
	}
	if (!ip->keep) {
		forget_iface(st, ip->ifindex);
		progress("%s: xtc removed\n", ip->name);
		return 0;
	}
	err = set_entry(st, ip->ifindex, &ip->want);
	if (err)
		pr_warn("%s: cannot record its state: %s\n", ip->name, strerror(-err));
	return err;
}

int xtc_apply_plan(const struct xtc_model *m, struct xtc_state *st, struct xtc_plan *p,
		   bool json)
{
	struct xtc_tables_snapshot snap = {};
	struct undo_log l = {};
	bool created = false, have_snap = false;
	int i, err;

	quiet = json;
	double t0 = xtc_now();

	if (p->create) {
		err = create_state(m, st, p);
		if (err)
			goto fail;
		created = true;
		pr_debug("timing: load and pin the programs and maps %.3f s\n", xtc_now() - t0);
	} else {
		/* What a failed apply puts back: what the plan observed and changes. */
		snap.obs = &p->obs;
		snap.plan = &p->tplan;
		have_snap = true;
	}
	t0 = xtc_now();
	err = write_tables(st, p, have_snap ? &snap : NULL);
	if (err)
		goto fail;
	pr_debug("timing: write the rules %.3f s\n", xtc_now() - t0);
	for (i = 0; i < p->n_ifs; i++) {
		if (xtc_iface_plan_empty(&p->ifs[i]))
			continue;
		err = do_iface(st, &p->ifs[i], &l);
		if (err)
			goto fail;
	}
	progress("rules: %d rule(s), %zu classifier entries in %d match shape(s); "
	       "%zu IP-to-ifindex entries\n", m->n_rules, p->tss.n_entries, p->tss.n_masks, p->n_ip);
	goto out;
fail:
	run_undo(st, &l);
	if (created)
		xtc_state_remove(st);
	else if (have_snap && xtc_tables_restore(&st->maps, &snap))
		pr_warn("rules: could not restore the previous rules\n");
	pr_warn("apply failed; every change was rolled back\n");
out:
	xtc_tables_snapshot_free(&snap);
	free(l.u);
	return err;
}

int xtc_iface_remove(struct xtc_state *st, const struct xtc_iface_cfg *cur, __u32 ifindex)
{
	struct xtc_iface_plan ip = { .ifindex = ifindex, .had = true, .cur = *cur };
	struct undo_log l = {};
	char name[IF_NAMESIZE];
	int err;

	snprintf(ip.name, sizeof(ip.name), "%s", cur->name);
	ip.gone = !if_indextoname(ifindex, name) || strcmp(name, cur->name);
	ip.xdp_off = cur->flags & XTC_IF_XDP;
	ip.tc_off[0] = cur->flags & XTC_IF_TC_INGRESS;
	ip.tc_off[1] = cur->flags & XTC_IF_TC_EGRESS;
	err = do_iface(st, &ip, &l);
	free(l.u);
	return err;
}
