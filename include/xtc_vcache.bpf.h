/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The verdict cache in front of the tuple-space search (as the exact-match
 * cache of Open vSwitch): a direct-mapped per-CPU array, indexed by a hash of
 * the packet's whole flow key, each slot holding that key and what the search
 * gave for it.  A hit costs one hash over the key, one array access and one
 * compare, instead of one kernel hash probe per tuple space.
 *
 * Correctness after an apply: a slot is used only under the mask-list
 * generation it was filled in (xtc_mask_list.gen), and the loader makes a
 * list with a new gen live once an apply's entries are all written and the
 * stale ones deleted.
 *
 * Floods: a miss replaces a slot that holds a current entry of another flow
 * only every XTC_VC_REPLACE_ONE_IN-th time (a counter in the slot, cheaper
 * than a random draw per packet), so random sources at full rate do not
 * flush the flows that were there; an empty or stale slot is always filled.
 * The slots are few (72 KiB per CPU) so that a flood, which touches them at
 * random, finds them in the CPU's cache.  And after XTC_VC_STREAK misses in a
 * row on one CPU, only every XTC_VC_REPLACE_ONE_IN-th packet looks at the
 * cache at all until one hits again: a flood of new flows then pays about
 * what the search alone costs.
 *
 * One map (xtc_vcache in xtc_maps.bpf.h, pinned with the others) serves every
 * program: its memory is XTC_VCACHE_SLOTS slots per CPU whatever the number
 * of interfaces.  XDP and TC may share a slot, since the key holds the
 * direction and the interface, and the verdict depends on nothing else.
 * Programs never run nested on one CPU (XDP and TC run in softirq or with
 * softirqs off), so a slot is never read half written.
 *
 * XTC_VCACHE_COLD (a bench aid) does all the cache's work but never takes a
 * hit, and never stops looking: the per-packet cost of a new flow among
 * flows that hit (the worst case; a pure flood soon stops looking).
 */
#ifndef XTC_VCACHE_BPF_H
#define XTC_VCACHE_BPF_H

#include "xtc_maps.bpf.h"

_Static_assert((XTC_VCACHE_SLOTS & (XTC_VCACHE_SLOTS - 1)) == 0,
	       "XTC_VCACHE_SLOTS must be a power of two");

#define XTC_VC_REPLACE_ONE_IN 16
#define XTC_VC_STREAK 64
/* The slot after the last holds, in gen, this CPU's streak of misses. */
#define XTC_VC_CTL XTC_VCACHE_SLOTS
#define XTC_VC_WORDS (sizeof(struct xtc_flow_key) / sizeof(__u64))
#define XTC_VC_BITS (__builtin_ctz(XTC_VCACHE_SLOTS))

/*
 * Each 64-bit word times its own odd constant, summed, and the top bits of
 * one more product: the products do not wait for each other, where a chain
 * of multiplies over 7 words would cost their latencies one after another.
 */
static __always_inline __u32 xtc_vc_index(const struct xtc_flow_key *k)
{
	const __u64 *w = (const __u64 *)k;
	__u64 h;

	_Static_assert(sizeof(*k) == 6 * sizeof(__u64), "xtc_vc_index hashes 6 words");
	h = (w[0] ^ (w[0] >> 29)) * 0x9e3779b97f4a7c15ULL +
	    (w[1] ^ (w[1] >> 29)) * 0xc2b2ae3d27d4eb4fULL +
	    (w[2] ^ (w[2] >> 29)) * 0x165667b19e3779f9ULL +
	    (w[3] ^ (w[3] >> 29)) * 0xd6e8feb86659fd93ULL +
	    (w[4] ^ (w[4] >> 29)) * 0xa0761d6478bd642fULL +
	    (w[5] ^ (w[5] >> 29)) * 0xe7037ed1a0b428dbULL;
	return (__u32)((h * 0x94d049bb133111ebULL) >> (64 - XTC_VC_BITS));
}

static __always_inline int xtc_vc_same(const struct xtc_flow_key *a, const struct xtc_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	__u64 d = 0;
	int j;

#pragma unroll
	for (j = 0; j < (int)XTC_VC_WORDS; j++)
		d |= x[j] ^ y[j];
	return d == 0;
}

/*
 * The slot for pkt, *hit saying whether it holds pkt's verdict under gen;
 * NULL when this packet does not look (a streak of misses).
 */
static __always_inline struct xtc_vcache_ent *xtc_vc_get(const struct xtc_flow_key *pkt,
							 __u32 gen, int *hit)
{
	__u32 idx = XTC_VC_CTL;
	struct xtc_vcache_ent *ctl = bpf_map_lookup_elem(&xtc_vcache, &idx), *e;

	*hit = 0;
	if (!ctl)
		return NULL;
#ifndef XTC_VCACHE_COLD
	if (ctl->gen >= XTC_VC_STREAK && ++ctl->gen % XTC_VC_REPLACE_ONE_IN)
		return NULL;
#endif
	idx = xtc_vc_index(pkt);
	e = bpf_map_lookup_elem(&xtc_vcache, &idx);
	*hit = e && e->state && e->gen == gen && xtc_vc_same(&e->key, pkt);
#ifdef XTC_VCACHE_COLD
	/* As if another flow held the slot: the flood's every packet. */
	if (e && *hit) {
		*hit = 0;
		asm volatile("" ::: "memory");
	}
#endif
	if (!*hit)
		ctl->gen++;
	else if (ctl->gen)
		ctl->gen = 0;
	return e;
}

static __always_inline void xtc_vc_put(struct xtc_vcache_ent *e, const struct xtc_flow_key *pkt,
				       __u32 gen, int found, const struct xtc_rule_val *best)
{
	int taken = e->state && e->gen == gen;

#ifdef XTC_VCACHE_COLD
	taken = 1;
#endif
	if (taken && ++e->misses % XTC_VC_REPLACE_ONE_IN)
		return;
	e->misses = 0;
	e->state = 0;
	e->key = *pkt;
	e->val = *best;
	e->gen = gen;
	e->state = found ? XTC_VC_HIT : XTC_VC_MISS;
}
#endif /* XTC_VCACHE_BPF_H */
