// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc rules: the loaded rules as the kernel holds them (xtc_rule_info and
 * the per-rule counters), in match order, so that an operator can see what
 * is enforced without the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "cmd_common.h"
#include "output.h"
#include "rule_info.h"
#include "rule_table.h"
#include "set_elems.h"

static const struct xtc_rule_info *sort_base;

static int by_prio(const void *a, const void *b)
{
	const struct xtc_rule_info *x = &sort_base[*(const __u32 *)a];
	const struct xtc_rule_info *y = &sort_base[*(const __u32 *)b];

	return x->prio < y->prio ? -1 : x->prio > y->prio;
}

static void counters(const struct xtc_state *st, __u32 id, struct xtc_rule_stats *per,
		     int ncpus, struct xtc_rule_stats *sum)
{
	int cpu;

	sum->packets = sum->bytes = 0;
	if (bpf_map_lookup_elem(st->maps.fd[XTC_MAP_RULE_STATS], &id, per))
		return;
	for (cpu = 0; cpu < ncpus; cpu++) {
		sum->packets += per[cpu].packets;
		sum->bytes += per[cpu].bytes;
	}
}

/* The elements of one set, as the kernel holds them (xtc_set_elems). */
static void print_elems(struct xtc_out *o, const struct xtc_state *st, const char *key,
			const struct xtc_rule_sets *rs, int i)
{
	struct xtc_set_elem e;
	char buf[64];
	__u32 k;

	xtc_out_list_begin(o, key, NULL);
	for (k = 0; k < rs->size[i]; k++) {
		if (xtc_set_elem_get(&st->maps, rs->digest[i], rs->size[i], k, &e))
			break;		/* a killed apply left it short: apply repairs it */
		xtc_set_elem_str(&e, buf, sizeof(buf));
		xtc_out_str(o, NULL, buf);
	}
	xtc_out_list_end(o);
}

static void print_rule(struct xtc_out *o, const struct xtc_state *st,
		       const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs, int position,
		       const struct xtc_rule_stats *sum)
{
	static const char *const set_keys[XTC_RM_SET_N] = { "src_set_size", "dst_set_size",
		"src_port_set_size", "dst_port_set_size" };
	static const char *const elem_keys[XTC_RM_SET_N] = { "src_set_entries",
		"dst_set_entries", "src_port_set_entries", "dst_port_set_entries" };
	static const __u32 set_fields[XTC_RM_SET_N] = { XTC_RM_SRC, XTC_RM_DST, XTC_RM_SPORT,
		XTC_RM_DPORT };
	char val[128];
	size_t f;
	int i;

	xtc_out_obj_begin(o, NULL);
	xtc_out_str(o, "rule", ri->name);
	xtc_out_id(o, "position", position);
	xtc_out_bool(o, "generated", ri->flags & XTC_RI_GENERATED);
	for (f = 0; f < xtc_rule_n_fields; f++) {
		xtc_rule_fields[f].show(ri, rs, val, sizeof(val));
		if (val[0])
			xtc_out_str(o, xtc_rule_fields[f].key, val);
	}
	for (i = 0; i < XTC_RM_SET_N && rs; i++) {
		if (!(ri->match.fields & (set_fields[i] << XTC_RM_SET_SHIFT)))
			continue;
		xtc_out_gauge(o, set_keys[i], rs->size[i]);
		print_elems(o, st, elem_keys[i], rs, i);
	}
	xtc_out_u64(o, "packets", sum->packets);
	xtc_out_u64(o, "bytes", sum->bytes);
	xtc_out_obj_end(o);
}

int cmd_rules(const struct xtc_opts *opts)
{
	int ncpus = libbpf_num_possible_cpus(), err, rc = XTC_EXIT_RUNTIME;
	struct xtc_rule_stats *per = NULL, sum;
	struct xtc_rule_table t = {};
	struct xtc_rule_info *info;
	struct xtc_out *o = NULL;
	struct xtc_state st;
	__u32 n, n_used = 0, i, *order = NULL;

	err = xtc_open_for_reading(opts, &st);
	if (err)
		return xtc_read_exit(err);
	per = calloc(ncpus > 0 ? ncpus : 1, sizeof(*per));
	if (!per || ncpus <= 0 || xtc_rule_table_read(&st.maps, &t))
		goto out;
	info = t.info;
	n = t.n;
	order = calloc(n ? n : 1, sizeof(*order));
	if (!order)
		goto out;
	for (i = 0; i < n; i++) {
		info[i].name[sizeof(info[i].name) - 1] = 0;
		if (info[i].flags & XTC_RI_USED)
			order[n_used++] = i;
	}
	sort_base = info;
	qsort(order, n_used, sizeof(*order), by_prio);
	o = xtc_out_new(opts->json ? XTC_OUT_JSON : XTC_OUT_TEXT);
	if (!o)
		goto out;
	xtc_out_list_begin(o, "rules", NULL);
	for (i = 0; i < n_used; i++) {
		counters(&st, order[i], per, ncpus, &sum);
		print_rule(o, &st, &info[order[i]], t.sets[order[i]], (int)i + 1, &sum);
	}
	xtc_out_list_end(o);
	rc = XTC_EXIT_OK;
out:
	xtc_out_free(o);
	free(order);
	xtc_rule_table_free(&t);
	free(per);
	xtc_state_close(&st);
	return rc;
}
