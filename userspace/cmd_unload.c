// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xtc unload: remove xtc, and only xtc, from interfaces. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "apply.h"
#include "cli.h"
#include "cmd_common.h"
#include "log.h"
#include "state.h"

static bool wanted(const struct xtc_opts *opts, const char *name)
{
	int i;

	if (opts->all || !opts->n_ifaces)
		return true;
	for (i = 0; i < opts->n_ifaces; i++)
		if (!strcmp(opts->ifaces[i], name))
			return true;
	return false;
}

int cmd_unload(const struct xtc_opts *opts)
{
	__u32 key, next, *prev = NULL;
	struct xtc_state st;
	struct xtc_iface_cfg cfg;
	char bpffs[4096];
	int err, rc = XTC_EXIT_OK, left, found = 0;

	if (!opts->all && !opts->n_ifaces) {
		fprintf(stderr, "xtc unload: name interfaces, or use --all\n");
		return XTC_EXIT_USAGE;
	}
	if (xtc_pick_bpffs(opts, bpffs, sizeof(bpffs)))
		return XTC_EXIT_RUNTIME;
	if (xtc_state_check_bpffs(bpffs))
		return XTC_EXIT_RUNTIME;
	err = xtc_state_open(&st, bpffs, false);
	if (err)
		return XTC_EXIT_RUNTIME;
	if (!st.exists) {
		if (st.lock_fd >= 0)	/* leftovers of an interrupted apply */
			xtc_state_remove(&st);
		xtc_state_close(&st);
		printf("xtc is not loaded\n");
		return opts->all ? XTC_EXIT_OK : XTC_EXIT_RUNTIME;
	}
	xtc_state_close(&st);
	err = xtc_state_open(&st, bpffs, true);	/* now with the lock */
	if (err || !st.exists)
		return XTC_EXIT_RUNTIME;

	while (!bpf_map_get_next_key(st.maps.fd[XTC_MAP_IFACES], prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(st.maps.fd[XTC_MAP_IFACES], &key, &cfg))
			continue;
		cfg.name[sizeof(cfg.name) - 1] = 0;
		if (!wanted(opts, cfg.name))
			continue;
		found++;
		if (xtc_iface_remove(&st, &cfg, key)) {
			rc = XTC_EXIT_RUNTIME;
			continue;
		}
		/* Its entry is gone, so walk again from the start. */
		prev = NULL;
	}
	if (!opts->all && !found) {
		fprintf(stderr, "xtc unload: none of the named interfaces is managed by xtc\n");
		rc = XTC_EXIT_RUNTIME;
	}
	left = 0;
	prev = NULL;
	while (!bpf_map_get_next_key(st.maps.fd[XTC_MAP_IFACES], prev, &next)) {
		key = next;
		prev = &key;
		left++;
	}
	if (!left) {
		if (xtc_state_remove(&st))
			rc = XTC_EXIT_RUNTIME;
		else
			printf("xtc unloaded; pins removed from %s\n", st.dir);
	}
	xtc_state_close(&st);
	return rc;
}
