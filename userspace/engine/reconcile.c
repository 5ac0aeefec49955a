// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "reconcile.h"
#include "log.h"

int xtc_reconcile_plan(struct xtc_model *m, const struct xtc_state *st,
		       const struct xtc_tss_carry *carry, bool ahead, struct xtc_run *r)
{
	struct xtc_iface_want *want = NULL;
	double t0 = xtc_now();
	int err;

	memset(r, 0, sizeof(*r));
	err = xtc_observe(st, true, &r->ob);
	pr_debug("timing: observe %.3f s\n", xtc_now() - t0);
	if (err)
		return err;
	if (ahead && xtc_ahead_useful(st))
		xtc_ahead_start(&r->ahead, &(struct xtc_objs_opts){
			.max_rules = m->max_rules,
			.max_entries = xtc_plan_max_entries(m, m->n_expanded),
			.malformed_action = XTC_ACT_PASS,
		});
	err = xtc_plan_compile(m, &r->ob, carry, &r->plan);
	if (!err)
		err = xtc_plan_diff_tables(m, &r->ob, &r->plan);
	if (err == -ESTALE) {
		pr_debug("rules: the digests do not say what the kernel holds; comparing every "
			 "entry\n");
		err = xtc_observe_entries(&r->ob);
		if (!err)
			err = xtc_plan_diff_tables(m, &r->ob, &r->plan);
	}
	/* The IP map is small: compared against the kernel as it is written. */
	if (!err && r->ob.tables.exists)
		err = xtc_ipmap_sync(&st->maps, r->plan.ip, r->plan.n_ip, true,
				     &r->plan.ip_changes);
	else if (!err)
		r->plan.ip_changes = r->plan.n_ip;
	if (!err)
		err = xtc_plan_wants_from_model(m, &want);
	if (!err)
		err = xtc_plan_build(want, m->n_ifaces, m->tc_attach, &r->ob, &r->plan);
	if (r->plan.refusal[0])
		pr_warn("%s: %s\n", m->path, r->plan.refusal);
	free(want);
	return err;
}

int xtc_reconcile_plan_rules(struct xtc_model *m, const struct xtc_state *st,
			     const struct xtc_tss_carry *carry, struct xtc_run *r)
{
	double t0 = xtc_now();
	int err;

	memset(r, 0, sizeof(*r));
	err = xtc_observe_tables(st, &r->ob);
	pr_debug("timing: observe the rule tables %.3f s\n", xtc_now() - t0);
	if (err)
		return err;
	r->plan.ip_as_is = true;
	err = xtc_plan_compile(m, &r->ob, carry, &r->plan);
	if (!err)
		err = xtc_plan_diff_tables(m, &r->ob, &r->plan);
	if (!err)
		err = xtc_plan_rule_changes(&r->ob, &r->plan);
	/* A dirty header wants every entry compared: the full pass does that. */
	return err == -ESTALE ? -EAGAIN : err;
}

int xtc_reconcile_plan_unload(const struct xtc_state *st, char *const *names, int n_names,
			      bool all, bool *known, struct xtc_run *r)
{
	struct xtc_iface_want *keep;
	int i, k, n_keep = 0, err;

	memset(r, 0, sizeof(*r));
	err = xtc_observe(st, false, &r->ob);
	if (err)
		return err;
	keep = calloc(r->ob.n_ifs + 1, sizeof(*keep));
	if (!keep)
		return -ENOMEM;
	for (i = 0; i < r->ob.n_ifs; i++) {
		const struct xtc_obs_iface *oi = &r->ob.ifs[i];
		struct xtc_iface_want *w;
		bool named = false;

		for (k = 0; k < n_names; k++)
			if (!strcmp(names[k], oi->name) &&
			    (oi->recorded || xtc_obs_iface_has_ours(oi)))
				named = known[k] = true;
		if ((all || named) && oi->recorded && oi->rec.tc_kind == XTC_TC_KIND_CLS_BPF)
			for (k = 0; k < 2; k++)
				if (oi->tc[k].foreign)
					pr_warn("%s: TC %s: leaving %s at prio %u alone: it is not "
						"xtc's; remove it yourself if it should go (%s)\n",
						oi->name, k ? "egress" : "ingress",
						oi->tc[k].foreign_name, oi->tc[k].prio,
						oi->tc[k].foreign_del);
		if (all || named || !oi->recorded)
			continue;
		/* Kept as it is recorded. */
		w = &keep[n_keep++];
		snprintf(w->name, sizeof(w->name), "%s", oi->name);
		w->ifindex = oi->ifindex;
		w->xdp = oi->rec.flags & XTC_IF_XDP;
		w->xdp_auto = oi->rec.flags & XTC_IF_XDP_AUTO;
		w->xdp_mode = oi->rec.xdp_mode;
		w->xdp_prio = oi->rec.xdp_prio;
		w->tc[0] = oi->rec.flags & XTC_IF_TC_INGRESS;
		w->tc[1] = oi->rec.flags & XTC_IF_TC_EGRESS;
		w->tc_kind = oi->rec.tc_kind;
		w->tc_prio = oi->rec.tc_prio;
	}
	/* Taking xtc away needs no pins: our programs are found in the kernel. */
	r->plan.state_as_is = true;
	err = xtc_plan_build(keep, n_keep, XTC_TC_AUTO, &r->ob, &r->plan);
	free(keep);
	return err;
}

int xtc_reconcile_apply(const struct xtc_model *m, struct xtc_state *st, struct xtc_run *r,
			bool json)
{
	return xtc_apply_plan(m, st, &r->ob, &r->plan, json, &r->ahead);
}

void xtc_run_free(struct xtc_run *r)
{
	if (!r)
		return;
	xtc_ahead_free(&r->ahead);
	xtc_plan_free(&r->plan);
	xtc_observed_free(&r->ob);
}
