/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Our XDP object in one of its two builds (xdp/xtc_xdp.bpf.c): xtc_xdp,
 * with the metadata handoff to TC, and xtc_xdp_nh, without it, for kernels
 * that refuse packet-data changes in a dispatcher slot.  The kernel tells
 * them apart by the program's name.
 */
#ifndef XTC_XDP_BUILD_H
#define XTC_XDP_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <bpf/libbpf.h>

#define XTC_XDP_PROG_NAME "xtc_xdp"
#define XTC_XDP_NH_PROG_NAME "xtc_xdp_nh"

struct xtc_xdp;
struct xtc_xdp_nh;

struct xtc_xdp_build {
	struct xtc_xdp *full;		/* one of the two skeletons */
	struct xtc_xdp_nh *nh;
	struct bpf_object *obj;
	struct bpf_program *prog;
	const char *prog_name;
};

/*
 * Opens the build (handoff: xtc_xdp) with its malformed-packet verdict and
 * the interface's counter slot set; 0 or -errno.
 */
int xtc_xdp_build_open(struct xtc_xdp_build *b, bool handoff, __u8 malformed_action,
		       __u32 slot);
int xtc_xdp_build_load(struct xtc_xdp_build *b);
void xtc_xdp_build_close(struct xtc_xdp_build *b);

/* Whether a program of ours with this name is the build without the handoff. */
bool xtc_xdp_name_no_handoff(const char *prog_name);

/*
 * The counter slot a live instance of ours was loaded with, from its .rodata
 * (size bytes); -ENOENT when that is too short to hold one (an older build).
 */
int xtc_xdp_rodata_slot(const char *prog_name, const void *rodata, size_t size, __u32 *slot);

#endif
