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
 * combination of its sets).  A candidate must cover the rule alone: a rule
 * that only several earlier rules cover together is not found, nor is a
 * rule whose set elements only a union of another set's elements contains.
 * Both would need a search over unions; one earlier rule is what the
 * warning promises to name.
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

/* ---- exact containment ------------------------------------------------- */

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

static int build_index(const struct xtc_set *set, struct set_index *ix)
{
	bool seen[2][129] = {};
	int i, f, q;

	ix->built = true;
	if (set->ports) {
		ix->r.n = set->n_ports;
		ix->r.by_lo = malloc((size_t)(set->n_ports + 1) * sizeof(*ix->r.by_lo));
		ix->r.max_hi = malloc((size_t)(set->n_ports + 1) * sizeof(*ix->r.max_hi));
		if (!ix->r.by_lo || !ix->r.max_hi)
			return -ENOMEM;
		memcpy(ix->r.by_lo, set->ports_r, (size_t)set->n_ports * sizeof(*ix->r.by_lo));
		qsort(ix->r.by_lo, (size_t)ix->r.n, sizeof(*ix->r.by_lo), cmp_lo);
		for (i = 0; i < ix->r.n; i++)
			ix->r.max_hi[i] = i && ix->r.max_hi[i - 1] > ix->r.by_lo[i].hi ?
					  ix->r.max_hi[i - 1] : ix->r.by_lo[i].hi;
		return 0;
	}
	ix->p.n = set->n_prefixes;
	ix->p.sorted = malloc((size_t)(set->n_prefixes + 1) * sizeof(*ix->p.sorted));
	if (!ix->p.sorted)
		return -ENOMEM;
	memcpy(ix->p.sorted, set->prefixes, (size_t)set->n_prefixes * sizeof(*ix->p.sorted));
	qsort(ix->p.sorted, (size_t)ix->p.n, sizeof(*ix->p.sorted), cmp_cidr);
	for (i = 0; i < ix->p.n; i++)
		seen[fam_slot(ix->p.sorted[i].family)][ix->p.sorted[i].plen] = true;
	for (f = 0; f < 2; f++)
		for (q = 0; q <= 128; q++)
			if (seen[f][q])
				ix->p.plens[f][ix->p.n_plens[f]++] = (__u8)q;
	return 0;
}

struct shadow;
static struct set_index *index_of(struct shadow *sh, const struct xtc_set *set);

/* One side of a rule for containment: its prefixes or ports, a set, or absent. */
struct cside {
	bool has;
	const struct xtc_cidr *cidr;
	const struct xtc_port_range *ports;
	const struct xtc_set *set;
};

/* Whether some element of side a contains e; err is set when out of memory. */
static bool prefix_in(struct shadow *sh, const struct cside *a, const struct xtc_cidr *e, int *err)
{
	const struct prefix_index *p;
	struct set_index *ix;
	int f, i;

	if (!a->has)
		return true;
	if (!a->set)
		return cidr_contains(a->cidr, e);
	ix = index_of(sh, a->set);
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

static bool ports_in(struct shadow *sh, const struct cside *a, const struct xtc_port_range *e,
		     int *err)
{
	const struct port_index *r;
	struct set_index *ix;
	int lo, hi, mid;

	if (!a->has)
		return true;
	if (!a->set)
		return a->ports->lo <= e->lo && e->hi <= a->ports->hi;
	ix = index_of(sh, a->set);
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
static bool prefixes_covered(struct shadow *sh, const struct cside *a, const struct cside *b,
			     __u8 fam, int *err)
{
	struct xtc_cidr all = { .family = fam };
	int i;

	if (!a->has)
		return true;
	if (!b->has)
		return prefix_in(sh, a, &all, err);
	if (!b->set)
		return prefix_in(sh, a, b->cidr, err);
	for (i = 0; i < b->set->n_prefixes; i++)
		if (b->set->prefixes[i].family == fam &&
		    !prefix_in(sh, a, &b->set->prefixes[i], err))
			return false;
	return true;
}

static bool ports_covered(struct shadow *sh, const struct cside *a, const struct cside *b, int *err)
{
	static const struct xtc_port_range all = { 0, 65535 };
	int i;

	if (!a->has)
		return true;
	if (!b->has)
		return ports_in(sh, a, &all, err);
	if (!b->set)
		return ports_in(sh, a, b->ports, err);
	for (i = 0; i < b->set->n_ports; i++)
		if (!ports_in(sh, a, &b->set->ports_r[i], err))
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
 * Whether a matches every packet b matches.  The classifier sees only IP
 * packets, so a rule without addresses and family is the union of its IPv4
 * and IPv6 halves, and an absent side is the /0 of the half's family.  A
 * rule with ports needs a first fragment (the flag XTC_KF_L4), so it never
 * covers a rule without ports, whatever its ranges.
 */
static bool covers(struct shadow *sh, const struct xtc_rule *a, const struct xtc_rule *b, int *err)
{
	static const __u8 fams[] = { XTC_FAMILY_V4, XTC_FAMILY_V6 };
	struct cside as = src_side(a), ad = dst_side(a), bs = src_side(b), bd = dst_side(b);
	struct cside asp = sport_side(a), adp = dport_side(a), bsp = sport_side(b), bdp = dport_side(b);
	size_t i;

	if (a->dir != b->dir || (a->ifname[0] && strcmp(a->ifname, b->ifname)))
		return false;
	if (a->has_proto && (!b->has_proto || a->proto != b->proto))
		return false;
	if ((a->has_sport || a->has_dport) && !b->has_sport && !b->has_dport)
		return false;
	if (!ports_covered(sh, &asp, &bsp, err) || !ports_covered(sh, &adp, &bdp, err))
		return false;
	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		__u8 f = fams[i];

		if ((b->family && b->family != f) || !side_has_family(&bs, f) ||
		    !side_has_family(&bd, f))
			continue;	/* b has no packets of this family */
		if (a->family && a->family != f)
			return false;
		if (!prefixes_covered(sh, &as, &bs, f, err) || !prefixes_covered(sh, &ad, &bd, f, err))
			return false;
	}
	return !*err;
}

/* ---- candidates: a hash of every rule's expansions -------------------- */

/* One slot per expansion; prio beside the hash so that a probe touches one line. */
struct slot {
	__u64 hash;			/* 0: empty */
	__u32 rule;			/* the earliest rule with that expansion */
	__u32 prio;
};

struct shadow {
	const struct xtc_model *m;
	struct set_index *sets;		/* parallel to m->sets */
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

static struct set_index *index_of(struct shadow *sh, const struct xtc_set *set)
{
	struct set_index *ix = &sh->sets[set - sh->m->sets];

	if (!ix->built && build_index(set, ix))
		return NULL;
	return ix;
}

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
		if (covers(sh, a, b, err))
			best = a;
	}
	return best;
}

void cfg_rule_label(const struct xtc_rule *r, char *buf, size_t len)
{
	if (r->generated)
		snprintf(buf, len, "the reverse = yes mirror of [rule %.*s]",
			 (int)(strlen(r->name) - strlen("~reverse")), r->name);
	else
		snprintf(buf, len, "[rule %s]", r->name);
}

static void shadow_free(struct shadow *sh)
{
	int i;

	for (i = 0; sh->sets && i < sh->m->n_sets; i++) {
		free(sh->sets[i].p.sorted);
		free(sh->sets[i].r.by_lo);
		free(sh->sets[i].r.max_hi);
	}
	free(sh->sets);
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
	sh.sets = calloc((size_t)m->n_sets + 1, sizeof(*sh.sets));
	sh.slots = calloc(sh.cap, sizeof(*sh.slots));
	if (!sh.sets || !sh.slots) {
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
