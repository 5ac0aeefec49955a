// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xtc unload: remove xtc, and only xtc, from interfaces. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "apply.h"
#include "cli.h"
#include "cmd_common.h"
#include "log.h"
#include "state.h"

/* Whether to unload this interface; marks the name as seen. */
static bool wanted(const struct xtc_opts *opts, const char *name, bool *seen)
{
	int i;

	if (opts->all)
		return true;
	for (i = 0; i < opts->n_args; i++) {
		if (!strcmp(opts->args[i], name)) {
			seen[i] = true;
			return true;
		}
	}
	return false;
}

static int count_ifaces(const struct xtc_state *st)
{
	__u32 key, next, *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(st->maps.fd[XTC_MAP_IFACES], prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

int cmd_unload(const struct xtc_opts *opts)
{
	__u32 key, next, *prev = NULL;
	struct xtc_iface_cfg cfg;
	struct xtc_state st;
	bool *seen;
	int i, err, rc = XTC_EXIT_OK;

	err = xtc_open_existing(opts, &st, true);
	if (err < 0)
		return xtc_read_exit(err);
	if (err == 2 && st.maps.fd[XTC_MAP_IFACES] < 0) {
		/* What xtc attached where is written nowhere else. */
		pr_warn("unload: %s/maps/xtc_ifaces is gone, so xtc cannot tell where it attached: "
			"detach xtc_xdp by hand (xdp-loader status; ip link set dev IFACE xdp off) "
			"and any cls_bpf filter of handle 0x7874 (at prio 0x7874, or tc_prio)%s\n",
			st.dir, opts->all ? "; removing the pins detaches its TCX links" : "");
		rc = XTC_EXIT_RUNTIME;
		if (opts->all && xtc_state_remove(&st) == 0)
			printf("pins removed from %s\n", st.dir);
		xtc_state_close(&st);
		return rc;
	}
	if (err == 1) {
		if (opts->all) {
			printf("xtc is not loaded\n");
			return XTC_EXIT_OK;
		}
		for (i = 0; i < opts->n_args; i++)
			pr_warn("unload: %s: not managed by xtc (xtc is not loaded)\n",
				opts->args[i]);
		return XTC_EXIT_RUNTIME;
	}
	seen = calloc(opts->n_args + 1, sizeof(*seen));
	if (!seen) {
		xtc_state_close(&st);
		return XTC_EXIT_RUNTIME;
	}
	while (!bpf_map_get_next_key(st.maps.fd[XTC_MAP_IFACES], prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(st.maps.fd[XTC_MAP_IFACES], &key, &cfg))
			continue;
		cfg.name[sizeof(cfg.name) - 1] = 0;
		if (!wanted(opts, cfg.name, seen))
			continue;
		if (xtc_iface_remove(&st, &cfg, key)) {
			rc = XTC_EXIT_RUNTIME;
			continue;
		}
		/* Its entry is gone, so walk again from the start. */
		prev = NULL;
	}
	for (i = 0; i < opts->n_args; i++) {
		if (seen[i])
			continue;
		pr_warn("unload: %s: not managed by xtc\n", opts->args[i]);
		rc = XTC_EXIT_RUNTIME;
	}
	if (!count_ifaces(&st)) {
		if (xtc_state_remove(&st))
			rc = XTC_EXIT_RUNTIME;
		else
			printf("xtc unloaded; pins removed from %s\n", st.dir);
	}
	free(seen);
	xtc_state_close(&st);
	return rc;
}
