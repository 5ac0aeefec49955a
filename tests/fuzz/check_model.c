// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What a model that xtc_config_load() returned promises its consumers (plan,
 * apply, the BPF maps), checked by the config fuzzer: names resolved to the
 * host's ifindexes, prefixes without host bits, one family per rule without
 * sets, ports only with tcp or udp, set pointers into m->sets, and every
 * object at a line of a file that was read.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "netdev.h"
#include "xtc_shared.h"

static const struct xtc_diag *diag;	/* of the load, for the report */

static void check_file_line(const struct xtc_model *m, const char *file, int line)
{
	int i, lo, hi;

	for (i = 0; i < m->n_files && m->files[i] != file; i++)
		;
	CHECK(i < m->n_files, diag);
	fuzz_line_range(file, &lo, &hi);
	CHECK(line >= lo && line <= hi && line >= 1, diag);
}

/* Whether the host's list of interfaces (what [interface PATTERN] matches) has name at ifindex. */
static bool listed(const char *name, __u32 ifindex)
{
	struct xtc_netdev_name *all = NULL;
	bool found = false;
	int n = 0, i;

	if (xtc_netdev_list(&all, &n))
		return false;
	for (i = 0; i < n && !found; i++)
		found = !strcmp(all[i].name, name) && all[i].ifindex == ifindex;
	free(all);
	return found;
}

/*
 * An interface name the model holds is one of the host's, at its ifindex:
 * as a lookup by name gives it, or, for one a pattern matched, as the list
 * gives it (a lookup of a listed interface can fail: busy0).
 */
static void check_ifname(const char *name, __u32 ifindex)
{
	struct xtc_netdev_info info;

	CHECK(memchr(name, '\0', IF_NAMESIZE), diag);
	CHECK((!xtc_netdev_get(name, &info) && info.ifindex == ifindex) || listed(name, ifindex),
	      diag);
}

static void check_cidr(const struct xtc_cidr *c)
{
	int bits = c->family == XTC_FAMILY_V4 ? 32 : 128, i;

	CHECK(c->family == XTC_FAMILY_V4 || c->family == XTC_FAMILY_V6, diag);
	CHECK(c->plen <= bits, diag);
	for (i = c->plen; i < 128; i++)
		CHECK(!(c->addr[i / 8] & (0x80 >> (i % 8))), diag);
}

static void check_set(const struct xtc_model *m, const struct xtc_set *s)
{
	int i;

	CHECK(memchr(s->name, '\0', sizeof(s->name)) && s->name[0], diag);
	check_file_line(m, s->file, s->line);
	CHECK(s->ports ? !s->n_prefixes : !s->n_ports, diag);
	CHECK(s->n_v4 + s->n_v6 == s->n_prefixes, diag);
	for (i = 0; i < s->n_prefixes; i++)
		check_cidr(&s->prefixes[i]);
	for (i = 0; i < s->n_ports; i++)
		CHECK(s->ports_r[i].lo <= s->ports_r[i].hi, diag);
}

/* A set a rule uses is one of m->sets and holds what the match needs. */
static void check_set_ptr(const struct xtc_model *m, const struct xtc_set *s, bool ports)
{
	if (!s)
		return;
	CHECK(s >= m->sets && s < m->sets + m->n_sets, diag);
	CHECK(s->ports == ports, diag);
}

static void check_rule(const struct xtc_model *m, const struct xtc_rule *r, int i)
{
	CHECK(r->id == (__u32)i, diag);
	CHECK(r->name && r->name[0] && strlen(r->name) < XTC_NAME_MAX, diag);
	check_file_line(m, r->file, r->line);
	CHECK(r->dir <= XTC_DIR_EGRESS && r->action <= XTC_ACT_REDIRECT, diag);
	CHECK(r->family == XTC_FAMILY_ANY || r->family == XTC_FAMILY_V4 ||
	      r->family == XTC_FAMILY_V6, diag);
	if (r->ifname[0])
		check_ifname(r->ifname, r->ifindex);
	else
		CHECK(!r->ifindex, diag);
	CHECK(r->has_src || !r->src_set, diag);
	CHECK(r->has_dst || !r->dst_set, diag);
	if (r->has_src && !r->src_set)
		check_cidr(&r->src);
	if (r->has_dst && !r->dst_set)
		check_cidr(&r->dst);
	/*
	 * With a set, each element combination has its own family (an empty set
	 * has none, and the rule matches nothing); without, the rule has one.
	 */
	if (!r->src_set && !r->dst_set) {
		CHECK(!r->has_src || r->src.family == r->family, diag);
		CHECK(!r->has_dst || r->dst.family == r->family, diag);
		if (r->has_proto && r->proto == IPPROTO_ICMP)
			CHECK(r->family == XTC_FAMILY_V4, diag);
		if (r->has_proto && r->proto == IPPROTO_ICMPV6)
			CHECK(r->family == XTC_FAMILY_V6, diag);
	}
	check_set_ptr(m, r->src_set, false);
	check_set_ptr(m, r->dst_set, false);
	check_set_ptr(m, r->sport_set, true);
	check_set_ptr(m, r->dport_set, true);
	if (r->has_sport || r->has_dport)
		CHECK(r->has_proto && (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP), diag);
	if (r->has_sport && !r->sport_set)
		CHECK(r->sport.lo <= r->sport.hi, diag);
	if (r->has_dport && !r->dport_set)
		CHECK(r->dport.lo <= r->dport.hi, diag);
	if (r->action != XTC_ACT_REDIRECT)
		return;
	CHECK(r->mode <= XTC_MODE_PEER, diag);
	if (r->target_auto)
		CHECK(r->target_ifindex == XTC_TARGET_AUTO, diag);
	else
		check_ifname(r->target, r->target_ifindex);
}

void fuzz_check_model(const struct xtc_model *m, const char *main_path, const struct xtc_diag *d)
{
	int i;

	diag = d;
	CHECK(m->n_files >= 1 && !strcmp(m->files[0], main_path), d);
	CHECK(m->n_rules >= 0 && (__u32)m->n_rules <= m->max_rules, d);
	CHECK(m->xdp_priority >= 1 && m->xdp_priority <= 1000, d);
	for (i = 0; i < m->n_sets; i++)
		check_set(m, &m->sets[i]);
	for (i = 0; i < m->n_rules; i++)
		check_rule(m, &m->rules[i], i);
	for (i = 0; i < m->n_ifaces; i++) {
		const struct xtc_iface *f = &m->ifaces[i];

		check_file_line(m, f->file, f->line);
		check_ifname(f->name, f->ifindex);
		CHECK(f->xdp_priority >= 1 && f->xdp_priority <= 1000, d);
	}
	for (i = 0; i < m->n_statics; i++) {
		const struct xtc_static *s = &m->statics[i];

		check_file_line(m, s->file, s->line);
		check_ifname(s->ifname, s->ifindex);
		check_cidr(&s->prefix);
	}
}
