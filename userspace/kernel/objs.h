/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Opening the embedded BPF objects (skeletons) with one shared set of maps. */
#ifndef XTC_OBJS_H
#define XTC_OBJS_H

#include "maps.h"
#include "xdp_build.h"

struct xtc_tc;

struct xtc_objs {
	struct xtc_tc *tc;
	struct xtc_xdp_build xdp;	/* with the TC handoff unless xdp_no_handoff */
	struct xtc_maps maps;
};

struct xtc_objs_opts {
	__u32 max_rules;		/* rule id slots */
	__u32 max_entries;		/* tuple-space hash entries */
	__u8 malformed_action;		/* XTC_ACT_PASS or XTC_ACT_DROP */
	bool xdp_no_handoff;		/* load the XDP build without the TC handoff */
	__u32 xdp_slot;			/* the XDP program's counter slot (XTC_IF_SLOT) */
	const struct xtc_maps *reuse;	/* maps to use rather than create (fd -1: create) */
};

/*
 * Loads the TC object (which creates the maps) and the XDP object on the
 * same maps with plain libbpf: for BPF_PROG_TEST_RUN fixtures and benchmarks.
 */
int xtc_objs_load(struct xtc_objs *o, const struct xtc_objs_opts *opts);
void xtc_objs_destroy(struct xtc_objs *o);

int xtc_objs_prog_fd(const struct xtc_objs *o, int hook);	/* enum xtc_hook */

/* Changes whenever the embedded BPF code or its build does: tells two xtc's datapaths apart. */
__u64 xtc_objs_build_id(void);

#endif
