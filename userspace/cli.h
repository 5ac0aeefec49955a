/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XTC_CLI_H
#define XTC_CLI_H

#include <stdbool.h>

/* Exit codes at the command boundary. */
#define XTC_EXIT_OK 0
#define XTC_EXIT_RUNTIME 1
#define XTC_EXIT_USAGE 2

struct xtc_opts {
	const char *config;		/* -c FILE */
	bool verbose;			/* -v */
	bool dry_run;			/* apply --dry-run */
	bool json;			/* status/stats --json */
	bool prometheus;		/* stats --prometheus */
	bool all;			/* unload --all */
	char **ifaces;			/* unload IFACE... */
	int n_ifaces;
};

struct xtc_cmd {
	const char *name;
	const char *args;		/* usage text after the name */
	const char *help;
	int (*run)(const struct xtc_opts *opts);	/* returns an exit code */
	unsigned int flags;		/* XTC_OPT_* accepted after the name */
};

int xtc_cli_main(int argc, char **argv);

/* Commands; each returns an XTC_EXIT_* code. */
int cmd_check(const struct xtc_opts *opts);
int cmd_apply(const struct xtc_opts *opts);
int cmd_status(const struct xtc_opts *opts);
int cmd_stats(const struct xtc_opts *opts);
int cmd_unload(const struct xtc_opts *opts);
int cmd_version(const struct xtc_opts *opts);

#endif
