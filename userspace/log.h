/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Logging: warnings always, info unless quiet, debug with -v.  libbpf and
 * libxdp messages are routed here and shown only at debug level. */
#ifndef XTC_LOG_H
#define XTC_LOG_H

enum xtc_log_level {
	XTC_LOG_WARN = 0,
	XTC_LOG_INFO = 1,
	XTC_LOG_DEBUG = 2,
};

void xtc_log_set_level(enum xtc_log_level level);
enum xtc_log_level xtc_log_get_level(void);
void xtc_log_init_libs(void);
void xtc_log(enum xtc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Monotonic seconds, for -v timings of the slow steps. */
double xtc_now(void);

#define pr_warn(fmt, ...) xtc_log(XTC_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) xtc_log(XTC_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) xtc_log(XTC_LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif
