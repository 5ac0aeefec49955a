/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Carrying out a plan, all or nothing: every step that succeeded is undone
 * in reverse order when a later one fails. */
#ifndef XTC_APPLY_H
#define XTC_APPLY_H

#include "model.h"
#include "plan.h"
#include "state.h"

/* json: no progress lines on stdout, which then holds only the JSON document. */
int xtc_apply_plan(const struct xtc_model *m, struct xtc_state *st, struct xtc_plan *p,
		   bool json);

/* Removes xtc from one interface (unload); forget drops its state entry. */
int xtc_iface_remove(struct xtc_state *st, const struct xtc_iface_cfg *cur, __u32 ifindex);

#endif
