// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The INI reader and validator.  Reading fills a raw model (every section and
 * key as written, with line numbers); validation then checks it as a whole and
 * builds struct xtc_model.  Problems are collected, never fatal on their own,
 * so that one run of `xtc check` shows all of them.
 */
#define _GNU_SOURCE		/* asprintf */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ini.h>
#include "config.h"
#include "config_values.h"
#include "log.h"
#include "netdev.h"
#include "xtc_shared.h"

#define RULE_NAME_MAX (XTC_NAME_MAX - sizeof("~reverse"))	/* room for the mirror's name */
#define MAX_RULES_LIMIT 16777216
#define QS "%.60s"		/* quotes at most this much of the file in a message */

/*
 * Makes room in arr, which holds n elements, for one more: 0 or -ENOMEM.
 * Capacity doubles so that files with tens of thousands of rules load fast.
 */
#define GROW(arr, n)								\
	({									\
		__typeof__(arr) grow_p = (arr);					\
		int grow_err = 0;						\
										\
		if ((n) == 0 || ((n) >= 8 && !((n) & ((n) - 1)))) {		\
			grow_p = realloc((arr), ((n) < 8 ? 8 : 2 * (size_t)(n)) * sizeof(*(arr))); \
			if (grow_p)						\
				(arr) = grow_p;					\
			else							\
				grow_err = -ENOMEM;				\
		}								\
		grow_err;							\
	})

enum sec_kind { SEC_BAD, SEC_GLOBAL, SEC_IFACE, SEC_RULE, SEC_STATIC };

static const char *const sec_names[] = { "?", "global", "interface", "rule", "static" };

struct raw_kv {
	char *key;
	char *val;
	int line;
};

struct raw_sec {
	enum sec_kind kind;
	char *name;			/* "" for [global] and [static] */
	int line;
	bool bad_name;			/* reported already: skip host lookups */
	int first_line;			/* of an earlier section like it, else 0 */
	struct raw_kv *kv;
	int n_kv;
};

struct diag_ent {
	int line;
	int seq;
	char *msg;
};

/* One rtnetlink lookup per distinct name, however many rules name it. */
struct host {
	char name[IF_NAMESIZE];
	int err;
	struct xtc_netdev_info info;
};

struct ctx {
	const char *path;
	FILE *f;
	char *buf;			/* getline() buffer */
	size_t cap;
	int lineno;
	const char *key, *val;		/* the pair the reader just handed to inih */
	struct raw_sec *secs;
	int n_secs;
	int cur;			/* section that pairs go to; -1 before any */
	struct diag_ent *diags;
	int n_diags;
	struct host *hosts;		/* interface lookups so far */
	int n_hosts;
	int err;			/* -ENOMEM or a read error: stops everything */
};

static void problem(struct ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct ctx *c, int line, const char *fmt, ...)
{
	char *body, *msg;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto nomem;
	n = line > 0 ? asprintf(&msg, "%s:%d: %s", c->path, line, body)
		     : asprintf(&msg, "%s: %s", c->path, body);
	free(body);
	if (n < 0)
		goto nomem;
	if (GROW(c->diags, c->n_diags)) {
		free(msg);
		goto nomem;
	}
	c->diags[c->n_diags] = (struct diag_ent){ .line = line, .seq = c->n_diags, .msg = msg };
	c->n_diags++;
	return;
nomem:
	c->err = -ENOMEM;
}

/* ---- reading ---------------------------------------------------------- */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	*e = '\0';
	return s;
}

/* ';' or '#' at the start of a value or after a blank starts a comment. */
static void cut_comment(char *s)
{
	char *p;

	for (p = s; *p; p++) {
		if ((*p == ';' || *p == '#') && (p == s || *(p - 1) == ' ' || *(p - 1) == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static bool valid_rule_name(const char *s)
{
	size_t len = strlen(s), i;

	if (!len || len > RULE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static int add_section(struct ctx *c, enum sec_kind kind, const char *name)
{
	struct raw_sec *s;

	if (GROW(c->secs, c->n_secs))
		return -ENOMEM;
	s = &c->secs[c->n_secs];
	*s = (struct raw_sec){ .kind = kind, .line = c->lineno, .name = strdup(name) };
	if (!s->name)
		return -ENOMEM;
	c->cur = c->n_secs++;
	return 0;
}

static void read_header(struct ctx *c, char *s)
{
	static const char kinds[] = "use [global], [interface NAME], [rule NAME] or [static]";
	char err[XTC_ERR_LEN], ifname[IF_NAMESIZE];
	enum sec_kind kind = SEC_BAD;
	char *close = strchr(s, ']'), *inner, *rest, *name;
	bool bad_name = false;
	size_t wl;
	int i;

	if (!close) {
		problem(c, c->lineno, "syntax error: '" QS "' has no closing ']'", s);
		goto out;
	}
	*close = '\0';
	rest = trim(close + 1);
	inner = trim(s + 1);
	if (*rest && *rest != ';' && *rest != '#') {
		problem(c, c->lineno, "syntax error: '" QS "' after [" QS "]: "
			"only a comment may follow ']'",
			rest, inner);
		goto out;
	}
	wl = strcspn(inner, " \t");
	name = trim(inner + wl);
	for (i = SEC_GLOBAL; i <= SEC_STATIC; i++)
		if (wl == strlen(sec_names[i]) && !strncmp(inner, sec_names[i], wl))
			kind = (enum sec_kind)i;
	inner[wl] = '\0';
	switch (kind) {
	case SEC_BAD:
		if (!*inner) {
			problem(c, c->lineno, "empty section header []: %s", kinds);
			break;
		}
		problem(c, c->lineno, "unknown section [" QS "%s" QS "]: %s",
			inner, *name ? " " : "", name, kinds);
		break;
	case SEC_GLOBAL:
	case SEC_STATIC:
		if (*name) {
			problem(c, c->lineno, "section [%s] takes no name, but '" QS "' was "
				"given", inner, name);
			kind = SEC_BAD;
		}
		break;
	case SEC_IFACE:
	case SEC_RULE:
		if (!*name) {
			problem(c, c->lineno, "section [%s] needs a name: [%s NAME]", inner, inner);
			kind = SEC_BAD;
		} else if (kind == SEC_RULE && !valid_rule_name(name)) {
			problem(c, c->lineno, "bad rule name '" QS "': use 1-%zu letters, "
				"digits, '.', '_' or '-'", name, RULE_NAME_MAX);
			bad_name = true;
		} else if (kind == SEC_IFACE && xtc_parse_ifname(name, ifname, err, sizeof(err))) {
			problem(c, c->lineno, "bad interface name '" QS "': %s", name,
				err);
			bad_name = true;
		}
		break;
	}
	if (kind != SEC_BAD) {
		if (add_section(c, kind, name))
			c->err = -ENOMEM;
		else
			c->secs[c->cur].bad_name = bad_name;
		return;
	}
out:
	/* Keys that follow belong to no valid section: park them unchecked. */
	if (add_section(c, SEC_BAD, ""))
		c->err = -ENOMEM;
}

/* Handles one physical line; returns true when it is a key = value pair. */
static bool read_line(struct ctx *c, char *line)
{
	char *s, *eq, *key, *val;

	if (c->lineno == 1 && !strncmp(line, "\xef\xbb\xbf", 3))
		line += 3;
	s = trim(line);
	if (!*s || *s == ';' || *s == '#')
		return false;
	if (*s == '[') {
		read_header(c, s);
		return false;
	}
	eq = strchr(s, '=');
	if (!eq) {
		problem(c, c->lineno, "syntax error: '" QS "' is not [section], "
			"key = value or a comment (; or #)", s);
		return false;
	}
	*eq = '\0';
	key = trim(s);
	val = eq + 1;
	cut_comment(val);
	val = trim(val);
	if (!*key) {
		problem(c, c->lineno, "syntax error: '= " QS "' has no key before '='",
			val);
		return false;
	}
	if (c->cur < 0) {
		problem(c, c->lineno, "key '" QS "' is outside any section: put it under "
			"[global], [interface NAME], [rule NAME] or [static]", key);
		return false;
	}
	c->key = key;
	c->val = val;
	return true;
}

/*
 * inih's own line parser splits keys at ':' (which breaks IPv6 keys in
 * [static]), truncates names at 50 bytes, joins indented lines and stops
 * reporting after the first error.  So this reader parses every line itself,
 * reports syntax errors, and hands inih only a stand-in for each key = value
 * line; inih then calls the handler, which takes the pair from the reader.
 */
static char *reader(char *str, int num, void *stream)
{
	struct ctx *c = stream;
	ssize_t len;

	while (!c->err) {
		errno = 0;
		len = getline(&c->buf, &c->cap, c->f);
		if (len < 0) {
			if (ferror(c->f))
				c->err = errno ? -errno : -EIO;
			return NULL;
		}
		c->lineno++;
		if (strlen(c->buf) != (size_t)len) {
			problem(c, c->lineno, "syntax error: the line holds a NUL byte; "
				"give a text file");
			continue;
		}
		if (read_line(c, c->buf)) {
			snprintf(str, (size_t)num, "k=v\n");
			return str;
		}
	}
	return NULL;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct ctx *c = user;
	struct raw_sec *s = &c->secs[c->cur];
	struct raw_kv *kv;

	/* inih's section, name and value describe the stand-in: ignore them. */
	(void)section;
	(void)name;
	(void)value;
	if (GROW(s->kv, s->n_kv))
		goto nomem;
	kv = &s->kv[s->n_kv];
	*kv = (struct raw_kv){ .key = strdup(c->key), .val = strdup(c->val), .line = c->lineno };
	s->n_kv++;
	if (!kv->key || !kv->val)
		goto nomem;
	return 1;
nomem:
	c->err = -ENOMEM;
	return 0;
}

/* ---- validation helpers ----------------------------------------------- */

static void bad_value(struct ctx *c, const struct raw_kv *kv, const char *accepted)
{
	if (!*kv->val)
		problem(c, kv->line, "missing value for %s: %s", kv->key, accepted);
	else
		problem(c, kv->line, "bad value '" QS "' for %s: %s", kv->val, kv->key,
			accepted);
}

/* Each get_* parses one value, reports it when bad and says whether it was good. */
static bool get_enum(struct ctx *c, const struct raw_kv *kv, const char *const *names, int *out)
{
	char err[XTC_ERR_LEN];

	if (!xtc_parse_enum(kv->val, names, out, err, sizeof(err)))
		return true;
	bad_value(c, kv, err);
	return false;
}

static bool get_bool(struct ctx *c, const struct raw_kv *kv, const char *accepted, bool *out)
{
	char err[XTC_ERR_LEN];

	if (!xtc_parse_bool(kv->val, out, err, sizeof(err)))
		return true;
	bad_value(c, kv, accepted);
	return false;
}

static bool get_uint(struct ctx *c, const struct raw_kv *kv, __u64 min, __u64 max, __u32 *out)
{
	char err[XTC_ERR_LEN];
	__u64 v;

	if (xtc_parse_uint(kv->val, min, max, &v, err, sizeof(err))) {
		bad_value(c, kv, err);
		return false;
	}
	*out = (__u32)v;
	return true;
}

static bool get_cidr(struct ctx *c, const struct raw_kv *kv, struct xtc_cidr *out)
{
	char err[XTC_ERR_LEN];

	if (!xtc_parse_cidr(kv->val, out, err, sizeof(err)))
		return true;
	bad_value(c, kv, err);
	return false;
}

static bool get_ports(struct ctx *c, const struct raw_kv *kv, struct xtc_port_range *out)
{
	char err[XTC_ERR_LEN];

	if (!xtc_parse_port_range(kv->val, out, err, sizeof(err)))
		return true;
	bad_value(c, kv, err);
	return false;
}

static bool get_proto(struct ctx *c, const struct raw_kv *kv, bool *any, __u8 *out)
{
	char err[XTC_ERR_LEN];

	if (!xtc_parse_proto(kv->val, any, out, err, sizeof(err)))
		return true;
	bad_value(c, kv, err);
	return false;
}

static void sec_label(const struct raw_sec *s, char *buf, size_t len)
{
	snprintf(buf, len, "[%s%s" QS "]", sec_names[s->kind], *s->name ? " " : "",
		 s->name);
}

/*
 * Finds each of keys (NULL-terminated) in s: found[i] is its first
 * occurrence or NULL.  Unknown and repeated keys are reported.
 */
static void collect(struct ctx *c, const struct raw_sec *s, const char *const *keys,
		    const struct raw_kv **found)
{
	char label[96], list[256];
	size_t used = 0;
	int i, k, n;

	for (n = 0; keys[n]; n++) {
		found[n] = NULL;
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
					 n == 0 ? "" : keys[n + 1] ? ", " : " or ", keys[n]);
	}
	sec_label(s, label, sizeof(label));
	for (i = 0; i < s->n_kv; i++) {
		const struct raw_kv *kv = &s->kv[i];

		for (k = 0; k < n && strcmp(kv->key, keys[k]); k++)
			;
		if (k == n)
			problem(c, kv->line, "unknown key '" QS "' in %s: use %s", kv->key,
				label, list);
		else if (found[k])
			problem(c, kv->line, "duplicate key '%s' in %s: first set at line %d",
				kv->key, label, found[k]->line);
		else
			found[k] = kv;
	}
}

/* Cached: a rule file names the same few interfaces over and over. */
static int host_lookup(struct ctx *c, const char *name, struct xtc_netdev_info *info)
{
	struct host *h;
	int i;

	for (i = 0; i < c->n_hosts; i++) {
		if (!strcmp(c->hosts[i].name, name)) {
			*info = c->hosts[i].info;
			return c->hosts[i].err;
		}
	}
	if (GROW(c->hosts, c->n_hosts))
		return -ENOMEM;
	h = &c->hosts[c->n_hosts++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->err = xtc_netdev_get(name, &h->info);
	*info = h->info;
	return h->err;
}

/*
 * Looks name up on the host; whose says whose interface it is and fix what to
 * do about a missing one.  Returns false (reported) when it is not there.
 */
static bool host_iface(struct ctx *c, int line, const char *whose, const char *name,
		       const char *fix, struct xtc_netdev_info *info)
{
	int err = host_lookup(c, name, info);

	if (err == -ENODEV)
		problem(c, line, "%s: no interface '%s' on this host: %s", whose, name, fix);
	else if (err == -ENOMEM)
		c->err = err;
	else if (err)
		problem(c, line, "%s: cannot look up interface '%s': %s", whose, name,
			strerror(-err));
	return !err;
}

static int find_iface(const struct xtc_model *m, const char *name)
{
	int i;

	for (i = 0; i < m->n_ifaces; i++)
		if (!strcmp(m->ifaces[i].name, name))
			return i;
	return -1;
}

/* ---- sections --------------------------------------------------------- */

enum { GK_BPFFS, GK_XDP_MODE, GK_XDP_PRIO, GK_TC_ATTACH, GK_FALLBACK, GK_MAX_RULES, GK_N };
static const char *const global_keys[GK_N + 1] = {
	"bpffs", "xdp_mode", "xdp_priority", "tc_attach", "redirect_fallback", "max_rules", NULL,
};
/* In the order of the codes they stand for. */
static const char *const xdp_modes[] = { "native", "skb", NULL };
static const char *const tc_attaches[] = { "auto", "tcx", "cls_bpf", NULL };
static const char *const fallbacks[] = { "pass", "drop", NULL };

static void check_global(struct ctx *c, const struct raw_sec *s, struct xtc_model *m)
{
	const struct raw_kv *f[GK_N];
	int e;

	collect(c, s, global_keys, f);
	if (f[GK_BPFFS]) {
		if (f[GK_BPFFS]->val[0] != '/' || strlen(f[GK_BPFFS]->val) > 4000)
			bad_value(c, f[GK_BPFFS], "use the absolute path of a mounted bpf "
				  "filesystem, e.g. /sys/fs/bpf");
		else
			snprintf(m->bpffs, sizeof(m->bpffs), "%s", f[GK_BPFFS]->val);
	}
	if (f[GK_XDP_MODE] && get_enum(c, f[GK_XDP_MODE], xdp_modes, &e))
		m->xdp_mode = (enum xtc_xdp_mode)e;
	if (f[GK_XDP_PRIO])
		get_uint(c, f[GK_XDP_PRIO], 1, 1000, &m->xdp_priority);
	if (f[GK_TC_ATTACH] && get_enum(c, f[GK_TC_ATTACH], tc_attaches, &e))
		m->tc_attach = (enum xtc_tc_attach)e;
	if (f[GK_FALLBACK] && get_enum(c, f[GK_FALLBACK], fallbacks, &e))
		m->redirect_fallback = e ? XTC_ACT_DROP : XTC_ACT_PASS;
	if (f[GK_MAX_RULES])
		get_uint(c, f[GK_MAX_RULES], 1, MAX_RULES_LIMIT, &m->max_rules);
}

enum { IK_XDP, IK_XDP_MODE, IK_XDP_PRIO, IK_TC_IN, IK_TC_EG, IK_N };
static const char *const iface_keys[IK_N + 1] = {
	"xdp", "xdp_mode", "xdp_priority", "tc_ingress", "tc_egress", NULL,
};

/* Explicit tc_ingress/tc_egress per interface; -1 leaves it to the rules. */
struct tc_choice {
	int ingress, egress;
};

static int check_iface(struct ctx *c, const struct raw_sec *s, bool dup, struct xtc_model *m,
		       struct tc_choice **tcs)
{
	static const char on_off[] = "use on or off";
	const struct raw_kv *f[IK_N];
	struct xtc_netdev_info info;
	struct tc_choice tc = { -1, -1 };
	struct xtc_iface ifc = {
		.line = s->line, .xdp = true,
		.xdp_mode = m->xdp_mode, .xdp_priority = m->xdp_priority,
	};
	char label[96];
	bool b;
	int e;

	sec_label(s, label, sizeof(label));
	collect(c, s, iface_keys, f);
	if (f[IK_XDP] && get_bool(c, f[IK_XDP], on_off, &b))
		ifc.xdp = b;
	if (f[IK_XDP_MODE] && get_enum(c, f[IK_XDP_MODE], xdp_modes, &e))
		ifc.xdp_mode = (enum xtc_xdp_mode)e;
	if (f[IK_XDP_PRIO])
		get_uint(c, f[IK_XDP_PRIO], 1, 1000, &ifc.xdp_priority);
	if (f[IK_TC_IN] && get_bool(c, f[IK_TC_IN], on_off, &b))
		tc.ingress = b;
	if (f[IK_TC_EG] && get_bool(c, f[IK_TC_EG], on_off, &b))
		tc.egress = b;
	if (dup || s->bad_name)
		return 0;
	snprintf(ifc.name, sizeof(ifc.name), "%s", s->name);
	if (host_iface(c, s->line, label, s->name, "create it first or remove the section", &info))
		ifc.ifindex = info.ifindex;

	/* tcs runs parallel to m->ifaces */
	if (GROW(m->ifaces, m->n_ifaces) || GROW(*tcs, m->n_ifaces))
		return -ENOMEM;
	(*tcs)[m->n_ifaces] = tc;
	m->ifaces[m->n_ifaces++] = ifc;
	return 0;
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

/* Field by field; ok[k] says key k was given and is good. */
static void parse_rule_keys(struct ctx *c, const struct raw_kv **f, bool *ok,
			    const struct xtc_model *m, struct xtc_rule *r)
{
	char err[XTC_ERR_LEN];
	struct xtc_netdev_info info;
	bool any;
	int e;

	if (f[RK_IFACE] && strcmp(f[RK_IFACE]->val, "*")) {
		if (xtc_parse_ifname(f[RK_IFACE]->val, r->ifname, err, sizeof(err))) {
			bad_value(c, f[RK_IFACE], "use *, or the name of an [interface NAME] "
				  "section");
		} else if ((e = find_iface(m, r->ifname)) < 0) {
			problem(c, f[RK_IFACE]->line, "interface '%s' is not managed: add an "
				"[interface %s] section or use interface = *", r->ifname,
				r->ifname);
		} else {
			r->ifindex = m->ifaces[e].ifindex;
			ok[RK_IFACE] = true;
		}
	}
	if (f[RK_DIR] && (ok[RK_DIR] = get_enum(c, f[RK_DIR], dirs, &e)))
		r->dir = (__u8)e;
	if (f[RK_SRC])
		r->has_src = ok[RK_SRC] = get_cidr(c, f[RK_SRC], &r->src);
	if (f[RK_DST])
		r->has_dst = ok[RK_DST] = get_cidr(c, f[RK_DST], &r->dst);
	if (f[RK_PROTO] && (ok[RK_PROTO] = get_proto(c, f[RK_PROTO], &any, &r->proto)))
		r->has_proto = !any;
	if (f[RK_SPORT])
		r->has_sport = ok[RK_SPORT] = get_ports(c, f[RK_SPORT], &r->sport);
	if (f[RK_DPORT])
		r->has_dport = ok[RK_DPORT] = get_ports(c, f[RK_DPORT], &r->dport);
	if (f[RK_ACTION] && (ok[RK_ACTION] = get_enum(c, f[RK_ACTION], actions, &e)))
		r->action = (__u8)e;
	if (f[RK_REDIRECT] && (ok[RK_REDIRECT] = get_enum(c, f[RK_REDIRECT], modes, &e)))
		r->mode = (__u8)e;
	if (f[RK_TARGET]) {
		if (!strcmp(f[RK_TARGET]->val, "auto")) {
			r->target_auto = ok[RK_TARGET] = true;
			r->target_ifindex = XTC_TARGET_AUTO;
		} else if (xtc_parse_ifname(f[RK_TARGET]->val, r->target, err, sizeof(err))) {
			bad_value(c, f[RK_TARGET], "use an interface name, or auto to look the "
				  "destination up in the IP-to-ifindex map");
		} else if (host_iface(c, f[RK_TARGET]->line, "target", r->target,
				      "use an existing interface, or auto", &info)) {
			r->target_ifindex = info.ifindex;
			ok[RK_TARGET] = true;
		}
	}
	if (f[RK_REVERSE])
		ok[RK_REVERSE] = get_bool(c, f[RK_REVERSE], "use yes or no", &r->reverse);
}

/* Checks that need several keys of the rule at once. */
static void check_rule_combos(struct ctx *c, const struct raw_sec *s, const struct raw_kv **f,
			      const bool *ok, struct xtc_rule *r)
{
	static const int redirect_only[] = { RK_REDIRECT, RK_TARGET, RK_REVERSE };
	char label[96];
	size_t i;

	sec_label(s, label, sizeof(label));
	if (ok[RK_SRC] && ok[RK_DST] && r->src.family != r->dst.family)
		problem(c, f[RK_DST]->line, "dst is %s but src is %s: a rule matches one "
			"address family", family_name(r->dst.family), family_name(r->src.family));
	r->family = ok[RK_SRC] ? r->src.family : ok[RK_DST] ? r->dst.family : XTC_FAMILY_ANY;
	if (r->has_proto && (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6)) {
		__u8 want = r->proto == IPPROTO_ICMP ? XTC_FAMILY_V4 : XTC_FAMILY_V6;

		if (r->family != XTC_FAMILY_ANY && r->family != want)
			problem(c, f[RK_PROTO]->line, "proto %s is for %s but the rule's "
				"addresses are %s: use %s", f[RK_PROTO]->val, family_name(want),
				family_name(r->family), want == XTC_FAMILY_V4 ? "icmpv6" : "icmp");
		if (r->family == XTC_FAMILY_ANY)
			r->family = want;
	}
	for (i = RK_SPORT; i <= RK_DPORT; i++)
		if (f[i] && (!f[RK_PROTO] || ok[RK_PROTO]) &&
		    !(r->has_proto && (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP)))
			problem(c, f[i]->line, "%s needs proto = tcp or udp", rule_keys[i]);

	if (!f[RK_ACTION]) {
		problem(c, s->line, "%s has no action: add action = pass, drop or redirect", label);
		return;
	}
	if (!ok[RK_ACTION])
		return;
	if (r->action != XTC_ACT_REDIRECT) {
		for (i = 0; i < sizeof(redirect_only) / sizeof(redirect_only[0]); i++)
			if (f[redirect_only[i]])
				problem(c, f[redirect_only[i]]->line, "%s is only for action = "
					"redirect, but action is %s: remove it",
					rule_keys[redirect_only[i]], f[RK_ACTION]->val);
		r->reverse = false;
		return;
	}
	if (!f[RK_REDIRECT])
		problem(c, f[RK_ACTION]->line, "action = redirect needs redirect = plain, "
			"neigh or peer");
	if (!f[RK_TARGET])
		problem(c, f[RK_ACTION]->line, "action = redirect needs target = an "
			"interface name or auto");
	if (ok[RK_REVERSE] && r->reverse && !r->ifname[0])
		problem(c, f[RK_REVERSE]->line, "reverse = yes needs a concrete interface for "
			"the replies to return to: set interface = NAME, not *");
}

/* redirect = peer: bpf_redirect_peer() exists only at TC ingress and only into a veth. */
static void check_peer(struct ctx *c, const struct raw_kv **f, const bool *ok,
		       const struct xtc_rule *r)
{
	static const char need[] = "redirect = peer needs a veth target whose peer is in "
				   "another network namespace";
	struct xtc_netdev_info info;

	if (!ok[RK_ACTION] || r->action != XTC_ACT_REDIRECT || !ok[RK_REDIRECT] ||
	    r->mode != XTC_MODE_PEER)
		return;
	if (r->dir == XTC_DIR_EGRESS)
		problem(c, f[RK_REDIRECT]->line, "redirect = peer works only at TC ingress: use "
			"direction = ingress, or redirect = neigh or plain");
	if (!ok[RK_TARGET] || r->target_auto || host_lookup(c, r->target, &info))
		return;
	if (!info.is_veth)
		problem(c, f[RK_TARGET]->line, "%s, but '%s' is not a veth", need, r->target);
	else if (!info.peer_other_netns)
		problem(c, f[RK_TARGET]->line, "%s, but the peer of '%s' is in this one", need,
			r->target);
}

static int push_rule(struct xtc_model *m, const struct xtc_rule *r)
{
	if (GROW(m->rules, m->n_rules))
		return -ENOMEM;
	m->rules[m->n_rules++] = *r;
	return 0;
}

static int check_rule(struct ctx *c, const struct raw_sec *s, bool dup, struct xtc_model *m)
{
	const struct raw_kv *f[RK_N];
	bool ok[RK_N] = {};
	struct xtc_rule r = { .line = s->line };

	snprintf(r.name, sizeof(r.name), "%s", s->name);
	collect(c, s, rule_keys, f);
	parse_rule_keys(c, f, ok, m, &r);
	check_rule_combos(c, s, f, ok, &r);
	check_peer(c, f, ok, &r);
	if (dup)
		return 0;
	r.id = (__u32)m->n_rules;
	r.prio = 2 * r.id;
	return push_rule(m, &r);
}

/* reverse = yes: the return path, redirected back out of the original interface. */
static int add_mirrors(struct xtc_model *m)
{
	int n_file = m->n_rules, i, err;

	for (i = 0; i < n_file; i++) {
		const struct xtc_rule *o = &m->rules[i];
		struct xtc_rule r = {
			.line = o->line, .id = (__u32)m->n_rules, .prio = o->prio + 1,
			.dir = XTC_DIR_INGRESS, .family = o->family,
			.has_src = o->has_dst, .src = o->dst, .has_dst = o->has_src, .dst = o->src,
			.has_proto = o->has_proto, .proto = o->proto,
			.has_sport = o->has_dport, .sport = o->dport,
			.has_dport = o->has_sport, .dport = o->sport,
			.action = XTC_ACT_REDIRECT, .mode = XTC_MODE_NEIGH,
			.target_ifindex = o->ifindex, .generated = true,
		};

		if (!o->reverse || o->action != XTC_ACT_REDIRECT)
			continue;
		snprintf(r.name, sizeof(r.name), "%.*s~reverse", (int)RULE_NAME_MAX, o->name);
		snprintf(r.target, sizeof(r.target), "%s", o->ifname);
		if (!o->target_auto) {
			snprintf(r.ifname, sizeof(r.ifname), "%s", o->target);
			r.ifindex = o->target_ifindex;
		}
		err = push_rule(m, &r);
		if (err)
			return err;
	}
	return 0;
}

static void check_max_rules(struct ctx *c, const struct xtc_model *m)
{
	const struct xtc_rule *r;

	if ((__u32)m->n_rules <= m->max_rules)
		return;
	r = &m->rules[m->max_rules];
	if (r->generated)
		problem(c, r->line, "the reverse = yes mirror of [rule %.*s] is rule %u, but "
			"max_rules is %u: raise max_rules (up to %d) or remove rules",
			(int)(strlen(r->name) - strlen("~reverse")), r->name, m->max_rules + 1,
			m->max_rules, MAX_RULES_LIMIT);
	else
		problem(c, r->line, "[rule %s] is rule %u, but max_rules is %u: raise max_rules "
			"(up to %d) or remove rules", r->name, m->max_rules + 1, m->max_rules,
			MAX_RULES_LIMIT);
}

/* Which TC hooks each interface needs, unless the file says. */
static void apply_tc_defaults(struct xtc_model *m, const struct tc_choice *tcs)
{
	int i, k;

	for (i = 0; i < m->n_ifaces; i++) {
		struct xtc_iface *ifc = &m->ifaces[i];
		bool in = false, eg = false;

		for (k = 0; k < m->n_rules; k++) {
			const struct xtc_rule *r = &m->rules[k];

			if (r->ifname[0] && strcmp(r->ifname, ifc->name))
				continue;
			if (r->dir == XTC_DIR_EGRESS) {
				eg = true;
				continue;
			}
			/* XDP hands redirects to TC ingress; without XDP, TC does all the work. */
			if (r->action == XTC_ACT_REDIRECT || !ifc->xdp)
				in = true;
		}
		ifc->tc_ingress = tcs[i].ingress >= 0 ? tcs[i].ingress : in;
		ifc->tc_egress = tcs[i].egress >= 0 ? tcs[i].egress : eg;
	}
}

/* Every entry with a good prefix goes in, so that duplicates are found whatever else is wrong. */
static int check_static(struct ctx *c, const struct raw_sec *s, struct xtc_model *m,
			const struct raw_kv ***keys)
{
	char err[XTC_ERR_LEN], ctxt[128];
	struct xtc_netdev_info info;
	int i;

	for (i = 0; i < s->n_kv; i++) {
		const struct raw_kv *kv = &s->kv[i];
		struct xtc_static st = { .line = kv->line };

		if (xtc_parse_cidr(kv->key, &st.prefix, err, sizeof(err))) {
			problem(c, kv->line, "bad prefix '" QS "' in [static]: %s", kv->key,
				err);
			continue;
		}
		if (!*kv->val) {
			problem(c, kv->line, "missing interface for '" QS "' in [static]: "
				"write PREFIX = INTERFACE", kv->key);
		} else if (xtc_parse_ifname(kv->val, st.ifname, err, sizeof(err))) {
			problem(c, kv->line, "bad interface name '" QS "' for '" QS "' in "
				"[static]: %s", kv->val, kv->key, err);
		} else {
			snprintf(ctxt, sizeof(ctxt), "[static] " QS, kv->key);
			if (host_iface(c, kv->line, ctxt, st.ifname, "use an existing interface",
				       &info))
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

	return d ? d : (x->line > y->line) - (x->line < y->line);
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
		if (memcmp(&by[i]->prefix, &first->prefix, sizeof(first->prefix))) {
			first = by[i];
			continue;
		}
		problem(c, by[i]->line, "duplicate prefix '" QS "' in [static]: the same "
			"prefix is at line %d", keys[by[i] - m->statics]->key, first->line);
	}
	free(by);
	return 0;
}

static int cmp_sec(const void *a, const void *b)
{
	const struct raw_sec *x = *(const struct raw_sec *const *)a;
	const struct raw_sec *y = *(const struct raw_sec *const *)b;
	int d = (int)x->kind - (int)y->kind;

	if (!d)
		d = strcmp(x->name, y->name);
	return d ? d : (x->line > y->line) - (x->line < y->line);
}

/* Sets first_line on every repeat of a section, and reports it. */
static int check_section_dups(struct ctx *c)
{
	struct raw_sec **by;
	char label[96];
	int i;

	if (c->n_secs < 2)
		return 0;
	by = malloc((size_t)c->n_secs * sizeof(*by));
	if (!by)
		return -ENOMEM;
	for (i = 0; i < c->n_secs; i++)
		by[i] = &c->secs[i];
	qsort(by, (size_t)c->n_secs, sizeof(*by), cmp_sec);
	for (i = 1; i < c->n_secs; i++) {
		struct raw_sec *s = by[i];
		const struct raw_sec *prev = by[i - 1];

		if (s->kind == SEC_BAD || s->kind != prev->kind || strcmp(s->name, prev->name))
			continue;
		s->first_line = prev->first_line ? prev->first_line : prev->line;
		sec_label(s, label, sizeof(label));
		problem(c, s->line, "duplicate section %s: the first is at line %d%s", label,
			s->first_line, s->kind == SEC_RULE ? "; rule names must be unique" :
			s->kind == SEC_IFACE ? "; one section per interface" :
			"; merge them into one");
	}
	free(by);
	return 0;
}

static int validate(struct ctx *c, struct xtc_model *m)
{
	static const enum sec_kind order[] = { SEC_GLOBAL, SEC_IFACE, SEC_RULE, SEC_STATIC };
	const struct raw_kv **static_keys = NULL;
	struct tc_choice *tcs = NULL;
	size_t o;
	int i, err;

	err = check_section_dups(c);
	/* Globals give interfaces their defaults, interfaces are what rules refer to. */
	for (o = 0; o < sizeof(order) / sizeof(order[0]) && !err; o++) {
		for (i = 0; i < c->n_secs && !err; i++) {
			const struct raw_sec *s = &c->secs[i];
			bool dup = s->first_line != 0;

			if (s->kind != order[o])
				continue;
			if (s->kind == SEC_GLOBAL) {
				struct xtc_model scratch = *m;

				check_global(c, s, dup ? &scratch : m);
			} else if (s->kind == SEC_IFACE) {
				err = check_iface(c, s, dup, m, &tcs);
			} else if (s->kind == SEC_RULE) {
				err = check_rule(c, s, dup, m);
			} else {
				err = check_static(c, s, m, &static_keys);
			}
		}
	}
	if (!err)
		err = check_static_dups(c, m, static_keys);
	if (!err)
		err = add_mirrors(m);
	if (!err) {
		check_max_rules(c, m);
		apply_tc_defaults(m, tcs);
	}
	free(static_keys);
	free(tcs);
	return err;
}

/* ---- the API ---------------------------------------------------------- */

static int diag_cmp(const void *a, const void *b)
{
	const struct diag_ent *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hands the collected problems over in line order; returns -ENOMEM or 0. */
static int move_diags(struct ctx *c, struct xtc_diag *diag)
{
	char **msgs;
	int i;

	if (!c->n_diags)
		return 0;
	qsort(c->diags, (size_t)c->n_diags, sizeof(*c->diags), diag_cmp);
	msgs = realloc(diag->msgs, (size_t)(diag->n + c->n_diags) * sizeof(*msgs));
	if (!msgs)
		return -ENOMEM;
	diag->msgs = msgs;
	for (i = 0; i < c->n_diags; i++) {
		diag->msgs[diag->n++] = c->diags[i].msg;
		c->diags[i].msg = NULL;
	}
	return 0;
}

static void ctx_free(struct ctx *c)
{
	int i, k;

	for (i = 0; i < c->n_diags; i++)
		free(c->diags[i].msg);
	free(c->diags);
	for (i = 0; i < c->n_secs; i++) {
		for (k = 0; k < c->secs[i].n_kv; k++) {
			free(c->secs[i].kv[k].key);
			free(c->secs[i].kv[k].val);
		}
		free(c->secs[i].kv);
		free(c->secs[i].name);
	}
	free(c->secs);
	free(c->hosts);
	free(c->buf);
	if (c->f)
		fclose(c->f);
}

static int open_config(struct ctx *c)
{
	struct stat st;
	int fd, err;

	fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		problem(c, 0, "cannot read: %s", strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		problem(c, 0, "cannot read: %s", strerror(-err));
		close(fd);
		return err;
	}
	if (S_ISDIR(st.st_mode)) {
		problem(c, 0, "is a directory; give the path of an INI file");
		close(fd);
		return -EISDIR;
	}
	c->f = fdopen(fd, "r");
	if (!c->f) {
		err = -errno;
		problem(c, 0, "cannot read: %s", strerror(-err));
		close(fd);
		return err;
	}
	return 0;
}

int xtc_config_load(const char *path, struct xtc_model **out, struct xtc_diag *diag)
{
	struct ctx c = { .path = path, .cur = -1 };
	struct xtc_model *m = NULL;
	int err, rc;

	*out = NULL;
	err = open_config(&c);
	if (err)
		goto cleanup;
	m = calloc(1, sizeof(*m));
	if (!m) {
		err = -ENOMEM;
		goto cleanup;
	}
	snprintf(m->path, sizeof(m->path), "%s", path);
	snprintf(m->bpffs, sizeof(m->bpffs), "%s", XTC_DEFAULT_BPFFS);
	m->xdp_mode = XTC_XDP_NATIVE;
	m->xdp_priority = XTC_DEFAULT_PRIO;
	m->tc_attach = XTC_TC_AUTO;
	m->redirect_fallback = XTC_ACT_PASS;
	m->max_rules = XTC_DEFAULT_MAX_RULES;

	rc = ini_parse_stream(reader, &c, on_pair, &c);
	if (c.err) {
		err = c.err;
		if (err != -ENOMEM) {
			/* Half a file validates into nonsense: report only the read error. */
			for (rc = 0; rc < c.n_diags; rc++)
				free(c.diags[rc].msg);
			c.n_diags = 0;
			problem(&c, 0, "cannot read: %s", strerror(-err));
		}
		goto cleanup;
	}
	if (rc < 0) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = validate(&c, m);
	if (!err && c.err)
		err = c.err;
	if (!err && c.n_diags)
		err = -EINVAL;
	if (!err) {
		pr_debug("config: %s: %d interface(s), %d rule(s), %d static(s)\n", path,
			 m->n_ifaces, m->n_rules, m->n_statics);
		*out = m;
		m = NULL;
	}
cleanup:
	if (move_diags(&c, diag) && !err)
		err = -ENOMEM;
	xtc_model_free(m);
	ctx_free(&c);
	return err;
}

void xtc_diag_free(struct xtc_diag *d)
{
	int i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	d->msgs = NULL;
	d->n = 0;
}

void xtc_diag_print(const struct xtc_diag *d)
{
	int i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->msgs[i]);
}
