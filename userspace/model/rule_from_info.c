// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A rule back from its xtc_rule_info record, so that a re-apply can expand
 * a rule that the kernel holds but the file no longer says, and find the
 * entries to delete without reading the rules hash.  The record keeps
 * everything the compiler reads; the rule digest checks the result.
 */
#include <errno.h>
#include <string.h>
#include "rule_info.h"

/* The set a field takes from, when the record says it does: sets[i] or a refusal. */
static int set_for(const struct xtc_rule_match *m, __u32 field, const struct xtc_set *const *sets,
		   enum xtc_rm_set i, const struct xtc_set **out)
{
	if (!(m->fields & (field << XTC_RM_SET_SHIFT)))
		return 0;
	/* A [set]'s elements are not in the record: the caller must have found them. */
	if (!sets || !sets[i])
		return -EOPNOTSUPP;
	*out = sets[i];
	return 0;
}

int xtc_rule_from_info(const struct xtc_rule_info *ri, const struct xtc_set *const *sets,
		       struct xtc_rule *r)
{
	const struct xtc_rule_match *m = &ri->match;
	int err;

	memset(r, 0, sizeof(*r));
	if (!(ri->flags & XTC_RI_USED))
		return -ENOENT;
	err = set_for(m, XTC_RM_SRC, sets, XTC_RM_SET_SRC, &r->src_set);
	if (!err)
		err = set_for(m, XTC_RM_DST, sets, XTC_RM_SET_DST, &r->dst_set);
	if (!err)
		err = set_for(m, XTC_RM_SPORT, sets, XTC_RM_SET_SPORT, &r->sport_set);
	if (!err)
		err = set_for(m, XTC_RM_DPORT, sets, XTC_RM_SET_DPORT, &r->dport_set);
	if (err)
		return err;
	/* The record outlives the rule (the callers' observed tables); one not ended is no name. */
	r->name = memchr(ri->name, '\0', sizeof(ri->name)) ? ri->name : "";
	r->ifname = r->target = "";	/* the record has the ifindexes */
	r->prio = ri->prio;
	r->ifindex = ri->ifindex;
	r->dir = ri->dir;
	r->family = m->family;
	r->action = ri->action;
	r->mode = ri->mode;
	r->target_ifindex = ri->target_ifindex;
	r->target_auto = ri->target_ifindex == XTC_TARGET_AUTO;
	r->generated = ri->flags & XTC_RI_GENERATED;
	if (m->fields & XTC_RM_SRC) {
		r->has_src = true;
		r->src.family = m->family;
		r->src.plen = m->src_plen;
		memcpy(r->src.addr, m->src, sizeof(r->src.addr));
	}
	if (m->fields & XTC_RM_DST) {
		r->has_dst = true;
		r->dst.family = m->family;
		r->dst.plen = m->dst_plen;
		memcpy(r->dst.addr, m->dst, sizeof(r->dst.addr));
	}
	if (m->fields & XTC_RM_PROTO) {
		r->has_proto = true;
		r->proto = m->proto;
	}
	if (m->fields & XTC_RM_SPORT) {
		r->has_sport = true;
		r->sport = (struct xtc_port_range){ m->sport_lo, m->sport_hi };
	}
	if (m->fields & XTC_RM_DPORT) {
		r->has_dport = true;
		r->dport = (struct xtc_port_range){ m->dport_lo, m->dport_hi };
	}
	return 0;
}
