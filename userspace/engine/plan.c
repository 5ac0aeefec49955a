// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"
#include "plan_memo.h"
#include "entry_table.h"
#include "log.h"
#include "rule_info.h"
#include "util.h"

/* ---- rules ------------------------------------------------------------- */

/* Host addresses and connected routes, then [static] on top. */
static int collect_ipmap(const struct xtc_model *m, const struct xtc_observed *ob,
			 struct xtc_plan *p)
{
	struct xtc_ipmap_entry *all;
	size_t i;
	int s;

	all = calloc(ob->n_host_ip + m->n_statics + 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0; i < ob->n_host_ip; i++) {
		for (s = 0; s < m->n_statics; s++)
			if (!memcmp(&m->statics[s].prefix, &ob->host_ip[i].prefix,
				    sizeof(ob->host_ip[i].prefix)))
				break;
		if (s == m->n_statics)
			all[p->n_ip++] = ob->host_ip[i];
	}
	for (s = 0; s < m->n_statics; s++) {
		all[p->n_ip].prefix = m->statics[s].prefix;
		all[p->n_ip].origin = XTC_IPMAP_STATIC;
		all[p->n_ip++].ifindex = m->statics[s].ifindex;
	}
	p->ip = all;
	return 0;
}

/* Rule names to ids: open addressing, slots hold id + 1 (0: empty). */
struct name_index {
	const struct xtc_rule_info *info;
	__u32 *slot;
	__u32 mask;
};

#define NAME_LEN sizeof(((struct xtc_rule_info *)0)->name)

static __u64 name_hash(const char *name)
{
	return xtc_fnv1a64(XTC_FNV64_INIT, name, strnlen(name, NAME_LEN));
}

static int name_index_build(struct name_index *x, const struct xtc_rule_info *info, __u32 n)
{
	__u32 cap = 16, i, k;

	while (cap < 2 * n)
		cap *= 2;
	x->info = info;
	x->mask = cap - 1;
	x->slot = calloc(cap, sizeof(*x->slot));
	if (!x->slot)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!(info[i].flags & XTC_RI_USED))
			continue;
		for (k = name_hash(info[i].name) & x->mask; x->slot[k]; k = (k + 1) & x->mask)
			;
		x->slot[k] = i + 1;
	}
	return 0;
}

/* The id that holds name, or -1. */
static __u32 name_index_find(const struct name_index *x, const char *name)
{
	__u32 k;

	for (k = name_hash(name) & x->mask; x->slot[k]; k = (k + 1) & x->mask)
		if (!strncmp(x->info[x->slot[k] - 1].name, name, NAME_LEN))
			return x->slot[k] - 1;
	return (__u32)-1;
}

/*
 * Counters belong to rule names, not positions: a rule that is already
 * loaded keeps its id (and its counters) when rules are added or moved
 * around it; new rules take ids nobody holds.
 */
/*
 * Whether every rule's id already holds its name (a daemon's model keeps the
 * ids of its last apply): then they stay, and no index of 100k names is built.
 */
static bool ids_hold_names(const struct xtc_model *m, const struct xtc_rule_table *have)
{
	int r;

	for (r = 0; r < m->n_rules; r++) {
		__u32 id = m->rules[r].id;

		if (id >= have->n || !(have->info[id].flags & XTC_RI_USED) ||
		    strncmp(have->info[id].name, m->rules[r].name, NAME_LEN))
			return false;
	}
	return true;
}

static int assign_ids(struct xtc_model *m, const struct xtc_observed *ob, struct xtc_plan *p)
{
	/* Maps moving to a new layout: the names they hold say which ids are taken. */
	const struct xtc_rule_table *have = ob->tables.rules.cap ? &ob->tables.rules :
					    &ob->old_rules;
	struct name_index byname = {};
	__u32 n = have->cap, next = 0, id;
	unsigned char *taken = NULL;
	int r, err = 0;

	if (!n || (!ob->incompatible && ids_hold_names(m, have)))
		return 0;
	err = name_index_build(&byname, have->info, have->n);
	taken = calloc(n, 1);
	if (ob->incompatible)
		p->carry_ids = calloc(n, sizeof(*p->carry_ids));
	if (err || !taken || (ob->incompatible && !p->carry_ids)) {
		err = -ENOMEM;
		goto out;
	}
	for (r = 0; r < m->n_rules; r++) {
		m->rules[r].id = id = name_index_find(&byname, m->rules[r].name);
		if (id == (__u32)-1)
			continue;
		taken[id] = 1;
		if (p->carry_ids)
			p->carry_ids[p->n_carry_ids++] = id;
	}
	for (r = 0; r < m->n_rules; r++) {
		if (m->rules[r].id != (__u32)-1)
			continue;
		while (next < n && taken[next])
			next++;
		if (next >= n) {
			pr_warn("%s: %d rules do not fit the %u rule slots of the loaded maps; run "
				"xtc unload --all, then apply\n", m->path, m->n_rules, n);
			err = -E2BIG;
			goto out;
		}
		m->rules[r].id = next;
		taken[next] = 1;
	}
out:
	free(taken);
	free(byname.slot);
	return err;
}

/* Whether ordering the rules by id orders them by priority (the rule changes' order). */
static bool ids_in_match_order(const struct xtc_model *m)
{
	__u32 *prio_of = calloc(m->n_rules ? m->n_rules : 1, sizeof(*prio_of));
	bool ok = prio_of != NULL, seen = false;
	__u32 last = 0;
	int r;

	for (r = 0; ok && r < m->n_rules; r++) {
		ok = m->rules[r].id < (__u32)m->n_rules;
		if (ok)
			prio_of[m->rules[r].id] = m->rules[r].prio + 1;
	}
	for (r = 0; ok && r < m->n_rules; r++) {
		if (!prio_of[r])
			continue;
		ok = !seen || prio_of[r] > last;
		last = prio_of[r];
		seen = true;
	}
	free(prio_of);
	return ok;
}

__u32 xtc_plan_max_entries(const struct xtc_model *m, size_t n_entries)
{
	return m->max_rules * 4 > 2 * n_entries ? m->max_rules * 4 : 2 * n_entries;
}

/* The records that the file wants, in the form that costs least for what the kernel has. */
static int make_want(const struct xtc_model *m, const struct xtc_observed *ob, struct xtc_plan *p)
{
	/* From nothing each record is written once and compared with nothing: made then. */
	if (!ob->tables.exists && !ob->tables.rules.n && ids_in_match_order(m))
		return xtc_rule_table_of_rules(m->rules, m->n_rules, &p->want);
	/* Records read: only those that differ are kept, compared once. */
	if (ob->tables.rules.info)
		return xtc_rule_table_over(&ob->tables.rules, m->rules, m->n_rules, &p->want);
	return xtc_rule_table_want(m->rules, m->n_rules, ob->tables.rules.n, &p->want);
}

int xtc_plan_compile(struct xtc_model *m, const struct xtc_observed *ob,
		     const struct xtc_tss_carry *carry, struct xtc_plan *p)
{
	double t0 = xtc_now();
	int err;

	p->rules = true;
	err = assign_ids(m, ob, p);
	if (err)
		return err;
	pr_debug("timing: rule ids %.3f s\n", xtc_now() - t0);
	t0 = xtc_now();
	/* The records first: a re-apply compares them to find the rules it expands. */
	err = p->ip_as_is ? 0 : collect_ipmap(m, ob, p);
	if (err)
		return err;
	err = make_want(m, ob, p);
	if (err)
		return err;
	/* A re-apply expands only the rules whose digests changed; from nothing, all of them. */
	err = ob->tables.exists ? xtc_tss_compile_carried(m->rules, m->n_rules, &ob->tables.live,
							  carry, &p->tss) : -ESTALE;
	if (!err) {
		pr_debug("rules: %d changed since the last compile: the rest is its\n", carry->n);
	} else if (err == -ESTALE && ob->tables.exists) {
		struct xtc_kernel_memo k;

		/* A daemon keeps what this compile makes as its memo: the mask bits too. */
		err = xtc_kernel_memo(m, ob, &p->want, carry != NULL, &k);
		if (!err)
			err = xtc_tss_compile_carried(m->rules, m->n_rules, &ob->tables.live,
						      &k.carry, &p->tss);
		if (!err)
			pr_debug("rules: %d whose records changed: the rest as the kernel has "
				 "them\n", k.carry.n);
		xtc_kernel_memo_free(&k);
		if (err == -ENOMEM)
			return err;
		if (err)
			err = -ESTALE;
	}
	if (err == -ESTALE)
		err = ob->tables.exists ?
		      xtc_tss_compile(m->rules, m->n_rules, &ob->tables.live, &p->tss) :
		      xtc_tss_build(m->rules, m->n_rules, NULL, &p->tss);
	/* From nothing, every entry is written as it is: nothing looks one up (33 MiB at 1M rules). */
	if (!err && !ob->tables.exists)
		entry_table_drop_index(&p->tss.set);
	if (err == -E2BIG) {
		pr_warn("%s:%d: rule '%s' needs a %dth distinct match shape; xtc supports %d "
			"(rules that constrain the same fields with the same prefix lengths share "
			"one)\n", p->tss.overflow_rule->file ?: m->path, p->tss.overflow_rule->line,
			p->tss.overflow_rule->name, XTC_MAX_MASKS + 1, XTC_MAX_MASKS);
		return err;
	}
	if (err)
		return err;
	pr_debug("timing: compile %zu entries %.3f s\n", p->tss.n_entries, xtc_now() - t0);
	p->max_entries = xtc_plan_max_entries(m, p->tss.n_entries);
	return 0;
}

int xtc_plan_diff_tables(const struct xtc_model *m, const struct xtc_observed *ob,
			 struct xtc_plan *p)
{
	int err;

	xtc_tables_plan_free(&p->tplan);
	/* The records were read again (apply.c): what the file wants is made against them. */
	err = p->want.info || p->want.by_id || p->want.base ? 0 : make_want(m, ob, p);
	/* Planned from nothing, compared with maps that turned out to hold entries. */
	if (!err)
		err = entry_table_reindex(&p->tss.set);
	if (!err)
		err = xtc_tables_plan(&ob->tables, m, &p->tss, &p->want, &p->tplan);
	if (err)
		return err;
	p->tables = p->tplan.diff;
	p->info_changes = p->tplan.info_changes;
	p->tss.n_entries = p->tplan.n_entries;
	return 0;
}

/* ---- interfaces -------------------------------------------------------- */

static struct xtc_iface_plan *add_iface(struct xtc_plan *p, int cap, const char *name,
					__u32 ifindex)
{
	struct xtc_iface_plan *ip;
	int i;

	for (i = 0; i < p->n_ifs; i++)
		if (p->ifs[i].ifindex == ifindex)
			return &p->ifs[i];
	if (p->n_ifs == cap)
		return NULL;
	ip = &p->ifs[p->n_ifs++];
	memset(ip, 0, sizeof(*ip));
	snprintf(ip->name, sizeof(ip->name), "%s", name);
	ip->ifindex = ifindex;
	return ip;
}

/* The counter slot an interface gets, and whether it is new to it. */
struct slot_pick {
	__u32 slot;
	bool fresh;
};

/* What is really attached, in the record's terms: the plan's "before". */
static void current(struct xtc_iface_plan *ip, const struct xtc_obs_iface *oi)
{
	struct xtc_iface_cfg *c = &ip->cur;
	int h;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", ip->name);
	if (!oi)
		return;
	if (oi->recorded)
		c->flags = oi->rec.flags & (XTC_IF_QDISC_OURS | ~0U << XTC_IF_SLOT_SHIFT);
	if (oi->xdp.n_ours) {
		c->flags |= XTC_IF_XDP | (oi->xdp.dispatcher ? 0 : XTC_IF_XDP_SINGLE) |
			    (oi->xdp.no_handoff[0] ? XTC_IF_XDP_NO_HANDOFF : 0);
		c->xdp_prog_id = oi->xdp.ids[0];
		c->xdp_mode = oi->xdp.mode;
		/* A single program has no dispatcher to hold its priority: the record does. */
		c->xdp_prio = oi->xdp.dispatcher ? oi->xdp.prio[0] :
			      oi->recorded && oi->rec.xdp_prog_id == c->xdp_prog_id ?
			      oi->rec.xdp_prio : 0;
	}
	for (h = 0; h < 2; h++) {
		if (oi->tc[h].kind == XTC_TC_KIND_NONE)
			continue;
		c->flags |= h ? XTC_IF_TC_EGRESS : XTC_IF_TC_INGRESS;
		c->tc_kind = oi->tc[h].kind;
		if (c->tc_kind == XTC_TC_KIND_CLS_BPF)
			c->tc_prio = oi->tc[h].prio;
	}
}

/* The attached instance that already does what w asks, counting in slot, or -1. */
static int xdp_keeper(const struct xtc_obs_iface *oi, const struct xtc_iface_want *w,
		      __u32 slot)
{
	const struct xtc_obs_xdp *x = &oi->xdp;
	int i;

	for (i = 0; i < x->n_ours; i++) {
		bool prio_ok;

		if (x->stale[i] || x->mode != w->xdp_mode || x->slot[i] != slot)
			continue;
		/* Single: the priority orders nothing, so any instance will do. */
		prio_ok = !x->dispatcher || x->prio[i] == w->xdp_prio;
		if (prio_ok)
			return i;
	}
	return -1;
}

static void plan_xdp(struct xtc_iface_plan *ip, const struct xtc_obs_iface *oi,
		     const struct xtc_iface_want *w)
{
	struct xtc_iface_cfg *want = &ip->want;
	int keep = -1, i;

	if (w && w->xdp) {
		want->flags |= XTC_IF_XDP;
		want->xdp_mode = w->xdp_mode;
		want->xdp_prio = w->xdp_prio;
		keep = oi ? xdp_keeper(oi, w, XTC_IF_SLOT(want->flags)) : -1;
		if (keep >= 0) {
			want->xdp_prog_id = oi->xdp.ids[keep];
			want->flags |= (oi->xdp.dispatcher ? 0 : XTC_IF_XDP_SINGLE) |
				       (oi->xdp.no_handoff[keep] ? XTC_IF_XDP_NO_HANDOFF : 0);
		} else {
			ip->xdp_on = true;
			/*
			 * Under the dispatcher a new instance can join before the old
			 * leaves, if there is room: it holds XTC_XDP_MAX_PROGS at most.
			 */
			ip->xdp_first = oi && oi->xdp.dispatcher &&
					oi->xdp.n_progs < XTC_XDP_MAX_PROGS;
			/* Alone on the hook, in the same mode: XDP_FLAGS_REPLACE swaps it. */
			if (oi && !oi->xdp.dispatcher && oi->xdp.n_ours == 1 && !oi->xdp.foreign_id &&
			    oi->xdp.mode == w->xdp_mode)
				ip->xdp_replace = oi->xdp.ids[0];
		}
	}
	for (i = 0; oi && i < oi->xdp.n_ours; i++)
		if (i != keep && oi->xdp.ids[i] != ip->xdp_replace)
			ip->xdp_off[ip->n_xdp_off++] = oi->xdp.ids[i];
}

static int plan_tc(struct xtc_plan *p, struct xtc_iface_plan *ip,
		   const struct xtc_obs_iface *oi, const struct xtc_iface_want *w)
{
	bool cls_after;
	int h;

	for (h = 0; h < 2; h++) {
		__u32 flag = h ? XTC_IF_TC_EGRESS : XTC_IF_TC_INGRESS;
		const struct xtc_obs_tc *t = oi ? &oi->tc[h] : NULL;
		enum xtc_tc_kind kind = w && w->tc_kind ? w->tc_kind : p->tc_kind;
		__u32 prio = kind == XTC_TC_KIND_CLS_BPF ? (w && w->tc_prio ? w->tc_prio :
							    XTC_CLS_PRIO) : 0;
		bool have = t && t->kind != XTC_TC_KIND_NONE;
		bool same_place = have && t->kind == kind &&
				  (kind != XTC_TC_KIND_CLS_BPF || t->prio == prio);
		bool ok = same_place && !t->stale;

		if (w && w->tc[h]) {
			ip->want.flags |= flag;
			ip->want.tc_kind = kind;
			ip->want.tc_prio = prio;
			if (!ok)
				ip->tc_on[h] = true;
			if (!ok && !have && kind == XTC_TC_KIND_CLS_BPF && t && t->foreign &&
			    t->prio == prio && !ip->gone) {
				snprintf(p->refusal, sizeof(p->refusal),
					 "%s: TC %s: the cls_bpf slot prio %u (0x%x) handle 0x%x is "
					 "taken by %s, which is not xtc's; xtc leaves it alone: choose "
					 "another tc_prio, or remove that filter (%s)", ip->name,
					 h ? "egress" : "ingress", t->prio, t->prio, XTC_CLS_HANDLE,
					 t->foreign_name, t->foreign_del);
				return -EBUSY;
			}
		}
		if (have && (!ok || !(w && w->tc[h]))) {
			ip->tc_off[h] = true;
			ip->tc_off_id[h] = t->prog_id;
			ip->tc_off_kind[h] = t->kind;
			ip->tc_off_prio[h] = t->prio;
			/* A stale program of ours in the same place is swapped, never removed first. */
			ip->tc_swap[h] = ip->tc_on[h] && same_place;
		}
	}
	/* A clsact we created stays ours while any cls_bpf filter of ours remains. */
	cls_after = ip->want.tc_kind == XTC_TC_KIND_CLS_BPF &&
		    (ip->want.flags & (XTC_IF_TC_INGRESS | XTC_IF_TC_EGRESS));
	if (cls_after)
		ip->want.flags |= ip->cur.flags & XTC_IF_QDISC_OURS;
	/* Else the last of our filters to go takes the clsact, if nobody else uses it. */
	for (h = 1; h >= 0 && !cls_after && (ip->cur.flags & XTC_IF_QDISC_OURS); h--) {
		if (ip->tc_off[h] && !ip->tc_swap[h] && ip->tc_off_kind[h] == XTC_TC_KIND_CLS_BPF) {
			ip->tc_off_qdisc[h] = true;
			break;
		}
	}
	return 0;
}

static int plan_iface(struct xtc_plan *p, struct xtc_iface_plan *ip,
		      const struct xtc_obs_iface *oi, const struct xtc_iface_want *w,
		      const struct slot_pick *slot)
{
	struct xtc_iface_cfg *want = &ip->want;

	ip->had = oi && oi->recorded;
	ip->keep = w != NULL;
	ip->gone = !oi || !oi->present;
	current(ip, oi);
	memset(want, 0, sizeof(*want));
	if (w) {
		snprintf(want->name, sizeof(want->name), "%s", w->name);
		want->flags = slot->slot << XTC_IF_SLOT_SHIFT;
		/* Counters made anew in this apply are zero already, or carried over. */
		ip->zero_slot = slot->slot && slot->fresh &&
				!((p->state.create | p->state.migrate) & (1U << XTC_MAP_IFACE_STATS));
	}
	if (ip->gone && !w) {
		/* Nothing to detach from an interface that is gone: only the record goes. */
		return 0;
	}
	plan_xdp(ip, oi, w);
	if (w && w->xdp_auto)
		want->flags |= XTC_IF_XDP_AUTO;
	if (plan_tc(p, ip, oi, w))
		return -EBUSY;
	ip->write_entry = w && (!ip->had || ip->xdp_on || ip->tc_on[0] || ip->tc_on[1] ||
				memcmp(&oi->rec, want, sizeof(*want)));
	return 0;
}

/* ---- state ------------------------------------------------------------- */

static void plan_state(const struct xtc_observed *ob, struct xtc_state_plan *s)
{
	int pin;

	memset(s, 0, sizeof(*s));
	for (pin = 0; pin < XTC_PIN_COUNT; pin++) {
		if (!(ob->missing & (1U << pin)))
			continue;
		/* A pin of another layout is made anew, never taken from the old programs. */
		if (ob->recover_from[pin] && !(ob->st->foreign & (1U << pin))) {
			s->repin |= 1U << pin;
			s->recover_from[pin] = ob->recover_from[pin];
		} else {
			s->create |= 1U << pin;
		}
	}
	/*
	 * Maps of another layout are made anew in ours, with new TC programs on
	 * them; counters carry over, and the running programs are replaced in
	 * place like in any upgrade.  Not fresh: what else is pinned stays.
	 */
	if (ob->incompatible) {
		s->migrate = ob->st->foreign & ~XTC_MAPS_OPTIONAL;
		s->create |= (1U << XTC_PIN_TC_INGRESS) | (1U << XTC_PIN_TC_EGRESS);
	}
	/* Nothing to keep when every pin that must exist is to be made. */
	s->fresh = !s->migrate && !(((1U << XTC_PIN_COUNT) - 1) & ~XTC_MAPS_OPTIONAL & ~s->create);
	if (s->fresh)
		s->create |= XTC_MAPS_OPTIONAL;
	/* An upgrade: new TC programs on the same maps, swapped in where ours run. */
	s->reload_progs = ob->build_stale && !s->fresh && !s->migrate;
	s->stamp = !ob->marked || s->repin || s->create || s->reload_progs;
}

/* ---- changes, for people ----------------------------------------------- */

static const char *kind_name(int kind)
{
	return xtc_tc_kind_name(kind);
}

static const char *mode_word(int mode)
{
	return mode == XTC_XDP_SKB ? "skb" : "native";
}

static int xdp_changes(struct xtc_changes *cs, const struct xtc_iface_plan *ip)
{
	const struct xtc_iface_cfg *c = &ip->cur, *w = &ip->want;
	char detail[160] = "";

	if (ip->xdp_on && ip->xdp_replace)
		return xtc_changes_add(cs, '~', XTC_CH_XDP, ip->name, false, "replace program %u "
				       "in place (%s)", ip->xdp_replace,
				       c->xdp_mode != w->xdp_mode ? "mode" : "stale");
	if (ip->xdp_on && ip->n_xdp_off) {
		if (c->xdp_mode != w->xdp_mode)
			snprintf(detail, sizeof(detail), "mode %s -> %s", mode_word(c->xdp_mode),
				 mode_word(w->xdp_mode));
		if (c->xdp_prio != w->xdp_prio)
			snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
				 "%spriority %u -> %u", detail[0] ? ", " : "", c->xdp_prio,
				 w->xdp_prio);
		if (!detail[0])
			snprintf(detail, sizeof(detail), "replace program %u (stale)",
				 c->xdp_prog_id);
		/* The dispatcher swaps atomically; a single program is detached first. */
		return xtc_changes_add(cs, '~', XTC_CH_XDP, ip->name, !ip->xdp_first, "%s",
				       detail);
	}
	if (!ip->xdp_on && (w->flags & XTC_IF_XDP) && (c->flags & XTC_IF_XDP) &&
	    c->xdp_prio != w->xdp_prio)
		/* Without a dispatcher nothing runs in priority order: only the record changes. */
		return xtc_changes_add(cs, '~', XTC_CH_XDP, ip->name, false, "priority %u -> %u "
				       "(a single program: recorded, nothing re-attached)",
				       c->xdp_prio, w->xdp_prio);
	if (ip->xdp_on)
		return xtc_changes_add(cs, '+', XTC_CH_XDP, ip->name, false, "%s mode, priority %u",
				       mode_word(w->xdp_mode), w->xdp_prio);
	if (ip->n_xdp_off && (w->flags & XTC_IF_XDP))
		return xtc_changes_add(cs, '-', XTC_CH_XDP, ip->name, false,
				       "id %u (a second instance of ours)", ip->xdp_off[0]);
	if (ip->n_xdp_off)
		return xtc_changes_add(cs, '-', XTC_CH_XDP, ip->name, false, "id %u%s",
				       ip->xdp_off[0], ip->had ? "" : " (not recorded: left by an "
				       "earlier run)");
	return 0;
}

static int iface_changes(struct xtc_changes *cs, const struct xtc_iface_plan *ip)
{
	const struct xtc_iface_cfg *c = &ip->cur, *w = &ip->want;
	int h, err = xdp_changes(cs, ip);

	for (h = 0; h < 2 && !err; h++) {
		enum xtc_change_obj obj = h ? XTC_CH_TC_EGRESS : XTC_CH_TC_INGRESS;

		if (ip->tc_swap[h])
			err = xtc_changes_add(cs, '~', obj, ip->name, false, "replace program %u "
					      "in place (stale)", ip->tc_off_id[h]);
		else if (ip->tc_on[h] && ip->tc_off[h] && ip->tc_off_kind[h] == w->tc_kind)
			err = xtc_changes_add(cs, '~', obj, ip->name, true, "%s prio 0x%x -> 0x%x",
					      kind_name(w->tc_kind), ip->tc_off_prio[h], w->tc_prio);
		else if (ip->tc_on[h] && ip->tc_off[h])
			err = xtc_changes_add(cs, '~', obj, ip->name, true, "%s -> %s",
					      kind_name(ip->tc_off_kind[h]), kind_name(w->tc_kind));
		else if (ip->tc_on[h])
			err = xtc_changes_add(cs, '+', obj, ip->name, false, "%s",
					      kind_name(w->tc_kind));
		else if (ip->tc_off[h])
			err = xtc_changes_add(cs, '-', obj, ip->name, false, "%s",
					      kind_name(ip->tc_off_kind[h]));
	}
	if (!err && ip->had && !ip->keep)
		err = xtc_changes_add(cs, '-', XTC_CH_INTERFACE, ip->name, false, "%s",
				      ip->gone ? "gone from the host" : "not in the file");
	else if (!err && ip->keep && !ip->had && !xtc_iface_plan_empty(ip) &&
		 !ip->xdp_on && !ip->tc_on[0] && !ip->tc_on[1])
		err = xtc_changes_add(cs, '~', XTC_CH_INTERFACE, ip->name, false,
				      "record what is attached (an earlier run stopped before it did)");
	else if (!err && ip->keep && ip->had && ip->write_entry && !ip->xdp_on && !ip->tc_on[0] &&
		 !ip->tc_on[1] && !ip->n_xdp_off && !ip->tc_off[0] && !ip->tc_off[1])
		err = xtc_changes_add(cs, '~', XTC_CH_INTERFACE, ip->name, false,
				      "correct its record (program %u)", w->xdp_prog_id ?: c->xdp_prog_id);
	return err;
}

static int state_changes(struct xtc_changes *cs, const struct xtc_observed *ob,
			 const struct xtc_state_plan *s)
{
	int pin, err = 0;

	if (s->fresh)
		return xtc_changes_add(cs, '+', XTC_CH_STATE, ob->st->dir, false,
				       "load the XDP and TC programs and pin them");
	if (s->reload_progs)
		err = xtc_changes_add(cs, '~', XTC_CH_STATE, ob->st->dir, false,
				      "upgrade: this xtc's BPF code replaces the running programs in "
				      "place; maps and counters are kept");
	if (s->migrate)
		err = xtc_changes_add(cs, '~', XTC_CH_STATE, ob->st->dir, false,
				      "upgrade: this xtc's maps have another layout; the ones that "
				      "changed are made anew and filled, counters carry over by rule "
				      "name, and the running programs are replaced in place");
	for (pin = 0; pin < XTC_PIN_COUNT && !err; pin++) {
		if (s->migrate & (1U << pin))
			err = xtc_changes_add(cs, '+', XTC_CH_STATE, xtc_state_pin_name(pin), false,
					      "another layout: made anew in this xtc's");
		else if (s->repin & (1U << pin))
			err = xtc_changes_add(cs, '~', XTC_CH_STATE, xtc_state_pin_name(pin), false,
					      "pin again (taken from program %u)",
					      s->recover_from[pin]);
		else if (s->create & (1U << pin))
			err = xtc_changes_add(cs, '+', XTC_CH_STATE, xtc_state_pin_name(pin), false,
					      s->migrate && !(ob->missing & (1U << pin)) ?
					      "this xtc's program, on the new maps" : "was gone: made anew");
	}
	return err;
}

static int rule_changes(struct xtc_plan *p)
{
	struct xtc_changes *cs = &p->changes;
	int err = 0;

	if (p->tables.fallback_changed)
		err = xtc_changes_add(cs, '~', XTC_CH_SETTING, "redirect_fallback", false, "%s -> %s",
				      XTC_ENUM_NAME(action_names, p->tables.fallback_was),
				      XTC_ENUM_NAME(action_names, p->tables.fallback_now));
	if (!err && (p->tables.added || p->tables.changed || p->tables.removed ||
		     p->tables.masks_changed))
		err = xtc_changes_add(cs, '~', XTC_CH_CLASSIFIER, NULL, false,
				      "%zu entries added, %zu changed, %zu removed%s",
				      p->tables.added, p->tables.changed, p->tables.removed,
				      p->tables.masks_changed ? "; new match shapes" : "");
	if (!err && p->tables.cut_short)
		err = xtc_changes_add(cs, '~', XTC_CH_CLASSIFIER, NULL, false,
				      "finishes what a run that was cut short wrote (its record and "
				      "the verdicts cached before it)");
	if (!err && p->ip_changes)
		err = xtc_changes_add(cs, '~', XTC_CH_IPMAP, NULL, false,
				      "%zu change(s), %zu entries", p->ip_changes, p->n_ip);
	return err;
}

/* ---- the plan ---------------------------------------------------------- */

int xtc_plan_wants_from_model(const struct xtc_model *m, struct xtc_iface_want **out)
{
	struct xtc_iface_want *w = calloc(m->n_ifaces + 1, sizeof(*w));
	int i;

	if (!w)
		return -ENOMEM;
	for (i = 0; i < m->n_ifaces; i++) {
		const struct xtc_iface *mi = &m->ifaces[i];

		snprintf(w[i].name, sizeof(w[i].name), "%s", mi->name);
		w[i].ifindex = mi->ifindex;
		w[i].xdp = mi->xdp;
		w[i].xdp_auto = mi->xdp_setting == XTC_XDP_SET_AUTO;
		w[i].xdp_mode = mi->xdp_mode;
		w[i].xdp_prio = mi->xdp_priority;
		w[i].tc[0] = mi->tc_ingress;
		w[i].tc[1] = mi->tc_egress;
		w[i].tc_prio = mi->tc_prio;
	}
	*out = w;
	return 0;
}

/* ---- counter slots ------------------------------------------------------ */

/* A counter slot an interface holds (the record says, or its XDP program), or 0. */
static __u32 held_slot(const struct xtc_obs_iface *oi)
{
	int i;

	if (!oi)
		return 0;
	if (oi->recorded && XTC_IF_SLOT(oi->rec.flags))
		return XTC_IF_SLOT(oi->rec.flags);
	for (i = 0; i < oi->xdp.n_ours; i++)
		if (oi->xdp.slot[i] != XTC_OBS_SLOT_UNKNOWN && oi->xdp.slot[i])
			return oi->xdp.slot[i];
	return 0;
}

/*
 * Each wanted interface keeps the slot it holds; the others take the
 * lowest slot that nobody holds, so a slot of an interface that leaves in
 * this apply is reused only by a later one.  Pure, like the rest.
 */
static int pick_slots(const struct xtc_iface_want *want, int n_want,
		      const struct xtc_observed *ob, struct slot_pick *out)
{
	unsigned char *held = calloc(XTC_MAX_IFACES + 1, 1);
	__u32 next = 1, s;
	int i, pass;

	if (!held)
		return -ENOMEM;
	for (i = 0; i < n_want; i++) {
		s = held_slot(xtc_observed_iface(ob, want[i].ifindex));
		out[i].slot = s <= XTC_MAX_IFACES && !held[s] ? s : 0;
		out[i].fresh = false;
		held[out[i].slot] = 1;
	}
	for (i = 0; i < ob->n_ifs; i++) {
		s = held_slot(&ob->ifs[i]);
		if (s <= XTC_MAX_IFACES)
			held[s] = 1;
	}
	/* Then, if every slot is held, the slots of interfaces that leave. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n_want; i++) {
			if (out[i].slot)
				continue;
			while (next <= XTC_MAX_IFACES && held[next])
				next++;
			if (next > XTC_MAX_IFACES)
				break;
			out[i].slot = next;
			out[i].fresh = true;
			held[next] = 1;
		}
		memset(held, 0, XTC_MAX_IFACES + 1);
		for (i = 0; i < n_want; i++)
			held[out[i].slot] = 1;
		next = 1;
	}
	free(held);
	return 0;
}

int xtc_plan_build(const struct xtc_iface_want *want, int n_want, enum xtc_tc_attach tc_attach,
		   const struct xtc_observed *ob, struct xtc_plan *p)
{
	static const struct slot_pick none;
	int cap = n_want + ob->n_ifs, i, err = 0;
	struct slot_pick *slots;

	if (tc_attach == XTC_TC_TCX && !ob->tcx) {
		snprintf(p->refusal, sizeof(p->refusal), "tc_attach = tcx, but this kernel has no "
			 "TCX (it came in Linux 6.6); use tc_attach = auto or cls_bpf");
		return -EOPNOTSUPP;
	}
	p->tc_kind = tc_attach == XTC_TC_CLS_BPF ? XTC_TC_KIND_CLS_BPF :
		     tc_attach == XTC_TC_TCX || ob->tcx ? XTC_TC_KIND_TCX : XTC_TC_KIND_CLS_BPF;
	if (!p->state_as_is)
		plan_state(ob, &p->state);
	p->ifs = calloc(cap + 1, sizeof(*p->ifs));
	slots = calloc(n_want + 1, sizeof(*slots));
	if (!p->ifs || !slots || pick_slots(want, n_want, ob, slots)) {
		free(slots);
		return -ENOMEM;
	}
	for (i = 0; i < n_want && !err; i++) {
		const struct xtc_obs_iface *oi = xtc_observed_iface(ob, want[i].ifindex);

		err = plan_iface(p, add_iface(p, cap, want[i].name, want[i].ifindex), oi, &want[i],
				 &slots[i]);
	}
	free(slots);
	for (i = 0; i < ob->n_ifs && !err; i++) {
		const struct xtc_obs_iface *oi = &ob->ifs[i];
		int k;

		for (k = 0; k < n_want && want[k].ifindex != oi->ifindex; k++)
			;
		if (k < n_want || (!oi->recorded && !xtc_obs_iface_has_ours(oi)))
			continue;
		err = plan_iface(p, add_iface(p, cap, oi->name, oi->ifindex), oi, NULL, &none);
	}
	if (err)
		return err;
	p->iface_idx_fix = ob->iface_idx_stale;
	err = state_changes(&p->changes, ob, &p->state);
	if (!err && p->iface_idx_fix)
		err = xtc_changes_add(&p->changes, '~', XTC_CH_STATE, "maps/xtc_iface_idx", false,
				      "%zu element(s) disagree with the interface records: written "
				      "again from them", p->iface_idx_fix);
	for (i = 0; i < p->n_ifs && !err; i++)
		err = iface_changes(&p->changes, &p->ifs[i]);
	if (!err && p->rules)
		err = xtc_plan_rule_changes(ob, p);
	return err;
}

int xtc_plan_rule_changes(const struct xtc_observed *ob, struct xtc_plan *p)
{
	int err = 0;

	/*
	 * Not one record differs (the tables' diff counted them): no rule came,
	 * went, changed or moved, since a record holds its rule's priority.
	 * Listing them would sort both sides for nothing.
	 */
	if (!ob->tables.exists || p->info_changes)
		err = xtc_changes_rules(&p->changes, &ob->tables.rules, &p->want);
	return err ?: rule_changes(p);
}

bool xtc_plan_empty(const struct xtc_plan *p)
{
	int i;

	if (!xtc_state_plan_empty(&p->state) || !xtc_table_diff_empty(&p->tables) ||
	    p->info_changes || p->ip_changes || p->iface_idx_fix)
		return false;
	for (i = 0; i < p->n_ifs; i++)
		if (!xtc_iface_plan_empty(&p->ifs[i]))
			return false;
	return true;
}

void xtc_plan_print(const struct xtc_plan *p, bool dry_run)
{
	if (dry_run)
		printf("dry run: apply would make these changes (nothing was changed):\n");
	xtc_changes_print_text(&p->changes, 50);
}

void xtc_plan_free(struct xtc_plan *p)
{
	if (!p)
		return;
	xtc_tss_free(&p->tss);
	xtc_tables_plan_free(&p->tplan);
	xtc_changes_free(&p->changes);
	xtc_rule_table_free(&p->want);
	free(p->carry_ids);
	p->carry_ids = NULL;
	free(p->ip);
	free(p->ifs);
	p->ip = NULL;
	p->ifs = NULL;
}
