// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc's TC programs.  Ingress carries out the redirects that XDP handed off
 * in metadata; where XDP did not run it classifies on its own with the same
 * code.  Egress applies the rules whose direction is egress.  An xtc_explain
 * block in cb (BPF_PROG_TEST_RUN, xtc explain) turns counting into an answer
 * written back into cb.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "xtc_classify.bpf.h"

/* Verdict for truncated or malformed packets: TC_ACT_OK unless the loader says. */
const volatile __u32 malformed_verdict = TC_ACT_OK;

/* Headers we may need to read; pulled into the linear area when missing. */
#define XTC_PULL_LEN 256

static __always_inline int xtc_fallback_verdict(void)
{
	return xtc_fallback_action() == XTC_ACT_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

/*
 * bpf_redirect*() cannot tell that the target is gone: the skb would be
 * dropped later without a trace.  bpf_check_mtu() looks the ifindex up in
 * this namespace, so a vanished target is caught and falls back instead.
 */
static __always_inline int xtc_redirect(struct __sk_buff *skb, __u32 target, __u8 mode,
					int *event)
{
	__u32 mtu_len = 0;
	long ret;

	if (!target || bpf_check_mtu(skb, target, &mtu_len, 0, 0) < 0)
		goto fail;
	switch (mode) {
	case XTC_MODE_PLAIN:
		ret = bpf_redirect(target, 0);
		break;
	case XTC_MODE_NEIGH:
		ret = bpf_redirect_neigh(target, NULL, 0, 0);
		break;
	case XTC_MODE_PEER:
		ret = bpf_redirect_peer(target, 0);
		break;
	default:
		goto fail;
	}
	if (ret != TC_ACT_REDIRECT)
		goto fail;
	*event = XTC_EV_REDIRECT_OK;
	return TC_ACT_REDIRECT;
fail:
	*event = XTC_EV_REDIRECT_FAILED;
	return xtc_fallback_verdict();
}

static __always_inline void xtc_pull(struct __sk_buff *skb)
{
	__u32 want = skb->len < XTC_PULL_LEN ? skb->len : XTC_PULL_LEN;

	if ((long)skb->data_end - (long)skb->data < want)
		bpf_skb_pull_data(skb, want);
}

/* Classifies without counting; the hook's exit path counts (or explains). */
static __always_inline int xtc_tc_classify(struct __sk_buff *skb, struct xtc_search *s,
					   __u32 *target, int *event)
{
	void *data, *data_end;
	int verdict;

	xtc_pull(skb);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;

	switch (xtc_extract(data, data_end, skb->len - (__u32)(data_end - data), &s->pkt)) {
	case XTC_PARSED_ERR:
		*event = XTC_EV_PARSE_ERR;
		return malformed_verdict;
	case XTC_PARSED_NOT_IP:
		*event = XTC_EV_NO_MATCH;
		return TC_ACT_OK;
	}
	if (!xtc_lookup(s)) {
		*event = XTC_EV_NO_MATCH;
		return TC_ACT_OK;
	}

	switch (s->best.action) {
	case XTC_ACT_DROP:
		*event = XTC_EV_DROP;
		verdict = TC_ACT_SHOT;
		break;
	case XTC_ACT_REDIRECT:
		*target = xtc_resolve_target(&s->pkt, &s->best);
		verdict = xtc_redirect(skb, *target, s->best.mode, event);
		break;
	default:
		*event = XTC_EV_PASS;
		verdict = TC_ACT_OK;
		break;
	}
	return verdict;
}

/*
 * xtc explain asks through cb[0..4] (struct xtc_explain): two words that
 * stray cb contents of other layers do not hold.  Live packets pay one
 * compare.
 */
static __always_inline int xtc_tc_explaining(struct __sk_buff *skb)
{
	return skb->cb[0] == XTC_EXPLAIN_MAGIC && skb->cb[1] == XTC_EXPLAIN_CHECK;
}

/*
 * The one exit of both hooks: count the packet, or, for xtc explain, write
 * the answer into cb (BPF_PROG_TEST_RUN returns it in ctx_out) and count
 * nothing.  A redirect in a test run only records its target: nothing is sent.
 */
static __always_inline int xtc_tc_finish(struct __sk_buff *skb, int explain, __u32 slot,
					 __u32 hook, const struct xtc_search *s, __u32 target,
					 int event, int verdict, int handoff, __u8 flags)
{
	struct xtc_iface_stats *st;

	if (explain) {
		struct xtc_explain r;
		const __u32 *w = (const __u32 *)&r;

		if (verdict == TC_ACT_SHOT)
			flags |= XTC_EXF_DROP;
		else if (verdict == TC_ACT_REDIRECT)
			flags |= XTC_EXF_REDIRECT;
		xtc_explain_fill(&r, s, target, event, flags);
		skb->cb[0] = w[0];
		skb->cb[1] = w[1];
		skb->cb[2] = w[2];
		skb->cb[3] = w[3];
		skb->cb[4] = w[4];
		return verdict;
	}
	if (s->found)
		xtc_count_rule(s->best.rule_id, skb->len);
	st = xtc_iface_stats_get(slot, hook);
	if (st && handoff)
		st->handoffs_received++;
	xtc_record(st, event, verdict == TC_ACT_SHOT);
	return verdict;
}

/* Our metadata sits right in front of the packet, wherever data_meta starts. */
static __always_inline struct xtc_meta *xtc_find_meta(struct __sk_buff *skb)
{
	void *data_meta = (void *)(long)skb->data_meta;
	void *data = (void *)(long)skb->data;
	struct xtc_meta *meta;
	__u32 off;

	if (data_meta + sizeof(*meta) > data)
		return NULL;
	off = (long)data - (long)data_meta - sizeof(*meta);
	if (off > 32)
		return NULL;
	meta = data_meta + off;
	if ((void *)(meta + 1) > data)
		return NULL;
	if (meta->magic != XTC_META_MAGIC || meta->version != XTC_META_VERSION ||
	    meta->action != XTC_ACT_REDIRECT || meta->origin_ifindex != skb->ifindex)
		return NULL;
	return meta;
}

/*
 * The interface's record flags (hooks and counter slot); 0 without a record.
 * From the array when its element is this interface's, else from the hash.
 */
static __always_inline __u32 xtc_iface_flags(__u32 ifindex)
{
	__u32 k = ifindex & (XTC_IFACE_IDX_SLOTS - 1);
	__u64 *e = bpf_map_lookup_elem(&xtc_iface_idx, &k), v;
	struct xtc_iface_cfg *ic;

	if (e) {
		v = *(volatile __u64 *)e;
		if ((__u32)v == ifindex)
			return v >> 32;
	}
	ic = bpf_map_lookup_elem(&xtc_ifaces, &ifindex);
	return ic ? ic->flags : 0;
}

SEC("tc")
int xtc_tc_ingress(struct __sk_buff *skb)
{
	XTC_VARIANT_INSN();
	struct xtc_search s = { .pkt.dir = XTC_DIR_INGRESS, .pkt.ifindex = skb->ifindex };
	int explain = xtc_tc_explaining(skb);
	int verdict = TC_ACT_OK, event = XTC_EV_NONE, handoff = 0;
	struct xtc_meta *meta;
	__u8 flags = 0;
	__u32 target = 0, ifl = xtc_iface_flags(skb->ifindex);
	__u8 mode;

	meta = xtc_find_meta(skb);
	if (meta) {
		target = meta->target_ifindex;
		mode = meta->mode;
		meta->magic = 0;
		handoff = 1;
		verdict = xtc_redirect(skb, target, mode, &event);
		goto out;
	}
	/* XDP already classified this packet and let it pass. */
	if ((ifl & (XTC_IF_XDP | XTC_IF_XDP_NO_HANDOFF)) == XTC_IF_XDP) {
		flags = XTC_EXF_XDP_OWNS;
		goto out;
	}
	verdict = xtc_tc_classify(skb, &s, &target, &event);
	/* XDP without the handoff left us its redirects only; it counted the rest. */
	if ((ifl & XTC_IF_XDP) && !(s.found && s.best.action == XTC_ACT_REDIRECT)) {
		s.found = 0;
		event = XTC_EV_NONE;
		flags = XTC_EXF_XDP_OWNS;
		verdict = TC_ACT_OK;
	}
out:
	return xtc_tc_finish(skb, explain, XTC_IF_SLOT(ifl), XTC_HOOK_TC_INGRESS, &s, target,
			     event, verdict, handoff, flags);
}

SEC("tc")
int xtc_tc_egress(struct __sk_buff *skb)
{
	XTC_VARIANT_INSN();
	struct xtc_search s = { .pkt.dir = XTC_DIR_EGRESS, .pkt.ifindex = skb->ifindex };
	int explain = xtc_tc_explaining(skb);
	int verdict, event = XTC_EV_NONE;
	__u32 target = 0;

	verdict = xtc_tc_classify(skb, &s, &target, &event);
	return xtc_tc_finish(skb, explain, XTC_IF_SLOT(xtc_iface_flags(skb->ifindex)),
			     XTC_HOOK_TC_EGRESS, &s, target, event, verdict, 0, 0);
}

char _license[] SEC("license") = "GPL";
