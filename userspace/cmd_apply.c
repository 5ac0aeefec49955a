// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xtc apply: make the kernel match the file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "apply.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "plan.h"
#include "state.h"

int cmd_apply(const struct xtc_opts *opts)
{
	struct xtc_state st = { .lock_fd = -1 };
	struct xtc_diag diag = {};
	struct xtc_model *m = NULL;
	struct xtc_plan p = {};
	int err, rc = XTC_EXIT_RUNTIME;

	double t0 = xtc_now();

	err = xtc_config_load(opts->config, &m, &diag);
	pr_debug("timing: config %.3f s\n", xtc_now() - t0);
	xtc_diag_print(&diag);
	xtc_diag_free(&diag);
	if (err)
		return XTC_EXIT_USAGE;
	if (xtc_state_check_bpffs(m->bpffs))
		goto out;
	/* A dry run must not even create the state directory or take the lock. */
	err = xtc_state_open(&st, m->bpffs, !opts->dry_run);
	if (err)
		goto out;
	err = xtc_plan_build(m, &st, &p);
	if (err) {
		rc = err == -E2BIG || err == -EOPNOTSUPP ? XTC_EXIT_USAGE : XTC_EXIT_RUNTIME;
		goto out;
	}
	if (xtc_plan_empty(&p)) {
		printf("no changes\n");
		rc = XTC_EXIT_OK;
		goto out;
	}
	if (opts->dry_run) {
		xtc_plan_print(&p, true);
		rc = XTC_EXIT_OK;
		goto out;
	}
	xtc_plan_print(&p, false);
	err = xtc_apply_plan(m, &st, &p);
	if (!err)
		rc = XTC_EXIT_OK;
out:
	/* An apply that created nothing leaves no empty state directory behind. */
	if (rc != XTC_EXIT_OK && !opts->dry_run && !st.exists && st.lock_fd >= 0)
		xtc_state_remove(&st);
	xtc_plan_free(&p);
	xtc_state_close(&st);
	xtc_model_free(m);
	return rc;
}
