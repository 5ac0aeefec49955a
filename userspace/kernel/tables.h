/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Writing a compiled rule set into the kernel without a traffic gap: entries
 * are added and changed in place, the new tuple-space list goes into the
 * inactive copy and is made live with one write, and only then are stale
 * entries removed.
 */
#ifndef XTC_TABLES_H
#define XTC_TABLES_H

#include <stdbool.h>
#include "maps.h"
#include "tss.h"
#include "rule_table.h"

struct xtc_table_diff {
	size_t added, changed, removed;
	bool masks_changed;
	bool fallback_changed;
	__u32 fallback_was, fallback_now;	/* XTC_ACT_PASS or XTC_ACT_DROP */
};

/* The tuple-space list the datapath uses now. */
int xtc_tables_live_masks(const struct xtc_maps *m, struct xtc_mask_list *live);

/* Computes (dry_run) or applies the difference between the kernel and t. */
int xtc_tables_sync(const struct xtc_maps *m, const struct xtc_tss *t, __u32 fallback,
		    bool dry_run, struct xtc_table_diff *diff);

/* The rule set the kernel holds now, to put back if an apply fails. */
struct xtc_tables_snapshot {
	struct xtc_tss tss;
	__u32 fallback;
	/* The rule table the plan read, and the one apply tried to write (borrowed). */
	const struct xtc_rule_table *rules_before;
	const struct xtc_rule_table *rules_tried;
	/* Counters of slots that changed hands, as they were (per CPU). */
	__u32 *stats_ids;
	struct xtc_rule_stats *stats;
	size_t n_stats;
	int ncpus;
};

int xtc_tables_snapshot(const struct xtc_maps *m, struct xtc_tables_snapshot *s);
int xtc_tables_restore(const struct xtc_maps *m, const struct xtc_tables_snapshot *s);
void xtc_tables_snapshot_free(struct xtc_tables_snapshot *s);

/* Records now as the time of the last apply (xtc_config.applied_at). */
int xtc_tables_stamp(const struct xtc_maps *m);
/* That time in wall-clock seconds; 0 when never stamped. */
__u64 xtc_tables_applied_at(const struct xtc_maps *m);

static inline bool xtc_table_diff_empty(const struct xtc_table_diff *d)
{
	return !d->added && !d->changed && !d->removed && !d->masks_changed &&
	       !d->fallback_changed;
}

#endif
