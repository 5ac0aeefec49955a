// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rules on hooks that are off: warnings, since the file is consistent, just
 * likely not what was meant.  An ingress rule needs XDP or TC ingress where
 * it applies, an egress rule TC egress, and a redirect at ingress under XDP
 * needs TC ingress, which carries out what XDP hands over.  Defaults turn
 * the hooks on that rules need (config_check.c), so only an explicit "off"
 * gets here.  Mirrors (reverse = yes) are generated, not written: skipped.
 */
#include <stdio.h>
#include <string.h>
#include "config_raw.h"
#include "xtc_shared.h"

static const struct xtc_iface *find_iface(const struct xtc_model *m, const char *name)
{
	int i;

	for (i = 0; i < m->n_ifaces; i++)
		if (!strcmp(m->ifaces[i].name, name))
			return &m->ifaces[i];
	return NULL;
}

/* A rule's label, made only for a warning: most rules get none. */
static const char *label_of(const struct xtc_rule *r, char *buf)
{
	cfg_rule_label(r, buf, 96);
	return buf;
}

static void check_named(struct ctx *c, const struct xtc_rule *r, const struct xtc_iface *ifc)
{
	char label[96];

	if (r->dir == XTC_DIR_EGRESS) {
		if (!ifc->tc_egress)
			cfg_warn(c, r->line, "%s is an egress rule on %s, but tc_egress = off there: "
				 "set tc_egress = on in [interface %s]", label_of(r, label),
				 ifc->name, ifc->name);
		return;
	}
	if (!ifc->xdp && !ifc->tc_ingress && ifc->xdp_setting == XTC_XDP_SET_AUTO)
		cfg_warn(c, r->line, "%s is an ingress rule on %s, but %s runs no ingress hook "
			 "(xdp = auto chose no XDP there: %s; and tc_ingress = off): set "
			 "tc_ingress = on (or xdp = on) in [interface %s]", label_of(r, label),
			 ifc->name, ifc->name, xtc_xdp_why_text(ifc->xdp_why), ifc->name);
	else if (!ifc->xdp && !ifc->tc_ingress)
		cfg_warn(c, r->line, "%s is an ingress rule on %s, but %s runs no ingress hook "
			 "(xdp = off, tc_ingress = off): set tc_ingress = on (or xdp = on) in "
			 "[interface %s]", label_of(r, label), ifc->name, ifc->name, ifc->name);
	else if (ifc->xdp && !ifc->tc_ingress && r->action == XTC_ACT_REDIRECT)
		cfg_warn(c, r->line, "%s redirects at ingress on %s, where XDP hands redirects to "
			 "TC ingress, but tc_ingress = off there: set tc_ingress = on in "
			 "[interface %s]", label_of(r, label), ifc->name, ifc->name);
}

void cfg_check_hooks(struct ctx *c, const struct xtc_model *m)
{
	bool any_in = false, any_eg = false;
	const struct xtc_iface *ifc = NULL;
	char label[96];
	int i;

	/* No interface at all: the rules wait for one, nothing is off. */
	if (!m->n_ifaces)
		return;
	for (i = 0; i < m->n_ifaces; i++) {
		any_in |= m->ifaces[i].xdp || m->ifaces[i].tc_ingress;
		any_eg |= m->ifaces[i].tc_egress;
	}
	for (i = 0; i < m->n_rules; i++) {
		const struct xtc_rule *r = &m->rules[i];

		if (r->generated)
			continue;
		c->file = cfg_file_index(c, r->file);
		if (r->ifname[0]) {
			/* Rule files name the same few interfaces over and over. */
			if (!ifc || strcmp(ifc->name, r->ifname))
				ifc = find_iface(m, r->ifname);
			if (ifc)
				check_named(c, r, ifc);
		} else if (r->dir == XTC_DIR_EGRESS && !any_eg) {
			cfg_warn(c, r->line, "%s is an egress rule for every interface, but every "
				 "managed interface has tc_egress = off: set tc_egress = on where it "
				 "should apply", label_of(r, label));
		} else if (r->dir == XTC_DIR_INGRESS && !any_in) {
			cfg_warn(c, r->line, "%s is an ingress rule for every interface, but every "
				 "managed interface has xdp = off and tc_ingress = off: set "
				 "tc_ingress = on (or xdp = on) where it should apply",
				 label_of(r, label));
		}
	}
}
