// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xtc check: validate the file and print every problem. */
#include <stdio.h>
#include "cli.h"
#include "config.h"
#include "log.h"
#include "output.h"

static const char *const severities[] = {
	[XTC_DIAG_ERROR] = "error",
	[XTC_DIAG_WARNING] = "warning",
};

static void print_json(const struct xtc_opts *opts, const struct xtc_model *m,
		       const struct xtc_diag *d, bool valid)
{
	struct xtc_out *o = xtc_out_new(XTC_OUT_JSON);
	const struct xtc_diag_msg *f;
	int i;

	if (!o)
		return;
	xtc_out_str(o, "config", opts->config);
	xtc_out_bool(o, "valid", valid);
	xtc_out_u64(o, "interface_count", m ? (__u64)m->n_ifaces : 0);
	xtc_out_u64(o, "rule_count", m ? (__u64)m->n_rules : 0);
	xtc_out_list_begin(o, "problems", NULL);
	for (i = 0; i < d->n; i++) {
		const struct xtc_diag_msg *e = &d->msgs[i];

		xtc_out_obj_begin(o, NULL);
		xtc_out_str(o, "severity", severities[e->level]);
		xtc_out_str(o, "file", e->file);
		xtc_out_u64(o, "line", (__u64)e->line);	/* 0: about the whole file */
		xtc_out_str(o, "message", e->text);
		xtc_out_obj_end(o);
	}
	xtc_out_list_end(o);
	f = valid ? NULL : xtc_diag_failure(d);
	if (f) {
		xtc_out_obj_begin(o, "error");
		xtc_out_str(o, "message", f->text);
		xtc_out_str(o, "file", f->file);
		if (f->line)
			xtc_out_u64(o, "line", (__u64)f->line);
		xtc_out_obj_end(o);
	}
	xtc_out_free(o);
}

int cmd_check(const struct xtc_opts *opts)
{
	struct xtc_diag diag = {};
	struct xtc_model *m = NULL;
	bool valid;

	valid = !xtc_config_load(opts->config, &m, &diag) && !(opts->strict && diag.n_warnings);
	xtc_diag_print(&diag);
	if (valid && !opts->json) {
		printf("%s: OK: %d interface(s), %d rule(s)", opts->config, m->n_ifaces, m->n_rules);
		if (diag.n_warnings)
			printf(", %d warning(s)", diag.n_warnings);
		printf("\n");
	} else if (m && !opts->json) {
		pr_warn("%s: %d warning(s), which --strict makes errors\n", opts->config,
			diag.n_warnings);
	}
	if (opts->json)
		print_json(opts, m, &diag, valid);
	xtc_diag_free(&diag);
	xtc_model_free(m);
	return valid ? XTC_EXIT_OK : XTC_EXIT_USAGE;
}
