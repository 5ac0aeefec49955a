/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Facts about a network interface in the current namespace, read through
 * rtnetlink (libnl-route-3) so that check can prove what apply relies on.
 */
#ifndef XTC_NETDEV_H
#define XTC_NETDEV_H

#include <stdbool.h>
#include <linux/types.h>

struct xtc_netdev_info {
	__u32 ifindex;
	bool is_veth;
	bool peer_other_netns;		/* a veth whose peer lives in another namespace */
	char kind[16];			/* rtnetlink link kind ("veth", "bridge", ...); "" for a
					 * device with a driver of its own */
	bool loopback;
	int xdp_native;			/* driver: 1 native XDP, 0 none, -1 the kernel does not
					 * say (before 6.3); 0 for virtual devices and lo */
};

/* Returns 0, -ENODEV when name does not exist, or another -errno. */
int xtc_netdev_get(const char *name, struct xtc_netdev_info *info);

struct xtc_netdev_name {
	char name[16];			/* IF_NAMESIZE */
	__u32 ifindex;
	char kind[16];			/* as in xtc_netdev_info */
	bool loopback;
};

/*
 * The interfaces that have an XDP program attached, in one rtnetlink dump
 * (libbpf's per-interface query dumps every link each time): *out, n of
 * them, freed by the caller.
 */
int xtc_netdev_with_xdp(__u32 **out, int *n);
/* The same for the interfaces with an ffff: qdisc (clsact or ingress): where filters can be. */
int xtc_netdev_with_ffff(__u32 **out, int *n);

/* Every interface of the namespace, sorted by name, in one dump (*out freed by the caller). */
int xtc_netdev_list(struct xtc_netdev_name **out, int *n);

/*
 * The driver's XDP features (NETDEV_XDP_ACT_*, bit 0: native XDP) from the
 * netdev generic netlink family; -EOPNOTSUPP on kernels before 6.3.
 */
int xtc_netdev_xdp_features(__u32 ifindex, __u64 *features);
#define XTC_NETDEV_XDP_ACT_BASIC 1ULL

#endif
