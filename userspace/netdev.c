// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Interface facts through libnl-route-3; see netdev.h. */
#include <errno.h>
#include <string.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include "log.h"
#include "netdev.h"

static int nl_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_INVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

int xtc_netdev_get(const char *name, struct xtc_netdev_info *info)
{
	struct rtnl_link *link = NULL;
	struct nl_sock *sk;
	const char *type;
	int32_t nsid;
	int err;

	memset(info, 0, sizeof(*info));
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err) {
		pr_debug("netdev: cannot open rtnetlink: %s\n", nl_geterror(err));
		err = nl_to_errno(err);
		goto out;
	}
	err = rtnl_link_get_kernel(sk, 0, name, &link);
	if (err) {
		pr_debug("netdev: %s: %s\n", name, nl_geterror(err));
		err = nl_to_errno(err);
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
