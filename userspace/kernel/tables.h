/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The rule tables in three steps, so that an engine can observe, plan
 * purely and then apply:
 *
 *   observe  reads what the diff needs: the live tuple-space list, the
 *            settings, the rule table and the per-rule digests.  Nothing
 *            proportional to the rules hash, unless the digests cannot be
 *            trusted (then xtc_tables_observe_entries() reads it once).
 *   plan     a pure function: the rules whose digests changed are expanded
 *            as the kernel has them and as the file wants them, and only
 *            the entries they touch are written or deleted.
 *   write    carries the plan out without a traffic gap: entries are added
 *            and changed in place, the new tuple-space list goes into the
 *            inactive copy and is made live with one write, and only then
 *            are stale entries removed.  A failed write is undone from the
 *            observation and the plan alone (xtc_tables_restore).
 */
#ifndef XTC_TABLES_H
#define XTC_TABLES_H

#include <stdbool.h>
#include "entry_table.h"
#include "maps.h"
#include "model.h"
#include "tss.h"
#include "rule_table.h"

/* What the plan text says about the classifier. */
struct xtc_table_diff {
	size_t added, changed, removed;
	bool masks_changed;
	bool fallback_changed;
	__u32 fallback_was, fallback_now;	/* XTC_ACT_PASS or XTC_ACT_DROP */
	/*
	 * A run was killed while it wrote the tables (digests left dirty): even
	 * with the entries as the file wants them, the digests are written clean
	 * and verdicts the datapath cached before that run are retired.
	 */
	bool cut_short;
};

/* What the kernel holds, as far as the rule tables go. */
struct xtc_tables_obs {
	bool exists;			/* false: nothing is loaded, every entry is new */
	struct xtc_config cfg;		/* the live mask copy, the redirect fallback */
	struct xtc_mask_list live;	/* the tuple-space list the datapath uses now */
	struct xtc_rule_table rules;	/* by rule id: xtc_rule_info and xtc_rule_sets */
	/* [0] the header, [id + 1] rule id; NULL when the state has no digest map. */
	struct xtc_rule_digest *digests;
	__u32 n_digests;
	/* Every entry of the rules hash, after xtc_tables_observe_entries() only. */
	struct entry_table entries;
	bool have_entries;
};

/* Reads o from the kernel; o->exists is set. */
int xtc_tables_observe(const struct xtc_maps *m, struct xtc_tables_obs *o);
/* Whether the digests describe the hash: present, ours, and not left dirty by a killed run. */
bool xtc_tables_digests_trusted(const struct xtc_tables_obs *o);
/* Rule ids from *bound on are unused (~0U when the digests cannot say). */
int xtc_tables_rule_bound(const struct xtc_maps *m, __u32 *bound);
/* Adds every entry of the rules hash to o: for a plan that said -ESTALE. */
int xtc_tables_observe_entries(const struct xtc_maps *m, struct xtc_tables_obs *o);
void xtc_tables_obs_free(struct xtc_tables_obs *o);

/* Exactly what xtc_tables_write() changes, with the old values it replaces. */
struct xtc_tables_plan {
	struct xtc_table_diff diff;	/* the counts, for people */
	size_t info_changes;		/* rule ids whose record changes */
	size_t n_entries;		/* the rules hash after the write */
	/* Entries to insert (add) or overwrite (chg, whose old values are chg_old). */
	const struct xtc_tss_entry *add;
	size_t n_add;
	struct xtc_tss_entry *chg;
	struct xtc_rule_val *chg_old;
	size_t n_chg;
	/* Entries to delete once the new list is live, with their old values. */
	struct xtc_tss_entry *del;
	size_t n_del;
	struct xtc_mask_list *next;	/* the list to make live (diff.masks_changed) */
	__u32 fallback;
	bool write_cfg;			/* xtc_config needs writing (a new list or fallback) */
	/* Digest records to write: ids and records (all slots when every_digest). */
	__u32 *dig_ids;
	const struct xtc_rule_digest *dig;	/* own_dig, or the compiled ones (borrowed) */
	size_t n_dig;
	bool every_digest;
	const struct xtc_rule_table *want;	/* borrowed */
	/* Owned storage behind the pointers above. */
	struct xtc_tss_entry *own_add;
	struct xtc_rule_digest *own_dig;
	struct entry_table built;
};

/*
 * The plan from o to the model's rules (with their ids) and fallback: t
 * from xtc_tss_compile() or xtc_tss_build() on m->rules, want from
 * xtc_rule_table_want().  No system calls; o, m, t and want are only read.
 * -ESTALE: o cannot say what the kernel holds (digests missing or dirty,
 * or a rule that cannot be expanded as the kernel has it, such as one
 * whose [set] the file no longer has): observe the entries and plan again.
 */
int xtc_tables_plan(const struct xtc_tables_obs *o, const struct xtc_model *m,
		    const struct xtc_tss *t, const struct xtc_rule_table *want,
		    struct xtc_tables_plan *p);
void xtc_tables_plan_free(struct xtc_tables_plan *p);

/* The tuple-space list the datapath uses now. */
int xtc_tables_live_masks(const struct xtc_maps *m, struct xtc_mask_list *live);

/* What a failed write must put back: the observation and plan (borrowed), old counters. */
struct xtc_tables_snapshot {
	const struct xtc_tables_obs *obs;
	const struct xtc_tables_plan *plan;
	/* Counters of slots that changed hands, as they were (per CPU). */
	__u32 *stats_ids;
	struct xtc_rule_stats *stats;
	size_t n_stats;
	int ncpus;
};

/*
 * Makes the kernel hold the plan: rule records, entries, tuple-space list,
 * settings, digests.  s, when not NULL, collects what a restore needs
 * beyond o and p (set s->obs and s->plan before).
 */
int xtc_tables_write(const struct xtc_maps *m, const struct xtc_tables_plan *p,
		     const struct xtc_tables_obs *o, struct xtc_tables_snapshot *s);
/* Puts back what a write (complete or not) changed. */
int xtc_tables_restore(const struct xtc_maps *m, const struct xtc_tables_snapshot *s);
void xtc_tables_snapshot_free(struct xtc_tables_snapshot *s);

/* Records now as the time of the last apply (xtc_config.applied_at). */
int xtc_tables_stamp(const struct xtc_maps *m);
/* That time in wall-clock seconds; 0 when never stamped. */
__u64 xtc_tables_applied_at(const struct xtc_maps *m);

static inline bool xtc_table_diff_empty(const struct xtc_table_diff *d)
{
	return !d->added && !d->changed && !d->removed && !d->masks_changed &&
	       !d->fallback_changed && !d->cut_short;
}

#endif
