// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xtc check: validate the file and print every problem. */
#include <stdio.h>
#include "cli.h"
#include "config.h"
#include "log.h"

int cmd_check(const struct xtc_opts *opts)
{
	struct xtc_diag diag = {};
	struct xtc_model *m = NULL;
	int err;

	err = xtc_config_load(opts->config, &m, &diag);
	xtc_diag_print(&diag);
	xtc_diag_free(&diag);
	if (err)
		return XTC_EXIT_USAGE;
	printf("%s: OK: %d interface(s), %d rule(s)\n", opts->config, m->n_ifaces, m->n_rules);
	xtc_model_free(m);
	return XTC_EXIT_OK;
}
