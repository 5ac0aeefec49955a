// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Whether several earlier rules together match every packet a rule
 * matches: the rule's packets as a list of boxes, from which each earlier
 * rule's boxes are taken out in turn.  A box is an interval in each field
 * the classifier matches: family, whether ports were read (XTC_KF_L4: a
 * TCP or UDP first fragment), proto, the two ports and the two addresses.
 * One element combination of a rule's sets is one box; a box minus a box
 * is at most two boxes per field.
 *
 * Addresses are 128-bit numbers in network order with IPv4 in the top 32
 * bits, as struct xtc_cidr stores them, so an IPv4 address is a block of
 * 2^96 numbers and a prefix of either family is an interval.  Family is
 * the first field a box is cut along: address cuts then happen inside one
 * family, and a box of both families always spans every address.  XTC_KF_L4
 * is cut before the ports, so a box of packets without ports always spans
 * every port: a rule with ports cannot take such packets out, and a rule
 * without ports takes out all of them or none.
 *
 * The work is bounded: at most UNION_MAX_BOXES boxes remain or make up one
 * rule, at most UNION_MAX_WORK comparisons go into one rule and
 * UNION_MAX_TOTAL into the whole pass.  Past a cap the answer is -E2BIG,
 * "unknown", which the caller takes as "not shadowed": a missed warning,
 * never a false one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "config_raw.h"
#include "xtc_shared.h"

/* Measured at a few ns per unit: a few ms for one rule, under half a second for a file. */
#define UNION_MAX_BOXES 4096		/* about 400 KiB per list */
#define UNION_MAX_WORK (1UL << 20)
#define UNION_MAX_TOTAL (1ULL << 27)

struct u128 {
	__u64 hi, lo;
};

/* The small fields, in the order boxes are cut along them; the addresses come after. */
enum { D_FAM, D_L4, D_PROTO, D_SPORT, D_DPORT, N_SMALL };
enum { D_SRC, D_DST, N_ADDR };

struct box {
	__u32 v[N_SMALL][2];		/* [lo, hi]; family 0 is IPv4, 1 IPv6 */
	struct u128 a[N_ADDR][2];
};

/* One option of a rule's address side: a prefix, or every address of the families. */
struct aspan {
	__u32 fam_lo, fam_hi;
	struct u128 lo, hi;
};

struct pspan {
	__u32 lo, hi;
};

struct cover_union {
	struct cover_ctx *cc;
	struct box *cur, *next;		/* what is left, and the next list being made */
	int n;
	struct box *rule;		/* the boxes of the rule being taken out */
	int n_rule;
	struct aspan *as[N_ADDR];	/* one rule's options per side */
	int n_as[N_ADDR];
	struct pspan *ps[2];
	int n_ps[2];
	unsigned long work;		/* this rule's comparisons */
	unsigned long long total;	/* the pass's */
};

static const struct u128 u128_max = { ~0ULL, ~0ULL };

static int u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	return a.lo < b.lo ? -1 : a.lo > b.lo;
}

static struct u128 u128_inc(struct u128 a)
{
	return (struct u128){ a.hi + !~a.lo, a.lo + 1 };
}

static struct u128 u128_dec(struct u128 a)
{
	return (struct u128){ a.hi - !a.lo, a.lo - 1 };
}

static struct u128 u128_of(const __u8 *b)
{
	struct u128 x = {};
	int i;

	for (i = 0; i < 8; i++) {
		x.hi = x.hi << 8 | b[i];
		x.lo = x.lo << 8 | b[i + 8];
	}
	return x;
}

static void u128_put(struct u128 x, __u8 *b)
{
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (__u8)x.hi;
		b[i + 8] = (__u8)x.lo;
		x.hi >>= 8;
		x.lo >>= 8;
	}
}

/* The interval of a prefix: its address, and the address with every host bit set. */
static struct aspan span_of(const struct xtc_cidr *c)
{
	struct aspan s = { .fam_lo = c->family == XTC_FAMILY_V6 };
	int plen = c->plen;

	s.fam_hi = s.fam_lo;
	s.lo = u128_of(c->addr);
	s.hi = s.lo;
	s.hi.hi |= plen >= 64 ? 0 : ~0ULL >> plen;
	s.hi.lo |= plen <= 64 ? ~0ULL : plen >= 128 ? 0 : ~0ULL >> (plen - 64);
	return s;
}

static bool small_meet(const __u32 *a, const __u32 *b)
{
	return a[0] <= b[1] && b[0] <= a[1];
}

static bool addr_meet(const struct u128 *a, const struct u128 *b)
{
	return u128_cmp(a[0], b[1]) <= 0 && u128_cmp(b[0], a[1]) <= 0;
}

static bool box_meet(const struct box *x, const struct box *y)
{
	int d;

	for (d = 0; d < N_SMALL; d++)
		if (!small_meet(x->v[d], y->v[d]))
			return false;
	for (d = 0; d < N_ADDR; d++)
		if (!addr_meet(x->a[d], y->a[d]))
			return false;
	return true;
}

static int put_box(struct box *out, int *n, const struct box *b)
{
	if (*n >= UNION_MAX_BOXES)
		return -E2BIG;
	out[(*n)++] = *b;
	return 0;
}

/*
 * r minus a, which meet, appended to out: along each field in turn, the
 * parts of r below and above a go out whole, and r shrinks to a there.
 * What r is at the end lies inside a and is dropped.
 */
static int box_minus(struct box r, const struct box *a, struct box *out, int *n)
{
	struct box piece;
	int d, err;

	for (d = 0; d < N_SMALL; d++) {
		if (r.v[d][0] < a->v[d][0]) {
			piece = r;
			piece.v[d][1] = a->v[d][0] - 1;
			err = put_box(out, n, &piece);
			if (err)
				return err;
			r.v[d][0] = a->v[d][0];
		}
		if (r.v[d][1] > a->v[d][1]) {
			piece = r;
			piece.v[d][0] = a->v[d][1] + 1;
			err = put_box(out, n, &piece);
			if (err)
				return err;
			r.v[d][1] = a->v[d][1];
		}
	}
	for (d = 0; d < N_ADDR; d++) {
		if (u128_cmp(r.a[d][0], a->a[d][0]) < 0) {
			piece = r;
			piece.a[d][1] = u128_dec(a->a[d][0]);
			err = put_box(out, n, &piece);
			if (err)
				return err;
			r.a[d][0] = a->a[d][0];
		}
		if (u128_cmp(r.a[d][1], a->a[d][1]) > 0) {
			piece = r;
			piece.a[d][0] = u128_inc(a->a[d][1]);
			err = put_box(out, n, &piece);
			if (err)
				return err;
			r.a[d][1] = a->a[d][1];
		}
	}
	return 0;
}

static int spend(struct cover_union *u, unsigned long n)
{
	u->work += n;
	u->total += n;
	return u->work > UNION_MAX_WORK || u->total > UNION_MAX_TOTAL ? -E2BIG : 0;
}

/* Takes every box of a (with n_a of them) out of the remaining ones. */
static int take_out(struct cover_union *u, const struct box *a, int n_a, bool *removed)
{
	struct box *swap;
	int i, j, nn, err;

	for (i = 0; i < n_a && u->n; i++) {
		err = spend(u, (unsigned long)u->n);
		if (err)
			return err;
		for (j = 0, nn = 0; j < u->n; j++) {
			if (!box_meet(&u->cur[j], &a[i]))
				err = put_box(u->next, &nn, &u->cur[j]);
			else if (!(err = box_minus(u->cur[j], &a[i], u->next, &nn)))
				*removed = true;
			if (err)
				return err;
		}
		swap = u->cur;
		u->cur = u->next;
		u->next = swap;
		u->n = nn;
	}
	return 0;
}

/* ---- a rule's boxes, near the remaining ones ---------------------------- */

struct collect {
	struct cover_union *u;
	int side;
};

static int add_aspan(struct cover_union *u, int side, const struct aspan *s)
{
	if (u->n_as[side] >= UNION_MAX_BOXES)
		return -E2BIG;
	u->as[side][u->n_as[side]++] = *s;
	return spend(u, 1);
}

static int collect_prefix(void *arg, const struct xtc_cidr *c)
{
	struct collect *col = arg;
	struct aspan s = span_of(c);

	return add_aspan(col->u, col->side, &s);
}

/*
 * The options of one address side that meet the families [fl, fh] and the
 * addresses [lo, hi]: a set's from its index, so that a set of thousands
 * costs what overlaps.
 */
static int collect_addrs(struct cover_union *u, int side, bool has, const struct xtc_cidr *one,
			 const struct xtc_set *set, __u32 fl, __u32 fh, struct u128 lo,
			 struct u128 hi)
{
	struct collect col = { .u = u, .side = side };
	__u8 blo[16], bhi[16];
	struct aspan s;
	__u32 f;
	int err;

	u->n_as[side] = 0;
	if (!has) {
		s = (struct aspan){ fl, fh, {}, u128_max };
		return add_aspan(u, side, &s);
	}
	if (!set) {
		s = span_of(one);
		if (s.fam_lo < fl || s.fam_lo > fh || u128_cmp(s.lo, hi) > 0 ||
		    u128_cmp(lo, s.hi) > 0)
			return 0;
		return add_aspan(u, side, &s);
	}
	u128_put(lo, blo);
	u128_put(hi, bhi);
	for (f = fl; f <= fh; f++) {
		err = spend(u, 8);	/* a binary search per prefix length, roughly */
		if (!err)
			err = cfg_cover_set_prefixes(u->cc, set, f ? XTC_FAMILY_V6 : XTC_FAMILY_V4,
						     blo, bhi, collect_prefix, &col);
		if (err)
			return err;
	}
	return 0;
}

static int collect_ports(struct cover_union *u, int side, bool has,
			 const struct xtc_port_range *one, const struct xtc_set *set, __u32 lo,
			 __u32 hi)
{
	int i, err;

	u->n_ps[side] = 0;
	if (!has) {
		u->ps[side][u->n_ps[side]++] = (struct pspan){ lo, hi };
		return 0;
	}
	if (!set) {
		if (one->lo <= hi && lo <= one->hi)
			u->ps[side][u->n_ps[side]++] = (struct pspan){ one->lo, one->hi };
		return 0;
	}
	err = spend(u, (unsigned long)set->n_ports);
	for (i = 0; i < set->n_ports && !err; i++) {
		if (set->ports_r[i].lo > hi || lo > set->ports_r[i].hi)
			continue;
		if (u->n_ps[side] >= UNION_MAX_BOXES)
			return -E2BIG;
		u->ps[side][u->n_ps[side]++] = (struct pspan){ set->ports_r[i].lo,
							       set->ports_r[i].hi };
	}
	return err;
}

static __u32 max32(__u32 a, __u32 b)
{
	return a > b ? a : b;
}

static __u32 min32(__u32 a, __u32 b)
{
	return a < b ? a : b;
}

/*
 * The boxes of r (one per element combination) that meet near, into
 * u->rule.  The family of a combination is where r's own family (from
 * proto = icmp, say) and its two prefixes agree; a rule with ports needs
 * XTC_KF_L4.
 */
static int rule_boxes(struct cover_union *u, const struct xtc_rule *r, const struct box *near)
{
	struct box b = {}, want = {};
	__u32 fl = r->family == XTC_FAMILY_V6, fh = r->family != XTC_FAMILY_V4;
	int s, d, i, j, err;

	u->n_rule = 0;
	want.v[D_FAM][0] = fl;
	want.v[D_FAM][1] = fh;
	want.v[D_L4][0] = r->has_sport || r->has_dport;
	want.v[D_L4][1] = 1;
	want.v[D_PROTO][0] = r->has_proto ? r->proto : 0;
	want.v[D_PROTO][1] = r->has_proto ? r->proto : 255;
	for (d = D_FAM; d <= D_PROTO; d++)
		if (!small_meet(want.v[d], near->v[d]))
			return 0;
	fl = max32(fl, near->v[D_FAM][0]);
	fh = min32(fh, near->v[D_FAM][1]);
	err = collect_ports(u, 0, r->has_sport, &r->sport, r->sport_set, near->v[D_SPORT][0],
			    near->v[D_SPORT][1]);
	if (!err)
		err = collect_ports(u, 1, r->has_dport, &r->dport, r->dport_set,
				    near->v[D_DPORT][0], near->v[D_DPORT][1]);
	if (err || !u->n_ps[0] || !u->n_ps[1])
		return err;
	err = collect_addrs(u, D_SRC, r->has_src, &r->src, r->src_set, fl, fh,
			    near->a[D_SRC][0], near->a[D_SRC][1]);
	if (err || !u->n_as[D_SRC])
		return err;
	err = collect_addrs(u, D_DST, r->has_dst, &r->dst, r->dst_set, fl, fh,
			    near->a[D_DST][0], near->a[D_DST][1]);
	if (err || !u->n_as[D_DST])
		return err;
	b.v[D_L4][0] = want.v[D_L4][0];
	b.v[D_L4][1] = want.v[D_L4][1];
	b.v[D_PROTO][0] = want.v[D_PROTO][0];
	b.v[D_PROTO][1] = want.v[D_PROTO][1];
	for (s = 0; s < u->n_as[D_SRC]; s++) {
		const struct aspan *sa = &u->as[D_SRC][s];

		err = spend(u, (unsigned long)u->n_as[D_DST]);
		if (err)
			return err;
		for (d = 0; d < u->n_as[D_DST]; d++) {
			const struct aspan *da = &u->as[D_DST][d];

			b.v[D_FAM][0] = max32(max32(fl, sa->fam_lo), da->fam_lo);
			b.v[D_FAM][1] = min32(min32(fh, sa->fam_hi), da->fam_hi);
			if (b.v[D_FAM][0] > b.v[D_FAM][1])
				continue;	/* src and dst of different families: no packets */
			b.a[D_SRC][0] = sa->lo;
			b.a[D_SRC][1] = sa->hi;
			b.a[D_DST][0] = da->lo;
			b.a[D_DST][1] = da->hi;
			for (i = 0; i < u->n_ps[0]; i++) {
				for (j = 0; j < u->n_ps[1]; j++) {
					b.v[D_SPORT][0] = u->ps[0][i].lo;
					b.v[D_SPORT][1] = u->ps[0][i].hi;
					b.v[D_DPORT][0] = u->ps[1][j].lo;
					b.v[D_DPORT][1] = u->ps[1][j].hi;
					err = put_box(u->rule, &u->n_rule, &b);
					if (err)
						return err;
				}
			}
		}
	}
	return 0;
}

/* The smallest box around the remaining ones. */
static struct box bounds(const struct cover_union *u)
{
	struct box b = u->cur[0];
	int i, d;

	for (i = 1; i < u->n; i++) {
		const struct box *x = &u->cur[i];

		for (d = 0; d < N_SMALL; d++) {
			b.v[d][0] = min32(b.v[d][0], x->v[d][0]);
			b.v[d][1] = max32(b.v[d][1], x->v[d][1]);
		}
		for (d = 0; d < N_ADDR; d++) {
			if (u128_cmp(x->a[d][0], b.a[d][0]) < 0)
				b.a[d][0] = x->a[d][0];
			if (u128_cmp(x->a[d][1], b.a[d][1]) > 0)
				b.a[d][1] = x->a[d][1];
		}
	}
	return b;
}

static struct box everything(void)
{
	struct box b = {};
	int d;

	b.v[D_FAM][1] = 1;
	b.v[D_L4][1] = 1;
	b.v[D_PROTO][1] = 255;
	b.v[D_SPORT][1] = b.v[D_DPORT][1] = 65535;
	for (d = 0; d < N_ADDR; d++)
		b.a[d][1] = u128_max;
	return b;
}

/* ---- the interface -------------------------------------------------------- */

int cfg_union_start(struct cover_union *u, const struct xtc_rule *b)
{
	static const __u32 no_ports[][2] = { { 0, 5 }, { 7, 16 }, { 18, 255 } };
	struct box all = everything(), impossible[3];
	bool removed = false;
	size_t i;
	int err;

	u->work = 0;
	u->n = 0;
	err = rule_boxes(u, b, &all);
	if (err)
		return err;
	memcpy(u->cur, u->rule, (size_t)u->n_rule * sizeof(*u->cur));
	u->n = u->n_rule;
	/*
	 * The classifier reads ports from TCP and UDP only: a rule without
	 * ports and proto has no packets with XTC_KF_L4 and another protocol,
	 * and none must be left for earlier rules to cover.
	 */
	for (i = 0; i < ARRAY_SIZE(impossible); i++) {
		impossible[i] = all;
		impossible[i].v[D_L4][0] = 1;
		impossible[i].v[D_PROTO][0] = no_ports[i][0];
		impossible[i].v[D_PROTO][1] = no_ports[i][1];
	}
	return take_out(u, impossible, (int)ARRAY_SIZE(impossible), &removed);
}

bool cfg_union_point(const struct cover_union *u, struct xtc_flow_key *p)
{
	const struct box *b = &u->cur[0];

	if (!u->n)
		return false;
	memset(p, 0, sizeof(*p));
	p->family = b->v[D_FAM][0] ? XTC_FAMILY_V6 : XTC_FAMILY_V4;
	p->proto = (__u8)b->v[D_PROTO][0];
	/* Without XTC_KF_L4 the classifier's key has ports 0, whatever the box says. */
	if (b->v[D_L4][0]) {
		p->flags = XTC_KF_L4;
		p->sport = (__u16)b->v[D_SPORT][0];
		p->dport = (__u16)b->v[D_DPORT][0];
	}
	u128_put(b->a[D_SRC][0], (__u8 *)p->src);
	u128_put(b->a[D_DST][0], (__u8 *)p->dst);
	if (p->family == XTC_FAMILY_V4) {
		memset(&p->src[1], 0, 12);
		memset(&p->dst[1], 0, 12);
	}
	return true;
}

int cfg_union_subtract(struct cover_union *u, const struct xtc_rule *a, bool *removed)
{
	struct box near;
	int err;

	*removed = false;
	if (!u->n)
		return 0;
	near = bounds(u);
	/* Each rule taken out also cost a probe of every tuple space: count it too. */
	err = spend(u, (unsigned long)u->n + XTC_MAX_MASKS);
	if (!err)
		err = rule_boxes(u, a, &near);
	if (!err)
		err = take_out(u, u->rule, u->n_rule, removed);
	return err;
}

struct cover_union *cfg_union_new(struct cover_ctx *cc)
{
	struct cover_union *u = calloc(1, sizeof(*u));
	int i;

	if (!u)
		return NULL;
	u->cc = cc;
	u->cur = malloc(UNION_MAX_BOXES * sizeof(*u->cur));
	u->next = malloc(UNION_MAX_BOXES * sizeof(*u->next));
	u->rule = malloc(UNION_MAX_BOXES * sizeof(*u->rule));
	for (i = 0; i < N_ADDR; i++)
		u->as[i] = malloc(UNION_MAX_BOXES * sizeof(*u->as[i]));
	for (i = 0; i < 2; i++)
		u->ps[i] = malloc(UNION_MAX_BOXES * sizeof(*u->ps[i]));
	if (!u->cur || !u->next || !u->rule || !u->as[0] || !u->as[1] || !u->ps[0] ||
	    !u->ps[1]) {
		cfg_union_free(u);
		return NULL;
	}
	return u;
}

void cfg_union_free(struct cover_union *u)
{
	int i;

	if (!u)
		return;
	free(u->cur);
	free(u->next);
	free(u->rule);
	for (i = 0; i < N_ADDR; i++)
		free(u->as[i]);
	for (i = 0; i < 2; i++)
		free(u->ps[i]);
	free(u);
}
