// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ini.h>
#include "cmd_common.h"
#include "log.h"
#include "model.h"

struct bpffs_pick {
	char *buf;
	size_t len;
};

static int pick_handler(void *user, const char *section, const char *name, const char *value)
{
	struct bpffs_pick *p = user;

	if (!strcmp(section, "global") && !strcmp(name, "bpffs"))
		snprintf(p->buf, p->len, "%s", value);
	return 1;
}

/*
 * Only [global] bpffs matters here, so the rest of the file need not be
 * valid: unload must still find its state after an interface in the file
 * has disappeared.  An unreadable file is an error, never a silent switch
 * to another xtc instance.
 */
int xtc_pick_bpffs(const struct xtc_opts *opts, char *buf, size_t len)
{
	struct bpffs_pick p = { .buf = buf, .len = len };
	FILE *f;

	snprintf(buf, len, "%s", XTC_DEFAULT_BPFFS);
	f = fopen(opts->config, "r");
	if (!f) {
		if (errno == ENOENT && !strcmp(opts->config, XTC_DEFAULT_CONFIG)) {
			pr_debug("%s: absent, using %s\n", opts->config, buf);
			return 0;
		}
		pr_warn("%s: cannot read: %s (xtc needs it to find its state)\n", opts->config,
			strerror(errno));
		return -EINVAL;
	}
	ini_parse_file(f, pick_handler, &p);
	fclose(f);
	return 0;
}

int xtc_open_any(const struct xtc_opts *opts, struct xtc_state *st)
{
	char bpffs[4096];
	int err;

	memset(st, 0, sizeof(*st));
	st->lock_fd = st->tc_ingress_fd = st->tc_egress_fd = -1;
	xtc_maps_init(&st->maps);
	err = xtc_pick_bpffs(opts, bpffs, sizeof(bpffs));
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

	err = xtc_pick_bpffs(opts, bpffs, sizeof(bpffs));
	if (err)
		return err;
	if (xtc_state_check_bpffs(bpffs))
		return -ENOENT;
	err = xtc_state_open(st, bpffs, false);
	if (err)
		return err;
	if (lock && st->lock_fd >= 0) {
		xtc_state_close(st);
		err = xtc_state_open(st, bpffs, true);
		if (err)
			return err;
		/* Leftovers of an interrupted apply, or of an unload we waited for. */
		if (!st->exists)
			xtc_state_remove(st);
	}
	if (!st->exists) {
		xtc_state_close(st);
		return 1;
	}
	return 0;
}

int xtc_open_for_reading(const struct xtc_opts *opts, struct xtc_state *st)
{
	int err = xtc_open_existing(opts, st, false);

	if (err > 0) {
		pr_warn("xtc is not loaded: no state under %s (run xtc apply)\n", st->dir);
		return -ENOENT;
	}
	return err;
}
