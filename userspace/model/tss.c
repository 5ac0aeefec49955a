// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The rule compiler; see tss.h.  One function, make_mask(), decides the
 * shape of every expansion, so that counting shapes (for check) and building
 * (for apply) cannot disagree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tss.h"
#include "entry_table.h"
#include "port_lens.h"
#include "util.h"
#include "log.h"

int xtc_port_prefixes(__u16 lo, __u16 hi, __u16 *vals, __u16 *masks)
{
	__u32 cur = lo, end = hi;
	int n = 0;

	while (cur <= end) {
		__u32 size = cur ? (cur & -cur) : 0x10000;

		while (cur + size - 1 > end)
			size >>= 1;
		vals[n] = cur;
		masks[n] = (__u16)~(size - 1);
		n++;
		cur += size;
	}
	return n;
}

/* ---- one rule's elements ---------------------------------------------- */

/* One side (src or dst) of a rule: its prefixes; none (n = 0, any) matches every address. */
struct side {
	const struct xtc_cidr *v;
	int n;
	bool any;
};

static struct side side_of(bool has, const struct xtc_cidr *one, const struct xtc_set *set)
{
	if (!has)
		return (struct side){ .any = true };
	if (set)
		return (struct side){ .v = set->prefixes, .n = set->n_prefixes };
	return (struct side){ .v = one, .n = 1 };
}

/* How many options a side offers: an absent side is one (no constraint). */
static int side_count(const struct side *s)
{
	return s->any ? 1 : s->n;
}

static const struct xtc_cidr *side_elem(const struct side *s, int i)
{
	return s->any ? NULL : &s->v[i];
}

/*
 * The family of one (src, dst) combination: 0 for any, or -1 when the two
 * (or the rule's own family, from proto = icmp) disagree: such a
 * combination does not exist.
 */
static int combo_family(const struct xtc_rule *r, const struct xtc_cidr *s,
			const struct xtc_cidr *d)
{
	int fam = r->family;

	if (s) {
		if (fam && s->family != fam)
			return -1;
		fam = s->family;
	}
	if (d) {
		if (fam && d->family != fam)
			return -1;
		fam = d->family;
	}
	return fam;
}

/*
 * One block of a side's ports: a prefix (val/mask), or a range held whole
 * (span set, mask 0: the space leaves the port to the span).
 */
struct block {
	__u16 val, mask;
	struct xtc_port_span span;
};

/* A side's ports as blocks: all of a set's elements, or the one range, or any. */
struct blocks {
	struct block *b;
	int n;
	struct block inl[32];		/* enough unless it is a set */
};

/* One element's blocks into out (room for 32); returns how many. */
static int range_blocks(const struct xtc_port_range *pr, const struct xtc_port_spans *spans,
			struct block *out)
{
	__u16 v[32], m[32];
	int i, n;

	if (spans && spans->n && xtc_port_spans_has(spans, pr->lo, pr->hi)) {
		out[0] = (struct block){ .span = { .lo = pr->lo, .hi = pr->hi } };
		return 1;
	}
	n = xtc_port_prefixes(pr->lo, pr->hi, v, m);
	for (i = 0; i < n; i++)
		out[i] = (struct block){ .val = v[i], .mask = m[i] };
	return n;
}

static int blocks_of(bool has, const struct xtc_port_range *one, const struct xtc_set *set,
		     const struct xtc_port_spans *spans, struct blocks *b)
{
	struct block tmp[32];
	int i, n = 0;

	b->b = b->inl;
	if (!has) {
		b->b[0] = (struct block){ 0 };
		b->n = 1;
		return 0;
	}
	if (!set) {
		b->n = range_blocks(one, spans, b->b);
		return 0;
	}
	for (i = 0; i < set->n_ports; i++)
		n += range_blocks(&set->ports_r[i], spans, tmp);
	if (n > 32) {
		b->b = malloc((size_t)n * sizeof(*b->b));
		if (!b->b)
			return -ENOMEM;
	}
	for (i = 0, b->n = 0; i < set->n_ports; i++)
		b->n += range_blocks(&set->ports_r[i], spans, b->b + b->n);
	return 0;
}

static void blocks_free(struct blocks *b)
{
	if (b->b != b->inl)
		free(b->b);
	b->b = NULL;
}

/* Cuts b's prefix blocks into the lengths of lens (port_lens.h); 0 leaves them. */
static int blocks_cut(struct blocks *b, __u32 lens)
{
	struct block *nb;
	size_t n = 0, j = 0, k;
	int i;

	if (!lens)
		return 0;
	for (i = 0; i < b->n; i++) {
		int p = xtc_port_mask_len(b->b[i].mask);

		n += (size_t)1 << (xtc_port_lens_target(lens, p) - p);
	}
	if (n == (size_t)b->n)
		return 0;
	nb = malloc(n * sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	for (i = 0; i < b->n; i++) {
		int p = xtc_port_mask_len(b->b[i].mask), l = xtc_port_lens_target(lens, p);

		/* A span's mask is 0, whose target is 0: it stays one block. */
		for (k = 0; k < (size_t)1 << (l - p); k++, j++)
			nb[j] = (struct block){ .val = (__u16)(b->b[i].val + (k << (16 - l))),
						.mask = (__u16)(0xffffu << (16 - l)),
						.span = b->b[i].span };
	}
	blocks_free(b);
	b->b = nb;
	b->n = (int)n;
	return 0;
}

static int blocks_cut_of(bool has, const struct xtc_port_range *one, const struct xtc_set *set,
			 __u32 lens, const struct xtc_port_spans *spans, struct blocks *b)
{
	int err = blocks_of(has, one, set, spans, b);

	if (!err && has) {
		err = blocks_cut(b, lens);
		if (err)
			blocks_free(b);
	}
	return err;
}

static void prefix_mask(__u8 *mask, int bytes, int plen)
{
	int i;

	for (i = 0; i < bytes; i++) {
		int bits = plen - i * 8;

		mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

/* The shape of one expansion; splen/dplen -1 when the side is absent. */
static void make_mask(const struct xtc_rule *r, int fam, int splen, int dplen,
		      const struct block *sb, const struct block *db, struct xtc_shape *shape)
{
	struct xtc_flow_key *mask = &shape->mask;
	int alen = fam == XTC_FAMILY_V6 ? 16 : 4;

	memset(shape, 0, sizeof(*shape));
	shape->sport = sb->span;
	shape->dport = db->span;
	mask->dir = 0xff;
	if (r->ifindex)
		mask->ifindex = 0xffffffff;
	if (fam)
		mask->family = 0xff;
	if (r->has_proto)
		mask->proto = 0xff;
	if (splen >= 0)
		prefix_mask((__u8 *)mask->src, alen, splen);
	if (dplen >= 0)
		prefix_mask((__u8 *)mask->dst, alen, dplen);
	if (r->has_sport || r->has_dport)
		mask->flags = XTC_KF_L4;
	mask->sport = sb->mask;
	mask->dport = db->mask;
}

static void make_key(const struct xtc_rule *r, int fam, const struct xtc_cidr *s,
		     const struct xtc_cidr *d, __u16 sv, __u16 dv, const struct xtc_flow_key *mask,
		     struct xtc_flow_key *key)
{
	int alen = fam == XTC_FAMILY_V6 ? 16 : 4;
	__u32 *kw = (__u32 *)key;
	const __u32 *mw = (const __u32 *)mask;
	size_t w;

	memset(key, 0, sizeof(*key));
	key->dir = r->dir;
	key->ifindex = r->ifindex;
	key->family = (__u8)fam;
	key->proto = r->proto;
	key->flags = XTC_KF_L4;
	if (s)
		memcpy(key->src, s->addr, alen);
	if (d)
		memcpy(key->dst, d->addr, alen);
	key->sport = sv;
	key->dport = dv;
	for (w = 0; w < sizeof(*key) / 4; w++)
		kw[w] &= mw[w];
}

int xtc_tss_expand(const struct xtc_rule *r, const struct xtc_port_lens *lens,
		   xtc_tss_atom_fn fn, void *ctx)
{
	struct side src = side_of(r->has_src, &r->src, r->src_set);
	struct side dst = side_of(r->has_dst, &r->dst, r->dst_set);
	struct blocks sp, dp;
	int i, j, a, b, err;

	err = blocks_cut_of(r->has_sport, &r->sport, r->sport_set, lens ? lens->sport : 0,
			    lens ? &lens->sspans : NULL, &sp);
	if (err)
		return err;
	err = blocks_cut_of(r->has_dport, &r->dport, r->dport_set, lens ? lens->dport : 0,
			    lens ? &lens->dspans : NULL, &dp);
	if (err) {
		blocks_free(&sp);
		return err;
	}
	for (i = 0; i < side_count(&src) && !err; i++) {
		const struct xtc_cidr *s = side_elem(&src, i);

		for (j = 0; j < side_count(&dst) && !err; j++) {
			const struct xtc_cidr *d = side_elem(&dst, j);
			int fam = combo_family(r, s, d);

			if (fam < 0)
				continue;
			for (a = 0; a < sp.n && !err; a++) {
				for (b = 0; b < dp.n && !err; b++) {
					struct xtc_shape shape;
					struct xtc_flow_key key;

					make_mask(r, fam, s ? s->plen : -1, d ? d->plen : -1,
						  &sp.b[a], &dp.b[b], &shape);
					make_key(r, fam, s, d, sp.b[a].val, dp.b[b].val,
						 &shape.mask, &key);
					err = fn(ctx, &shape, &key);
				}
			}
		}
	}
	blocks_free(&sp);
	blocks_free(&dp);
	return err;
}

/* ---- counting --------------------------------------------------------- */

/* Whether a listed space has shape (whose mask_id is 0), its own mask_id aside. */
static bool same_shape(const struct xtc_mask_ent *listed, const struct xtc_shape *shape)
{
	const struct xtc_flow_key *mask = &shape->mask;

	return !memcmp((const char *)&listed->mask + sizeof(mask->mask_id),
		       (const char *)mask + sizeof(mask->mask_id),
		       sizeof(*mask) - sizeof(mask->mask_id)) &&
	       !memcmp(&listed->sport, &shape->sport, sizeof(shape->sport)) &&
	       !memcmp(&listed->dport, &shape->dport, sizeof(shape->dport));
}

/* Where shape is in a list of spaces, or -1. */
static int fixed_find(const struct xtc_mask_ent *list, int n, const struct xtc_shape *shape)
{
	int i;

	for (i = 0; i < n; i++)
		if (same_shape(&list[i], shape))
			return i;
	return -1;
}


/* How many prefix blocks [lo, hi] is, as xtc_port_prefixes() cuts it. */
static size_t count_prefixes(__u32 lo, __u32 hi)
{
	size_t n = 0;

	while (lo <= hi) {
		__u32 size = lo ? (lo & -lo) : 0x10000;

		while (lo + size - 1 > hi)
			size >>= 1;
		n++;
		lo += size;
	}
	return n;
}

static size_t port_blocks(bool has, const struct xtc_port_range *one, const struct xtc_set *set,
			  const struct xtc_port_spans *spans)
{
	size_t cnt[17];

	if (!has)
		return 1;
	/* The usual one: a port or one range, counted without the lengths. */
	if (!set && (!spans || !spans->n))
		return count_prefixes(one->lo, one->hi);
	if (!set && spans->n == XTC_PORT_SPANS_ALL)
		return 1;
	return xtc_port_block_lens(one, set, spans, cnt);
}

/* How many of a side's options have family fam (an absent side: one). */
static size_t side_in_family(bool has, const struct xtc_cidr *one, const struct xtc_set *set,
			     int fam)
{
	if (!has)
		return 1;
	if (set)
		return (size_t)(fam == XTC_FAMILY_V4 ? set->n_v4 : set->n_v6);
	return one->family == fam;
}

size_t xtc_tss_rule_entries_lens(const struct xtc_rule *r, const struct xtc_port_lens *lens)
{
	static const int fams[] = { XTC_FAMILY_V4, XTC_FAMILY_V6 };
	size_t combos = 0, i;

	if (!r->has_src && !r->has_dst) {
		combos = 1;
	} else {
		for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
			if (r->family && r->family != fams[i])
				continue;
			combos = xtc_sat_add(combos, xtc_sat_mul(
				side_in_family(r->has_src, &r->src, r->src_set, fams[i]),
				side_in_family(r->has_dst, &r->dst, r->dst_set, fams[i])));
		}
	}
	return xtc_sat_mul(combos,
			   xtc_sat_mul(port_blocks(r->has_sport, &r->sport, r->sport_set,
						   lens ? &lens->sspans : NULL),
				       port_blocks(r->has_dport, &r->dport, r->dport_set,
						   lens ? &lens->dspans : NULL)));
}

size_t xtc_tss_rule_entries(const struct xtc_rule *r)
{
	return xtc_tss_rule_entries_lens(r, NULL);
}

size_t xtc_tss_rule_entries_whole(const struct xtc_rule *r)
{
	static const struct xtc_port_lens all = { .sspans.n = XTC_PORT_SPANS_ALL,
						  .dspans.n = XTC_PORT_SPANS_ALL };

	return xtc_tss_rule_entries_lens(r, &all);
}

/* The distinct values of something small: prefix lengths or port masks of a side. */
struct distinct {
	int v[129];
	int n;
};

static void distinct_add(struct distinct *d, int v)
{
	int i;

	for (i = 0; i < d->n; i++)
		if (d->v[i] == v)
			return;
	d->v[d->n++] = v;
}

/* The prefix lengths of a side's options of family fam; {-1} for an absent side. */
static void side_plens(bool has, const struct xtc_cidr *one, const struct xtc_set *set, int fam,
		       struct distinct *d)
{
	int i;

	d->n = 0;
	if (!has) {
		d->v[d->n++] = -1;
		return;
	}
	if (!set) {
		if (one->family == fam)
			d->v[d->n++] = one->plen;
		return;
	}
	for (i = 0; i < set->n_prefixes && d->n < 129; i++)
		if (set->prefixes[i].family == fam)
			distinct_add(d, set->prefixes[i].plen);
}

/* The distinct (mask, span) blocks of a side, after the cut. */
struct distinct_blocks {
	struct block v[64];		/* 17 lengths and XTC_PORT_SPANS_MAX spans at most */
	int n;
};

static int port_masks(bool has, const struct xtc_port_range *one, const struct xtc_set *set,
		      const struct xtc_port_lens *lens, bool dport, struct distinct_blocks *d)
{
	struct blocks b;
	int i, j, err;

	err = blocks_cut_of(has, one, set, lens ? (dport ? lens->dport : lens->sport) : 0,
			    lens ? (dport ? &lens->dspans : &lens->sspans) : NULL, &b);
	if (err)
		return err;
	d->n = 0;
	for (i = 0; i < b.n; i++) {
		struct block x = { .mask = b.b[i].mask, .span = b.b[i].span };

		for (j = 0; j < d->n && memcmp(&d->v[j], &x, sizeof(x)); j++)
			;
		if (j == d->n && d->n < (int)ARRAY_SIZE(d->v))
			d->v[d->n++] = x;
	}
	blocks_free(&b);
	return 0;
}

struct shape_count {
	struct xtc_shape shapes[XTC_MAX_MASKS];
	int n;
	int last;			/* where the previous shape was found: rules come in runs */
};

/* Adds shape unless known: 0, or -E2BIG when it would be one too many. */
static int count_shape(struct shape_count *sc, const struct xtc_shape *shape)
{
	int i;

	if (sc->n && !memcmp(&sc->shapes[sc->last], shape, sizeof(*shape)))
		return 0;
	for (i = 0; i < sc->n; i++) {
		if (!memcmp(&sc->shapes[i], shape, sizeof(*shape))) {
			sc->last = i;
			return 0;
		}
	}
	if (sc->n >= XTC_MAX_MASKS)
		return -E2BIG;
	sc->shapes[sc->n] = *shape;
	sc->last = sc->n++;
	return 0;
}

typedef int (*shape_fn)(void *ctx, const struct xtc_shape *shape);

static int count_one(void *ctx, const struct xtc_shape *shape)
{
	return count_shape(ctx, shape);
}

/*
 * Every distinct shape of one rule, from the distinct prefix lengths and
 * port blocks of its sides: the cross product that xtc_tss_expand() walks
 * makes every combination of them, and nothing else.
 */
static int each_mask(const struct xtc_rule *r, const struct xtc_port_lens *lens, shape_fn fn,
		     void *ctx)
{
	static const int both[] = { XTC_FAMILY_V4, XTC_FAMILY_V6 };
	struct distinct sp, dp;
	struct distinct_blocks sm, dm;
	int fams[2], n_fams = 0, f, i, j, a, b, err;

	if (!r->has_src && !r->has_dst) {
		fams[n_fams++] = r->family;
	} else {
		for (f = 0; f < 2; f++)
			if (!r->family || r->family == both[f])
				fams[n_fams++] = both[f];
	}
	err = port_masks(r->has_sport, &r->sport, r->sport_set, lens, false, &sm);
	if (!err)
		err = port_masks(r->has_dport, &r->dport, r->dport_set, lens, true, &dm);
	for (f = 0; f < n_fams && !err; f++) {
		if (r->has_src || r->has_dst) {
			side_plens(r->has_src, &r->src, r->src_set, fams[f], &sp);
			side_plens(r->has_dst, &r->dst, r->dst_set, fams[f], &dp);
		} else {
			sp.n = dp.n = 1;
			sp.v[0] = dp.v[0] = -1;
		}
		for (i = 0; i < sp.n && !err; i++)
			for (j = 0; j < dp.n && !err; j++)
				for (a = 0; a < sm.n && !err; a++)
					for (b = 0; b < dm.n && !err; b++) {
						struct xtc_shape shape;

						make_mask(r, fams[f], sp.v[i], dp.v[j],
							  &sm.v[a], &dm.v[b], &shape);
						err = fn(ctx, &shape);
					}
	}
	return err;
}

static int count_rule(struct shape_count *sc, const struct xtc_rule *r)
{
	return each_mask(r, NULL, count_one, sc);
}

struct mask_bits {
	const struct xtc_mask_ent *list;
	int n;
	__u64 bits;
};

static int bit_of(void *ctx, const struct xtc_shape *shape)
{
	struct mask_bits *mb = ctx;
	int i = fixed_find(mb->list, mb->n, shape);

	if (i < 0)
		return -ESTALE;
	mb->bits |= mb->list[i].mask.mask_id < 64 ? 1ULL << mb->list[i].mask.mask_id : ~0ULL;
	return 0;
}

int xtc_tss_rule_mask_bits(const struct xtc_rule *r, const struct xtc_mask_ent *masks,
			   int n_masks, const struct xtc_port_lens *lens, __u64 *bits)
{
	struct mask_bits mb = { .list = masks, .n = n_masks };
	struct xtc_port_lens found;
	int err;

	if (!lens) {
		xtc_port_lens_of_list(masks, n_masks, &found);
		lens = &found;
	}
	err = each_mask(r, lens, bit_of, &mb);

	*bits = mb.bits;
	return err;
}

/*
 * What decides a rule's shapes (each_mask() without lens): two rules with
 * the same signature have the same shapes.  Big files repeat a few kinds of
 * rule, so the count looks at each kind once.
 */
struct shape_sig {
	const struct xtc_set *src_set, *dst_set, *sport_set, *dport_set;
	struct xtc_port_range sport, dport;
	__u8 src_fam, src_plen, dst_fam, dst_plen;
	__u8 family, has;		/* bits: ifindex, proto, src, dst, sport, dport */
	__u16 pad;
};

#define SIG_SLOTS 256		/* two ways of 128 */

static void sig_of(const struct xtc_rule *r, struct shape_sig *g)
{
	memset(g, 0, sizeof(*g));
	g->family = r->family;
	g->has = (r->ifindex != 0) | r->has_proto << 1 | r->has_src << 2 | r->has_dst << 3 |
		 r->has_sport << 4 | r->has_dport << 5;
	if (r->has_src && !(g->src_set = r->src_set)) {
		g->src_fam = r->src.family;
		g->src_plen = r->src.plen;
	}
	if (r->has_dst && !(g->dst_set = r->dst_set)) {
		g->dst_fam = r->dst.family;
		g->dst_plen = r->dst.plen;
	}
	if (r->has_sport && !(g->sport_set = r->sport_set))
		g->sport = r->sport;
	if (r->has_dport && !(g->dport_set = r->dport_set))
		g->dport = r->dport;
}

/* Whether a rule of this signature was counted already; if not, remembers it. */
static bool sig_seen(struct shape_sig *slots, const struct shape_sig *g)
{
	const __u32 *w = (const __u32 *)g;
	__u32 h = 0;
	size_t i;

	for (i = 0; i < sizeof(*g) / 4; i++)
		h = (h ^ w[i]) * 0x9e3779b1U;
	h = h >> 25 << 1;		/* the first of two slots */
	if (!memcmp(&slots[h], g, sizeof(*g)) || !memcmp(&slots[h + 1], g, sizeof(*g)))
		return true;
	slots[h + 1] = slots[h];
	slots[h] = *g;
	return false;
}

int xtc_tss_count_shapes(const struct xtc_rule *rules, int n_rules, int *n_shapes,
			 const struct xtc_rule **overflow)
{
	struct shape_count *sc = calloc(1, sizeof(*sc));
	struct shape_sig *seen = calloc(SIG_SLOTS, sizeof(*seen)), g;
	int r, err = 0;

	*overflow = NULL;
	if (!sc || !seen) {
		free(sc);
		free(seen);
		return -ENOMEM;
	}
	/* An all-zero slot would match a rule with nothing: not counted yet. */
	memset(seen, 0xff, SIG_SLOTS * sizeof(*seen));
	for (r = 0; r < n_rules && !err; r++) {
		sig_of(&rules[r], &g);
		if (sig_seen(seen, &g))
			continue;
		err = count_rule(sc, &rules[r]);
		if (err == -E2BIG)
			*overflow = &rules[r];
	}
	free(seen);
	*n_shapes = sc->n;
	free(sc);
	return err;
}

bool xtc_tss_shapes_within(const struct xtc_rule *r, const struct xtc_rule *of)
{
	struct shape_count *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	bool within = a && b && !count_rule(a, r) && !count_rule(b, of);
	int i, j;

	for (i = 0; within && i < a->n; i++) {
		for (j = 0; j < b->n && memcmp(&a->shapes[i], &b->shapes[j], sizeof(a->shapes[i])); j++)
			;
		within = j < b->n;
	}
	free(a);
	free(b);
	return within;
}

/* ---- shapes ----------------------------------------------------------- */

static int mask_find(const struct xtc_tss *t, const struct xtc_shape *shape)
{
	return fixed_find(t->masks, t->n_masks, shape);
}

static bool id_taken(const struct xtc_tss *t, const struct xtc_mask_list *prev, __u16 id)
{
	__u32 i;
	int j;

	for (j = 0; j < t->n_masks; j++)
		if (t->masks[j].mask.mask_id == id)
			return true;
	for (i = 0; prev && i < prev->count && i < XTC_MAX_MASKS; i++)
		if (prev->ent[i].mask.mask_id == id)
			return true;
	return false;
}

static __u16 mask_id_for(const struct xtc_tss *t, const struct xtc_mask_list *prev,
			 const struct xtc_shape *shape)
{
	int i = prev ? fixed_find(prev->ent, prev->count < XTC_MAX_MASKS ? (int)prev->count :
				  XTC_MAX_MASKS, shape) : -1;
	__u16 id;

	if (i >= 0)
		return prev->ent[i].mask.mask_id;
	for (id = 0; id_taken(t, prev, id); id++)
		;
	return id;
}

/* Adds one expansion's shape; returns the mask slot or a negative errno. */
static int add_shape(struct xtc_tss *t, const struct xtc_mask_list *prev,
		     const struct xtc_shape *shape)
{
	int i = mask_find(t, shape);

	if (i >= 0)
		return i;
	if (t->n_masks >= XTC_MAX_MASKS)
		return -E2BIG;
	i = t->n_masks++;
	t->masks[i].mask = shape->mask;
	t->masks[i].mask.mask_id = mask_id_for(t, prev, shape);
	t->masks[i].sport = shape->sport;
	t->masks[i].dport = shape->dport;
	t->masks[i].min_prio = ~0U;
	return i;
}

/* ---- one rule's entries ------------------------------------------------ */

/* The value every entry of r carries. */
static struct xtc_rule_val rule_val(const struct xtc_rule *r)
{
	return (struct xtc_rule_val){
		.prio = r->prio,
		.rule_id = r->id,
		.action = r->action,
		.mode = r->mode,
		.target_ifindex = r->target_auto ? XTC_TARGET_AUTO : r->target_ifindex,
	};
}

struct entries_ctx {
	/* Either: shapes are added to t as they come (compiling) ... */
	struct xtc_tss *t;
	const struct xtc_mask_list *prev;
	/* ... or looked up in a fixed list (the kernel's, or a compiled t's). */
	const struct xtc_mask_ent *fixed;
	int n_fixed;
	const struct xtc_rule *r;
	struct xtc_port_lens lens;	/* what port ranges are cut into */
	struct xtc_rule_val val;
	int last_slot;			/* expansions of one rule mostly share a shape */
	struct xtc_shape last_shape;
	/* Slots + 1 by a hash of the shape: a port range's blocks alternate between a few. */
	__u8 recent[16];
	xtc_tss_entry_fn fn;
	void *fn_ctx;
};

static unsigned int recent_of(const struct xtc_shape *shape)
{
	const __u32 *w = (const __u32 *)shape;
	__u32 h = 0;
	size_t i;

	for (i = 0; i < sizeof(*shape) / 4; i++)
		h = (h ^ w[i]) * 0x9e3779b1U;
	return h >> 28;
}



__u8 xtc_tss_entry_families(const struct xtc_flow_key *k)
{
	return k->family == XTC_FAMILY_V4 ? XTC_FB_V4 :
	       k->family == XTC_FAMILY_V6 ? XTC_FB_V6 : XTC_FB_V4 | XTC_FB_V6;
}

static int put_atom(void *ctx, const struct xtc_shape *shape, const struct xtc_flow_key *key)
{
	struct entries_ctx *b = ctx;
	struct xtc_tss_entry e = { .key = *key, .val = b->val };
	const struct xtc_mask_ent *list = b->t ? b->t->masks : b->fixed;
	int slot = b->last_slot;

	if (slot < 0 || memcmp(&b->last_shape, shape, sizeof(*shape))) {
		unsigned int ri = recent_of(shape);

		slot = b->recent[ri] - 1;
		if (slot < 0 || !same_shape(&list[slot], shape)) {
			slot = b->t ? add_shape(b->t, b->prev, shape) :
			       fixed_find(b->fixed, b->n_fixed, shape);
			if (slot < 0)
				return b->t ? slot : -ESTALE;
			b->recent[ri] = (__u8)(slot + 1);
		}
		b->last_slot = slot;
		b->last_shape = *shape;
		list = b->t ? b->t->masks : b->fixed;
	}
	e.key.mask_id = list[slot].mask.mask_id;
	if (b->t) {
		/*
		 * A shape's best priority and what it holds, from every expansion:
		 * merging equal keys keeps the lower priority and the same key, so
		 * the merged entries give the same answers.
		 */
		struct xtc_mask_ent *me = &b->t->masks[slot];

		if (e.val.prio < me->min_prio)
			me->min_prio = e.val.prio;
		me->families |= xtc_tss_entry_families(&e.key);
		me->protos |= me->mask.proto ? xtc_proto_bit(e.key.proto) : XTC_PB_ALL;
	}
	return b->fn(b->fn_ctx, &e);
}

int xtc_tss_rule_entries_in(const struct xtc_rule *r, const struct xtc_mask_ent *masks,
			    int n_masks, const struct xtc_port_lens *lens, xtc_tss_entry_fn fn,
			    void *ctx)
{
	struct entries_ctx b = {
		.fixed = masks, .n_fixed = n_masks, .r = r, .val = rule_val(r), .last_slot = -1,
		.fn = fn, .fn_ctx = ctx,
	};

	if (lens)
		b.lens = *lens;
	else
		xtc_port_lens_of_list(masks, n_masks, &b.lens);
	return xtc_tss_expand(r, &b.lens, put_atom, &b);
}

/*
 * An order-dependent running digest of entries: rotate, mix in the key's
 * hash (kh, which the entry table uses too), multiply.  The value, the same
 * for all of a rule's entries, goes in first.
 */
static void digest_add(struct xtc_rule_digest *d, const struct xtc_tss_entry *e, __u64 kh)
{
	__u64 h = d->hash;

	if (!d->n)
		h = entry_key_hash(&(struct xtc_flow_key){
			.ifindex = e->val.prio, .sport = (__u16)e->val.action,
			.dport = e->val.mode, .src = { e->val.rule_id, e->val.target_ifindex } });
	h = (h << 23 | h >> 41) ^ kh;
	d->hash = h * 0x9e3779b97f4a7c15ULL;
	d->n++;
}

static int digest_entry(void *ctx, const struct xtc_tss_entry *e)
{
	digest_add(ctx, e, entry_key_hash(&e->key));
	return 0;
}

static void digest_done(struct xtc_rule_digest *d)
{
	/* 0 means an unused slot, even for a rule that expands to nothing. */
	if (!d->hash)
		d->hash = 1;
}

int xtc_tss_rule_digest(const struct xtc_rule *r, const struct xtc_mask_ent *masks, int n_masks,
			const struct xtc_port_lens *lens, struct xtc_rule_digest *d)
{
	int err;

	memset(d, 0, sizeof(*d));
	err = xtc_tss_rule_entries_in(r, masks, n_masks, lens, digest_entry, d);
	digest_done(d);
	return err;
}

/* ---- a rule set ------------------------------------------------------- */

struct build_ctx {
	struct xtc_rule_digest *d;	/* the current rule's, or NULL */
	__u64 *mask_bits;		/* the current rule's, or NULL */
	struct entry_table *tab;	/* NULL: digests only */
};

static int build_entry(void *ctx, const struct xtc_tss_entry *e)
{
	struct build_ctx *b = ctx;
	__u64 kh = entry_key_hash(&e->key);

	if (b->d)
		digest_add(b->d, e, kh);
	if (b->mask_bits)
		*b->mask_bits |= e->key.mask_id < 64 ? 1ULL << e->key.mask_id : ~0ULL;
	return b->tab ? entry_table_put_hashed(b->tab, e, kh) : 0;
}

/* How many entries the rules expand to with lens's spans, before the cut and merging. */
static size_t count_entries(const struct xtc_rule *rules, int n_rules,
			    const struct xtc_port_lens *lens)
{
	size_t total = 0;
	int r;

	for (r = 0; r < n_rules; r++)
		total = xtc_sat_add(total, xtc_tss_rule_entries_lens(&rules[r], lens));
	return total;
}

static int cmp_mask(const void *a, const void *b)
{
	const struct xtc_mask_ent *x = a, *y = b;

	if (x->min_prio != y->min_prio)
		return x->min_prio < y->min_prio ? -1 : 1;
	return (int)x->mask.mask_id - (int)y->mask.mask_id;
}

/*
 * Compiles rules: shapes always; the per-rule digests when digests; the
 * merged entries when tab.  One pass, so a rule is expanded once.
 */
static int compile(const struct xtc_rule *rules, int n_rules, const struct xtc_mask_list *prev,
		   bool digests, struct entry_table *tab, struct xtc_tss *t)
{
	struct build_ctx bc = { .tab = tab };
	struct entries_ctx b = { .t = t, .prev = prev, .lens = t->lens, .fn = build_entry,
				 .fn_ctx = &bc };
	int r, err;

	if (digests) {
		t->digests = calloc(n_rules ? n_rules : 1, sizeof(*t->digests));
		t->rule_masks = calloc(n_rules ? n_rules : 1, sizeof(*t->rule_masks));
		if (!t->digests || !t->rule_masks)
			return -ENOMEM;
	}
	for (r = 0; r < n_rules; r++) {
		b.r = &rules[r];
		b.val = rule_val(&rules[r]);
		b.last_slot = -1;
		bc.d = digests ? &t->digests[r] : NULL;
		bc.mask_bits = digests ? &t->rule_masks[r] : NULL;
		err = xtc_tss_expand(&rules[r], &b.lens, put_atom, &b);
		if (err) {
			if (err == -E2BIG)
				t->overflow_rule = &rules[r];
			return err;
		}
		if (bc.d) {
			digest_done(bc.d);
			t->n_expanded += bc.d->n;
		}
	}
	qsort(t->masks, t->n_masks, sizeof(t->masks[0]), cmp_mask);
	/* The same lengths, as every reader of the list will find them. */
	xtc_port_lens_of_list(t->masks, t->n_masks, &t->lens);
	return 0;
}

static int build_spans(const struct xtc_rule *rules, int n_rules,
		       const struct xtc_mask_list *prev, bool digests, bool entries, int max_spans,
		       struct xtc_tss *t)
{
	size_t cut;
	int err = 0;

	double t0 = xtc_now();

	memset(t, 0, sizeof(*t));
	cut = xtc_port_lens_choose(rules, n_rules, XTC_PORT_CUT_BUDGET, max_spans, &t->lens);
	pr_debug("timing: port ranges cut (%d+%d held whole, %zu more entries) %.3f s\n",
		 t->lens.sspans.n, t->lens.dspans.n, cut, xtc_now() - t0);
	if (entries)
		err = entry_table_reserve(&t->set, count_entries(rules, n_rules, &t->lens) + cut);
	if (!err)
		err = compile(rules, n_rules, prev, digests, entries ? &t->set : NULL, t);
	if (err) {
		const struct xtc_rule *over = t->overflow_rule;

		xtc_tss_free(t);
		t->overflow_rule = over;
		return err;
	}
	t->entries = t->set.e;
	t->n_entries = t->set.n;
	return 0;
}

/*
 * Spans add shapes of their own, so many of them may need more than
 * XTC_MAX_MASKS: then fewer, down to none, which needs the shapes that check
 * counted (xtc_tss_count_shapes()), at most XTC_MAX_MASKS.
 */
static int build(const struct xtc_rule *rules, int n_rules, const struct xtc_mask_list *prev,
		 bool digests, bool entries, int max_spans, struct xtc_tss *t)
{
	int err;

	for (;;) {
		err = build_spans(rules, n_rules, prev, digests, entries, max_spans, t);
		if (err != -E2BIG || !max_spans)
			return err;
		pr_debug("tss: the port ranges held whole need too many shapes: at most %d per "
			 "field\n", max_spans / 2);
		max_spans /= 2;
	}
}

int xtc_tss_build(const struct xtc_rule *rules, int n_rules,
		  const struct xtc_mask_list *prev, struct xtc_tss *t)
{
	return build(rules, n_rules, prev, true, true, XTC_PORT_SPANS_MAX, t);
}

int xtc_tss_build_spans(const struct xtc_rule *rules, int n_rules,
			const struct xtc_mask_list *prev, int max_spans, struct xtc_tss *t)
{
	return build(rules, n_rules, prev, true, true, max_spans, t);
}

int xtc_tss_compile(const struct xtc_rule *rules, int n_rules,
		    const struct xtc_mask_list *prev, struct xtc_tss *t)
{
	return build(rules, n_rules, prev, true, false, XTC_PORT_SPANS_MAX, t);
}

int xtc_tss_add_entries(const struct xtc_rule *rules, int n_rules, struct xtc_tss *t)
{
	struct build_ctx bc = { .tab = &t->set };
	int r, err;

	if (t->set.n)
		return 0;
	err = entry_table_reserve(&t->set, count_entries(rules, n_rules, &t->lens));
	for (r = 0; r < n_rules && !err; r++)
		err = xtc_tss_rule_entries_in(&rules[r], t->masks, t->n_masks, &t->lens, build_entry,
					      &bc);
	t->entries = t->set.e;
	t->n_entries = t->set.n;
	return err;
}

void xtc_tss_free(struct xtc_tss *t)
{
	if (!t)
		return;
	entry_table_free(&t->set);
	free(t->digests);
	free(t->rule_masks);
	memset(t, 0, sizeof(*t));
}
