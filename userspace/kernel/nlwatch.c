// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "nlwatch.h"

const char *const xtc_nl_event_names[XTC_NL_N] = {
	[XTC_NL_LINK] = "link", [XTC_NL_ADDR] = "address", [XTC_NL_ROUTE] = "route",
	[XTC_NL_OVERFLOW] = "overflow",
};

int xtc_nlwatch_open(int rcvbuf)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
			     RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
	};
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if ((rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf))) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static enum xtc_nl_event kind_of(__u16 type)
{
	switch (type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return XTC_NL_LINK;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return XTC_NL_ADDR;
	default:
		return XTC_NL_ROUTE;
	}
}

int xtc_nlwatch_drain(int fd, unsigned long long counts[XTC_NL_N])
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	int n = 0;

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == ENOBUFS) {
			/* Messages were lost: the look that follows covers them all. */
			counts[XTC_NL_OVERFLOW]++;
			n++;
			continue;
		}
		if (len < 0)
			return errno == EAGAIN ? n : -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
				continue;
			counts[kind_of(h->nlmsg_type)]++;
			n++;
		}
	}
}
