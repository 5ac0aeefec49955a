// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Choosing the port prefix lengths; see port_lens.h.  A field has at most 15
 * lengths that can be cut (/1 to /15), so every subset is tried: 32768 sums
 * of at most 15 terms, well under a millisecond, and only when some rule has
 * a port range at all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "port_lens.h"
#include "util.h"
#include "tss.h"

/* Blocks of each length of one field, weighted by the entries each block stands for. */
struct field_hist {
	size_t n[17];
	__u32 natural;			/* the lengths present */
};

static bool has_range(bool has, const struct xtc_port_range *one, const struct xtc_set *set)
{
	return has && (set || one->lo != one->hi);
}

bool xtc_port_spans_has(const struct xtc_port_spans *spans, __u16 lo, __u16 hi)
{
	int i;

	for (i = 0; spans && i < spans->n; i++)
		if (spans->v[i].lo == lo && spans->v[i].hi == hi)
			return true;
	return false;
}

static bool spans_equal(const struct xtc_port_spans *a, const struct xtc_port_spans *b)
{
	return a->n == b->n && !memcmp(a->v, b->v, (size_t)a->n * sizeof(a->v[0]));
}

bool xtc_port_lens_equal(const struct xtc_port_lens *a, const struct xtc_port_lens *b)
{
	return a->sport == b->sport && a->dport == b->dport && spans_equal(&a->sspans, &b->sspans) &&
	       spans_equal(&a->dspans, &b->dspans);
}

size_t xtc_port_block_lens(const struct xtc_port_range *one, const struct xtc_set *set,
			   const struct xtc_port_spans *spans, size_t cnt[17])
{
	__u16 v[32], m[32];
	size_t n = 0;
	int i, k, got;

	memset(cnt, 0, 17 * sizeof(cnt[0]));
	for (i = 0; i < (set ? set->n_ports : 1); i++) {
		const struct xtc_port_range *pr = set ? &set->ports_r[i] : one;
		__u32 size = (__u32)pr->hi - pr->lo + 1;

		/* One block (a port, or an aligned power of two): nothing to work out. */
		if (!(size & (size - 1)) && !(pr->lo & (size - 1))) {
			cnt[xtc_port_mask_len((__u16)~(size - 1))]++;
			n++;
			continue;
		}
		/* Several blocks, so a span may hold them. */
		if (spans && (spans->n == XTC_PORT_SPANS_ALL ||
			      xtc_port_spans_has(spans, pr->lo, pr->hi))) {
			cnt[0]++;
			n++;
			continue;
		}
		got = xtc_port_prefixes(pr->lo, pr->hi, v, m);
		for (k = 0; k < got; k++, n++)
			cnt[xtc_port_mask_len(m[k])]++;
	}
	return n;
}

/* Entries of a rule per block of one field: the rule's entries over the field's natural blocks. */
static size_t per_block(const struct xtc_port_range *one, const struct xtc_set *set,
			size_t entries)
{
	size_t cnt[17], n = xtc_port_block_lens(one, set, NULL, cnt);

	return n ? entries / n : 0;
}

static void hist_add(struct field_hist *h, const struct xtc_port_range *one,
		     const struct xtc_set *set, const struct xtc_port_spans *spans, size_t entries)
{
	size_t cnt[17], w = per_block(one, set, entries);
	int p;

	xtc_port_block_lens(one, set, spans, cnt);
	if (!w)
		return;
	for (p = 0; p <= 16; p++) {
		if (!cnt[p])
			continue;
		h->n[p] = xtc_sat_add(h->n[p], xtc_sat_mul(cnt[p], w));
		h->natural |= 1u << p;
	}
}

/* One ranged field of a rule (dport: which), with the rule's entries. */
typedef void (*ranged_fn)(void *ctx, bool dport, const struct xtc_port_range *one,
			  const struct xtc_set *set, size_t entries);

/* Calls fn for every field of rules that has a range; whether any has one. */
static bool each_ranged(const struct xtc_rule *rules, int n_rules, ranged_fn fn, void *ctx)
{
	bool any = false;
	int r;

	for (r = 0; r < n_rules; r++) {
		const struct xtc_rule *x = &rules[r];
		bool s = has_range(x->has_sport, &x->sport, x->sport_set);
		bool d = has_range(x->has_dport, &x->dport, x->dport_set);
		size_t e;

		if (!s && !d)
			continue;
		e = xtc_tss_rule_entries(x);
		if (s)
			fn(ctx, false, &x->sport, x->sport_set, e);
		if (d)
			fn(ctx, true, &x->dport, x->dport_set, e);
		any = true;
	}
	return any;
}

struct hist_ctx {
	struct field_hist *hs, *hd;
	const struct xtc_port_lens *lens;
};

static void add_hist(void *ctx, bool dport, const struct xtc_port_range *one,
		     const struct xtc_set *set, size_t entries)
{
	struct hist_ctx *hc = ctx;

	hist_add(dport ? hc->hd : hc->hs, one, set, dport ? &hc->lens->dspans : &hc->lens->sspans,
		 entries);
}

/* ---- spans ------------------------------------------------------------ */

#define CAND_SLOTS 4096			/* ranges looked at per field; more are left to the cut */

/* A range of several blocks that rules use, and the entries holding it whole would save. */
struct span_cand {
	__u32 key;			/* lo << 16 | hi; 0: empty (a single port is never one) */
	size_t saved;
};

struct span_cands {
	struct span_cand c[CAND_SLOTS];
	int n;
};

static void cand_add(struct span_cands *t, __u16 lo, __u16 hi, size_t saved)
{
	__u32 key = (__u32)lo << 16 | hi, i = (key * 0x9e3779b1u) >> 20;

	for (;; i = (i + 1) & (CAND_SLOTS - 1)) {
		if (t->c[i].key == key) {
			t->c[i].saved = xtc_sat_add(t->c[i].saved, saved);
			return;
		}
		if (!t->c[i].key)
			break;
	}
	if (t->n >= CAND_SLOTS / 2)
		return;
	t->c[i].key = key;
	t->c[i].saved = saved;
	t->n++;
}

static void cands_of_field(struct span_cands *t, const struct xtc_port_range *one,
			   const struct xtc_set *set, size_t entries)
{
	size_t w = per_block(one, set, entries);
	__u16 v[32], m[32];
	int i, k;

	for (i = 0; w && i < (set ? set->n_ports : 1); i++) {
		const struct xtc_port_range *pr = set ? &set->ports_r[i] : one;

		k = xtc_port_prefixes(pr->lo, pr->hi, v, m);
		if (k > 1)
			cand_add(t, pr->lo, pr->hi, xtc_sat_mul(w, (size_t)k - 1));
	}
}

/* ctx: the sport and dport candidates. */
static void add_cands(void *ctx, bool dport, const struct xtc_port_range *one,
		      const struct xtc_set *set, size_t entries)
{
	cands_of_field(((struct span_cands **)ctx)[dport], one, set, entries);
}

static int cmp_saved(const void *a, const void *b)
{
	const struct span_cand *x = a, *y = b;

	if (x->saved != y->saved)
		return x->saved > y->saved ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_span(const void *a, const void *b)
{
	const struct xtc_port_span *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* The max_spans candidates that save the most, sorted as spans are. */
static void spans_pick(struct span_cands *t, int max_spans, struct xtc_port_spans *out)
{
	int i, n = 0;

	out->n = 0;
	for (i = 0; i < CAND_SLOTS; i++)
		if (t->c[i].key)
			t->c[n++] = t->c[i];
	qsort(t->c, n, sizeof(t->c[0]), cmp_saved);
	if (max_spans > XTC_PORT_SPANS_MAX)
		max_spans = XTC_PORT_SPANS_MAX;
	for (i = 0; i < n && i < max_spans; i++)
		out->v[out->n++] = (struct xtc_port_span){ .lo = t->c[i].key >> 16,
							  .hi = t->c[i].key & 0xffff };
	qsort(out->v, out->n, sizeof(out->v[0]), cmp_span);
}

/* Every field's spans for rules; false when out of memory. */
static bool spans_choose(const struct xtc_rule *rules, int n_rules, int max_spans,
			 struct xtc_port_lens *out)
{
	struct span_cands *cs, *cd;

	if (max_spans <= 0)
		return true;
	cs = calloc(1, sizeof(*cs));
	cd = calloc(1, sizeof(*cd));
	if (!cs || !cd) {
		free(cs);
		free(cd);
		return false;
	}
	each_ranged(rules, n_rules, add_cands, (void *[]){ cs, cd });
	spans_pick(cs, max_spans, &out->sspans);
	spans_pick(cd, max_spans, &out->dspans);
	free(cs);
	free(cd);
	return true;
}

/* ---- lengths ---------------------------------------------------------- */

/* The cheapest fewest lengths for one field within budget; *extra gets what they cost. */
static __u32 field_choose(const struct field_hist *h, size_t budget, size_t *extra)
{
	__u32 cuttable = h->natural & ~XTC_PORT_LENS_FIXED, best = h->natural, t, used;
	int best_n = __builtin_popcount(cuttable), p, n;
	size_t best_x = 0, x;

	*extra = 0;
	if (!cuttable)
		return h->natural | XTC_PORT_LENS_FIXED;
	for (t = 0; t < 1u << 15; t++) {
		__u32 lens = t << 1 | XTC_PORT_LENS_FIXED;

		x = 0;
		used = 0;
		for (p = 1; p < 16; p++) {
			int l;

			if (!(cuttable >> p & 1))
				continue;
			l = xtc_port_lens_target(lens, p);
			used |= 1u << l;
			x = xtc_sat_add(x, xtc_sat_mul(h->n[p], ((size_t)1 << (l - p)) - 1));
		}
		n = __builtin_popcount(used & ~XTC_PORT_LENS_FIXED);
		if (x > budget || n > best_n || (n == best_n && x >= best_x))
			continue;
		best = used;
		best_n = n;
		best_x = x;
	}
	*extra = best_x;
	return best | (h->natural & XTC_PORT_LENS_FIXED) | XTC_PORT_LENS_FIXED;
}

/* How many blocks a field's natural ones become when cut to lens. */
static size_t cut_blocks(const size_t cnt[17], __u32 lens)
{
	size_t n = 0;
	int p;

	for (p = 0; p <= 16; p++)
		n = xtc_sat_add(n, xtc_sat_mul(cnt[p], (size_t)1 <<
					       (xtc_port_lens_target(lens, p) - p)));
	return n;
}

/* What a rule's entries become with lens (its spans and cut): exactly, from its blocks. */
static size_t cut_entries(const struct xtc_rule *r, const struct xtc_port_lens *lens,
			  size_t entries)
{
	size_t cs[17], cd[17];
	size_t ns = r->has_sport ? xtc_port_block_lens(&r->sport, r->sport_set, NULL, cs) : 0;
	size_t nd = r->has_dport ? xtc_port_block_lens(&r->dport, r->dport_set, NULL, cd) : 0;
	size_t combos = entries / ((ns ? ns : 1) * (nd ? nd : 1));

	if (ns)
		xtc_port_block_lens(&r->sport, r->sport_set, &lens->sspans, cs);
	if (nd)
		xtc_port_block_lens(&r->dport, r->dport_set, &lens->dspans, cd);
	return xtc_sat_mul(combos, xtc_sat_mul(ns ? cut_blocks(cs, lens->sport) : 1,
				       nd ? cut_blocks(cd, lens->dport) : 1));
}

size_t xtc_port_lens_choose(const struct xtc_rule *rules, int n_rules, size_t budget,
			    int max_spans, struct xtc_port_lens *out)
{
	struct field_hist hs, hd;
	struct xtc_port_lens uncut;
	size_t xs, xd, more = 0;
	bool any = false;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&hs, 0, sizeof(hs));
	memset(&hd, 0, sizeof(hd));
	out->sport = out->dport = XTC_PORT_LENS_FIXED;
	/* Out of memory to choose spans: none, which compiles the same rules with more entries. */
	if (!spans_choose(rules, n_rules, max_spans, out))
		out->sspans.n = out->dspans.n = 0;
	if (!budget) {
		out->sport = out->dport = 0;	/* no cut: xtc_tss_expand() leaves the blocks */
		return 0;
	}
	{
		struct hist_ctx hc = { .hs = &hs, .hd = &hd, .lens = out };

		any = each_ranged(rules, n_rules, add_hist, &hc);
	}
	out->sport = hs.natural | XTC_PORT_LENS_FIXED;
	out->dport = hd.natural | XTC_PORT_LENS_FIXED;
	if (!any)
		return 0;
	uncut = *out;
	out->sport = field_choose(&hs, budget, &xs);
	out->dport = field_choose(&hd, budget - xs, &xd);
	if (out->sport == uncut.sport && out->dport == uncut.dport)
		return 0;
	/* A rule with ranges on both sides multiplies its cuts: count them exactly. */
	for (r = 0; r < n_rules && more <= budget; r++) {
		const struct xtc_rule *x = &rules[r];
		size_t e;

		if (!has_range(x->has_sport, &x->sport, x->sport_set) &&
		    !has_range(x->has_dport, &x->dport, x->dport_set))
			continue;
		e = xtc_tss_rule_entries(x);
		more = xtc_sat_add(more, cut_entries(x, out, e) - cut_entries(x, &uncut, e));
	}
	if (more <= budget)
		return more;
	*out = uncut;
	return 0;
}

static void spans_add(struct xtc_port_spans *s, const struct xtc_port_span *sp)
{
	if (!sp->hi || s->n >= XTC_PORT_SPANS_MAX || xtc_port_spans_has(s, sp->lo, sp->hi))
		return;
	s->v[s->n++] = *sp;
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_span);
}

void xtc_port_lens_of_list(const struct xtc_mask_ent *masks, int n_masks,
			   struct xtc_port_lens *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	out->sport = out->dport = XTC_PORT_LENS_FIXED;
	for (i = 0; i < n_masks; i++) {
		out->sport |= 1u << xtc_port_mask_len(masks[i].mask.sport);
		out->dport |= 1u << xtc_port_mask_len(masks[i].mask.dport);
		spans_add(&out->sspans, &masks[i].sport);
		spans_add(&out->dspans, &masks[i].dport);
	}
}
