// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Whether one rule matches every packet another matches, exactly, field by
 * field and over every element combination of their sets.  Sets get sorted
 * indexes, built the first time a set is asked about, so that a question
 * about a set of thousands costs a few binary searches per element.  An
 * element is contained when one element of the other side contains it: a
 * union of several (10.0.0.0/9 and 10.128.0.0/9 for 10.0.0.0/8) is
 * config_cover_union.c's question, which asks this file whether a rule
 * matches one packet and which elements of a set overlap a range.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "config_raw.h"
#include "xtc_shared.h"

/* A prefix set sorted by (family, plen, addr), and the lengths it has per family. */
struct prefix_index {
	struct xtc_cidr *sorted;
	int n;
	__u8 plens[2][129];
	int n_plens[2];
};

/* A port set sorted by lo, with the highest hi up to each position. */
struct port_index {
	struct xtc_port_range *by_lo;
	__u16 *max_hi;
	int n;
};

struct set_index {
	bool built;
	struct prefix_index p;
	struct port_index r;
};

static int fam_slot(__u8 family)
{
	return family == XTC_FAMILY_V6;
}

static int cmp_cidr(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xtc_cidr));
}

static int cmp_lo(const void *a, const void *b)
{
	const struct xtc_port_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* Parsing left every byte past the prefix zero, so memcmp orders and finds them. */
static void truncate_cidr(struct xtc_cidr *c, int plen)
{
	int i;

	c->plen = (__u8)plen;
	for (i = 0; i < 16; i++) {
		int keep = plen - i * 8;

		if (keep <= 0)
			c->addr[i] = 0;
		else if (keep < 8)
			c->addr[i] &= (__u8)(0xff << (8 - keep));
	}
}

static bool cidr_contains(const struct xtc_cidr *outer, const struct xtc_cidr *inner)
{
	struct xtc_cidr t = *inner;

	if (outer->family != inner->family || outer->plen > inner->plen)
		return false;
	truncate_cidr(&t, outer->plen);
	return !memcmp(t.addr, outer->addr, sizeof(t.addr));
}

static void index_free(struct set_index *ix)
{
	free(ix->p.sorted);
	free(ix->r.by_lo);
	free(ix->r.max_hi);
	memset(ix, 0, sizeof(*ix));
}

/* Fills ix for set; 0 or -ENOMEM (ix left empty, to be tried again). */
static int build_index(const struct xtc_set *set, struct set_index *ix)
{
	bool seen[2][129] = {};
	int i, f, q;

	if (set->ports) {
		ix->r.n = set->n_ports;
		ix->r.by_lo = malloc((size_t)(set->n_ports + 1) * sizeof(*ix->r.by_lo));
		ix->r.max_hi = malloc((size_t)(set->n_ports + 1) * sizeof(*ix->r.max_hi));
		if (!ix->r.by_lo || !ix->r.max_hi)
			goto nomem;
		memcpy(ix->r.by_lo, set->ports_r, (size_t)set->n_ports * sizeof(*ix->r.by_lo));
		qsort(ix->r.by_lo, (size_t)ix->r.n, sizeof(*ix->r.by_lo), cmp_lo);
		for (i = 0; i < ix->r.n; i++)
			ix->r.max_hi[i] = i && ix->r.max_hi[i - 1] > ix->r.by_lo[i].hi ?
					  ix->r.max_hi[i - 1] : ix->r.by_lo[i].hi;
		ix->built = true;
		return 0;
	}
	ix->p.n = set->n_prefixes;
	ix->p.sorted = malloc((size_t)(set->n_prefixes + 1) * sizeof(*ix->p.sorted));
	if (!ix->p.sorted)
		goto nomem;
	memcpy(ix->p.sorted, set->prefixes, (size_t)set->n_prefixes * sizeof(*ix->p.sorted));
	qsort(ix->p.sorted, (size_t)ix->p.n, sizeof(*ix->p.sorted), cmp_cidr);
	for (i = 0; i < ix->p.n; i++)
		seen[fam_slot(ix->p.sorted[i].family)][ix->p.sorted[i].plen] = true;
	for (f = 0; f < 2; f++)
		for (q = 0; q <= 128; q++)
			if (seen[f][q])
				ix->p.plens[f][ix->p.n_plens[f]++] = (__u8)q;
	ix->built = true;
	return 0;
nomem:
	index_free(ix);
	return -ENOMEM;
}

struct cover_ctx {
	const struct xtc_model *m;
	struct set_index *sets;		/* parallel to m->sets, built when first needed */
};

static struct set_index *index_of(struct cover_ctx *cc, const struct xtc_set *set)
{
	struct set_index *ix = &cc->sets[set - cc->m->sets];

	if (!ix->built && build_index(set, ix))
		return NULL;
	return ix;
}

/* One side of a rule for containment: its prefixes or ports, a set, or absent. */
struct cside {
	bool has;
	const struct xtc_cidr *cidr;
	const struct xtc_port_range *ports;
	const struct xtc_set *set;
};

/* Whether some element of side a contains e; err is set when out of memory. */
static bool prefix_in(struct cover_ctx *cc, const struct cside *a, const struct xtc_cidr *e, int *err)
{
	const struct prefix_index *p;
	struct set_index *ix;
	int f, i;

	if (!a->has)
		return true;
	if (!a->set)
		return cidr_contains(a->cidr, e);
	ix = index_of(cc, a->set);
	if (!ix) {
		*err = -ENOMEM;
		return false;
	}
	p = &ix->p;
	f = fam_slot(e->family);
	for (i = 0; i < p->n_plens[f] && p->plens[f][i] <= e->plen; i++) {
		struct xtc_cidr t = *e;

		truncate_cidr(&t, p->plens[f][i]);
		if (bsearch(&t, p->sorted, (size_t)p->n, sizeof(*p->sorted), cmp_cidr))
			return true;
	}
	return false;
}

static bool ports_in(struct cover_ctx *cc, const struct cside *a, const struct xtc_port_range *e,
		     int *err)
{
	const struct port_index *r;
	struct set_index *ix;
	int lo, hi, mid;

	if (!a->has)
		return true;
	if (!a->set)
		return a->ports->lo <= e->lo && e->hi <= a->ports->hi;
	ix = index_of(cc, a->set);
	if (!ix) {
		*err = -ENOMEM;
		return false;
	}
	r = &ix->r;
	/* The last range starting at or before e->lo; max_hi says if any of those reaches e->hi. */
	for (lo = 0, hi = r->n; lo < hi;) {
		mid = (lo + hi) / 2;
		if (r->by_lo[mid].lo <= e->lo)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && r->max_hi[lo - 1] >= e->hi;
}

/* Every prefix of family fam that side b allows (an absent side: all of fam) is inside side a. */
static bool prefixes_covered(struct cover_ctx *cc, const struct cside *a, const struct cside *b,
			     __u8 fam, int *err)
{
	struct xtc_cidr all = { .family = fam };
	int i;

	if (!a->has)
		return true;
	if (!b->has)
		return prefix_in(cc, a, &all, err);
	if (!b->set)
		return prefix_in(cc, a, b->cidr, err);
	for (i = 0; i < b->set->n_prefixes; i++)
		if (b->set->prefixes[i].family == fam &&
		    !prefix_in(cc, a, &b->set->prefixes[i], err))
			return false;
	return true;
}

static bool ports_covered(struct cover_ctx *cc, const struct cside *a, const struct cside *b, int *err)
{
	static const struct xtc_port_range all = { 0, 65535 };
	int i;

	if (!a->has)
		return true;
	if (!b->has)
		return ports_in(cc, a, &all, err);
	if (!b->set)
		return ports_in(cc, a, b->ports, err);
	for (i = 0; i < b->set->n_ports; i++)
		if (!ports_in(cc, a, &b->set->ports_r[i], err))
			return false;
	return true;
}

static struct cside src_side(const struct xtc_rule *r)
{
	return (struct cside){ .has = r->has_src, .cidr = &r->src, .set = r->src_set };
}

static struct cside dst_side(const struct xtc_rule *r)
{
	return (struct cside){ .has = r->has_dst, .cidr = &r->dst, .set = r->dst_set };
}

static struct cside sport_side(const struct xtc_rule *r)
{
	return (struct cside){ .has = r->has_sport, .ports = &r->sport, .set = r->sport_set };
}

static struct cside dport_side(const struct xtc_rule *r)
{
	return (struct cside){ .has = r->has_dport, .ports = &r->dport, .set = r->dport_set };
}

static bool side_has_family(const struct cside *s, __u8 fam)
{
	if (!s->has)
		return true;
	if (s->set)
		return fam == XTC_FAMILY_V4 ? s->set->n_v4 : s->set->n_v6;
	return s->cidr->family == fam;
}

/*
 * Whether a runs wherever b runs: the same direction, and interface = * or
 * b's own interface.  A named rule never stands in for * however many
 * interfaces the file has: the scope the warning promises is per rule.
 */
bool cfg_scope_covers(const struct xtc_rule *a, const struct xtc_rule *b)
{
	return a->dir == b->dir && (!a->ifname[0] || !strcmp(a->ifname, b->ifname));
}

/*
 * Whether a matches every packet b matches.  The classifier sees only IP
 * packets, so a rule without addresses and family is the union of its IPv4
 * and IPv6 halves, and an absent side is the /0 of the half's family.  A
 * rule with ports needs a first fragment (the flag XTC_KF_L4), so it never
 * covers a rule without ports, whatever its ranges.
 */
bool cfg_covers(struct cover_ctx *cc, const struct xtc_rule *a, const struct xtc_rule *b, int *err)
{
	static const __u8 fams[] = { XTC_FAMILY_V4, XTC_FAMILY_V6 };
	struct cside as = src_side(a), ad = dst_side(a), bs = src_side(b), bd = dst_side(b);
	struct cside asp = sport_side(a), adp = dport_side(a), bsp = sport_side(b), bdp = dport_side(b);
	size_t i;

	if (!cfg_scope_covers(a, b))
		return false;
	if (a->has_proto && (!b->has_proto || a->proto != b->proto))
		return false;
	if ((a->has_sport || a->has_dport) && !b->has_sport && !b->has_dport)
		return false;
	if (!ports_covered(cc, &asp, &bsp, err) || !ports_covered(cc, &adp, &bdp, err))
		return false;
	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		__u8 f = fams[i];

		if ((b->family && b->family != f) || !side_has_family(&bs, f) ||
		    !side_has_family(&bd, f))
			continue;	/* b has no packets of this family */
		if (a->family && a->family != f)
			return false;
		if (!prefixes_covered(cc, &as, &bs, f, err) || !prefixes_covered(cc, &ad, &bd, f, err))
			return false;
	}
	return !*err;
}

/*
 * Whether a matches the packet whose key the classifier would extract as p
 * (family, addresses, proto, XTC_KF_L4 and the ports it goes with); the
 * scope (direction, interface) is the caller's.
 */
bool cfg_rule_matches(struct cover_ctx *cc, const struct xtc_rule *a, const struct xtc_flow_key *p,
		      int *err)
{
	struct cside as = src_side(a), ad = dst_side(a), asp = sport_side(a), adp = dport_side(a);
	struct xtc_port_range sp = { p->sport, p->sport }, dp = { p->dport, p->dport };
	struct xtc_cidr s = { .family = p->family }, d = { .family = p->family };
	int alen = p->family == XTC_FAMILY_V6 ? 16 : 4;

	if (a->family && a->family != p->family)
		return false;
	if (a->has_proto && a->proto != p->proto)
		return false;
	if ((a->has_sport || a->has_dport) && !(p->flags & XTC_KF_L4))
		return false;
	s.plen = d.plen = (__u8)(alen * 8);
	memcpy(s.addr, p->src, alen);
	memcpy(d.addr, p->dst, alen);
	return ports_in(cc, &asp, &sp, err) && ports_in(cc, &adp, &dp, err) &&
	       prefix_in(cc, &as, &s, err) && prefix_in(cc, &ad, &d, err) && !*err;
}

static int addr_cmp(const __u8 *a, const __u8 *b)
{
	return memcmp(a, b, 16);
}

/*
 * The prefixes of family fam in a prefix set that overlap [lo, hi] (16-byte
 * network-order bounds, IPv4 in the first 4 bytes): fn for each, found in
 * the sorted index.  Prefixes of one length are sorted by address and
 * aligned, so those that overlap are the run from lo cut to that length up
 * to hi: a binary search per length the set has.  Returns 0, fn's first
 * nonzero value, or -ENOMEM.
 */
int cfg_cover_set_prefixes(struct cover_ctx *cc, const struct xtc_set *set, __u8 fam,
			   const __u8 *lo, const __u8 *hi, cfg_prefix_fn fn, void *arg)
{
	const struct prefix_index *p;
	struct set_index *ix = index_of(cc, set);
	int f, q, first, last, mid, rc;

	if (!ix)
		return -ENOMEM;
	p = &ix->p;
	f = fam_slot(fam);
	for (q = 0; q < p->n_plens[f]; q++) {
		struct xtc_cidr t = { .family = fam };

		memcpy(t.addr, lo, sizeof(t.addr));
		truncate_cidr(&t, p->plens[f][q]);
		for (first = 0, last = p->n; first < last;) {
			mid = (first + last) / 2;
			if (cmp_cidr(&p->sorted[mid], &t) < 0)
				first = mid + 1;
			else
				last = mid;
		}
		for (; first < p->n && p->sorted[first].family == fam &&
		       p->sorted[first].plen == t.plen && addr_cmp(p->sorted[first].addr, hi) <= 0;
		     first++) {
			rc = fn(arg, &p->sorted[first]);
			if (rc)
				return rc;
		}
	}
	return 0;
}

struct cover_ctx *cfg_cover_new(const struct xtc_model *m)
{
	struct cover_ctx *cc = calloc(1, sizeof(*cc));

	if (!cc)
		return NULL;
	cc->m = m;
	cc->sets = calloc((size_t)m->n_sets + 1, sizeof(*cc->sets));
	if (!cc->sets) {
		free(cc);
		return NULL;
	}
	return cc;
}

void cfg_cover_free(struct cover_ctx *cc)
{
	int i;

	if (!cc)
		return;
	for (i = 0; i < cc->m->n_sets; i++)
		index_free(&cc->sets[i]);
	free(cc->sets);
	free(cc);
}
