// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * LD_PRELOAD shim for test_xdp_attach.py: stands in for libxdp's attach on
 * kernels and devices no machine here has.  By default it is a kernel >= 6.13
 * whose verifier refuses our program in the dispatcher because it changes
 * packet data: xtc_xdp is refused, and xtc_xdp_nh (which does not) goes to
 * the real libxdp; with
 * XTC_SHIM_KERNEL_MSG it is a driver that refuses XDP with that extack
 * message (EOPNOTSUPP).  Either is reported the way the real stack does: a
 * libbpf log line, then the failure.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <stdlib.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

static int say(libbpf_print_fn_t fn, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = fn(LIBBPF_WARN, fmt, ap);
	va_end(ap);
	return ret;
}

int xdp_program__attach(struct xdp_program *prog, int ifindex, enum xdp_attach_mode mode,
			unsigned int flags)
{
	libbpf_print_fn_t cur = libbpf_set_print(NULL);

	const char *kmsg = getenv("XTC_SHIM_KERNEL_MSG");
	const char *name = xdp_program__name(prog);
	int (*real)(struct xdp_program *, int, enum xdp_attach_mode, unsigned int);

	if (!kmsg && name && !strcmp(name, "xtc_xdp_nh")) {
		*(void **)&real = dlsym(RTLD_NEXT, "xdp_program__attach");
		return real ? real(prog, ifindex, mode, flags) : -ENOSYS;
	}

	libbpf_set_print(cur);
	if (cur && kmsg) {
		say(cur, "libbpf: Kernel error message: %s\n", kmsg);
		return -EOPNOTSUPP;
	}
	if (cur)
		say(cur, "libbpf: prog 'xtc_xdp': BPF program load failed: Invalid argument\n"
			 "Extension program changes packet data, while original does not\n");
	return -EINVAL;
}
