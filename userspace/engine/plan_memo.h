/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A compile carried from what the kernel records, for a run without a memo
 * of its own (every `xtc apply`).  The kernel's mask list keeps the id of
 * every shape that a rule still uses, and a rule's entries follow from its
 * record (xtc_rule_from_info() gives it back) and those ids: so a rule whose
 * record is the same as the file's has the entries, and the digest, that
 * the kernel records for it.  Only the rules whose records differ are
 * expanded, through xtc_tss_compile_carried(), which also checks that they
 * touch the shapes as they did.  -ESTALE (compile in full) when rules came
 * or went, a changed rule's record has sets, or the digests are not trusted.
 */
#ifndef XTC_PLAN_MEMO_H
#define XTC_PLAN_MEMO_H

#include <stdbool.h>
#include "model.h"
#include "observe.h"
#include "rule_table.h"
#include "tss.h"

struct xtc_kernel_memo {
	struct xtc_tss_memo mm;
	struct xtc_tss_carry carry;
	int *idx;
	struct xtc_rule *was;
};

/* k.carry for xtc_tss_compile_carried(); masks: with every rule's mask bits (a daemon's memo). */
int xtc_kernel_memo(const struct xtc_model *m, const struct xtc_observed *ob,
		    const struct xtc_rule_table *want, bool masks, struct xtc_kernel_memo *k);
/* Frees what k holds, whether xtc_kernel_memo() succeeded or not. */
void xtc_kernel_memo_free(struct xtc_kernel_memo *k);

#endif
