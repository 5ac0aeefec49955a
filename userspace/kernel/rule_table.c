// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "rule_info.h"
#include "rule_table.h"
#include "tables.h"

static bool has_sets(const struct xtc_rule_info *ri)
{
	return ri->match.fields >> XTC_RM_SET_SHIFT;
}

static int map_size(int fd, __u32 *n)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);

	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return -errno;
	*n = mi.max_entries;
	return 0;
}

static int alloc(struct xtc_rule_table *t, __u32 n)
{
	memset(t, 0, sizeof(*t));
	t->info = calloc(n ? n : 1, sizeof(*t->info));
	t->sets = calloc(n ? n : 1, sizeof(*t->sets));
	t->n = t->cap = n;
	if (t->info && t->sets)
		return 0;
	xtc_rule_table_free(t);
	return -ENOMEM;
}

void xtc_rule_table_free(struct xtc_rule_table *t)
{
	__u32 i;

	if (!t)
		return;
	for (i = 0; t->sets && i < (t->base ? t->n_own : t->n); i++)
		free(t->sets[i]);
	free(t->info);
	free(t->sets);
	free(t->by_id);
	free(t->own);
	memset(t, 0, sizeof(*t));
}

static int put_sets(const void *key, const void *val, void *ctx)
{
	struct xtc_rule_table *t = ctx;
	__u32 id = *(const __u32 *)key;

	if (id >= t->n || t->sets[id])
		return 0;
	t->sets[id] = malloc(sizeof(*t->sets[id]));
	if (!t->sets[id])
		return -ENOMEM;
	memcpy(t->sets[id], val, sizeof(*t->sets[id]));
	return 0;
}

int xtc_rule_table_read_upto(const struct xtc_maps *m, __u32 upto, struct xtc_rule_table *t)
{
	__u32 cap = 0, n;
	int err;

	err = map_size(m->fd[XTC_MAP_RULE_INFO], &cap);
	n = upto < cap ? upto : cap;
	if (!err)
		err = alloc(t, n);
	if (!err) {
		t->cap = cap;
		err = xtc_map_read_array(m->fd[XTC_MAP_RULE_INFO], t->info, sizeof(*t->info), n);
	}
	/* Without its pin (a repair will make it anew) no rule has sets yet. */
	if (!err && m->fd[XTC_MAP_RULE_SETS] >= 0)
		err = xtc_map_for_each(m->fd[XTC_MAP_RULE_SETS], sizeof(__u32),
				       sizeof(struct xtc_rule_sets), put_sets, t);
	if (err)
		xtc_rule_table_free(t);
	return err;
}

int xtc_rule_table_read(const struct xtc_maps *m, struct xtc_rule_table *t)
{
	return xtc_rule_table_read_upto(m, ~0U, t);
}

int xtc_rule_names_read(int fd, struct xtc_rule_table *t)
{
	const size_t name_len = sizeof(t->info->name);
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), i;
	char *buf = NULL;
	int err;

	memset(t, 0, sizeof(*t));
	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return -errno;
	if (mi.type != BPF_MAP_TYPE_ARRAY || mi.key_size != sizeof(__u32) ||
	    mi.value_size < name_len)
		return 0;
	err = alloc(t, mi.max_entries);
	if (!err && !(buf = malloc((size_t)mi.value_size * (mi.max_entries ?: 1))))
		err = -ENOMEM;
	if (!err)
		err = xtc_map_read_array(fd, buf, mi.value_size, mi.max_entries);
	for (i = 0; !err && i < mi.max_entries; i++) {
		struct xtc_rule_info *ri = &t->info[i];

		memcpy(ri->name, buf + (size_t)i * mi.value_size, name_len);
		ri->name[name_len - 1] = 0;
		if (ri->name[0])
			ri->flags = XTC_RI_USED;
	}
	free(buf);
	if (err)
		xtc_rule_table_free(t);
	return err;
}

int xtc_read_rule_info(const struct xtc_maps *m, struct xtc_rule_info **info, __u32 *n)
{
	__u32 bound;
	int err;

	*info = NULL;
	err = map_size(m->fd[XTC_MAP_RULE_INFO], n);
	if (err)
		return err;
	if (!xtc_tables_rule_bound(m, &bound) && bound < *n)
		*n = bound;
	*info = calloc(*n ? *n : 1, sizeof(**info));
	if (!*info)
		return -ENOMEM;
	err = xtc_map_read_array(m->fd[XTC_MAP_RULE_INFO], *info, sizeof(**info), *n);
	if (err) {
		free(*info);
		*info = NULL;
	}
	return err;
}

/* Slots a table of rules needs: n, or more when a rule's id is beyond them. */
static __u32 slots_for(const struct xtc_rule *rules, int n_rules, __u32 n)
{
	int k;

	for (k = 0; k < n_rules; k++)
		if (rules[k].id >= n)
			n = rules[k].id + 1;
	return n;
}

int xtc_rule_table_want(const struct xtc_rule *rules, int n_rules, __u32 n,
			struct xtc_rule_table *t)
{
	int k, err;

	n = slots_for(rules, n_rules, n);
	err = alloc(t, n);
	for (k = 0; k < n_rules && !err; k++) {
		const struct xtc_rule *r = &rules[k];

		if (xtc_rule_has_sets(r) && !(t->sets[r->id] = malloc(sizeof(**t->sets)))) {
			err = -ENOMEM;
			break;
		}
		xtc_rule_info_from_rule(r, &t->info[r->id], t->sets[r->id]);
	}
	if (err)
		xtc_rule_table_free(t);
	return err;
}

int xtc_rule_table_of_rules(const struct xtc_rule *rules, int n_rules, struct xtc_rule_table *t)
{
	__u32 n = 0, id;
	int k;

	memset(t, 0, sizeof(*t));
	n = slots_for(rules, n_rules, n);
	t->by_id = malloc((n ? n : 1) * sizeof(*t->by_id));
	if (!t->by_id)
		return -ENOMEM;
	for (id = 0; id < n; id++)
		t->by_id[id] = -1;
	for (k = 0; k < n_rules; k++)
		t->by_id[rules[k].id] = k;
	t->rules = rules;
	t->n = t->cap = n;
	return 0;
}

static const struct xtc_rule_info no_info;
static const struct xtc_rule_sets no_sets;

/* A slot of t's own (an overlay's) for id, empty, with room grown in *room. */
static int own_slot(struct xtc_rule_table *t, __u32 id, size_t *room)
{
	if (t->n_own == *room) {
		size_t more = *room ? 2 * *room : 16;
		struct xtc_rule_info *info = realloc(t->info, more * sizeof(*info));
		struct xtc_rule_sets **sets;

		if (!info)
			return -ENOMEM;
		t->info = info;
		sets = realloc(t->sets, more * sizeof(*sets));
		if (!sets)
			return -ENOMEM;
		t->sets = sets;
		*room = more;
	}
	memset(&t->info[t->n_own], 0, sizeof(t->info[0]));
	t->sets[t->n_own] = NULL;
	t->own[id] = (int)t->n_own++;
	return 0;
}

/* Whether base's slot id holds info and sets (NULL: none). */
static bool base_holds(const struct xtc_rule_table *base, __u32 id,
		       const struct xtc_rule_info *info, const struct xtc_rule_sets *sets)
{
	const struct xtc_rule_info *bi;
	const struct xtc_rule_sets *bs;
	struct xtc_rule_slot unused;

	xtc_rule_table_slot(base, id, &unused, &bi, &bs);
	return !memcmp(bi, info, sizeof(*bi)) && !memcmp(bs, sets ?: &no_sets, sizeof(*bs));
}

int xtc_rule_table_over(const struct xtc_rule_table *base, const struct xtc_rule *rules,
			int n_rules, struct xtc_rule_table *t)
{
	struct xtc_rule_slot tmp;
	__u32 n = base->n, id;
	size_t room = 0;
	int k, err = 0;

	memset(t, 0, sizeof(*t));
	n = slots_for(rules, n_rules, n);
	t->own = malloc((n ? n : 1) * sizeof(*t->own));
	if (!t->own)
		return -ENOMEM;
	t->base = base;
	t->n = t->cap = n;
	/* -2 until a rule takes the slot: one that no rule takes is empty. */
	for (id = 0; id < n; id++)
		t->own[id] = -2;
	for (k = 0; k < n_rules && !err; k++) {
		const struct xtc_rule *r = &rules[k];
		struct xtc_rule_sets *sets = xtc_rule_has_sets(r) ? &tmp.sets : NULL;

		xtc_rule_info_from_rule(r, &tmp.info, sets);
		if (base_holds(base, r->id, &tmp.info, sets)) {
			t->own[r->id] = -1;
			continue;
		}
		err = own_slot(t, r->id, &room);
		if (!err)
			t->info[t->own[r->id]] = tmp.info;
		if (!err && sets && !(t->sets[t->own[r->id]] = malloc(sizeof(*sets))))
			err = -ENOMEM;
		if (!err && sets)
			*t->sets[t->own[r->id]] = *sets;
	}
	for (id = 0; id < n && !err; id++) {
		if (t->own[id] != -2)
			continue;
		if (base_holds(base, id, &no_info, NULL))
			t->own[id] = -1;
		else
			err = own_slot(t, id, &room);
	}
	if (err)
		xtc_rule_table_free(t);
	return err;
}

bool xtc_rule_table_stable(const struct xtc_rule_table *t)
{
	return !t || !t->by_id;
}

void xtc_rule_table_slot(const struct xtc_rule_table *t, __u32 id, struct xtc_rule_slot *tmp,
			 const struct xtc_rule_info **info, const struct xtc_rule_sets **sets)
{
	const struct xtc_rule *r;
	bool has;

	*info = &no_info;
	*sets = &no_sets;
	if (!t || id >= t->n)
		return;
	if (t->base && t->own[id] < 0) {
		xtc_rule_table_slot(t->base, id, tmp, info, sets);
		return;
	}
	if (t->base) {
		*info = &t->info[t->own[id]];
		if (t->sets[t->own[id]])
			*sets = t->sets[t->own[id]];
		return;
	}
	if (t->info) {
		*info = &t->info[id];
		if (t->sets[id])
			*sets = t->sets[id];
		return;
	}
	if (t->by_id[id] < 0)
		return;
	r = &t->rules[t->by_id[id]];
	has = xtc_rule_has_sets(r);
	xtc_rule_info_from_rule(r, &tmp->info, has ? &tmp->sets : NULL);
	*info = &tmp->info;
	if (has)
		*sets = &tmp->sets;
}

const struct xtc_rule_info *xtc_rule_table_at(const struct xtc_rule_table *t, __u32 id,
					      const struct xtc_rule_sets **sets)
{
	const struct xtc_rule_info *info;
	struct xtc_rule_slot unused;

	xtc_rule_table_slot(t, id, &unused, &info, sets);
	if (*sets == &no_sets)
		*sets = NULL;
	return info;
}

bool xtc_rule_table_used(const struct xtc_rule_table *t, __u32 id)
{
	if (!t || id >= t->n)
		return false;
	if (t->base)
		return t->own[id] < 0 ? xtc_rule_table_used(t->base, id) :
		       t->info[t->own[id]].flags & XTC_RI_USED;
	return t->info ? t->info[id].flags & XTC_RI_USED : t->by_id[id] >= 0;
}

bool xtc_rule_table_same(const struct xtc_rule_table *a, const struct xtc_rule_table *b,
			 __u32 id)
{
	const struct xtc_rule_info *ia, *ib;
	const struct xtc_rule_sets *sa, *sb;
	struct xtc_rule_slot ta, tb;

	/* An overlay against its base: compared when it was made. */
	if (b && b->base && b->base == a && id < b->n)
		return b->own[id] < 0;
	if (a && a->base && a->base == b && id < a->n)
		return a->own[id] < 0;
	/* Nothing against a table made from rules: a slot differs when a rule has it. */
	if ((!a && b && b->by_id) || (!b && a && a->by_id))
		return !xtc_rule_table_used(a ? a : b, id);
	xtc_rule_table_slot(a, id, &ta, &ia, &sa);
	xtc_rule_table_slot(b, id, &tb, &ib, &sb);
	return !memcmp(ia, ib, sizeof(*ia)) && !memcmp(sa, sb, sizeof(*sa));
}

static int zero_rule_stats(int fd, __u32 id, struct xtc_tables_snapshot *save)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xtc_rule_stats *z, *old;
	__u32 *ids;
	int err = 0;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	if (save) {
		ids = realloc(save->stats_ids, (save->n_stats + 1) * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		save->stats_ids = ids;
		old = realloc(save->stats, (save->n_stats + 1) * ncpus * sizeof(*old));
		if (!old)
			return -ENOMEM;
		save->stats = old;
		save->ncpus = ncpus;
		old += save->n_stats * ncpus;
		if (bpf_map_lookup_elem(fd, &id, old))
			return -errno;
		ids[save->n_stats++] = id;
	}
	z = calloc(ncpus, sizeof(*z));
	if (!z)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &id, z, BPF_ANY))
		err = -errno;
	free(z);
	return err;
}

/* The sets of one slot: written when the rule has them, deleted when it had. */
static int write_sets(int fd, __u32 id, const struct xtc_rule_info *was,
		      const struct xtc_rule_info *now, const struct xtc_rule_sets *sets)
{
	if (has_sets(now))
		return bpf_map_update_elem(fd, &id, sets, BPF_ANY) ? -errno : 0;
	if (has_sets(was) && bpf_map_delete_elem(fd, &id) && errno != ENOENT)
		return -errno;
	return 0;
}

size_t xtc_rule_table_changes(const struct xtc_rule_table *have,
			      const struct xtc_rule_table *want)
{
	__u32 n_have = have ? have->n : 0, n = want->n > n_have ? want->n : n_have, i;
	size_t changes = 0;

	for (i = 0; i < n; i++)
		changes += !xtc_rule_table_same(have, want, i);
	return changes;
}

int xtc_rule_table_write(const struct xtc_maps *m, const struct xtc_rule_table *have,
			 const struct xtc_rule_table *want, bool dry_run, size_t *changes,
			 struct xtc_tables_snapshot *save)
{
	struct xtc_array_writer w;
	__u32 n = 0, i, n_both;
	int err, err2;

	*changes = 0;
	err = map_size(m->fd[XTC_MAP_RULE_INFO], &n);
	if (err)
		return err;
	for (i = n; i < want->n; i++)
		if (xtc_rule_table_used(want, i))
			return -E2BIG;
	/* Where nothing was, every record is written: as memory, at a million of them. */
	err = xtc_array_writer_open(&w, m->fd[XTC_MAP_RULE_INFO], sizeof(struct xtc_rule_info),
				    dry_run || (have && have->n) ? 0 : want->n);
	if (err)
		return err;
	/* Beyond both tables every slot is unused on both sides. */
	n_both = have && have->n > want->n ? have->n : want->n;
	if (n > n_both)
		n = n_both;
	for (i = 0; i < n; i++) {
		const struct xtc_rule_info *was, *now;
		const struct xtc_rule_sets *was_sets, *now_sets;
		struct xtc_rule_slot tw, tn;

		if (xtc_rule_table_same(have, want, i))
			continue;
		(*changes)++;
		if (dry_run)
			continue;
		xtc_rule_table_slot(have, i, &tw, &was, &was_sets);
		xtc_rule_table_slot(want, i, &tn, &now, &now_sets);
		/*
		 * Counters belong to the rule: they go when a used slot is given up
		 * or renamed, so that a slot is always clean when it is taken.
		 */
		if ((was->flags & XTC_RI_USED) && strcmp(now->name, was->name)) {
			err = zero_rule_stats(m->fd[XTC_MAP_RULE_STATS], i, save);
			if (err)
				goto out;
		}
		err = write_sets(m->fd[XTC_MAP_RULE_SETS], i, was, now, now_sets);
		if (err)
			goto out;
		err = xtc_array_writer_put(&w, i, now);
		if (err)
			goto out;
	}
out:
	err2 = xtc_array_writer_close(&w);
	return err ?: err2;
}
