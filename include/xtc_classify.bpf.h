/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The classifier both hooks run: packet -> flow key -> tuple-space search.
 * XDP and TC include this same code, which is what makes their verdicts equal.
 */
#ifndef XTC_CLASSIFY_BPF_H
#define XTC_CLASSIFY_BPF_H

#include "xtc_parse.h"
#include "xtc_maps.bpf.h"
#include "xtc_vcache.bpf.h"

enum xtc_parse_result {
	XTC_PARSED_IP = 0,
	XTC_PARSED_NOT_IP = 1,		/* ARP and friends: rules never apply */
	XTC_PARSED_ERR = 2,		/* truncated or malformed */
};

/* enum xtc_event (what happened to a packet) is in xtc_shared.h: explain reports it. */

_Static_assert((XTC_MAX_MASKS & (XTC_MAX_MASKS - 1)) == 0,
	       "XTC_MAX_MASKS must be a power of two");

#define XTC_KEY_WORDS (sizeof(struct xtc_flow_key) / sizeof(__u32))

/* beyond: bytes of the frame past data_end (TC's non-linear part), else 0. */
static __always_inline int xtc_extract(void *data, void *data_end, __u32 beyond,
				       struct xtc_flow_key *k)
{
	struct hdr_cursor nh = { .pos = data, .beyond = beyond };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct ipv6hdr *ip6h;
	struct tcphdr *tcph;
	struct udphdr *udph;
	struct icmphdr_common_xtc *icmph;
	int proto, l4, nonfirst = 0;

	proto = parse_ethhdr(&nh, data_end, &eth);
	if (proto < 0)
		return XTC_PARSED_ERR;

	if (proto == bpf_htons(ETH_P_IP)) {
		l4 = parse_iphdr(&nh, data_end, &iph);
		if (l4 < 0)
			return XTC_PARSED_ERR;
		k->family = XTC_FAMILY_V4;
		k->src[0] = iph->saddr;
		k->dst[0] = iph->daddr;
		nonfirst = !!(iph->frag_off & bpf_htons(XTC_IP_OFFSET));
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		l4 = parse_ip6hdr(&nh, data_end, &ip6h);
		if (l4 < 0)
			return XTC_PARSED_ERR;
		k->family = XTC_FAMILY_V6;
		__builtin_memcpy(k->src, &ip6h->saddr, sizeof(k->src));
		__builtin_memcpy(k->dst, &ip6h->daddr, sizeof(k->dst));
		l4 = parse_ip6_exthdrs(&nh, data_end, l4, &nonfirst);
		if (l4 < 0)
			return XTC_PARSED_ERR;
	} else {
		return XTC_PARSED_NOT_IP;
	}
	k->proto = l4;
	/* A non-first fragment has no L4 header: only L3 fields can match. */
	if (nonfirst)
		return XTC_PARSED_IP;

	switch (l4) {
	case IPPROTO_TCP:
		if (parse_tcphdr(&nh, data_end, &tcph) < 0)
			return XTC_PARSED_ERR;
		k->sport = bpf_ntohs(tcph->source);
		k->dport = bpf_ntohs(tcph->dest);
		k->flags |= XTC_KF_L4;
		break;
	case IPPROTO_UDP:
		if (parse_udphdr(&nh, data_end, &udph) < 0)
			return XTC_PARSED_ERR;
		k->sport = bpf_ntohs(udph->source);
		k->dport = bpf_ntohs(udph->dest);
		k->flags |= XTC_KF_L4;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (parse_icmphdr_common(&nh, data_end, &icmph) < 0)
			return XTC_PARSED_ERR;
		break;
	}
	return XTC_PARSED_IP;
}

struct xtc_search {
	struct xtc_flow_key pkt;
	struct xtc_rule_val best;
	struct xtc_mask_list *ml;
	int found;
	__u32 cls;			/* the packet's xtc_search_class() */
};

/*
 * One tuple space of the packet's class, the i-th: mask the packet key,
 * probe the hash, keep the better match.  It runs under bpf_loop() so that
 * the verifier checks it once rather than once per possible mask.
 */
static long xtc_search_step(__u32 i, void *ctx)
{
	struct xtc_search *s = ctx;
	const __u32 *pw = (const __u32 *)&s->pkt;
	const struct xtc_mask_ent *m;
	struct xtc_rule_val *v;
	struct xtc_flow_key k;
	__u32 *kw = (__u32 *)&k;
	const __u32 *mw;
	int j;

	/* bpf_loop() keeps i below n_order; the masks tell the verifier. */
	m = &s->ml->ent[s->ml->order[s->cls & (XTC_SEARCH_CLASSES - 1)][i & (XTC_MAX_MASKS - 1)] &
			(XTC_MAX_MASKS - 1)];
	if (s->found && m->min_prio >= s->best.prio)
		return 1;
	/* A space that holds port ranges whole: nothing there for a port outside them. */
	if (!xtc_port_in_span(s->pkt.sport, &m->sport) || !xtc_port_in_span(s->pkt.dport, &m->dport))
		return 0;
	mw = (const __u32 *)&m->mask;
#pragma unroll
	for (j = 0; j < (int)XTC_KEY_WORDS; j++)
		kw[j] = pw[j] & mw[j];
	k.mask_id = m->mask.mask_id;
	v = bpf_map_lookup_elem(&xtc_rules, &k);
	if (v && (!s->found || v->prio < s->best.prio)) {
		s->best = *v;
		s->found = 1;
	}
	return 0;
}

/*
 * Tuple-space search: one hash probe per mask shape, never one per rule.
 * The list is sorted by each space's best priority, so once the best match
 * so far beats every remaining space we stop.  A flow seen recently under
 * the same generation of the list takes its verdict from the cache instead.
 */
static __always_inline int xtc_lookup(struct xtc_search *s)
{
	struct xtc_config *cfg;
	__u32 zero = 0, copy;
	struct xtc_vcache_ent *vc;
	__u32 vgen;
	int hit;

	s->found = 0;
	cfg = bpf_map_lookup_elem(&xtc_config, &zero);
	if (!cfg)
		return 0;
	copy = cfg->active & 1;
	s->ml = bpf_map_lookup_elem(&xtc_masks, &copy);
	if (!s->ml)
		return 0;
	vgen = s->ml->gen;
	vc = xtc_vc_get(&s->pkt, vgen, &hit);
	if (vc && hit) {
		s->found = vc->state == XTC_VC_HIT;
		s->best = vc->val;
		return s->found;
	}
	s->cls = xtc_search_class(s->pkt.family == XTC_FAMILY_V6 ? XTC_FB_V6 : XTC_FB_V4,
				  xtc_proto_bit(s->pkt.proto)) & (XTC_SEARCH_CLASSES - 1);
	bpf_loop(s->ml->n_order[s->cls], xtc_search_step, s, 0);
	if (vc)
		xtc_vc_put(vc, &s->pkt, vgen, s->found, &s->best);
	return s->found;
}

static __always_inline void xtc_count_rule(__u32 rule_id, __u64 bytes)
{
	struct xtc_rule_stats *rs = bpf_map_lookup_elem(&xtc_rule_stats, &rule_id);

	if (!rs)
		return;
	rs->packets++;
	rs->bytes += bytes;
}

/* Resolves the redirect target: a fixed ifindex, or the destination's route. */
static __always_inline __u32 xtc_resolve_target(const struct xtc_flow_key *pkt,
						const struct xtc_rule_val *rv)
{
	struct xtc_ipmap_key ik = {};
	struct xtc_ipmap_val *iv;

	if (rv->target_ifindex != XTC_TARGET_AUTO)
		return rv->target_ifindex;
	if (pkt->family == XTC_FAMILY_V4) {
		ik.prefixlen = 128;
		ik.addr[10] = 0xff;
		ik.addr[11] = 0xff;
		__builtin_memcpy(&ik.addr[12], &pkt->dst[0], 4);
	} else if (pkt->family == XTC_FAMILY_V6) {
		ik.prefixlen = 128;
		__builtin_memcpy(ik.addr, pkt->dst, 16);
	} else {
		return 0;
	}
	iv = bpf_map_lookup_elem(&xtc_ipmap, &ik);
	return iv ? iv->ifindex : 0;
}

static __always_inline __u32 xtc_fallback_action(void)
{
	__u32 zero = 0;
	struct xtc_config *cfg = bpf_map_lookup_elem(&xtc_config, &zero);

	return cfg ? cfg->redirect_fallback : XTC_ACT_PASS;
}

/* The counters of one interface's hook, by the slot the loader gave it. */
static __always_inline struct xtc_iface_stats *xtc_iface_stats_get(__u32 slot, __u32 hook)
{
	__u32 key = XTC_IFACE_STATS_KEY(slot, hook);

	return bpf_map_lookup_elem(&xtc_iface_stats, &key);
}

static __always_inline void xtc_record(struct xtc_iface_stats *st, int event, int dropped)
{
	if (!st)
		return;
	st->seen++;
	switch (event) {
	case XTC_EV_PARSE_ERR:
		st->parse_errors++;
		break;
	case XTC_EV_NO_MATCH:
		st->no_match++;
		break;
	case XTC_EV_HANDOFF_SENT:
		st->handoffs_sent++;
		break;
	case XTC_EV_REDIRECT_OK:
		st->redirects_ok++;
		break;
	case XTC_EV_REDIRECT_FAILED:
		st->redirects_failed++;
		break;
	}
	if (dropped)
		st->dropped++;
}

/*
 * The answer to xtc explain (struct xtc_explain in xtc_shared.h) from what
 * the hook decided; flags brings the hook's own outcome bits.
 */
static __always_inline void xtc_explain_fill(struct xtc_explain *r, const struct xtc_search *s,
					     __u32 target, int event, __u8 flags)
{
	if (s->found)
		flags |= XTC_EXF_MATCHED;
	if (event == XTC_EV_REDIRECT_FAILED)
		flags |= XTC_EXF_FALLBACK;
	r->magic = XTC_EXPLAIN_DONE;
	r->check = XTC_EXPLAIN_CHECK;
	r->rule_id = s->found ? s->best.rule_id : XTC_EXPLAIN_NO_RULE;
	r->target_ifindex = target;
	r->action = s->found ? s->best.action : XTC_ACT_PASS;
	r->mode = s->found ? s->best.mode : XTC_MODE_PLAIN;
	r->event = event;
	r->flags = flags;
}

#endif /* XTC_CLASSIFY_BPF_H */
