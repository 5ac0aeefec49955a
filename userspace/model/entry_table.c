// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "entry_table.h"

#define IDX_BITS 32
#define IDX_MASK ((1ULL << IDX_BITS) - 1)

/* Word-wise multiply-xorshift: fast, and its low bits (the slot) are well mixed. */
__u64 entry_key_hash(const struct xtc_flow_key *k)
{
	__u64 w[sizeof(*k) / 8], h = 0x9e3779b97f4a7c15ULL;
	size_t i;

	memcpy(w, k, sizeof(w));
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 32);
}

/* The slot word: the hash's high half (a cheap first compare) and the index + 1. */
static __u64 slot_word(__u64 h, size_t i)
{
	return (h & ~IDX_MASK) | (__u64)(i + 1);
}

static int index_resize(struct entry_table *t, size_t cap)
{
	__u64 *slot = calloc(cap, sizeof(*slot));
	size_t i, j;

	if (!slot)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		__u64 h = entry_key_hash(&t->e[i].key);

		for (j = h & (cap - 1); slot[j]; j = (j + 1) & (cap - 1))
			;
		slot[j] = slot_word(h, i);
	}
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return 0;
}

static int entries_grow(struct entry_table *t, size_t n)
{
	struct xtc_tss_entry *e;

	if (n <= t->cap_e)
		return 0;
	e = realloc(t->e, n * sizeof(*e));
	if (!e)
		return -ENOMEM;
	t->e = e;
	t->cap_e = n;
	return 0;
}

int entry_table_put(struct entry_table *t, const struct xtc_tss_entry *e)
{
	return entry_table_put_hashed(t, e, entry_key_hash(&e->key));
}

/* Keeps the lower-priority-number (earlier) rule when a key repeats. */
int entry_table_put_hashed(struct entry_table *t, const struct xtc_tss_entry *e, __u64 h)
{
	__u64 s;
	size_t j;
	int err;

	if (t->n >= IDX_MASK - 1)
		return -E2BIG;
	if ((t->n + 1) * 4 > t->cap * 3) {
		err = index_resize(t, t->cap ? t->cap * 2 : 1024);
		if (err)
			return err;
	}
	for (j = h & (t->cap - 1); (s = t->slot[j]); j = (j + 1) & (t->cap - 1)) {
		struct xtc_tss_entry *x;

		if ((s ^ h) & ~IDX_MASK)
			continue;
		x = &t->e[(s & IDX_MASK) - 1];
		if (!memcmp(&x->key, &e->key, sizeof(e->key))) {
			if (e->val.prio < x->val.prio)
				x->val = e->val;
			return 0;
		}
	}
	if (t->n == t->cap_e) {
		err = entries_grow(t, t->cap_e ? t->cap_e * 2 : 1024);
		if (err)
			return err;
	}
	t->e[t->n] = *e;
	t->slot[j] = slot_word(h, t->n);
	t->n++;
	return 0;
}

int entry_table_reserve(struct entry_table *t, size_t n)
{
	size_t cap = 1024;
	int err;

	while (cap * 3 < n * 4 + 4)
		cap *= 2;
	/* Untouched tail pages of a large array cost no memory. */
	err = entries_grow(t, n);
	if (!err && cap > t->cap)
		err = index_resize(t, cap);
	return err;
}

const struct xtc_rule_val *entry_table_get(const struct entry_table *t,
					   const struct xtc_flow_key *key)
{
	__u64 h, s;
	size_t j;

	if (!t->cap)
		return NULL;
	h = entry_key_hash(key);
	for (j = h & (t->cap - 1); (s = t->slot[j]); j = (j + 1) & (t->cap - 1)) {
		const struct xtc_tss_entry *x;

		if ((s ^ h) & ~IDX_MASK)
			continue;
		x = &t->e[(s & IDX_MASK) - 1];
		if (!memcmp(&x->key, key, sizeof(*key)))
			return &x->val;
	}
	return NULL;
}

void entry_table_drop_index(struct entry_table *t)
{
	free(t->slot);
	t->slot = NULL;
	t->cap = 0;
}

int entry_table_reindex(struct entry_table *t)
{
	size_t cap;

	if (entry_table_has_index(t))
		return 0;
	for (cap = 1024; cap * 3 < t->n * 4 + 4; cap *= 2)
		;
	return index_resize(t, cap);
}

void entry_table_free(struct entry_table *t)
{
	free(t->e);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}
