/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One daemon per state directory: it holds an abstract unix socket named
 * after the directory, which the kernel frees when the process dies however
 * it dies.  apply and unload ask it for the daemon's pid (SO_PEERCRED).
 */
#ifndef XTC_DAEMON_LOCK_H
#define XTC_DAEMON_LOCK_H

#include <sys/types.h>

/* Takes it: a listening socket, or -EADDRINUSE when a daemon holds it. */
int xtc_daemon_lock(const char *state_dir);
/* The pid of the daemon that holds it, or 0. */
pid_t xtc_daemon_pid(const char *state_dir);
/* -EBUSY, said, when a daemon manages the state under bpffs: command must not race it. */
int xtc_daemon_refuse(const char *bpffs, const char *command);

#endif
