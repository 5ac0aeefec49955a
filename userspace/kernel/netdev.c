// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Interface facts through libnl-route-3; see netdev.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include "log.h"
#include "nlutil.h"
#include "netdev.h"

int xtc_netdev_get(const char *name, struct xtc_netdev_info *info)
{
	struct rtnl_link *link = NULL;
	struct nl_sock *sk = NULL;
	const char *type;
	int32_t nsid;
	int err;

	memset(info, 0, sizeof(*info));
	err = xtc_nl_route_open(&sk, "netdev");
	if (err)
		return err;
	err = rtnl_link_get_kernel(sk, 0, name, &link);
	if (err) {
		pr_debug("netdev: %s: %s\n", name, nl_geterror(err));
		err = xtc_nl_errno(err);
		goto out;
	}
	info->ifindex = (__u32)rtnl_link_get_ifindex(link);
	type = rtnl_link_get_type(link);
	info->is_veth = type && !strcmp(type, "veth");
	/* The kernel sends IFLA_LINK_NETNSID only when the peer's namespace differs. */
	info->peer_other_netns = info->is_veth && rtnl_link_get_link_netnsid(link, &nsid) == 0;
out:
	rtnl_link_put(link);
	nl_socket_free(sk);
	return err;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct xtc_netdev_name *)a)->name,
		      ((const struct xtc_netdev_name *)b)->name);
}

int xtc_netdev_list(struct xtc_netdev_name **out, int *n)
{
	struct if_nameindex *all = if_nameindex(), *i;
	int k = 0;

	*out = NULL;
	*n = 0;
	if (!all)
		return -errno;
	for (i = all; i->if_index; i++)
		k++;
	*out = calloc(k + 1, sizeof(**out));
	if (!*out) {
		if_freenameindex(all);
		return -ENOMEM;
	}
	for (i = all, k = 0; i->if_index; i++, k++) {
		snprintf((*out)[k].name, sizeof((*out)[k].name), "%s", i->if_name);
		(*out)[k].ifindex = i->if_index;
	}
	if_freenameindex(all);
	qsort(*out, k, sizeof(**out), by_name);
	*n = k;
	return 0;
}
