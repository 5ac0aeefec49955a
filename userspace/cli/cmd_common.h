/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the read-side commands (status, stats, unload) share. */
#ifndef XTC_CMD_COMMON_H
#define XTC_CMD_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include "cli.h"
#include "state.h"

/* [global] bpffs of the config (or the default); -EINVAL if it is unreadable. */
int xtc_pick_bpffs(const struct xtc_opts *opts, char *buf, size_t len);

/* [global] bpffs (into bpffs), checked to be mounted, and the state under it, unlocked. */
int xtc_open_unlocked(const struct xtc_opts *opts, struct xtc_state *st, char *bpffs,
		      size_t len);

/*
 * Opens the pinned state, with the lock when asked: 0 when it is complete, 2
 * when some pins are gone or of another version (st->missing, st->foreign
 * say which; the others are open), 1 (state closed) when xtc is not loaded,
 * a negative errno on failure.
 */
int xtc_open_existing(const struct xtc_opts *opts, struct xtc_state *st, bool lock);

/*
 * Opens the pinned state without locking, whatever it holds: st->exists,
 * st->partial and st->missing tell.  A negative errno when it cannot look.
 */
int xtc_open_any(const struct xtc_opts *opts, struct xtc_state *st);

/* Opens the pinned state without locking; -ENOENT (said) when xtc is not loaded. */
int xtc_open_for_reading(const struct xtc_opts *opts, struct xtc_state *st);

/* The exit code for a failure of the two above: a bad config is a usage error. */
static inline int xtc_read_exit(int err)
{
	return err == -EINVAL ? XTC_EXIT_USAGE : XTC_EXIT_RUNTIME;
}

#endif
