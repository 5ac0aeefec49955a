/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * plan: what apply has to change, from the desired state (the file, or
 * what unload keeps) and the observed one.  Planning is pure: no syscalls,
 * no writes to its inputs, so the same observation always gives the same
 * plan and tests drive it without root on made-up observations.
 *
 * The rules side is still compared against the kernel in
 * xtc_plan_diff_tables() (an observe step) between compile and plan.
 */
#ifndef XTC_PLAN_H
#define XTC_PLAN_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "ipmap.h"
#include "model.h"
#include "observe.h"
#include "plan_changes.h"
#include "rule_table.h"
#include "tables.h"
#include "tc_attach.h"
#include "tss.h"

struct xtc_iface_plan {
	char name[IF_NAMESIZE];
	__u32 ifindex;
	bool had;			/* recorded before this apply */
	bool keep;			/* wanted after it */
	bool gone;			/* the interface no longer exists */
	struct xtc_iface_cfg cur;	/* as the kernel really holds it */
	struct xtc_iface_cfg want;
	bool write_entry;		/* the record is not want yet */
	bool zero_slot;			/* want's counter slot is new to it: zeroed first */
	bool xdp_on;			/* attach a new instance of our XDP program */
	bool xdp_first;			/* before detaching the old: the dispatcher swaps hitlessly */
	__u32 xdp_replace;		/* single program: swapped for this one in one step */
	int n_xdp_off;
	__u32 xdp_off[XTC_XDP_MAX_PROGS];	/* our XDP programs to detach */
	bool tc_off[2], tc_on[2];	/* [0] ingress, [1] egress */
	bool tc_swap[2];		/* tc_on takes tc_off's place in one step, no gap */
	__u32 tc_off_id[2];
	__u8 tc_off_kind[2];
	__u32 tc_off_prio[2];
	bool tc_off_qdisc[2];		/* and delete clsact if it empties */
};

/* How the state in bpffs gets complete: pins to take back, maps to make. */
struct xtc_state_plan {
	__u32 repin;			/* bit per pin: recovered from a live program */
	__u32 recover_from[XTC_PIN_COUNT];
	__u32 create;			/* bit per pin: made anew */
	bool fresh;			/* nothing to keep: every map is new and empty */
	bool stamp;			/* mark the maps as ours */
	bool reload_progs;		/* load this xtc's TC programs on the same maps */
	__u32 migrate;			/* bit per map: of another layout, made anew in ours */
};

struct xtc_plan {
	struct xtc_state_plan state;
	enum xtc_tc_kind tc_kind;
	struct xtc_iface_plan *ifs;
	int n_ifs;
	bool rules;			/* the rules side is planned (apply; not unload) */
	bool state_as_is;		/* leave the pins alone (unload): no repair */
	size_t iface_idx_fix;		/* xtc_iface_idx elements to write again */
	bool ip_as_is;			/* leave the IP map alone (a rules-only pass) */
	struct xtc_tss tss;
	struct xtc_tables_plan tplan;	/* exactly what writing the rule tables changes */
	struct xtc_table_diff tables;
	size_t info_changes;
	struct xtc_ipmap_entry *ip;
	size_t n_ip;
	size_t ip_changes;
	__u32 max_entries;		/* rules hash capacity needed */
	struct xtc_rule_table want;	/* the rule table as the file wants it */
	__u32 *carry_ids;		/* rules whose counters move to maps of a new layout */
	size_t n_carry_ids;
	struct xtc_changes changes;	/* what the plan changes, for people */
	char refusal[1024];		/* why the plan cannot be carried out, or "" */
};

/* What an interface should have after apply (from the file or unload). */
struct xtc_iface_want {
	char name[IF_NAMESIZE];
	__u32 ifindex;
	bool xdp;
	bool xdp_auto;			/* xdp = auto chose xdp */
	enum xtc_xdp_mode xdp_mode;
	__u32 xdp_prio;
	bool tc[2];
	enum xtc_tc_kind tc_kind;	/* NONE: as the file's tc_attach says */
	__u32 tc_prio;			/* cls_bpf: our filter's prio */
};

/*
 * Compiles the file's rules against what observe saw: rule ids by name
 * (counters follow names), classifier entries, the IP map.  Pure.  carry
 * (or NULL): the last compile of these rules, and which changed since.
 */
int xtc_plan_compile(struct xtc_model *m, const struct xtc_observed *ob,
		     const struct xtc_tss_carry *carry, struct xtc_plan *p);

/* The rules hash capacity for the file and its compiled entries: room for twice them. */
__u32 xtc_plan_max_entries(const struct xtc_model *m, size_t n_entries);

/*
 * Compares the compiled rules with what observe read: pure.  -ESTALE when
 * the digests cannot tell; observe the entries (xtc_observe_entries) and
 * ask again.
 */
int xtc_plan_diff_tables(const struct xtc_model *m, const struct xtc_observed *ob,
			 struct xtc_plan *p);

/*
 * The interfaces and the state: pure.  want lists every interface to keep;
 * tc_attach is the file's choice.  -EBUSY, with p->refusal said, when the
 * kernel holds what we must not touch (a foreign program in our slot).
 */
int xtc_plan_build(const struct xtc_iface_want *want, int n_want, enum xtc_tc_attach tc_attach,
		   const struct xtc_observed *ob, struct xtc_plan *p);
/* What the rules side of the plan changes, for people (xtc_plan_build() does it too). */
int xtc_plan_rule_changes(const struct xtc_observed *ob, struct xtc_plan *p);

/* The wanted interfaces of a model. */
int xtc_plan_wants_from_model(const struct xtc_model *m, struct xtc_iface_want **out);

bool xtc_plan_empty(const struct xtc_plan *p);
/* The plan in text, one line per change (rule lines after the first 50 summarised). */
void xtc_plan_print(const struct xtc_plan *p, bool dry_run);
void xtc_plan_free(struct xtc_plan *p);

static inline bool xtc_iface_plan_empty(const struct xtc_iface_plan *ip)
{
	return !ip->xdp_on && !ip->n_xdp_off && !ip->tc_off[0] && !ip->tc_on[0] &&
	       !ip->tc_off[1] && !ip->tc_on[1] && !ip->write_entry && ip->had == ip->keep;
}

static inline bool xtc_state_plan_empty(const struct xtc_state_plan *s)
{
	return !s->repin && !s->create && !s->stamp && !s->reload_progs;
}

#endif
