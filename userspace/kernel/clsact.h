/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The clsact qdisc and the filters on its hooks, as rtnetlink reports them:
 * every entry of a filter dump with its chain, prio, handle, classifier
 * kind and, for cls_bpf, the program it runs.
 */
#ifndef XTC_CLSACT_H
#define XTC_CLSACT_H

#include <stdbool.h>
#include <netlink/netlink.h>
#include "tc_attach.h"

struct xtc_tc_filter {
	__u32 chain, prio, handle;
	__u16 protocol;			/* ETH_P_*, host order */
	char kind[XTC_TC_KIND_LEN];
	__u32 prog_id;			/* bpf only */
};

/* What holds handle ffff: of a device: clsact, the older ingress qdisc, or nothing. */
enum xtc_ffff_qdisc {
	XTC_FFFF_NONE,
	XTC_FFFF_CLSACT,
	XTC_FFFF_OTHER,
};

int xtc_clsact_probe(struct nl_sock *sk, __u32 ifindex, enum xtc_ffff_qdisc *found);

typedef void (*xtc_tc_filter_fn)(const struct xtc_tc_filter *f, void *arg);

/*
 * Calls fn for each entry of one hook's filter dump.  No qdisc there dumps
 * nothing, nor does egress under anything but clsact.
 */
int xtc_clsact_filters(struct nl_sock *sk, __u32 ifindex, bool egress, xtc_tc_filter_fn fn,
		       void *arg);

/* A filter of its own, not a prio's classifier instance nor a u32 hash table. */
bool xtc_tc_filter_is_real(const struct xtc_tc_filter *f);

#endif
