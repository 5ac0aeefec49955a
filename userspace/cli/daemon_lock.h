/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One daemon per state directory: it holds an abstract unix socket named
 * after the directory, which the kernel frees when the process dies however
 * it dies.  apply and unload ask it for the daemon's pid (SO_PEERCRED).
 */
#ifndef XTC_DAEMON_LOCK_H
#define XTC_DAEMON_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "nlwatch.h"

/* What a daemon tells whoever connects (xtc status). */
struct xtc_daemon_info {
	pid_t pid;
	unsigned long long started;		/* unix seconds */
	unsigned long long last_reload;		/* unix seconds of the last SIGHUP, or 0 */
	bool last_reload_ok;
	unsigned long long events[XTC_NL_N];
	unsigned long long reconciles, repairs, failures;
	char last_error[256];			/* "" when the last reconcile went well */
};

/* Takes it: a listening socket, or -EADDRINUSE when a daemon holds it. */
int xtc_daemon_lock(const char *state_dir);
/* The pid of the daemon that holds it, or 0. */
pid_t xtc_daemon_pid(const char *state_dir);
/* The info as lines of "key value", as the daemon writes it to a connection. */
int xtc_daemon_info_format(const struct xtc_daemon_info *d, char *buf, size_t len);
/* Asks the daemon that holds state_dir's socket: 0 and *d, or -ENOENT when none runs. */
int xtc_daemon_query(const char *state_dir, struct xtc_daemon_info *d);

/* -EBUSY, said, when a daemon manages the state under bpffs: command must not race it. */
int xtc_daemon_refuse(const char *bpffs, const char *command);

#endif
