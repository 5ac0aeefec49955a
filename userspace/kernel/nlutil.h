/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* libnl-3 glue shared by every user of rtnetlink. */
#ifndef XTC_NLUTIL_H
#define XTC_NLUTIL_H

#include <netlink/netlink.h>

/* libnl's NLE_* codes as a negative errno. */
int xtc_nl_errno(int nlerr);

/* A connected NETLINK_ROUTE socket; -errno (logged at debug level) on failure. */
int xtc_nl_route_open(struct nl_sock **out, const char *who);

#endif
