/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every way xtc puts a program on an interface, behind one table: XDP
 * (through libxdp), TCX and cls_bpf.  The engine attaches, swaps and
 * detaches through it alone, so a new attach kind is one more entry.  What
 * is on a hook is read by each kind's query (xdp_attach.h, tc_attach.h).
 */
#ifndef XTC_HOOK_OPS_H
#define XTC_HOOK_OPS_H

#include <stdbool.h>
#include <linux/types.h>
#include "maps.h"
#include "model.h"
#include "tc_attach.h"

enum xtc_hook_kind {
	XTC_HOOK_KIND_XDP,
	XTC_HOOK_KIND_TCX,
	XTC_HOOK_KIND_CLS_BPF,
	XTC_HOOK_KIND_COUNT,
};

/* One place for one of our programs: a hook of an interface. */
struct xtc_hook_place {
	__u32 ifindex;
	const char *ifname;
	bool egress;			/* TC */
	const char *link_pin;		/* TCX: where our link is pinned */
	__u32 prio;			/* XDP: run priority; cls_bpf: the filter's prio */
	enum xtc_xdp_mode mode;		/* XDP */
	const struct xtc_maps *maps;	/* XDP: a new instance is loaded on these */
	__u32 slot;			/* XDP: the interface's counter slot */
	int prog_fd;			/* TC: the pinned program to attach */
};

struct xtc_hook_done {
	__u32 prog_id;			/* XDP: the new instance */
	bool single;			/* XDP: no dispatcher */
	bool no_handoff;		/* XDP: the build without the TC handoff */
	bool created_qdisc;		/* cls_bpf: clsact made by us */
};

struct xtc_hook_ops {
	const char *name;		/* "xdp", "tcx", "cls_bpf": also the failpoints' */
	/*
	 * replace_id: a program of ours that holds the place now; the new one
	 * takes its place without a gap.  0: there is none.
	 */
	int (*attach)(const struct xtc_hook_place *pl, __u32 replace_id, struct xtc_hook_done *d);
	/* Removes expect_id, ours, and nothing else. */
	int (*detach)(const struct xtc_hook_place *pl, __u32 expect_id, bool remove_qdisc);
};

const struct xtc_hook_ops *xtc_hook_ops_of(enum xtc_hook_kind kind);

/* The TC attach kinds as hook kinds. */
enum xtc_hook_kind xtc_hook_kind_of_tc(enum xtc_tc_kind kind);

#endif
