// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <linux/bpf.h>
#include "xdp_build.h"
#include "xtc_shared.h"
#include "xtc_xdp.skel.h"
#include "xtc_xdp_nh.skel.h"

int xtc_xdp_build_open(struct xtc_xdp_build *b, bool handoff, __u8 malformed_action,
		       __u32 slot)
{
	__u32 verdict = malformed_action == XTC_ACT_DROP ? XDP_DROP : XDP_PASS;

	memset(b, 0, sizeof(*b));
	if (handoff && (b->full = xtc_xdp__open())) {
		b->full->rodata->malformed_verdict = verdict;
		b->full->rodata->iface_slot = slot;
		b->obj = b->full->obj;
		b->prog = b->full->progs.xtc_xdp;
		b->prog_name = XTC_XDP_PROG_NAME;
	} else if (!handoff && (b->nh = xtc_xdp_nh__open())) {
		b->nh->rodata->malformed_verdict = verdict;
		b->nh->rodata->iface_slot = slot;
		b->obj = b->nh->obj;
		b->prog = b->nh->progs.xtc_xdp_nh;
		b->prog_name = XTC_XDP_NH_PROG_NAME;
	}
	return b->obj ? 0 : -errno ?: -ENOMEM;
}

int xtc_xdp_build_load(struct xtc_xdp_build *b)
{
	return b->full ? xtc_xdp__load(b->full) : xtc_xdp_nh__load(b->nh);
}

void xtc_xdp_build_close(struct xtc_xdp_build *b)
{
	xtc_xdp__destroy(b->full);
	xtc_xdp_nh__destroy(b->nh);
	memset(b, 0, sizeof(*b));
}

bool xtc_xdp_name_no_handoff(const char *prog_name)
{
	return prog_name && !strcmp(prog_name, XTC_XDP_NH_PROG_NAME);
}

int xtc_xdp_rodata_slot(const char *prog_name, const void *rodata, size_t size, __u32 *slot)
{
	size_t off = xtc_xdp_name_no_handoff(prog_name) ? offsetof(struct xtc_xdp_nh__rodata,
								   iface_slot) :
		     offsetof(struct xtc_xdp__rodata, iface_slot);

	if (off + sizeof(*slot) > size)
		return -ENOENT;
	memcpy(slot, (const char *)rodata + off, sizeof(*slot));
	return 0;
}
