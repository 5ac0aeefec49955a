// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE		/* vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plan_changes.h"
#include "rule_info.h"

static const char *const obj_names[] = {
	[XTC_CH_STATE] = "state",
	[XTC_CH_INTERFACE] = "interface",
	[XTC_CH_XDP] = "xdp",
	[XTC_CH_TC_INGRESS] = "tc_ingress",
	[XTC_CH_TC_EGRESS] = "tc_egress",
	[XTC_CH_RULE] = "rule",
	[XTC_CH_CLASSIFIER] = "classifier",
	[XTC_CH_IPMAP] = "ipmap",
	[XTC_CH_SETTING] = "setting",
};

int xtc_changes_add(struct xtc_changes *cs, char op, enum xtc_change_obj obj, const char *name,
		    bool disruptive, const char *fmt, ...)
{
	struct xtc_change *c;
	va_list ap;
	int n;

	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? 2 * cs->cap : 32;

		c = realloc(cs->c, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		cs->c = c;
		cs->cap = cap;
	}
	c = &cs->c[cs->n];
	c->op = op;
	c->obj = obj;
	c->disruptive = disruptive;
	c->detail = NULL;
	c->name = xtc_arena_strdup(&cs->names, name ?: "");
	if (!c->name)
		return -ENOMEM;
	/* Most records (100k "+ rule" of a first apply) have no detail: keep them small. */
	if (fmt) {
		va_start(ap, fmt);
		n = vasprintf(&c->detail, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -ENOMEM;
	}
	cs->n++;
	return 0;
}

void xtc_changes_free(struct xtc_changes *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		free(cs->c[i].detail);
	free(cs->c);
	xtc_arena_free(&cs->names);
	memset(cs, 0, sizeof(*cs));
}

struct named {
	__u32 id;
	const struct xtc_rule_info *ri;
	const struct xtc_rule_sets *rs;
	__u32 rank;			/* position in match order, 1-based */
	__u32 common_rank;		/* among the rules both sides have */
	const struct named *other;	/* the same name on the other side */
};

static int by_prio(const void *a, const void *b)
{
	const struct named *x = *(const struct named *const *)a;
	const struct named *y = *(const struct named *const *)b;

	return x->ri->prio < y->ri->prio ? -1 : x->ri->prio > y->ri->prio;
}

/*
 * The used slots in id order, and *order: the same in match order, each
 * with its rank.  Ids are handed out in file order, so the slots are
 * usually in match order already: then there is nothing to sort.
 */
static struct named *collect(const struct xtc_rule_table *t, size_t *count,
			     struct named ***order_out)
{
	struct named *v = calloc(t->n ? t->n : 1, sizeof(*v)), **order;
	bool sorted = true;
	size_t k = 0, i;

	order = calloc(t->n ? t->n : 1, sizeof(*order));
	if (!v || !order) {
		free(v);
		free(order);
		return NULL;
	}
	for (i = 0; i < t->n; i++) {
		if (!xtc_rule_table_used(t, i))
			continue;
		v[k].id = i;
		v[k].ri = xtc_rule_table_at(t, i, &v[k].rs);
		order[k] = &v[k];
		sorted &= !k || by_prio(&order[k - 1], &order[k]) <= 0;
		k++;
	}
	if (!sorted)
		qsort(order, k, sizeof(*order), by_prio);
	for (i = 0; i < k; i++)
		order[i]->rank = i + 1;
	*count = k;
	*order_out = order;
	return v;
}

/* Ranks among the rules both sides have: moving one of them changes what matches first. */
static void common_ranks(struct named **order, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (order[i]->other)
			order[i]->common_rank = ++k;
}

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* "dst_port 80 -> 8080, action drop -> pass"; "" when nothing differs. */
static void describe(const struct named *h, const struct named *w, char *buf, size_t len)
{
	char a[128], b[128];
	size_t f;
	int i;

	buf[0] = '\0';
	/* Most rules of a re-apply are unchanged: skip formatting every field of each. */
	if (!memcmp(h->ri, w->ri, sizeof(*h->ri)) && h->common_rank == w->common_rank &&
	    (h->rs == w->rs || (h->rs && w->rs && !memcmp(h->rs, w->rs, sizeof(*h->rs)))))
		return;
	for (f = 0; f < xtc_rule_n_fields; f++) {
		xtc_rule_fields[f].show(h->ri, h->rs, a, sizeof(a));
		xtc_rule_fields[f].show(w->ri, w->rs, b, sizeof(b));
		if (strcmp(a, b))
			append(buf, len, "%s%s %s -> %s", buf[0] ? ", " : "",
			       xtc_rule_fields[f].key, a[0] ? a : "any", b[0] ? b : "any");
	}
	for (i = 0; i < XTC_RM_SET_N && h->rs && w->rs; i++) {
		const struct xtc_rule_sets *hs = h->rs, *ws = w->rs;

		if (!hs->name[i][0] || strcmp(hs->name[i], ws->name[i]))
			continue;
		if (hs->size[i] != ws->size[i])
			append(buf, len, "%s@%s %u -> %u entries", buf[0] ? ", " : "", hs->name[i],
			       hs->size[i], ws->size[i]);
		else if (hs->digest[i] != ws->digest[i])
			append(buf, len, "%s@%s entries changed", buf[0] ? ", " : "", hs->name[i]);
	}
	if (h->common_rank != w->common_rank)
		append(buf, len, "%sposition %u -> %u", buf[0] ? ", " : "", h->rank, w->rank);
}

static bool any_used(const struct xtc_rule_table *t)
{
	__u32 i;

	for (i = 0; i < t->n; i++)
		if (xtc_rule_table_used(t, i))
			return true;
	return false;
}

/* A used slot's name and priority, from a table of any kind. */
static const char *slot_name(const struct xtc_rule_table *t, __u32 i, __u32 *prio)
{
	const struct xtc_rule_sets *sets;
	const struct xtc_rule_info *ri;
	const struct xtc_rule *r;

	if (xtc_rule_table_stable(t)) {
		ri = xtc_rule_table_at(t, i, &sets);
		*prio = ri->prio;
		return ri->name;
	}
	r = &t->rules[t->by_id[i]];
	*prio = r->prio;
	return r->name;
}

/*
 * Nothing recorded (a first apply): every rule is added, in match order,
 * which is id order unless ids were reused: -EAGAIN then, for the sort.
 * No list of all rules is made (40 MiB at 1M rules).
 */
static int all_added(struct xtc_changes *cs, const struct xtc_rule_table *want)
{
	bool first = true;
	__u32 i, prio, last = 0;
	int err = 0;

	for (i = 0; i < want->n; i++) {
		if (!xtc_rule_table_used(want, i))
			continue;
		slot_name(want, i, &prio);
		if (!first && prio < last)
			return -EAGAIN;
		last = prio;
		first = false;
	}
	cs->all_added = want;
	cs->all_added_at = cs->n;
	return err;
}

/* Every record in order, a first apply's "+ rule" ones made on the way. */
static void each_change(const struct xtc_changes *cs,
			void (*fn)(const struct xtc_change *c, void *ctx), void *ctx)
{
	const struct xtc_rule_table *t = cs->all_added;
	size_t i;
	__u32 id, prio;

	for (i = 0; i <= cs->n; i++) {
		for (id = 0; t && i == cs->all_added_at && id < t->n; id++) {
			struct xtc_change c = { .op = '+', .obj = XTC_CH_RULE };

			if (!xtc_rule_table_used(t, id))
				continue;
			c.name = (char *)slot_name(t, id, &prio);
			fn(&c, ctx);
		}
		if (i < cs->n)
			fn(&cs->c[i], ctx);
	}
}

int xtc_changes_rules(struct xtc_changes *cs, const struct xtc_rule_table *have,
		      const struct xtc_rule_table *want)
{
	struct named *h = NULL, *w = NULL, **ho = NULL, **wo = NULL;
	size_t nh = 0, nw = 0, i, j;
	char detail[512];
	int err = -ENOMEM;

	if (!any_used(have)) {
		err = all_added(cs, want);
		if (err != -EAGAIN)
			return err;
		/* A table made from rules is one whose ids follow match order (plan.c). */
		if (!xtc_rule_table_stable(want))
			return -EINVAL;
		err = -ENOMEM;
	}
	h = collect(have, &nh, &ho);
	w = collect(want, &nw, &wo);
	if (!h || !w)
		goto out;
	/*
	 * A rule that stays keeps its id (ids follow names): the same name in
	 * the same slot on both sides.  A slot can also pass from a removed
	 * rule to a new one.  Both lists are in id order.
	 */
	for (i = j = 0; i < nh && j < nw;) {
		__u32 hid = h[i].id, wid = w[j].id;

		if (hid == wid && !strncmp(h[i].ri->name, w[j].ri->name, sizeof(h[i].ri->name))) {
			h[i].other = &w[j];
			w[j].other = &h[i];
		}
		i += hid <= wid;
		j += wid <= hid;
	}
	common_ranks(ho, nh);
	common_ranks(wo, nw);
	err = 0;
	/* Removed first, in the old match order; then added and changed in the new one. */
	for (i = 0; i < nh && !err; i++)
		if (!ho[i]->other)
			err = xtc_changes_add(cs, '-', XTC_CH_RULE, ho[i]->ri->name, false, NULL);
	for (i = 0; i < nw && !err; i++) {
		if (!wo[i]->other) {
			err = xtc_changes_add(cs, '+', XTC_CH_RULE, wo[i]->ri->name, false, NULL);
			continue;
		}
		describe(wo[i]->other, wo[i], detail, sizeof(detail));
		if (detail[0])
			err = xtc_changes_add(cs, '~', XTC_CH_RULE, wo[i]->ri->name, false, "%s",
					      detail);
	}
out:
	free(ho);
	free(wo);
	free(h);
	free(w);
	return err;
}

static void print_line(const struct xtc_change *c)
{
	const char *d = c->detail ?: "";

	printf("%c %s%s%s%s%s%s\n", c->op, obj_names[c->obj], c->name[0] ? " " : "", c->name,
	       d[0] ? (c->op == '~' ? ": " : " (") : "", d, d[0] && c->op != '~' ? ")" : "");
	if (c->disruptive)
		printf("    ! disrupts traffic: %s %s is detached, then attached again; packets in "
		       "between are not classified by it\n", obj_names[c->obj], c->name);
}

struct text_ctx {
	size_t rules, max_rules;
};

static void text_one(const struct xtc_change *c, void *ctx)
{
	struct text_ctx *t = ctx;

	if (c->obj == XTC_CH_RULE && ++t->rules > t->max_rules)
		return;
	print_line(c);
}

void xtc_changes_print_text(const struct xtc_changes *cs, size_t max_rules)
{
	struct text_ctx t = { .max_rules = max_rules };

	each_change(cs, text_one, &t);
	if (t.rules > max_rules)
		printf("  ... and %zu more rule changes (xtc apply --dry-run --json lists them all)\n",
		       t.rules - max_rules);
}

static void json_one(const struct xtc_change *c, void *ctx)
{
	struct xtc_out *o = ctx;
	char op[2] = { c->op, 0 };

	xtc_out_obj_begin(o, NULL);
	xtc_out_str(o, "op", op);
	xtc_out_str(o, "object", obj_names[c->obj]);
	if (c->obj == XTC_CH_RULE)
		xtc_out_str(o, "rule", c->name);
	else if (c->obj == XTC_CH_STATE)
		xtc_out_str(o, "state", c->name);
	else if (c->obj == XTC_CH_SETTING)
		xtc_out_str(o, "setting", c->name);
	else if (c->name[0])
		xtc_out_str(o, "interface", c->name);
	if (c->detail && c->detail[0])
		xtc_out_str(o, "detail", c->detail);
	xtc_out_bool(o, "disruptive", c->disruptive);
	xtc_out_obj_end(o);
}

void xtc_changes_print(struct xtc_out *o, const struct xtc_changes *cs)
{
	xtc_out_list_begin(o, "changes", NULL);
	each_change(cs, json_one, o);
	xtc_out_list_end(o);
}
