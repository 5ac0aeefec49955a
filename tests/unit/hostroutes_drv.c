// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Prints xtc_host_routes() as "prefix/len ifindex" lines for test_hostroutes.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "hostroutes.h"
#include "log.h"

int main(int argc, char **argv)
{
	struct xtc_ipmap_entry *e = NULL;
	char buf[INET6_ADDRSTRLEN];
	size_t n = 0, i;
	int err;

	if (argc > 1 && !strcmp(argv[1], "-v"))
		xtc_log_set_level(XTC_LOG_DEBUG);
	err = xtc_host_routes(&e, &n);
	if (err) {
		fprintf(stderr, "xtc_host_routes: %s\n", strerror(-err));
		return 1;
	}
	for (i = 0; i < n; i++) {
		int af = e[i].prefix.family == XTC_FAMILY_V4 ? AF_INET : AF_INET6;

		if (!inet_ntop(af, e[i].prefix.addr, buf, sizeof(buf)))
			return 1;
		printf("%s/%u %u\n", buf, e[i].prefix.plen, e[i].ifindex);
	}
	free(e);
	return 0;
}
