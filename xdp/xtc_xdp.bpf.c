// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc's XDP classifier.  Drops are carried out here; redirects are handed to
 * the TC ingress program through a metadata block, because only TC has the
 * neigh and peer redirect helpers.  Everything else passes, and chain-calls
 * the next program in the libxdp dispatcher.  Under BPF_PROG_TEST_RUN an
 * xtc_explain block in the metadata turns counting and the handoff into an
 * answer written back into that block (xtc explain).
 *
 * Built twice.  With XTC_XDP_NO_HANDOFF it never moves the metadata pointer,
 * because kernels >= 6.13 (and late 6.12) refuse a program that changes
 * packet data in a dispatcher slot whose stub does not (libxdp < 1.5.5).
 * It still drops and passes here; a redirect verdict passes uncounted, and
 * TC ingress, told by XTC_IF_XDP_NO_HANDOFF, classifies it again and
 * redirects it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>
#include "xtc_classify.bpf.h"

/* Its own name, so that the kernel itself tells which build an interface runs. */
#ifdef XTC_XDP_NO_HANDOFF
#define XTC_XDP_HANDOFF 0
#define XTC_XDP_FUNC xtc_xdp_nh
#else
#define XTC_XDP_HANDOFF 1
#define XTC_XDP_FUNC xtc_xdp
#endif

/* Verdict for truncated or malformed packets: XDP_PASS unless the loader says. */
const volatile __u32 malformed_verdict = XDP_PASS;
/* This interface's counter slot (XTC_IF_SLOT): each interface loads its own instance. */
const volatile __u32 iface_slot = 0;

struct {
	__uint(priority, 30);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(XTC_XDP_FUNC);

static __always_inline int xtc_write_meta(struct xdp_md *ctx, const struct xtc_rule_val *rv,
					  __u32 target)
{
	struct xtc_meta *meta;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		return -1;
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(meta + 1) > data)
		return -1;
	meta->magic = XTC_META_MAGIC;
	meta->version = XTC_META_VERSION;
	meta->action = XTC_ACT_REDIRECT;
	meta->mode = rv->mode;
	meta->flags = 0;
	meta->rule_id = rv->rule_id;
	meta->target_ifindex = target;
	meta->origin_ifindex = ctx->ingress_ifindex;
	return 0;
}

static __always_inline int xtc_xdp_fallback(void)
{
	return xtc_fallback_action() == XTC_ACT_DROP ? XDP_DROP : XDP_PASS;
}

/*
 * xtc explain: the answer goes into the request block instead of counters,
 * and a redirect is not handed off.  What TC ingress would do with the
 * handoff is told here too: it falls back when the target is gone, which
 * bpf_check_mtu() finds out the same way as there.
 */
static __always_inline int xtc_xdp_explain(struct xdp_md *ctx, struct xtc_explain *ex,
					   const struct xtc_search *s, __u32 target, int event,
					   int verdict)
{
	__u32 mtu_len = 0;
	__u8 flags = verdict == XDP_DROP ? XTC_EXF_DROP : 0;

	if (event == XTC_EV_HANDOFF_SENT) {
		flags |= XTC_EXF_HANDOFF;
		if (bpf_check_mtu(ctx, target, &mtu_len, 0, 0) < 0)
			flags |= XTC_EXF_FALLBACK |
				 (xtc_xdp_fallback() == XDP_DROP ? XTC_EXF_DROP : 0);
		else
			flags |= XTC_EXF_REDIRECT;
	}
	xtc_explain_fill(ex, s, target, event, flags);
	return verdict;
}

SEC("xdp")
int XTC_XDP_FUNC(struct xdp_md *ctx)
{
	XTC_VARIANT_INSN();
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xtc_explain *ex = (void *)(long)ctx->data_meta;
	struct xtc_search s = {
		.pkt.dir = XTC_DIR_INGRESS,
		.pkt.ifindex = ctx->ingress_ifindex,
	};
	int verdict = XDP_PASS, event;
	__u32 len = data_end - data, target = 0;

	/* Live traffic carries no metadata here: the bounds check ends it. */
	if ((void *)(ex + 1) > data || ex->magic != XTC_EXPLAIN_MAGIC ||
	    ex->check != XTC_EXPLAIN_CHECK)
		ex = NULL;

	switch (xtc_extract(data, data_end, 0, &s.pkt)) {
	case XTC_PARSED_ERR:
		event = XTC_EV_PARSE_ERR;
		verdict = malformed_verdict;
		goto out;
	case XTC_PARSED_NOT_IP:
		event = XTC_EV_NO_MATCH;
		goto out;
	}
	if (!xtc_lookup(&s)) {
		event = XTC_EV_NO_MATCH;
		goto out;
	}

	switch (s.best.action) {
	case XTC_ACT_DROP:
		event = XTC_EV_DROP;
		verdict = XDP_DROP;
		break;
	case XTC_ACT_REDIRECT:
		target = xtc_resolve_target(&s.pkt, &s.best);
		if (target) {
			event = XTC_EV_HANDOFF_SENT;
			break;
		}
		event = XTC_EV_REDIRECT_FAILED;
		verdict = xtc_xdp_fallback();
		break;
	default:
		event = XTC_EV_PASS;
		break;
	}
out:
	if (ex)
		return xtc_xdp_explain(ctx, ex, &s, target, event, verdict);
	if (event == XTC_EV_HANDOFF_SENT && !XTC_XDP_HANDOFF) {
		/* TC ingress finds the same rule, and counts it there. */
		event = XTC_EV_NONE;
		s.found = 0;
	} else if (event == XTC_EV_HANDOFF_SENT && xtc_write_meta(ctx, &s.best, target)) {
		event = XTC_EV_REDIRECT_FAILED;
		verdict = xtc_xdp_fallback();
	}
	if (s.found)
		xtc_count_rule(s.best.rule_id, len);
	xtc_record(xtc_iface_stats_get(iface_slot, XTC_HOOK_XDP), event,
		   verdict == XDP_DROP);
	return verdict;
}

char _license[] SEC("license") = "GPL";
