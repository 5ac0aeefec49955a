// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Choosing the port prefix lengths; see port_lens.h.  A field has at most 15
 * lengths that can be cut (/1 to /15), so every subset is tried: 32768 sums
 * of at most 15 terms, well under a millisecond, and only when some rule has
 * a port range at all.
 */
#include <stdint.h>
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

size_t xtc_port_block_lens(const struct xtc_port_range *one, const struct xtc_set *set,
			   size_t cnt[17])
{
	__u16 v[32], m[32];
	size_t n = 0;
	int i, k, got;

	memset(cnt, 0, 17 * sizeof(cnt[0]));
	for (i = 0; i < (set ? set->n_ports : 1); i++) {
		const struct xtc_port_range *pr = set ? &set->ports_r[i] : one;

		got = xtc_port_prefixes(pr->lo, pr->hi, v, m);
		for (k = 0; k < got; k++, n++)
			cnt[xtc_port_mask_len(m[k])]++;
	}
	return n;
}

static void hist_add(struct field_hist *h, const struct xtc_port_range *one,
		     const struct xtc_set *set, size_t entries)
{
	size_t cnt[17], n = xtc_port_block_lens(one, set, cnt), w;
	int p;

	if (!n || !entries)
		return;
	w = entries / n;		/* the entries each block stands for */
	for (p = 0; p <= 16; p++) {
		if (!cnt[p])
			continue;
		h->n[p] = xtc_sat_add(h->n[p], xtc_sat_mul(cnt[p], w));
		h->natural |= 1u << p;
	}
}

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

/* What a rule's entries become with lens: exactly, from its blocks. */
static size_t cut_entries(const struct xtc_rule *r, const struct xtc_port_lens *lens,
			  size_t entries)
{
	size_t cs[17], cd[17];
	size_t ns = r->has_sport ? xtc_port_block_lens(&r->sport, r->sport_set, cs) : 0;
	size_t nd = r->has_dport ? xtc_port_block_lens(&r->dport, r->dport_set, cd) : 0;
	size_t combos = entries / ((ns ? ns : 1) * (nd ? nd : 1));

	return xtc_sat_mul(combos, xtc_sat_mul(ns ? cut_blocks(cs, lens->sport) : 1,
				       nd ? cut_blocks(cd, lens->dport) : 1));
}

size_t xtc_port_lens_choose(const struct xtc_rule *rules, int n_rules, size_t budget,
			    struct xtc_port_lens *out)
{
	struct field_hist hs, hd;
	size_t xs, xd, more = 0;
	bool any = false;
	int r;

	memset(&hs, 0, sizeof(hs));
	memset(&hd, 0, sizeof(hd));
	for (r = 0; r < n_rules; r++) {
		const struct xtc_rule *x = &rules[r];
		bool s = has_range(x->has_sport, &x->sport, x->sport_set);
		bool d = has_range(x->has_dport, &x->dport, x->dport_set);
		size_t e;

		if (!s && !d)
			continue;
		e = xtc_tss_rule_entries(x);
		if (s)
			hist_add(&hs, &x->sport, x->sport_set, e);
		if (d)
			hist_add(&hd, &x->dport, x->dport_set, e);
		any = true;
	}
	out->sport = hs.natural | XTC_PORT_LENS_FIXED;
	out->dport = hd.natural | XTC_PORT_LENS_FIXED;
	if (!any)
		return 0;
	out->sport = field_choose(&hs, budget, &xs);
	out->dport = field_choose(&hd, budget - xs, &xd);
	if (out->sport == (hs.natural | XTC_PORT_LENS_FIXED) &&
	    out->dport == (hd.natural | XTC_PORT_LENS_FIXED))
		return 0;
	/* A rule with ranges on both sides multiplies its cuts: count them exactly. */
	for (r = 0; r < n_rules && more <= budget; r++) {
		const struct xtc_rule *x = &rules[r];
		size_t e;

		if (!has_range(x->has_sport, &x->sport, x->sport_set) &&
		    !has_range(x->has_dport, &x->dport, x->dport_set))
			continue;
		e = xtc_tss_rule_entries(x);
		more = xtc_sat_add(more, cut_entries(x, out, e) - e);
	}
	if (more <= budget)
		return more;
	out->sport = hs.natural | XTC_PORT_LENS_FIXED;
	out->dport = hd.natural | XTC_PORT_LENS_FIXED;
	return 0;
}

void xtc_port_lens_of_list(const struct xtc_mask_ent *masks, int n_masks,
			   struct xtc_port_lens *out)
{
	int i;

	out->sport = out->dport = XTC_PORT_LENS_FIXED;
	for (i = 0; i < n_masks; i++) {
		out->sport |= 1u << xtc_port_mask_len(masks[i].mask.sport);
		out->dport |= 1u << xtc_port_mask_len(masks[i].mask.dport);
	}
}
