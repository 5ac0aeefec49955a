// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc's TC programs.  Ingress carries out the redirects that XDP handed off
 * in metadata; where XDP did not run it classifies on its own with the same
 * code.  Egress applies the rules whose direction is egress.
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

static __always_inline int xtc_tc_classify(struct __sk_buff *skb, __u8 dir, int *event)
{
	struct xtc_search s = { .pkt.dir = dir, .pkt.ifindex = skb->ifindex };
	void *data, *data_end;
	int verdict;

	xtc_pull(skb);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;

	switch (xtc_extract(data, data_end, skb->len - (__u32)(data_end - data), &s.pkt)) {
	case XTC_PARSED_ERR:
		*event = XTC_EV_PARSE_ERR;
		return malformed_verdict;
	case XTC_PARSED_NOT_IP:
		*event = XTC_EV_NO_MATCH;
		return TC_ACT_OK;
	}
	if (!xtc_lookup(&s)) {
		*event = XTC_EV_NO_MATCH;
		return TC_ACT_OK;
	}
	xtc_count_rule(s.best.rule_id, skb->len);

	switch (s.best.action) {
	case XTC_ACT_DROP:
		*event = XTC_EV_DROP;
		verdict = TC_ACT_SHOT;
		break;
	case XTC_ACT_REDIRECT:
		verdict = xtc_redirect(skb, xtc_resolve_target(&s.pkt, &s.best), s.best.mode, event);
		break;
	default:
		*event = XTC_EV_PASS;
		verdict = TC_ACT_OK;
		break;
	}
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

static __always_inline int xtc_xdp_active(__u32 ifindex)
{
	struct xtc_iface_cfg *ic = bpf_map_lookup_elem(&xtc_ifaces, &ifindex);

	return ic && (ic->flags & XTC_IF_XDP);
}

SEC("tc")
int xtc_tc_ingress(struct __sk_buff *skb)
{
	struct xtc_iface_stats *st;
	struct xtc_meta *meta;
	int verdict = TC_ACT_OK, event = XTC_EV_NONE;
	__u32 target;
	__u8 mode;

	st = xtc_iface_stats_get(skb->ifindex, XTC_HOOK_TC_INGRESS);

	meta = xtc_find_meta(skb);
	if (meta) {
		target = meta->target_ifindex;
		mode = meta->mode;
		meta->magic = 0;
		if (st)
			st->handoffs_received++;
		verdict = xtc_redirect(skb, target, mode, &event);
		goto out;
	}
	/* XDP already classified this packet and let it pass. */
	if (xtc_xdp_active(skb->ifindex))
		goto out;
	verdict = xtc_tc_classify(skb, XTC_DIR_INGRESS, &event);
out:
	xtc_record(st, event, verdict == TC_ACT_SHOT);
	return verdict;
}

SEC("tc")
int xtc_tc_egress(struct __sk_buff *skb)
{
	struct xtc_iface_stats *st;
	int verdict, event = XTC_EV_NONE;

	st = xtc_iface_stats_get(skb->ifindex, XTC_HOOK_TC_EGRESS);
	verdict = xtc_tc_classify(skb, XTC_DIR_EGRESS, &event);
	xtc_record(st, event, verdict == TC_ACT_SHOT);
	return verdict;
}

char _license[] SEC("license") = "GPL";
