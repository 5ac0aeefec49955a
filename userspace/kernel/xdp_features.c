// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The driver's XDP features through the "netdev" generic netlink family
 * (Linux 6.3 and later).  Raw netlink: the project links libnl-route only,
 * and this is two small requests.  Bookworm's kernel headers predate
 * <linux/netdev.h>, so its few numbers are spelled out here.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include "netdev.h"

#define NETDEV_FAMILY_NAME "netdev"
#define NETDEV_CMD_DEV_GET 1
#define NETDEV_A_DEV_IFINDEX 1
#define NETDEV_A_DEV_XDP_FEATURES 3

struct req {
	struct nlmsghdr h;
	struct genlmsghdr g;
	char attrs[64];
};

static void put_attr(struct req *r, __u16 type, const void *data, __u16 len)
{
	struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* Sends r and hands the attributes of the one answer to find; -errno from the kernel. */
static int ask(int fd, struct req *r, __u16 want_attr, void *out, size_t out_len)
{
	char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlattr *a;
	ssize_t len;
	int rest;

	if (send(fd, r, r->h.nlmsg_len, 0) < 0)
		return -errno;
	do
		len = recv(fd, buf, sizeof(buf), 0);
	while (len < 0 && errno == EINTR);
	if (len < 0)
		return -errno;
	if (!NLMSG_OK(h, (size_t)len))
		return -EIO;
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(h);

		return e->error ? e->error : -EIO;
	}
	rest = (int)h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	a = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
	for (; rest >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rest;
	     rest -= NLA_ALIGN(a->nla_len), a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
		if (a->nla_type != want_attr)
			continue;
		if ((size_t)(a->nla_len - NLA_HDRLEN) < out_len)
			return -EIO;
		memcpy(out, (char *)a + NLA_HDRLEN, out_len);
		return 0;
	}
	return -ENOENT;
}

static void init_req(struct req *r, __u16 type, __u8 cmd)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST;
	r->g.cmd = cmd;
	r->g.version = 1;
}

int xtc_netdev_xdp_features(__u32 ifindex, __u64 *features)
{
	static int family = -1;		/* 0: the kernel has no netdev family */
	struct req r;
	__u16 id;
	int fd, err = 0;

	*features = 0;
	if (family == 0)
		return -EOPNOTSUPP;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (family < 0) {
		init_req(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
		put_attr(&r, CTRL_ATTR_FAMILY_NAME, NETDEV_FAMILY_NAME, sizeof(NETDEV_FAMILY_NAME));
		err = ask(fd, &r, CTRL_ATTR_FAMILY_ID, &id, sizeof(id));
		if (err == -ENOENT) {
			family = 0;
			err = -EOPNOTSUPP;
		} else if (!err) {
			family = id;
		}
	}
	if (!err) {
		init_req(&r, (__u16)family, NETDEV_CMD_DEV_GET);
		put_attr(&r, NETDEV_A_DEV_IFINDEX, &ifindex, sizeof(ifindex));
		err = ask(fd, &r, NETDEV_A_DEV_XDP_FEATURES, features, sizeof(*features));
	}
	close(fd);
	return err;
}
