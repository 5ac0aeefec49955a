/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Our TC programs on an interface: a TCX link (kernel >= 6.6), or clsact
 * with one cls_bpf filter at our own fixed prio and handle.  Never touches
 * other filters, and never removes a clsact qdisc that still has them.
 */
#ifndef XTC_TC_ATTACH_H
#define XTC_TC_ATTACH_H

#include <stdbool.h>
#include <linux/types.h>

enum xtc_tc_kind {
	XTC_TC_KIND_NONE = 0,
	XTC_TC_KIND_TCX = 1,
	XTC_TC_KIND_CLS_BPF = 2,
};

#define XTC_CLS_PRIO 0x7874		/* our cls_bpf filter's priority */
#define XTC_CLS_HANDLE 0x7874		/* and handle */

struct xtc_tc_info {
	enum xtc_tc_kind kind;		/* how ours is attached, NONE if it is not */
	__u32 prog_id;			/* ours, when attached */
	__u32 prio, handle;		/* cls_bpf only */
	int n_others;			/* other programs/filters on this hook */
};

/* Whether the kernel has TCX (BPF_TCX_INGRESS = 46, BPF_TCX_EGRESS = 47). */
bool xtc_tc_tcx_available(void);

/*
 * Attaches prog_fd to the ingress or egress hook.  TCX: a link pinned at
 * link_pin.  cls_bpf: creates clsact when absent (*created_qdisc) and adds
 * or replaces our filter.  Attaching what is already there is a no-op.
 */
int xtc_tc_attach(enum xtc_tc_kind kind, __u32 ifindex, bool egress, int prog_fd,
		  const char *link_pin, bool *created_qdisc);

/*
 * Removes ours.  TCX: detaches the pinned link and unlinks the pin.
 * cls_bpf: deletes our filter, and the clsact qdisc too when
 * remove_qdisc is set and no other filter remains on either hook.
 */
int xtc_tc_detach(enum xtc_tc_kind kind, __u32 ifindex, bool egress, const char *link_pin,
		  bool remove_qdisc);

/* What is attached at that hook; ours is recognised by our_prog_id. */
int xtc_tc_query(__u32 ifindex, bool egress, __u32 our_prog_id, struct xtc_tc_info *info);

#endif
