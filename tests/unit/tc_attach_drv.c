// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test driver for userspace/kernel/tc_attach.c: one call per run, the result as one
 * line of JSON on stdout, exit status 0 only when the call returned 0.
 *
 *   tc_attach_drv tcx-available
 *   tc_attach_drv attach tcx|cls IFNAME ingress|egress OBJ|id:N PIN|-
 *   tc_attach_drv detach tcx|cls IFNAME ingress|egress PIN|- keep|remove
 *   tc_attach_drv query IFNAME ingress|egress OUR_PROG_ID
 *
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

static int parse_hook(const char *s, bool *egress)
{
	if (!strcmp(s, "ingress"))
		*egress = false;
	else if (!strcmp(s, "egress"))
		*egress = true;
	else
		return -EINVAL;
	return 0;
}

static int parse_ifname(const char *s, __u32 *ifindex)
{
	*ifindex = if_nametoindex(s);
	return *ifindex ? 0 : -ENODEV;
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

static const char *pin_arg(const char *s)
{
	return strcmp(s, "-") ? s : NULL;
}

static int cmd_attach(char **argv)
{
	enum xtc_tc_kind kind;
	bool egress, created = false;
	__u32 ifindex;
	int fd, rc;

	if (parse_kind(argv[0], &kind) || parse_ifname(argv[1], &ifindex) ||
	    parse_hook(argv[2], &egress))
		return usage();
	fd = prog_fd_of(argv[3]);
	if (fd < 0) {
		fprintf(stderr, "cannot load %s: %s\n", argv[3], strerror(-fd));
		return 1;
	}
	rc = xtc_tc_attach(kind, ifindex, egress, fd, pin_arg(argv[4]), &created);
	printf("{\"rc\": %d, \"prog_id\": %u, \"created_qdisc\": %s}\n", rc, prog_id_of(fd),
	       created ? "true" : "false");
	return rc ? 1 : 0;
}

static int cmd_detach(char **argv)
{
	enum xtc_tc_kind kind;
	__u32 ifindex;
	bool egress;
	int rc;

	if (parse_kind(argv[0], &kind) || parse_ifname(argv[1], &ifindex) ||
	    parse_hook(argv[2], &egress))
		return usage();
	rc = xtc_tc_detach(kind, ifindex, egress, pin_arg(argv[3]), !strcmp(argv[4], "remove"));
	printf("{\"rc\": %d}\n", rc);
	return rc ? 1 : 0;
}

static int cmd_query(char **argv)
{
	static const char *const kinds[] = { "none", "tcx", "cls" };
	struct xtc_tc_info info;
	__u32 ifindex;
	bool egress;
	int rc;

	if (parse_ifname(argv[0], &ifindex) || parse_hook(argv[1], &egress))
		return usage();
	rc = xtc_tc_query(ifindex, egress, (__u32)strtoul(argv[2], NULL, 0), &info);
	printf("{\"rc\": %d, \"kind\": \"%s\", \"prog_id\": %u, \"prio\": %u, \"handle\": %u, "
	       "\"n_others\": %d}\n", rc, kinds[info.kind], info.prog_id, info.prio, info.handle,
	       info.n_others);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *debug = getenv("XTC_DEBUG");

	xtc_log_init_libs();
	xtc_log_set_level(debug && *debug == '1' ? XTC_LOG_DEBUG : XTC_LOG_INFO);
	if (argc == 2 && !strcmp(argv[1], "tcx-available")) {
		printf("{\"tcx\": %s}\n", xtc_tc_tcx_available() ? "true" : "false");
		return 0;
	}
	if (argc == 7 && !strcmp(argv[1], "attach"))
		return cmd_attach(argv + 2);
	if (argc == 7 && !strcmp(argv[1], "detach"))
		return cmd_detach(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "query"))
		return cmd_query(argv + 2);
	return usage();
}
