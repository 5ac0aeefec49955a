/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XTC_COUNTER_CARRY_H
#define XTC_COUNTER_CARRY_H

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
struct xtc_carry_map {
	int old_fd, new_fd;		/* borrowed */
	__u32 key_size, n;
	void *keys;			/* n keys */
	__u64 *base;			/* n x CPUs x old words: the old values at begin */
	size_t old_stride, new_stride;	/* __u64 words per CPU */
	size_t words;			/* carried per CPU */
};

/* Array maps: the keys are ids (NULL, n 0: none).  Hash maps: every key present. */
int xtc_carry_begin(struct xtc_carry_map *c, int old_fd, int new_fd, const __u32 *ids,
		    size_t n_ids);
int xtc_carry_finish(struct xtc_carry_map *c);
void xtc_carry_free(struct xtc_carry_map *c);

#endif
