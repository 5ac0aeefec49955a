// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cmd_common.h"
#include "config.h"
#include "log.h"
#include "model.h"

/*
 * Only [global] bpffs matters here, so the rest of the file need not be
 * valid: unload must still find its state after an interface in the file
 * has disappeared.  An unreadable file is an error, never a silent switch
 * to another xtc instance.  The config reader reads it, so that [GLOBAL] and
 * BPFFS mean what they mean to apply, and a device or a FIFO fails at once.
 */
int xtc_pick_bpffs(const struct xtc_opts *opts, char *buf, size_t len)
{
	struct xtc_diag diag = {};
	int err;

	err = xtc_config_bpffs(opts->config, buf, len, &diag);
	if (err == -ENOENT && !strcmp(opts->config, XTC_DEFAULT_CONFIG)) {
		pr_debug("%s: absent, using %s\n", opts->config, buf);
		err = 0;
	} else if (err) {
		xtc_diag_print(&diag);
		err = -EINVAL;
	}
	xtc_diag_free(&diag);
	return err;
}

int xtc_open_any(const struct xtc_opts *opts, struct xtc_state *st)
{
	char bpffs[4096];

	xtc_state_init(st);
	return xtc_open_unlocked(opts, st, bpffs, sizeof(bpffs));
}

int xtc_open_unlocked(const struct xtc_opts *opts, struct xtc_state *st, char *bpffs,
		      size_t len)
{
	int err;

	xtc_state_init(st);
	err = xtc_pick_bpffs(opts, bpffs, len);
	if (err)
		return err;
	/* Not mounted is a runtime problem (exit 1), never a config error. */
	if (xtc_state_check_bpffs(bpffs))
		return -ENOENT;
	return xtc_state_open(st, bpffs, false);
}

int xtc_open_existing(const struct xtc_opts *opts, struct xtc_state *st, bool lock)
{
	char bpffs[4096];
	int err;

	err = xtc_open_unlocked(opts, st, bpffs, sizeof(bpffs));
	if (err)
		return err;
	if (lock && st->lock_fd >= 0) {
		xtc_state_close(st);
		err = xtc_state_open(st, bpffs, true);
		if (err)
			return err;
		/* An empty directory: an apply that never pinned, or an unload we waited for. */
		if (!st->exists && !st->partial)
			xtc_state_remove(st);
	}
	if (st->partial)
		return 2;
	if (!st->exists) {
		xtc_state_close(st);
		return 1;
	}
	return 0;
}

int xtc_open_for_reading(const struct xtc_opts *opts, struct xtc_state *st)
{
	int err = xtc_open_existing(opts, st, false);

	if (err == 1) {
		pr_warn("xtc is not loaded: no state under %s (run xtc apply)\n", st->dir);
		return -ENOENT;
	}
	if (err == 2) {
		pr_warn("xtc's state under %s is incomplete; xtc status says what is missing and "
			"what to do\n", st->dir);
		xtc_state_close(st);
		return -ENOENT;
	}
	return err;
}
