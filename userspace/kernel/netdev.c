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
	snprintf(info->kind, sizeof(info->kind), "%s", type ?: "");
	info->loopback = rtnl_link_get_flags(link) & IFF_LOOPBACK;
	info->is_veth = type && !strcmp(type, "veth");
	if (!info->kind[0] && !info->loopback) {
		__u64 feat;

		info->xdp_native = xtc_netdev_xdp_features(info->ifindex, &feat) ? -1 :
				   !!(feat & XTC_NETDEV_XDP_ACT_BASIC);
	}
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

/* Ifindexes, grown as a dump answers. */
struct id_list {
	__u32 *v;
	int n, cap;
};

static int id_add(struct id_list *l, __u32 id)
{
	if (l->n == l->cap) {
		__u32 *more = realloc(l->v, (size_t)(l->cap = l->cap ? 2 * l->cap : 16) *
				      sizeof(*l->v));

		if (!more)
			return -ENOMEM;
		l->v = more;
	}
	l->v[l->n++] = id;
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

static int collect_xdp(struct nlmsghdr *h, void *ctx)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	struct rtattr *a;

	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_XDP && xdp_attached(a))
			return id_add(ctx, (__u32)ifi->ifi_index);
	return 0;
}

static int collect_ffff(struct nlmsghdr *h, void *ctx)
{
	struct tcmsg *t = NLMSG_DATA(h);

	if (TC_H_MAJ(t->tcm_handle) != TC_H_MAJ(TC_H_INGRESS) && t->tcm_parent != TC_H_INGRESS &&
	    t->tcm_parent != TC_H_CLSACT)
		return 0;
	return id_add(ctx, (__u32)t->tcm_ifindex);
}

/* Every link's name, kind and loopback flag. */
struct name_list {
	struct xtc_netdev_name *v;
	int n, cap;
};

static void link_kind(struct rtattr *linkinfo, char *kind, size_t size)
{
	int len = RTA_PAYLOAD(linkinfo);
	struct rtattr *a;

	for (a = RTA_DATA(linkinfo); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_INFO_KIND)
			snprintf(kind, size, "%.*s", (int)RTA_PAYLOAD(a), (char *)RTA_DATA(a));
}

static int collect_name(struct nlmsghdr *h, void *ctx)
{
	struct name_list *l = ctx;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	struct xtc_netdev_name e = { .ifindex = (__u32)ifi->ifi_index,
				     .loopback = ifi->ifi_flags & IFF_LOOPBACK };
	struct rtattr *a;

	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME)
			snprintf(e.name, sizeof(e.name), "%.*s", (int)RTA_PAYLOAD(a),
				 (char *)RTA_DATA(a));
		else if (a->rta_type == IFLA_LINKINFO)
			link_kind(a, e.kind, sizeof(e.kind));
	}
	if (!e.name[0])
		return 0;
	if (l->n == l->cap) {
		struct xtc_netdev_name *more = realloc(l->v, (size_t)(l->cap = l->cap ?
							 2 * l->cap : 16) * sizeof(*l->v));

		if (!more)
			return -ENOMEM;
		l->v = more;
	}
	l->v[l->n++] = e;
	return 0;
}

/* A dump of RTM_GET<what>: every answer of type want goes to collect. */
static int dump(const void *req, size_t len, __u16 want,
		int (*collect)(struct nlmsghdr *h, void *ctx), void *ctx)
{
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd, err = 0;
	bool done = false;

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
				err = collect(h, ctx);
		}
	}
	close(fd);
	return err;
}

/* RTM_GETLINK for every link, without the counters that are most of each answer. */
struct link_dump_req {
	struct nlmsghdr h;
	struct ifinfomsg i;
	struct rtattr ext;
	__u32 mask;
};

static struct link_dump_req link_dump(void)
{
	return (struct link_dump_req){
		.h = { .nlmsg_len = sizeof(struct link_dump_req), .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.i = { .ifi_family = AF_UNSPEC },
		.ext = { .rta_len = RTA_LENGTH(sizeof(__u32)), .rta_type = IFLA_EXT_MASK },
		.mask = RTEXT_FILTER_SKIP_STATS,
	};
}

static int ids_dump(const void *req, size_t len, __u16 want,
		    int (*collect)(struct nlmsghdr *h, void *ctx), __u32 **out, int *n)
{
	struct id_list l = {};
	int err = dump(req, len, want, collect, &l);

	if (err) {
		free(l.v);
		l.v = NULL;
		l.n = 0;
	}
	*out = l.v;
	*n = l.n;
	return err;
}

int xtc_netdev_list(struct xtc_netdev_name **out, int *n)
{
	struct link_dump_req req = link_dump();
	struct name_list l = {};
	int err = dump(&req, sizeof(req), RTM_NEWLINK, collect_name, &l);

	*out = NULL;
	*n = 0;
	if (err) {
		free(l.v);
		return err;
	}
	if (!l.v && !(l.v = calloc(1, sizeof(*l.v))))
		return -ENOMEM;
	qsort(l.v, l.n, sizeof(*l.v), by_name);
	*out = l.v;
	*n = l.n;
	return 0;
}

int xtc_netdev_with_xdp(__u32 **out, int *n)
{
	struct link_dump_req req = link_dump();

	return ids_dump(&req, sizeof(req), RTM_NEWLINK, collect_xdp, out, n);
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

	return ids_dump(&req, sizeof(req), RTM_NEWQDISC, collect_ffff, out, n);
}
