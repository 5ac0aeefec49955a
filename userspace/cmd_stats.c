// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xtc stats: per-rule and per-interface counters, summed over CPUs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "log.h"
#include "output.h"
#include "state.h"
#include "cmd_common.h"
#include "tables.h"

static const char *const hook_names[XTC_HOOK_MAX] = { "xdp", "tc_ingress", "tc_egress" };
static const char *const action_names[] = { "pass", "drop", "redirect" };

static void print_rules(struct xtc_out *o, const struct xtc_state *st, int ncpus)
{
	struct xtc_rule_stats *per = calloc(ncpus, sizeof(*per));
	struct xtc_rule_info *info = NULL;
	__u32 n = 0, id;
	int cpu;

	xtc_out_list_begin(o, "rules", "xtc_rule");
	if (!per || xtc_read_rule_info(&st->maps, &info, &n))
		goto out;
	for (id = 0; id < n; id++) {
		struct xtc_rule_stats sum = {};
		char ifname[IF_NAMESIZE] = "*";

		if (!(info[id].flags & XTC_RI_USED))
			continue;
		if (!bpf_map_lookup_elem(st->maps.fd[XTC_MAP_RULE_STATS], &id, per))
			for (cpu = 0; cpu < ncpus; cpu++) {
				sum.packets += per[cpu].packets;
				sum.bytes += per[cpu].bytes;
			}
		if (info[id].ifindex && !if_indextoname(info[id].ifindex, ifname))
			snprintf(ifname, sizeof(ifname), "#%u", info[id].ifindex);
		info[id].name[sizeof(info[id].name) - 1] = 0;
		xtc_out_obj_begin(o, NULL);
		xtc_out_str(o, "rule", info[id].name);
		xtc_out_str(o, "interface", ifname);
		xtc_out_str(o, "direction", info[id].dir == XTC_DIR_EGRESS ? "egress" : "ingress");
		xtc_out_str(o, "action", info[id].action < 3 ? action_names[info[id].action] : "?");
		xtc_out_u64(o, "packets", sum.packets);
		xtc_out_u64(o, "bytes", sum.bytes);
		xtc_out_obj_end(o);
	}
out:
	xtc_out_list_end(o);
	free(info);
	free(per);
}

#define IFACE_FIELDS 8
static const char *const iface_fields[IFACE_FIELDS] = { "seen", "parse_errors", "no_match",
	"handoffs_sent", "handoffs_received", "redirects_ok", "redirects_failed", "dropped" };

static int cmp_key(const void *a, const void *b)
{
	const struct xtc_iface_key *x = a, *y = b;

	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	return (int)x->hook - (int)y->hook;
}

static void print_ifaces(struct xtc_out *o, const struct xtc_state *st, int ncpus)
{
	struct xtc_iface_stats *per = calloc(ncpus, sizeof(*per));
	struct xtc_iface_key *keys = NULL, k, next, *prev = NULL;
	size_t n = 0, cap = 0, i;
	int cpu, f;

	xtc_out_list_begin(o, "interfaces", "xtc_iface");
	while (per && !bpf_map_get_next_key(st->maps.fd[XTC_MAP_IFACE_STATS], prev, &next)) {
		k = next;
		prev = &k;
		if (n == cap) {
			struct xtc_iface_key *nk = realloc(keys, (cap = cap ? cap * 2 : 16) * sizeof(*nk));

			if (!nk)
				break;
			keys = nk;
		}
		keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 0; i < n; i++) {
		__u64 sum[IFACE_FIELDS] = {};
		char ifname[IF_NAMESIZE];

		if (keys[i].hook >= XTC_HOOK_MAX ||
		    bpf_map_lookup_elem(st->maps.fd[XTC_MAP_IFACE_STATS], &keys[i], per))
			continue;
		for (cpu = 0; cpu < ncpus; cpu++)
			for (f = 0; f < IFACE_FIELDS; f++)
				sum[f] += ((__u64 *)&per[cpu])[f];
		if (!if_indextoname(keys[i].ifindex, ifname))
			snprintf(ifname, sizeof(ifname), "#%u", keys[i].ifindex);
		xtc_out_obj_begin(o, NULL);
		xtc_out_str(o, "interface", ifname);
		xtc_out_str(o, "hook", hook_names[keys[i].hook]);
		for (f = 0; f < IFACE_FIELDS; f++)
			xtc_out_u64(o, iface_fields[f], sum[f]);
		xtc_out_obj_end(o);
	}
	xtc_out_list_end(o);
	free(keys);
	free(per);
}

int cmd_stats(const struct xtc_opts *opts)
{
	struct xtc_state st;
	struct xtc_out *o;
	int ncpus = libbpf_num_possible_cpus();

	int err = xtc_open_for_reading(opts, &st);

	if (err)
		return xtc_read_exit(err);
	o = xtc_out_new(opts->json ? XTC_OUT_JSON : opts->prometheus ? XTC_OUT_PROM : XTC_OUT_TEXT);
	if (!o || ncpus <= 0) {
		xtc_state_close(&st);
		return XTC_EXIT_RUNTIME;
	}
	print_rules(o, &st, ncpus);
	print_ifaces(o, &st, ncpus);
	xtc_out_free(o);
	xtc_state_close(&st);
	return XTC_EXIT_OK;
}
