// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "plan_memo.h"
#include "rule_info.h"
#include "tables.h"

void xtc_kernel_memo_free(struct xtc_kernel_memo *k)
{
	free(k->mm.ids);
	free(k->mm.digests);
	free(k->mm.rule_masks);
	free(k->idx);
	free(k->was);
}

int xtc_kernel_memo(const struct xtc_model *m, const struct xtc_observed *ob,
		    const struct xtc_rule_table *want, bool masks,
		    struct xtc_kernel_memo *k)
{
	const struct xtc_tables_obs *o = &ob->tables;
	const struct xtc_rule_table *have = &o->rules;
	__u32 used = 0, id;
	int r, n = 0;

	memset(k, 0, sizeof(*k));
	if (!o->exists || o->have_entries || !xtc_tables_digests_trusted(o) ||
	    o->live.count > XTC_MAX_MASKS || !m->n_rules)
		return -ESTALE;
	for (id = 0; id < have->n; id++)
		used += xtc_rule_table_used(have, id);
	if (used != (__u32)m->n_rules)
		return -ESTALE;
	k->mm.n_rules = m->n_rules;
	k->mm.n_masks = o->live.count;
	memcpy(k->mm.masks, o->live.ent, o->live.count * sizeof(o->live.ent[0]));
	xtc_port_lens_of_list(k->mm.masks, k->mm.n_masks, &k->mm.lens);
	k->mm.ids = malloc(m->n_rules * sizeof(*k->mm.ids));
	k->mm.digests = malloc(m->n_rules * sizeof(*k->mm.digests));
	k->mm.rule_masks = masks ? calloc(m->n_rules, sizeof(*k->mm.rule_masks)) : NULL;
	if (!k->mm.ids || !k->mm.digests || (masks && !k->mm.rule_masks))
		return -ENOMEM;
	for (r = 0; r < m->n_rules; r++) {
		id = m->rules[r].id;
		if (id + 1 >= o->n_digests || !xtc_rule_table_used(have, id))
			return -ESTALE;		/* a rule new to the kernel */
		k->mm.ids[r] = id;
		k->mm.digests[r] = o->digests[id + 1];
		if (masks && xtc_tss_rule_mask_bits(&m->rules[r], o->live.ent, o->live.count,
						    &k->mm.lens, &k->mm.rule_masks[r]))
			k->mm.rule_masks[r] = ~0ULL;	/* a changed rule: redone below */
		n += !xtc_rule_table_same(have, want, id);
	}
	k->idx = malloc((n ? n : 1) * sizeof(*k->idx));
	k->was = calloc(n ? n : 1, sizeof(*k->was));
	if (!k->idx || !k->was)
		return -ENOMEM;
	for (r = 0; r < m->n_rules && k->carry.n < n; r++) {
		id = m->rules[r].id;
		if (xtc_rule_table_same(have, want, id))
			continue;
		if (xtc_rule_from_info(&have->info[id], NULL, &k->was[k->carry.n]))
			return -ESTALE;		/* it had sets: their elements are not at hand */
		k->was[k->carry.n].id = id;
		k->idx[k->carry.n++] = r;
	}
	k->carry.memo = &k->mm;
	k->carry.idx = k->idx;
	k->carry.was = k->was;
	return 0;
}

