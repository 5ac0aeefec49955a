// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The attach kinds in one table, and the hook in brief; see tc_attach.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cls_bpf.h"
#include "log.h"
#include "tc_attach.h"
#include "tc_hook.h"
#include "tcx.h"

static const struct xtc_tc_ops *const kinds[XTC_TC_KIND_COUNT] = {
	[XTC_TC_KIND_TCX] = &xtc_tcx_ops,
	[XTC_TC_KIND_CLS_BPF] = &xtc_cls_bpf_ops,
};

const struct xtc_tc_ops *xtc_tc_ops_of(enum xtc_tc_kind kind)
{
	return (unsigned int)kind < XTC_TC_KIND_COUNT ? kinds[kind] : NULL;
}

const char *xtc_tc_kind_name(enum xtc_tc_kind kind)
{
	const struct xtc_tc_ops *ops = xtc_tc_ops_of(kind);

	return ops ? ops->name : "none";
}

bool xtc_tc_tcx_available(void)
{
	return xtc_tcx_available();
}

int xtc_tc_attach(enum xtc_tc_kind kind, const struct xtc_tc_hook *h, int prog_fd,
		  __u32 replace_id, bool *created_qdisc)
{
	const struct xtc_tc_ops *ops = xtc_tc_ops_of(kind);

	if (created_qdisc)
		*created_qdisc = false;
	return ops ? ops->attach(h, prog_fd, replace_id, created_qdisc) : -EINVAL;
}

int xtc_tc_detach(enum xtc_tc_kind kind, const struct xtc_tc_hook *h, __u32 expect_id,
		  bool remove_qdisc, bool *left_foreign)
{
	const struct xtc_tc_ops *ops = xtc_tc_ops_of(kind);

	if (left_foreign)
		*left_foreign = false;
	return ops ? ops->detach(h, expect_id, remove_qdisc, left_foreign) : -EINVAL;
}

int xtc_tc_replace(enum xtc_tc_kind kind, const struct xtc_tc_hook *h, int prog_fd,
		   __u32 old_id)
{
	const struct xtc_tc_ops *ops = xtc_tc_ops_of(kind);

	return ops ? ops->replace(h, prog_fd, old_id) : -EINVAL;
}

int xtc_tc_observe(const struct xtc_tc_hook *h, struct xtc_tc_obs *obs)
{
	struct xtc_tc_label l;
	int kind, err;

	memset(obs, 0, sizeof(*obs));
	for (kind = 0; kind < XTC_TC_KIND_COUNT; kind++) {
		if (!kinds[kind])
			continue;
		err = kinds[kind]->query(h, obs);
		if (err) {
			pr_warn("%s: cannot query %s: %s\n", xtc_tc_label(&l, h), kinds[kind]->name,
				strerror(-err));
			return err;
		}
	}
	return 0;
}

int xtc_tc_query(const struct xtc_tc_hook *h, __u32 our_prog_id, struct xtc_tc_info *info)
{
	struct xtc_tc_obs *obs;
	int i, err;

	memset(info, 0, sizeof(*info));
	/* About 1.5 KiB of TCX programs: not for the stack of every caller. */
	obs = calloc(1, sizeof(*obs));
	if (!obs)
		return -ENOMEM;
	err = xtc_tc_observe(h, obs);
	if (err)
		goto out;
	for (i = 0; i < obs->n_tcx; i++) {
		if (our_prog_id && obs->tcx[i].id == our_prog_id && !info->kind) {
			info->kind = XTC_TC_KIND_TCX;
			info->prog_id = our_prog_id;
		} else {
			info->n_others++;
		}
	}
	info->slot = obs->slot;
	info->n_others += obs->n_filters;
	if (!obs->slot.taken || !our_prog_id || obs->slot.prog_id != our_prog_id ||
	    obs->slot.handle != XTC_CLS_HANDLE || strcmp(obs->slot.kind, "bpf")) {
		info->n_others += obs->slot.taken && obs->slot.handle;
		goto out;
	}
	/* Ours reported as TCX: a leftover filter of ours is one more program. */
	if (info->kind) {
		info->n_others++;
		goto out;
	}
	info->kind = XTC_TC_KIND_CLS_BPF;
	info->prog_id = our_prog_id;
	info->prio = obs->slot.prio;
	info->handle = obs->slot.handle;
out:
	free(obs);
	return err;
}
