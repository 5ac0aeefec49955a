/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The rules as the kernel describes them, by rule id: the xtc_rule_info
 * array and, for rules that use [set]s, the xtc_rule_sets hash.  The plan
 * reads it once and compares it with what the file wants; apply writes the
 * difference, and a failed apply writes the old table back.
 */
#ifndef XTC_RULE_TABLE_H
#define XTC_RULE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include "maps.h"
#include "model.h"
#include "xtc_shared.h"

struct xtc_rule_table {
	struct xtc_rule_info *info;	/* n slots; unused ones lack XTC_RI_USED; NULL: rules */
	struct xtc_rule_sets **sets;	/* n slots; NULL for rules without sets (most) */
	__u32 n;
	__u32 cap;			/* slots of the kernel's array; those from n on are unused */
	/*
	 * Or, from xtc_rule_table_of_rules(), no copy: each slot is made from
	 * the rule that has its id when it is read.  A first apply writes each
	 * record once; at 1M rules the copy would be 128 MiB.
	 */
	const struct xtc_rule *rules;
	int *by_id;			/* n slots: the index in rules, or -1 */
	/*
	 * Or, from xtc_rule_table_over(), base's slots but for those that
	 * differ, which info and sets hold (n_own of them).  A re-apply keeps
	 * most records: comparing once makes every later compare a lookup, and
	 * saves copying them all (13 MiB at 100k rules).
	 */
	const struct xtc_rule_table *base;
	int *own;			/* n slots: the index in info, or -1: base's slot */
	__u32 n_own;
};

/* Room for one slot made from a rule, as it is read. */
struct xtc_rule_slot {
	struct xtc_rule_info info;
	struct xtc_rule_sets sets;
};

/* What the kernel holds now. */
int xtc_rule_table_read(const struct xtc_maps *m, struct xtc_rule_table *t);
/* The same, when the slots from upto on are known to be unused (their digests say so). */
int xtc_rule_table_read_upto(const struct xtc_maps *m, __u32 upto, struct xtc_rule_table *t);
/*
 * Only the names (and XTC_RI_USED) from a rule info array of any layout,
 * this xtc's or an older one's: every layout starts with the name.
 */
int xtc_rule_names_read(int fd, struct xtc_rule_table *t);
/* What the file wants, with n slots at least (more if a rule id needs them). */
int xtc_rule_table_want(const struct xtc_rule *rules, int n_rules, __u32 n,
			struct xtc_rule_table *t);
/* The same without a copy (see above): rules must outlive t and keep their ids. */
int xtc_rule_table_of_rules(const struct xtc_rule *rules, int n_rules, struct xtc_rule_table *t);
/* The same as base and the slots that differ from it: base (a read table) must outlive t. */
int xtc_rule_table_over(const struct xtc_rule_table *base, const struct xtc_rule *rules,
			int n_rules, struct xtc_rule_table *t);
/* Whether t's slots stay where xtc_rule_table_slot() says (all but a table made from rules). */
bool xtc_rule_table_stable(const struct xtc_rule_table *t);
/* Slot id of t (NULL: all empty) and its sets; tmp holds them when t makes them. */
void xtc_rule_table_slot(const struct xtc_rule_table *t, __u32 id, struct xtc_rule_slot *tmp,
			 const struct xtc_rule_info **info, const struct xtc_rule_sets **sets);
bool xtc_rule_table_used(const struct xtc_rule_table *t, __u32 id);
/* Slot id of a stable table, where it stays, and its sets (NULL: none). */
const struct xtc_rule_info *xtc_rule_table_at(const struct xtc_rule_table *t, __u32 id,
					      const struct xtc_rule_sets **sets);
void xtc_rule_table_free(struct xtc_rule_table *t);

/* Whether slot id of a and b describe the same rule the same way. */
bool xtc_rule_table_same(const struct xtc_rule_table *a, const struct xtc_rule_table *b,
			 __u32 id);

/* How many slots differ between have (NULL: all empty) and want; no system calls. */
size_t xtc_rule_table_changes(const struct xtc_rule_table *have,
			      const struct xtc_rule_table *want);

struct xtc_tables_snapshot;

/*
 * Makes the kernel hold want, where it now holds have (NULL: maps just made,
 * all empty); *changes counts the slots that differ.  A slot that changes
 * hands has its counters zeroed; save, when given, keeps the old counters
 * so that a failed apply can put them back.
 */
int xtc_rule_table_write(const struct xtc_maps *m, const struct xtc_rule_table *have,
			 const struct xtc_rule_table *want, bool dry_run, size_t *changes,
			 struct xtc_tables_snapshot *save);

/* Only the info array, for the commands that need names and verdicts: *n slots, up to
 * the last used one when the digests say where that is. */
int xtc_read_rule_info(const struct xtc_maps *m, struct xtc_rule_info **info, __u32 *n);

#endif
