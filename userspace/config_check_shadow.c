// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Shadowed rules: a rule that can never match because one earlier rule
 * matches every packet it would.  Reported as warnings; reverse = yes
 * mirrors are never reported, but they may be the earlier rule.
 *
 * Finding the earlier rule must stay near-linear for a million rules, so
 * candidates come from a tuple-space search over the rules' own expansions
 * (the classifier's entries): every earlier rule with an expansion that
 * contains the rule's first expansion.  Each candidate is then checked
 * exactly, field by field, against the whole rule (every element
 * combination of its sets; config_cover.c).  A candidate must cover the
 * rule alone: a rule that only several earlier rules cover together is not
 * found.  That would need a search over unions; one earlier rule is what
 * the warning promises to name.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_raw.h"
#include "entry_table.h"
#include "tss.h"
#include "xtc_shared.h"

/* One slot per expansion; prio beside the hash so that a probe touches one line. */
struct slot {
	__u64 hash;			/* 0: empty */
	__u32 rule;			/* the earliest rule with that expansion */
	__u32 prio;
};

struct shadow {
	const struct xtc_model *m;
	struct cover_ctx *cover;
	struct xtc_flow_key shapes[XTC_MAX_MASKS];
	__u64 subsets[XTC_MAX_MASKS];	/* bit j: shape j is inside shape i */
	int n_shapes;
	int n_subsets;			/* shapes that subsets[] knows */
	int last_shape;
	struct slot *slots;		/* open addressing */
	size_t cap;
	__u32 cur;			/* rule being added */
	/* the first expansion of the rule being checked */
	bool got_first;
	struct xtc_flow_key first_mask, first_key;
};

/* The shape's slot, or -1: a model that passed the limits check has at most XTC_MAX_MASKS. */
static int shape_of(struct shadow *sh, const struct xtc_flow_key *mask, bool add)
{
	int i;

	if (sh->n_shapes && !memcmp(&sh->shapes[sh->last_shape], mask, sizeof(*mask)))
		return sh->last_shape;
	for (i = 0; i < sh->n_shapes; i++)
		if (!memcmp(&sh->shapes[i], mask, sizeof(*mask)))
			return sh->last_shape = i;
	if (!add || sh->n_shapes >= XTC_MAX_MASKS)
		return -1;
	sh->shapes[sh->n_shapes] = *mask;
	return sh->last_shape = sh->n_shapes++;
}

static __u64 atom_hash(int shape, const struct xtc_flow_key *key)
{
	struct xtc_flow_key k = *key;
	__u64 h;

	k.mask_id = (__u16)shape;
	h = entry_key_hash(&k);
	return h ? h : 1;
}

/*
 * Equal hashes of different expansions share a slot (keeping the earlier
 * rule): that can only hide a candidate, never invent one, since every
 * candidate is checked exactly.
 */
static int add_atom(void *ctx, const struct xtc_flow_key *mask, const struct xtc_flow_key *key)
{
	struct shadow *sh = ctx;
	int shape = shape_of(sh, mask, true);
	__u32 prio = sh->m->rules[sh->cur].prio;
	struct slot *sl;
	__u64 h;
	size_t j;

	if (shape < 0)
		return -E2BIG;
	h = atom_hash(shape, key);
	for (j = h & (sh->cap - 1); (sl = &sh->slots[j])->hash; j = (j + 1) & (sh->cap - 1)) {
		if (sl->hash != h)
			continue;
		if (prio < sl->prio)
			*sl = (struct slot){ .hash = h, .rule = sh->cur, .prio = prio };
		return 0;
	}
	*sl = (struct slot){ .hash = h, .rule = sh->cur, .prio = prio };
	return 0;
}

static int first_atom(void *ctx, const struct xtc_flow_key *mask, const struct xtc_flow_key *key)
{
	struct shadow *sh = ctx;

	sh->first_mask = *mask;
	sh->first_key = *key;
	sh->got_first = true;
	return 1;		/* one is enough: stop */
}

static const struct slot *lookup(const struct shadow *sh, __u64 h)
{
	size_t j;

	for (j = h & (sh->cap - 1); sh->slots[j].hash; j = (j + 1) & (sh->cap - 1))
		if (sh->slots[j].hash == h)
			return &sh->slots[j];
	return NULL;
}

/* Bit j: shape j is inside mask (every bit it tests, mask tests too). */
static __u64 subset_bits(const struct shadow *sh, const struct xtc_flow_key *mask)
{
	const __u32 *mi = (const __u32 *)mask;
	__u64 bits = 0;
	size_t w;
	int j;

	for (j = 0; j < sh->n_shapes; j++) {
		const __u32 *mj = (const __u32 *)&sh->shapes[j];

		for (w = 0; w < sizeof(*mask) / 4 && !(mj[w] & ~mi[w]); w++)
			;
		if (w == sizeof(*mask) / 4)
			bits |= 1ULL << j;
	}
	return bits;
}

static void find_subsets(struct shadow *sh)
{
	int i;

	for (i = 0; i < sh->n_shapes; i++)
		sh->subsets[i] = subset_bits(sh, &sh->shapes[i]);
	sh->n_subsets = sh->n_shapes;
}

/* The earliest rule that covers b, or NULL. */
static const struct xtc_rule *covering_rule(struct shadow *sh, const struct xtc_rule *b, int *err)
{
	const struct xtc_rule *best = NULL;
	__u64 hashes[XTC_MAX_MASKS], bits;
	int shape, rc, n = 0, i;

	sh->got_first = false;
	rc = xtc_tss_expand(b, first_atom, sh);
	if (rc < 0) {
		*err = rc;
		return NULL;
	}
	if (!sh->got_first)
		return NULL;	/* matches nothing (an empty set): not a shadow */
	/*
	 * A rule of no family is one expansion for both; the rule covering it
	 * may have one per family (src = @set of 0.0.0.0/0 and ::/0).  Its IPv4
	 * half finds both kinds, and covers() checks the IPv6 half.
	 */
	if (!sh->first_mask.family) {
		sh->first_mask.family = 0xff;
		sh->first_key.family = XTC_FAMILY_V4;
	}
	/* A shape no earlier rule has may still contain earlier ones. */
	shape = shape_of(sh, &sh->first_mask, false);
	bits = shape >= 0 ? sh->subsets[shape] : subset_bits(sh, &sh->first_mask);
	/* Hash every probe first and fetch its slot: the misses then overlap. */
	for (; bits; bits &= bits - 1) {
		int j = __builtin_ctzll(bits);
		struct xtc_flow_key k = sh->first_key;
		const __u32 *mw = (const __u32 *)&sh->shapes[j];
		__u32 *kw = (__u32 *)&k;
		size_t w;

		for (w = 0; w < sizeof(k) / 4; w++)
			kw[w] &= mw[w];
		hashes[n] = atom_hash(j, &k);
		__builtin_prefetch(&sh->slots[hashes[n] & (sh->cap - 1)]);
		n++;
	}
	for (i = 0; i < n && !*err; i++) {
		const struct slot *sl = lookup(sh, hashes[i]);
		const struct xtc_rule *a;

		if (!sl || sl->prio >= b->prio || (best && sl->prio >= best->prio))
			continue;
		a = &sh->m->rules[sl->rule];
		if (cfg_covers(sh->cover, a, b, err))
			best = a;
	}
	return best;
}

static void shadow_free(struct shadow *sh)
{
	cfg_cover_free(sh->cover);
	free(sh->slots);
}

/*
 * One pass in priority order: each rule is checked against the rules before
 * it, then added.  Mirrors follow the file's rules in m->rules but sit right
 * behind their originals in priority, so the two runs are merged.
 */
int cfg_check_shadow(struct ctx *c, const struct xtc_model *m)
{
	struct shadow sh = { .m = m };
	int r, n_file, next_file, next_mirror, err = 0;
	size_t atoms = 0;

	for (n_file = 0; n_file < m->n_rules && !m->rules[n_file].generated; n_file++)
		;
	for (r = 0; r < m->n_rules; r++) {
		size_t n = xtc_tss_rule_entries(&m->rules[r]);

		atoms = n > SIZE_MAX / 4 - atoms ? SIZE_MAX / 4 : atoms + n;
	}
	for (sh.cap = 1024; sh.cap < atoms + atoms / 2; sh.cap *= 2)
		;
	sh.cover = cfg_cover_new(m);
	sh.slots = calloc(sh.cap, sizeof(*sh.slots));
	if (!sh.cover || !sh.slots) {
		err = -ENOMEM;
		goto out;
	}
	for (next_file = 0, next_mirror = n_file; !err && (next_file < n_file ||
							    next_mirror < m->n_rules);) {
		const struct xtc_rule *b, *a;
		char la[96], lb[96];

		if (next_mirror < m->n_rules && (next_file == n_file ||
		    m->rules[next_mirror].prio < m->rules[next_file].prio))
			r = next_mirror++;
		else
			r = next_file++;
		b = &m->rules[r];
		a = b->generated ? NULL : covering_rule(&sh, b, &err);
		if (a) {
			cfg_rule_label(a, la, sizeof(la));
			cfg_rule_label(b, lb, sizeof(lb));
			cfg_warn_at(c, cfg_file_index(c, b->file), b->line, "%s can never match: "
				    "%s at %s:%d matches every packet it would", lb, la, a->file,
				    a->line);
		}
		sh.cur = (__u32)r;
		if (!err)
			err = xtc_tss_expand(b, add_atom, &sh);
		/* Subsets change only when a shape is new; there are at most XTC_MAX_MASKS. */
		if (sh.n_shapes != sh.n_subsets)
			find_subsets(&sh);
	}
	/* More shapes than the classifier takes: the limits check said so already. */
	if (err == -E2BIG)
		err = 0;
out:
	shadow_free(&sh);
	return err;
}
