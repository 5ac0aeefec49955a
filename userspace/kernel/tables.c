// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Observing and writing the rule tables; the plan between is tables_plan.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tables.h"
#include "failpoint.h"
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

/* ---- observe -------------------------------------------------------------- */

static int map_entries(int fd, __u32 *n)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);

	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return -errno;
	*n = mi.max_entries;
	return 0;
}

/* The whole digest array, in batches. */
static int read_digests(int fd, struct xtc_tables_obs *o)
{
	__u32 n = 0;
	int err;

	err = map_entries(fd, &n);
	if (err)
		return err;
	o->digests = calloc(n ? n : 1, sizeof(*o->digests));
	if (!o->digests)
		return -ENOMEM;
	o->n_digests = n;
	return xtc_map_read_array(fd, o->digests, sizeof(*o->digests), n);
}

/*
 * Rule ids are reused lowest first, so the used ones sit low in arrays
 * sized for max_rules: trusted digests (used slots nonzero) say where
 * they end, and the records beyond need not be read.
 */
static __u32 used_bound(const struct xtc_tables_obs *o)
{
	__u32 id;

	if (!xtc_tables_digests_trusted(o))
		return ~0U;
	for (id = o->n_digests - 1; id > 0; id--)
		if (o->digests[id].hash || o->digests[id].n)
			break;
	return id;
}

int xtc_tables_rule_bound(const struct xtc_maps *m, __u32 *bound)
{
	struct xtc_tables_obs o = {};
	int err;

	*bound = ~0U;
	if (m->fd[XTC_MAP_RULE_DIGEST] < 0)
		return 0;
	err = read_digests(m->fd[XTC_MAP_RULE_DIGEST], &o);
	if (!err)
		*bound = used_bound(&o);
	free(o.digests);
	return err;
}

int xtc_tables_observe(const struct xtc_maps *m, struct xtc_tables_obs *o)
{
	__u32 zero = 0, gen;
	double t0 = xtc_now();
	int err = 0;

	memset(o, 0, sizeof(*o));
	o->exists = true;
	if (bpf_map_lookup_elem(m->fd[XTC_MAP_CONFIG], &zero, &o->cfg))
		return -errno;
	gen = o->cfg.active & 1;
	if (bpf_map_lookup_elem(m->fd[XTC_MAP_MASKS], &gen, &o->live))
		return -errno;
	if (o->live.count > XTC_MAX_MASKS)
		o->live.count = XTC_MAX_MASKS;
	/* A state made before the digests existed is compared in full, once. */
	if (m->fd[XTC_MAP_RULE_DIGEST] >= 0)
		err = read_digests(m->fd[XTC_MAP_RULE_DIGEST], o);
	if (!err)
		err = xtc_rule_table_read_upto(m, used_bound(o), &o->rules);
	if (err)
		xtc_tables_obs_free(o);
	pr_debug("timing: observe %u rule slots %.3f s\n", o->rules.n, xtc_now() - t0);
	return err;
}

static int put_entry(const void *key, const void *val, void *ctx)
{
	struct xtc_tss_entry e;

	memcpy(&e.key, key, sizeof(e.key));
	memcpy(&e.val, val, sizeof(e.val));
	return entry_table_put(ctx, &e);
}

int xtc_tables_observe_entries(const struct xtc_maps *m, struct xtc_tables_obs *o)
{
	int err;

	entry_table_free(&o->entries);
	/* The hash most likely holds about what the digests say. */
	err = entry_table_reserve(&o->entries, o->n_digests ? o->digests[0].n : 0);
	if (!err)
		err = xtc_map_for_each(m->fd[XTC_MAP_RULES], sizeof(struct xtc_flow_key),
				       sizeof(struct xtc_rule_val), put_entry, &o->entries);
	o->have_entries = !err;
	return err;
}

void xtc_tables_obs_free(struct xtc_tables_obs *o)
{
	if (!o)
		return;
	xtc_rule_table_free(&o->rules);
	free(o->digests);
	entry_table_free(&o->entries);
	memset(o, 0, sizeof(*o));
}

/* ---- write ---------------------------------------------------------------- */

static int update_entries(int fd, const struct xtc_tss_entry *list, size_t n,
			  const struct xtc_rule_val *vals_instead)
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
			keys[cnt] = list[j].key;
			vals[cnt] = vals_instead ? vals_instead[j] : list[j].val;
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

static int delete_entries(int fd, const struct xtc_tss_entry *list, size_t n)
{
	struct xtc_flow_key *keys = calloc(BATCH, sizeof(*keys));
	size_t i = 0, j;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	while (i < n && !err) {
		__u32 cnt = 0;

		for (j = i; j < n && cnt < BATCH; j++, cnt++)
			keys[cnt] = list[j].key;
		/* A key already gone stops the batch: delete the rest one by one. */
		if (bpf_map_delete_batch(fd, keys, &cnt, NULL) && errno == ENOENT) {
			for (; cnt < j - i; cnt++)
				if (bpf_map_delete_elem(fd, &keys[cnt]) && errno != ENOENT)
					err = -errno;
		} else if (cnt < j - i) {
			err = -errno;
		}
		i = j;
	}
	free(keys);
	return err;
}

static int write_digests(int fd, const __u32 *ids, const struct xtc_rule_digest *d, size_t n)
{
	struct xtc_array_writer w;
	size_t i;
	int err, err2;

	err = xtc_array_writer_open(&w, fd, sizeof(*d), n);
	for (i = 0; i < n && !err; i++)
		err = xtc_array_writer_put(&w, ids[i] + 1, &d[i]);
	err2 = xtc_array_writer_close(&w);
	return err ?: err2;
}

static int write_header(int fd, __u32 n_entries, __u32 flags)
{
	struct xtc_rule_digest h = { .hash = XTC_DIGEST_MAGIC, .n = n_entries, .flags = flags };
	__u32 zero = 0;

	if (fd < 0)
		return 0;
	return bpf_map_update_elem(fd, &zero, &h, BPF_ANY) ? -errno : 0;
}

/* The new tuple-space list goes into the copy the datapath does not use; one write flips. */
static int write_config(const struct xtc_maps *m, const struct xtc_tables_plan *p,
			const struct xtc_tables_obs *o)
{
	struct xtc_config cfg;
	__u32 zero = 0, gen;

	if (bpf_map_lookup_elem(m->fd[XTC_MAP_CONFIG], &zero, &cfg))
		return -errno;
	gen = cfg.active & 1;
	if (!o->exists || p->diff.masks_changed) {
		gen ^= o->exists;
		if (bpf_map_update_elem(m->fd[XTC_MAP_MASKS], &gen, p->next, BPF_ANY))
			return -errno;
	}
	cfg.active = gen;
	cfg.redirect_fallback = p->fallback;
	if (bpf_map_update_elem(m->fd[XTC_MAP_CONFIG], &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * Makes the live list live again under a generation above floor and above
 * its own, through the inactive copy and one flip, as every list change.
 * Called once an apply's entries are all written and the stale ones gone:
 * verdicts the datapath cached before (include/xtc_vcache.bpf.h), possibly
 * from entries of either rule set, are never used again.
 */
static int bump_generation(const struct xtc_maps *m, __u32 floor)
{
	struct xtc_mask_list *l = malloc(sizeof(*l));
	struct xtc_config cfg;
	__u32 zero = 0, gen;
	int err = 0;

	if (!l)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->fd[XTC_MAP_CONFIG], &zero, &cfg))
		err = -errno;
	gen = cfg.active & 1;
	if (!err && bpf_map_lookup_elem(m->fd[XTC_MAP_MASKS], &gen, l))
		err = -errno;
	if (!err) {
		l->gen = (l->gen > floor ? l->gen : floor) + 1;
		cfg.active = gen ^ 1;
		if (bpf_map_update_elem(m->fd[XTC_MAP_MASKS], &cfg.active, l, BPF_ANY) ||
		    bpf_map_update_elem(m->fd[XTC_MAP_CONFIG], &zero, &cfg, BPF_ANY))
			err = -errno;
	}
	free(l);
	return err;
}

int xtc_tables_write(const struct xtc_maps *m, const struct xtc_tables_plan *p,
		     const struct xtc_tables_obs *o, struct xtc_tables_snapshot *s)
{
	int dfd = m->fd[XTC_MAP_RULE_DIGEST], fd = m->fd[XTC_MAP_RULES];
	__u32 n_was = o->n_digests ? o->digests[0].n : 0;
	size_t n;
	double t0 = xtc_now();
	int err;

	/* Until the digests are written, they do not describe the hash. */
	err = write_header(dfd, n_was, XTC_DIGEST_DIRTY);
	if (!err)
		err = xtc_rule_table_write(m, o->exists ? &o->rules : NULL, p->want, false, &n, s);
	if (!err)
		err = xtc_failpoint("rules_info");
	if (err) {
		pr_warn("rules: cannot write the rule names: %s\n", strerror(-err));
		return err;
	}
	pr_debug("timing: rule names %.3f s\n", xtc_now() - t0);
	t0 = xtc_now();
	err = update_entries(fd, p->add, p->n_add, NULL);
	if (!err)
		err = update_entries(fd, p->chg, p->n_chg, NULL);
	if (!err)
		err = xtc_failpoint("rules_entries");
	if (!err && p->write_cfg)
		err = write_config(m, p, o);
	if (!err)
		err = xtc_failpoint("rules_masks");
	if (!err)
		err = delete_entries(fd, p->del, p->n_del);
	if (!err)
		err = xtc_failpoint("rules_delete");
	if (!err && (p->n_add || p->n_chg || p->n_del || p->write_cfg || p->diff.cut_short))
		err = bump_generation(m, o->exists ? o->live.gen : 0);
	pr_debug("timing: classifier entries %.3f s\n", xtc_now() - t0);
	if (!err && dfd >= 0)
		err = write_digests(dfd, p->dig_ids, p->dig, p->n_dig);
	if (!err)
		err = write_header(dfd, p->n_entries, 0);
	if (!err)
		err = xtc_failpoint("rules_digests");
	if (err) {
		pr_warn("rules: cannot write %zu entries into the classifier: %s%s\n",
			p->n_add + p->n_chg, strerror(-err),
			err == -E2BIG || err == -ENOSPC ?
			" (the loaded maps are too small: run xtc unload --all, then apply)" : "");
		return err;
	}
	pr_debug("tables: %zu added, %zu changed, %zu removed, masks %s, %zu digests\n",
		 p->n_add, p->n_chg, p->n_del, p->diff.masks_changed ? "changed" : "same",
		 p->n_dig);
	return 0;
}

/* ---- restore -------------------------------------------------------------- */

/* The old records of the digests the plan wrote. */
static int restore_digests(int fd, const struct xtc_tables_obs *o, const struct xtc_tables_plan *p)
{
	struct xtc_rule_digest *old = calloc(p->n_dig ? p->n_dig : 1, sizeof(*old));
	size_t i;
	int err;

	if (!old)
		return -ENOMEM;
	for (i = 0; i < p->n_dig; i++)
		if (p->dig_ids[i] + 1 < o->n_digests)
			old[i] = o->digests[p->dig_ids[i] + 1];
	err = write_digests(fd, p->dig_ids, old, p->n_dig);
	free(old);
	return err;
}

int xtc_tables_restore(const struct xtc_maps *m, const struct xtc_tables_snapshot *s)
{
	const struct xtc_tables_obs *o = s->obs;
	const struct xtc_tables_plan *p = s->plan;
	int fd = m->fd[XTC_MAP_RULES], dfd = m->fd[XTC_MAP_RULE_DIGEST];
	__u32 zero = 0, gen = o->cfg.active & 1, now_gen = 0;
	struct xtc_mask_list *live = malloc(sizeof(*live));
	size_t k, n;
	int err;

	if (!live)
		return -ENOMEM;
	/* The generation only grows: the one the attempt reached is the floor. */
	err = xtc_tables_live_masks(m, live);
	if (!err)
		now_gen = live->gen;
	*live = o->live;
	live->gen = now_gen > o->live.gen ? now_gen : o->live.gen;
	/* Stale entries first (the old list may be live again before the new entries go). */
	err = update_entries(fd, p->del, p->n_del, NULL);
	if (!err && bpf_map_update_elem(m->fd[XTC_MAP_MASKS], &gen, live, BPF_ANY))
		err = -errno;
	free(live);
	if (!err && bpf_map_update_elem(m->fd[XTC_MAP_CONFIG], &zero, &o->cfg, BPF_ANY))
		err = -errno;
	if (!err)
		err = update_entries(fd, p->chg, p->n_chg, p->chg_old);
	if (!err)
		err = delete_entries(fd, p->add, p->n_add);
	if (!err)
		err = bump_generation(m, now_gen);
	/* What was tried may be written in part: writing back every slot it changed is safe. */
	if (!err)
		err = xtc_rule_table_write(m, p->want, &o->rules, false, &n, NULL);
	for (k = 0; k < s->n_stats && !err; k++)
		if (bpf_map_update_elem(m->fd[XTC_MAP_RULE_STATS], &s->stats_ids[k],
					s->stats + k * s->ncpus, BPF_ANY))
			err = -errno;
	/* The old digests describe the old entries again; without them the header stays dirty. */
	if (!err && dfd >= 0 && o->n_digests) {
		err = restore_digests(dfd, o, p);
		if (!err && bpf_map_update_elem(dfd, &zero, &o->digests[0], BPF_ANY))
			err = -errno;
	}
	return err;
}

void xtc_tables_snapshot_free(struct xtc_tables_snapshot *s)
{
	if (!s)
		return;
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
