/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The plan as an operator reads it: one record per change, named after what
 * it changes ("+ rule web", "~ rule x: dst_port 80 -> 8080", "~ xdp eth0:
 * mode native -> skb" marked as interrupting traffic).  Text and --json print
 * the same records.
 */
#ifndef XTC_PLAN_CHANGES_H
#define XTC_PLAN_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include "arena.h"
#include "output.h"
#include "rule_table.h"
#include "xtc_shared.h"

enum xtc_change_obj {
	XTC_CH_STATE,
	XTC_CH_INTERFACE,
	XTC_CH_XDP,
	XTC_CH_TC_INGRESS,
	XTC_CH_TC_EGRESS,
	XTC_CH_RULE,
	XTC_CH_CLASSIFIER,		/* the hash entries behind the rules */
	XTC_CH_IPMAP,
	XTC_CH_SETTING,			/* a [global] setting the datapath reads */
};

struct xtc_change {
	char op;			/* '+' added, '-' removed, '~' changed */
	enum xtc_change_obj obj;
	char *name;			/* the interface, rule, setting or state directory */
	char *detail;			/* NULL or what changes, e.g. "dst_port 80 -> 8080" */
	bool disruptive;		/* traffic on the interface is interrupted meanwhile */
};

struct xtc_changes {
	struct xtc_change *c;
	size_t n, cap;
	struct xtc_arena names;		/* every record's name */
	/*
	 * A first apply's "+ rule" records (a million at 1M rules) are not
	 * kept: every used slot of all_added, in id order, is one, printed
	 * before record all_added_at.
	 */
	const struct xtc_rule_table *all_added;
	size_t all_added_at;
};

/* Appends a record; detail is printf-style, fmt NULL for none.  0 or -ENOMEM. */
int xtc_changes_add(struct xtc_changes *cs, char op, enum xtc_change_obj obj, const char *name,
		    bool disruptive, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void xtc_changes_free(struct xtc_changes *cs);

/*
 * The rule records: rules in want but not in have are added, the reverse
 * removed, and rules in both are compared field by field, set by set, and by
 * their order relative to each other.
 */
int xtc_changes_rules(struct xtc_changes *cs, const struct xtc_rule_table *have,
		      const struct xtc_rule_table *want);

/* Text: one line per record, rule records beyond max_rules summarised. */
void xtc_changes_print_text(const struct xtc_changes *cs, size_t max_rules);
/* A "changes" list of objects for JSON. */
void xtc_changes_print(struct xtc_out *o, const struct xtc_changes *cs);

#endif
