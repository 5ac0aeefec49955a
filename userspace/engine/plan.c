// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "plan.h"
#include "hostroutes.h"
#include "log.h"
#include "rule_info.h"
#include "xdp_attach.h"

__u32 xtc_prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* Host addresses and connected routes, then [static] on top. */
static int collect_ipmap(const struct xtc_model *m, struct xtc_plan *p)
{
	struct xtc_ipmap_entry *host = NULL, *all;
	size_t n_host = 0, i;
	int err, s;

	err = xtc_host_routes(&host, &n_host);
	if (err) {
		pr_warn("cannot read the host's addresses and routes: %s\n", strerror(-err));
		return err;
	}
	all = calloc(n_host + m->n_statics + 1, sizeof(*all));
	if (!all) {
		free(host);
		return -ENOMEM;
	}
	for (i = 0; i < n_host; i++) {
		for (s = 0; s < m->n_statics; s++)
			if (!memcmp(&m->statics[s].prefix, &host[i].prefix, sizeof(host[i].prefix)))
				break;
		if (s == m->n_statics)
			all[p->n_ip++] = host[i];
	}
	for (s = 0; s < m->n_statics; s++) {
		all[p->n_ip].prefix = m->statics[s].prefix;
		all[p->n_ip].origin = XTC_IPMAP_STATIC;
		all[p->n_ip++].ifindex = m->statics[s].ifindex;
	}
	free(host);
	p->ip = all;
	return 0;
}

static struct xtc_iface_plan *add_iface(struct xtc_plan *p, const char *name, __u32 ifindex)
{
	struct xtc_iface_plan *ip;
	int i;

	for (i = 0; i < p->n_ifs; i++)
		if (p->ifs[i].ifindex == ifindex)
			return &p->ifs[i];
	ip = &p->ifs[p->n_ifs++];
	memset(ip, 0, sizeof(*ip));
	snprintf(ip->name, sizeof(ip->name), "%s", name);
	ip->ifindex = ifindex;
	return ip;
}

/* Drops flags for attachments the kernel no longer has (someone removed them). */
static void verify_current(struct xtc_iface_plan *ip, const struct xtc_state *st)
{
	struct xtc_xdp_info xi;
	struct xtc_tc_info ti;
	__u32 ids[2] = { xtc_prog_id(st->tc_ingress_fd), xtc_prog_id(st->tc_egress_fd) };
	int h;

	if (ip->gone) {
		ip->cur.flags = 0;
		return;
	}
	if ((ip->cur.flags & XTC_IF_XDP) &&
	    (xtc_xdp_query(ip->ifindex, ip->cur.xdp_prog_id, &xi) || xi.our_pos < 0)) {
		pr_debug("%s: our XDP program %u is no longer attached\n", ip->name,
			 ip->cur.xdp_prog_id);
		ip->cur.flags &= ~(XTC_IF_XDP | XTC_IF_XDP_SINGLE);
		ip->cur.xdp_prog_id = 0;
	}
	for (h = 0; h < 2; h++) {
		__u32 flag = h ? XTC_IF_TC_EGRESS : XTC_IF_TC_INGRESS;

		if (!(ip->cur.flags & flag))
			continue;
		if (xtc_tc_query(ip->ifindex, h, ids[h], &ti) || ti.kind == XTC_TC_KIND_NONE) {
			pr_debug("%s: our TC %s program is no longer attached\n", ip->name,
				 h ? "egress" : "ingress");
			ip->cur.flags &= ~flag;
		}
	}
}

static void read_current(struct xtc_plan *p, const struct xtc_state *st)
{
	__u32 key, next, *prev = NULL;
	struct xtc_iface_cfg cfg;

	if (!st->exists)
		return;
	while (!bpf_map_get_next_key(st->maps.fd[XTC_MAP_IFACES], prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(st->maps.fd[XTC_MAP_IFACES], &key, &cfg))
			continue;
		char name[IF_NAMESIZE] = "";
		struct xtc_iface_plan *ip;

		cfg.name[sizeof(cfg.name) - 1] = 0;
		ip = add_iface(p, cfg.name, key);
		ip->had = true;
		ip->cur = cfg;
		ip->gone = !if_indextoname(key, name) || strcmp(name, cfg.name);
		verify_current(ip, st);
	}
}

static void plan_iface(struct xtc_plan *p, struct xtc_iface_plan *ip, const struct xtc_iface *mi)
{
	struct xtc_iface_cfg *w = &ip->want;
	int h;

	memset(w, 0, sizeof(*w));
	if (mi) {
		ip->keep = true;
		snprintf(w->name, sizeof(w->name), "%s", mi->name);
		if (mi->xdp) {
			w->flags |= XTC_IF_XDP;
			w->xdp_mode = mi->xdp_mode;
			w->xdp_prio = mi->xdp_priority;
		}
		if (mi->tc_ingress)
			w->flags |= XTC_IF_TC_INGRESS;
		if (mi->tc_egress)
			w->flags |= XTC_IF_TC_EGRESS;
		if (mi->tc_ingress || mi->tc_egress)
			w->tc_kind = p->tc_kind;
	}
	if (w->flags & XTC_IF_XDP) {
		if (!(ip->cur.flags & XTC_IF_XDP) || ip->cur.xdp_mode != w->xdp_mode ||
		    ip->cur.xdp_prio != w->xdp_prio) {
			ip->xdp_off = ip->cur.flags & XTC_IF_XDP;
			ip->xdp_on = true;
		} else {
			w->xdp_prog_id = ip->cur.xdp_prog_id;
			w->flags |= ip->cur.flags & XTC_IF_XDP_SINGLE;
		}
	} else {
		ip->xdp_off = ip->cur.flags & XTC_IF_XDP;
	}
	for (h = 0; h < 2; h++) {
		__u32 flag = h ? XTC_IF_TC_EGRESS : XTC_IF_TC_INGRESS;
		bool have = ip->cur.flags & flag;

		if (w->flags & flag) {
			if (!have || ip->cur.tc_kind != w->tc_kind) {
				ip->tc_off[h] = have;
				ip->tc_on[h] = true;
			}
		} else {
			ip->tc_off[h] = have;
		}
	}
	/* A clsact we created stays ours while any cls_bpf filter of ours remains. */
	if (w->tc_kind == XTC_TC_KIND_CLS_BPF)
		w->flags |= ip->cur.flags & XTC_IF_QDISC_OURS;
}

static int cmp_name(const void *a, const void *b)
{
	const struct xtc_rule_info *x = *(const struct xtc_rule_info *const *)a;
	const struct xtc_rule_info *y = *(const struct xtc_rule_info *const *)b;

	return strcmp(x->name, y->name);
}

/*
 * Counters belong to rule names, not positions: a rule that is already
 * loaded keeps its id (and its counters) when rules are added or moved
 * around it; new rules take ids nobody holds.
 */
static int assign_ids(struct xtc_model *m, const struct xtc_state *st, struct xtc_plan *p)
{
	struct xtc_rule_info *info, **byname = NULL, key, *kp = &key, **hit;
	unsigned char *taken = NULL;
	__u32 n, i, n_used = 0, next = 0;
	int r, err = 0;

	if (!st->exists)
		return 0;
	info = p->obs.rules.info;
	n = p->obs.rules.n;
	/* The plan compares rules by name against what the kernel holds. */
	for (i = 0; i < n; i++)
		info[i].name[sizeof(info[i].name) - 1] = 0;
	byname = calloc(n ? n : 1, sizeof(*byname));
	taken = calloc(n ? n : 1, 1);
	if (!byname || !taken) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (info[i].flags & XTC_RI_USED)
			byname[n_used++] = &info[i];
	qsort(byname, n_used, sizeof(*byname), cmp_name);
	for (r = 0; r < m->n_rules; r++) {
		snprintf(key.name, sizeof(key.name), "%s", m->rules[r].name);
		hit = bsearch(&kp, byname, n_used, sizeof(*byname), cmp_name);
		m->rules[r].id = hit ? (__u32)(*hit - info) : (__u32)-1;
		if (hit)
			taken[*hit - info] = 1;
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
	free(byname);
	return err;
}

static const char *kind_name(int kind)
{
	return kind == XTC_TC_KIND_TCX ? "tcx" : kind == XTC_TC_KIND_CLS_BPF ? "cls_bpf" : "none";
}

static const char *mode_word(int mode)
{
	return mode == XTC_XDP_SKB ? "skb" : "native";
}

static int iface_changes(struct xtc_changes *cs, const struct xtc_iface_plan *ip)
{
	const struct xtc_iface_cfg *c = &ip->cur, *w = &ip->want;
	char detail[128] = "";
	int h, err = 0;

	if (ip->xdp_on && ip->xdp_off) {
		if (c->xdp_mode != w->xdp_mode)
			snprintf(detail, sizeof(detail), "mode %s -> %s", mode_word(c->xdp_mode),
				 mode_word(w->xdp_mode));
		if (c->xdp_prio != w->xdp_prio)
			snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
				 "%spriority %u -> %u", detail[0] ? ", " : "", c->xdp_prio,
				 w->xdp_prio);
		err = xtc_changes_add(cs, '~', XTC_CH_XDP, ip->name, true, "%s", detail);
	} else if (ip->xdp_on) {
		err = xtc_changes_add(cs, '+', XTC_CH_XDP, ip->name, false, "%s mode, priority %u",
				      mode_word(w->xdp_mode), w->xdp_prio);
	} else if (ip->xdp_off) {
		err = xtc_changes_add(cs, '-', XTC_CH_XDP, ip->name, false, "id %u",
				      c->xdp_prog_id);
	}
	for (h = 0; h < 2 && !err; h++) {
		enum xtc_change_obj obj = h ? XTC_CH_TC_EGRESS : XTC_CH_TC_INGRESS;

		if (ip->tc_on[h] && ip->tc_off[h])
			err = xtc_changes_add(cs, '~', obj, ip->name, true, "%s -> %s",
					      kind_name(c->tc_kind), kind_name(w->tc_kind));
		else if (ip->tc_on[h])
			err = xtc_changes_add(cs, '+', obj, ip->name, false, "%s",
					      kind_name(w->tc_kind));
		else if (ip->tc_off[h])
			err = xtc_changes_add(cs, '-', obj, ip->name, false, "%s",
					      kind_name(c->tc_kind));
	}
	if (!err && ip->had && !ip->keep)
		err = xtc_changes_add(cs, '-', XTC_CH_INTERFACE, ip->name, false, "%s",
				      ip->gone ? "gone from the host" : "not in the file");
	return err;
}

static int build_changes(struct xtc_plan *p, const struct xtc_state *st)
{
	struct xtc_changes *cs = &p->changes;
	int i, err = 0;

	if (p->create)
		err = xtc_changes_add(cs, '+', XTC_CH_STATE, st->dir, false,
				      "load the XDP and TC programs and pin them");
	for (i = 0; i < p->n_ifs && !err; i++)
		err = iface_changes(cs, &p->ifs[i]);
	if (!err)
		err = xtc_changes_rules(&p->changes, &p->obs.rules, &p->want);
	if (!err && p->tables.fallback_changed)
		err = xtc_changes_add(cs, '~', XTC_CH_SETTING, "redirect_fallback", false, "%s -> %s",
				      XTC_ENUM_NAME(action_names, p->tables.fallback_was),
				      XTC_ENUM_NAME(action_names, p->tables.fallback_now));
	if (!err && (p->tables.added || p->tables.changed || p->tables.removed ||
		     p->tables.masks_changed))
		err = xtc_changes_add(cs, '~', XTC_CH_CLASSIFIER, NULL, false,
				      "%zu entries added, %zu changed, %zu removed%s",
				      p->tables.added, p->tables.changed, p->tables.removed,
				      p->tables.masks_changed ? "; new match shapes" : "");
	if (!err && p->ip_changes)
		err = xtc_changes_add(cs, '~', XTC_CH_IPMAP, NULL, false,
				      "%zu change(s), %zu entries", p->ip_changes, p->n_ip);
	return err;
}

int xtc_plan_build(struct xtc_model *m, const struct xtc_state *st, struct xtc_plan *p)
{
	size_t n_state = 0;
	double t0;
	int i, err;

	memset(p, 0, sizeof(*p));
	p->create = !st->exists;
	p->tc_kind = m->tc_attach == XTC_TC_CLS_BPF ? XTC_TC_KIND_CLS_BPF :
		     m->tc_attach == XTC_TC_TCX || xtc_tc_tcx_available() ? XTC_TC_KIND_TCX :
		     XTC_TC_KIND_CLS_BPF;
	if (m->tc_attach == XTC_TC_TCX && !xtc_tc_tcx_available()) {
		pr_warn("%s: tc_attach = tcx, but this kernel has no TCX (it came in Linux 6.6); "
			"use tc_attach = auto or cls_bpf\n", m->path);
		return -EOPNOTSUPP;
	}
	if (st->exists) {
		struct bpf_map_info mi = {};
		__u32 len = sizeof(mi);

		if (!bpf_obj_get_info_by_fd(st->maps.fd[XTC_MAP_IFACES], &mi, &len))
			n_state = mi.max_entries;
	}
	p->ifs = calloc(m->n_ifaces + n_state + 1, sizeof(*p->ifs));
	if (!p->ifs)
		return -ENOMEM;
	t0 = xtc_now();
	if (st->exists) {
		err = xtc_tables_observe(&st->maps, &p->obs);
		if (err)
			return err;
	}
	err = assign_ids(m, st, p);
	if (err)
		return err;
	pr_debug("timing: rule ids %.3f s\n", xtc_now() - t0);
	t0 = xtc_now();

	/* A re-apply expands only the rules that changed again; from nothing, build it all. */
	err = st->exists ? xtc_tss_compile(m->rules, m->n_rules, &p->obs.live, &p->tss) :
			   xtc_tss_build(m->rules, m->n_rules, NULL, &p->tss);
	if (err == -E2BIG) {
		pr_warn("%s:%d: rule '%s' needs a %dth distinct match shape; xtc supports %d "
			"(rules that constrain the same fields with the same prefix lengths share "
			"one)\n", p->tss.overflow_rule->file ?: m->path, p->tss.overflow_rule->line, p->tss.overflow_rule->name,
			XTC_MAX_MASKS + 1, XTC_MAX_MASKS);
		return err;
	}
	if (err)
		return err;
	pr_debug("timing: compile %zu entries %.3f s\n", p->tss.n_entries, xtc_now() - t0);
	t0 = xtc_now();
	p->max_entries = m->max_rules * 4 > 2 * p->tss.n_entries ? m->max_rules * 4 :
			 2 * p->tss.n_entries;

	err = collect_ipmap(m, p);
	if (err)
		return err;
	read_current(p, st);
	for (i = 0; i < m->n_ifaces; i++)
		plan_iface(p, add_iface(p, m->ifaces[i].name, m->ifaces[i].ifindex), &m->ifaces[i]);
	for (i = 0; i < p->n_ifs; i++)
		if (!p->ifs[i].keep)
			plan_iface(p, &p->ifs[i], NULL);

	err = xtc_rule_table_want(m->rules, m->n_rules, p->obs.rules.n, &p->want);
	if (err)
		return err;
	pr_debug("timing: interfaces and host routes %.3f s\n", xtc_now() - t0);
	t0 = xtc_now();
	err = xtc_tables_plan(&p->obs, m, &p->tss, &p->want, &p->tplan);
	if (err == -ESTALE) {
		pr_debug("rules: the digests do not say what the kernel holds; comparing every "
			 "entry\n");
		err = xtc_tables_observe_entries(&st->maps, &p->obs);
		if (!err)
			err = xtc_tables_plan(&p->obs, m, &p->tss, &p->want, &p->tplan);
	}
	if (err)
		return err;
	p->tables = p->tplan.diff;
	p->info_changes = p->tplan.info_changes;
	p->tss.n_entries = p->tplan.n_entries;
	pr_debug("timing: diff against the kernel's entries %.3f s\n", xtc_now() - t0);
	if (!st->exists) {
		p->ip_changes = p->n_ip;
		return build_changes(p, st);
	}
	t0 = xtc_now();
	if (!err)
		err = xtc_ipmap_sync(&st->maps, p->ip, p->n_ip, true, &p->ip_changes);
	pr_debug("timing: diff of rule names and ip map %.3f s\n", xtc_now() - t0);
	if (!err)
		err = build_changes(p, st);
	return err;
}

bool xtc_plan_empty(const struct xtc_plan *p)
{
	int i;

	if (p->create || !xtc_table_diff_empty(&p->tables) || p->info_changes || p->ip_changes)
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
	xtc_changes_free(&p->changes);
	xtc_tables_plan_free(&p->tplan);
	xtc_tables_obs_free(&p->obs);
	xtc_rule_table_free(&p->want);
	free(p->ip);
	free(p->ifs);
	p->ip = NULL;
	p->ifs = NULL;
}
