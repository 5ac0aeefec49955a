// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "log.h"

static enum xtc_log_level log_level = XTC_LOG_INFO;

void xtc_log_set_level(enum xtc_log_level level)
{
	log_level = level;
}

enum xtc_log_level xtc_log_get_level(void)
{
	return log_level;
}

static void vlog(enum xtc_log_level level, const char *prefix, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	fflush(stdout);	/* keep plan lines and messages in order in one log */
	if (prefix)
		fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
}

void xtc_log(enum xtc_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, level == XTC_LOG_WARN ? "xtc: " : NULL, fmt, ap);
	va_end(ap);
}

/* Library chatter is debugging detail: the caller reports the failure. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	vlog(XTC_LOG_DEBUG, NULL, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	vlog(XTC_LOG_DEBUG, NULL, fmt, ap);
	return 0;
}

void xtc_log_init_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

double xtc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
