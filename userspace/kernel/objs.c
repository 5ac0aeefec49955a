// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include <linux/bpf.h>
#include "objs.h"
#include "log.h"
#include "xtc_shared.h"
#include "xdp_build.h"
#include "xtc_xdp.skel.h"
#include "xtc_xdp_nh.skel.h"
#include "xtc_tc.skel.h"
#include "xtc_probe.skel.h"
#include "util.h"

int xtc_objs_load(struct xtc_objs *o, const struct xtc_objs_opts *opts)
{
	int err;

	memset(o, 0, sizeof(*o));
	xtc_maps_init(&o->maps);
	o->tc = xtc_tc__open();
	err = o->tc ? xtc_xdp_build_open(&o->xdp, !opts->xdp_no_handoff, opts->malformed_action,
						 opts->xdp_slot) :
		      -errno ?: -ENOMEM;
	if (err) {
		pr_warn("cannot open the BPF objects: %s\n", strerror(-err));
		goto err;
	}
	o->tc->rodata->malformed_verdict =
		opts->malformed_action == XTC_ACT_DROP ? TC_ACT_SHOT : TC_ACT_OK;

	err = xtc_maps_resize(o->tc->obj, opts->max_rules, opts->max_entries);
	if (!err && opts->reuse)
		err = xtc_maps_reuse(o->tc->obj, opts->reuse);
	if (err)
		goto err;
	err = xtc_tc__load(o->tc);
	if (err) {
		pr_warn("cannot load the TC programs: %s (run with -v for the verifier log)\n",
			strerror(-err));
		goto err;
	}
	err = xtc_maps_from_obj(o->tc->obj, &o->maps);
	if (err)
		goto err;
	err = xtc_maps_reuse(o->xdp.obj, &o->maps);
	if (err)
		goto err;
	err = xtc_xdp_build_load(&o->xdp);
	if (err) {
		pr_warn("cannot load the XDP program: %s (run with -v for the verifier log)\n",
			strerror(-err));
		goto err;
	}
	return 0;
err:
	xtc_objs_destroy(o);
	return err;
}

void xtc_objs_destroy(struct xtc_objs *o)
{
	if (!o)
		return;
	xtc_maps_close(&o->maps);
	xtc_xdp_build_close(&o->xdp);
	xtc_tc__destroy(o->tc);
	o->tc = NULL;
}

__u64 xtc_objs_build_id(void)
{
	__u64 h = XTC_FNV64_INIT;
	const void *elf;
	size_t sz;

	elf = xtc_xdp__elf_bytes(&sz);
	h = xtc_fnv1a64(h, elf, sz);
	elf = xtc_xdp_nh__elf_bytes(&sz);
	h = xtc_fnv1a64(h, elf, sz);
	elf = xtc_tc__elf_bytes(&sz);
	h = xtc_fnv1a64(h, elf, sz);
	elf = xtc_probe__elf_bytes(&sz);
	return xtc_fnv1a64(h, elf, sz);
}

int xtc_objs_prog_fd(const struct xtc_objs *o, int hook)
{
	switch (hook) {
	case XTC_HOOK_XDP:
		return bpf_program__fd(o->xdp.prog);
	case XTC_HOOK_TC_INGRESS:
		return bpf_program__fd(o->tc->progs.xtc_tc_ingress);
	case XTC_HOOK_TC_EGRESS:
		return bpf_program__fd(o->tc->progs.xtc_tc_egress);
	}
	return -EINVAL;
}
