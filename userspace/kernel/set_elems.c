// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "log.h"
#include "rule_info.h"
#include "set_elems.h"

#define BATCH 4096

/* One set in use: its key prefix (digest, size), and the set itself when wanted. */
struct group {
	__u64 digest;
	__u32 size;
	const struct xtc_set *set;
};

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->digest != y->digest)
		return x->digest < y->digest ? -1 : 1;
	return (x->size > y->size) - (x->size < y->size);
}

static void elem_of(const struct xtc_set *set, __u32 k, struct xtc_set_elem *e)
{
	memset(e, 0, sizeof(*e));
	e->ports = set->ports;
	if (set->ports) {
		e->lo = set->ports_r[k].lo;
		e->hi = set->ports_r[k].hi;
		return;
	}
	e->family = set->prefixes[k].family;
	e->plen = set->prefixes[k].plen;
	memcpy(e->addr, set->prefixes[k].addr, sizeof(e->addr));
}

/* The distinct sets the rules use, sorted for lookups. */
static int wanted(const struct xtc_model *model, struct group **out, size_t *n)
{
	size_t k = 0, i, j, uses = 0;
	struct group *g;
	int r;

	/* Most rules use no set: room for the uses there are, not four per rule. */
	for (r = 0; r < model->n_rules; r++) {
		const struct xtc_rule *ru = &model->rules[r];

		uses += !!ru->src_set + !!ru->dst_set + !!ru->sport_set + !!ru->dport_set;
	}
	g = calloc(uses + 1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	for (r = 0; r < model->n_rules; r++) {
		const struct xtc_rule *ru = &model->rules[r];
		const struct xtc_set *sets[] = { ru->src_set, ru->dst_set, ru->sport_set,
						 ru->dport_set };

		for (i = 0; i < XTC_RM_SET_N; i++) {
			if (!sets[i])
				continue;
			g[k].set = sets[i];
			g[k].size = sets[i]->ports ? sets[i]->n_ports : sets[i]->n_prefixes;
			g[k++].digest = xtc_set_digest(sets[i]);
		}
	}
	qsort(g, k, sizeof(*g), cmp_group);
	for (i = j = 0; i < k; i++)
		if (!j || cmp_group(&g[j - 1], &g[i]))
			g[j++] = g[i];
	*out = g;
	*n = j;
	return 0;
}

/* Written last element last: when that one is there, the whole set is. */
static int write_group(int fd, const struct group *g)
{
	struct xtc_set_elem_key *keys = calloc(BATCH, sizeof(*keys));
	struct xtc_set_elem *vals = calloc(BATCH, sizeof(*vals));
	__u32 k = 0, cnt, i;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (k < g->size && !err) {
		for (cnt = 0; k + cnt < g->size && cnt < BATCH; cnt++) {
			keys[cnt] = (struct xtc_set_elem_key){ g->digest, g->size, k + cnt };
			elem_of(g->set, k + cnt, &vals[cnt]);
		}
		i = cnt;
		if (bpf_map_update_batch(fd, keys, vals, &i, NULL))
			err = -errno;
		k += cnt;
	}
out:
	free(keys);
	free(vals);
	return err;
}

struct stale {
	const struct group *want;
	size_t n_want;
	struct xtc_set_elem_key *keys;
	size_t n, cap;
};

/* Notes a key that belongs to no wanted set. */
static int note_stale(const void *key, const void *val, void *ctx)
{
	const struct xtc_set_elem_key *k = key;
	struct group g = { .digest = k->digest, .size = k->size };
	struct stale *s = ctx;

	(void)val;
	if (bsearch(&g, s->want, s->n_want, sizeof(*s->want), cmp_group))
		return 0;
	if (s->n == s->cap) {
		struct xtc_set_elem_key *p = realloc(s->keys, (s->cap = s->cap ? 2 * s->cap : 256) *
						     sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->keys = p;
	}
	s->keys[s->n++] = *k;
	return 0;
}

int xtc_set_elems_sync(const struct xtc_maps *m, const struct xtc_model *model)
{
	int fd = m->fd[XTC_MAP_SET_ELEMS];
	struct stale stale = {};
	struct group *want = NULL;
	struct xtc_set_elem e;
	size_t n_want = 0, i;
	int err;

	err = wanted(model, &want, &n_want);
	for (i = 0; i < n_want && !err; i++)
		if (want[i].size && xtc_set_elem_get(m, want[i].digest, want[i].size,
						     want[i].size - 1, &e))
			err = write_group(fd, &want[i]);
	stale.want = want;
	stale.n_want = n_want;
	if (!err)
		err = xtc_map_for_each(fd, sizeof(struct xtc_set_elem_key),
				       sizeof(struct xtc_set_elem), note_stale, &stale);
	for (i = 0; i < stale.n && !err; i++)
		if (bpf_map_delete_elem(fd, &stale.keys[i]) && errno != ENOENT)
			err = -errno;
	if (err)
		pr_warn("rules: cannot write the elements of the sets (for xtc rules): %s\n",
			strerror(-err));
	free(stale.keys);
	free(want);
	return err;
}

int xtc_set_elem_get(const struct xtc_maps *m, __u64 digest, __u32 size, __u32 index,
		     struct xtc_set_elem *out)
{
	struct xtc_set_elem_key k = { digest, size, index };

	if (bpf_map_lookup_elem(m->fd[XTC_MAP_SET_ELEMS], &k, out))
		return -errno;
	return 0;
}

void xtc_set_elem_str(const struct xtc_set_elem *e, char *buf, size_t len)
{
	if (!e->ports)
		xtc_prefix_str(e->family, e->addr, e->plen, buf, len);
	else if (e->lo == e->hi)
		snprintf(buf, len, "%u", e->lo);
	else
		snprintf(buf, len, "%u-%u", e->lo, e->hi);
}
