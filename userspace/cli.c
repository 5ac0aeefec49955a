// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Table-driven subcommands in the style of xdp-loader and ip. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "log.h"
#include "model.h"

#define XTC_OPT_DRY_RUN 0x01
#define XTC_OPT_JSON 0x02
#define XTC_OPT_PROMETHEUS 0x04
#define XTC_OPT_ALL 0x08
#define XTC_OPT_IFACES 0x10

static const struct xtc_cmd commands[] = {
	{ "check", "", "validate FILE; print every problem; touch nothing", cmd_check, 0 },
	{ "apply", "[--dry-run]", "make the kernel match FILE; --dry-run prints the plan",
	  cmd_apply, XTC_OPT_DRY_RUN },
	{ "status", "[--json]", "what is attached where, as the kernel shows it now",
	  cmd_status, XTC_OPT_JSON },
	{ "stats", "[--json|--prometheus]", "per-rule and per-interface counters", cmd_stats,
	  XTC_OPT_JSON | XTC_OPT_PROMETHEUS },
	{ "unload", "[--all | IFACE...]", "remove xtc (only xtc) from the interfaces",
	  cmd_unload, XTC_OPT_ALL | XTC_OPT_IFACES },
	{ "version", "", "print the version", cmd_version, 0 },
};

static const struct {
	const char *name;
	unsigned int flag;
} cmd_flags[] = {
	{ "--dry-run", XTC_OPT_DRY_RUN },
	{ "--json", XTC_OPT_JSON },
	{ "--prometheus", XTC_OPT_PROMETHEUS },
	{ "--all", XTC_OPT_ALL },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: xtc [-c FILE] [-v] COMMAND\n\nCommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char head[64];

		snprintf(head, sizeof(head), "%s %s", commands[i].name, commands[i].args);
		fprintf(f, "  %-30s %s\n", head, commands[i].help);
	}
	fprintf(f, "\nOptions:\n  -c FILE  configuration (default %s)\n"
		   "  -v       debug output, including libbpf and libxdp messages\n",
		XTC_DEFAULT_CONFIG);
}

static int parse_cmd_args(const struct xtc_cmd *cmd, int argc, char **argv,
			  struct xtc_opts *opts)
{
	int i;
	size_t j;

	for (i = 0; i < argc; i++) {
		unsigned int flag = 0;

		for (j = 0; j < sizeof(cmd_flags) / sizeof(cmd_flags[0]); j++)
			if (!strcmp(argv[i], cmd_flags[j].name))
				flag = cmd_flags[j].flag;
		if (flag && (cmd->flags & flag)) {
			opts->dry_run |= flag == XTC_OPT_DRY_RUN;
			opts->json |= flag == XTC_OPT_JSON;
			opts->prometheus |= flag == XTC_OPT_PROMETHEUS;
			opts->all |= flag == XTC_OPT_ALL;
			continue;
		}
		if (!flag && argv[i][0] != '-' && (cmd->flags & XTC_OPT_IFACES)) {
			opts->ifaces = &argv[i];
			opts->n_ifaces = argc - i;
			return 0;
		}
		fprintf(stderr, "xtc %s: unknown argument '%s'; usage: xtc %s %s\n",
			cmd->name, argv[i], cmd->name, cmd->args);
		return -EINVAL;
	}
	return 0;
}

int xtc_cli_main(int argc, char **argv)
{
	struct xtc_opts opts = { .config = XTC_DEFAULT_CONFIG };
	const struct xtc_cmd *cmd = NULL;
	size_t i;
	int c;

	while ((c = getopt(argc, argv, "+c:vh")) != -1) {
		switch (c) {
		case 'c':
			opts.config = optarg;
			break;
		case 'v':
			opts.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return XTC_EXIT_OK;
		default:
			usage(stderr);
			return XTC_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return XTC_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "xtc: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return XTC_EXIT_USAGE;
	}
	if (parse_cmd_args(cmd, argc - optind - 1, argv + optind + 1, &opts))
		return XTC_EXIT_USAGE;
	if (opts.json && opts.prometheus) {
		fprintf(stderr, "xtc %s: --json and --prometheus exclude each other\n", cmd->name);
		return XTC_EXIT_USAGE;
	}
	if (opts.all && opts.n_ifaces) {
		fprintf(stderr, "xtc %s: give --all or interface names, not both\n", cmd->name);
		return XTC_EXIT_USAGE;
	}

	xtc_log_set_level(opts.verbose ? XTC_LOG_DEBUG : XTC_LOG_INFO);
	xtc_log_init_libs();
	return cmd->run(&opts);
}
