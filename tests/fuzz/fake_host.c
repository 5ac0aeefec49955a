// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The questions the config layer asks the kernel layer, answered by a
 * fixed host for the fuzzer: the fuzz build links util, model and config
 * with this file instead of kernel/, so that a run touches no netlink and
 * no BPF syscall, and a crash input reproduces on any machine.
 *
 * The interfaces are those the repository's configs name (configs/ and
 * tests/config/), plus one whose lookup fails for another reason than
 * absence, so that every branch of cfg_host_iface() is reachable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "netdev.h"
#include "tc_attach.h"

static const struct {
	const char *name;
	int err;
	struct xtc_netdev_info info;
} hosts[] = {
	{ "lo", 0, { .ifindex = 1, .loopback = true } },
	{ "eth0", 0, { .ifindex = 2, .xdp_native = 1 } },
	{ "veth-pod7", 0, { .ifindex = 3, .is_veth = true, .peer_other_netns = true,
			    .kind = "veth" } },
	{ "veth-pod9", 0, { .ifindex = 4, .is_veth = true, .kind = "veth" } },
	{ "busy0", -EBUSY, { 0 } },
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct xtc_netdev_name *)a)->name,
		      ((const struct xtc_netdev_name *)b)->name);
}

int xtc_netdev_get(const char *name, struct xtc_netdev_info *info)
{
	size_t i;

	memset(info, 0, sizeof(*info));
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		if (!strcmp(hosts[i].name, name)) {
			*info = hosts[i].info;
			return hosts[i].err;
		}
	}
	return -ENODEV;
}

/* Every interface, sorted by name, for [interface PATTERN] (busy0 is listed too). */
int xtc_netdev_list(struct xtc_netdev_name **out, int *n)
{
	size_t i, k = sizeof(hosts) / sizeof(hosts[0]);

	*n = 0;
	*out = calloc(k, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < k; i++) {
		snprintf((*out)[i].name, sizeof((*out)[i].name), "%s", hosts[i].name);
		(*out)[i].ifindex = hosts[i].info.ifindex ?: 100 + (__u32)i;
		snprintf((*out)[i].kind, sizeof((*out)[i].kind), "%s", hosts[i].info.kind);
		(*out)[i].loopback = hosts[i].info.loopback;
	}
	qsort(*out, k, sizeof(**out), by_name);
	*n = (int)k;
	return 0;
}

/* Linux 6.6 and later: tc_attach = tcx is accepted. */
bool xtc_tc_tcx_available(void)
{
	return true;
}
