/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Failpoints: a test aid, compiled in always.  Every step that changes the
 * kernel calls xtc_failpoint(NAME) right after its change.  With
 * XTC_FAILPOINT=NAME[:N][:fail] in the environment, the Nth time (default 1)
 * that step is reached the process dies with SIGKILL, or with ":fail" the
 * step reports -EIO as if the kernel had refused it.  `xtc -v` logs every
 * failpoint it passes, so tests can enumerate them.  Crash-safety tests
 * use them to prove that the next run repairs whatever the last one left.
 */
#ifndef XTC_FAILPOINT_H
#define XTC_FAILPOINT_H

/* 0, or -EIO when told to fail here; does not return when told to die. */
int xtc_failpoint(const char *name);

#endif
