// SPDX-License-Identifier: GPL-2.0
/* Trivial XDP programs for the VM coexistence test (tests/vm/guest-coexist.py).
 * Compiled on the host (the guest is too slow to compile under TCG):
 *   clang -g -O2 -target bpf -I/usr/include/x86_64-linux-gnu \
 *         -c tests/vm/xdp_coex.bpf.c -o build/vm/xdp_coex.o
 *
 * Each program counts the IPv4 frames it sees in xco_seen (its own .bss map:
 * every `xdp-loader load` of this file gets a fresh copy).  Non-IPv4 frames
 * (ARP above all) always pass, so neighbour resolution keeps working whatever
 * the program does with IPv4.  Run priority and chain-call actions come from
 * `xdp-loader load --prio N --actions A,B` (no XDP_RUN_CONFIG here).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

__u64 xco_seen = 0;

static __always_inline int is_ipv4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return 0;
	return eth->h_proto == bpf_htons(ETH_P_IP);
}

/* Counts IPv4 and passes everything. */
SEC("xdp")
int xco_pass(struct xdp_md *ctx)
{
	if (is_ipv4(ctx))
		__sync_fetch_and_add(&xco_seen, 1);
	return XDP_PASS;
}

/* Counts and drops IPv4; passes everything else. */
SEC("xdp")
int xco_drop(struct xdp_md *ctx)
{
	if (!is_ipv4(ctx))
		return XDP_PASS;
	__sync_fetch_and_add(&xco_seen, 1);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
