// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A compile kept across a daemon's reloads.  A compile against the kernel's
 * live mask list gives every shape the id that list has, and works out each
 * shape's best priority, families and protocols from every rule.  When the
 * live list is the memo's own (what the apply after it wrote) and each
 * changed rule touches the same shapes with the same families and protocols
 * as it did (its priority is the same), all of that is the memo's, and so
 * is the digest of every other rule whose id stayed: only the changed rules
 * and those whose ids moved are expanded again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tss.h"

void xtc_tss_memo_free(struct xtc_tss_memo *mm)
{
	free(mm->ids);
	free(mm->digests);
	free(mm->rule_masks);
	memset(mm, 0, sizeof(*mm));
}

int xtc_tss_memo_keep(struct xtc_tss_memo *mm, struct xtc_tss *t, const struct xtc_rule *rules,
		      int n_rules)
{
	int r;

	xtc_tss_memo_free(mm);
	if (!t->digests || !t->rule_masks || n_rules <= 0)
		return -ENOENT;
	mm->ids = malloc((size_t)n_rules * sizeof(*mm->ids));
	if (!mm->ids)
		return -ENOMEM;
	for (r = 0; r < n_rules; r++)
		mm->ids[r] = rules[r].id;
	mm->digests = t->digests;
	mm->rule_masks = t->rule_masks;
	t->digests = NULL;
	t->rule_masks = NULL;
	memcpy(mm->masks, t->masks, (size_t)t->n_masks * sizeof(t->masks[0]));
	mm->n_masks = t->n_masks;
	mm->lens = t->lens;
	mm->n_rules = n_rules;
	return 0;
}

/* What one rule's entries add to the shapes of a fixed list. */
struct touch {
	const struct xtc_mask_ent *masks;
	int n_masks;
	__u8 used[XTC_MAX_MASKS], families[XTC_MAX_MASKS], protos[XTC_MAX_MASKS];
	__u64 bits;			/* as xtc_tss.rule_masks holds them */
};

static int touch_entry(void *ctx, const struct xtc_tss_entry *e)
{
	struct touch *t = ctx;
	int s;

	for (s = 0; s < t->n_masks && t->masks[s].mask.mask_id != e->key.mask_id; s++)
		;
	if (s == t->n_masks)
		return -ESTALE;
	t->used[s] = 1;
	t->families[s] |= xtc_tss_entry_families(&e->key);
	t->protos[s] |= t->masks[s].mask.proto ? xtc_proto_bit(e->key.proto) : XTC_PB_ALL;
	t->bits |= e->key.mask_id < 64 ? 1ULL << e->key.mask_id : ~0ULL;
	return 0;
}

static int touch_of(const struct xtc_rule *r, const struct xtc_tss_memo *mm, struct touch *t)
{
	memset(t, 0, sizeof(*t));
	t->masks = mm->masks;
	t->n_masks = mm->n_masks;
	return xtc_tss_rule_entries_in(r, mm->masks, mm->n_masks, &mm->lens, touch_entry, t);
}

/* Rule r's digest and mask bits in t, against the memo's shapes. */
static int redo(const struct xtc_rule *r, const struct xtc_tss_memo *mm, struct touch *scratch,
		struct xtc_tss *t, int at)
{
	int err = touch_of(r, mm, scratch);

	if (!err)
		err = xtc_tss_rule_digest(r, mm->masks, mm->n_masks, &mm->lens, &t->digests[at]);
	if (t->rule_masks)
		t->rule_masks[at] = scratch->bits;
	return err;
}

int xtc_tss_compile_carried(const struct xtc_rule *rules, int n_rules,
			    const struct xtc_mask_list *prev, const struct xtc_tss_carry *carry,
			    struct xtc_tss *t)
{
	const struct xtc_tss_memo *mm = carry ? carry->memo : NULL;
	struct xtc_port_lens want;
	struct touch *a = NULL, *b = NULL;
	int i, r, err = -ESTALE;

	memset(t, 0, sizeof(*t));
	if (!mm || !mm->n_rules || mm->n_rules != n_rules || !prev ||
	    prev->count != (__u32)mm->n_masks ||
	    memcmp(prev->ent, mm->masks, (size_t)mm->n_masks * sizeof(mm->masks[0])))
		return -ESTALE;
	/* Port ranges cut otherwise than the memo's (port_lens.h) change unchanged rules too. */
	xtc_port_lens_choose(rules, n_rules, XTC_PORT_CUT_BUDGET, XTC_PORT_SPANS_MAX, &want);
	if (!xtc_port_lens_equal(&want, &mm->lens))
		return -ESTALE;
	a = malloc(sizeof(*a));
	b = malloc(sizeof(*b));
	if (!a || !b) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < carry->n; i++) {
		const struct xtc_rule *was = &carry->was[i];
		int x = carry->idx[i];

		if (x < 0 || x >= n_rules || rules[x].prio != was->prio ||
		    touch_of(was, mm, a) || touch_of(&rules[x], mm, b) ||
		    memcmp(a->used, b->used, sizeof(a->used)) ||
		    memcmp(a->families, b->families, sizeof(a->families)) ||
		    memcmp(a->protos, b->protos, sizeof(a->protos)))
			goto out;
	}
	t->digests = malloc((size_t)n_rules * sizeof(*t->digests));
	/* A memo from the kernel's records has none: the plan finds a rule's when it needs them. */
	t->rule_masks = mm->rule_masks ? malloc((size_t)n_rules * sizeof(*t->rule_masks)) : NULL;
	if (!t->digests || (mm->rule_masks && !t->rule_masks)) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(t->digests, mm->digests, (size_t)n_rules * sizeof(*t->digests));
	if (t->rule_masks)
		memcpy(t->rule_masks, mm->rule_masks, (size_t)n_rules * sizeof(*t->rule_masks));
	memcpy(t->masks, mm->masks, (size_t)mm->n_masks * sizeof(mm->masks[0]));
	t->n_masks = mm->n_masks;
	t->lens = mm->lens;
	for (i = 0; i < carry->n; i++)
		if (redo(&rules[carry->idx[i]], mm, a, t, carry->idx[i]))
			goto out;
	for (r = 0; r < n_rules; r++)
		if (rules[r].id != mm->ids[r] && redo(&rules[r], mm, a, t, r))
			goto out;
	for (r = 0; r < n_rules; r++)
		t->n_expanded += t->digests[r].n;
	err = 0;
out:
	if (err)
		xtc_tss_free(t);
	free(a);
	free(b);
	return err;
}
