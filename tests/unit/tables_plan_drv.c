// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The rule-table plan without a kernel, for test_tables_plan.py:
 *
 *   tables_plan_drv CONFIG...
 *
 * Loads the first config "from nothing" into a simulated kernel (a table of
 * entries, the live mask list, the rule records and the digests, all made
 * as xtc_tables_write() would leave them), then plans each further config
 * against that observation with xtc_tables_plan() -- a pure function, so no
 * root and no BPF -- and carries the plan out on the simulation.  After each
 * step the simulated hash must equal the whole config compiled from nothing.
 * One JSON line per step: {"full", "added", "changed", "removed", "ok"}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "log.h"
#include "rule_table.h"
#include "tables.h"
#include "tss.h"

/* The simulated kernel: what observe would read, and the hash itself. */
struct sim {
	struct xtc_tables_obs obs;
	struct entry_table hash;	/* deleted entries have prio ~0 */
	struct xtc_model *model;	/* keeps the sets that obs.rules names alive */
};

static int assign_ids(struct xtc_model *m, const struct xtc_model *prev, __u32 n_ids)
{
	unsigned char *taken = calloc(n_ids, 1);
	__u32 next = 0;
	int r, q;

	if (!taken)
		return -ENOMEM;
	for (r = 0; r < m->n_rules; r++) {
		m->rules[r].id = (__u32)-1;
		for (q = 0; prev && q < prev->n_rules; q++)
			if (!strcmp(prev->rules[q].name, m->rules[r].name))
				m->rules[r].id = prev->rules[q].id;
		if (m->rules[r].id != (__u32)-1)
			taken[m->rules[r].id] = 1;
	}
	for (r = 0; r < m->n_rules; r++) {
		if (m->rules[r].id != (__u32)-1)
			continue;
		while (next < n_ids && taken[next])
			next++;
		if (next >= n_ids) {
			free(taken);
			return -E2BIG;
		}
		taken[next] = 1;
		m->rules[r].id = next;
	}
	free(taken);
	return 0;
}

static void set_val(struct entry_table *h, const struct xtc_tss_entry *e)
{
	struct xtc_rule_val *v = (struct xtc_rule_val *)entry_table_get(h, &e->key);

	if (v)
		*v = e->val;
	else
		entry_table_put(h, e);
}

/* What xtc_tables_write() does to the kernel, done to the simulation. */
static int carry_out(struct sim *s, const struct xtc_tables_plan *p, struct xtc_rule_table *want)
{
	struct xtc_rule_val *v;
	size_t i;

	for (i = 0; i < p->n_add; i++)
		set_val(&s->hash, &p->add[i]);
	for (i = 0; i < p->n_chg; i++)
		set_val(&s->hash, &p->chg[i]);
	for (i = 0; i < p->n_del; i++) {
		v = (struct xtc_rule_val *)entry_table_get(&s->hash, &p->del[i].key);
		if (!v || v->prio == ~0U)
			return -ENOENT;	/* the plan deletes what is not there */
		v->prio = ~0U;
	}
	s->obs.live = *p->next;
	s->obs.cfg.redirect_fallback = p->fallback;
	for (i = 0; i < p->n_dig; i++)
		s->obs.digests[p->dig_ids[i] + 1] = p->dig[i];
	s->obs.digests[0] = (struct xtc_rule_digest){ XTC_DIGEST_MAGIC, p->n_entries, 0 };
	xtc_rule_table_free(&s->obs.rules);
	s->obs.rules = *want;
	memset(want, 0, sizeof(*want));
	return 0;
}

/* The simulated hash holds exactly the model compiled from nothing on its live list. */
static bool matches(const struct sim *s, const struct xtc_model *m)
{
	struct xtc_tss whole;
	size_t i, live = 0;
	bool ok;

	if (xtc_tss_build(m->rules, m->n_rules, &s->obs.live, &whole))
		return false;
	for (i = 0; i < s->hash.n; i++)
		live += s->hash.e[i].val.prio != ~0U;
	ok = live == whole.n_entries && whole.n_masks == (int)s->obs.live.count &&
	     s->obs.digests[0].n == live;
	/* Observe reads rule records only up to the last nonzero digest: used <=> nonzero. */
	for (i = 0; ok && i + 1 < s->obs.n_digests; i++) {
		const struct xtc_rule_digest *d = &s->obs.digests[i + 1];
		bool used = i < s->obs.rules.n && (s->obs.rules.info[i].flags & XTC_RI_USED);

		ok = used == (d->hash || d->n);
		if (!ok)
			fprintf(stderr, "rule slot %zu: %s, digest %s\n", i, used ? "used" : "unused",
				d->hash || d->n ? "nonzero" : "zero");
	}
	for (i = 0; ok && i < whole.n_entries; i++) {
		const struct xtc_rule_val *v = entry_table_get(&s->hash, &whole.entries[i].key);

		ok = v && !memcmp(v, &whole.entries[i].val, sizeof(*v));
	}
	xtc_tss_free(&whole);
	return ok;
}

/* The whole hash as observe_entries() would read it. */
static int observe_entries(struct sim *s)
{
	size_t i;
	int err = 0;

	entry_table_free(&s->obs.entries);
	for (i = 0; i < s->hash.n && !err; i++)
		if (s->hash.e[i].val.prio != ~0U)
			err = entry_table_put(&s->obs.entries, &s->hash.e[i]);
	s->obs.have_entries = true;
	return err;
}

/*
 * The overlay a re-apply makes (xtc_rule_table_over()) says what the whole
 * table says: every slot, whether each differs from the records, and how many.
 */
static bool overlay_agrees(const struct xtc_rule_table *have, const struct xtc_model *m,
			   const struct xtc_rule_table *want)
{
	struct xtc_rule_table over;
	__u32 n, id;
	bool ok;

	if (xtc_rule_table_over(have, m->rules, m->n_rules, &over))
		return false;
	n = want->n > over.n ? want->n : over.n;
	ok = xtc_rule_table_changes(have, &over) == xtc_rule_table_changes(have, want);
	for (id = 0; ok && id < n + 2; id++) {
		const struct xtc_rule_info *ia, *ib;
		const struct xtc_rule_sets *sa, *sb;
		struct xtc_rule_slot ta, tb;

		xtc_rule_table_slot(&over, id, &ta, &ia, &sa);
		xtc_rule_table_slot(want, id, &tb, &ib, &sb);
		ok = !memcmp(ia, ib, sizeof(*ia)) && !memcmp(sa, sb, sizeof(*sa)) &&
		     xtc_rule_table_used(&over, id) == xtc_rule_table_used(want, id) &&
		     xtc_rule_table_same(have, &over, id) == xtc_rule_table_same(have, want, id) &&
		     xtc_rule_table_same(&over, have, id) == xtc_rule_table_same(want, have, id);
		if (!ok)
			fprintf(stderr, "overlay slot %u differs from the whole table\n", id);
	}
	xtc_rule_table_free(&over);
	return ok;
}

static int step(struct sim *s, struct xtc_model *m)
{
	struct xtc_rule_table want = {};
	struct xtc_tables_plan p = {};
	struct xtc_tss t = {};
	bool full = false, over_ok = false;
	int err;

	err = assign_ids(m, s->model, s->obs.n_digests - 1);
	if (!err)
		err = s->model ? xtc_tss_compile(m->rules, m->n_rules, &s->obs.live, &t) :
				 xtc_tss_build(m->rules, m->n_rules, NULL, &t);
	if (!err)
		err = xtc_rule_table_want(m->rules, m->n_rules, s->obs.n_digests - 1, &want);
	if (!err)
		err = xtc_tables_plan(&s->obs, m, &t, &want, &p);
	if (err == -ESTALE) {
		full = true;
		err = observe_entries(s);
		if (!err)
			err = xtc_tables_plan(&s->obs, m, &t, &want, &p);
	}
	if (!err)
		over_ok = overlay_agrees(&s->obs.rules, m, &want);
	if (!err)
		err = carry_out(s, &p, &want);
	if (!err) {
		printf("{\"full\": %s, \"added\": %zu, \"changed\": %zu, \"removed\": %zu, "
		       "\"ok\": %s, \"overlay_ok\": %s}\n", full ? "true" : "false", p.diff.added,
		       p.diff.changed, p.diff.removed, matches(s, m) ? "true" : "false",
		       over_ok ? "true" : "false");
		s->obs.exists = true;
		entry_table_free(&s->obs.entries);
		s->obs.have_entries = false;
	}
	xtc_tables_plan_free(&p);
	xtc_rule_table_free(&want);
	xtc_tss_free(&t);
	return err;
}

int main(int argc, char **argv)
{
	struct sim s = {};
	struct xtc_diag diag = {};
	__u32 n_ids = 256;
	int i, rc = 1;

	xtc_log_set_level(getenv("XTC_DEBUG") ? XTC_LOG_DEBUG : XTC_LOG_WARN);
	s.obs.digests = calloc(n_ids + 1, sizeof(*s.obs.digests));
	if (!s.obs.digests)
		return 1;
	s.obs.n_digests = n_ids + 1;
	for (i = 1; i < argc; i++) {
		struct xtc_model *m = NULL;
		int err = xtc_config_load(argv[i], &m, &diag);

		xtc_diag_print(&diag);
		xtc_diag_free(&diag);
		if (!err)
			err = step(&s, m);
		if (err) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(-err));
			xtc_model_free(m);
			goto out;
		}
		xtc_model_free(s.model);
		s.model = m;
	}
	rc = 0;
out:
	xtc_model_free(s.model);
	entry_table_free(&s.hash);
	free(s.obs.digests);
	s.obs.digests = NULL;
	xtc_tables_obs_free(&s.obs);
	return rc;
}
