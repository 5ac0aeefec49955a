// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include "log.h"
#include "notify.h"

void xtc_notify(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	err = sd_notify(0, buf);
	if (err < 0)
		pr_debug("sd_notify: %s\n", strerror(-err));
}

uint64_t xtc_notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}
