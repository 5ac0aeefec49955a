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
 * only one time in XTC_VC_REPLACE_ONE_IN, so random sources at full rate do
 * not flush the flows that were there; an empty or stale slot is always
 * filled.  The cache is each program object's own (not pinned): it starts
 * empty on every load, and XDP and TC never share slots.
 *
 * XTC_VCACHE_SLOTS=0 compiles the cache out; XTC_VCACHE_COLD (a bench aid)
 * does all the cache's work but never takes a hit, which is the per-packet
 * cost of a flood where every packet is a new flow.
 */
#ifndef XTC_VCACHE_BPF_H
#define XTC_VCACHE_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xtc_shared.h"

#if XTC_VCACHE_SLOTS
_Static_assert((XTC_VCACHE_SLOTS & (XTC_VCACHE_SLOTS - 1)) == 0,
	       "XTC_VCACHE_SLOTS must be a power of two");

#define XTC_VC_REPLACE_ONE_IN 16
#define XTC_VC_WORDS (sizeof(struct xtc_flow_key) / sizeof(__u64))
#define XTC_VC_BITS (__builtin_ctz(XTC_VCACHE_SLOTS))

/* Recent verdicts by flow key, per CPU; this object's own, never pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XTC_VCACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct xtc_vcache_ent);
} xtc_vcache SEC(".maps");

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

/* The slot for pkt; *hit says whether it holds pkt's verdict under gen. */
static __always_inline struct xtc_vcache_ent *xtc_vc_get(const struct xtc_flow_key *pkt,
							 __u32 gen, int *hit)
{
	__u32 idx = xtc_vc_index(pkt);
	struct xtc_vcache_ent *e = bpf_map_lookup_elem(&xtc_vcache, &idx);

	*hit = e && e->state && e->gen == gen && xtc_vc_same(&e->key, pkt);
#ifdef XTC_VCACHE_COLD
	/* As if another flow held the slot: the flood's every packet. */
	if (e && *hit) {
		*hit = 0;
		asm volatile("" ::: "memory");
	}
#endif
	return e;
}

static __always_inline void xtc_vc_put(struct xtc_vcache_ent *e, const struct xtc_flow_key *pkt,
				       __u32 gen, int found, const struct xtc_rule_val *best)
{
	int taken = e->state && e->gen == gen;

#ifdef XTC_VCACHE_COLD
	taken = 1;
#endif
	if (taken && bpf_get_prandom_u32() % XTC_VC_REPLACE_ONE_IN)
		return;
	e->state = 0;
	e->key = *pkt;
	e->val = *best;
	e->gen = gen;
	e->state = found ? XTC_VC_HIT : XTC_VC_MISS;
}
#endif /* XTC_VCACHE_SLOTS */

#endif /* XTC_VCACHE_BPF_H */
