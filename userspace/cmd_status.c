// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xtc status: what is attached where, from the kernel and the pins alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "cli.h"
#include "cmd_common.h"
#include "output.h"
#include "plan.h"
#include "tables.h"
#include "tc_attach.h"
#include "xdp_attach.h"

static const char *const xdp_actions[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					   "XDP_REDIRECT" };

static void chain_str(__u32 mask, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = 0;
	for (i = 0; i < sizeof(xdp_actions) / sizeof(xdp_actions[0]); i++)
		if (mask & (1U << i))
			n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
				      xdp_actions[i]);
}

static void print_xdp(struct xtc_out *o, __u32 ifindex, const struct xtc_iface_cfg *c)
{
	struct xtc_xdp_info xi;
	char chain[96];
	int i;

	xtc_out_obj_begin(o, "xdp");
	if (!(c->flags & XTC_IF_XDP) || xtc_xdp_query(ifindex, c->xdp_prog_id, &xi) ||
	    xi.our_pos < 0) {
		xtc_out_bool(o, "attached", false);
		xtc_out_str(o, "configured", c->flags & XTC_IF_XDP ? "on (but not attached now)" : "off");
		xtc_out_obj_end(o);
		return;
	}
	xtc_out_bool(o, "attached", true);
	xtc_out_str(o, "mode", xi.mode == XTC_XDP_SKB ? "skb" : "native");
	xtc_out_str(o, "via", xi.dispatcher ? "libxdp dispatcher" :
		    "single program (the libxdp dispatcher is not usable on this kernel)");
	xtc_out_u64(o, "program_id", c->xdp_prog_id);
	/* A single program has no dispatcher to hold its priority: use ours. */
	if (!xi.dispatcher)
		xi.progs[xi.our_pos].prio = c->xdp_prio;
	xtc_out_u64(o, "priority", xi.progs[xi.our_pos].prio);
	xtc_out_u64(o, "position", xi.our_pos + 1);
	xtc_out_u64(o, "programs_total", xi.n_progs);
	xtc_out_list_begin(o, "programs", NULL);
	for (i = 0; i < xi.n_progs; i++) {
		xtc_out_obj_begin(o, NULL);
		xtc_out_str(o, "name", xi.progs[i].name);
		xtc_out_u64(o, "id", xi.progs[i].id);
		xtc_out_u64(o, "priority", xi.progs[i].prio);
		chain_str(xi.progs[i].chain_actions, chain, sizeof(chain));
		xtc_out_str(o, "chain_call_actions", chain);
		xtc_out_bool(o, "ours", xi.progs[i].ours);
		xtc_out_obj_end(o);
	}
	xtc_out_list_end(o);
	xtc_out_obj_end(o);
}

static void print_tc(struct xtc_out *o, const struct xtc_state *st, __u32 ifindex,
		     const struct xtc_iface_cfg *c)
{
	__u32 ids[2] = { xtc_prog_id(st->tc_ingress_fd), xtc_prog_id(st->tc_egress_fd) };
	struct xtc_tc_info ti;
	int h;

	for (h = 0; h < 2; h++) {
		bool want = c->flags & (h ? XTC_IF_TC_EGRESS : XTC_IF_TC_INGRESS);

		xtc_out_obj_begin(o, h ? "tc_egress" : "tc_ingress");
		if (xtc_tc_query(ifindex, h, ids[h], &ti) || ti.kind == XTC_TC_KIND_NONE) {
			xtc_out_bool(o, "attached", false);
			if (want)
				xtc_out_str(o, "configured", "on (but not attached now)");
			xtc_out_obj_end(o);
			continue;
		}
		xtc_out_bool(o, "attached", true);
		xtc_out_str(o, "kind", ti.kind == XTC_TC_KIND_TCX ? "tcx" : "cls_bpf");
		xtc_out_u64(o, "program_id", ti.prog_id);
		if (ti.kind == XTC_TC_KIND_CLS_BPF) {
			xtc_out_u64(o, "prio", ti.prio);
			xtc_out_u64(o, "handle", ti.handle);
		}
		xtc_out_u64(o, "other_programs", ti.n_others);
		xtc_out_obj_end(o);
	}
}

static int count_rules(const struct xtc_rule_info *info, __u32 n, __u32 ifindex)
{
	int count = 0;
	__u32 i;

	for (i = 0; i < n; i++)
		if ((info[i].flags & XTC_RI_USED) &&
		    (ifindex == (__u32)-1 || !info[i].ifindex || info[i].ifindex == ifindex))
			count++;
	return count;
}

int cmd_status(const struct xtc_opts *opts)
{
	__u32 key, next, *prev = NULL, n_info = 0;
	struct xtc_rule_info *info = NULL;
	struct xtc_mask_list live;
	struct xtc_iface_cfg c;
	struct xtc_state st;
	struct xtc_out *o;

	int err = xtc_open_for_reading(opts, &st);

	if (err)
		return xtc_read_exit(err);
	o = xtc_out_new(opts->json ? XTC_OUT_JSON : XTC_OUT_TEXT);
	if (!o) {
		xtc_state_close(&st);
		return XTC_EXIT_RUNTIME;
	}
	xtc_read_rule_info(&st.maps, &info, &n_info);
	xtc_out_str(o, "state", st.dir);
	xtc_out_obj_begin(o, "kernel");
	xtc_out_bool(o, "xdp_dispatcher_usable", xtc_xdp_dispatcher_usable());
	xtc_out_bool(o, "tcx_available", xtc_tc_tcx_available());
	xtc_out_obj_end(o);
	xtc_out_u64(o, "rules", count_rules(info, n_info, (__u32)-1));
	if (!xtc_tables_live_masks(&st.maps, &live))
		xtc_out_u64(o, "match_shapes", live.count);

	xtc_out_list_begin(o, "interfaces", NULL);
	while (!bpf_map_get_next_key(st.maps.fd[XTC_MAP_IFACES], prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(st.maps.fd[XTC_MAP_IFACES], &key, &c))
			continue;
		c.name[sizeof(c.name) - 1] = 0;
		xtc_out_obj_begin(o, NULL);
		xtc_out_str(o, "name", c.name);
		xtc_out_u64(o, "ifindex", key);
		xtc_out_u64(o, "rules", count_rules(info, n_info, key));
		print_xdp(o, key, &c);
		print_tc(o, &st, key, &c);
		xtc_out_obj_end(o);
	}
	xtc_out_list_end(o);
	xtc_out_free(o);
	free(info);
	xtc_state_close(&st);
	return XTC_EXIT_OK;
}
