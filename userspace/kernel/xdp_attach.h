/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Our XDP program on an interface, through libxdp: attach with priority and
 * chain-call actions, detach only ours, and report what the kernel holds.
 */
#ifndef XTC_XDP_ATTACH_H
#define XTC_XDP_ATTACH_H

#include <stdbool.h>
#include <linux/types.h>
#include "maps.h"
#include "model.h"
#include "xdp_build.h"

#define XTC_XDP_MAX_PROGS 10		/* libxdp's dispatcher limit */

struct xtc_xdp_prog_info {
	char name[32];
	__u32 id;
	__u32 prio;
	__u32 chain_actions;		/* bit (1 << XDP_xxx) per chain-call action */
	bool ours;
};

struct xtc_xdp_info {
	bool attached;			/* any XDP program on the interface */
	bool dispatcher;		/* libxdp dispatcher; false: a single program */
	enum xtc_xdp_mode mode;
	__u32 main_id;			/* dispatcher or single program id */
	int n_progs;
	struct xtc_xdp_prog_info progs[XTC_XDP_MAX_PROGS];	/* run order */
	int our_pos;			/* index of ours in progs, or -1 */
};

/* What the interface holds now; ours is the program whose id is our_id. */
int xtc_xdp_query(__u32 ifindex, __u32 our_id, struct xtc_xdp_info *info);

/*
 * Attaches a new instance of our program, sharing maps, with run priority
 * prio and chain-call on XDP_PASS.  On success *prog_id is its id and
 * *single tells that libxdp fell back to a single program (no dispatcher).
 * When the kernel refuses a program that changes packet data in a
 * dispatcher slot, the build without the TC handoff goes in instead and
 * *no_handoff says so.  Refuses with -EBUSY, after explaining, when the interface holds a program
 * that is not ours and not under a dispatcher.
 */
int xtc_xdp_attach(const struct xtc_maps *maps, __u32 ifindex, const char *ifname,
		   enum xtc_xdp_mode mode, __u32 prio, __u8 malformed_action, __u32 slot,
		   __u32 *prog_id, bool *single, bool *no_handoff);

/*
 * Swaps old_id, a single program (no dispatcher), for a new instance of ours
 * in one step (XDP_FLAGS_REPLACE: the kernel checks that old_id is still
 * there), so no packet passes unclassified.  Same mode only.
 */
int xtc_xdp_replace_single(const struct xtc_maps *maps, __u32 ifindex, const char *ifname,
			   enum xtc_xdp_mode mode, __u8 malformed_action, __u32 slot,
			   __u32 old_id, __u32 *prog_id);

/* Detaches our program with this id, and nothing else. */
int xtc_xdp_detach(__u32 ifindex, const char *ifname, __u32 prog_id);

/* Whether the kernel accepts freplace programs, which the dispatcher needs. */
bool xtc_xdp_dispatcher_usable(void);

#endif
