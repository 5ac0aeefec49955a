// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test driver for userspace/kernel/tc_attach.c and the attach kinds behind
 * it: one call per run, the result as one line of JSON on stdout, exit
 * status 0 only when the call returned 0.
 *
 *   tc_attach_drv tcx-available
 *   tc_attach_drv attach tcx|cls IFNAME ingress|egress OBJ|id:N [OPT...]
 *   tc_attach_drv replace tcx|cls IFNAME ingress|egress OBJ|id:N OLD_ID [OPT...]
 *   tc_attach_drv detach tcx|cls IFNAME ingress|egress keep|remove EXPECT_ID [OPT...]
 *   tc_attach_drv query IFNAME ingress|egress OUR_PROG_ID [OPT...]
 *   tc_attach_drv observe IFNAME ingress|egress [OPT...]
 *
 * OPT: pin=PATH (the TCX link's pin), prio=N (our cls_bpf prio),
 * replace=ID (attach: the program the caller knows to be its own).
 * OBJ is loaded afresh (a new program); id:N reuses program N, which is how
 * the test attaches "the same program" again.  XTC_DEBUG=1 shows debug logs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "tc_attach.h"

struct call {
	enum xtc_tc_kind kind;
	struct xtc_tc_hook hook;
	__u32 replace_id;
};

static int usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of tc_attach_drv.c\n");
	return 2;
}

static int parse_kind(const char *s, enum xtc_tc_kind *kind)
{
	if (!strcmp(s, "tcx"))
		*kind = XTC_TC_KIND_TCX;
	else if (!strcmp(s, "cls"))
		*kind = XTC_TC_KIND_CLS_BPF;
	else
		return -EINVAL;
	return 0;
}

/* IFNAME HOOK, then OPT... from argv[first] on. */
static int parse_hook(char **argv, int argc, int first, struct call *c)
{
	int i;

	c->hook.ifindex = if_nametoindex(argv[0]);
	if (!c->hook.ifindex)
		return -ENODEV;
	if (strcmp(argv[1], "ingress") && strcmp(argv[1], "egress"))
		return -EINVAL;
	c->hook.egress = !strcmp(argv[1], "egress");
	for (i = first; i < argc; i++) {
		if (!strncmp(argv[i], "pin=", 4))
			c->hook.link_pin = argv[i] + 4;
		else if (!strncmp(argv[i], "prio=", 5))
			c->hook.prio = (__u32)strtoul(argv[i] + 5, NULL, 0);
		else if (!strncmp(argv[i], "replace=", 8))
			c->replace_id = (__u32)strtoul(argv[i] + 8, NULL, 0);
		else
			return -EINVAL;
	}
	return 0;
}

/* The object stays open (and its program loaded) until the process exits. */
static int prog_fd_of(const char *spec)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	int err;

	if (!strncmp(spec, "id:", 3))
		return bpf_prog_get_fd_by_id((__u32)strtoul(spec + 3, NULL, 0));
	obj = bpf_object__open_file(spec, NULL);
	if (!obj)
		return -errno;
	err = bpf_object__load(obj);
	if (err)
		return err;
	prog = bpf_object__next_program(obj, NULL);
	return prog ? bpf_program__fd(prog) : -ENOENT;
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static int load(const char *spec)
{
	int fd = prog_fd_of(spec);

	if (fd < 0)
		fprintf(stderr, "cannot load %s: %s\n", spec, strerror(-fd));
	return fd;
}

/* attach KIND IFNAME HOOK PROG [OPT...] */
static int cmd_attach(char **argv, int argc)
{
	bool created = false;
	struct call c = {};
	int fd, rc;

	if (argc < 4 || parse_kind(argv[0], &c.kind) || parse_hook(argv + 1, argc - 1, 3, &c))
		return usage();
	fd = load(argv[3]);
	if (fd < 0)
		return 1;
	rc = xtc_tc_attach(c.kind, &c.hook, fd, c.replace_id, &created);
	printf("{\"rc\": %d, \"prog_id\": %u, \"created_qdisc\": %s}\n", rc, prog_id_of(fd),
	       created ? "true" : "false");
	return rc ? 1 : 0;
}

/* replace KIND IFNAME HOOK PROG OLD_ID [OPT...] */
static int cmd_replace(char **argv, int argc)
{
	struct call c = {};
	int fd, rc;

	if (argc < 5 || parse_kind(argv[0], &c.kind) || parse_hook(argv + 1, argc - 1, 4, &c))
		return usage();
	fd = load(argv[3]);
	if (fd < 0)
		return 1;
	rc = xtc_tc_replace(c.kind, &c.hook, fd, (__u32)strtoul(argv[4], NULL, 0));
	printf("{\"rc\": %d, \"prog_id\": %u}\n", rc, prog_id_of(fd));
	return rc ? 1 : 0;
}

/* detach KIND IFNAME HOOK keep|remove EXPECT_ID [OPT...] */
static int cmd_detach(char **argv, int argc)
{
	bool left = false;
	struct call c = {};
	int rc;

	if (argc < 5 || parse_kind(argv[0], &c.kind) || parse_hook(argv + 1, argc - 1, 4, &c))
		return usage();
	rc = xtc_tc_detach(c.kind, &c.hook, (__u32)strtoul(argv[4], NULL, 0),
			   !strcmp(argv[3], "remove"), &left);
	printf("{\"rc\": %d, \"left_foreign\": %s}\n", rc, left ? "true" : "false");
	return rc ? 1 : 0;
}

static void print_slot(const struct xtc_cls_slot *s)
{
	printf("{\"taken\": %s, \"kind\": \"%s\", \"prio\": %u, \"handle\": %u, \"prog_id\": %u, "
	       "\"prog_name\": \"%s\"}", s->taken ? "true" : "false", s->kind, s->prio, s->handle,
	       s->prog_id, s->prog_name);
}

/* query IFNAME HOOK OUR_PROG_ID [OPT...] */
static int cmd_query(char **argv, int argc)
{
	static const char *const kinds[] = { "none", "tcx", "cls" };
	struct xtc_tc_info info;
	struct call c = {};
	int rc;

	if (argc < 3 || parse_hook(argv, argc, 3, &c))
		return usage();
	rc = xtc_tc_query(&c.hook, (__u32)strtoul(argv[2], NULL, 0), &info);
	printf("{\"rc\": %d, \"kind\": \"%s\", \"prog_id\": %u, \"prio\": %u, \"handle\": %u, "
	       "\"n_others\": %d, \"slot\": ", rc, kinds[info.kind], info.prog_id, info.prio,
	       info.handle, info.n_others);
	print_slot(&info.slot);
	printf("}\n");
	return rc ? 1 : 0;
}

/* observe IFNAME HOOK [OPT...] */
static int cmd_observe(char **argv, int argc)
{
	struct xtc_tc_obs obs;
	struct call c = {};
	int i, rc;

	if (argc < 2 || parse_hook(argv, argc, 2, &c))
		return usage();
	rc = xtc_tc_observe(&c.hook, &obs);
	printf("{\"rc\": %d, \"tcx\": [", rc);
	for (i = 0; i < obs.n_tcx; i++)
		printf("%s{\"id\": %u, \"link_id\": %u, \"name\": \"%s\"}", i ? ", " : "",
		       obs.tcx[i].id, obs.tcx[i].link_id, obs.tcx[i].name);
	printf("], \"tcx_revision\": %llu, \"link_id\": %u, \"link_prog_id\": %u, "
	       "\"clsact\": %s, \"n_filters\": %d, \"slot\": ",
	       (unsigned long long)obs.tcx_revision, obs.link_id, obs.link_prog_id,
	       obs.clsact ? "true" : "false", obs.n_filters);
	print_slot(&obs.slot);
	printf("}\n");
	return rc ? 1 : 0;
}

static const struct {
	const char *name;
	int (*fn)(char **argv, int argc);
} cmds[] = {
	{ "attach", cmd_attach },
	{ "replace", cmd_replace },
	{ "detach", cmd_detach },
	{ "query", cmd_query },
	{ "observe", cmd_observe },
};

int main(int argc, char **argv)
{
	const char *debug = getenv("XTC_DEBUG");
	size_t i;

	xtc_log_init_libs();
	xtc_log_set_level(debug && *debug == '1' ? XTC_LOG_DEBUG : XTC_LOG_INFO);
	if (argc == 2 && !strcmp(argv[1], "tcx-available")) {
		printf("{\"tcx\": %s}\n", xtc_tc_tcx_available() ? "true" : "false");
		return 0;
	}
	for (i = 0; argc >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argv + 2, argc - 2);
	return usage();
}
