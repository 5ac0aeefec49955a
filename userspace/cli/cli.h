/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XTC_CLI_H
#define XTC_CLI_H

#include <stdbool.h>

/* Exit codes at the command boundary; xtc(8) documents them. */
#define XTC_EXIT_OK 0
#define XTC_EXIT_RUNTIME 1		/* the kernel or the host refused, or a read failed */
#define XTC_EXIT_USAGE 2		/* bad command line or bad config */
#define XTC_EXIT_DIFF 3			/* apply --dry-run: changes; status: kernel differs */

struct xtc_opts {
	const char *config;		/* -c FILE */
	int verbose;			/* -v: 1 ours, 2 with libbpf and libxdp */
	bool json;			/* --json */
	bool dry_run;			/* apply --dry-run */
	bool strict;			/* check/apply --strict: warnings are errors */
	bool prometheus;		/* stats --prometheus */
	const char *output;		/* stats -o FILE */
	bool all;			/* unload --all */
	bool egress;			/* explain --egress */
	bool unload_on_exit;		/* daemon --unload-on-exit */
	char **args;			/* positional arguments after the command */
	int n_args;
};

struct xtc_cmd {
	const char *name;
	const char *args;		/* usage text after the name */
	const char *summary;		/* one line for `xtc help` */
	const char *details;		/* more lines for `xtc help COMMAND`, or NULL */
	int (*run)(const struct xtc_opts *opts);	/* returns an XTC_EXIT_* code */
	unsigned int opts;		/* XTC_OPT_* it accepts besides the global ones */
	int min_args, max_args;		/* positional arguments; max -1: any number */
};

int xtc_cli_main(int argc, char **argv);

/* Commands; each returns an XTC_EXIT_* code. */
int cmd_check(const struct xtc_opts *opts);
int cmd_apply(const struct xtc_opts *opts);
int cmd_status(const struct xtc_opts *opts);
int cmd_stats(const struct xtc_opts *opts);
int cmd_rules(const struct xtc_opts *opts);
int cmd_ipmap(const struct xtc_opts *opts);
int cmd_explain(const struct xtc_opts *opts);
int cmd_unload(const struct xtc_opts *opts);
int cmd_daemon(const struct xtc_opts *opts);
int cmd_version(const struct xtc_opts *opts);

#endif
