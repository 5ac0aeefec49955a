// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc ipmap: the IP-to-ifindex map behind target = auto, as the kernel holds
 * it, with where each entry came from.  The first thing to read when a
 * redirect to target = auto goes astray.
 */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "cmd_common.h"
#include "ipmap.h"
#include "output.h"
#include "rule_info.h"

static const __u8 v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void print_entry(struct xtc_out *o, const struct xtc_ipmap_key *k,
			const struct xtc_ipmap_val *v)
{
	char prefix[64], ifname[IF_NAMESIZE + 8];

	if (k->prefixlen >= 96 && !memcmp(k->addr, v4mapped, sizeof(v4mapped)))
		xtc_prefix_str(XTC_FAMILY_V4, &k->addr[12], k->prefixlen - 96, prefix,
			       sizeof(prefix));
	else
		xtc_prefix_str(XTC_FAMILY_V6, k->addr, k->prefixlen, prefix, sizeof(prefix));
	xtc_ifname_of(v->ifindex, ifname, sizeof(ifname));
	xtc_out_obj_begin(o, NULL);
	xtc_out_str(o, "prefix", prefix);
	xtc_out_str(o, "interface", ifname);
	xtc_out_id(o, "ifindex", v->ifindex);
	xtc_out_str(o, "origin", xtc_ipmap_origin_name(v->flags));
	xtc_out_obj_end(o);
}

int cmd_ipmap(const struct xtc_opts *opts)
{
	struct xtc_ipmap_key key, next, *prev = NULL;
	struct xtc_ipmap_val val;
	struct xtc_state st;
	struct xtc_out *o;
	int fd, err;

	err = xtc_open_for_reading(opts, &st);
	if (err)
		return xtc_read_exit(err);
	o = xtc_out_new(opts->json ? XTC_OUT_JSON : XTC_OUT_TEXT);
	if (!o) {
		xtc_state_close(&st);
		return XTC_EXIT_RUNTIME;
	}
	fd = st.maps.fd[XTC_MAP_IPMAP];
	xtc_out_list_begin(o, "ipmap", NULL);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &val))
			print_entry(o, &key, &val);
	}
	xtc_out_list_end(o);
	xtc_out_free(o);
	xtc_state_close(&st);
	return XTC_EXIT_OK;
}
