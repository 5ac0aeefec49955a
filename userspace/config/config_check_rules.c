// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Validating [rule NAME] sections: each key on its own, then the keys
 * together, then the reverse = yes mirrors and the max_rules limit.
 */
#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "config_raw.h"
#include "config_values.h"
#include "netdev.h"
#include "xtc_shared.h"

/* The set a value "@NAME" names, if it holds the kind of element key needs; NULL (reported) if not. */
static const struct xtc_set *get_set(struct ctx *c, const struct raw_kv *kv, bool ports)
{
	const char *name = kv->val + 1;
	const struct xtc_set *set = cfg_find_set(c, name);

	if (!cfg_valid_name(name)) {
		cfg_bad_value(c, kv, ports ? "use a port, a range LOW-HIGH, or @NAME for a "
			      "[set NAME] of ports" : "use a prefix, or @NAME for a [set NAME] of "
			      "prefixes");
		return NULL;
	}
	if (!set) {
		cfg_problem(c, kv->line, "%s = @" QS ": no [set " QS "]: add it or use %s", kv->key,
			    name, name, ports ? "a port or range" : "a prefix");
		return NULL;
	}
	if (set->ports != ports) {
		cfg_problem(c, kv->line, "%s = @%s: [set %s] holds %s, but %s needs %s", kv->key,
			    name, name, set->ports ? "ports" : "prefixes", kv->key,
			    ports ? "ports" : "prefixes");
		return NULL;
	}
	return set;
}

/* Like the get_* in config_check.c, for values that only rules take. */
static bool get_cidr(struct ctx *c, const struct raw_kv *kv, struct xtc_cidr *out,
		     const struct xtc_set **set)
{
	char err[XTC_ERR_LEN];

	if (kv->val[0] == '@')
		return (*set = get_set(c, kv, false)) != NULL;
	if (!xtc_parse_cidr(kv->val, out, err, sizeof(err)))
		return true;
	cfg_bad_value(c, kv, err);
	return false;
}

static bool get_ports(struct ctx *c, const struct raw_kv *kv, struct xtc_port_range *out,
		      const struct xtc_set **set)
{
	char err[XTC_ERR_LEN];

	if (kv->val[0] == '@')
		return (*set = get_set(c, kv, true)) != NULL;
	if (!xtc_parse_port_range(kv->val, out, err, sizeof(err)))
		return true;
	cfg_bad_value(c, kv, err);
	return false;
}

static bool get_proto(struct ctx *c, const struct raw_kv *kv, bool *any, __u8 *out)
{
	char err[XTC_ERR_LEN];

	if (!xtc_parse_proto(kv->val, any, out, err, sizeof(err)))
		return true;
	cfg_bad_value(c, kv, err);
	return false;
}

static int find_iface(const struct xtc_model *m, const char *name)
{
	int i;

	for (i = 0; i < m->n_ifaces; i++)
		if (!strcmp(m->ifaces[i].name, name))
			return i;
	return -1;
}

static bool is_absent(const struct xtc_model *m, const char *name)
{
	int i;

	for (i = 0; i < m->n_absent; i++)
		if (!strcmp(m->absent[i], name))
			return true;
	return false;
}

enum {
	RK_IFACE, RK_DIR, RK_SRC, RK_DST, RK_PROTO, RK_SPORT, RK_DPORT,
	RK_ACTION, RK_REDIRECT, RK_TARGET, RK_REVERSE, RK_N
};
static const char *const rule_keys[RK_N + 1] = {
	"interface", "direction", "src", "dst", "proto", "src_port", "dst_port",
	"action", "redirect", "target", "reverse", NULL,
};
/* enum xtc_dir, enum xtc_action and enum xtc_redirect_mode, in code order. */
static const char *const dirs[] = { "ingress", "egress", NULL };
static const char *const actions[] = { "pass", "drop", "redirect", NULL };
static const char *const modes[] = { "plain", "neigh", "peer", NULL };

static const char *family_name(__u8 family)
{
	return family == XTC_FAMILY_V4 ? "IPv4" : "IPv6";
}

#define FAM_V4 1
#define FAM_V6 2

/* The families one side (src or dst) of a rule allows; an absent side allows both. */
static unsigned int side_families(bool has, const struct xtc_cidr *one, const struct xtc_set *set)
{
	if (!has)
		return FAM_V4 | FAM_V6;
	if (!set)
		return one->family == XTC_FAMILY_V4 ? FAM_V4 : FAM_V6;
	return (set->n_v4 ? FAM_V4 : 0) | (set->n_v6 ? FAM_V6 : 0);
}

/* "is IPv4", or "@NAME holds only IPv6 prefixes": one side, for a family mismatch. */
static void describe_side(const struct xtc_cidr *one, const struct xtc_set *set, unsigned int fams,
			  char *buf, size_t len)
{
	if (set)
		snprintf(buf, len, "@%s holds only %s prefixes", set->name,
			 fams == FAM_V4 ? "IPv4" : "IPv6");
	else
		snprintf(buf, len, "is %s", family_name(one->family));
}

/* Field by field; ok[k] says key k was given and is good. */
static void parse_rule_keys(struct ctx *c, const struct raw_kv **f, bool *ok,
			    const struct xtc_model *m, struct xtc_rule *r)
{
	char err[XTC_ERR_LEN], name[IF_NAMESIZE];
	struct xtc_netdev_info info;
	bool any;
	int e;

	if (f[RK_IFACE] && strcmp(f[RK_IFACE]->val, "*")) {
		if (cfg_is_pattern(f[RK_IFACE]->val)) {
			/* One rule per interface it matches: cfg_check_rule() makes them. */
			ok[RK_IFACE] = strlen(f[RK_IFACE]->val) < XTC_PATTERN_MAX;
			if (!ok[RK_IFACE])
				cfg_bad_value(c, f[RK_IFACE], "a pattern is up to 63 characters");
		} else if (xtc_parse_ifname(f[RK_IFACE]->val, name, err, sizeof(err))) {
			cfg_bad_value(c, f[RK_IFACE], "use *, or the name of an [interface NAME] "
				      "section");
		} else if (!(r->ifname = cfg_strndup(c, name, strlen(name)))) {
			c->err = -ENOMEM;
		} else if (find_iface(m, r->ifname) < 0 && is_absent(m, r->ifname)) {
			/* Its interface is optional and not there: the rule waits for it. */
			r->absent = ok[RK_IFACE] = true;
		} else if ((e = find_iface(m, r->ifname)) < 0) {
			cfg_problem(c, f[RK_IFACE]->line, "interface '%s' is not managed: add an "
				"[interface %s] section or use interface = *", r->ifname,
				r->ifname);
		} else {
			r->ifindex = m->ifaces[e].ifindex;
			ok[RK_IFACE] = true;
		}
	}
	if (f[RK_DIR] && (ok[RK_DIR] = cfg_get_enum(c, f[RK_DIR], dirs, &e)))
		r->dir = (__u8)e;
	if (f[RK_SRC])
		r->has_src = ok[RK_SRC] = get_cidr(c, f[RK_SRC], &r->src, &r->src_set);
	if (f[RK_DST])
		r->has_dst = ok[RK_DST] = get_cidr(c, f[RK_DST], &r->dst, &r->dst_set);
	if (f[RK_PROTO] && (ok[RK_PROTO] = get_proto(c, f[RK_PROTO], &any, &r->proto)))
		r->has_proto = !any;
	if (f[RK_SPORT])
		r->has_sport = ok[RK_SPORT] = get_ports(c, f[RK_SPORT], &r->sport, &r->sport_set);
	if (f[RK_DPORT])
		r->has_dport = ok[RK_DPORT] = get_ports(c, f[RK_DPORT], &r->dport, &r->dport_set);
	if (f[RK_ACTION] && (ok[RK_ACTION] = cfg_get_enum(c, f[RK_ACTION], actions, &e)))
		r->action = (__u8)e;
	if (f[RK_REDIRECT] && (ok[RK_REDIRECT] = cfg_get_enum(c, f[RK_REDIRECT], modes, &e)))
		r->mode = (__u8)e;
	if (f[RK_TARGET]) {
		if (!strcasecmp(f[RK_TARGET]->val, "auto")) {
			r->target_auto = ok[RK_TARGET] = true;
			r->target_ifindex = XTC_TARGET_AUTO;
		} else if (xtc_parse_ifname(f[RK_TARGET]->val, name, err, sizeof(err))) {
			cfg_bad_value(c, f[RK_TARGET], "use an interface name, or auto to look the "
				      "destination up in the IP-to-ifindex map");
		} else if (!(r->target = cfg_strndup(c, name, strlen(name)))) {
			c->err = -ENOMEM;
		} else if (c->daemon && cfg_host_lookup(c, r->target, &info) == -ENODEV) {
			/* A pod's veth that is gone for now: the rule waits for it. */
			cfg_warn(c, f[RK_TARGET]->line, "target: no interface '%s' on this host yet: "
				 "the rule is loaded when it appears", r->target);
			r->absent = ok[RK_TARGET] = true;
		} else if (cfg_host_iface(c, f[RK_TARGET]->line, "target", r->target,
					    "use an existing interface, or auto", &info)) {
			r->target_ifindex = info.ifindex;
			ok[RK_TARGET] = true;
		}
	}
	if (f[RK_REVERSE])
		ok[RK_REVERSE] = cfg_get_bool(c, f[RK_REVERSE], &r->reverse);
}

/* Checks that need several keys of the rule at once. */
static void check_rule_combos(struct ctx *c, const struct raw_sec *s, const struct raw_kv **f,
			      const bool *ok, struct xtc_rule *r)
{
	static const int redirect_only[] = { RK_REDIRECT, RK_TARGET, RK_REVERSE };
	unsigned int fs = side_families(ok[RK_SRC], &r->src, r->src_set);
	unsigned int fd = side_families(ok[RK_DST], &r->dst, r->dst_set);
	char label[96], ds[96], dd[96];
	size_t i;

	/* An empty set has no family; its own warning says the rule matches nothing. */
	if (ok[RK_SRC] && ok[RK_DST] && fs && fd && !(fs & fd)) {
		describe_side(&r->src, r->src_set, fs, ds, sizeof(ds));
		describe_side(&r->dst, r->dst_set, fd, dd, sizeof(dd));
		cfg_problem(c, f[RK_DST]->line, "dst %s but src %s: a rule matches one address "
			    "family", dd, ds);
	}
	/* Sets may mix families: then each element combination has its own. */
	r->family = (fs & fd) == FAM_V4 ? XTC_FAMILY_V4 : (fs & fd) == FAM_V6 ? XTC_FAMILY_V6 :
		    XTC_FAMILY_ANY;
	if (r->has_proto && (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6)) {
		__u8 want = r->proto == IPPROTO_ICMP ? XTC_FAMILY_V4 : XTC_FAMILY_V6;

		if (r->family != XTC_FAMILY_ANY && r->family != want)
			cfg_problem(c, f[RK_PROTO]->line, "proto %s is for %s but the rule's "
				"addresses are %s: use %s", f[RK_PROTO]->val, family_name(want),
				family_name(r->family), want == XTC_FAMILY_V4 ? "icmpv6" : "icmp");
		if (r->family == XTC_FAMILY_ANY)
			r->family = want;
	}
	for (i = RK_SPORT; i <= RK_DPORT; i++)
		if (f[i] && (!f[RK_PROTO] || ok[RK_PROTO]) &&
		    !(r->has_proto && (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP)))
			cfg_problem(c, f[i]->line, "%s needs proto = tcp or udp", rule_keys[i]);

	if (!f[RK_ACTION]) {
		cfg_sec_label(s, label, sizeof(label));
		cfg_problem(c, s->line, "%s has no action: add action = pass, drop or redirect",
			label);
		return;
	}
	if (!ok[RK_ACTION])
		return;
	if (r->action != XTC_ACT_REDIRECT) {
		for (i = 0; i < sizeof(redirect_only) / sizeof(redirect_only[0]); i++)
			if (f[redirect_only[i]])
				cfg_problem(c, f[redirect_only[i]]->line, "%s is only for action = "
					"redirect, but action is %s: remove it",
					rule_keys[redirect_only[i]], f[RK_ACTION]->val);
		r->reverse = false;
		return;
	}
	if (!f[RK_REDIRECT])
		cfg_problem(c, f[RK_ACTION]->line, "action = redirect needs redirect = plain, "
			"neigh or peer");
	if (!f[RK_TARGET])
		cfg_problem(c, f[RK_ACTION]->line, "action = redirect needs target = an "
			"interface name or auto");
	if (ok[RK_REVERSE] && r->reverse && !r->ifname[0])
		cfg_problem(c, f[RK_REVERSE]->line, "reverse = yes needs a concrete interface for "
			"the replies to return to: set interface = NAME, not *");
}

/* redirect = peer: bpf_redirect_peer() exists only at TC ingress and only into a veth. */
static void check_peer(struct ctx *c, const struct raw_kv **f, const bool *ok,
		       struct xtc_rule *r)
{
	static const char need[] = "redirect = peer needs a veth target whose peer is in "
				   "another network namespace";
	struct xtc_netdev_info info;

	if (!ok[RK_ACTION] || r->action != XTC_ACT_REDIRECT || !ok[RK_REDIRECT] ||
	    r->mode != XTC_MODE_PEER)
		return;
	if (r->dir == XTC_DIR_EGRESS)
		cfg_problem(c, f[RK_REDIRECT]->line, "redirect = peer works only at TC ingress: "
			"use direction = ingress, or redirect = neigh or plain");
	if (!ok[RK_TARGET] || r->target_auto || cfg_host_lookup(c, r->target, &info))
		return;
	if (!info.is_veth)
		cfg_problem(c, f[RK_TARGET]->line, "%s, but '%s' is not a veth", need, r->target);
	else if (!info.peer_other_netns && c->daemon) {
		/* Its peer may move into a pod's namespace any moment: the rule waits. */
		r->absent = true;
		cfg_warn(c, f[RK_TARGET]->line, "%s, and the peer of '%s' is in this one yet: the "
			 "rule is loaded when it moves", need, r->target);
	} else if (!info.peer_other_netns)
		cfg_problem(c, f[RK_TARGET]->line, "%s, but the peer of '%s' is in this one", need,
			r->target);
}

/* The model's copy of s, or the last one made if equal: rules name the same few interfaces. */
static const char *keep_ifname(struct xtc_model *m, const char **last, const char *s)
{
	if (!*s)
		return "";
	if (*last && !strcmp(*last, s))
		return *last;
	return *last = xtc_arena_strndup(&m->names, s, strnlen(s, IF_NAMESIZE - 1));
}

/* c->rules_cap starts at the number of [rule] sections: one allocation, no copies. */
static int push_rule(struct ctx *c, struct xtc_model *m, const struct xtc_rule *r)
{
	struct xtc_rule *to;

	if (m->n_rules == c->rules_cap) {
		int cap = c->rules_cap ? 2 * c->rules_cap : 16;
		struct xtc_rule *nr = realloc(m->rules, (size_t)cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		m->rules = nr;
		c->rules_cap = cap;
	}
	to = &m->rules[m->n_rules];
	*to = *r;
	/* The reader's strings die with it.  A bad name (reported) is cut short. */
	to->name = xtc_arena_strndup(&m->names, r->name, strnlen(r->name, XTC_NAME_MAX - 1));
	to->ifname = keep_ifname(m, &c->last_ifname, r->ifname);
	to->target = keep_ifname(m, &c->last_target, r->target);
	if (!to->name || !to->ifname || !to->target)
		return -ENOMEM;
	m->n_rules++;
	return 0;
}

/*
 * interface = PATTERN: one rule per managed interface that matches, in their
 * order, named RULE@IFACE, each with its own counters.  None while nothing
 * matches (the daemon adds them as interfaces appear).
 */
static int push_per_iface(struct ctx *c, struct xtc_model *m, const struct xtc_rule *r,
			  const struct raw_kv *kv)
{
	int i, err = 0;

	for (i = 0; i < m->n_ifaces && !err; i++) {
		const struct xtc_iface *ifc = &m->ifaces[i];
		struct xtc_rule one = *r;
		char name[XTC_NAME_MAX];
		int n;

		if (fnmatch(kv->val, ifc->name, 0))
			continue;
		n = snprintf(name, sizeof(name), "%s@%s", r->name, ifc->name);
		if (n < 0 || (size_t)n > RULE_NAME_MAX) {
			cfg_problem(c, kv->line, "rule '%s' on interface %s: the name %s@%s is longer "
				    "than %zu characters; shorten the rule's name", r->name,
				    ifc->name, r->name, ifc->name, RULE_NAME_MAX);
			continue;
		}
		one.name = name;
		one.ifname = ifc->name;		/* push_rule() copies it */
		one.ifindex = ifc->ifindex;
		one.id = (__u32)m->n_rules;
		one.prio = 2 * one.id;
		err = push_rule(c, m, &one);
	}
	return err;
}

int cfg_check_rule(struct ctx *c, struct raw_sec *s, bool dup, struct xtc_model *m)
{
	const struct raw_kv *f[RK_N];
	bool ok[RK_N] = {};
	struct xtc_rule r = { .name = s->name, .ifname = "", .target = "",
			      .file = m->files[s->file], .line = s->line };

	cfg_collect(c, s, rule_keys, f);
	parse_rule_keys(c, f, ok, m, &r);
	check_rule_combos(c, s, f, ok, &r);
	check_peer(c, f, ok, &r);
	if (dup || r.absent)
		return 0;
	/* "*" is any interface, one rule; another pattern, a rule per interface. */
	if (f[RK_IFACE] && strcmp(f[RK_IFACE]->val, "*") && cfg_is_pattern(f[RK_IFACE]->val))
		return push_per_iface(c, m, &r, f[RK_IFACE]);
	r.id = (__u32)m->n_rules;
	r.prio = 2 * r.id;
	return push_rule(c, m, &r);
}

/* reverse = yes: the return path, redirected back out of the original interface. */
int cfg_add_mirrors(struct ctx *c, struct xtc_model *m)
{
	int n_file = m->n_rules, i, err;

	for (i = 0; i < n_file; i++) {
		const struct xtc_rule *o = &m->rules[i];
		char name[XTC_NAME_MAX];

		if (!o->reverse || o->action != XTC_ACT_REDIRECT)
			continue;
		struct xtc_rule r = {
			.file = o->file, .line = o->line, .id = (__u32)m->n_rules,
			.prio = o->prio + 1, .dir = XTC_DIR_INGRESS, .family = o->family,
			.has_src = o->has_dst, .src = o->dst, .src_set = o->dst_set,
			.has_dst = o->has_src, .dst = o->src, .dst_set = o->src_set,
			.has_proto = o->has_proto, .proto = o->proto,
			.has_sport = o->has_dport, .sport = o->dport, .sport_set = o->dport_set,
			.has_dport = o->has_sport, .dport = o->sport, .dport_set = o->sport_set,
			.action = XTC_ACT_REDIRECT, .mode = XTC_MODE_NEIGH,
			.target_ifindex = o->ifindex, .generated = true,
		};

		snprintf(name, sizeof(name), "%.*s~reverse", (int)RULE_NAME_MAX, o->name);
		r.name = name;
		r.target = o->ifname;
		r.ifname = "";
		if (!o->target_auto) {
			r.ifname = o->target;
			r.ifindex = o->target_ifindex;
		}
		/* o is not used after this: the array may move (its strings do not). */
		err = push_rule(c, m, &r);
		if (err)
			return err;
	}
	return 0;
}

void cfg_rule_label(const struct xtc_rule *r, char *buf, size_t len)
{
	if (r->generated)
		snprintf(buf, len, "the reverse = yes mirror of [rule %.*s]",
			 (int)(strlen(r->name) - strlen("~reverse")), r->name);
	else
		snprintf(buf, len, "[rule %s]", r->name);
}

void cfg_check_max_rules(struct ctx *c, const struct xtc_model *m)
{
	const struct xtc_rule *r;

	if ((__u32)m->n_rules <= m->max_rules)
		return;
	r = &m->rules[m->max_rules];
	c->file = cfg_file_index(c, r->file);
	if (r->generated)
		cfg_problem(c, r->line, "the reverse = yes mirror of [rule %.*s] is rule %u, but "
			"max_rules is %u: raise max_rules (up to %d) or remove rules",
			(int)(strlen(r->name) - strlen("~reverse")), r->name, m->max_rules + 1,
			m->max_rules, MAX_RULES_LIMIT);
	else
		cfg_problem(c, r->line, "[rule %s] is rule %u, but max_rules is %u: raise "
			"max_rules (up to %d) or remove rules", r->name, m->max_rules + 1,
			m->max_rules, MAX_RULES_LIMIT);
}
