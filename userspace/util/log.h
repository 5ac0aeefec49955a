/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Logging to stderr, every line starting with "xtc: ": warnings always, debug
 * with -v, and libbpf's and libxdp's messages with -vv.  The first warning is
 * kept so that `--json` can report the failure on stdout.
 */
#ifndef XTC_LOG_H
#define XTC_LOG_H

#include <stdarg.h>

enum xtc_log_level {
	XTC_LOG_WARN = 0,
	XTC_LOG_INFO = 1,
	XTC_LOG_DEBUG = 2,		/* -v */
	XTC_LOG_LIBS = 3,		/* -vv: libbpf and libxdp */
};

void xtc_log_set_level(enum xtc_log_level level);
enum xtc_log_level xtc_log_get_level(void);
void xtc_log_init_libs(void);
/* Nothing the calling thread logs from now on is said or kept: its work is redone if it fails. */
void xtc_log_quiet_thread(void);
void xtc_log(enum xtc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void xtc_vlog(enum xtc_log_level level, const char *fmt, va_list ap);

/*
 * The failure to report as {"error": ...}: the first warning, or what a
 * command sets with a file and line (a config error).
 */
struct xtc_log_error {
	char message[1024];
	char file[4096];		/* "" when the error is not about a file */
	int line;			/* 0 when there is none */
};
const struct xtc_log_error *xtc_log_first_error(void);
void xtc_log_set_error(const char *file, int line, const char *message);

/* Monotonic seconds, for -v timings of the slow steps. */
double xtc_now(void);

#define pr_warn(fmt, ...) xtc_log(XTC_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) xtc_log(XTC_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) xtc_log(XTC_LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif
