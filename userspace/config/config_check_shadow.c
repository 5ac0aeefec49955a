// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Shadowed rules: a rule that can never match because earlier rules match
 * every packet it would.  Reported as warnings; reverse = yes mirrors are
 * never reported, but they may be among the earlier rules.
 *
 * Finding the earlier rules must stay near-linear for a million rules, so
 * they come from a tuple-space search over the rules' own expansions (the
 * classifier's entries).  First one rule alone: every earlier rule with an
 * expansion that contains the rule's first expansion is checked exactly,
 * field by field, against the whole rule (every element combination of its
 * sets; config_cover.c).  Then a union: the first expansion's lowest packet
 * is looked up the way the classifier would, in every tuple space; when no
 * earlier rule matches it the rule is not shadowed, which is the answer for
 * nearly every rule at the cost of one probe per space.  Otherwise the
 * rule's packets become boxes (config_cover_union.c) and the earliest rule
 * that matches a packet still left is taken out, again and again, until
 * nothing is left (shadowed, by the rules taken out) or a packet is left
 * that no earlier rule matches (not shadowed).  Each rule taken out takes at
 * least that packet, so the rules named are ones the classifier would pick
 * for some of the packets.  At most UNION_MAX_RULES rules are taken out for
 * one rule, and config_cover_union.c caps the boxes and the work; past a cap
 * the rule is taken as not shadowed.
 */
#define _GNU_SOURCE		/* asprintf */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_raw.h"
#include "entry_table.h"
#include "log.h"
#include "tss.h"
#include "xtc_shared.h"

/*
 * One slot per expansion, 8 bytes so that the table stays in cache longer:
 * the hash's low bits are where the slot is, its high half is kept.  The
 * rule's priority is read from the rule, on a hit only.
 */
struct slot {
	__u32 check;			/* the hash's high half, never 0; 0: empty */
	__u32 rule;			/* the earliest rule with that expansion */
};

static __u32 check_of(__u64 h)
{
	return h >> 32 ? (__u32)(h >> 32) : 1;
}

/* Earlier rules a union may take before the answer is "unknown": no warning. */
#define UNION_MAX_RULES 256

struct shadow {
	const struct xtc_model *m;
	struct cover_ctx *cover;
	struct cover_union *un;
	const struct xtc_rule *by[UNION_MAX_RULES];	/* the rules that cover the one checked */
	int n_by;
	int n_unknown;			/* rules a cap left unanswered */
	/* Expanded as the compile would, ranges of several blocks held whole (port_lens.h). */
	const struct xtc_port_lens *lens;
	struct xtc_shape shapes[XTC_MAX_MASKS];
	__u64 subsets[XTC_MAX_MASKS];	/* bit j: shape j is inside shape i */
	__u8 kinds[XTC_MAX_MASKS];	/* KIND_* of the packets shape i's expansions can match */
	__u8 words[XTC_MAX_MASKS];	/* bit w: shape i's mask tests 64-bit word w of a key */
	int n_shapes;
	int n_subsets;			/* shapes that subsets[] knows */
	int last_shape;
	struct slot *slots;		/* open addressing */
	size_t cap;
	size_t slots_bytes;		/* of the mapping (xtc_bigarr) */
	/*
	 * A bit per hash, 16 per expansion: small enough to stay in cache,
	 * where the slots do not, and most probes find nothing.
	 */
	__u64 *filter;
	size_t filter_bits, filter_bytes;
	__u32 cur;			/* rule being added */
	/* the first expansion of the rule being added, which its check probes */
	bool got_first;
	struct xtc_shape first_shape;
	struct xtc_flow_key first_key;
	/* Expansions of a block of rules, put in the slots together (shadow_pass()). */
	struct new_atom *adding;
	size_t n_adding, cap_adding;
	struct first *firsts;		/* BLOCK: each rule's first expansion */
	/* Warnings wait for the pass to end: one with too many shapes is done again. */
	struct pending *pending;
	size_t n_pending, cap_pending;
};

/* An expansion on its way into the slots. */
struct new_atom {
	__u64 h;
	__u32 rule;
};

struct first {
	bool got;
	struct xtc_shape shape;
	struct xtc_flow_key key;
};

/* A shadowed rule and the rules that cover it, as a warning will name them. */
struct pending {
	const struct xtc_rule *b;
	char *names;
	bool several;
};

#define KEY_WORDS (sizeof(struct xtc_flow_key) / 8)

static const __u64 word_mul[KEY_WORDS] = {
	0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL, 0x165667b19e3779f9ULL,
	0xd6e8feb86659fd93ULL, 0xff51afd7ed558ccdULL, 0xc4ceb9fe1a85ec53ULL,
};

static __u64 hash_done(__u64 h)
{
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	h ^= h >> 32;
	return h ? h : 1;
}

/*
 * Independent products summed, then mixed: the multiplies overlap,
 * where a chained hash waits on each.  Collisions only hide candidates.
 * A word that is 0 adds nothing, so probe() hashes only the words its
 * shape tests and gets the same.
 */
static __u64 atom_hash(int shape, const struct xtc_flow_key *key)
{
	__u64 w[KEY_WORDS], h = (__u64)shape * 0xbf58476d1ce4e5b9ULL;
	size_t i;

	memcpy(w, key, sizeof(w));
	w[0] &= ~0xffffULL;	/* mask_id: the shape stands for it */
	for (i = 0; i < KEY_WORDS; i++)
		h += (w[i] ^ (w[i] >> 29)) * word_mul[i];
	return hash_done(h);
}

static __u8 mask_words(const struct xtc_flow_key *mask)
{
	__u64 w[KEY_WORDS];
	__u8 bits = 0;
	size_t i;

	memcpy(w, mask, sizeof(w));
	w[0] &= ~0xffffULL;
	for (i = 0; i < KEY_WORDS; i++)
		if (w[i])
			bits |= 1u << i;
	return bits;
}

/*
 * The shape's slot, or -1: a model that passed the limits check has at most
 * XTC_MAX_MASKS as prefix blocks; with ranges held whole it may have more.
 */
static int shape_of(struct shadow *sh, const struct xtc_shape *shape, bool add)
{
	int i;

	if (sh->n_shapes && !memcmp(&sh->shapes[sh->last_shape], shape, sizeof(*shape)))
		return sh->last_shape;
	for (i = 0; i < sh->n_shapes; i++)
		if (!memcmp(&sh->shapes[i], shape, sizeof(*shape)))
			return sh->last_shape = i;
	if (!add || sh->n_shapes >= XTC_MAX_MASKS)
		return -1;
	sh->shapes[sh->n_shapes] = *shape;
	sh->words[sh->n_shapes] = mask_words(&shape->mask);
	return sh->last_shape = sh->n_shapes++;
}

/* Whether port passes span (none: every port). */
static bool in_span(__u16 port, const struct xtc_port_span *sp)
{
	return xtc_port_in_span(port, sp);
}

/* The ports of one field of an expansion: its span, its block, or every port. */
static void port_range(const struct xtc_port_span *sp, __u16 mask, __u16 key, __u32 *lo,
		       __u32 *hi)
{
	*lo = sp->hi ? sp->lo : key;
	*hi = sp->hi ? sp->hi : (__u32)key | (__u16)~mask;
}

/* Whether span a (none: every port) holds every port in [lo, hi]. */
static bool span_holds(const struct xtc_port_span *a, __u32 lo, __u32 hi)
{
	return !a->hi || (a->lo <= lo && hi <= a->hi);
}

/*
 * What kinds of packet a shape can match, as the classifier's mask list
 * keeps them: a probe for a packet of a kind no expansion of the shape
 * matches is skipped, so that a rule pays for the spaces of its own kind.
 */
#define KIND_FAMS 0x03			/* XTC_FB_* */
#define KIND_PROTOS 0x3c		/* XTC_PB_* << 2 */
#define KIND_DIRS 0xc0			/* 1 << (6 + enum xtc_dir) */

static __u8 key_kind(const struct xtc_flow_key *mask, const struct xtc_flow_key *key)
{
	__u8 k = key->family == XTC_FAMILY_V4 ? XTC_FB_V4 : key->family == XTC_FAMILY_V6 ?
		 XTC_FB_V6 : XTC_FB_V4 | XTC_FB_V6;

	k |= (mask->proto ? xtc_proto_bit(key->proto) : XTC_PB_ALL) << 2;
	return k | (key->dir ? 0x80 : 0x40);
}

/* atom_hash() of p masked by shape j, from the words j tests only. */
static __u64 probe_hash(const struct shadow *sh, int j, const struct xtc_flow_key *p)
{
	__u64 pw[KEY_WORDS], mw[KEY_WORDS], h = (__u64)j * 0xbf58476d1ce4e5b9ULL, x;
	size_t i;

	memcpy(pw, p, sizeof(pw));
	memcpy(mw, &sh->shapes[j].mask, sizeof(mw));
	mw[0] &= ~0xffffULL;
	for (i = 0; i < KEY_WORDS; i++) {
		if (!(sh->words[j] >> i & 1))
			continue;
		x = pw[i] & mw[i];
		h += (x ^ (x >> 29)) * word_mul[i];
	}
	return hash_done(h);
}

static size_t filter_bit(const struct shadow *sh, __u64 h)
{
	return (size_t)(h >> 32) & (sh->filter_bits - 1);
}

static bool filter_has(const struct shadow *sh, __u64 h)
{
	size_t b = filter_bit(sh, h);

	return sh->filter[b / 64] >> (b % 64) & 1;
}

static void first_atom(struct shadow *sh, const struct xtc_shape *shape,
		       const struct xtc_flow_key *key)
{
	sh->first_shape = *shape;
	sh->first_key = *key;
	/* The lowest packet of a range held whole has its lowest port, not port 0. */
	if (shape->sport.hi)
		sh->first_key.sport = shape->sport.lo;
	if (shape->dport.hi)
		sh->first_key.dport = shape->dport.lo;
	sh->got_first = true;
}

/*
 * Equal hashes of different expansions share a slot (keeping the earlier
 * rule): that can only hide a candidate, never invent one, since every
 * candidate is checked exactly.
 */
static void insert(struct shadow *sh, __u64 h, __u32 rule)
{
	const struct xtc_rule *rules = sh->m->rules;
	__u32 check = check_of(h);
	struct slot *sl;
	size_t j;

	for (j = h & (sh->cap - 1); (sl = &sh->slots[j])->check; j = (j + 1) & (sh->cap - 1)) {
		if (sl->check != check)
			continue;
		if (rules[rule].prio < rules[sl->rule].prio)
			sl->rule = rule;
		return;
	}
	*sl = (struct slot){ .check = check, .rule = rule };
}

#define AHEAD 16			/* slots fetched ahead of their insert */

/* The expansions waiting in sh->adding, into the slots: their cache misses overlap. */
static void insert_adding(struct shadow *sh)
{
	size_t i;

	for (i = 0; i < sh->n_adding && i < AHEAD; i++)
		__builtin_prefetch(&sh->slots[sh->adding[i].h & (sh->cap - 1)], 1);
	for (i = 0; i < sh->n_adding; i++) {
		if (i + AHEAD < sh->n_adding)
			__builtin_prefetch(&sh->slots[sh->adding[i + AHEAD].h & (sh->cap - 1)], 1);
		insert(sh, sh->adding[i].h, sh->adding[i].rule);
	}
	sh->n_adding = 0;
}

/* Expansions a block gathers before they go in: a rule with big sets has many. */
#define ADDING_MAX 4096

static int add_atom(void *ctx, const struct xtc_shape *shape_, const struct xtc_flow_key *key)
{
	const struct xtc_flow_key *mask = &shape_->mask;
	struct shadow *sh = ctx;
	int shape = shape_of(sh, shape_, true);
	size_t bit;
	__u64 h;

	if (shape < 0)
		return -E2BIG;
	if (!sh->got_first)
		first_atom(sh, shape_, key);
	sh->kinds[shape] |= key_kind(mask, key);
	h = atom_hash(shape, key);
	bit = filter_bit(sh, h);
	sh->filter[bit / 64] |= 1ULL << (bit % 64);
	if (sh->n_adding == ADDING_MAX)
		insert_adding(sh);
	sh->adding[sh->n_adding++] = (struct new_atom){ .h = h, .rule = sh->cur };
	return 0;
}

static const struct slot *lookup(const struct shadow *sh, __u64 h)
{
	__u32 check = check_of(h);
	size_t j;

	for (j = h & (sh->cap - 1); sh->slots[j].check; j = (j + 1) & (sh->cap - 1))
		if (sh->slots[j].check == check)
			return &sh->slots[j];
	return NULL;
}

/*
 * Bit j: shape j's mask is inside shape's (every bit it tests, shape tests
 * too).  Whether j's spans hold an expansion's ports depends on the
 * expansion: probe() looks.
 */
static __u64 subset_bits(const struct shadow *sh, const struct xtc_shape *shape)
{
	const __u32 *mi = (const __u32 *)&shape->mask;
	__u64 bits = 0;
	size_t w;
	int j;

	for (j = 0; j < sh->n_shapes; j++) {
		const __u32 *mj = (const __u32 *)&sh->shapes[j].mask;

		for (w = 0; w < sizeof(shape->mask) / 4 && !(mj[w] & ~mi[w]); w++)
			;
		if (w == sizeof(shape->mask) / 4)
			bits |= 1ULL << j;
	}
	return bits;
}

/* Bit j: shape j's spans hold every port of the expansion (shape, key). */
static __u64 spans_hold(const struct shadow *sh, const struct xtc_shape *shape,
			const struct xtc_flow_key *key)
{
	__u32 slo, shi, dlo, dhi;
	__u64 bits = 0;
	int j;

	port_range(&shape->sport, shape->mask.sport, key->sport, &slo, &shi);
	port_range(&shape->dport, shape->mask.dport, key->dport, &dlo, &dhi);
	for (j = 0; j < sh->n_shapes; j++)
		if (span_holds(&sh->shapes[j].sport, slo, shi) &&
		    span_holds(&sh->shapes[j].dport, dlo, dhi))
			bits |= 1ULL << j;
	return bits;
}

static void find_subsets(struct shadow *sh)
{
	int i;

	for (i = 0; i < sh->n_shapes; i++)
		sh->subsets[i] = subset_bits(sh, &sh->shapes[i]);
	sh->n_subsets = sh->n_shapes;
}

/* A found expansion of an earlier rule: which rule, and its priority. */
struct hit {
	__u32 rule, prio;
	bool contains;			/* contains b's whole first expansion */
};

/*
 * The expansions that contain packet key p, one probe per tuple space, of
 * rules before b; contains marks those in the spaces of subsets (bits), that
 * contain b's first expansion whole.  Every probe is hashed and its slot
 * fetched first: the misses then overlap.
 */
static int probe(const struct shadow *sh, const struct xtc_rule *b, const struct xtc_flow_key *p,
		 __u64 subsets, struct hit *hits)
{
	static const struct xtc_flow_key any_proto = { .proto = 0xff };
	__u64 hashes[XTC_MAX_MASKS];
	__u8 kind = key_kind(&any_proto, p);
	int shape[XTC_MAX_MASKS], j, i, m = 0, n = 0;

	for (j = 0; j < sh->n_shapes; j++) {
		if (!(sh->kinds[j] & kind & KIND_FAMS) || !(sh->kinds[j] & kind & KIND_PROTOS) ||
		    !(sh->kinds[j] & kind & KIND_DIRS) || !in_span(p->sport, &sh->shapes[j].sport) ||
		    !in_span(p->dport, &sh->shapes[j].dport))
			continue;
		hashes[m] = probe_hash(sh, j, p);
		if (!filter_has(sh, hashes[m]))
			continue;
		shape[m] = j;
		__builtin_prefetch(&sh->slots[hashes[m] & (sh->cap - 1)]);
		m++;
	}
	for (i = 0; i < m; i++) {
		const struct slot *sl = lookup(sh, hashes[i]);
		__u32 prio = sl ? sh->m->rules[sl->rule].prio : 0;

		if (sl && prio < b->prio)
			hits[n++] = (struct hit){ sl->rule, prio, (subsets >> shape[i]) & 1 };
	}
	return n;
}

/*
 * The earliest of hits that runs where b does and matches p, or NULL.  A
 * hit that does not match p is two expansions with one hash: the earlier
 * rule keeps the slot, so the other may go unseen, which can only miss a
 * warning.
 */
static const struct xtc_rule *earliest_match(struct shadow *sh, const struct xtc_rule *b,
					     const struct xtc_flow_key *p, struct hit *hits, int n,
					     int *err)
{
	const struct xtc_rule *a;
	int i, best;

	for (;;) {
		for (i = 0, best = -1; i < n; i++)
			if (best < 0 || hits[i].prio < hits[best].prio)
				best = i;
		if (best < 0)
			return NULL;
		a = &sh->m->rules[hits[best].rule];
		if (cfg_scope_covers(a, b) && cfg_rule_matches(sh->cover, a, p, err))
			return a;
		if (*err)
			return NULL;
		hits[best] = hits[--n];
	}
}

/*
 * The earlier rules that together cover b, a0 (which matches a packet of b)
 * first, into sh->by; sh->n_by stays 0 when some packet of b is left, or
 * when a cap made the answer unknown.
 */
static int union_cover(struct shadow *sh, const struct xtc_rule *b, const struct xtc_rule *a0)
{
	struct hit hits[XTC_MAX_MASKS];
	const struct xtc_rule *a = a0;
	struct xtc_flow_key p;
	bool removed;
	int n, err;

	sh->n_by = 0;
	/* Its box lists take about 2 MiB: made when a rule first needs them, as most files never do. */
	if (!sh->un && !(sh->un = cfg_union_new(sh->cover)))
		return -ENOMEM;
	err = cfg_union_start(sh->un, b);
	while (!err && cfg_union_point(sh->un, &p)) {
		if (!a) {
			p.dir = b->dir;
			p.ifindex = b->ifindex;
			n = probe(sh, b, &p, 0, hits);
			a = earliest_match(sh, b, &p, hits, n, &err);
			if (!a)
				break;
		}
		if (sh->n_by == UNION_MAX_RULES) {
			err = -E2BIG;
			break;
		}
		err = cfg_union_subtract(sh->un, a, &removed);
		/* a matches a packet that was left: it cannot take nothing, or the loop would not end. */
		if (!err && !removed)
			err = -E2BIG;
		sh->by[sh->n_by++] = a;
		a = NULL;
	}
	if (err || cfg_union_point(sh->un, &p))
		sh->n_by = 0;
	if (err != -E2BIG)
		return err;
	sh->n_unknown++;
	return 0;
}

/* The earlier rules that cover b, into sh->by: one when one rule does. */
static int covering_rules(struct shadow *sh, const struct xtc_rule *b)
{
	const struct xtc_rule *best = NULL, *a0;
	struct hit hits[XTC_MAX_MASKS];
	int shape, n, i, err = 0;
	__u64 bits;

	sh->n_by = 0;
	if (!sh->got_first)
		return 0;	/* matches nothing (an empty set): not a shadow */
	/*
	 * A rule of no family is one expansion for both; the rule covering it
	 * may have one per family (src = @set of 0.0.0.0/0 and ::/0).  Its IPv4
	 * half finds both kinds, and covers() checks the IPv6 half.  The key is
	 * then the lowest packet of the expansion, a real one: no ports means
	 * no XTC_KF_L4, and ports come with proto = tcp or udp.
	 */
	if (!sh->first_shape.mask.family) {
		sh->first_shape.mask.family = 0xff;
		sh->first_key.family = XTC_FAMILY_V4;
	}
	/* A shape no earlier rule has may still contain earlier ones. */
	shape = shape_of(sh, &sh->first_shape, false);
	bits = shape >= 0 ? sh->subsets[shape] : subset_bits(sh, &sh->first_shape);
	bits &= spans_hold(sh, &sh->first_shape, &sh->first_key);
	n = probe(sh, b, &sh->first_key, bits, hits);
	for (i = 0; i < n && !err; i++) {
		const struct xtc_rule *a = &sh->m->rules[hits[i].rule];

		if (hits[i].contains && (!best || hits[i].prio < best->prio) &&
		    cfg_covers(sh->cover, a, b, &err))
			best = a;
	}
	if (err)
		return err;
	if (best) {
		sh->by[sh->n_by++] = best;
		return 0;
	}
	a0 = earliest_match(sh, b, &sh->first_key, hits, n, &err);
	if (!a0 || err)
		return err;
	return union_cover(sh, b, a0);
}

static int cmp_prio(const void *x, const void *y)
{
	const struct xtc_rule *a = *(const struct xtc_rule *const *)x;
	const struct xtc_rule *b = *(const struct xtc_rule *const *)y;

	return a->prio < b->prio ? -1 : a->prio > b->prio;
}

/* How many covering rules a warning names before "and N more". */
#define NAMED 3

/* "[rule A] at F:L, [rule C] at F:L and 2 more": the covering rules in file order. */
static char *name_rules(struct shadow *sh)
{
	char *out = NULL, *prev, la[96];
	int i, named = sh->n_by > NAMED + 1 ? NAMED : sh->n_by, rc = 0;

	qsort(sh->by, (size_t)sh->n_by, sizeof(sh->by[0]), cmp_prio);
	for (i = 0; i < named && rc >= 0; i++) {
		const char *sep = !i ? "" : i + 1 < named || named < sh->n_by ? ", " : " and ";

		cfg_rule_label(sh->by[i], la, sizeof(la));
		prev = out;
		rc = asprintf(&out, "%s%s%s at %s:%d", prev ? prev : "", sep, la, sh->by[i]->file,
			      sh->by[i]->line);
		free(prev);
	}
	if (rc >= 0 && named < sh->n_by) {
		prev = out;
		rc = asprintf(&out, "%s and %d more", prev, sh->n_by - named);
		free(prev);
	}
	return rc < 0 ? NULL : out;
}

/* Keeps b's warning for the end of the pass. */
static int note_shadowed(struct shadow *sh, const struct xtc_rule *b)
{
	char *names = name_rules(sh);

	if (!names)
		return -ENOMEM;
	if (sh->n_pending == sh->cap_pending) {
		size_t cap = sh->cap_pending ? 2 * sh->cap_pending : 64;
		struct pending *p = realloc(sh->pending, cap * sizeof(*p));

		if (!p) {
			free(names);
			return -ENOMEM;
		}
		sh->pending = p;
		sh->cap_pending = cap;
	}
	sh->pending[sh->n_pending++] = (struct pending){ .b = b, .names = names,
							 .several = sh->n_by > 1 };
	return 0;
}

static void warn_pending(struct ctx *c, const struct shadow *sh)
{
	char lb[96];
	size_t i;

	for (i = 0; i < sh->n_pending; i++) {
		const struct pending *p = &sh->pending[i];

		cfg_rule_label(p->b, lb, sizeof(lb));
		cfg_warn_at(c, cfg_file_index(c, p->b->file), p->b->line, "%s can never match: "
			    "%s %s every packet it would", lb, p->names,
			    p->several ? "together match" : "matches");
	}
}

static void pending_free(struct shadow *sh)
{
	size_t i;

	for (i = 0; i < sh->n_pending; i++)
		free(sh->pending[i].names);
	free(sh->pending);
	sh->pending = NULL;
	sh->n_pending = sh->cap_pending = 0;
}

static void shadow_free(struct shadow *sh)
{
	cfg_union_free(sh->un);
	cfg_cover_free(sh->cover);
	xtc_bigarr_free(sh->slots, sh->slots_bytes);
	xtc_bigarr_free(sh->filter, sh->filter_bytes);
	free(sh->adding);
	free(sh->firsts);
	pending_free(sh);
}

/* Rules added together, then checked one by one. */
#define BLOCK 64

/*
 * One pass in priority order: each rule is checked against the rules before
 * it.  Mirrors follow the file's rules in m->rules but sit right behind
 * their originals in priority, so the two runs are merged.  Rules are added
 * a block at a time, before they are checked: one expansion serves both,
 * and the block's slots are fetched together.  Probes pass by the slots of
 * a rule and those after it (not earlier than the rule checked), and a
 * slot that an earlier rule shares keeps the earlier rule, so the answers
 * are those of adding one rule at a time.  Returns -E2BIG when the
 * expansions need more shapes than XTC_MAX_MASKS.
 */
static int shadow_pass(struct shadow *sh, const struct xtc_model *m)
{
	int r, n_file, next_file, next_mirror, block[BLOCK], nb, i, err = 0;
	size_t atoms = 0;

	for (n_file = 0; n_file < m->n_rules && !m->rules[n_file].generated; n_file++)
		;
	for (r = 0; r < m->n_rules; r++) {
		size_t n = xtc_tss_rule_entries_lens(&m->rules[r], sh->lens);

		atoms = n > SIZE_MAX / 4 - atoms ? SIZE_MAX / 4 : atoms + n;
	}
	for (sh->cap = 1024; sh->cap < atoms + atoms / 2; sh->cap *= 2)
		;
	for (sh->filter_bits = 4096; sh->filter_bits < 16 * atoms; sh->filter_bits *= 2)
		;
	sh->cover = cfg_cover_new(m);
	/* Mapped, not from this thread's heap, which would keep it after the thread ends. */
	sh->adding = malloc(ADDING_MAX * sizeof(*sh->adding));
	sh->firsts = malloc(BLOCK * sizeof(*sh->firsts));
	if (!sh->cover || !sh->adding || !sh->firsts ||
	    xtc_bigarr_reserve((void **)&sh->slots, &sh->slots_bytes, sh->cap, sizeof(*sh->slots)) ||
	    xtc_bigarr_reserve((void **)&sh->filter, &sh->filter_bytes, sh->filter_bits / 64,
			       sizeof(*sh->filter)))
		return -ENOMEM;
	/*
	 * Written before a probe reads them.  A read first maps the shared zero
	 * page, and the first write after it then flushes the TLB of every CPU
	 * the process runs on: an interrupt to the main thread per 4 KiB, which
	 * under a hypervisor took a sixth of this pass.
	 */
	memset(sh->slots, 0, sh->cap * sizeof(*sh->slots));
	memset(sh->filter, 0, sh->filter_bits / 8);
	for (next_file = 0, next_mirror = n_file; !err && (next_file < n_file ||
							    next_mirror < m->n_rules);) {
		for (nb = 0; !err && nb < BLOCK && (next_file < n_file || next_mirror < m->n_rules);
		     nb++) {
			if (next_mirror < m->n_rules && (next_file == n_file ||
			    m->rules[next_mirror].prio < m->rules[next_file].prio))
				r = next_mirror++;
			else
				r = next_file++;
			block[nb] = r;
			sh->cur = (__u32)r;
			sh->got_first = false;
			err = xtc_tss_expand(&m->rules[r], sh->lens, add_atom, sh);
			sh->firsts[nb] = (struct first){ sh->got_first, sh->first_shape,
							 sh->first_key };
		}
		if (err)
			break;
		insert_adding(sh);
		/* Subsets change only when a shape is new; there are at most XTC_MAX_MASKS. */
		if (sh->n_shapes != sh->n_subsets)
			find_subsets(sh);
		for (i = 0; i < nb && !err; i++) {
			const struct xtc_rule *b = &m->rules[block[i]];

			sh->n_by = 0;
			sh->got_first = sh->firsts[i].got;
			sh->first_shape = sh->firsts[i].shape;
			sh->first_key = sh->firsts[i].key;
			if (!b->generated)
				err = covering_rules(sh, b);
			if (!err && sh->n_by)
				err = note_shadowed(sh, b);
		}
	}
	return err;
}

/*
 * Ranges of several blocks held whole make fewer expansions to add and
 * probe (a million rules of the bench's mix: 1.0M instead of 2.4M), as the
 * compile does.  Held whole they may need more than XTC_MAX_MASKS shapes:
 * then the pass is done again with prefix blocks, within the shapes that
 * the limits check counted.
 */
int cfg_check_shadow(struct ctx *c, const struct xtc_model *m)
{
	struct xtc_port_lens lens;
	struct shadow sh = { .m = m };
	int err;

	xtc_port_lens_choose(m->rules, m->n_rules, 0, XTC_PORT_SPANS_MAX, &lens);
	sh.lens = lens.sspans.n || lens.dspans.n ? &lens : NULL;
	err = shadow_pass(&sh, m);
	if (err == -E2BIG && sh.lens) {
		shadow_free(&sh);
		sh = (struct shadow){ .m = m };
		err = shadow_pass(&sh, m);
	}
	/* More shapes than the classifier takes: the limits check said so already. */
	if (err == -E2BIG)
		err = 0;
	if (!err)
		warn_pending(c, &sh);
	if (sh.n_unknown)
		pr_debug("shadowed rules: %d rule(s) not checked against several earlier rules "
			 "together: too much work\n", sh.n_unknown);
	shadow_free(&sh);
	return err;
}
