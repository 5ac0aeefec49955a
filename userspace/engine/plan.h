/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What apply has to change: the kernel as it is (pins checked against what
 * is really attached) against the validated config.  Computing a plan
 * touches nothing, which is what --dry-run and "no changes" rely on.
 */
#ifndef XTC_PLAN_H
#define XTC_PLAN_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "ipmap.h"
#include "model.h"
#include "plan_changes.h"
#include "rule_table.h"
#include "state.h"
#include "tables.h"
#include "tc_attach.h"
#include "tss.h"

struct xtc_iface_plan {
	char name[IF_NAMESIZE];
	__u32 ifindex;
	bool had;			/* xtc managed it before this apply */
	bool keep;			/* the config still lists it */
	bool gone;			/* the interface no longer exists */
	struct xtc_iface_cfg cur;	/* verified against the kernel */
	struct xtc_iface_cfg want;
	bool xdp_off, xdp_on;
	bool tc_off[2], tc_on[2];	/* [0] ingress, [1] egress */
};

struct xtc_plan {
	bool create;			/* no state yet: load programs, create pins */
	enum xtc_tc_kind tc_kind;
	struct xtc_iface_plan *ifs;
	int n_ifs;
	struct xtc_tss tss;
	struct xtc_tables_obs obs;	/* the rule tables as the kernel has them */
	struct xtc_tables_plan tplan;	/* what writing them changes */
	struct xtc_table_diff tables;
	size_t info_changes;
	struct xtc_ipmap_entry *ip;
	size_t n_ip;
	size_t ip_changes;
	__u32 max_entries;		/* rules hash capacity needed */
	struct xtc_rule_table want;	/* the rules as the file describes them (obs.rules: the kernel) */
	struct xtc_changes changes;	/* what the plan changes, for people */
};

/* Also gives every rule its counter slot: the slot it already has, by name. */
int xtc_plan_build(struct xtc_model *m, const struct xtc_state *st, struct xtc_plan *p);
bool xtc_plan_empty(const struct xtc_plan *p);
/* The plan in text, one line per change (rule lines after the first 50 summarised). */
void xtc_plan_print(const struct xtc_plan *p, bool dry_run);
void xtc_plan_free(struct xtc_plan *p);

static inline bool xtc_iface_plan_empty(const struct xtc_iface_plan *ip)
{
	return !ip->xdp_off && !ip->xdp_on && !ip->tc_off[0] && !ip->tc_on[0] && !ip->tc_off[1] &&
	       !ip->tc_on[1] && ip->had == ip->keep &&
	       !memcmp(&ip->cur, &ip->want, sizeof(ip->cur));
}

/* The id of the program behind fd, 0 if none. */
__u32 xtc_prog_id(int fd);

#endif
