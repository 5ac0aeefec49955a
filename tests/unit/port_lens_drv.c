// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The port-range cut (model/port_lens.c) without a kernel, for
 * test_port_lens.py:
 *
 *   port_lens_drv [--spans N] CONFIG
 *
 * Compiles the config's rules as apply does (holding at most N ranges whole
 * per field; default XTC_PORT_SPANS_MAX) and prints one JSON line: the
 * lengths chosen per field, the ranges held whole, the match shapes and merged entries with the
 * cut, the shapes without it (xtc_tss_count_shapes), the entries the rules
 * expand to without it, and "exact": whether, for every rule, the ports its
 * expansions match on each field are its ports, each once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "log.h"
#include "tss.h"

struct cover {
	unsigned char n[65536];		/* times each port is matched */
	int side;			/* 0: sport, 1: dport */
};

static int mark(void *ctx, const struct xtc_shape *shape, const struct xtc_flow_key *key)
{
	struct cover *c = ctx;
	const struct xtc_port_span *sp = c->side ? &shape->dport : &shape->sport;
	__u16 m = c->side ? shape->mask.dport : shape->mask.sport;
	__u32 lo = c->side ? key->dport : key->sport, hi = lo + (__u16)~m, p;

	/* A range held whole: the space matches any port (mask 0) within its span. */
	if (sp->hi) {
		if (m || lo)
			return -EINVAL;
		lo = sp->lo;
		hi = sp->hi;
	}
	for (p = lo; p <= hi; p++)
		if (c->n[p] < 255)
			c->n[p]++;
	return 0;
}

static bool in_field(bool has, const struct xtc_port_range *one, const struct xtc_set *set,
		     __u32 p)
{
	int i;

	if (!has)
		return true;
	if (!set)
		return p >= one->lo && p <= one->hi;
	for (i = 0; i < set->n_ports; i++)
		if (p >= set->ports_r[i].lo && p <= set->ports_r[i].hi)
			return true;
	return false;
}

/* Whether r's expansions under lens match exactly its ports, each port once. */
static bool exact(const struct xtc_rule *r, const struct xtc_port_lens *lens)
{
	struct cover *c = calloc(1, sizeof(*c));
	bool ok = c != NULL;
	__u32 p;

	for (c->side = 0; ok && c->side < 2; c->side++) {
		/* The field alone: other fields and addresses would repeat its blocks. */
		struct xtc_rule x = *r;

		x.has_src = x.has_dst = false;
		x.src_set = x.dst_set = NULL;
		if (c->side == 0)
			x.has_dport = false, x.dport_set = NULL;
		else
			x.has_sport = false, x.sport_set = NULL;
		memset(c->n, 0, sizeof(c->n));
		if (xtc_tss_expand(&x, lens, mark, c)) {
			ok = false;
			break;
		}
		for (p = 0; p < 65536 && ok; p++) {
			bool want = c->side == 0 ? in_field(r->has_sport, &r->sport, r->sport_set, p) :
						  in_field(r->has_dport, &r->dport, r->dport_set, p);

			ok = c->n[p] == (want ? 1 : 0);
		}
	}
	free(c);
	return ok;
}

static void print_lens(const char *name, __u32 lens)
{
	int l, first = 1;

	printf("\"%s\": [", name);
	for (l = 0; l <= 16; l++)
		if (lens >> l & 1) {
			printf("%s%d", first ? "" : ", ", l);
			first = 0;
		}
	printf("]");
}

static void print_spans(const char *name, const struct xtc_port_spans *sp)
{
	int i;

	printf("\"%s\": [", name);
	for (i = 0; i < sp->n; i++)
		printf("%s[%u, %u]", i ? ", " : "", sp->v[i].lo, sp->v[i].hi);
	printf("]");
}

int main(int argc, char **argv)
{
	struct xtc_diag diag = {};
	struct xtc_model *m = NULL;
	const struct xtc_rule *over;
	int max_spans = XTC_PORT_SPANS_MAX;
	struct xtc_tss t;
	size_t natural = 0;
	bool ok = true;
	int r, n_nat, err;

	xtc_log_set_level(XTC_LOG_WARN);
	if (argc == 4 && !strcmp(argv[1], "--spans")) {
		max_spans = atoi(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: port_lens_drv [--spans N] CONFIG\n");
		return 2;
	}
	err = xtc_config_load(argv[1], &m, &diag);
	xtc_diag_print(&diag);
	xtc_diag_free(&diag);
	if (err)
		return 1;
	for (r = 0; r < m->n_rules; r++)
		m->rules[r].id = (__u32)r;
	err = xtc_tss_count_shapes(m->rules, m->n_rules, &n_nat, &over);
	if (!err)
		err = xtc_tss_build_spans(m->rules, m->n_rules, NULL, max_spans, &t);
	if (err) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(-err));
		xtc_model_free(m);
		return 1;
	}
	for (r = 0; r < m->n_rules; r++) {
		natural += xtc_tss_rule_entries(&m->rules[r]);
		ok = ok && exact(&m->rules[r], &t.lens);
	}
	printf("{");
	print_lens("sport", t.lens.sport);
	printf(", ");
	print_lens("dport", t.lens.dport);
	printf(", ");
	print_spans("sport_whole", &t.lens.sspans);
	printf(", ");
	print_spans("dport_whole", &t.lens.dspans);
	printf(", \"shapes\": %d, \"shapes_uncut\": %d, \"entries_expanded\": %zu, "
	       "\"entries_merged\": %zu, \"entries_uncut\": %zu, \"exact\": %s}\n", t.n_masks,
	       n_nat, t.n_expanded, t.n_entries, natural, ok ? "true" : "false");
	xtc_tss_free(&t);
	xtc_model_free(m);
	return 0;
}
