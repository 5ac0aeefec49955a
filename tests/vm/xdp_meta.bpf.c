// SPDX-License-Identifier: GPL-2.0
/* An XDP program that changes packet data (it moves the metadata pointer),
 * for the VM coexistence test's first case: kernels >= 6.13, and late 6.12,
 * refuse it in a libxdp dispatcher slot whose stub does not change packet
 * data (libxdp < 1.5.5), as they refuse xtc's XDP program with the TC
 * handoff.  Compiled on the host into $XTC_VM_BUILD/xdp_meta.o.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xco_meta(struct xdp_md *ctx)
{
	/* Four bytes of metadata that nothing reads: harmless to whatever runs next. */
	bpf_xdp_adjust_meta(ctx, -4);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
