// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Validating the raw model: [global], [interface NAME] and [static] sections,
 * repeated sections, and the pass that ties it all together into struct
 * xtc_model.  [set NAME] sections are in config_check_sets.c, [rule NAME]
 * sections in config_check_rules.c, the checks across rules in
 * config_check_limits.c, config_check_hooks.c and config_check_shadow.c.
 */
#define _GNU_SOURCE		/* qsort_r */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config_raw.h"
#include "mem.h"
#include "util.h"
#include "config_values.h"
#include "log.h"
#include "netdev.h"
#include "tc_attach.h"
#include "xtc_shared.h"

/* ---- sections --------------------------------------------------------- */

enum {
	GK_BPFFS, GK_XDP, GK_XDP_MODE, GK_XDP_PRIO, GK_TC_ATTACH, GK_TC_PRIO, GK_FALLBACK, GK_MAX_RULES,
	GK_INCLUDE, GK_RESYNC, GK_METRICS_FILE, GK_METRICS_LISTEN, GK_N
};
static const char *const global_keys[GK_N + 1] = {
	"bpffs", "xdp", "xdp_mode", "xdp_priority", "tc_attach", "tc_prio", "redirect_fallback",
	"max_rules", "include", "resync_interval", "metrics_file", "metrics_listen", NULL,
};

/* ADDRESS:PORT, an IPv6 address in brackets: where the daemon serves /metrics. */
static void get_listen(struct ctx *c, const struct raw_kv *kv, char *out, size_t len)
{
	char host[64], bin[16];
	const char *colon = strrchr(kv->val, ':');
	unsigned long port;
	size_t hl;
	char *end;

	if (!colon || (size_t)(colon - kv->val) >= sizeof(host))
		goto bad;
	hl = (size_t)(colon - kv->val);
	memcpy(host, kv->val, hl);
	host[hl] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || errno || !port || port > 65535 || !colon[1])
		goto bad;
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, bin) != 1)
			goto bad;
	} else if (inet_pton(AF_INET, host, bin) != 1) {
		goto bad;
	}
	snprintf(out, len, "%s", kv->val);
	return;
bad:
	cfg_bad_value(c, kv, "use ADDRESS:PORT, such as 127.0.0.1:9435 or [::1]:9435");
}

/* A duration: a number and a unit (ms, s, m, h; s when none), 1 s to 1 day. */
static void get_resync(struct ctx *c, const struct raw_kv *kv, __u32 *ms)
{
	static const struct { const char *unit; unsigned long long ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	unsigned long long v, total;
	char *end;
	size_t i;

	errno = 0;
	v = strtoull(kv->val, &end, 10);
	for (i = 0; end != kv->val && !errno && i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		total = v * units[i].ms;
		if (v <= 86400000ULL && total >= 1000 && total <= 86400000ULL) {
			*ms = (__u32)total;
			return;
		}
		break;
	}
	cfg_bad_value(c, kv, "use a duration from 1s to 24h, such as 30s, 5m or 1500ms");
}
/* In the order of the codes they stand for. */
static const char *const xdp_modes[] = { "native", "skb", NULL };
static const char *const tc_attaches[] = { "auto", "tcx", "cls_bpf", NULL };
static const char *const fallbacks[] = { "pass", "drop", NULL };

/* A state recorded before tc_prio has prio 0 for this one (kernel/tc_attach.h). */
_Static_assert(XTC_DEFAULT_TC_PRIO == XTC_CLS_PRIO, "tc_prio default and XTC_CLS_PRIO differ");

/* A cls_bpf filter prio: tc's range, in decimal or in hex as tc prints it. */
static void get_tc_prio(struct ctx *c, const struct raw_kv *kv, __u32 *out)
{
	char err[XTC_ERR_LEN];
	__u64 v;

	if (xtc_parse_uint_hex(kv->val, 1, 0xffff, &v, err, sizeof(err)))
		cfg_bad_value(c, kv, err);
	else
		*out = (__u32)v;
}

/* xdp = on, off (or any boolean word) or auto. */
static bool get_xdp_setting(struct ctx *c, const struct raw_kv *kv, enum xtc_xdp_setting *out)
{
	char err[XTC_ERR_LEN];
	bool b;

	if (!strcasecmp(kv->val, "auto")) {
		*out = XTC_XDP_SET_AUTO;
		return true;
	}
	if (!xtc_parse_bool(kv->val, &b, err, sizeof(err))) {
		*out = b ? XTC_XDP_SET_ON : XTC_XDP_SET_OFF;
		return true;
	}
	cfg_bad_value(c, kv, "use on, off or auto (auto: XDP on devices with native XDP, TC "
		      "alone on veth and other virtual devices)");
	return false;
}

/* The setting, for this device: xdp = auto asks what the device is. */
static void resolve_xdp(struct xtc_iface *ifc, const char *kind, bool loopback, int native)
{
	struct xtc_dev_facts f = { .kind = kind, .loopback = loopback, .xdp_native = native };

	if (ifc->xdp_setting == XTC_XDP_SET_AUTO) {
		ifc->xdp = xtc_xdp_auto_choice(&f, &ifc->xdp_why);
	} else {
		ifc->xdp = ifc->xdp_setting == XTC_XDP_SET_ON;
		ifc->xdp_why = XTC_XDP_WHY_SET;
	}
}

/* include is read by config_read.c: its files are part of what is validated here. */
static void check_global(struct ctx *c, struct raw_sec *s, struct xtc_model *m)
{
	const struct raw_kv *f[GK_N];
	int e;

	cfg_collect(c, s, global_keys, f);
	if (f[GK_BPFFS]) {
		if (f[GK_BPFFS]->val[0] != '/' || strlen(f[GK_BPFFS]->val) > 4000)
			cfg_bad_value(c, f[GK_BPFFS], "use the absolute path of a mounted bpf "
				      "filesystem, e.g. /sys/fs/bpf");
		else
			snprintf(m->bpffs, sizeof(m->bpffs), "%s", f[GK_BPFFS]->val);
	}
	if (f[GK_XDP])
		get_xdp_setting(c, f[GK_XDP], &m->xdp_setting);
	if (f[GK_XDP_MODE] && cfg_get_enum(c, f[GK_XDP_MODE], xdp_modes, &e))
		m->xdp_mode = (enum xtc_xdp_mode)e;
	if (f[GK_XDP_PRIO])
		cfg_get_uint(c, f[GK_XDP_PRIO], 1, 1000, &m->xdp_priority);
	if (f[GK_TC_ATTACH] && cfg_get_enum(c, f[GK_TC_ATTACH], tc_attaches, &e)) {
		m->tc_attach = (enum xtc_tc_attach)e;
		/* apply would refuse it on this kernel (plan.c): so does check. */
		if (m->tc_attach == XTC_TC_TCX && !xtc_tc_tcx_available())
			cfg_problem(c, f[GK_TC_ATTACH]->line, "tc_attach = tcx, but this kernel has "
				    "no TCX (it came in Linux 6.6); use tc_attach = auto or cls_bpf");
	}
	if (f[GK_TC_PRIO])
		get_tc_prio(c, f[GK_TC_PRIO], &m->tc_prio);
	if (f[GK_FALLBACK] && cfg_get_enum(c, f[GK_FALLBACK], fallbacks, &e))
		m->redirect_fallback = e ? XTC_ACT_DROP : XTC_ACT_PASS;
	if (f[GK_MAX_RULES])
		cfg_get_uint(c, f[GK_MAX_RULES], 1, MAX_RULES_LIMIT, &m->max_rules);
	if (f[GK_RESYNC])
		get_resync(c, f[GK_RESYNC], &m->resync_ms);
	if (f[GK_METRICS_FILE]) {
		if (f[GK_METRICS_FILE]->val[0] != '/' || strlen(f[GK_METRICS_FILE]->val) > 4000)
			cfg_bad_value(c, f[GK_METRICS_FILE], "use an absolute path, such as "
				      "/var/lib/node_exporter/textfile/xtc.prom");
		else
			snprintf(m->metrics_file, sizeof(m->metrics_file), "%s",
				 f[GK_METRICS_FILE]->val);
	}
	if (f[GK_METRICS_LISTEN])
		get_listen(c, f[GK_METRICS_LISTEN], m->metrics_listen, sizeof(m->metrics_listen));
}

/* Explicit tc_ingress/tc_egress per interface; -1 leaves it to the rules. */
struct tc_choice {
	int ingress, egress;
};

enum { IK_XDP, IK_XDP_MODE, IK_XDP_PRIO, IK_TC_IN, IK_TC_EG, IK_TC_PRIO, IK_OPTIONAL, IK_N };
static const char *const iface_keys[IK_N + 1] = {
	"xdp", "xdp_mode", "xdp_priority", "tc_ingress", "tc_egress", "tc_prio", "optional", NULL,
};

/* An [interface PATTERN]'s settings, for every interface it matches. */
struct pattern_tmpl {
	struct xtc_iface ifc;
	struct tc_choice tc;
};

static int add_iface(struct xtc_model *m, struct tc_choice **tcs, const struct xtc_iface *ifc,
		     struct tc_choice tc)
{
	/* tcs runs parallel to m->ifaces */
	if (GROW(m->ifaces, m->n_ifaces) || GROW(*tcs, m->n_ifaces))
		return -ENOMEM;
	(*tcs)[m->n_ifaces] = tc;
	m->ifaces[m->n_ifaces++] = *ifc;
	return 0;
}

/* A named interface that may be missing: noted (rules on it wait), not an error. */
static int awaited(struct ctx *c, struct raw_sec *s, struct xtc_model *m, const char *label,
		   bool optional)
{
	if (!optional)
		cfg_warn(c, s->line, "%s: no interface '%s' on this host yet: xtc manages it when "
			 "it appears", label, s->name);
	if (GROW(m->absent, m->n_absent))
		return -ENOMEM;
	snprintf(m->absent[m->n_absent++], IF_NAMESIZE, "%s", s->name);
	return 0;
}

static int check_iface(struct ctx *c, struct raw_sec *s, bool dup, struct xtc_model *m,
		       struct tc_choice **tcs, struct pattern_tmpl **pats)
{
	const struct raw_kv *f[IK_N];
	struct xtc_netdev_info info;
	struct tc_choice tc = { -1, -1 };
	struct xtc_iface ifc = {
		.file = m->files[s->file], .line = s->line, .xdp_setting = m->xdp_setting,
		.xdp_mode = m->xdp_mode, .xdp_priority = m->xdp_priority, .tc_prio = m->tc_prio,
	};
	bool b, optional = false;
	char label[96];
	int e, err;

	cfg_sec_label(s, label, sizeof(label));
	cfg_collect(c, s, iface_keys, f);
	if (f[IK_XDP])
		get_xdp_setting(c, f[IK_XDP], &ifc.xdp_setting);
	ifc.xdp = ifc.xdp_setting != XTC_XDP_SET_OFF;
	if (f[IK_XDP_MODE] && cfg_get_enum(c, f[IK_XDP_MODE], xdp_modes, &e))
		ifc.xdp_mode = (enum xtc_xdp_mode)e;
	if (f[IK_XDP_PRIO])
		cfg_get_uint(c, f[IK_XDP_PRIO], 1, 1000, &ifc.xdp_priority);
	if (f[IK_TC_IN] && cfg_get_bool(c, f[IK_TC_IN], &b))
		tc.ingress = b;
	if (f[IK_TC_EG] && cfg_get_bool(c, f[IK_TC_EG], &b))
		tc.egress = b;
	if (f[IK_TC_PRIO])
		get_tc_prio(c, f[IK_TC_PRIO], &ifc.tc_prio);
	if (f[IK_OPTIONAL] && cfg_get_bool(c, f[IK_OPTIONAL], &optional) &&
	    cfg_is_pattern(s->name)) {
		cfg_problem(c, f[IK_OPTIONAL]->line, "optional applies to a named interface; "
			    "%s matches whatever interfaces there are, none included: remove the "
			    "key", label);
	}
	if (dup || s->bad_name)
		return 0;
	if (cfg_is_pattern(s->name)) {
		struct xtc_iface_pattern *p;

		if (GROW(m->patterns, m->n_patterns) || GROW(*pats, m->n_patterns))
			return -ENOMEM;
		p = &m->patterns[m->n_patterns];
		snprintf(p->pattern, sizeof(p->pattern), "%s", s->name);
		p->file = ifc.file;
		p->line = ifc.line;
		(*pats)[m->n_patterns++] = (struct pattern_tmpl){ .ifc = ifc, .tc = tc };
		return 0;
	}
	snprintf(ifc.name, sizeof(ifc.name), "%s", s->name);
	err = cfg_host_lookup(c, s->name, &info);
	if (err == -ENODEV && (optional || c->daemon))
		return awaited(c, s, m, label, optional);
	if (cfg_host_iface(c, s->line, label, s->name, "create it first, remove the section or "
			   "add optional = yes", &info)) {
		ifc.ifindex = info.ifindex;
		resolve_xdp(&ifc, info.kind, info.loopback, info.xdp_native);
	}
	return add_iface(m, tcs, &ifc, tc);
}

/*
 * Every interface on the host that an [interface PATTERN] matches, unless a
 * section names it or an earlier pattern matched it: the first in file order
 * wins, a named section over any pattern.
 */
static int expand_patterns(struct ctx *c, struct xtc_model *m, struct tc_choice **tcs,
			   const struct pattern_tmpl *pats)
{
	struct xtc_netdev_name *host = NULL;
	struct xtc_netdev_info info;
	int n_host = 0, p, h, i, err, native;

	if (!m->n_patterns)
		return 0;
	err = xtc_netdev_list(&host, &n_host);
	if (err) {
		cfg_problem(c, m->patterns[0].line, "cannot list the host's interfaces for [interface "
			    "%s]: %s", m->patterns[0].pattern, strerror(-err));
		return err == -ENOMEM ? err : 0;
	}
	for (p = 0; p < m->n_patterns && !err; p++) {
		for (h = 0; h < n_host && !err; h++) {
			struct xtc_iface ifc = pats[p].ifc;

			if (fnmatch(m->patterns[p].pattern, host[h].name, 0))
				continue;
			for (i = 0; i < m->n_ifaces && strcmp(m->ifaces[i].name, host[h].name); i++)
				;
			if (i < m->n_ifaces)
				continue;
			snprintf(ifc.name, sizeof(ifc.name), "%s", host[h].name);
			ifc.ifindex = host[h].ifindex;
			native = 0;
			/* Only a device with its own driver needs asking about native XDP. */
			if (ifc.xdp_setting == XTC_XDP_SET_AUTO && !host[h].kind[0] &&
			    !host[h].loopback)
				native = cfg_host_lookup(c, host[h].name, &info) ? -1 :
					 info.xdp_native;
			resolve_xdp(&ifc, host[h].kind, host[h].loopback, native);
			ifc.pattern = p + 1;
			err = add_iface(m, tcs, &ifc, pats[p].tc);
		}
	}
	free(host);
	return err;
}


/* What an interface's rules ask of TC (bits), for the defaults below. */
#define NEED_EGRESS 0x1			/* an egress rule */
#define NEED_INGRESS_REDIRECT 0x2	/* an ingress redirect: XDP hands those to TC */
#define NEED_INGRESS 0x4		/* any ingress rule: TC's when XDP is not there */

static __u8 rule_needs(const struct xtc_rule *r)
{
	if (r->dir == XTC_DIR_EGRESS)
		return NEED_EGRESS;
	return NEED_INGRESS | (r->action == XTC_ACT_REDIRECT ? NEED_INGRESS_REDIRECT : 0);
}

static int cmp_iface_name(const void *a, const void *b, void *ctx)
{
	const struct xtc_iface *ifs = ctx;

	return strcmp(ifs[*(const int *)a].name, ifs[*(const int *)b].name);
}

/*
 * Which TC hooks each interface needs, unless the file says.  One pass over
 * the rules (a daemon has hundreds of interfaces and may have 100k rules):
 * rules on every interface apply to all, the others to theirs, found by
 * name in a sorted index.
 */
static int apply_tc_defaults(struct xtc_model *m, const struct tc_choice *tcs)
{
	int *order = calloc(m->n_ifaces ? m->n_ifaces : 1, sizeof(*order));
	__u8 *need = calloc(m->n_ifaces ? m->n_ifaces : 1, 1), all = 0;
	int i, k;

	if (!order || !need) {
		free(order);
		free(need);
		return -ENOMEM;
	}
	for (i = 0; i < m->n_ifaces; i++)
		order[i] = i;
	qsort_r(order, (size_t)m->n_ifaces, sizeof(*order), cmp_iface_name, m->ifaces);
	for (k = 0; k < m->n_rules; k++) {
		const struct xtc_rule *r = &m->rules[k];
		int lo = 0, hi = m->n_ifaces - 1;

		if (!r->ifname[0]) {
			all |= rule_needs(r);
			continue;
		}
		while (lo <= hi) {
			int mid = (lo + hi) / 2, c = strcmp(r->ifname, m->ifaces[order[mid]].name);

			if (!c) {
				need[order[mid]] |= rule_needs(r);
				break;
			}
			if (c < 0)
				hi = mid - 1;
			else
				lo = mid + 1;
		}
	}
	for (i = 0; i < m->n_ifaces; i++) {
		struct xtc_iface *ifc = &m->ifaces[i];
		__u8 n = need[i] | all;
		/* XDP hands redirects to TC ingress; without XDP, TC does all the work. */
		bool in = (n & NEED_INGRESS_REDIRECT) || (!ifc->xdp && (n & NEED_INGRESS));

		ifc->tc_ingress = tcs[i].ingress >= 0 ? tcs[i].ingress : in;
		ifc->tc_egress = tcs[i].egress >= 0 ? tcs[i].egress : !!(n & NEED_EGRESS);
	}
	free(order);
	free(need);
	return 0;
}

/* Every entry with a good prefix goes in, so that duplicates are found whatever else is wrong. */
static int check_static(struct ctx *c, struct raw_sec *s, struct xtc_model *m,
			const struct raw_kv ***keys)
{
	char err[XTC_ERR_LEN], ctxt[128];
	struct xtc_netdev_info info;
	int i;

	for (i = 0; i < s->n_kv; i++) {
		const struct raw_kv *kv = &s->kv[i];
		struct xtc_static st = { .file = m->files[s->file], .line = kv->line };

		if (xtc_parse_cidr(kv->key, &st.prefix, err, sizeof(err))) {
			cfg_problem(c, kv->line, "bad prefix '" QS "' in [static]: %s", kv->key,
				err);
			continue;
		}
		if (!*kv->val) {
			cfg_problem(c, kv->line, "missing interface for '" QS "' in [static]: "
				"write PREFIX = INTERFACE", kv->key);
		} else if (xtc_parse_ifname(kv->val, st.ifname, err, sizeof(err))) {
			cfg_problem(c, kv->line, "bad interface name '" QS "' for '" QS "' in "
				"[static]: %s", kv->val, kv->key, err);
		} else {
			snprintf(ctxt, sizeof(ctxt), "[static] " QS, kv->key);
			if (cfg_host_iface(c, kv->line, ctxt, st.ifname,
					   "use an existing interface", &info))
				st.ifindex = info.ifindex;
		}
		/* keys runs parallel to m->statics */
		if (GROW(m->statics, m->n_statics) || GROW(*keys, m->n_statics))
			return -ENOMEM;
		(*keys)[m->n_statics] = kv;
		m->statics[m->n_statics++] = st;
	}
	return 0;
}

static int cmp_static(const void *a, const void *b)
{
	const struct xtc_static *x = *(const struct xtc_static *const *)a;
	const struct xtc_static *y = *(const struct xtc_static *const *)b;
	int d = memcmp(&x->prefix, &y->prefix, sizeof(x->prefix));

	/* Entries are in file order in m->statics: the first of equals comes first. */
	return d ? d : (x > y) - (x < y);
}

/* Sorting brings equal prefixes together: fine for tens of thousands of entries. */
static int check_static_dups(struct ctx *c, const struct xtc_model *m, const struct raw_kv **keys)
{
	const struct xtc_static **by, *first;
	int i;

	if (m->n_statics < 2)
		return 0;
	by = malloc((size_t)m->n_statics * sizeof(*by));
	if (!by)
		return -ENOMEM;
	for (i = 0; i < m->n_statics; i++)
		by[i] = &m->statics[i];
	qsort(by, (size_t)m->n_statics, sizeof(*by), cmp_static);
	for (i = 1, first = by[0]; i < m->n_statics; i++) {
		char where[4200];

		if (memcmp(&by[i]->prefix, &first->prefix, sizeof(first->prefix))) {
			first = by[i];
			continue;
		}
		c->file = cfg_file_index(c, by[i]->file);
		cfg_where(c, cfg_file_index(c, first->file), first->line, where, sizeof(where));
		cfg_problem(c, by[i]->line, "duplicate prefix '" QS "' in [static]: the same "
			"prefix is at %s", keys[by[i] - m->statics]->key, where);
	}
	free(by);
	return 0;
}

/* What makes two sections the same one: kind and name, and the file for [static]. */
static __u64 sec_hash(const struct raw_sec *s)
{
	__u64 h = xtc_fnv1a64(XTC_FNV64_INIT, s->name, strlen(s->name));

	h = xtc_fnv1a64(h, &s->kind, sizeof(s->kind));
	return s->kind == SEC_STATIC ? xtc_fnv1a64(h, &s->file, sizeof(s->file)) : h;
}

static bool same_sec(const struct raw_sec *a, const struct raw_sec *b)
{
	return a->kind == b->kind && !strcmp(a->name, b->name) &&
	       (a->kind != SEC_STATIC || a->file == b->file);
}

static const char *const dup_hints[SEC_N] = {
	[SEC_GLOBAL] = "; merge them into one",
	[SEC_IFACE] = "; one section per interface",
	[SEC_RULE] = "; rule names must be unique",
	[SEC_STATIC] = "; merge them into one",
	[SEC_SET] = "; set names must be unique",
};

/* Sets first_line on every repeat of a section, and reports it. */
static int check_section_dups(struct ctx *c)
{
	char label[96], where[4200];
	size_t cap = 16, j;
	int *first, i;

	if (c->n_secs < 2)
		return 0;
	while (cap < 2 * (size_t)c->n_secs)
		cap *= 2;
	/* The first of each section by hash, in reading order: slots hold index + 1. */
	first = calloc(cap, sizeof(*first));
	if (!first)
		return -ENOMEM;
	for (i = 0; i < c->n_secs; i++) {
		struct raw_sec *s = &c->secs[i];
		const struct raw_sec *one;

		if (s->kind == SEC_BAD)
			continue;
		for (j = sec_hash(s) & (cap - 1); first[j]; j = (j + 1) & (cap - 1))
			if (same_sec(&c->secs[first[j] - 1], s))
				break;
		if (!first[j]) {
			first[j] = i + 1;
			continue;
		}
		one = &c->secs[first[j] - 1];
		s->first_file = one->file;
		s->first_line = one->line;
		c->file = s->file;
		cfg_sec_label(s, label, sizeof(label));
		cfg_where(c, s->first_file, s->first_line, where, sizeof(where));
		cfg_problem(c, s->line, "duplicate section %s: the first is at %s%s", label, where,
			    dup_hints[s->kind]);
	}
	free(first);
	return 0;
}

int cfg_validate(struct ctx *c, struct xtc_model *m)
{
	/* Globals give interfaces their defaults; interfaces and sets are what rules use. */
	static const enum sec_kind order[] = { SEC_GLOBAL, SEC_IFACE, SEC_SET, SEC_RULE, SEC_STATIC };
	const struct raw_kv **static_keys = NULL;
	struct pattern_tmpl *pats = NULL;
	struct tc_choice *tcs = NULL;
	struct xtc_populate pop = {};
	double t0 = xtc_now();
	size_t o;
	int i, err;

	err = check_section_dups(c);
	for (i = 0; i < c->n_secs; i++)
		c->rules_cap += c->secs[i].kind == SEC_RULE;
	if (c->rules_cap && !(m->rules = malloc((size_t)c->rules_cap * sizeof(*m->rules))))
		err = -ENOMEM;
	/* Validating is this core's: the other faults the rules' pages in ahead of it. */
	if (!err)
		xtc_mem_populate_start(&pop, m->rules, (size_t)c->rules_cap * sizeof(*m->rules));
	for (o = 0; o < ARRAY_SIZE(order) && !err; o++) {
		if (order[o] == SEC_SET) {
			/* Every named interface is known now: the patterns take the rest. */
			err = expand_patterns(c, m, &tcs, pats);
			if (!err)
				err = cfg_check_sets(c, m);
			continue;
		}
		for (i = 0; i < c->n_secs && !err; i++) {
			struct raw_sec *s = &c->secs[i];
			bool dup = s->first_line != 0;

			if (s->kind != order[o])
				continue;
			c->file = s->file;
			if (s->kind == SEC_GLOBAL) {
				struct xtc_model scratch = *m;

				check_global(c, s, dup ? &scratch : m);
			} else if (s->kind == SEC_IFACE) {
				err = check_iface(c, s, dup, m, &tcs, &pats);
			} else if (s->kind == SEC_RULE) {
				err = cfg_check_rule(c, s, dup, m);
			} else {
				err = check_static(c, s, m, &static_keys);
			}
		}
	}
	if (!err)
		err = check_static_dups(c, m, static_keys);
	if (!err)
		err = cfg_add_mirrors(c, m);
	if (!err) {
		cfg_check_max_rules(c, m);
		err = apply_tc_defaults(m, tcs);
	}
	xtc_mem_populate_wait(&pop);
	pr_debug("timing: config sections %.3f s\n", xtc_now() - t0);
	free(static_keys);
	free(pats);
	free(tcs);
	return err;
}

/*
 * The checks across rules read every rule as a whole: a rule with a bad key
 * would look like one that matches everything, so they wait until the file
 * has no errors (the caller's to see).
 */
int cfg_check_across(struct ctx *c, const struct xtc_model *m, size_t *expanded)
{
	double t0 = xtc_now();
	int err;

	err = cfg_check_limits(c, m, expanded);
	pr_debug("timing: config limits %.3f s\n", xtc_now() - t0);
	t0 = xtc_now();
	if (!err && !c->n_errors)
		cfg_check_hooks(c, m);
	pr_debug("timing: config hooks %.3f s\n", xtc_now() - t0);
	return err;
}
