/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Our TC programs on an interface, behind one ops table per attach kind:
 * a TCX link (kernel >= 6.6, tcx.c), or clsact with one cls_bpf filter in
 * our slot, a prio of the operator's choice and our handle (cls_bpf.c).
 * Neither ever replaces or deletes a program or filter that is not ours,
 * nor removes a clsact qdisc that still holds a filter.
 */
#ifndef XTC_TC_ATTACH_H
#define XTC_TC_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

enum xtc_tc_kind {
	XTC_TC_KIND_NONE = 0,
	XTC_TC_KIND_TCX = 1,
	XTC_TC_KIND_CLS_BPF = 2,
	XTC_TC_KIND_COUNT,
};

#define XTC_CLS_PRIO 0x7874		/* our cls_bpf filter's default priority (tc_prio) */
#define XTC_CLS_HANDLE 0x7874		/* and its handle, whatever the priority */
#define XTC_TC_NAME_LEN 16		/* BPF_OBJ_NAME_LEN */
#define XTC_TC_KIND_LEN 16		/* IFNAMSIZ, which the kernel uses for TCA_KIND */
#define XTC_TCX_MAX_PROGS 64		/* a bpf mprog hook holds at most 64 programs */

/* One hook of one interface, and where ours goes there. */
struct xtc_tc_hook {
	__u32 ifindex;
	bool egress;
	const char *link_pin;		/* TCX: the pin of our link */
	__u32 prio;			/* cls_bpf: our slot's prio, 0 for XTC_CLS_PRIO */
	bool no_ffff;			/* query: known to have no ffff: qdisc, so no filter */
};

/* A program on a TCX hook. */
struct xtc_tc_prog {
	__u32 id;
	__u32 link_id;			/* the link that holds it, 0 when attached without one */
	char name[XTC_TC_NAME_LEN];	/* "" when it cannot be read */
};

/* Whatever sits in our cls_bpf slot: chain 0, our prio, our handle. */
struct xtc_cls_slot {
	bool taken;
	char kind[XTC_TC_KIND_LEN];	/* the classifier: "bpf", "u32", "matchall", ... */
	__u32 prio;			/* the slot's */
	__u32 handle;			/* the holder's: 0 when another classifier holds the prio */
	__u32 prog_id;			/* bpf only: the program the filter runs */
	char prog_name[XTC_TC_NAME_LEN];
};

/*
 * One hook as the kernel has it.  Each kind's query fills its own part and
 * leaves the rest alone; xtc_tc_observe() runs them all.
 */
struct xtc_tc_obs {
	/* TCX */
	int n_tcx;			/* programs, in run order */
	struct xtc_tc_prog tcx[XTC_TCX_MAX_PROGS];
	__u64 tcx_revision;		/* changes with every attach and detach at the hook */
	__u32 link_id, link_prog_id;	/* the link pinned at link_pin, when it is at this hook */
	/* cls_bpf */
	bool clsact;			/* a clsact qdisc holds the hook */
	struct xtc_cls_slot slot;
	int n_filters;			/* filters on the hook other than the slot's */
};

/*
 * The operations of one attach kind; every one returns 0 or -errno and
 * logs why it failed, naming the interface and hook.
 *
 * attach: puts prog_fd on the hook.  Attaching what is already there is a
 *   no-op.  replace_id is the program the caller knows to be its own in our
 *   place, 0 when there should be none; holding it, the place is switched to
 *   prog_fd without a moment with no program.
 *   - cls_bpf: creates clsact when absent (*created_qdisc).  A slot that
 *     holds anything but replace_id or prog_fd is refused with -EBUSY and a
 *     message naming the holder and how to make room.
 *   - TCX: the link pinned at link_pin is ours whatever it runs (xtc made
 *     and pinned it), so replace_id 0 retargets it from any program; non-zero
 *     makes the swap conditional on it (-EBUSY otherwise).
 * detach: removes ours.  expect_id is the program the caller knows to be
 *   its own, 0 when it does not know.
 *   - cls_bpf: deletes the slot's filter only when it runs expect_id.
 *     Anything else there is left alone with a warning and *left_foreign
 *     set, and the result is still 0: ours is not on the hook, which is
 *     what detaching asks for.  With remove_qdisc, also deletes clsact when
 *     neither of its hooks holds a filter any more.
 *   - TCX: detaches the pinned link and unlinks the pin, whatever it runs.
 * query: fills the kind's part of obs.
 * replace: the in-place upgrade, strictly: swaps old_id for prog_fd in our
 *   place without a gap, -EBUSY when our place holds something else and
 *   -ENOENT when it is empty.  Swapping to what is there already is a no-op;
 *   old_id 0 is -EINVAL for TCX and, for cls_bpf, matches nothing (-EBUSY).
 *   - cls_bpf: NLM_F_REPLACE at the same prio and handle.
 *   - TCX: bpf_link_update() with BPF_F_REPLACE, so the kernel checks old_id.
 */
struct xtc_tc_ops {
	const char *name;		/* as in tc_attach = NAME */
	int (*attach)(const struct xtc_tc_hook *h, int prog_fd, __u32 replace_id,
		      bool *created_qdisc);
	int (*detach)(const struct xtc_tc_hook *h, __u32 expect_id, bool remove_qdisc,
		      bool *left_foreign);
	int (*query)(const struct xtc_tc_hook *h, struct xtc_tc_obs *obs);
	int (*replace)(const struct xtc_tc_hook *h, int prog_fd, __u32 old_id);
};

/* The ops of kind; NULL for XTC_TC_KIND_NONE and unknown kinds. */
const struct xtc_tc_ops *xtc_tc_ops_of(enum xtc_tc_kind kind);
/* "tcx", "cls_bpf", "none". */
const char *xtc_tc_kind_name(enum xtc_tc_kind kind);

/* Whether the kernel has TCX (BPF_TCX_INGRESS = 46, BPF_TCX_EGRESS = 47). */
bool xtc_tc_tcx_available(void);

/* The ops of kind, called through; -EINVAL for a kind without ops. */
int xtc_tc_attach(enum xtc_tc_kind kind, const struct xtc_tc_hook *h, int prog_fd,
		  __u32 replace_id, bool *created_qdisc);
int xtc_tc_detach(enum xtc_tc_kind kind, const struct xtc_tc_hook *h, __u32 expect_id,
		  bool remove_qdisc, bool *left_foreign);
int xtc_tc_replace(enum xtc_tc_kind kind, const struct xtc_tc_hook *h, int prog_fd,
		   __u32 old_id);

/* Every kind's query: the whole hook. */
int xtc_tc_observe(const struct xtc_tc_hook *h, struct xtc_tc_obs *obs);

/* The hook in brief, ours recognised by our_prog_id (status and plan). */
struct xtc_tc_info {
	enum xtc_tc_kind kind;		/* how ours is attached, NONE if it is not */
	__u32 prog_id;			/* ours, when attached */
	__u32 prio, handle;		/* cls_bpf only */
	int n_others;			/* other programs/filters on this hook */
	struct xtc_cls_slot slot;	/* our cls_bpf slot, whoever holds it */
};

int xtc_tc_query(const struct xtc_tc_hook *h, __u32 our_prog_id, struct xtc_tc_info *info);

/* "a bpf filter running program 'NAME' (id N)", "a u32 filter (handle 0x...)": for messages. */
void xtc_cls_slot_describe(const struct xtc_cls_slot *slot, char *buf, size_t len);
/* The tc command that removes whatever holds the slot: the fix a message names. */
void xtc_cls_slot_del_command(const struct xtc_tc_hook *h, const struct xtc_cls_slot *slot,
			      char *buf, size_t len);

#endif
