// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tss.h"
#include "entry_table.h"

int xtc_port_prefixes(__u16 lo, __u16 hi, __u16 *vals, __u16 *masks)
{
	__u32 cur = lo, end = hi;
	int n = 0;

	while (cur <= end) {
		__u32 size = cur ? (cur & -cur) : 0x10000;

		while (cur + size - 1 > end)
			size >>= 1;
		vals[n] = cur;
		masks[n] = (__u16)~(size - 1);
		n++;
		cur += size;
	}
	return n;
}

static void prefix_mask(__u8 *mask, int bytes, int plen)
{
	int i;

	for (i = 0; i < bytes; i++) {
		int bits = plen - i * 8;

		mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

/* The shape and value every expansion of a rule shares; ports come later. */
static void rule_base(const struct xtc_rule *r, struct xtc_flow_key *mask,
		      struct xtc_flow_key *val)
{
	int alen = r->family == XTC_FAMILY_V6 ? 16 : 4;

	memset(mask, 0, sizeof(*mask));
	memset(val, 0, sizeof(*val));
	mask->dir = 0xff;
	val->dir = r->dir;
	if (r->ifindex) {
		mask->ifindex = 0xffffffff;
		val->ifindex = r->ifindex;
	}
	if (r->family) {
		mask->family = 0xff;
		val->family = r->family;
	}
	if (r->has_proto) {
		mask->proto = 0xff;
		val->proto = r->proto;
	}
	if (r->has_src) {
		prefix_mask((__u8 *)mask->src, alen, r->src.plen);
		memcpy(val->src, r->src.addr, alen);
	}
	if (r->has_dst) {
		prefix_mask((__u8 *)mask->dst, alen, r->dst.plen);
		memcpy(val->dst, r->dst.addr, alen);
	}
	if (r->has_sport || r->has_dport) {
		mask->flags = XTC_KF_L4;
		val->flags = XTC_KF_L4;
	}
}

static int mask_find(struct xtc_tss *t, const struct xtc_flow_key *mask)
{
	int i;

	for (i = 0; i < t->n_masks; i++) {
		struct xtc_flow_key m = t->masks[i].mask;

		m.mask_id = 0;
		if (!memcmp(&m, mask, sizeof(m)))
			return i;
	}
	return -1;
}

static bool id_taken(const struct xtc_tss *t, const struct xtc_mask_list *prev, __u16 id)
{
	__u32 i;
	int j;

	for (j = 0; j < t->n_masks; j++)
		if (t->masks[j].mask.mask_id == id)
			return true;
	for (i = 0; prev && i < prev->count && i < XTC_MAX_MASKS; i++)
		if (prev->ent[i].mask.mask_id == id)
			return true;
	return false;
}

static __u16 mask_id_for(const struct xtc_tss *t, const struct xtc_mask_list *prev,
			 const struct xtc_flow_key *mask)
{
	__u16 id;
	__u32 i;

	for (i = 0; prev && i < prev->count && i < XTC_MAX_MASKS; i++) {
		struct xtc_flow_key m = prev->ent[i].mask;

		m.mask_id = 0;
		if (!memcmp(&m, mask, sizeof(m)))
			return prev->ent[i].mask.mask_id;
	}
	for (id = 0; id_taken(t, prev, id); id++)
		;
	return id;
}

/* Adds one expansion; returns the mask slot or a negative errno. */
static int add_shape(struct xtc_tss *t, const struct xtc_mask_list *prev,
		     const struct xtc_flow_key *mask)
{
	int i = mask_find(t, mask);

	if (i >= 0)
		return i;
	if (t->n_masks >= XTC_MAX_MASKS)
		return -E2BIG;
	i = t->n_masks++;
	t->masks[i].mask = *mask;
	t->masks[i].mask.mask_id = mask_id_for(t, prev, mask);
	t->masks[i].min_prio = ~0U;
	return i;
}

static int add_rule(struct xtc_tss *t, struct entry_table *tab, const struct xtc_rule *r,
		    const struct xtc_mask_list *prev)
{
	__u16 sv[32], sm[32], dv[32], dm[32];
	struct xtc_flow_key bmask, bval;
	int ns = 1, nd = 1, i, j, w, err;

	rule_base(r, &bmask, &bval);
	sv[0] = sm[0] = dv[0] = dm[0] = 0;
	if (r->has_sport)
		ns = xtc_port_prefixes(r->sport.lo, r->sport.hi, sv, sm);
	if (r->has_dport)
		nd = xtc_port_prefixes(r->dport.lo, r->dport.hi, dv, dm);

	for (i = 0; i < ns; i++) {
		for (j = 0; j < nd; j++) {
			struct xtc_tss_entry e = { .key = bval };
			struct xtc_flow_key mask = bmask;
			__u32 *kw = (__u32 *)&e.key;
			const __u32 *mw = (const __u32 *)&mask;
			int slot;

			mask.sport = sm[i];
			mask.dport = dm[j];
			e.key.sport = sv[i];
			e.key.dport = dv[j];
			for (w = 0; w < (int)(sizeof(mask) / 4); w++)
				kw[w] &= mw[w];
			slot = add_shape(t, prev, &mask);
			if (slot < 0)
				return slot;
			e.key.mask_id = t->masks[slot].mask.mask_id;
			e.val.prio = r->prio;
			e.val.rule_id = r->id;
			e.val.action = r->action;
			e.val.mode = r->mode;
			e.val.target_ifindex = r->target_auto ? XTC_TARGET_AUTO : r->target_ifindex;
			err = entry_table_put(tab, &e);
			if (err)
				return err;
		}
	}
	return 0;
}

static __u8 entry_families(const struct xtc_flow_key *k)
{
	return k->family == XTC_FAMILY_V4 ? XTC_FB_V4 :
	       k->family == XTC_FAMILY_V6 ? XTC_FB_V6 : XTC_FB_V4 | XTC_FB_V6;
}

/* How many entries the rules expand to, before shadowed ones are merged. */
static size_t count_entries(const struct xtc_rule *rules, int n_rules)
{
	__u16 v[32], m[32];
	size_t total = 0;
	int r;

	for (r = 0; r < n_rules; r++) {
		size_t ns = 1, nd = 1;

		if (rules[r].has_sport)
			ns = xtc_port_prefixes(rules[r].sport.lo, rules[r].sport.hi, v, m);
		if (rules[r].has_dport)
			nd = xtc_port_prefixes(rules[r].dport.lo, rules[r].dport.hi, v, m);
		total += ns * nd;
	}
	return total;
}

static int cmp_mask(const void *a, const void *b)
{
	const struct xtc_mask_ent *x = a, *y = b;

	if (x->min_prio != y->min_prio)
		return x->min_prio < y->min_prio ? -1 : 1;
	return (int)x->mask.mask_id - (int)y->mask.mask_id;
}

int xtc_tss_build(const struct xtc_rule *rules, int n_rules,
		  const struct xtc_mask_list *prev, struct xtc_tss *t)
{
	struct entry_table tab = {};
	unsigned char *slot_of = NULL;	/* mask id -> index in t->masks */
	size_t i;
	int r, m, err = 0;

	memset(t, 0, sizeof(*t));
	err = entry_table_reserve(&tab, count_entries(rules, n_rules));
	if (err)
		goto out;
	for (r = 0; r < n_rules; r++) {
		err = add_rule(t, &tab, &rules[r], prev);
		if (err) {
			if (err == -E2BIG)
				t->overflow_rule = &rules[r];
			goto out;
		}
	}

	t->entries = malloc((tab.n ? tab.n : 1) * sizeof(*t->entries));
	if (!t->entries) {
		err = -ENOMEM;
		goto out;
	}
	slot_of = malloc(65536 * sizeof(*slot_of));
	if (!slot_of) {
		err = -ENOMEM;
		goto out;
	}
	for (m = 0; m < t->n_masks; m++)
		slot_of[t->masks[m].mask.mask_id] = m;
	for (i = 0; i < tab.cap; i++) {
		struct xtc_mask_ent *me;

		if (!tab.used[i])
			continue;
		t->entries[t->n_entries++] = tab.slots[i];
		me = &t->masks[slot_of[tab.slots[i].key.mask_id]];
		if (tab.slots[i].val.prio < me->min_prio)
			me->min_prio = tab.slots[i].val.prio;
		me->families |= entry_families(&tab.slots[i].key);
		me->protos |= me->mask.proto ? xtc_proto_bit(tab.slots[i].key.proto) : XTC_PB_ALL;
	}
	qsort(t->masks, t->n_masks, sizeof(t->masks[0]), cmp_mask);
out:
	free(slot_of);
	if (err) {
		entry_table_free(&tab);
		xtc_tss_free(t);
	} else {
		t->set = tab;
	}
	return err;
}

void xtc_tss_free(struct xtc_tss *t)
{
	if (!t)
		return;
	free(t->entries);
	entry_table_free(&t->set);
	t->entries = NULL;
	t->n_entries = 0;
	t->n_masks = 0;
}
