// SPDX-License-Identifier: GPL-2.0
/* Trivial XDP program for the VM smoke test (tests/vm/guest-smoke.sh).
 * Compiled on the host (the guest is too slow to compile under TCG):
 *   clang -g -O2 -target bpf -I/usr/include/x86_64-linux-gnu \
 *         -c tests/vm/xdp_pass.bpf.c -o build/vm/xdp_pass.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xtc_smoke_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
