/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * apply: carries a plan out.  Every step is ordered so that a kill at any
 * instant leaves a kernel that the next observe recognises and the next
 * plan repairs: our objects are recognisable without their records (see
 * kernel/owner.h), records that the datapath trusts are written only once
 * what they describe is there, and records of what is going away are
 * withdrawn before it goes.  A step that fails makes apply undo the steps
 * before it, from the observation that planning used.  Each kernel-changing
 * step passes a failpoint (util/failpoint.h) for the crash tests.
 */
#ifndef XTC_APPLY_H
#define XTC_APPLY_H

#include "ahead.h"
#include "model.h"
#include "observe.h"
#include "plan.h"
#include "state.h"

/*
 * m: the file, for the rules side and the map sizes (NULL when only
 * interfaces change, as for unload).  json: no progress lines on stdout.
 * ahead, or NULL: objects loaded ahead, taken if a new state needs them.
 */
int xtc_apply_plan(const struct xtc_model *m, struct xtc_state *st,
		   struct xtc_observed *ob, struct xtc_plan *p, bool json,
		   struct xtc_ahead *ahead);

#endif
