// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "entry_table.h"

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

static int table_resize(struct entry_table *t, size_t cap)
{
	struct entry_table n = { .cap = cap };
	size_t i, j;

	n.slots = calloc(n.cap, sizeof(*n.slots));
	n.used = calloc(n.cap, 1);
	if (!n.slots || !n.used) {
		free(n.slots);
		free(n.used);
		return -ENOMEM;
	}
	for (i = 0; i < t->cap; i++) {
		if (!t->used[i])
			continue;
		for (j = entry_key_hash(&t->slots[i].key) & (n.cap - 1); n.used[j]; j = (j + 1) & (n.cap - 1))
			;
		n.slots[j] = t->slots[i];
		n.used[j] = 1;
		n.n++;
	}
	free(t->slots);
	free(t->used);
	*t = n;
	return 0;
}

/* Keeps the lower-priority-number (earlier) rule when a key repeats. */
int entry_table_put(struct entry_table *t, const struct xtc_tss_entry *e)
{
	size_t j;
	int err;

	if ((t->n + 1) * 4 > t->cap * 3) {
		err = table_resize(t, t->cap ? t->cap * 2 : 1024);
		if (err)
			return err;
	}
	for (j = entry_key_hash(&e->key) & (t->cap - 1); t->used[j]; j = (j + 1) & (t->cap - 1)) {
		if (!memcmp(&t->slots[j].key, &e->key, sizeof(e->key))) {
			if (e->val.prio < t->slots[j].val.prio)
				t->slots[j].val = e->val;
			return 0;
		}
	}
	t->slots[j] = *e;
	t->used[j] = 1;
	t->n++;
	return 0;
}

int entry_table_reserve(struct entry_table *t, size_t n)
{
	size_t cap = 1024;

	while (cap * 3 < n * 4 + 4)
		cap *= 2;
	return cap > t->cap ? table_resize(t, cap) : 0;
}

const struct xtc_rule_val *entry_table_get(const struct entry_table *t,
					   const struct xtc_flow_key *key)
{
	size_t j;

	if (!t->cap)
		return NULL;
	for (j = entry_key_hash(key) & (t->cap - 1); t->used[j]; j = (j + 1) & (t->cap - 1))
		if (!memcmp(&t->slots[j].key, key, sizeof(*key)))
			return &t->slots[j].val;
	return NULL;
}

void entry_table_free(struct entry_table *t)
{
	free(t->slots);
	free(t->used);
	memset(t, 0, sizeof(*t));
}
