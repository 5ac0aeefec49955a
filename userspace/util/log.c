// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "log.h"

static enum xtc_log_level log_level = XTC_LOG_INFO;
static struct xtc_log_error first_error;
static int error_set;
/* A thread whose failures another reports: says nothing (xtc_log_quiet_thread()). */
static __thread int thread_quiet;

void xtc_log_quiet_thread(void)
{
	thread_quiet = 1;
}

void xtc_log_set_level(enum xtc_log_level level)
{
	log_level = level;
}

enum xtc_log_level xtc_log_get_level(void)
{
	return log_level;
}

const struct xtc_log_error *xtc_log_first_error(void)
{
	return error_set ? &first_error : NULL;
}

void xtc_log_set_error(const char *file, int line, const char *message)
{
	if (error_set == 2)
		return;
	snprintf(first_error.file, sizeof(first_error.file), "%s", file ?: "");
	first_error.line = line;
	snprintf(first_error.message, sizeof(first_error.message), "%s", message);
	error_set = 2;		/* a located error beats any warning */
}

static void keep_error(const char *fmt, va_list ap)
{
	size_t n;

	if (error_set)
		return;
	vsnprintf(first_error.message, sizeof(first_error.message), fmt, ap);
	n = strlen(first_error.message);
	while (n && first_error.message[n - 1] == '\n')
		first_error.message[--n] = '\0';
	error_set = 1;
}

/*
 * Every line gets the prefix, also the lines of a multi-line message; a
 * library's message may arrive in pieces, so the prefix follows newlines.
 */
static void put_prefixed(const char *text)
{
	static int at_line_start = 1;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (at_line_start)
			fputs("xtc: ", stderr);
		fwrite(p, 1, len, stderr);
		at_line_start = nl != NULL;
		p += len;
	}
}

void xtc_vlog(enum xtc_log_level level, const char *fmt, va_list ap)
{
	char buf[4096], *text = buf;
	va_list cp;
	int n;

	if (thread_quiet)
		return;
	if (level == XTC_LOG_WARN) {
		va_copy(cp, ap);
		keep_error(fmt, cp);
		va_end(cp);
	}
	if (level > log_level)
		return;
	fflush(stdout);	/* keep plan lines and messages in order in one log */
	va_copy(cp, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, cp);
	va_end(cp);
	/* A verifier log comes as one message; its end, where the error is, matters most. */
	if (n >= (int)sizeof(buf) && (text = malloc((size_t)n + 1)))
		vsnprintf(text, (size_t)n + 1, fmt, ap);
	put_prefixed(text ?: buf);
	if (text != buf)
		free(text);
}

void xtc_log(enum xtc_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xtc_vlog(level, fmt, ap);
	va_end(ap);
}

/* Library chatter is for -vv: the caller reports the failure in its own words. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	xtc_vlog(XTC_LOG_LIBS, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	xtc_vlog(XTC_LOG_LIBS, fmt, ap);
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
