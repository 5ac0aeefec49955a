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
#include "counter_carry.h"
#include "failpoint.h"
#include "hook_ops.h"
#include "iface_idx.h"
#include "log.h"
#include "objs.h"
#include "owner.h"
#include "util.h"
#include "xdp_attach.h"

#define XTC_CARRIED 2

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

/* ---- kernel steps, each behind a failpoint ----------------------------- */

static int tc_prog_fd(const struct xtc_state *st, bool egress)
{
	return egress ? st->tc_egress_fd : st->tc_ingress_fd;
}

/* Every hook step passes its failpoint ("xdp_attach", "tcx_detach", ...) and says why it failed. */
static int hook_done(enum xtc_hook_kind kind, const struct xtc_hook_place *pl, const char *verb,
		     int err)
{
	const char *name = xtc_hook_ops_of(kind)->name;
	char fp[32];

	snprintf(fp, sizeof(fp), "%s_%s", name, verb);
	if (!err)
		err = xtc_failpoint(fp);
	if (err)
		pr_warn("%s: %s %s%s failed: %s\n", pl->ifname, verb, name,
			kind == XTC_HOOK_KIND_XDP ? "" : pl->egress ? " egress" : " ingress",
			strerror(-err));
	return err;
}

/* Attaches (or, with replace_id, swaps in) ours through the hook table. */
static int hook_on(enum xtc_hook_kind kind, const struct xtc_hook_place *pl, __u32 replace_id,
		   struct xtc_hook_done *d)
{
	memset(d, 0, sizeof(*d));
	return hook_done(kind, pl, "attach", xtc_hook_ops_of(kind)->attach(pl, replace_id, d));
}

/* Only expect_id, found ours by observe, is removed: never a program of someone else. */
static int hook_off(enum xtc_hook_kind kind, const struct xtc_hook_place *pl, __u32 expect_id,
		    bool remove_qdisc)
{
	return hook_done(kind, pl, "detach",
			 xtc_hook_ops_of(kind)->detach(pl, expect_id, remove_qdisc));
}

/* A TC hook of ours: the pinned program, and where its link is pinned (pin: room for it). */
static struct xtc_hook_place tc_place(const struct xtc_state *st, const char *name,
				      __u32 ifindex, bool egress, __u32 prio, char *pin,
				      size_t len)
{
	xtc_state_link_path(st, ifindex, egress, pin, len);
	return (struct xtc_hook_place){ .ifindex = ifindex, .ifname = name, .egress = egress,
					.link_pin = pin, .prio = prio,
					.prog_fd = tc_prog_fd(st, egress) };
}

static int tc_on(struct xtc_state *st, const char *name, __u32 ifindex, bool egress, int kind,
		 __u32 prio, __u32 replace_id, bool *created_qdisc)
{
	char pin[4400];
	struct xtc_hook_place pl = tc_place(st, name, ifindex, egress, prio, pin, sizeof(pin));
	struct xtc_hook_done d;
	int err = hook_on(xtc_hook_kind_of_tc(kind), &pl, replace_id, &d);

	*created_qdisc = d.created_qdisc;
	return err;
}

static int tc_off(struct xtc_state *st, const char *name, __u32 ifindex, bool egress, int kind,
		  __u32 prio, __u32 expect_id, bool remove_qdisc)
{
	char pin[4400];
	struct xtc_hook_place pl = tc_place(st, name, ifindex, egress, prio, pin, sizeof(pin));

	return hook_off(xtc_hook_kind_of_tc(kind), &pl, expect_id, remove_qdisc);
}

/* The record's flags for an XDP instance of ours. */
static __u32 xdp_kind_flags(const struct xtc_hook_done *d)
{
	return (d->single ? XTC_IF_XDP_SINGLE : 0) | (d->no_handoff ? XTC_IF_XDP_NO_HANDOFF : 0);
}

/* A new instance of ours: w gets its id, and the flags that say which kind it is. */
static int xdp_on(struct xtc_state *st, const char *name, __u32 ifindex,
		  struct xtc_iface_cfg *w, __u32 replace_id)
{
	struct xtc_hook_place pl = { .ifindex = ifindex, .ifname = name, .prio = w->xdp_prio,
				     .mode = w->xdp_mode, .maps = &st->maps,
				     .slot = XTC_IF_SLOT(w->flags) };
	struct xtc_hook_done d;
	int err = hook_on(XTC_HOOK_KIND_XDP, &pl, replace_id, &d);

	w->xdp_prog_id = d.prog_id;
	w->flags = (w->flags & ~(XTC_IF_XDP_SINGLE | XTC_IF_XDP_NO_HANDOFF)) | xdp_kind_flags(&d);
	return err;
}

static int xdp_off(const char *name, __u32 ifindex, __u32 id)
{
	struct xtc_hook_place pl = { .ifindex = ifindex, .ifname = name };

	return hook_off(XTC_HOOK_KIND_XDP, &pl, id, false);
}

/*
 * A slot new to this interface starts at zero: it may have counted for
 * another interface before.  Done before the record names the slot, so
 * that nothing of this interface has counted there yet.
 */
static int zero_slot(const struct xtc_state *st, __u32 slot)
{
	int ncpus = libbpf_num_possible_cpus(), h, err = 0;
	struct xtc_iface_stats *zero;

	if (ncpus <= 0)
		return ncpus ?: -EINVAL;
	if (!(zero = calloc(ncpus, sizeof(*zero))))
		return -ENOMEM;
	for (h = 0; h < XTC_HOOK_MAX && !err; h++) {
		__u32 key = XTC_IFACE_STATS_KEY(slot, h);

		if (bpf_map_update_elem(st->maps.fd[XTC_MAP_IFACE_STATS], &key, zero, BPF_ANY))
			err = -errno;
	}
	free(zero);
	return err;
}

/* TC's quick look at the records, mapped for the length of one apply. */
static struct xtc_iface_idx idx;

/* The record, then TC's copy of its flags: a kill in between leaves what observe repairs. */
static int set_entry(const struct xtc_state *st, __u32 ifindex, const struct xtc_iface_cfg *cfg)
{
	int err;

	if (bpf_map_update_elem(st->maps.fd[XTC_MAP_IFACES], &ifindex, cfg, BPF_ANY))
		return -errno;
	err = xtc_failpoint("iface_record");
	if (!err)
		xtc_iface_idx_set(&idx, ifindex, cfg->flags);
	return err;
}

static int forget_iface(const struct xtc_state *st, __u32 ifindex)
{
	char pin[4200];
	int h;

	/*
	 * An interface that is gone took its TCX links with it, but not their
	 * pins, which would keep the links and programs alive: they go first.
	 */
	for (h = 0; h < 2; h++) {
		xtc_state_link_path(st, ifindex, h, pin, sizeof(pin));
		if (unlink(pin) && errno != ENOENT)
			return -errno;
	}
	if (bpf_map_delete_elem(st->maps.fd[XTC_MAP_IFACES], &ifindex) && errno != ENOENT)
		return -errno;
	xtc_iface_idx_clear(&idx, ifindex);
	return xtc_failpoint("iface_forget");
}

/* ---- undo -------------------------------------------------------------- */

/*
 * The old program came back with a new id: the entry that the remaining
 * undo steps will restore must name the program that is really there.
 */
static void note_reattach(struct undo_log *l, __u32 ifindex, const struct xtc_hook_done *d)
{
	int i;

	for (i = 0; i < l->n; i++) {
		struct undo *u = &l->u[i];

		if (u->kind != UNDO_IFACE_ENTRY || u->ifindex != ifindex)
			continue;
		u->cfg.xdp_prog_id = d->prog_id;
		u->cfg.flags &= ~(XTC_IF_XDP_SINGLE | XTC_IF_XDP_NO_HANDOFF);
		u->cfg.flags |= xdp_kind_flags(d);
	}
}

static void run_undo(struct xtc_state *st, struct undo_log *l)
{
	char pin[4400];
	const struct xtc_hook_ops *xdp = xtc_hook_ops_of(XTC_HOOK_KIND_XDP);
	struct xtc_hook_place pl;
	struct xtc_hook_done d;

	/* Straight through the hook table: undoing passes no failpoint. */
	while (l->n > 0) {
		const struct undo *u = &l->u[--l->n];

		pl = (struct xtc_hook_place){ .ifindex = u->ifindex, .ifname = u->name,
					      .prio = u->cfg.xdp_prio, .mode = u->cfg.xdp_mode,
					      .maps = &st->maps };
		switch (u->kind) {
		case UNDO_XDP_ATTACH:
			xdp->detach(&pl, u->cfg.xdp_prog_id, false);
			break;
		case UNDO_XDP_DETACH:
			memset(&d, 0, sizeof(d));
			if (!xdp->attach(&pl, 0, &d))
				note_reattach(l, u->ifindex, &d);
			break;
		case UNDO_TC_ATTACH:
			pl = tc_place(st, u->name, u->ifindex, u->egress, u->cfg.tc_prio, pin,
				      sizeof(pin));
			xtc_hook_ops_of(xtc_hook_kind_of_tc(u->cfg.tc_kind))->detach(
				&pl, xtc_prog_id(pl.prog_fd), u->cfg.flags & XTC_IF_QDISC_OURS);
			break;
		case UNDO_TC_DETACH:
			pl = tc_place(st, u->name, u->ifindex, u->egress, u->cfg.tc_prio, pin,
				      sizeof(pin));
			memset(&d, 0, sizeof(d));
			xtc_hook_ops_of(xtc_hook_kind_of_tc(u->cfg.tc_kind))->attach(&pl, 0, &d);
			break;
		case UNDO_IFACE_ENTRY:
			if (u->had_entry)
				bpf_map_update_elem(st->maps.fd[XTC_MAP_IFACES], &u->ifindex, &u->cfg,
						    BPF_ANY);
			else
				bpf_map_delete_elem(st->maps.fd[XTC_MAP_IFACES], &u->ifindex);
			/* xtc_apply_plan() writes TC's copy again from the records. */
			break;
		}
	}
}

/* ---- the state --------------------------------------------------------- */

/* Takes a pin back from the live program that still holds it. */
static int repin(struct xtc_state *st, const struct xtc_observed *ob, int pin, __u32 from)
{
	struct xtc_prog_seen ps;
	int fd, err;

	if (pin == XTC_PIN_TC_INGRESS || pin == XTC_PIN_TC_EGRESS) {
		fd = bpf_prog_get_fd_by_id(from);
		if (fd < 0)
			return -errno;
	} else {
		err = xtc_prog_inspect(from, ob->state_id, &ps);
		if (err)
			return err;
		fd = xtc_prog_map_fd(&ps, xtc_map_names[pin]);
		if (fd < 0)
			return fd;
	}
	err = xtc_state_pin_one(st, pin, fd);
	close(fd);
	if (!err)
		err = xtc_failpoint("state_repin");
	return err;
}

static __u32 map_max_entries(int fd)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &len))
		return 0;
	return mi.max_entries;
}

/* Rule slots: as many as the maps that stay (or go) have, so that every rule id fits. */
static __u32 rule_slots(const struct xtc_state *st, const struct xtc_model *m)
{
	static const int maps[] = { XTC_MAP_RULE_STATS, XTC_MAP_RULE_INFO };
	__u32 n = 0, k;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		k = map_max_entries(st->maps.fd[maps[i]]);
		n = k > n ? k : n;
		k = map_max_entries(st->old.fd[maps[i]]);
		n = k > n ? k : n;
	}
	return n ?: m ? m->max_rules : XTC_DEFAULT_MAX_RULES;
}

/* The counter maps whose counters carry over when they move to a new layout. */
static const int carried[XTC_CARRIED] = { XTC_MAP_RULE_STATS, XTC_MAP_IFACE_STATS };

/*
 * Interface counters up to schema 3 were a hash keyed by (ifindex, hook);
 * now an array by (slot, hook): each goes to the slot its interface gets.
 */
struct old_iface_key {
	__u32 ifindex;
	__u32 hook;
};

static bool iface_rekey(const void *old_key, __u32 old_key_size, void *new_key, void *ctx)
{
	const struct old_iface_key *k = old_key;
	const struct xtc_plan *p = ctx;
	int i;

	if (old_key_size != sizeof(*k) || k->hook >= XTC_HOOK_MAX)
		return false;
	for (i = 0; i < p->n_ifs; i++) {
		const struct xtc_iface_plan *ip = &p->ifs[i];
		__u32 key = XTC_IFACE_STATS_KEY(XTC_IF_SLOT(ip->want.flags), k->hook);

		if (ip->ifindex != k->ifindex || !ip->keep || !XTC_IF_SLOT(ip->want.flags))
			continue;
		memcpy(new_key, &key, sizeof(key));
		return true;
	}
	return false;
}

static int carry_begin(const struct xtc_state *st, const struct xtc_plan *p,
		       const struct xtc_maps *made, struct xtc_carry_map *carry)
{
	int k, err = 0;

	for (k = 0; k < XTC_CARRIED && !err; k++) {
		int map = carried[k];

		if (!(p->state.migrate & (1U << map)) || st->old.fd[map] < 0)
			continue;
		err = xtc_carry_begin(&carry[k], st->old.fd[map], made->fd[map],
				      map == XTC_MAP_RULE_STATS ? p->carry_ids : NULL,
				      map == XTC_MAP_RULE_STATS ? p->n_carry_ids : 0,
				      map == XTC_MAP_IFACE_STATS ? iface_rekey : NULL, (void *)p);
		if (!err)
			err = xtc_failpoint("state_carry");
		if (err)
			pr_warn("%s: cannot carry the counters of maps/%s over: %s\n", st->dir,
				xtc_map_names[map], strerror(-err));
	}
	return err;
}

/* Makes what is gone for good: loads the objects on the maps that remain. */
static int create_pins(const struct xtc_model *m, struct xtc_state *st,
		       const struct xtc_observed *ob, const struct xtc_plan *p,
		       struct xtc_carry_map *carry, struct xtc_ahead *ahead)
{
	struct xtc_objs_opts oo = {
		.max_rules = rule_slots(st, m),
		.max_entries = p->max_entries ?: XTC_DEFAULT_MAX_RULES * 4,
		.malformed_action = XTC_ACT_PASS,
		.reuse = &st->maps,
	};
	struct xtc_objs o;
	int pin, fd, err;

	err = xtc_ahead_take(ahead, &oo, &o) ? xtc_objs_load(&o, &oo) : 0;
	if (err)
		return err;
	/*
	 * Marked before any pin exists, so that no observer ever sees them
	 * unmarked.  A kept xtc_config that is marked keeps the old build id
	 * until the end: until then, the next run finishes the upgrade.
	 */
	if (!p->state.migrate || !xtc_owner_marked(o.maps.fd[XTC_MAP_CONFIG], ob->state_id))
		err = xtc_owner_stamp(o.maps.fd[XTC_MAP_CONFIG], ob->state_id);
	if (!err)
		err = carry_begin(st, p, &o.maps, carry);
	for (pin = 0; pin < XTC_PIN_COUNT && !err; pin++) {
		char path[4200];

		if (!(p->state.create & (1U << pin)))
			continue;
		fd = pin == XTC_PIN_TC_INGRESS ? xtc_objs_prog_fd(&o, XTC_HOOK_TC_INGRESS) :
		     pin == XTC_PIN_TC_EGRESS ? xtc_objs_prog_fd(&o, XTC_HOOK_TC_EGRESS) :
		     o.maps.fd[pin];
		/* A pin of the old layout (or an old TC program) is in the way: replaced. */
		snprintf(path, sizeof(path), "%s/%s", st->dir, xtc_state_pin_name(pin));
		if (p->state.migrate && unlink(path) && errno != ENOENT)
			err = -errno;
		if (!err)
			err = xtc_state_pin_one(st, pin, fd);
		if (!err)
			err = xtc_failpoint("state_pin");
		if (err)
			pr_warn("%s: cannot pin %s: %s\n", st->dir, xtc_state_pin_name(pin),
				strerror(-err));
	}
	xtc_objs_destroy(&o);
	return err;
}

/*
 * An upgrade: this xtc's TC programs, loaded on the pinned maps, take the
 * program pins.  The hooks are swapped to them afterwards, one by one.
 */
static int reload_progs(struct xtc_state *st, const struct xtc_model *m, const struct xtc_plan *p)
{
	struct xtc_objs_opts oo = {
		.max_rules = rule_slots(st, m),
		.max_entries = p->max_entries ?: XTC_DEFAULT_MAX_RULES * 4,
		.malformed_action = XTC_ACT_PASS,
		.reuse = &st->maps,
	};
	static const int pins[2] = { XTC_PIN_TC_INGRESS, XTC_PIN_TC_EGRESS };
	struct xtc_objs o;
	char path[4200];
	int h, err;

	err = xtc_objs_load(&o, &oo);
	if (err)
		return err;
	for (h = 0; h < 2 && !err; h++) {
		/* bpffs cannot rename over a pin: a kill in between leaves it missing, repaired. */
		snprintf(path, sizeof(path), "%s/%s", st->dir, xtc_state_pin_name(pins[h]));
		if (unlink(path) && errno != ENOENT)
			err = -errno;
		if (!err)
			err = xtc_state_pin_one(st, pins[h], xtc_objs_prog_fd(&o, h ? XTC_HOOK_TC_EGRESS :
									      XTC_HOOK_TC_INGRESS));
		if (!err)
			err = xtc_failpoint("state_repin");
	}
	xtc_objs_destroy(&o);
	if (!err)
		err = xtc_state_reopen(st);
	if (err)
		pr_warn("%s: cannot load this xtc's TC programs: %s\n", st->dir, strerror(-err));
	return err;
}

static int ensure_state(const struct xtc_model *m, struct xtc_state *st,
			const struct xtc_observed *ob, const struct xtc_plan *p,
			struct xtc_carry_map *carry, struct xtc_ahead *ahead)
{
	const struct xtc_state_plan *s = &p->state;
	int pin, err = 0;

	for (pin = 0; pin < XTC_PIN_COUNT && !err; pin++) {
		if (!(s->repin & (1U << pin)))
			continue;
		err = repin(st, ob, pin, s->recover_from[pin]);
		if (err)
			pr_warn("%s: cannot take %s back from program %u: %s\n", st->dir,
				xtc_state_pin_name(pin), s->recover_from[pin], strerror(-err));
	}
	if (!err)
		err = xtc_state_reopen(st);
	if (!err && s->create && !(s->create & ~XTC_MAPS_OPTIONAL)) {
		char dir[4200];

		/* Only optional maps to make: no need to load the objects for them. */
		snprintf(dir, sizeof(dir), "%s/maps", st->dir);
		err = xtc_maps_add_optional(&st->maps, dir);
		if (!err)
			err = xtc_failpoint("state_pin");
	} else if (!err && s->create) {
		err = create_pins(m, st, ob, p, carry, ahead);
		if (!err)
			err = xtc_state_reopen(st);
	}
	if (!err && s->reload_progs)
		err = reload_progs(st, m, p);
	if (!err && !st->exists) {
		pr_warn("%s: the state is still incomplete after repair\n", st->dir);
		err = -ENOENT;
	}
	if (!err && !xtc_owner_marked(st->maps.fd[XTC_MAP_CONFIG], ob->state_id)) {
		err = xtc_owner_stamp(st->maps.fd[XTC_MAP_CONFIG], ob->state_id);
		if (!err)
			err = xtc_failpoint("state_stamp");
	}
	return err;
}

/* ---- rules ------------------------------------------------------------- */

static int write_tables(struct xtc_state *st, const struct xtc_observed *ob,
			struct xtc_plan *p, struct xtc_tables_snapshot *snap)
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
	err = xtc_tables_write(&st->maps, &p->tplan, &ob->tables, snap);
	if (err || p->ip_as_is)
		return err;
	err = xtc_ipmap_sync(&st->maps, p->ip, p->n_ip, false, &n);
	if (!err)
		err = xtc_failpoint("rules_ipmap");
	if (err)
		pr_warn("ip-to-ifindex map: cannot write %zu entries: %s\n", p->n_ip,
			strerror(-err));
	return err;
}

/*
 * After a repair the maps hold what an earlier run left, which observe
 * could not read: compare against them now, so that stale entries go.
 */
static int replan_tables(const struct xtc_model *m, struct xtc_state *st,
			 struct xtc_observed *ob, struct xtc_plan *p)
{
	int err;

	/* What the file wants may be made over the records read before (plan.c). */
	xtc_rule_table_free(&p->want);
	xtc_tables_obs_free(&ob->tables);
	memset(&ob->tables, 0, sizeof(ob->tables));
	err = xtc_tables_observe(&st->maps, &ob->tables);
	if (!err)
		err = xtc_observe_entries(ob);
	if (!err)
		err = xtc_plan_diff_tables(m, ob, p);
	if (err)
		pr_warn("rules: cannot compare with the repaired maps: %s\n", strerror(-err));
	return err;
}

/* ---- interfaces -------------------------------------------------------- */

/* What the record says before any attach: nothing the datapath would trust too early. */
static struct xtc_iface_cfg entry_before(const struct xtc_iface_plan *ip,
					 const struct xtc_obs_iface *oi)
{
	int h;
	struct xtc_iface_cfg e = ip->keep ? ip->want : ip->cur;
	bool xdp_stays = ip->keep && (ip->want.flags & XTC_IF_XDP) &&
			 (!ip->xdp_on || (ip->xdp_first && (ip->cur.flags & XTC_IF_XDP)));

	/*
	 * TC trusts XTC_IF_XDP to mean that XDP has classified the packet, so
	 * it is set only while one of our XDP programs is attached.
	 */
	if (!xdp_stays) {
		e.flags &= ~(XTC_IF_XDP | XTC_IF_XDP_SINGLE | XTC_IF_XDP_NO_HANDOFF);
		e.xdp_prog_id = 0;
	} else if (ip->xdp_on) {
		e.xdp_prog_id = ip->cur.xdp_prog_id;
		/*
		 * Until the record names the new instance, either build may run:
		 * TC takes a handoff when there is one and classifies redirects
		 * when there is none, which is right for both.
		 */
		e.flags |= XTC_IF_XDP_NO_HANDOFF;
	}
	e.flags |= ip->cur.flags & XTC_IF_QDISC_OURS;
	/*
	 * A clsact that this apply may create is claimed first: a run killed
	 * right after creating it still knows, next time, that it is ours.
	 */
	for (h = 0; h < 2; h++)
		if (ip->tc_on[h] && ip->want.tc_kind == XTC_TC_KIND_CLS_BPF && oi &&
		    !oi->tc[0].clsact)
			e.flags |= XTC_IF_QDISC_OURS;
	return e;
}

static int xdp_steps(struct xtc_state *st, struct xtc_iface_plan *ip, struct undo_log *l,
		     struct undo *u)
{
	int i, err;

	if (ip->xdp_on && ip->xdp_first) {
		err = xdp_on(st, ip->name, ip->ifindex, &ip->want, 0);
		if (err)
			return err;
		u->kind = UNDO_XDP_ATTACH;
		u->cfg.xdp_prog_id = ip->want.xdp_prog_id;
		if ((err = push(l, u)))
			return err;
	}
	for (i = 0; i < ip->n_xdp_off; i++) {
		err = xdp_off(ip->name, ip->ifindex, ip->xdp_off[i]);
		if (err)
			return err;
		u->kind = UNDO_XDP_DETACH;
		u->cfg = ip->cur;
		if ((err = push(l, u)))
			return err;
	}
	if (ip->xdp_on && ip->xdp_replace) {
		err = xdp_on(st, ip->name, ip->ifindex, &ip->want, ip->xdp_replace);
		if (err)
			return err;
		/* Undone in reverse: the new one goes, then the old settings come back. */
		u->kind = UNDO_XDP_DETACH;
		u->cfg = ip->cur;
		if ((err = push(l, u)))
			return err;
		u->kind = UNDO_XDP_ATTACH;
		u->cfg.xdp_prog_id = ip->want.xdp_prog_id;
		if ((err = push(l, u)))
			return err;
	} else if (ip->xdp_on && !ip->xdp_first) {
		err = xdp_on(st, ip->name, ip->ifindex, &ip->want, 0);
		if (err)
			return err;
		u->kind = UNDO_XDP_ATTACH;
		u->cfg.xdp_prog_id = ip->want.xdp_prog_id;
		if ((err = push(l, u)))
			return err;
	}
	if (ip->xdp_on)
		progress("%s: XDP attached (%s mode, priority %u, id %u%s%s)\n", ip->name,
			 ip->want.xdp_mode == XTC_XDP_SKB ? "skb" : "native", ip->want.xdp_prio,
			 ip->want.xdp_prog_id, ip->want.flags & XTC_IF_XDP_SINGLE ?
			 "; single program: this kernel cannot run the libxdp dispatcher" : "",
			 ip->want.flags & XTC_IF_XDP_NO_HANDOFF ? "; handoff off: the kernel "
			 "refuses packet-data changes in dispatcher slots, so TC ingress "
			 "redirects on its own" : "");
	return 0;
}

static int do_iface(struct xtc_state *st, struct xtc_iface_plan *ip,
		    const struct xtc_obs_iface *oi, struct undo_log *l)
{
	struct undo u = { .ifindex = ip->ifindex, .had_entry = ip->had };
	struct xtc_iface_cfg before = entry_before(ip, oi), saved;
	bool created = false;
	int h, err;

	snprintf(u.name, sizeof(u.name), "%s", ip->name);
	if (oi && oi->recorded)
		u.cfg = oi->rec;
	u.kind = UNDO_IFACE_ENTRY;
	if ((err = push(l, &u)))
		return err;
	if (ip->gone && !ip->keep)
		goto forget;
	if (ip->zero_slot && (err = zero_slot(st, XTC_IF_SLOT(ip->want.flags))))
		goto fail_record;
	if ((ip->had || ip->keep) && (!ip->had || memcmp(&oi->rec, &before, sizeof(before)))) {
		err = set_entry(st, ip->ifindex, &before);
		if (err)
			goto fail_record;
	}
	/*
	 * Attach before detach: where XDP goes (xdp = auto on a veth, say), TC
	 * already classifies when it leaves, so no packet passes unclassified.
	 */
	saved = u.cfg;
	for (h = 0; h < 2; h++) {
		if (!ip->tc_on[h])
			continue;
		/*
		 * Undone even if the attach reports failure after acting: detaching
		 * what is not there is harmless, and a clsact that was absent is ours.
		 */
		u.kind = UNDO_TC_ATTACH;
		u.egress = h;
		u.cfg.tc_kind = ip->want.tc_kind;
		u.cfg.tc_prio = ip->want.tc_prio;
		u.cfg.flags = before.flags & XTC_IF_QDISC_OURS;
		if (!ip->tc_swap[h] && (err = push(l, &u)))
			return err;
		err = tc_on(st, ip->name, ip->ifindex, h, ip->want.tc_kind, ip->want.tc_prio,
			    ip->tc_swap[h] ? ip->tc_off_id[h] : 0, &created);
		if (err)
			return err;
		if (created)
			ip->want.flags |= XTC_IF_QDISC_OURS;
		progress("%s: TC %s attached (%s)\n", ip->name, h ? "egress" : "ingress",
			 ip->want.tc_kind == XTC_TC_KIND_TCX ? "tcx" : "cls_bpf");
	}
	u.cfg = saved;
	err = xdp_steps(st, ip, l, &u);
	if (err)
		return err;
	/* What goes goes last: TC's programs leave once XDP classifies, and never before. */
	for (h = 0; h < 2; h++) {
		if (!ip->tc_off[h] || ip->tc_swap[h])
			continue;
		err = tc_off(st, ip->name, ip->ifindex, h, ip->tc_off_kind[h], ip->tc_off_prio[h],
			     ip->tc_off_id[h], ip->tc_off_qdisc[h]);
		if (err)
			return err;
		u.kind = UNDO_TC_DETACH;
		u.egress = h;
		u.cfg.tc_kind = ip->tc_off_kind[h];
		u.cfg.tc_prio = ip->tc_off_prio[h];
		if ((err = push(l, &u)))
			return err;
	}
	if (ip->keep) {
		err = set_entry(st, ip->ifindex, &ip->want);
		if (err)
			goto fail_record;
		return 0;
	}
forget:
	if (!ip->had)
		return 0;
	err = forget_iface(st, ip->ifindex);
	if (err)
		goto fail_record;
	progress("%s: xtc removed\n", ip->name);
	return 0;
fail_record:
	pr_warn("%s: cannot record its state: %s\n", ip->name, strerror(-err));
	return err;
}

int xtc_apply_plan(const struct xtc_model *m, struct xtc_state *st,
		   struct xtc_observed *ob, struct xtc_plan *p, bool json,
		   struct xtc_ahead *ahead)
{
	struct xtc_carry_map carry[XTC_CARRIED] = {};
	struct xtc_tables_snapshot snap = {};
	struct undo_log l = {};
	bool have_snap = false;
	int i, k, err = 0;

	quiet = json;
	double t0 = xtc_now();

	if (!xtc_state_plan_empty(&p->state)) {
		err = ensure_state(m, st, ob, p, carry, ahead);
		if (err)
			goto fail;
		pr_debug("timing: state %.3f s\n", xtc_now() - t0);
	}
	/* Unmapped (an error): TC looks the records up in the hash, and the next run repairs. */
	if (xtc_iface_idx_map(&idx, st->maps.fd[XTC_MAP_IFACE_IDX], st->maps.fd[XTC_MAP_IFACES]))
		pr_debug("%s: cannot map maps/xtc_iface_idx\n", st->dir);
	if (p->rules) {
		if (!p->state.fresh && !ob->tables.exists) {
			err = replan_tables(m, st, ob, p);
			if (err)
				goto fail;
		}
		if (!p->state.fresh) {
			/* What a failed apply puts back: what observe read and the plan changes. */
			snap.obs = &ob->tables;
			snap.plan = &p->tplan;
			have_snap = true;
		}
		t0 = xtc_now();
		err = write_tables(st, ob, p, have_snap ? &snap : NULL);
		if (err)
			goto fail;
		pr_debug("timing: write the rules %.3f s\n", xtc_now() - t0);
	}
	for (i = 0; i < p->n_ifs; i++) {
		if (xtc_iface_plan_empty(&p->ifs[i]))
			continue;
		err = do_iface(st, &p->ifs[i], xtc_observed_iface(ob, p->ifs[i].ifindex), &l);
		if (err)
			goto fail;
	}
	/* The old programs are gone now: what they counted since the copy moves too. */
	for (k = 0; k < XTC_CARRIED; k++) {
		carry[k].new_fd = st->maps.fd[carried[k]];
		if (carry[k].new_fd >= 0 && xtc_carry_finish(&carry[k]))
			pr_warn("%s: maps/%s: the last counts of the old programs are lost\n",
				st->dir, xtc_map_names[carried[k]]);
	}
	/* The new build id goes in last: until then, the next run finishes the upgrade. */
	if (p->state.reload_progs || p->state.migrate) {
		err = xtc_owner_stamp(st->maps.fd[XTC_MAP_CONFIG], ob->state_id);
		if (!err)
			err = xtc_failpoint("state_stamp");
		if (err)
			goto fail;
	}
	if (p->rules && p->ip_as_is)
		progress("rules: %d rule(s), %zu classifier entries in %d match shape(s)\n",
			 m->n_rules, p->tss.n_entries, p->tss.n_masks);
	else if (p->rules)
		progress("rules: %d rule(s), %zu classifier entries in %d match shape(s); "
			 "%zu IP-to-ifindex entries\n", m->n_rules, p->tss.n_entries, p->tss.n_masks,
			 p->n_ip);
	goto out;
fail:
	run_undo(st, &l);
	if (p->state.fresh && st->lock_fd >= 0)
		xtc_state_remove(st);
	else if (have_snap && xtc_tables_restore(&st->maps, &snap))
		pr_warn("rules: could not restore the previous rules\n");
	pr_warn("apply failed; the changes were rolled back\n");
out:
	/* Whatever happened above: TC's copy as the records are now. */
	if (idx.p && xtc_iface_idx_sync(&idx) < 0)
		pr_warn("%s: cannot write maps/xtc_iface_idx; TC reads the records instead\n",
			st->dir);
	xtc_iface_idx_unmap(&idx);
	for (k = 0; k < XTC_CARRIED; k++)
		xtc_carry_free(&carry[k]);
	xtc_tables_snapshot_free(&snap);
	free(l.u);
	return err;
}
