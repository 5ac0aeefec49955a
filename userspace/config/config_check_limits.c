// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the classifier and the maps can hold, checked from the file alone so
 * that apply never refuses a file that check passed: interfaces (the
 * interface map), [static] prefixes (the IP-to-ifindex map), the entries
 * each rule and all rules expand to, and the distinct match shapes (the
 * tuple spaces; the rule compiler's own count).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "config_raw.h"
#include "tss.h"
#include "xtc_shared.h"

static void check_maps(struct ctx *c, const struct xtc_model *m)
{
	if (m->n_ifaces > XTC_MAX_IFACES) {
		const struct xtc_iface *ifc = &m->ifaces[XTC_MAX_IFACES];

		cfg_problem_at(c, cfg_file_index(c, ifc->file), ifc->line, "[interface %s] is "
			       "interface %d; xtc manages at most %d", ifc->name, XTC_MAX_IFACES + 1,
			       XTC_MAX_IFACES);
	}
	/* The host's own addresses and routes share the map: this much is sure not to fit. */
	if (m->n_statics > XTC_MAX_IPMAP) {
		const struct xtc_static *st = &m->statics[XTC_MAX_IPMAP];

		cfg_problem_at(c, cfg_file_index(c, st->file), st->line, "[static] entry %d: the "
			       "IP-to-ifindex map holds %d prefixes, the host's addresses and "
			       "routes included", XTC_MAX_IPMAP + 1, XTC_MAX_IPMAP);
	}
}

/* Returns whether every rule fits; counting shapes walks the sets, so it waits for this. */
static bool check_entries(struct ctx *c, const struct xtc_model *m, size_t *expanded)
{
	size_t total = 0, whole = 0;
	bool ok = true;
	char label[96];
	int r;

	for (r = 0; r < m->n_rules; r++) {
		const struct xtc_rule *rule = &m->rules[r];
		size_t n = xtc_tss_rule_entries(rule);

		whole = xtc_sat_add(whole, rule->has_sport || rule->has_dport ?
					   xtc_tss_rule_entries_whole(rule) : n);

		if (n > XTC_RULE_ENTRIES_MAX ||
		    (total <= XTC_TOTAL_ENTRIES_MAX && n > XTC_TOTAL_ENTRIES_MAX - total))
			cfg_rule_label(rule, label, sizeof(label));	/* for a problem only */
		if (n > XTC_RULE_ENTRIES_MAX) {
			cfg_problem_at(c, cfg_file_index(c, rule->file), rule->line, "%s expands to "
				       "%zu classifier entries (set elements and port-range blocks "
				       "multiplied out); xtc allows %d per rule: split it, or use "
				       "smaller sets", label, n, XTC_RULE_ENTRIES_MAX);
			ok = false;
		}
		if (total <= XTC_TOTAL_ENTRIES_MAX && n > XTC_TOTAL_ENTRIES_MAX - total) {
			cfg_problem_at(c, cfg_file_index(c, rule->file), rule->line, "%s brings the "
				       "classifier over %d entries, the most xtc loads: remove rules "
				       "or set elements", label, XTC_TOTAL_ENTRIES_MAX);
			ok = false;
		}
		total = n > SIZE_MAX - total ? SIZE_MAX : total + n;
	}
	/* What the compile makes, when it can hold every range whole (port_lens.h). */
	*expanded = whole;
	return ok;
}

int cfg_check_limits(struct ctx *c, const struct xtc_model *m, size_t *expanded)
{
	const struct xtc_rule *over;
	char label[96];
	int n, err;

	check_maps(c, m);
	if (!check_entries(c, m, expanded))
		return 0;
	err = xtc_tss_count_shapes(m->rules, m->n_rules, &n, &over);
	if (err != -E2BIG)
		return err;
	cfg_rule_label(over, label, sizeof(label));
	cfg_problem_at(c, cfg_file_index(c, over->file), over->line, "%s needs a %dth distinct "
		       "match shape; xtc supports %d (rules that constrain the same fields with "
		       "the same prefix lengths and port blocks share one)", label,
		       XTC_MAX_MASKS + 1, XTC_MAX_MASKS);
	return 0;
}
