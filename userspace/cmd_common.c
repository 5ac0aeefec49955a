// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include "cmd_common.h"
#include "config.h"
#include "log.h"

void xtc_pick_bpffs(const struct xtc_opts *opts, char *buf, size_t len)
{
	struct xtc_diag diag = {};
	struct xtc_model *m = NULL;

	snprintf(buf, len, "%s", XTC_DEFAULT_BPFFS);
	if (!xtc_config_load(opts->config, &m, &diag))
		snprintf(buf, len, "%s", m->bpffs);
	else
		pr_debug("%s not usable, using %s\n", opts->config, buf);
	xtc_diag_free(&diag);
	xtc_model_free(m);
}

int xtc_open_for_reading(const struct xtc_opts *opts, struct xtc_state *st)
{
	char bpffs[4096];
	int err;

	xtc_pick_bpffs(opts, bpffs, sizeof(bpffs));
	if (xtc_state_check_bpffs(bpffs))
		return -ENOENT;
	err = xtc_state_open(st, bpffs, false);
	if (err)
		return err;
	if (!st->exists) {
		pr_warn("xtc is not loaded: no state under %s/xtc (run xtc apply)\n", bpffs);
		xtc_state_close(st);
		return -ENOENT;
	}
	return 0;
}
