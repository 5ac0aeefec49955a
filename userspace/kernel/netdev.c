// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Interface facts through libnl-route-3; see netdev.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
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

/* The IFLA_XDP_ATTACHED inside an IFLA_XDP attribute, or 0. */
static int xdp_attached(struct rtattr *xdp)
{
	int len = RTA_PAYLOAD(xdp);
	struct rtattr *a;

	for (a = RTA_DATA(xdp); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_XDP_ATTACHED && RTA_PAYLOAD(a) >= 1)
			return *(__u8 *)RTA_DATA(a);
	return 0;
}

static int collect_xdp(struct nlmsghdr *h, __u32 **out, int *n, int *cap)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	struct rtattr *a;

	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type != IFLA_XDP || !xdp_attached(a))
			continue;
		if (*n == *cap) {
			__u32 *more = realloc(*out, (size_t)(*cap = *cap ? 2 * *cap : 16) *
					      sizeof(**out));

			if (!more)
				return -ENOMEM;
			*out = more;
		}
		(*out)[(*n)++] = (__u32)ifi->ifi_index;
	}
	return 0;
}

static int collect_ffff(struct nlmsghdr *h, __u32 **out, int *n, int *cap)
{
	struct tcmsg *t = NLMSG_DATA(h);

	if (TC_H_MAJ(t->tcm_handle) != TC_H_MAJ(TC_H_INGRESS) && t->tcm_parent != TC_H_INGRESS &&
	    t->tcm_parent != TC_H_CLSACT)
		return 0;
	if (*n == *cap) {
		__u32 *more = realloc(*out, (size_t)(*cap = *cap ? 2 * *cap : 16) * sizeof(**out));

		if (!more)
			return -ENOMEM;
		*out = more;
	}
	(*out)[(*n)++] = (__u32)t->tcm_ifindex;
	return 0;
}

/* A dump of RTM_GET<what>: every answer of type want goes to collect. */
static int dump(const void *req, size_t len, __u16 want,
		int (*collect)(struct nlmsghdr *h, __u32 **out, int *n, int *cap),
		__u32 **out, int *n)
{
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd, cap = 0, err = 0;
	bool done = false;

	*out = NULL;
	*n = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, req, len, 0) < 0)
		err = -errno;
	while (!err && !done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0) {
			err = len < 0 ? -errno : -EIO;
			break;
		}
		for (h = (struct nlmsghdr *)buf; !err && NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				err = e->error ? e->error : -EIO;
				break;
			}
			if (h->nlmsg_type == want)
				err = collect(h, out, n, &cap);
		}
	}
	close(fd);
	if (err) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return err;
}

int xtc_netdev_with_xdp(__u32 **out, int *n)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
		struct rtattr ext;
		__u32 mask;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.i = { .ifi_family = AF_UNSPEC },
		.ext = { .rta_len = RTA_LENGTH(sizeof(__u32)), .rta_type = IFLA_EXT_MASK },
		/* Counters are most of a link's message: not wanted. */
		.mask = RTEXT_FILTER_SKIP_STATS,
	};

	return dump(&req, sizeof(req), RTM_NEWLINK, collect_xdp, out, n);
}

int xtc_netdev_with_ffff(__u32 **out, int *n)
{
	struct {
		struct nlmsghdr h;
		struct tcmsg t;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETQDISC,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.t = { .tcm_family = AF_UNSPEC },
	};

	return dump(&req, sizeof(req), RTM_NEWQDISC, collect_ffff, out, n);
}
