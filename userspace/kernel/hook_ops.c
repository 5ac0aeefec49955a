// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include "hook_ops.h"
#include "xdp_attach.h"
#include "xtc_shared.h"

static int xdp_attach(const struct xtc_hook_place *pl, __u32 replace_id, struct xtc_hook_done *d)
{
	if (replace_id) {
		d->single = true;
		d->no_handoff = false;
		return xtc_xdp_replace_single(pl->maps, pl->ifindex, pl->ifname, pl->mode,
					      XTC_ACT_PASS, pl->slot, replace_id, &d->prog_id);
	}
	return xtc_xdp_attach(pl->maps, pl->ifindex, pl->ifname, pl->mode, pl->prio, XTC_ACT_PASS,
			      pl->slot, &d->prog_id, &d->single, &d->no_handoff);
}

static int xdp_detach(const struct xtc_hook_place *pl, __u32 expect_id, bool remove_qdisc)
{
	(void)remove_qdisc;
	return xtc_xdp_detach(pl->ifindex, pl->ifname, expect_id);
}

static struct xtc_tc_hook tc_hook(const struct xtc_hook_place *pl)
{
	return (struct xtc_tc_hook){ .ifindex = pl->ifindex, .egress = pl->egress,
				     .link_pin = pl->link_pin, .prio = pl->prio };
}

static int tc_attach(enum xtc_tc_kind kind, const struct xtc_hook_place *pl, __u32 replace_id,
		     struct xtc_hook_done *d)
{
	struct xtc_tc_hook h = tc_hook(pl);

	return xtc_tc_attach(kind, &h, pl->prog_fd, replace_id, &d->created_qdisc);
}

static int tc_detach(enum xtc_tc_kind kind, const struct xtc_hook_place *pl, __u32 expect_id,
		     bool remove_qdisc)
{
	struct xtc_tc_hook h = tc_hook(pl);

	return xtc_tc_detach(kind, &h, expect_id, remove_qdisc, NULL);
}

static int tcx_attach(const struct xtc_hook_place *pl, __u32 replace_id, struct xtc_hook_done *d)
{
	return tc_attach(XTC_TC_KIND_TCX, pl, replace_id, d);
}

static int tcx_detach(const struct xtc_hook_place *pl, __u32 expect_id, bool remove_qdisc)
{
	return tc_detach(XTC_TC_KIND_TCX, pl, expect_id, remove_qdisc);
}

static int cls_attach(const struct xtc_hook_place *pl, __u32 replace_id, struct xtc_hook_done *d)
{
	return tc_attach(XTC_TC_KIND_CLS_BPF, pl, replace_id, d);
}

static int cls_detach(const struct xtc_hook_place *pl, __u32 expect_id, bool remove_qdisc)
{
	return tc_detach(XTC_TC_KIND_CLS_BPF, pl, expect_id, remove_qdisc);
}

static const struct xtc_hook_ops ops[XTC_HOOK_KIND_COUNT] = {
	[XTC_HOOK_KIND_XDP] = { "xdp", xdp_attach, xdp_detach },
	[XTC_HOOK_KIND_TCX] = { "tcx", tcx_attach, tcx_detach },
	[XTC_HOOK_KIND_CLS_BPF] = { "cls_bpf", cls_attach, cls_detach },
};

const struct xtc_hook_ops *xtc_hook_ops_of(enum xtc_hook_kind kind)
{
	return (unsigned)kind < XTC_HOOK_KIND_COUNT ? &ops[kind] : NULL;
}

enum xtc_hook_kind xtc_hook_kind_of_tc(enum xtc_tc_kind kind)
{
	return kind == XTC_TC_KIND_CLS_BPF ? XTC_HOOK_KIND_CLS_BPF : XTC_HOOK_KIND_TCX;
}
