// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * [set NAME] sections: one prefix, port or port range per line, so that one
 * rule can match thousands of values (src = @NAME) without thousands of
 * sections.  A set holds prefixes (IPv4 and IPv6 may mix) or ports, never
 * both.  Repeated entries are a warning and kept once; an empty set is a
 * warning too (a generator may legitimately emit one), and a rule that uses
 * it matches nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_raw.h"
#include "config_values.h"
#include "xtc_shared.h"

enum elem_kind { ELEM_BAD, ELEM_PREFIX, ELEM_PORT };

static const char *const kind_words[] = { "?", "prefix", "port" };
static const char *const kind_plural[] = { "?", "prefixes", "ports" };

/* Addresses have '.' or ':'; ports are digits and at most one '-'. */
static enum elem_kind kind_of(const char *s)
{
	if (strpbrk(s, ".:/"))
		return ELEM_PREFIX;
	if (*s && strspn(s, "0123456789-") == strlen(s))
		return ELEM_PORT;
	return ELEM_BAD;
}

/* One parsed entry, with where it was, for sorting out repeats. */
struct elem {
	union {
		struct xtc_cidr prefix;
		struct xtc_port_range ports;
	} v;
	int order;			/* position in the section */
	int line;
	const char *text;
};

static int cmp_prefix(const void *a, const void *b)
{
	const struct elem *x = a, *y = b;
	int d = memcmp(&x->v.prefix, &y->v.prefix, sizeof(x->v.prefix));

	return d ? d : x->order - y->order;
}

static int cmp_ports(const void *a, const void *b)
{
	const struct elem *x = a, *y = b;

	if (x->v.ports.lo != y->v.ports.lo)
		return x->v.ports.lo < y->v.ports.lo ? -1 : 1;
	if (x->v.ports.hi != y->v.ports.hi)
		return x->v.ports.hi < y->v.ports.hi ? -1 : 1;
	return x->order - y->order;
}

/*
 * Warns about each repeated entry and drops it: sorting brings equal ones
 * together, fine for a million entries.  Returns how many remain, in order.
 */
static int drop_repeats(struct ctx *c, const struct raw_sec *s, struct elem *el, int n,
			enum elem_kind kind)
{
	size_t size = kind == ELEM_PREFIX ? sizeof(el->v.prefix) : sizeof(el->v.ports);
	struct elem *by;
	bool *drop;
	int i, k;

	if (n < 2)
		return n;
	by = malloc((size_t)n * sizeof(*by));
	drop = calloc((size_t)n, sizeof(*drop));
	if (!by || !drop) {
		free(by);
		free(drop);
		c->err = -ENOMEM;
		return n;
	}
	memcpy(by, el, (size_t)n * sizeof(*by));
	qsort(by, (size_t)n, sizeof(*by), kind == ELEM_PREFIX ? cmp_prefix : cmp_ports);
	for (i = 1, k = 0; i < n; i++) {
		if (memcmp(&by[i].v, &by[k].v, size)) {
			k = i;
			continue;
		}
		drop[by[i].order] = true;
		cfg_warn(c, by[i].line, "duplicate entry '" QS "' in [set %s]: the same %s is at "
			 "line %d", by[i].text, s->name, kind_words[kind], by[k].line);
	}
	for (i = 0, k = 0; i < n; i++)
		if (!drop[i])
			el[k++] = el[i];
	free(by);
	free(drop);
	return k;
}

/* Parses every entry; el has room for all.  Returns the kind of the set (ELEM_BAD if none is good). */
static enum elem_kind parse_entries(struct ctx *c, const struct raw_sec *s, struct elem *el,
				    int *n_el)
{
	enum elem_kind set_kind = ELEM_BAD;
	char err[XTC_ERR_LEN];
	int i, first = 0;

	*n_el = 0;
	for (i = 0; i < s->n_kv; i++) {
		const struct raw_kv *kv = &s->kv[i];
		enum elem_kind k = kind_of(kv->key);
		struct elem e = { .order = *n_el, .line = kv->line, .text = kv->key };
		int rc;

		if (k == ELEM_BAD) {
			cfg_problem(c, kv->line, "bad entry '" QS "' in [set %s]: use a prefix such "
				    "as 10.0.0.0/8 or fd00::/64, or a port or range such as 443 or "
				    "1024-65535, one per line", kv->key, s->name);
			continue;
		}
		rc = k == ELEM_PREFIX ? xtc_parse_cidr(kv->key, &e.v.prefix, err, sizeof(err)) :
		     xtc_parse_port_range(kv->key, &e.v.ports, err, sizeof(err));
		if (rc) {
			cfg_problem(c, kv->line, "bad %s '" QS "' in [set %s]: %s", kind_words[k],
				    kv->key, s->name, err);
			continue;
		}
		if (set_kind != ELEM_BAD && k != set_kind) {
			cfg_problem(c, kv->line, "'" QS "' is a %s, but [set %s] holds %s (the "
				    "first at line %d): a set holds prefixes or ports, not both",
				    kv->key, kind_words[k], s->name, kind_plural[set_kind], first);
			continue;
		}
		if (set_kind == ELEM_BAD) {
			set_kind = k;
			first = kv->line;
		}
		el[(*n_el)++] = e;
	}
	return set_kind;
}

static int check_set(struct ctx *c, const struct raw_sec *s, struct xtc_model *m)
{
	struct xtc_set set = { .file = m->files[s->file], .line = s->line };
	enum elem_kind kind;
	struct elem *el;
	int n, i, err = 0;

	snprintf(set.name, sizeof(set.name), "%s", s->name);
	el = malloc((s->n_kv ? (size_t)s->n_kv : 1) * sizeof(*el));
	if (!el)
		return -ENOMEM;
	kind = parse_entries(c, s, el, &n);
	n = drop_repeats(c, s, el, n, kind);
	if (!s->n_kv)
		cfg_warn(c, s->line, "[set %s] is empty: rules that use it match nothing", s->name);
	if (s->first_line || s->bad_name)
		goto out;
	set.ports = kind == ELEM_PORT;
	if (set.ports)
		set.ports_r = malloc((size_t)(n ? n : 1) * sizeof(*set.ports_r));
	else
		set.prefixes = malloc((size_t)(n ? n : 1) * sizeof(*set.prefixes));
	if (!set.ports_r && !set.prefixes) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (set.ports) {
			set.ports_r[set.n_ports++] = el[i].v.ports;
			continue;
		}
		set.prefixes[set.n_prefixes++] = el[i].v.prefix;
		if (el[i].v.prefix.family == XTC_FAMILY_V4)
			set.n_v4++;
		else
			set.n_v6++;
	}
	if (GROW(m->sets, m->n_sets)) {
		free(set.ports_r);
		free(set.prefixes);
		err = -ENOMEM;
		goto out;
	}
	m->sets[m->n_sets++] = set;
out:
	free(el);
	return err;
}

static int cmp_set_name(const void *a, const void *b)
{
	const struct xtc_set *x = *(const struct xtc_set *const *)a;
	const struct xtc_set *y = *(const struct xtc_set *const *)b;

	return strcmp(x->name, y->name);
}

const struct xtc_set *cfg_find_set(const struct ctx *c, const char *name)
{
	struct xtc_set key, *kp = &key;
	const struct xtc_set **hit;

	/* Without sets set_index is NULL, which bsearch() must not get even for 0 elements. */
	if (!c->n_set_index || strlen(name) >= sizeof(key.name))
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	hit = bsearch(&kp, c->set_index, (size_t)c->n_set_index, sizeof(*c->set_index),
		      cmp_set_name);
	return hit ? *hit : NULL;
}

/* All [set NAME] sections at once, then an index so that rules find them by name. */
int cfg_check_sets(struct ctx *c, struct xtc_model *m)
{
	int i, err = 0;

	for (i = 0; i < c->n_secs && !err; i++) {
		if (c->secs[i].kind != SEC_SET)
			continue;
		c->file = c->secs[i].file;
		err = check_set(c, &c->secs[i], m);
	}
	/* Rules point into m->sets from here on: it must not move again. */
	return err ?: cfg_index_sets(c, m);
}

int cfg_index_sets(struct ctx *c, const struct xtc_model *m)
{
	int i;

	if (!m->n_sets)
		return 0;
	c->set_index = malloc((size_t)m->n_sets * sizeof(*c->set_index));
	if (!c->set_index)
		return -ENOMEM;
	for (i = 0; i < m->n_sets; i++)
		c->set_index[i] = &m->sets[i];
	c->n_set_index = m->n_sets;
	qsort(c->set_index, (size_t)c->n_set_index, sizeof(*c->set_index), cmp_set_name);
	return 0;
}
