// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include "rule_info.h"
#include "util.h"


const char *const xtc_action_names[] = { "pass", "drop", "redirect" };
const char *const xtc_mode_names[] = { "plain", "neigh", "peer" };
const char *const xtc_dir_names[] = { "ingress", "egress" };
const char *const xtc_hook_names[] = { "xdp", "tc_ingress", "tc_egress" };
const size_t xtc_action_names_n = ARRAY_SIZE(xtc_action_names);
const size_t xtc_mode_names_n = ARRAY_SIZE(xtc_mode_names);
const size_t xtc_dir_names_n = ARRAY_SIZE(xtc_dir_names);
const size_t xtc_hook_names_n = ARRAY_SIZE(xtc_hook_names);

const char *xtc_enum_name(const char *const *names, size_t n, unsigned int v)
{
	return v < n ? names[v] : "?";
}

void xtc_ifname_of(__u32 ifindex, char *buf, size_t len)
{
	char name[IF_NAMESIZE];

	if (!ifindex)
		snprintf(buf, len, "*");
	else if (if_indextoname(ifindex, name))
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "#%u", ifindex);
}

void xtc_prefix_str(__u8 family, const __u8 *addr, __u8 plen, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family == XTC_FAMILY_V4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, plen);
}

__u64 xtc_set_digest(const struct xtc_set *set)
{
	int k, n = set->ports ? set->n_ports : set->n_prefixes;
	__u64 sum = 0;

	/* A sum of element hashes: the order of the lines in [set] changes nothing. */
	for (k = 0; k < n; k++) {
		__u64 x = set->ports ?
			  xtc_fnv1a64(XTC_FNV64_INIT, &set->ports_r[k], sizeof(set->ports_r[k])) :
			  xtc_fnv1a64(XTC_FNV64_INIT, &set->prefixes[k], sizeof(set->prefixes[k]));

		sum += x ^ (x >> 29);
	}
	return sum;
}

/* A @SET match: its name, size and digest, so the plan sees edits. */
static void note_set(struct xtc_rule_info *w, struct xtc_rule_sets *rs, enum xtc_rm_set i,
		     __u32 field, const struct xtc_set *set)
{
	if (!set || !rs)
		return;
	w->match.fields |= field << XTC_RM_SET_SHIFT;
	snprintf(rs->name[i], sizeof(rs->name[i]), "%s", set->name);
	rs->size[i] = set->ports ? set->n_ports : set->n_prefixes;
	rs->digest[i] = xtc_set_digest(set);
}

bool xtc_rule_has_sets(const struct xtc_rule *r)
{
	return r->src_set || r->dst_set || r->sport_set || r->dport_set;
}

void xtc_rule_info_from_rule(const struct xtc_rule *r, struct xtc_rule_info *w,
			     struct xtc_rule_sets *rs)
{
	struct xtc_rule_match *m = &w->match;

	memset(w, 0, sizeof(*w));
	if (rs)
		memset(rs, 0, sizeof(*rs));
	/* Not snprintf: this runs for every rule of every apply. */
	memcpy(w->name, r->name, strnlen(r->name, sizeof(w->name) - 1));
	w->prio = r->prio;
	w->ifindex = r->ifindex;
	w->target_ifindex = r->target_auto ? XTC_TARGET_AUTO : r->target_ifindex;
	w->flags = XTC_RI_USED | (r->generated ? XTC_RI_GENERATED : 0);
	w->action = r->action;
	w->mode = r->mode;
	w->dir = r->dir;
	m->family = r->family;
	if (r->has_src) {
		m->fields |= XTC_RM_SRC;
		memcpy(m->src, r->src.addr, sizeof(m->src));
		m->src_plen = r->src.plen;
	}
	if (r->has_dst) {
		m->fields |= XTC_RM_DST;
		memcpy(m->dst, r->dst.addr, sizeof(m->dst));
		m->dst_plen = r->dst.plen;
	}
	if (r->has_proto) {
		m->fields |= XTC_RM_PROTO;
		m->proto = r->proto;
	}
	if (r->has_sport) {
		m->fields |= XTC_RM_SPORT;
		m->sport_lo = r->sport.lo;
		m->sport_hi = r->sport.hi;
	}
	if (r->has_dport) {
		m->fields |= XTC_RM_DPORT;
		m->dport_lo = r->dport.lo;
		m->dport_hi = r->dport.hi;
	}
	note_set(w, rs, XTC_RM_SET_SRC, XTC_RM_SRC, r->src_set);
	note_set(w, rs, XTC_RM_SET_DST, XTC_RM_DST, r->dst_set);
	note_set(w, rs, XTC_RM_SET_SPORT, XTC_RM_SPORT, r->sport_set);
	note_set(w, rs, XTC_RM_SET_DPORT, XTC_RM_DPORT, r->dport_set);
}

static bool from_set(const struct xtc_rule_info *ri, __u32 field)
{
	return ri->match.fields & (field << XTC_RM_SET_SHIFT);
}

static void show_set(const struct xtc_rule_sets *rs, enum xtc_rm_set i, char *buf, size_t len)
{
	snprintf(buf, len, "@%.*s", XTC_RI_SET_NAME, rs ? rs->name[i] : "?");
}

static void show_iface(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs,
		      char *buf, size_t len)
{
	(void)rs;
	xtc_ifname_of(ri->ifindex, buf, len);
}

static void show_dir(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs,
		    char *buf, size_t len)
{
	(void)rs;
	snprintf(buf, len, "%s", XTC_ENUM_NAME(dir_names, ri->dir));
}

static void show_addr(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs, bool dst,
		      char *buf, size_t len)
{
	const struct xtc_rule_match *m = &ri->match;
	__u32 f = dst ? XTC_RM_DST : XTC_RM_SRC;

	buf[0] = '\0';
	if (!(m->fields & f))
		return;
	if (from_set(ri, f))
		show_set(rs, dst ? XTC_RM_SET_DST : XTC_RM_SET_SRC, buf, len);
	else
		xtc_prefix_str(m->family, dst ? m->dst : m->src, dst ? m->dst_plen : m->src_plen,
			       buf, len);
}

static void show_src(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs,
		    char *buf, size_t len)
{
	show_addr(ri, rs, false, buf, len);
}

static void show_dst(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs,
		    char *buf, size_t len)
{
	show_addr(ri, rs, true, buf, len);
}

static void show_proto(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs,
		      char *buf, size_t len)
{
	(void)rs;
	static const struct {
		__u8 num;
		const char *name;
	} names[] = { { 6, "tcp" }, { 17, "udp" }, { 1, "icmp" }, { 58, "icmpv6" } };
	size_t i;

	buf[0] = '\0';
	if (!(ri->match.fields & XTC_RM_PROTO))
		return;
	snprintf(buf, len, "%u", ri->match.proto);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].num == ri->match.proto)
			snprintf(buf, len, "%s", names[i].name);
}

static void show_ports(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs, bool dst,
		       char *buf, size_t len)
{
	const struct xtc_rule_match *m = &ri->match;
	__u32 f = dst ? XTC_RM_DPORT : XTC_RM_SPORT;
	__u16 lo = dst ? m->dport_lo : m->sport_lo, hi = dst ? m->dport_hi : m->sport_hi;

	buf[0] = '\0';
	if (!(m->fields & f))
		return;
	if (from_set(ri, f))
		show_set(rs, dst ? XTC_RM_SET_DPORT : XTC_RM_SET_SPORT, buf, len);
	else if (lo == hi)
		snprintf(buf, len, "%u", lo);
	else
		snprintf(buf, len, "%u-%u", lo, hi);
}

static void show_sport(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs,
		      char *buf, size_t len)
{
	show_ports(ri, rs, false, buf, len);
}

static void show_dport(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs,
		      char *buf, size_t len)
{
	show_ports(ri, rs, true, buf, len);
}

static void show_action(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs,
		       char *buf, size_t len)
{
	(void)rs;
	snprintf(buf, len, "%s", XTC_ENUM_NAME(action_names, ri->action));
}

static void show_mode(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs,
		     char *buf, size_t len)
{
	(void)rs;
	buf[0] = '\0';
	if (ri->action == XTC_ACT_REDIRECT)
		snprintf(buf, len, "%s", XTC_ENUM_NAME(mode_names, ri->mode));
}

static void show_target(const struct xtc_rule_info *ri, const struct xtc_rule_sets *rs,
		       char *buf, size_t len)
{
	(void)rs;
	buf[0] = '\0';
	if (ri->action != XTC_ACT_REDIRECT)
		return;
	if (ri->target_ifindex == XTC_TARGET_AUTO)
		snprintf(buf, len, "auto");
	else
		xtc_ifname_of(ri->target_ifindex, buf, len);
}

const struct xtc_rule_field xtc_rule_fields[] = {
	{ "interface", show_iface },
	{ "direction", show_dir },
	{ "src", show_src },
	{ "dst", show_dst },
	{ "proto", show_proto },
	{ "src_port", show_sport },
	{ "dst_port", show_dport },
	{ "action", show_action },
	{ "redirect", show_mode },
	{ "target", show_target },
};
const size_t xtc_rule_n_fields = ARRAY_SIZE(xtc_rule_fields);
