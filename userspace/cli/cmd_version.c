// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc version: what a bug report needs: xtc's version, the libbpf and libxdp
 * really loaded (not the headers built against), the kernel, and a build id
 * of the BPF objects embedded in this binary.
 */
#define _GNU_SOURCE		/* dladdr */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "cli.h"
#include "objs.h"
#include "output.h"
#include "util.h"
#include "xtc_tc.skel.h"
#include "xtc_xdp.skel.h"
#include "xtc_probe.skel.h"

/* libxdp has no version call: its file is libxdp.so.MAJOR.MINOR.PATCH. */
static void libxdp_version(char *buf, size_t len)
{
	char path[PATH_MAX];
	const char *v;
	Dl_info di;

	snprintf(buf, len, "unknown");
	if (!dladdr((void *)xdp_program__create, &di) || !di.dli_fname ||
	    !realpath(di.dli_fname, path))
		return;
	v = strstr(path, ".so.");
	if (v)
		snprintf(buf, len, "%s", v + 4);
}

int cmd_version(const struct xtc_opts *opts)
{
	char xdp[64], build[32];
	struct utsname u = {};
	struct xtc_out *o;

	libxdp_version(xdp, sizeof(xdp));
	snprintf(build, sizeof(build), "%016llx", (unsigned long long)xtc_objs_build_id());
	uname(&u);
	if (!opts->json) {
		printf("xtc %s\nlibbpf %s\nlibxdp %s\nbpf objects %s\nkernel %s\n", XTC_VERSION,
		       libbpf_version_string() + (libbpf_version_string()[0] == 'v'), xdp, build,
		       u.release);
		return XTC_EXIT_OK;
	}
	o = xtc_out_new(XTC_OUT_JSON);
	if (!o)
		return XTC_EXIT_RUNTIME;
	xtc_out_str(o, "version", XTC_VERSION);
	xtc_out_str(o, "libbpf", libbpf_version_string() + (libbpf_version_string()[0] == 'v'));
	xtc_out_str(o, "libxdp", xdp);
	xtc_out_str(o, "bpf_build_id", build);
	xtc_out_str(o, "kernel_release", u.release);
	xtc_out_free(o);
	return XTC_EXIT_OK;
}
