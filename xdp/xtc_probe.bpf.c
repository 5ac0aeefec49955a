// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Feature probe: the libxdp dispatcher runs each program as an extension
 * (freplace) of one of its slots, so whether the kernel loads and attaches
 * this trivial extension of our own XDP program tells whether the dispatcher
 * can work at all.  The loader sets the real target before loading.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("freplace/xtc_xdp")
int xtc_probe(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
