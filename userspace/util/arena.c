// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "arena.h"

#define CHUNK_SIZE (256 * 1024)

char *xtc_arena_strndup(struct xtc_arena *a, const char *s, size_t n)
{
	size_t len = n + 1;
	char *p;

	if (len > a->left) {
		size_t size = len > CHUNK_SIZE ? len : CHUNK_SIZE;

		if (a->n_chunks == a->cap_chunks) {
			size_t cap = a->cap_chunks ? 2 * a->cap_chunks : 16;
			char **c = realloc(a->chunks, cap * sizeof(*c));

			if (!c)
				return NULL;
			a->chunks = c;
			a->cap_chunks = cap;
		}
		p = malloc(size);
		if (!p)
			return NULL;
		a->chunks[a->n_chunks++] = p;
		a->pos = p;
		a->left = size;
	}
	p = a->pos;
	memcpy(p, s, n);
	p[n] = '\0';
	a->pos += len;
	a->left -= len;
	return p;
}

char *xtc_arena_strdup(struct xtc_arena *a, const char *s)
{
	return xtc_arena_strndup(a, s, strlen(s));
}

void xtc_arena_free(struct xtc_arena *a)
{
	size_t i;

	for (i = 0; i < a->n_chunks; i++)
		free(a->chunks[i]);
	free(a->chunks);
	memset(a, 0, sizeof(*a));
}
