/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A rule as the kernel's xtc_rule_info map holds it, and the words that show
 * it: `xtc rules`, the stats and the plan's "~ rule x: dst_port 80 -> 8080"
 * all describe rules through this one table of fields.
 */
#ifndef XTC_RULE_INFO_H
#define XTC_RULE_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include "model.h"
#include "xtc_shared.h"

/* What the loader writes for r: used, names, matches, verdict, and its sets (sets may
 * be NULL for a rule without any). */
void xtc_rule_info_from_rule(const struct xtc_rule *r, struct xtc_rule_info *out,
			     struct xtc_rule_sets *sets);
bool xtc_rule_has_sets(const struct xtc_rule *r);
/*
 * The inverse, as far as the compiler is concerned (rule_from_info.c).
 * The record names a rule's [set]s but does not hold their elements:
 * sets[XTC_RM_SET_*] (sets may be NULL) must be the ones it names.
 * -ENOENT for an unused slot, -EOPNOTSUPP for a set not given.  r->id
 * is left 0; r->name points into ri, which must outlive r.
 */
int xtc_rule_from_info(const struct xtc_rule_info *ri, const struct xtc_set *const *sets,
		       struct xtc_rule *r);
/* The digest of a set's elements, whatever their order (xtc_rule_sets.digest). */
__u64 xtc_set_digest(const struct xtc_set *set);

struct xtc_rule_field {
	const char *key;		/* the config key it shows, e.g. "dst_port" */
	/*
	 * The value as the config would say it; "" when the rule leaves it open.
	 * rs: the rule's sets, NULL when it has none.
	 */
	void (*show)(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs, char *buf,
		     size_t len);
};

extern const struct xtc_rule_field xtc_rule_fields[];
extern const size_t xtc_rule_n_fields;

/* enum <-> word tables, indexed by the enum's value. */
extern const char *const xtc_action_names[];	/* enum xtc_action */
extern const char *const xtc_mode_names[];	/* enum xtc_redirect_mode */
extern const char *const xtc_dir_names[];	/* enum xtc_dir */
extern const char *const xtc_hook_names[];	/* enum xtc_hook */

/* A word from one of the tables above, "?" when out of range. */
const char *xtc_enum_name(const char *const *names, size_t n, unsigned int v);
#define XTC_ENUM_NAME(table, v) xtc_enum_name(xtc_##table, xtc_##table##_n, (v))
extern const size_t xtc_action_names_n, xtc_mode_names_n, xtc_dir_names_n, xtc_hook_names_n;

/* An interface by ifindex: its name now, "#N" when it is gone, "*" for 0. */
void xtc_ifname_of(__u32 ifindex, char *buf, size_t len);

/* "10.0.0.0/8" or "fd00::/64" from a family, 16 address bytes and a length. */
void xtc_prefix_str(__u8 family, const __u8 *addr, __u8 plen, char *buf, size_t len);

#endif
