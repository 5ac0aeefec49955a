// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The plan of the rule tables; see tables.h.  Pure: no system calls, and
 * the observation, the compiled rules and the rule table are only read.
 *
 * A key of the rules hash may come from several rules; it holds the value
 * of the one with the lowest prio.  When some rules change, only the keys
 * they produce (before or after) can change, and for each such key
 *   old value = best of (unchanged rules producing it, old versions of the changed ones)
 *   new value = best of (unchanged rules producing it, new versions of the changed ones)
 * The unchanged rules' part comes from one pass over their expansions that
 * looks each key up in the small set of touched keys.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rule_info.h"
#include "tables.h"
#include "util.h"

/* Beyond this share of all expansions (and a floor), comparing the whole hash is cheaper. */
#define INCREMENTAL_MAX_SHARE 4
#define INCREMENTAL_FLOOR 4096

/* ---- the set of touched keys -------------------------------------------- */

struct touched {
	struct xtc_flow_key key;
	struct xtc_rule_val best[3];	/* by enum side; prio ~0: none */
};

enum side { OLD, NEW, UNCHANGED };

struct touched_set {
	struct touched *e;
	__u32 *slot;			/* index + 1; 0 empty */
	size_t n, cap_e, cap;
};

static int touched_grow(struct touched_set *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024, i, j;
	__u32 *slot = calloc(cap, sizeof(*slot));
	struct touched *e = realloc(s->e, cap / 2 * sizeof(*e));

	if (!slot || !e) {
		free(slot);
		if (e)
			s->e = e;
		return -ENOMEM;
	}
	for (i = 0; i < s->n; i++) {
		for (j = entry_key_hash(&e[i].key) & (cap - 1); slot[j]; j = (j + 1) & (cap - 1))
			;
		slot[j] = i + 1;
	}
	free(s->slot);
	s->slot = slot;
	s->e = e;
	s->cap = cap;
	s->cap_e = cap / 2;
	return 0;
}

static struct touched *touched_find(const struct touched_set *s, const struct xtc_flow_key *k)
{
	size_t j;

	if (!s->cap)
		return NULL;
	for (j = entry_key_hash(k) & (s->cap - 1); s->slot[j]; j = (j + 1) & (s->cap - 1))
		if (!memcmp(&s->e[s->slot[j] - 1].key, k, sizeof(*k)))
			return &s->e[s->slot[j] - 1];
	return NULL;
}

static void keep_best(struct xtc_rule_val *best, const struct xtc_rule_val *v)
{
	if (v->prio < best->prio)
		*best = *v;
}

struct touch_ctx {
	struct touched_set *s;
	enum side side;
};

static int touch(void *ctx, const struct xtc_tss_entry *e)
{
	struct touch_ctx *c = ctx;
	struct touched_set *s = c->s;
	struct touched *t = touched_find(s, &e->key);
	size_t j;
	int i, err;

	if (!t) {
		if (s->n + 1 > s->cap_e) {
			err = touched_grow(s);
			if (err)
				return err;
		}
		t = &s->e[s->n];
		t->key = e->key;
		for (i = 0; i < 3; i++)
			t->best[i].prio = ~0U;
		for (j = entry_key_hash(&e->key) & (s->cap - 1); s->slot[j]; j = (j + 1) & (s->cap - 1))
			;
		s->slot[j] = ++s->n;
	}
	keep_best(&t->best[c->side], &e->val);
	return 0;
}

static int touch_unchanged(void *ctx, const struct xtc_tss_entry *e)
{
	struct touched *t = touched_find(ctx, &e->key);

	if (t)
		keep_best(&t->best[UNCHANGED], &e->val);
	return 0;
}

static void touched_free(struct touched_set *s)
{
	free(s->e);
	free(s->slot);
}

/* ---- building the plan ---------------------------------------------------- */

static const struct xtc_rule_digest none;

static const struct xtc_rule_digest *old_digest(const struct xtc_tables_obs *o, __u32 id)
{
	return id + 1 < o->n_digests ? &o->digests[id + 1] : &none;
}

static bool same_digest(const struct xtc_rule_digest *a, const struct xtc_rule_digest *b)
{
	return a->hash == b->hash && a->n == b->n;
}

bool xtc_tables_digests_trusted(const struct xtc_tables_obs *o)
{
	return o->digests && o->n_digests && o->digests[0].hash == XTC_DIGEST_MAGIC &&
	       !(o->digests[0].flags & XTC_DIGEST_DIRTY);
}

static int push_entry(struct xtc_tss_entry **list, size_t *n, size_t *cap,
		      const struct xtc_flow_key *k, const struct xtc_rule_val *v)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct xtc_tss_entry *l = realloc(*list, c * sizeof(*l));

		if (!l)
			return -ENOMEM;
		*list = l;
		*cap = c;
	}
	(*list)[*n].key = *k;
	(*list)[(*n)++].val = *v;
	return 0;
}

static int push_chg(struct xtc_tables_plan *p, size_t *cap, const struct xtc_flow_key *k,
		    const struct xtc_rule_val *now, const struct xtc_rule_val *was)
{
	size_t c = *cap, n = p->n_chg;
	struct xtc_rule_val *old;
	int err;

	err = push_entry(&p->chg, &p->n_chg, cap, k, now);
	if (err)
		return err;
	if (*cap != c) {
		old = realloc(p->chg_old, *cap * sizeof(*old));
		if (!old)
			return -ENOMEM;
		p->chg_old = old;
	}
	p->chg_old[n] = *was;
	return 0;
}

/* From the touched keys' old and new values to the lists of writes. */
static int touched_to_plan(const struct touched_set *s, struct xtc_tables_plan *p)
{
	size_t cap_add = 0, cap_chg = 0, cap_del = 0, i;
	int err = 0;

	for (i = 0; i < s->n && !err; i++) {
		const struct touched *t = &s->e[i];
		struct xtc_rule_val was = t->best[UNCHANGED], now = t->best[UNCHANGED];

		keep_best(&was, &t->best[OLD]);
		keep_best(&now, &t->best[NEW]);
		if (was.prio == ~0U && now.prio != ~0U)
			err = push_entry(&p->own_add, &p->n_add, &cap_add, &t->key, &now);
		else if (was.prio != ~0U && now.prio == ~0U)
			err = push_entry(&p->del, &p->n_del, &cap_del, &t->key, &was);
		else if (memcmp(&was, &now, sizeof(was)))
			err = push_chg(p, &cap_chg, &t->key, &now, &was);
	}
	p->add = p->own_add;
	return err;
}

static int add_digest(struct xtc_tables_plan *p, size_t *cap, __u32 id,
		      const struct xtc_rule_digest *d)
{
	if (p->n_dig == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		__u32 *ids = realloc(p->dig_ids, c * sizeof(*ids));
		struct xtc_rule_digest *dig;

		if (!ids)
			return -ENOMEM;
		p->dig_ids = ids;
		dig = realloc(p->own_dig, c * sizeof(*dig));
		if (!dig)
			return -ENOMEM;
		p->dig = p->own_dig = dig;
		*cap = c;
	}
	p->dig_ids[p->n_dig] = id;
	p->own_dig[p->n_dig++] = *d;
	return 0;
}

/* Rule index by id, -1 for ids no rule has. */
static int *index_by_id(const struct xtc_rule *rules, int n_rules, __u32 n_ids)
{
	int *by = malloc((n_ids ? n_ids : 1) * sizeof(*by));
	__u32 i;
	int r;

	if (!by)
		return NULL;
	for (i = 0; i < n_ids; i++)
		by[i] = -1;
	for (r = 0; r < n_rules; r++)
		if (rules[r].id < n_ids)
			by[rules[r].id] = r;
	return by;
}

/* The digests of the file's sets, made when a rebuilt rule first needs them. */
struct set_index {
	const struct xtc_model *m;
	__u64 *digest;
};

/* A set of the file with this digest and size: sets are content-addressed. */
static const struct xtc_set *model_set(struct set_index *si, __u64 digest, __u32 size)
{
	const struct xtc_model *m = si->m;
	int i;

	if (!si->digest) {
		si->digest = malloc((m->n_sets ? m->n_sets : 1) * sizeof(*si->digest));
		if (!si->digest)
			return NULL;
		for (i = 0; i < m->n_sets; i++)
			si->digest[i] = xtc_set_digest(&m->sets[i]);
	}
	for (i = 0; i < m->n_sets; i++) {
		const struct xtc_set *s = &m->sets[i];

		if (si->digest[i] == digest && (__u32)(s->ports ? s->n_ports : s->n_prefixes) == size)
			return s;
	}
	return NULL;
}

/*
 * The rule the kernel has at id, from its record.  A rule with [set]s is
 * rebuilt only when the file still has those sets (the common case: the
 * rule changed, its sets did not); else -ESTALE.
 */
static int old_rule(const struct xtc_tables_obs *o, struct set_index *si, __u32 id,
		    struct xtc_rule *old)
{
	static const __u32 field[XTC_RM_SET_N] = { XTC_RM_SRC, XTC_RM_DST, XTC_RM_SPORT,
						   XTC_RM_DPORT };
	const struct xtc_set *sets[XTC_RM_SET_N] = {};
	const struct xtc_rule_sets *rs;
	int i;

	if (id >= o->rules.n)
		return -ESTALE;
	rs = o->rules.sets[id];
	for (i = 0; rs && i < XTC_RM_SET_N; i++)
		if (o->rules.info[id].match.fields & (field[i] << XTC_RM_SET_SHIFT))
			sets[i] = model_set(si, rs->digest[i], rs->size[i]);
	if (xtc_rule_from_info(&o->rules.info[id], sets, old))
		return -ESTALE;
	old->id = id;
	return 0;
}

/*
 * Only the rules whose digest changed: their entries as the kernel has
 * them (rebuilt from the kernel's record of the rule, and checked against
 * its digest) and as the file wants them.
 */
static int plan_changed(const struct xtc_tables_obs *o, const struct xtc_model *m,
			const struct xtc_tss *t, struct xtc_tables_plan *p)
{
	const struct xtc_rule *rules = m->rules;
	struct set_index si = { .m = m };
	int n_rules = m->n_rules;
	__u32 n_ids = o->n_digests - 1, id;
	struct touched_set s = {};
	struct touch_ctx c = { .s = &s };
	size_t cap_dig = 0, touched_n = 0, i;
	struct xtc_port_lens live;	/* how the kernel's list cut port ranges */
	__u64 touched_masks = 0;
	int *by = NULL, r, err = 0;

	xtc_port_lens_of_list(o->live.ent, o->live.count < XTC_MAX_MASKS ? (int)o->live.count :
			      XTC_MAX_MASKS, &live);
	for (r = 0; r < n_rules; r++)
		if (rules[r].id >= n_ids)
			return -ESTALE;
	by = index_by_id(rules, n_rules, n_ids);
	if (!by)
		return -ENOMEM;
	for (id = 0; id < n_ids && !err; id++) {
		const struct xtc_rule_digest *was = old_digest(o, id);
		const struct xtc_rule_digest *now = by[id] >= 0 ? &t->digests[by[id]] : &none;
		struct xtc_rule_digest check;
		struct xtc_rule old;

		if (same_digest(was, now))
			continue;
		err = add_digest(p, &cap_dig, id, now);
		if (err)
			break;
		touched_n += was->n + now->n;
		if (touched_n > INCREMENTAL_FLOOR &&
		    touched_n * INCREMENTAL_MAX_SHARE > t->n_expanded + o->digests[0].n) {
			err = -ESTALE;
			break;
		}
		if (was->n) {
			/* The kernel's entries of this rule, from its record, if the digest agrees. */
			err = old_rule(o, &si, id, &old);
			if (!err)
				err = xtc_tss_rule_digest(&old, o->live.ent, o->live.count, &live,
							  &check);
			if (!err && !same_digest(&check, was))
				err = -ESTALE;
			c.side = OLD;
			if (!err)
				err = xtc_tss_rule_entries_in(&old, o->live.ent, o->live.count, &live,
							      touch, &c);
		}
		c.side = NEW;
		if (!err && now->n)
			err = xtc_tss_rule_entries_in(&rules[by[id]], t->masks, t->n_masks, &t->lens,
						      touch, &c);
	}
	/* What the unchanged rules say about the touched keys: only rules of their shapes can. */
	for (i = 0; i < s.n; i++)
		touched_masks |= s.e[i].key.mask_id < 64 ? 1ULL << s.e[i].key.mask_id : ~0ULL;
	for (r = 0; r < n_rules && !err && s.n; r++) {
		const struct xtc_rule_digest *d = &t->digests[r];
		__u64 bits;

		if (t->rule_masks && !(t->rule_masks[r] & touched_masks))
			continue;
		/* Without them (a compile carried from the kernel's records), found one by one. */
		if (!t->rule_masks &&
		    !xtc_tss_rule_mask_bits(&rules[r], t->masks, t->n_masks, &t->lens, &bits) &&
		    !(bits & touched_masks))
			continue;
		if (d->n && same_digest(old_digest(o, rules[r].id), d))
			err = xtc_tss_rule_entries_in(&rules[r], t->masks, t->n_masks, &t->lens,
						      touch_unchanged, &s);
	}
	if (!err)
		err = touched_to_plan(&s, p);
	if (!err)
		p->n_entries = o->digests[0].n + p->n_add - p->n_del;
	touched_free(&s);
	free(si.digest);
	free(by);
	return err;
}

/* Every entry compared with the whole hash (observed), or with nothing. */
static int plan_full(const struct xtc_tables_obs *o, const struct xtc_rule *rules, int n_rules,
		     const struct xtc_tss *t, struct xtc_tables_plan *p)
{
	const struct entry_table *want = &t->set;
	size_t cap_add = 0, cap_chg = 0, cap_del = 0, i, n_dig;
	int r, err = 0;

	if (!t->set.n && t->n_expanded) {
		struct xtc_tss tmp = { .n_masks = t->n_masks, .lens = t->lens };

		/* Compiled without entries: make them, with the same mask ids. */
		memcpy(tmp.masks, t->masks, sizeof(t->masks));
		err = xtc_tss_add_entries(rules, n_rules, &tmp);
		p->built = tmp.set;
		if (err)
			return err;
		want = &p->built;
	}
	p->n_entries = want->n;
	if (o->exists && o->entries.n && !entry_table_has_index(want))
		return -EINVAL;		/* a caller's bug: every entry would look removed */
	if (!o->exists || !o->entries.n) {
		/* Nothing there: every entry is new, written straight from the compiled list. */
		p->add = want->e;
		p->n_add = want->n;
	} else {
		for (i = 0; i < want->n && !err; i++) {
			const struct xtc_tss_entry *e = &want->e[i];
			const struct xtc_rule_val *v = entry_table_get(&o->entries, &e->key);

			if (!v)
				err = push_entry(&p->own_add, &p->n_add, &cap_add, &e->key, &e->val);
			else if (memcmp(v, &e->val, sizeof(*v)))
				err = push_chg(p, &cap_chg, &e->key, &e->val, v);
		}
		p->add = p->own_add;
		for (i = 0; i < o->entries.n && !err; i++) {
			const struct xtc_tss_entry *e = &o->entries.e[i];

			if (!entry_table_get(want, &e->key))
				err = push_entry(&p->del, &p->n_del, &cap_del, &e->key, &e->val);
		}
	}
	if (err)
		return err;
	/*
	 * Every digest, so that the next apply can trust them all: the rules'
	 * (fresh maps hold zeros elsewhere), or every slot of the map that is
	 * there, so that no record of a rule gone stays behind.
	 */
	p->every_digest = true;
	n_dig = o->exists && o->n_digests ? o->n_digests - 1 : (size_t)n_rules;
	p->dig_ids = calloc(n_dig ? n_dig : 1, sizeof(*p->dig_ids));
	if (!p->dig_ids)
		return -ENOMEM;
	if (n_dig == (size_t)n_rules && !(o->exists && o->n_digests)) {
		/* The compiled digests as they are, not a copy (16 MiB at 1M rules). */
		for (r = 0; r < n_rules; r++)
			p->dig_ids[r] = rules[r].id;
		p->dig = t->digests;
	} else {
		p->dig = p->own_dig = calloc(n_dig ? n_dig : 1, sizeof(*p->own_dig));
		if (!p->own_dig)
			return -ENOMEM;
		for (i = 0; i < n_dig; i++)
			p->dig_ids[i] = i;
		for (r = 0; r < n_rules; r++) {
			if (rules[r].id >= n_dig)
				return -E2BIG;
			p->own_dig[rules[r].id] = t->digests[r];
		}
	}
	p->n_dig = n_dig;
	return 0;
}

static void masks_to_list(const struct xtc_tss *t, struct xtc_mask_list *l)
{
	static const __u8 fams[] = { XTC_FB_V4, XTC_FB_V6 };
	static const __u8 protos[] = { XTC_PB_TCP, XTC_PB_UDP, XTC_PB_ICMP, XTC_PB_OTHER };
	size_t f, p;
	int i;

	memset(l, 0, sizeof(*l));
	l->count = t->n_masks;
	memcpy(l->ent, t->masks, t->n_masks * sizeof(t->masks[0]));
	for (f = 0; f < ARRAY_SIZE(fams); f++) {
		for (p = 0; p < ARRAY_SIZE(protos); p++) {
			__u32 c = xtc_search_class(fams[f], protos[p]);

			for (i = 0; i < t->n_masks; i++)
				if ((t->masks[i].families & fams[f]) && (t->masks[i].protos & protos[p]))
					l->order[c][l->n_order[c]++] = (__u8)i;
		}
	}
}

int xtc_tables_plan(const struct xtc_tables_obs *o, const struct xtc_model *m,
		    const struct xtc_tss *t, const struct xtc_rule_table *want,
		    struct xtc_tables_plan *p)
{
	__u32 fallback = m->redirect_fallback;
	int n_rules = m->n_rules, err;

	memset(p, 0, sizeof(*p));
	p->want = want;
	p->fallback = fallback;
	p->next = calloc(1, sizeof(*p->next));
	if (!p->next)
		return -ENOMEM;
	masks_to_list(t, p->next);
	/* The generation is the writer's to move (tables.c), not a change of the list. */
	if (o->exists)
		p->next->gen = o->live.gen;
	if (!t->digests && n_rules)
		err = -EINVAL;
	else if (!o->exists || o->have_entries)
		err = plan_full(o, m->rules, n_rules, t, p);
	else if (!xtc_tables_digests_trusted(o))
		err = -ESTALE;
	else
		err = plan_changed(o, m, t, p);
	if (err) {
		xtc_tables_plan_free(p);
		return err;
	}
	p->info_changes = xtc_rule_table_changes(o->exists ? &o->rules : NULL, want);
	p->diff.added = p->n_add;
	p->diff.changed = p->n_chg;
	p->diff.removed = p->n_del;
	if (o->exists) {
		p->diff.masks_changed = memcmp(p->next, &o->live, sizeof(*p->next)) != 0;
		p->diff.fallback_changed = o->cfg.redirect_fallback != fallback;
		p->write_cfg = p->diff.masks_changed || p->diff.fallback_changed;
	} else {
		/* Fresh maps: the list and the fallback are written, but nothing "changes". */
		p->diff.masks_changed = t->n_masks > 0;
		p->write_cfg = true;
	}
	/* Dirty, not missing: a state from before the digests has no run to finish. */
	p->diff.cut_short = o->exists && o->digests && !xtc_tables_digests_trusted(o);
	p->diff.fallback_was = o->exists ? o->cfg.redirect_fallback : fallback;
	p->diff.fallback_now = fallback;
	return 0;
}

void xtc_tables_plan_free(struct xtc_tables_plan *p)
{
	if (!p)
		return;
	free(p->own_add);
	free(p->chg);
	free(p->chg_old);
	free(p->del);
	free(p->next);
	free(p->dig_ids);
	free(p->own_dig);
	entry_table_free(&p->built);
	memset(p, 0, sizeof(*p));
}
