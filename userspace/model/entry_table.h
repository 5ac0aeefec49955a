/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A set of (flow key -> rule value) entries, used by the rule compiler and
 * by the diff against what the kernel holds.  The entries lie in one array
 * in insertion order (what is written to the kernel, without a copy); a
 * separate open-addressing index of 8-byte slots finds them by key, so a
 * probe that misses touches the index only.
 */
#ifndef XTC_ENTRY_TABLE_H
#define XTC_ENTRY_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include "xtc_shared.h"

_Static_assert(sizeof(struct xtc_flow_key) % 8 == 0, "the hash reads the key in words");

struct xtc_tss_entry {
	struct xtc_flow_key key;
	struct xtc_rule_val val;
};

struct entry_table {
	struct xtc_tss_entry *e;	/* n entries, in the order they were first put */
	size_t n, cap_e;
	__u64 *slot;			/* cap slots: 0 empty, else hash high bits | index + 1 */
	size_t cap;			/* a power of two */
};

/* The hash the table uses, for other tables of flow keys. */
__u64 entry_key_hash(const struct xtc_flow_key *k);
/* Inserts e; when the key is present, keeps the value with the lower prio. */
int entry_table_put(struct entry_table *t, const struct xtc_tss_entry *e);
/* The same with the key's entry_key_hash() already known. */
int entry_table_put_hashed(struct entry_table *t, const struct xtc_tss_entry *e, __u64 h);
/* Makes room for n entries at once, so that filling never rehashes. */
int entry_table_reserve(struct entry_table *t, size_t n);
const struct xtc_rule_val *entry_table_get(const struct entry_table *t,
					   const struct xtc_flow_key *key);
void entry_table_free(struct entry_table *t);
/*
 * Frees the index: the entries stay, to be read as an array, and get() is
 * not to be called (entry_table_has_index() says) until entry_table_reindex().
 */
void entry_table_drop_index(struct entry_table *t);
int entry_table_reindex(struct entry_table *t);
static inline bool entry_table_has_index(const struct entry_table *t)
{
	return t->cap || !t->n;
}

#endif
