// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The command line, from two tables: commands and options.  Options may come
 * before or after the command, as with ip and bpftool; "--" ends them.  An
 * argument that merely starts with '-' but is no option ("->" in a packet
 * of `xtc explain`) is positional.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "log.h"
#include "model.h"
#include "output.h"
#include "util.h"


enum {
	XTC_OPT_CONFIG = 1 << 0,
	XTC_OPT_VERBOSE = 1 << 1,
	XTC_OPT_HELP = 1 << 2,
	XTC_OPT_VERSION = 1 << 3,
	XTC_OPT_JSON = 1 << 4,
	XTC_OPT_DRY_RUN = 1 << 5,
	XTC_OPT_STRICT = 1 << 6,
	XTC_OPT_PROMETHEUS = 1 << 7,
	XTC_OPT_OUTPUT = 1 << 8,
	XTC_OPT_ALL = 1 << 9,
	XTC_OPT_EGRESS = 1 << 10,
	XTC_OPT_UNLOAD_ON_EXIT = 1 << 11,
};
#define XTC_OPT_GLOBAL (XTC_OPT_CONFIG | XTC_OPT_VERBOSE | XTC_OPT_HELP | XTC_OPT_VERSION)

struct xtc_opt {
	const char *name;		/* long form, without "--" */
	char short_name;		/* 0: none */
	const char *arg;		/* name of its argument, or NULL */
	unsigned int flag;
	const char *help;
};

static const struct xtc_opt options[] = {
	{ "config", 'c', "FILE", XTC_OPT_CONFIG, "configuration file (default " XTC_DEFAULT_CONFIG ")" },
	{ "verbose", 'v', NULL, XTC_OPT_VERBOSE, "debug output; -vv adds libbpf's and libxdp's" },
	{ "help", 'h', NULL, XTC_OPT_HELP, "print usage and exit" },
	{ "version", 'V', NULL, XTC_OPT_VERSION, "print versions and exit" },
	{ "json", 'j', NULL, XTC_OPT_JSON, "JSON output (schema 1), also for errors" },
	{ "dry-run", 'n', NULL, XTC_OPT_DRY_RUN, "print the plan, change nothing; exit 3 if "
	  "there are changes" },
	{ "strict", 0, NULL, XTC_OPT_STRICT, "treat warnings (shadowed rules, rules on hooks "
	  "that are off) as errors" },
	{ "prometheus", 'p', NULL, XTC_OPT_PROMETHEUS, "Prometheus text format" },
	{ "output", 'o', "FILE", XTC_OPT_OUTPUT, "write to FILE atomically (with --prometheus), "
	  "for node_exporter's textfile collector" },
	{ "all", 'a', NULL, XTC_OPT_ALL, "every interface xtc manages, and xtc's pins" },
	{ "egress", 0, NULL, XTC_OPT_EGRESS, "run the TC egress program instead of ingress" },
	{ "unload-on-exit", 0, NULL, XTC_OPT_UNLOAD_ON_EXIT, "unload xtc when stopped (the "
	  "default leaves the datapath running)" },
};

static int cmd_help(const struct xtc_opts *opts);

static const struct xtc_cmd commands[] = {
	{ "check", "[--strict]", "validate FILE and print every problem; touch nothing",
	  "Reads FILE (and its include files) and checks everything apply would refuse,\n"
	  "without touching the kernel. Problems are printed as FILE:LINE: message.\n"
	  "Warnings (a rule that earlier rules cover, a rule on a hook that is off)\n"
	  "do not fail the check unless --strict is given.\n",
	  cmd_check, XTC_OPT_JSON | XTC_OPT_STRICT, 0, 0 },
	{ "apply", "[--dry-run] [--strict]", "make the kernel match FILE",
	  "Validates FILE, reads what the kernel holds, and changes only what differs.\n"
	  "The plan names each change: + added, - removed, ~ changed; changes that\n"
	  "interrupt traffic are marked. A failed apply rolls every change back.\n"
	  "With --dry-run: exit 0 when there is nothing to do, 3 when there are changes.\n",
	  cmd_apply, XTC_OPT_JSON | XTC_OPT_DRY_RUN | XTC_OPT_STRICT, 0, 0 },
	{ "status", "", "what xtc has attached where, as the kernel shows it now",
	  "Reads the pins and the kernel, not FILE (only its bpffs). Lists every problem:\n"
	  "a managed interface that is gone, a hook that is detached, a pin that is gone.\n"
	  "Exit 0 when the kernel matches what was applied, 3 when it does not or when\n"
	  "xtc is not loaded.\n",
	  cmd_status, XTC_OPT_JSON, 0, 0 },
	{ "stats", "[--prometheus [-o FILE]]", "per-rule and per-interface counters",
	  "Packets and bytes per rule, and per interface and hook: seen, parse_errors,\n"
	  "no_match, handoffs_sent, handoffs_received, redirects_ok, redirects_failed,\n"
	  "dropped. Summed over CPUs.\n",
	  cmd_stats, XTC_OPT_JSON | XTC_OPT_PROMETHEUS | XTC_OPT_OUTPUT, 0, 0 },
	{ "rules", "", "the rules the kernel holds, with their counters",
	  "Lists the loaded rules as the kernel holds them, in match order: name,\n"
	  "matches, action, redirect mode and target, packets and bytes. FILE is read\n"
	  "only for [global] bpffs.\n",
	  cmd_rules, XTC_OPT_JSON, 0, 0 },
	{ "ipmap", "", "the IP-to-ifindex map behind target = auto",
	  "Every prefix in the map, the interface it leads to and where it came from:\n"
	  "an interface address, a connected route, or [static].\n",
	  cmd_ipmap, XTC_OPT_JSON, 0, 0 },
	{ "explain", "[--egress] IFACE PACKET", "run PACKET through the program on IFACE now",
	  "Builds PACKET and runs it through the program that is attached to IFACE right\n"
	  "now (BPF_PROG_TEST_RUN), then prints the hook, the verdict, the matching rule,\n"
	  "the redirect mode and the target. The packet is not counted.\n"
	  "PACKET: PROTO SRC[:PORT] -> DST[:PORT], PROTO one of tcp udp icmp tcp6 udp6 icmp6;\n"
	  "IPv6 with a port as [ADDR]:PORT. Quote it: the shell reads > as a redirection.\n"
	  "Example: xtc explain eth0 'tcp 10.0.0.1:4000 -> 10.244.1.5:8080'\n",
	  cmd_explain, XTC_OPT_JSON | XTC_OPT_EGRESS, 2, -1 },
	{ "unload", "--all | IFACE...", "remove xtc, and only xtc, from interfaces",
	  "Detaches xtc's programs from the named interfaces (or all, and then removes\n"
	  "xtc's pins). Other XDP programs, TC filters and clsact qdiscs stay.\n",
	  cmd_unload, XTC_OPT_ALL, 0, -1 },
	{ "daemon", "[--unload-on-exit]", "apply FILE, then follow the host as it changes",
	  "Runs in the foreground and logs to stderr. Applies FILE, then again whenever\n"
	  "interfaces, addresses or routes change and every 30 s: [interface PATTERN]\n"
	  "sections take the interfaces that appear, named ones may come later. It\n"
	  "reads FILE once and keeps it; SIGHUP reads it again (a file with errors is\n"
	  "refused, and what runs stays). SIGTERM or SIGINT stops it and leaves the\n"
	  "datapath running; with --unload-on-exit it unloads xtc first. One daemon per\n"
	  "state directory; apply and unload refuse to run beside it.\n",
	  cmd_daemon, XTC_OPT_UNLOAD_ON_EXIT, 0, 0 },
	{ "version", "", "versions of xtc, libbpf, libxdp and the BPF objects", NULL,
	  cmd_version, XTC_OPT_JSON, 0, 0 },
	{ "help", "[COMMAND]", "this text, or a command's", NULL, cmd_help, 0, 0, 1 },
};

static const struct xtc_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static void print_opts(FILE *f, unsigned int mask)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(options); i++) {
		const struct xtc_opt *o = &options[i];
		char head[48];

		if (!(o->flag & mask))
			continue;
		snprintf(head, sizeof(head), "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
			 o->arg ? " " : "", o->arg ?: "");
		fprintf(f, "  %-20s %s\n", head, o->help);
	}
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: xtc [OPTIONS] COMMAND [ARGS]\n\nCommands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		char head[64];

		snprintf(head, sizeof(head), "%s %s", commands[i].name, commands[i].args);
		fprintf(f, "  %-34s %s\n", head, commands[i].summary);
	}
	fprintf(f, "\nOptions, before or after the command:\n");
	print_opts(f, XTC_OPT_GLOBAL | XTC_OPT_JSON);
	fprintf(f, "\nExit status: 0 success; 1 runtime or kernel failure; 2 usage or config "
		   "error;\n3 differences (apply --dry-run has changes, status finds the kernel "
		   "off what\nwas applied). xtc COMMAND --help for a command. See xtc(8), "
		   "xtc.ini(5).\n");
}

static void cmd_usage(FILE *f, const struct xtc_cmd *c)
{
	fprintf(f, "Usage: xtc [-c FILE] [-v] %s %s\n\n%s\n", c->name, c->args, c->summary);
	if (c->details)
		fprintf(f, "\n%s", c->details);
	if (c->opts) {
		fprintf(f, "\nOptions:\n");
		print_opts(f, c->opts);
	}
	fprintf(f, "\nGlobal options:\n");
	print_opts(f, XTC_OPT_GLOBAL);
}

static int cmd_help(const struct xtc_opts *opts)
{
	const struct xtc_cmd *c;

	if (!opts->n_args) {
		usage(stdout);
		return XTC_EXIT_OK;
	}
	c = find_cmd(opts->args[0]);
	if (!c) {
		pr_warn("help: unknown command '%s'; xtc help lists them\n", opts->args[0]);
		return XTC_EXIT_USAGE;
	}
	cmd_usage(stdout, c);
	return XTC_EXIT_OK;
}

static const struct xtc_opt *find_long(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(options); i++)
		if (strlen(options[i].name) == len && !strncmp(options[i].name, name, len))
			return &options[i];
	return NULL;
}

static const struct xtc_opt *find_short(char c)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(options); i++)
		if (options[i].short_name == c)
			return &options[i];
	return NULL;
}

static void set_opt(struct xtc_opts *opts, const struct xtc_opt *o, const char *val)
{
	switch (o->flag) {
	case XTC_OPT_CONFIG:
		opts->config = val;
		break;
	case XTC_OPT_VERBOSE:
		opts->verbose++;
		break;
	case XTC_OPT_JSON:
		opts->json = true;
		break;
	case XTC_OPT_DRY_RUN:
		opts->dry_run = true;
		break;
	case XTC_OPT_STRICT:
		opts->strict = true;
		break;
	case XTC_OPT_PROMETHEUS:
		opts->prometheus = true;
		break;
	case XTC_OPT_OUTPUT:
		opts->output = val;
		break;
	case XTC_OPT_ALL:
		opts->all = true;
		break;
	case XTC_OPT_EGRESS:
		opts->egress = true;
		break;
	case XTC_OPT_UNLOAD_ON_EXIT:
		opts->unload_on_exit = true;
		break;
	}
}

/* Splits argv into the command, its positional arguments and the options. */
struct parsed {
	const char *cmd_name;
	unsigned int seen;		/* XTC_OPT_* given */
	char first_opt[16][24];		/* how each was spelled, for messages */
};

static void note_opt(struct xtc_opts *opts, struct parsed *p, const struct xtc_opt *o,
		     const char *val, bool spelled_long)
{
	int bit = __builtin_ctz(o->flag);

	set_opt(opts, o, val);
	if (!(p->seen & o->flag)) {
		if (!spelled_long)
			snprintf(p->first_opt[bit], sizeof(p->first_opt[bit]), "-%c", o->short_name);
		else
			snprintf(p->first_opt[bit], sizeof(p->first_opt[bit]), "--%s", o->name);
	}
	p->seen |= o->flag;
}

/* A long option, --name or --name=value. */
static int parse_long(int argc, char **argv, int *i, struct xtc_opts *opts, struct parsed *p)
{
	const char *a = argv[*i], *eq = strchr(a + 2, '='), *val;
	const struct xtc_opt *o = find_long(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));

	if (!o) {
		pr_warn("unknown option '%s'; xtc --help lists them\n", a);
		return -1;
	}
	if (eq && !o->arg) {
		pr_warn("option --%s takes no value\n", o->name);
		return -1;
	}
	val = eq ? eq + 1 : NULL;
	if (o->arg && !val) {
		if (*i + 1 >= argc) {
			pr_warn("option --%s needs %s\n", o->name, o->arg);
			return -1;
		}
		val = argv[++*i];
	}
	note_opt(opts, p, o, val, true);
	return 0;
}

/* -v, -vv, -jv: flags; -cFILE or -vc FILE: the last one takes a value, as with getopt. */
static int parse_short(int argc, char **argv, int *i, struct xtc_opts *opts, struct parsed *p)
{
	const char *c;

	for (c = argv[*i] + 1; *c; c++) {
		const struct xtc_opt *o = find_short(*c);
		const char *val = NULL;

		if (!o) {
			pr_warn("unknown option '-%c'; xtc --help lists them\n", *c);
			return -1;
		}
		if (o->arg) {
			val = c[1] ? c + 1 : NULL;
			if (!val && *i + 1 >= argc) {
				pr_warn("option -%c needs %s\n", *c, o->arg);
				return -1;
			}
			note_opt(opts, p, o, val ?: argv[++*i], false);
			return 0;
		}
		note_opt(opts, p, o, NULL, false);
	}
	return 0;
}

static int parse(int argc, char **argv, struct xtc_opts *opts, struct parsed *p)
{
	bool options_done = false;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options_done || a[0] != '-' || !a[1] || !strcmp(a, "->")) {
			if (!p->cmd_name)
				p->cmd_name = a;
			else
				opts->args[opts->n_args++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			options_done = true;
			continue;
		}
		if ((a[1] == '-' ? parse_long : parse_short)(argc, argv, &i, opts, p))
			return -1;
	}
	return 0;
}

/*
 * Whether --json was asked for anywhere before "--": a usage error found
 * before the parser reaches it must still be reported as JSON.
 */
static bool wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json"))
			return true;
		if (a[0] == '-' && a[1] != '-' && strcmp(a, "->")) {
			for (a++; *a; a++) {
				const struct xtc_opt *o = find_short(*a);

				if (*a == 'j')
					return true;
				if (!o || o->arg)
					break;		/* the rest is a value */
			}
		}
	}
	return false;
}

static int check_combination(const struct xtc_cmd *c, const struct xtc_opts *opts,
			     const struct parsed *p)
{
	unsigned int bad = p->seen & ~(XTC_OPT_GLOBAL | c->opts);

	if (bad) {
		pr_warn("%s: %s is not an option of %s; xtc %s --help lists them\n", c->name,
			p->first_opt[__builtin_ctz(bad)], c->name, c->name);
		return -1;
	}
	if (opts->n_args < c->min_args || (c->max_args >= 0 && opts->n_args > c->max_args)) {
		if (opts->n_args > c->max_args && c->max_args >= 0)
			pr_warn("%s: unexpected argument '%s'; usage: xtc %s %s\n", c->name,
				opts->args[c->max_args], c->name, c->args);
		else
			pr_warn("%s: missing arguments; usage: xtc %s %s\n", c->name, c->name,
				c->args);
		return -1;
	}
	if (opts->json && opts->prometheus) {
		pr_warn("%s: --json and --prometheus exclude each other\n", c->name);
		return -1;
	}
	if (opts->output && !opts->prometheus) {
		pr_warn("%s: -o FILE writes the Prometheus format: add --prometheus\n", c->name);
		return -1;
	}
	if (c->run == cmd_unload && opts->all == (opts->n_args > 0)) {
		pr_warn("unload: give --all or interface names, %s\n",
			opts->all ? "not both" : "one of them");
		return -1;
	}
	return 0;
}

/* With --json a failure is a JSON object on stdout too, unless output began. */
static void json_error(void)
{
	const struct xtc_log_error *e = xtc_log_first_error();
	struct xtc_out *o;

	if (xtc_out_started())
		return;
	o = xtc_out_new(XTC_OUT_JSON);
	if (!o)
		return;
	xtc_out_obj_begin(o, "error");
	xtc_out_str(o, "message", e ? e->message : "failed");
	if (e && e->file[0])
		xtc_out_str(o, "file", e->file);
	if (e && e->line)
		xtc_out_u64(o, "line", (__u64)e->line);
	xtc_out_obj_end(o);
	xtc_out_free(o);
}

int xtc_cli_main(int argc, char **argv)
{
	char *args[argc > 0 ? argc : 1];
	struct xtc_opts opts = { .config = XTC_DEFAULT_CONFIG, .args = args };
	struct parsed p = {};
	const struct xtc_cmd *c = NULL;
	int rc;

	opts.json = wants_json(argc, argv);
	if (parse(argc, argv, &opts, &p))
		goto bad_usage;
	xtc_log_set_level(opts.verbose >= 2 ? XTC_LOG_LIBS :
			  opts.verbose ? XTC_LOG_DEBUG : XTC_LOG_INFO);
	xtc_log_init_libs();
	if (p.cmd_name) {
		c = find_cmd(p.cmd_name);
		if (!c) {
			pr_warn("unknown command '%s'; xtc help lists them\n", p.cmd_name);
			goto bad_usage;
		}
	}
	if (p.seen & XTC_OPT_HELP) {
		if (c)
			cmd_usage(stdout, c);
		else
			usage(stdout);
		return XTC_EXIT_OK;
	}
	if (p.seen & XTC_OPT_VERSION)
		return cmd_version(&opts);
	if (!c) {
		pr_warn("no command given; xtc help lists them\n");
		if (!opts.json)
			usage(stderr);
		goto bad_usage;
	}
	if (check_combination(c, &opts, &p))
		goto bad_usage;
	rc = c->run(&opts);
	if (opts.json && (rc == XTC_EXIT_RUNTIME || rc == XTC_EXIT_USAGE))
		json_error();
	/* Output that did not arrive (a full disk, a closed pipe) is a failure. */
	if ((fflush(stdout) || ferror(stdout)) && rc != XTC_EXIT_USAGE) {
		pr_warn("cannot write the output: %s\n", strerror(errno ?: EIO));
		rc = XTC_EXIT_RUNTIME;
	}
	return rc;
bad_usage:
	if (opts.json)
		json_error();
	return XTC_EXIT_USAGE;
}
