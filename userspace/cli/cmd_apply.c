// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc apply: make the kernel match the file.  Text prints the plan before
 * carrying it out, so a log shows what was attempted; --json prints one
 * document at the end: the changes, the result and, on failure, the error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "config.h"
#include "daemon_lock.h"
#include "log.h"
#include "output.h"
#include "reconcile.h"
#include "set_elems.h"
#include "state.h"
#include "tables.h"

enum result { NO_CHANGES, WOULD_CHANGE, APPLIED, FAILED };

static const char *const result_names[] = { "no_changes", "would_change", "applied", "failed" };

static void print_json(const struct xtc_opts *opts, const struct xtc_model *m,
		       const struct xtc_plan *p, enum result res)
{
	const struct xtc_log_error *e = xtc_log_first_error();
	struct xtc_out *o = xtc_out_new(XTC_OUT_JSON);

	if (!o)
		return;
	xtc_out_str(o, "config", opts->config);
	xtc_out_bool(o, "dry_run", opts->dry_run);
	xtc_out_str(o, "result", result_names[res]);
	xtc_changes_print(o, &p->changes);
	if (m && res != FAILED) {
		xtc_out_gauge(o, "rule_count", m->n_rules);
		xtc_out_gauge(o, "classifier_entries", p->tss.n_entries);
		xtc_out_gauge(o, "match_shapes", p->tss.n_masks);
		xtc_out_gauge(o, "ipmap_entries", p->n_ip);
	}
	if (res == FAILED) {
		xtc_out_obj_begin(o, "error");
		xtc_out_str(o, "message", e ? e->message : "apply failed");
		if (e && e->file[0])
			xtc_out_str(o, "file", e->file);
		if (e && e->line)
			xtc_out_u64(o, "line", e->line);
		xtc_out_obj_end(o);
	}
	xtc_out_free(o);
}

/*
 * Config problems are printed (the first error is kept for --json); --strict
 * fails on warnings.  The shadowed-rules check may still be running
 * (pending): then this waits for it.
 */
static int config_done(const struct xtc_opts *opts, int err, struct xtc_config_pending *pending,
		       struct xtc_model **m, struct xtc_diag *diag)
{
	if (!err)
		err = xtc_config_wait(pending, m, diag);
	xtc_diag_print(diag);
	if (!err && opts->strict && diag->n_warnings) {
		const struct xtc_diag_msg *w = xtc_diag_failure(diag);

		xtc_log_set_error(w->file, w->line, w->text);
		pr_warn("%s: %d warning(s), and --strict makes them errors\n", opts->config,
			diag->n_warnings);
		xtc_model_free(*m);
		*m = NULL;
		err = -EINVAL;
	}
	xtc_diag_free(diag);
	return err;
}

int cmd_apply(const struct xtc_opts *opts)
{
	struct xtc_state st;
	struct xtc_config_pending *pending = NULL;
	struct xtc_model *m = NULL;
	struct xtc_diag diag = {};
	struct xtc_run run = {};
	struct xtc_plan *p = &run.plan;
	enum result res = FAILED;
	int err, rc = XTC_EXIT_RUNTIME;
	double t0 = xtc_now();

	xtc_state_init(&st);
	/* The last check of the file runs while the kernel is read and the plan is made. */
	err = xtc_config_load_async(opts->config, &m, &diag, &pending);
	pr_debug("timing: config %.3f s\n", xtc_now() - t0);
	if (err || xtc_state_check_bpffs(m->bpffs)) {
		if (config_done(opts, err, pending, &m, &diag))
			return XTC_EXIT_USAGE;
		goto out;
	}
	/* A dry run must not even create the state directory or take the lock. */
	err = opts->dry_run ? 0 : xtc_daemon_refuse(m->bpffs, "xtc apply");
	if (!err)
		err = xtc_state_open(&st, m->bpffs, !opts->dry_run);
	if (!err)
		err = xtc_reconcile_plan(m, &st, NULL, !opts->dry_run, &run);
	if (config_done(opts, 0, pending, &m, &diag)) {
		/* The plan points into the model that the file's problems just freed: no listing. */
		xtc_run_free(&run);
		rc = XTC_EXIT_USAGE;
		goto out;
	}
	if (err) {
		rc = err == -E2BIG || err == -EOPNOTSUPP ? XTC_EXIT_USAGE : XTC_EXIT_RUNTIME;
		goto out;
	}
	if (xtc_plan_empty(p)) {
		res = NO_CHANGES;
		rc = XTC_EXIT_OK;
		/* Repairs a listing of set elements that a killed apply left short. */
		if (!opts->dry_run)
			xtc_set_elems_sync(&st.maps, m);
		if (!opts->json)
			printf("no changes\n");
		goto out;
	}
	if (!opts->json)
		xtc_plan_print(p, opts->dry_run);
	if (opts->dry_run) {
		/* Like git diff --exit-code: scripts can ask "is there anything to do?" */
		res = WOULD_CHANGE;
		rc = XTC_EXIT_DIFF;
		goto out;
	}
	err = xtc_reconcile_apply(m, &st, &run, opts->json);
	if (!err) {
		res = APPLIED;
		rc = XTC_EXIT_OK;
		if (xtc_tables_stamp(&st.maps))
			pr_debug("cannot record the time of this apply\n");
		/* Only for `xtc rules`: a failure is reported, and the next apply repairs it. */
		xtc_set_elems_sync(&st.maps, m);
	}
out:
	/* An apply that created nothing leaves no empty state directory behind. */
	if (rc != XTC_EXIT_OK && !opts->dry_run && !st.exists && !st.partial && st.lock_fd >= 0)
		xtc_state_remove(&st);
	if (opts->json)
		print_json(opts, m, p, res);
	xtc_run_free(&run);
	xtc_state_close(&st);
	xtc_model_free(m);
	return rc;
}
