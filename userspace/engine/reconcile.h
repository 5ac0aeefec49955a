/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The reconciler, level-triggered like a Kubernetes controller: observe
 * the kernel, plan (pure) against what is wanted, apply.  Every call starts
 * from a fresh observation, so it can run any number of times in one
 * process and each run repairs whatever the last one, or anyone, left.
 */
#ifndef XTC_RECONCILE_H
#define XTC_RECONCILE_H

#include "apply.h"
#include "model.h"
#include "observe.h"
#include "plan.h"
#include "state.h"

struct xtc_run {
	struct xtc_observed ob;
	struct xtc_plan plan;
	struct xtc_ahead ahead;		/* a state from nothing: its objects, loading */
};

/*
 * Observes and plans for the file m (it gives rules their ids); carry, or
 * NULL, is what the last compile of m's rules left (xtc_plan_compile()).
 * ahead: the plan will be carried out (not a dry run), so when nothing of
 * ours exists yet, the objects of the new state load while it is made.
 */
int xtc_reconcile_plan(struct xtc_model *m, const struct xtc_state *st,
		       const struct xtc_tss_carry *carry, bool ahead, struct xtc_run *r);

/*
 * The same for the rule tables alone, when nothing but what rules match
 * changed (a daemon's patched reload): the state directory and the tables
 * are observed, the interfaces and the IP map left as they are.  -EAGAIN
 * when the state needs more (xtc_observe_tables()): run the full pass.  A
 * full pass should follow anyway: only it sees what drifted elsewhere.
 */
int xtc_reconcile_plan_rules(struct xtc_model *m, const struct xtc_state *st,
			     const struct xtc_tss_carry *carry, struct xtc_run *r);

/*
 * Observes and plans the removal of xtc from interfaces: the named ones, or
 * with all, every interface where anything of ours is, recorded or not.
 * *unknown counts the names that xtc does not manage.
 */
int xtc_reconcile_plan_unload(const struct xtc_state *st, char *const *names, int n_names,
			      bool all, bool *known, struct xtc_run *r);

/* Carries the plan out (m NULL for unload). */
int xtc_reconcile_apply(const struct xtc_model *m, struct xtc_state *st, struct xtc_run *r,
			bool json);

void xtc_run_free(struct xtc_run *r);

#endif
