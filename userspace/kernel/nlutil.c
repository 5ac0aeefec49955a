// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <netlink/errno.h>
#include "log.h"
#include "nlutil.h"

int xtc_nl_errno(int nlerr)
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

int xtc_nl_route_open(struct nl_sock **out, const char *who)
{
	struct nl_sock *sk;
	int err;

	*out = NULL;
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err) {
		pr_debug("%s: cannot open rtnetlink: %s\n", who, nl_geterror(err));
		nl_socket_free(sk);
		return xtc_nl_errno(err);
	}
	*out = sk;
	return 0;
}
