/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * observe: the kernel as it is, read once into one struct that the plan
 * (a pure function) compares with the file.  It trusts no record alone:
 * it finds our programs on every interface of the host by name and mark
 * (kernel/owner.h), pins or not, and notes every kind of damage it sees:
 * missing pins, unrecorded or stale programs, a foreign filter in our
 * cls_bpf slot, a state directory that is not ours alone.
 */
#ifndef XTC_OBSERVE_H
#define XTC_OBSERVE_H

#include <stdbool.h>
#include <net/if.h>
#include "ipmap.h"
#include "owner.h"
#include "rule_table.h"
#include "state.h"
#include "tables.h"
#include "tc_attach.h"
#include "xdp_attach.h"

struct xtc_obs_xdp {
	int n_ours;			/* our programs attached: normally 0 or 1 */
	__u32 ids[XTC_XDP_MAX_PROGS];
	bool stale[XTC_XDP_MAX_PROGS];	/* ours, but on another generation's maps */
	bool no_handoff[XTC_XDP_MAX_PROGS];	/* the build without the TC handoff */
	__u32 prio[XTC_XDP_MAX_PROGS];	/* run priority; 0 when single (none kept) */
	/* The counter slot it was loaded with; SLOT_UNKNOWN when it does not say. */
	__u32 slot[XTC_XDP_MAX_PROGS];
#define XTC_OBS_SLOT_UNKNOWN 0xffffffffU
	bool dispatcher;		/* under libxdp's dispatcher */
	int n_progs;			/* every program on the interface, ours or not */
	enum xtc_xdp_mode mode;
	__u32 foreign_id;		/* a program not ours holds XDP alone */
	char foreign_name[16];
};

struct xtc_obs_tc {
	enum xtc_tc_kind kind;		/* how ours is attached; NONE */
	__u32 prog_id;
	bool stale;			/* ours, on another generation's maps */
	__u32 prio, handle;		/* cls_bpf: the slot looked at */
	bool foreign;			/* our cls_bpf slot is held by something not ours */
	__u32 foreign_id;		/* its program, 0 when not a bpf filter */
	char foreign_name[128];		/* what holds it, for messages */
	char foreign_del[128];		/* and the tc command that would remove it */
	bool clsact;			/* a clsact qdisc is there */
	int n_others;
};

struct xtc_obs_iface {
	__u32 ifindex;
	char name[IF_NAMESIZE];		/* as recorded, else as the host names it */
	bool recorded;			/* has an xtc_ifaces entry */
	struct xtc_iface_cfg rec;
	bool present;			/* the interface exists under that name */
	struct xtc_obs_xdp xdp;
	struct xtc_obs_tc tc[2];	/* [0] ingress, [1] egress */
};

struct xtc_observed {
	const struct xtc_state *st;	/* the pins (borrowed) */
	__u64 state_id;
	bool tcx;			/* the kernel has TCX */
	__u32 gen;			/* id of our xtc_config map: the live generation */
	__u32 tc_prog_ids[2];		/* the pinned TC programs, 0 if none */
	/* A missing pin, and the id of a live program of ours that still holds it. */
	__u32 missing;			/* bit per XTC_MAP_* / XTC_PIN_* */
	__u32 recover_from[XTC_PIN_COUNT];
	bool incompatible;		/* pinned maps of another layout: move to ours */
	struct xtc_rule_table old_rules;	/* then the rule names they hold, by id */
	bool marked;			/* the pinned xtc_config carries our mark */
	bool build_stale;		/* our programs run another xtc's BPF code: upgrade */
	struct xtc_obs_iface *ifs;
	int n_ifs;
	size_t iface_idx_stale;		/* xtc_iface_idx elements the records disagree with */
	/* The rules side: rule records, digests, live masks (tables.exists: read). */
	struct xtc_tables_obs tables;
	struct xtc_ipmap_entry *host_ip;	/* addresses and connected routes */
	size_t n_host_ip;
};

/*
 * Reads everything.  rules: also the rule table and host routes (apply
 * needs them; unload and status do not).
 */
int xtc_observe(const struct xtc_state *st, bool rules, struct xtc_observed *ob);
/*
 * The state directory and the rule tables alone, for a pass that writes
 * only the rules (a daemon's patched reload): -EAGAIN when the state needs
 * more than that (a pin missing, maps of another layout or build), which
 * only the full observe sees.
 */
int xtc_observe_tables(const struct xtc_state *st, struct xtc_observed *ob);
/* Also every entry of the rules hash: when the digests cannot tell (-ESTALE). */
int xtc_observe_entries(struct xtc_observed *ob);
void xtc_observed_free(struct xtc_observed *ob);

const struct xtc_obs_iface *xtc_observed_iface(const struct xtc_observed *ob, __u32 ifindex);

/* Whether anything of ours is attached to the interface. */
bool xtc_obs_iface_has_ours(const struct xtc_obs_iface *oi);

#endif
