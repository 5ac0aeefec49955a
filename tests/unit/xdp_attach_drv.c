// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Drives userspace/kernel/xdp_attach.c for tests/unit/test_xdp_attach.py: one call
 * per run, so that every check also proves that what was attached outlives
 * the process.  Results go to stdout as one JSON object; log lines to stderr.
 *
 *   xdp_attach_drv [-v] attach IFNAME native|skb PRIO
 *   xdp_attach_drv [-v] detach IFNAME ID
 *   xdp_attach_drv [-v] query IFNAME ID
 *   xdp_attach_drv [-v] probe
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include "log.h"
#include "maps.h"
#include "xdp_attach.h"
#include "xtc_shared.h"
#include "xtc_tc.skel.h"

/* The shared maps, created the way the loader does: by the TC object. */
static int load_maps(struct xtc_maps *maps)
{
	struct xtc_tc *tc;
	int err;

	xtc_maps_init(maps);
	tc = xtc_tc__open();
	if (!tc)
		return -errno;
	err = xtc_maps_resize(tc->obj, 64, 64);
	if (!err)
		err = xtc_tc__load(tc);
	if (!err)
		err = xtc_maps_from_obj(tc->obj, maps);
	xtc_tc__destroy(tc);
	return err;
}

static int do_attach(const char *ifname, __u32 ifindex, const char *mode, const char *prio)
{
	struct xtc_maps maps;
	__u32 id = 0;
	bool single = false, no_handoff = false;
	int err;

	err = load_maps(&maps);
	if (err) {
		fprintf(stderr, "cannot create the maps: %s\n", strerror(-err));
		return err;
	}
	err = xtc_xdp_attach(&maps, ifindex, ifname,
			     strcmp(mode, "skb") ? XTC_XDP_NATIVE : XTC_XDP_SKB,
			     (__u32)strtoul(prio, NULL, 0), XTC_ACT_PASS, 0, &id, &single,
			     &no_handoff);
	xtc_maps_close(&maps);
	if (!err)
		printf("{\"id\": %u, \"single\": %s, \"no_handoff\": %s}\n", id,
		       single ? "true" : "false", no_handoff ? "true" : "false");
	return err;
}

static int do_query(__u32 ifindex, __u32 our_id)
{
	struct xtc_xdp_info info;
	int err, i;

	err = xtc_xdp_query(ifindex, our_id, &info);
	if (err)
		return err;
	printf("{\"attached\": %s, \"dispatcher\": %s, \"mode\": \"%s\", \"main_id\": %u, "
	       "\"our_pos\": %d, \"progs\": [",
	       info.attached ? "true" : "false", info.dispatcher ? "true" : "false",
	       info.mode == XTC_XDP_SKB ? "skb" : "native", info.main_id, info.our_pos);
	for (i = 0; i < info.n_progs; i++)
		printf("%s{\"name\": \"%s\", \"id\": %u, \"prio\": %u, \"chain_actions\": %u, "
		       "\"ours\": %s}", i ? ", " : "", info.progs[i].name, info.progs[i].id,
		       info.progs[i].prio, info.progs[i].chain_actions,
		       info.progs[i].ours ? "true" : "false");
	printf("]}\n");
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: xdp_attach_drv [-v] attach IFNAME native|skb PRIO | "
		"detach IFNAME ID | query IFNAME ID | probe\n");
	return 2;
}

int main(int argc, char **argv)
{
	__u32 ifindex = 0;
	int err;

	xtc_log_init_libs();
	if (argc > 1 && !strcmp(argv[1], "-v")) {
		xtc_log_set_level(XTC_LOG_DEBUG);
		argc--;
		argv++;
	}
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "probe")) {
		printf("{\"usable\": %s}\n", xtc_xdp_dispatcher_usable() ? "true" : "false");
		return 0;
	}
	if (argc < 4)
		return usage();
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	if (!strcmp(argv[1], "attach") && argc == 5)
		err = do_attach(argv[2], ifindex, argv[3], argv[4]);
	else if (!strcmp(argv[1], "detach") && argc == 4)
		err = xtc_xdp_detach(ifindex, argv[2], (__u32)strtoul(argv[3], NULL, 0));
	else if (!strcmp(argv[1], "query") && argc == 4)
		err = do_query(ifindex, (__u32)strtoul(argv[3], NULL, 0));
	else
		return usage();
	if (err) {
		printf("{\"err\": %d}\n", err);
		return 1;
	}
	return 0;
}
