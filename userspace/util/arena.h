/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Strings that all die together (a rule file's keys and values, a plan's
 * rule names), carved out of large chunks: a million short strings then
 * cost a million copies, not a million mallocs of 32 bytes each.
 */
#ifndef XTC_ARENA_H
#define XTC_ARENA_H

#include <stddef.h>

struct xtc_arena {
	char **chunks;
	size_t n_chunks, cap_chunks;
	char *pos;			/* free space in the newest chunk */
	size_t left;
};

/* A copy of n bytes of s, NUL-terminated, that lives until xtc_arena_free(); NULL: no memory. */
char *xtc_arena_strndup(struct xtc_arena *a, const char *s, size_t n);
char *xtc_arena_strdup(struct xtc_arena *a, const char *s);
void xtc_arena_free(struct xtc_arena *a);

#endif
