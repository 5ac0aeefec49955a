// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tables.h"
#include "entry_table.h"
#include "log.h"
#include "rule_table.h"

#define BATCH 4096

int xtc_tables_live_masks(const struct xtc_maps *m, struct xtc_mask_list *live)
{
	struct xtc_config cfg;
	__u32 zero = 0, gen;

	if (bpf_map_lookup_elem(m->fd[XTC_MAP_CONFIG], &zero, &cfg))
		return -errno;
	gen = cfg.active & 1;
	if (bpf_map_lookup_elem(m->fd[XTC_MAP_MASKS], &gen, live))
		return -errno;
	return 0;
}

static int put_entry(const void *key, const void *val, void *ctx)
{
	struct xtc_tss_entry e;

	memcpy(&e.key, key, sizeof(e.key));
	memcpy(&e.val, val, sizeof(e.val));
	return entry_table_put(ctx, &e);
}

/* Reads every entry of the rules hash into t. */
static int dump_rules(int fd, struct entry_table *t)
{
	return xtc_map_for_each(fd, sizeof(struct xtc_flow_key), sizeof(struct xtc_rule_val),
				put_entry, t);
}

static int update_entries(int fd, const struct xtc_tss_entry **list, size_t n)
{
	struct xtc_flow_key *keys = calloc(BATCH, sizeof(*keys));
	struct xtc_rule_val *vals = calloc(BATCH, sizeof(*vals));
	size_t i = 0, j;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (i < n) {
		__u32 cnt = 0;

		for (j = i; j < n && cnt < BATCH; j++, cnt++) {
			keys[cnt] = list[j]->key;
			vals[cnt] = list[j]->val;
		}
		if (bpf_map_update_batch(fd, keys, vals, &cnt, NULL)) {
			err = -errno;
			goto out;
		}
		i = j;
	}
out:
	free(keys);
	free(vals);
	return err;
}

static int delete_entries(int fd, const struct xtc_flow_key *keys, size_t n)
{
	size_t i = 0;

	while (i < n) {
		__u32 cnt = n - i > BATCH ? BATCH : n - i;

		if (bpf_map_delete_batch(fd, keys + i, &cnt, NULL) && errno != ENOENT)
			return -errno;
		i += cnt ? cnt : 1;
	}
	return 0;
}

static void masks_to_list(const struct xtc_tss *t, struct xtc_mask_list *l)
{
	memset(l, 0, sizeof(*l));
	l->count = t->n_masks;
	memcpy(l->ent, t->masks, t->n_masks * sizeof(t->masks[0]));
}

int xtc_tables_sync(const struct xtc_maps *m, const struct xtc_tss *t, __u32 fallback,
		    bool dry_run, struct xtc_table_diff *diff)
{
	const struct xtc_tss_entry **upd = NULL;
	struct xtc_mask_list *live = NULL, *next = NULL;
	struct xtc_flow_key *del = NULL;
	struct entry_table cur = {};
	struct xtc_config cfg;
	size_t i, n_upd = 0, n_del = 0;
	__u32 zero = 0, gen;
	int err;

	memset(diff, 0, sizeof(*diff));
	live = calloc(1, sizeof(*live));
	next = calloc(1, sizeof(*next));
	upd = calloc(t->n_entries ? t->n_entries : 1, sizeof(*upd));
	if (!live || !next || !upd) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(m->fd[XTC_MAP_CONFIG], &zero, &cfg)) {
		err = -errno;
		goto out;
	}
	gen = cfg.active & 1;
	if (bpf_map_lookup_elem(m->fd[XTC_MAP_MASKS], &gen, live)) {
		err = -errno;
		goto out;
	}
	/* The kernel most likely holds about as many entries as we are about to write. */
	err = entry_table_reserve(&cur, t->n_entries);
	if (!err)
		err = dump_rules(m->fd[XTC_MAP_RULES], &cur);
	if (err)
		goto out;

	for (i = 0; i < t->n_entries; i++) {
		const struct xtc_rule_val *v = entry_table_get(&cur, &t->entries[i].key);

		if (!v)
			diff->added++;
		else if (memcmp(v, &t->entries[i].val, sizeof(*v)))
			diff->changed++;
		else
			continue;
		upd[n_upd++] = &t->entries[i];
	}
	del = calloc(cur.n ? cur.n : 1, sizeof(*del));
	if (!del) {
		err = -ENOMEM;
		goto out;
	}
	{
		struct entry_table built = {};
		const struct entry_table *want = &t->set;

		/* A snapshot being restored has no lookup set of its own. */
		if (!t->set.cap) {
			want = &built;
			err = entry_table_reserve(&built, t->n_entries);
			for (i = 0; i < t->n_entries && !err; i++)
				err = entry_table_put(&built, &t->entries[i]);
		}
		for (i = 0; i < cur.cap && !err; i++)
			if (cur.used[i] && !entry_table_get(want, &cur.slots[i].key))
				del[n_del++] = cur.slots[i].key;
		entry_table_free(&built);
		if (err)
			goto out;
	}
	diff->removed = n_del;
	masks_to_list(t, next);
	diff->masks_changed = memcmp(next, live, sizeof(*next)) != 0;
	diff->fallback_changed = cfg.redirect_fallback != fallback;
	diff->fallback_was = cfg.redirect_fallback;
	diff->fallback_now = fallback;
	if (dry_run)
		goto out;

	err = update_entries(m->fd[XTC_MAP_RULES], upd, n_upd);
	if (err)
		goto out;
	if (diff->masks_changed || diff->fallback_changed) {
		if (diff->masks_changed) {
			gen ^= 1;
			if (bpf_map_update_elem(m->fd[XTC_MAP_MASKS], &gen, next, BPF_ANY)) {
				err = -errno;
				goto out;
			}
		}
		cfg.active = gen;
		cfg.redirect_fallback = fallback;
		if (bpf_map_update_elem(m->fd[XTC_MAP_CONFIG], &zero, &cfg, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	err = delete_entries(m->fd[XTC_MAP_RULES], del, n_del);
	pr_debug("tables: %zu added, %zu changed, %zu removed, masks %s\n", diff->added,
		 diff->changed, diff->removed, diff->masks_changed ? "changed" : "same");
out:
	entry_table_free(&cur);
	free(del);
	free(upd);
	free(next);
	free(live);
	return err;
}

struct entry_list {
	struct xtc_tss_entry *e;
	size_t n, cap;
};

static int push_entry(const void *key, const void *val, void *ctx)
{
	struct entry_list *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4096;
		struct xtc_tss_entry *e = realloc(l->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	memcpy(&l->e[l->n].key, key, sizeof(struct xtc_flow_key));
	memcpy(&l->e[l->n].val, val, sizeof(struct xtc_rule_val));
	l->n++;
	return 0;
}

int xtc_tables_snapshot(const struct xtc_maps *m, struct xtc_tables_snapshot *s)
{
	struct entry_list l = {};
	struct xtc_mask_list live;
	struct xtc_config cfg;
	__u32 zero = 0;
	int err;

	memset(s, 0, sizeof(*s));
	if (bpf_map_lookup_elem(m->fd[XTC_MAP_CONFIG], &zero, &cfg))
		return -errno;
	s->fallback = cfg.redirect_fallback;
	err = xtc_tables_live_masks(m, &live);
	if (err)
		return err;
	s->tss.n_masks = live.count;
	memcpy(s->tss.masks, live.ent, live.count * sizeof(live.ent[0]));
	/* A list is all a restore needs: no lookup table to build. */
	err = xtc_map_for_each(m->fd[XTC_MAP_RULES], sizeof(struct xtc_flow_key),
			       sizeof(struct xtc_rule_val), push_entry, &l);
	s->tss.entries = l.e;
	s->tss.n_entries = l.n;
	if (err)
		xtc_tables_snapshot_free(s);
	return err;
}

int xtc_tables_restore(const struct xtc_maps *m, const struct xtc_tables_snapshot *s)
{
	struct xtc_table_diff diff;
	size_t k, n;
	int err;

	err = xtc_tables_sync(m, &s->tss, s->fallback, false, &diff);
	/* What was tried may be written in part: writing back every slot it changed is safe. */
	if (!err && s->rules_before && s->rules_tried)
		err = xtc_rule_table_write(m, s->rules_tried, s->rules_before, false, &n, NULL);
	for (k = 0; k < s->n_stats && !err; k++)
		if (bpf_map_update_elem(m->fd[XTC_MAP_RULE_STATS], &s->stats_ids[k],
					s->stats + k * s->ncpus, BPF_ANY))
			err = -errno;
	return err;
}

void xtc_tables_snapshot_free(struct xtc_tables_snapshot *s)
{
	if (!s)
		return;
	xtc_tss_free(&s->tss);
	free(s->stats_ids);
	free(s->stats);
	s->stats_ids = NULL;
	s->stats = NULL;
	s->n_stats = 0;
}


int xtc_tables_stamp(const struct xtc_maps *m)
{
	struct xtc_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->fd[XTC_MAP_CONFIG], &zero, &cfg))
		return -errno;
	cfg.applied_at = (__u64)time(NULL);
	if (bpf_map_update_elem(m->fd[XTC_MAP_CONFIG], &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

__u64 xtc_tables_applied_at(const struct xtc_maps *m)
{
	struct xtc_config cfg;
	__u32 zero = 0;

	if (m->fd[XTC_MAP_CONFIG] < 0 || bpf_map_lookup_elem(m->fd[XTC_MAP_CONFIG], &zero, &cfg))
		return 0;
	return cfg.applied_at;
}
