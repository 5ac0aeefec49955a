// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc unload: remove xtc, and only xtc, from interfaces.  It runs the
 * reconciler with less wanted, so it finds our programs in the kernel
 * whether or not their pins and records survived.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "cmd_common.h"
#include "daemon_lock.h"
#include "log.h"
#include "reconcile.h"
#include "state.h"

static int count_records(const struct xtc_state *st)
{
	__u32 key, next, *prev = NULL;
	int n = 0, fd = st->maps.fd[XTC_MAP_IFACES];

	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/* The state, locked when there is one: unload must not race an apply. */
static int open_locked(const struct xtc_opts *opts, struct xtc_state *st)
{
	char bpffs[4096];
	int err;

	err = xtc_open_unlocked(opts, st, bpffs, sizeof(bpffs));
	if (!err)
		err = xtc_daemon_refuse(bpffs, "xtc unload");
	if (err || st->lock_fd < 0)
		return err;
	xtc_state_close(st);
	return xtc_state_open(st, bpffs, true);
}

int cmd_unload(const struct xtc_opts *opts)
{
	struct xtc_state st;
	struct xtc_run run = {};
	bool *known, dir = false;
	int i, err, rc = XTC_EXIT_OK;

	xtc_state_init(&st);
	known = calloc(opts->n_args + 1, sizeof(*known));
	if (!known)
		return XTC_EXIT_RUNTIME;
	err = open_locked(opts, &st);
	if (err) {
		rc = xtc_read_exit(err);
		goto out;
	}
	dir = st.lock_fd >= 0;
	err = xtc_reconcile_plan_unload(&st, opts->args, opts->n_args, opts->all, known, &run);
	if (err) {
		rc = XTC_EXIT_RUNTIME;
		goto out;
	}
	for (i = 0; i < opts->n_args; i++) {
		if (known[i])
			continue;
		pr_warn("unload: %s: not managed by xtc%s\n", opts->args[i],
			dir ? "" : " (xtc is not loaded)");
		rc = XTC_EXIT_RUNTIME;
	}
	if (opts->all && !dir && xtc_plan_empty(&run.plan)) {
		printf("xtc is not loaded\n");
		goto out;
	}
	if (!xtc_plan_empty(&run.plan) && xtc_reconcile_apply(NULL, &st, &run, false))
		rc = XTC_EXIT_RUNTIME;
	if (dir && (opts->all || !count_records(&st)) && rc == XTC_EXIT_OK) {
		if (xtc_state_remove(&st))
			rc = XTC_EXIT_RUNTIME;
		else
			printf("xtc unloaded; pins removed from %s\n", st.dir);
	} else if (!dir && rc == XTC_EXIT_OK) {
		printf("xtc unloaded\n");
	}
out:
	xtc_run_free(&run);
	free(known);
	xtc_state_close(&st);
	return rc;
}
