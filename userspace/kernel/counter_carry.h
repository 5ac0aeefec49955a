/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XTC_COUNTER_CARRY_H
#define XTC_COUNTER_CARRY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/*
 * Counters that move from a per-CPU map of an old layout to its successor
 * in an upgrade.  Counter structs are all __u64 fields and a new layout
 * only appends to them, so the words both layouts have are carried; the
 * rest start at zero.  begin copies what the old map holds into the new
 * one before any program uses it; finish, once every program has moved,
 * adds what the old programs counted in between.
 */
/*
 * A map whose key changed with its layout: the new key of an old one, or
 * false when that entry has no successor (its counters start again).
 */
typedef bool (*xtc_carry_rekey_fn)(const void *old_key, __u32 old_key_size, void *new_key,
				   void *ctx);

struct xtc_carry_map {
	int old_fd, new_fd;		/* borrowed */
	__u32 key_size, n;
	void *keys;			/* n keys */
	__u32 new_key_size;
	void *new_keys;			/* n keys of the new map; NULL: the same as keys */
	__u64 *base;			/* n x CPUs x old words: the old values at begin */
	size_t old_stride, new_stride;	/* __u64 words per CPU */
	size_t words;			/* carried per CPU */
};

/*
 * Array maps: the keys are ids (NULL, n 0: none).  Hash maps: every key present.
 * rekey (or NULL): how keys of an old map of another type or key size map to
 * the new map's; without it such counters start again.
 */
int xtc_carry_begin(struct xtc_carry_map *c, int old_fd, int new_fd, const __u32 *ids,
		    size_t n_ids, xtc_carry_rekey_fn rekey, void *ctx);
int xtc_carry_finish(struct xtc_carry_map *c);
void xtc_carry_free(struct xtc_carry_map *c);

#endif
