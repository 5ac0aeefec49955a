// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Feature probe: the libxdp dispatcher runs each program as an extension
 * (freplace) of one of its slots, so whether the kernel loads and attaches
 * a trivial extension of a loaded XDP program tells whether the dispatcher
 * can work at all.  The object is loaded twice: once for the target alone
 * (as small as an XDP program gets, so that a probe costs no verification
 * of the real classifier), then for the extension, aimed at it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xtc_probe_target(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("freplace/xtc_probe_target")
int xtc_probe(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
