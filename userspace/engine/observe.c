// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "iface_idx.h"
#include "observe.h"
#include "hostroutes.h"
#include "netdev.h"
#include "objs.h"
#include "log.h"

/* Programs inspected so far: the TC programs are shared by every interface. */
struct seen_cache {
	struct xtc_prog_seen *p;
	int n, cap;
};

static const struct xtc_prog_seen *inspect(struct seen_cache *c, __u64 state_id, __u32 id)
{
	struct xtc_prog_seen *p;
	int i;

	for (i = 0; i < c->n; i++)
		if (c->p[i].id == id)
			return &c->p[i];
	if (c->n == c->cap) {
		int cap = c->cap ? 2 * c->cap : 16;

		p = realloc(c->p, cap * sizeof(*p));
		if (!p)
			return NULL;
		c->p = p;
		c->cap = cap;
	}
	p = &c->p[c->n];
	if (xtc_prog_inspect(id, state_id, p))
		return NULL;
	c->n++;
	return p;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &len))
		return 0;
	return mi.id;
}

static struct xtc_obs_iface *add_iface(struct xtc_observed *ob, __u32 ifindex, const char *name)
{
	struct xtc_obs_iface *oi;
	int i;

	for (i = 0; i < ob->n_ifs; i++)
		if (ob->ifs[i].ifindex == ifindex)
			return &ob->ifs[i];
	oi = realloc(ob->ifs, (ob->n_ifs + 1) * sizeof(*oi));
	if (!oi)
		return NULL;
	ob->ifs = oi;
	oi = &ob->ifs[ob->n_ifs++];
	memset(oi, 0, sizeof(*oi));
	oi->ifindex = ifindex;
	snprintf(oi->name, sizeof(oi->name), "%s", name);
	return oi;
}

/* How many elements of TC's quick look at the records are not what the records want. */
static void check_index(struct xtc_observed *ob)
{
	int fd = ob->st->maps.fd[XTC_MAP_IFACE_IDX];
	__u64 *cur = calloc(XTC_IFACE_IDX_SLOTS, sizeof(*cur));
	__u32 *ifindex = calloc(ob->n_ifs + 1, sizeof(*ifindex));
	__u32 *flags = calloc(ob->n_ifs + 1, sizeof(*flags));
	size_t n = 0;
	int i;

	if (fd >= 0 && cur && ifindex && flags &&
	    !xtc_map_read_array(fd, cur, sizeof(*cur), XTC_IFACE_IDX_SLOTS)) {
		for (i = 0; i < ob->n_ifs; i++) {
			if (!ob->ifs[i].recorded)
				continue;
			ifindex[n] = ob->ifs[i].ifindex;
			flags[n++] = ob->ifs[i].rec.flags;
		}
		ob->iface_idx_stale = xtc_iface_idx_want(ifindex, flags, n, cur, NULL);
	}
	free(cur);
	free(ifindex);
	free(flags);
}

static void read_records(struct xtc_observed *ob)
{
	int fd = ob->st->maps.fd[XTC_MAP_IFACES];
	__u32 key, next, *prev = NULL;
	struct xtc_iface_cfg cfg;

	if (fd < 0)
		return;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct xtc_obs_iface *oi;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &cfg))
			continue;
		cfg.name[sizeof(cfg.name) - 1] = 0;
		oi = add_iface(ob, key, cfg.name);
		if (!oi)
			return;
		oi->recorded = true;
		oi->rec = cfg;
	}
}

static void look_xdp(struct xtc_observed *ob, struct seen_cache *c, struct xtc_obs_iface *oi)
{
	struct xtc_obs_xdp *x = &oi->xdp;
	struct xtc_xdp_info xi;
	int i;

	if (xtc_xdp_query(oi->ifindex, 0, &xi) || !xi.attached)
		return;
	x->dispatcher = xi.dispatcher;
	x->n_progs = xi.n_progs;
	x->mode = xi.mode;
	for (i = 0; i < xi.n_progs; i++) {
		const struct xtc_prog_seen *ps = inspect(c, ob->state_id, xi.progs[i].id);

		if (!ps || !ps->ours || ps->role != XTC_ROLE_XDP) {
			if (!xi.dispatcher) {
				x->foreign_id = xi.progs[i].id;
				snprintf(x->foreign_name, sizeof(x->foreign_name), "%s",
					 xi.progs[i].name);
			}
			continue;
		}
		x->ids[x->n_ours] = ps->id;
		x->prio[x->n_ours] = xi.dispatcher ? xi.progs[i].prio : 0;
		x->stale[x->n_ours] = false;
		x->no_handoff[x->n_ours] = xtc_xdp_name_no_handoff(ps->name);
		x->slot[x->n_ours] = ps->has_slot ? ps->slot : XTC_OBS_SLOT_UNKNOWN;
		x->n_ours++;
	}
}

/* The cls_bpf slot the record names (older records: the default prio). */
static __u32 recorded_prio(const struct xtc_obs_iface *oi)
{
	if (oi->recorded && oi->rec.tc_kind == XTC_TC_KIND_CLS_BPF && oi->rec.tc_prio)
		return oi->rec.tc_prio;
	return XTC_CLS_PRIO;
}

static void look_tc(struct xtc_observed *ob, struct seen_cache *c, struct xtc_obs_iface *oi,
		    bool no_ffff)
{
	int h, i;

	for (h = 0; h < 2; h++) {
		enum xtc_role role = h ? XTC_ROLE_TC_EGRESS : XTC_ROLE_TC_INGRESS;
		struct xtc_tc_hook hook = { .ifindex = oi->ifindex, .egress = h,
					    .prio = recorded_prio(oi), .no_ffff = no_ffff };
		struct xtc_obs_tc *t = &oi->tc[h];
		const struct xtc_prog_seen *ps;
		struct xtc_tc_obs *to = calloc(1, sizeof(*to));

		if (!to || xtc_tc_observe(&hook, to)) {
			free(to);
			continue;
		}
		t->clsact = to->clsact;
		t->n_others = to->n_filters;
		t->prio = hook.prio;
		t->handle = XTC_CLS_HANDLE;
		for (i = 0; i < to->n_tcx; i++) {
			ps = inspect(c, ob->state_id, to->tcx[i].id);
			if (t->kind == XTC_TC_KIND_NONE && ps && ps->ours && ps->role == role) {
				t->kind = XTC_TC_KIND_TCX;
				t->prog_id = ps->id;
			} else {
				t->n_others++;
			}
		}
		if (to->slot.taken) {
			ps = to->slot.prog_id ? inspect(c, ob->state_id, to->slot.prog_id) : NULL;
			if (t->kind == XTC_TC_KIND_NONE && ps && ps->ours && ps->role == role) {
				t->kind = XTC_TC_KIND_CLS_BPF;
				t->prog_id = ps->id;
				t->prio = to->slot.prio;
				t->handle = to->slot.handle;
			} else {
				t->foreign = true;
				t->foreign_id = to->slot.prog_id;
				xtc_cls_slot_describe(&to->slot, t->foreign_name,
						      sizeof(t->foreign_name));
				xtc_cls_slot_del_command(&hook, &to->slot, t->foreign_del,
							 sizeof(t->foreign_del));
			}
		}
		free(to);
	}
}

static bool in_list(const __u32 *v, int n, __u32 x)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static void look_host(struct xtc_observed *ob, struct seen_cache *c)
{
	struct if_nameindex *all = if_nameindex(), *i;
	__u32 *with_xdp = NULL, *with_ffff = NULL;
	int k, n_xdp = 0, n_ffff = 0;
	/* Which interfaces have XDP, or a qdisc filters hang on, in one dump each. */
	bool know_xdp = !xtc_netdev_with_xdp(&with_xdp, &n_xdp);
	bool know_ffff = !xtc_netdev_with_ffff(&with_ffff, &n_ffff);

	for (i = all; i && i->if_index; i++)
		add_iface(ob, i->if_index, i->if_name);
	for (k = 0; k < ob->n_ifs; k++) {
		struct xtc_obs_iface *oi = &ob->ifs[k];

		/* Present: the host lists it under the recorded name (from the one listing). */
		oi->present = false;
		for (i = all; i && i->if_index && !oi->present; i++)
			oi->present = i->if_index == oi->ifindex && !strcmp(i->if_name, oi->name);
		if (!all) {
			char now[IF_NAMESIZE] = "";

			oi->present = if_indextoname(oi->ifindex, now) && !strcmp(now, oi->name);
		}
		if (!oi->present)
			continue;
		if (!know_xdp || in_list(with_xdp, n_xdp, oi->ifindex))
			look_xdp(ob, c, oi);
		look_tc(ob, c, oi, know_ffff && !in_list(with_ffff, n_ffff, oi->ifindex));
	}
	free(with_xdp);
	free(with_ffff);
	if (all)
		if_freenameindex(all);
}

/*
 * The generation is the pinned xtc_config; without that pin, the one the
 * live programs use.  Programs of any other generation are stale.
 */
static void mark_generation(struct xtc_observed *ob, struct seen_cache *c)
{
	int i, k, h;

	ob->gen = map_id(ob->st->maps.fd[XTC_MAP_CONFIG]);
	for (i = 0; !ob->gen && i < c->n; i++)
		if (c->p[i].ours)
			ob->gen = c->p[i].config_map_id;
	for (k = 0; k < ob->n_ifs; k++) {
		struct xtc_obs_iface *oi = &ob->ifs[k];

		for (i = 0; i < oi->xdp.n_ours; i++) {
			const struct xtc_prog_seen *ps = inspect(c, ob->state_id, oi->xdp.ids[i]);

			oi->xdp.stale[i] = ps && (ps->config_map_id != ob->gen || ob->build_stale ||
						  ob->incompatible);
		}
		for (h = 0; h < 2; h++) {
			const struct xtc_prog_seen *ps;

			if (oi->tc[h].kind == XTC_TC_KIND_NONE)
				continue;
			ps = inspect(c, ob->state_id, oi->tc[h].prog_id);
			oi->tc[h].stale = ps && (ps->config_map_id != ob->gen || ob->build_stale ||
						 ob->incompatible);
		}
	}
}

/* For each missing pin, a live program of this generation that still holds it. */
static void find_recoveries(struct xtc_observed *ob, struct seen_cache *c)
{
	int pin, i;

	for (pin = 0; pin < XTC_PIN_COUNT; pin++) {
		/* A pin of another layout is replaced, never taken back from the programs. */
		if (!(ob->missing & (1U << pin)) || (ob->st->foreign & (1U << pin)))
			continue;
		for (i = 0; i < c->n && !ob->recover_from[pin]; i++) {
			const struct xtc_prog_seen *ps = &c->p[i];
			int m;

			if (!ps->ours || ps->config_map_id != ob->gen)
				continue;
			if (pin == XTC_PIN_TC_INGRESS || pin == XTC_PIN_TC_EGRESS) {
				if (ps->role == (pin == XTC_PIN_TC_INGRESS ? XTC_ROLE_TC_INGRESS :
									    XTC_ROLE_TC_EGRESS))
					ob->recover_from[pin] = ps->id;
				continue;
			}
			for (m = 0; m < ps->n_maps; m++)
				if (!strncmp(ps->map_names[m], xtc_map_names[pin],
					     sizeof(ps->map_names[m])))
					ob->recover_from[pin] = ps->id;
		}
	}
}

/* The state directory itself: what is missing, whose it is, which build made it. */
static void observe_state(const struct xtc_state *st, struct xtc_observed *ob)
{
	memset(ob, 0, sizeof(*ob));
	ob->st = st;
	ob->state_id = xtc_owner_id(st->dir);
	ob->tcx = xtc_tc_tcx_available();
	ob->missing = st->exists ? 0 : st->missing ? st->missing : (1U << XTC_PIN_COUNT) - 1;
	/*
	 * An optional map that is gone is made again too (its users fall back
	 * meanwhile), with the rest of a state that is incomplete: programs
	 * loaded for the rest would otherwise make one of their own, unpinned.
	 */
	if (st->exists || st->missing)
		for (int pin = 0; pin < XTC_MAP_COUNT; pin++)
			if ((XTC_MAPS_OPTIONAL & (1U << pin)) && st->maps.fd[pin] < 0)
				ob->missing |= 1U << pin;
	ob->incompatible = (st->foreign & ~XTC_MAPS_OPTIONAL) != 0;
	ob->marked = xtc_owner_marked(st->maps.fd[XTC_MAP_CONFIG], ob->state_id);
	ob->build_stale = ob->marked &&
			  xtc_owner_build(st->maps.fd[XTC_MAP_CONFIG]) != xtc_objs_build_id();
}

int xtc_observe(const struct xtc_state *st, bool rules, struct xtc_observed *ob)
{
	/* What the rule tables are read from (counters are not). */
	const __u32 table_maps = (1U << XTC_MAP_RULES) | (1U << XTC_MAP_MASKS) |
				 (1U << XTC_MAP_CONFIG) | (1U << XTC_MAP_IPMAP) |
				 (1U << XTC_MAP_RULE_INFO) | (1U << XTC_MAP_RULE_SETS);
	struct seen_cache c = {};
	int err = 0;

	observe_state(st, ob);
	ob->tc_prog_ids[0] = xtc_prog_id(st->tc_ingress_fd);
	ob->tc_prog_ids[1] = xtc_prog_id(st->tc_egress_fd);
	if (ob->tc_prog_ids[0])
		inspect(&c, ob->state_id, ob->tc_prog_ids[0]);
	if (ob->tc_prog_ids[1])
		inspect(&c, ob->state_id, ob->tc_prog_ids[1]);
	read_records(ob);
	check_index(ob);
	look_host(ob, &c);
	mark_generation(ob, &c);
	find_recoveries(ob, &c);
	/* Maps still to be taken back or made: apply observes them after the repair. */
	if (rules && !(ob->missing & table_maps)) {
		err = xtc_tables_observe(&st->maps, &ob->tables);
		if (err) {
			pr_warn("%s: cannot read the rule tables: %s\n", st->dir, strerror(-err));
			goto out;
		}
	}
	/* Rules keep their ids, by name, when their maps move to this xtc's layout. */
	if (rules && ob->incompatible && !ob->tables.exists) {
		int fd = st->old.fd[XTC_MAP_RULE_INFO] >= 0 ? st->old.fd[XTC_MAP_RULE_INFO] :
			 st->maps.fd[XTC_MAP_RULE_INFO];

		if (fd >= 0 && xtc_rule_names_read(fd, &ob->old_rules))
			pr_warn("%s: cannot read the rule names of the old maps: counters start "
				"again\n", st->dir);
	}
	if (rules) {
		err = xtc_host_routes(&ob->host_ip, &ob->n_host_ip);
		if (err)
			pr_warn("cannot read the host's addresses and routes: %s\n", strerror(-err));
	}
out:
	free(c.p);
	return err;
}

int xtc_observe_tables(const struct xtc_state *st, struct xtc_observed *ob)
{
	observe_state(st, ob);
	if (!st->exists || ob->missing || ob->incompatible || !ob->marked || ob->build_stale)
		return -EAGAIN;
	return xtc_tables_observe(&st->maps, &ob->tables);
}

void xtc_observed_free(struct xtc_observed *ob)
{
	if (!ob)
		return;
	xtc_tables_obs_free(&ob->tables);
	xtc_rule_table_free(&ob->old_rules);
	free(ob->host_ip);
	free(ob->ifs);
	ob->ifs = NULL;
	ob->host_ip = NULL;
}

int xtc_observe_entries(struct xtc_observed *ob)
{
	return xtc_tables_observe_entries(&ob->st->maps, &ob->tables);
}

const struct xtc_obs_iface *xtc_observed_iface(const struct xtc_observed *ob, __u32 ifindex)
{
	int i;

	for (i = 0; i < ob->n_ifs; i++)
		if (ob->ifs[i].ifindex == ifindex)
			return &ob->ifs[i];
	return NULL;
}

bool xtc_obs_iface_has_ours(const struct xtc_obs_iface *oi)
{
	return oi->xdp.n_ours || oi->tc[0].kind != XTC_TC_KIND_NONE ||
	       oi->tc[1].kind != XTC_TC_KIND_NONE;
}
