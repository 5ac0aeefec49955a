/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The systemd notification protocol for `xtc daemon` (Type=notify): READY,
 * RELOADING, STOPPING, STATUS and the watchdog, through libsystemd's
 * sd_notify.  Without $NOTIFY_SOCKET every call does nothing.
 */
#ifndef XTC_NOTIFY_H
#define XTC_NOTIFY_H

#include <stdint.h>

void xtc_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog interval systemd asked for (WatchdogSec=), in microseconds, or 0. */
uint64_t xtc_notify_watchdog_usec(void);

#endif
