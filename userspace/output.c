// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"

#define MAX_DEPTH 16
#define MAX_LABELS 8

struct prom_family {
	char name[96];
	char *samples;			/* newline-separated sample lines */
	size_t len;
};

struct xtc_out {
	enum xtc_out_fmt fmt;
	int depth;
	bool first[MAX_DEPTH];		/* JSON: no comma before the first member */
	bool in_list[MAX_DEPTH];
	const char *metric[MAX_DEPTH];	/* Prometheus family prefix per level */
	char labels[MAX_DEPTH][MAX_LABELS][2][64];
	int n_labels[MAX_DEPTH];
	struct prom_family *fam;
	int n_fam;
};

static bool started;

bool xtc_out_started(void)
{
	return started;
}

struct xtc_out *xtc_out_new(enum xtc_out_fmt fmt)
{
	struct xtc_out *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->fmt = fmt;
	started = true;
	if (fmt == XTC_OUT_JSON)
		printf("{\"schema\":%d", XTC_JSON_SCHEMA);
	return o;
}

static void json_escape(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_key(struct xtc_out *o, const char *key)
{
	if (!o->first[o->depth])
		putchar(',');
	o->first[o->depth] = false;
	if (key && !o->in_list[o->depth]) {
		json_escape(key);
		putchar(':');
	}
}

/* YAML-like: the first line of an object inside a list gets the "- ". */
static void indent(struct xtc_out *o)
{
	int d = o->depth, n = 2 * d;

	if (d > 0 && o->in_list[d - 1] && !o->in_list[d] && o->first[d] && n >= 2) {
		printf("%*s- ", n - 2, "");
		o->first[d] = false;
		return;
	}
	printf("%*s", n, "");
}

static const char *cur_metric(const struct xtc_out *o)
{
	int d;

	for (d = o->depth; d >= 0; d--)
		if (o->metric[d])
			return o->metric[d];
	return "xtc";
}

void xtc_out_obj_begin(struct xtc_out *o, const char *key)
{
	if (o->depth + 1 >= MAX_DEPTH)
		return;
	if (o->fmt == XTC_OUT_JSON) {
		json_key(o, key);
		putchar('{');
	} else if (o->fmt == XTC_OUT_TEXT && key) {
		indent(o);
		printf("%s:\n", key);
	}
	o->depth++;
	o->first[o->depth] = true;
	o->in_list[o->depth] = false;
	o->metric[o->depth] = NULL;
	o->n_labels[o->depth] = 0;
}

void xtc_out_obj_end(struct xtc_out *o)
{
	if (o->fmt == XTC_OUT_JSON)
		putchar('}');
	o->depth--;
}

void xtc_out_list_begin(struct xtc_out *o, const char *key, const char *metric)
{
	if (o->depth + 1 >= MAX_DEPTH)
		return;
	if (o->fmt == XTC_OUT_JSON) {
		json_key(o, key);
		putchar('[');
	} else if (o->fmt == XTC_OUT_TEXT) {
		indent(o);
		printf("%s:\n", key);
	}
	o->depth++;
	o->first[o->depth] = true;
	o->in_list[o->depth] = true;
	o->metric[o->depth] = metric;
	o->n_labels[o->depth] = 0;
}

void xtc_out_list_end(struct xtc_out *o)
{
	if (o->fmt == XTC_OUT_JSON)
		putchar(']');
	o->depth--;
}

static struct prom_family *family(struct xtc_out *o, const char *name)
{
	struct prom_family *f;
	int i;

	for (i = 0; i < o->n_fam; i++)
		if (!strcmp(o->fam[i].name, name))
			return &o->fam[i];
	f = realloc(o->fam, (o->n_fam + 1) * sizeof(*f));
	if (!f)
		return NULL;
	o->fam = f;
	f = &o->fam[o->n_fam++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

static void prom_sample(struct xtc_out *o, const char *key, __u64 val)
{
	char name[96], line[1024];
	struct prom_family *f;
	int d, i, n;
	char *p;

	snprintf(name, sizeof(name), "%s_%s_total", cur_metric(o), key);
	f = family(o, name);
	if (!f)
		return;
	n = snprintf(line, sizeof(line), "%s", name);
	for (d = 1, i = 0; d <= o->depth; d++) {
		int l;

		for (l = 0; l < o->n_labels[d] && n < (int)sizeof(line); l++, i++)
			n += snprintf(line + n, sizeof(line) - n, "%s%s=\"%s\"", i ? "," : "{",
				      o->labels[d][l][0], o->labels[d][l][1]);
	}
	if (n < (int)sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, "%s %llu\n", i ? "}" : "",
			      (unsigned long long)val);
	if (n >= (int)sizeof(line))
		return;
	p = realloc(f->samples, f->len + n + 1);
	if (!p)
		return;
	memcpy(p + f->len, line, n + 1);
	f->samples = p;
	f->len += n;
}

void xtc_out_str(struct xtc_out *o, const char *key, const char *val)
{
	int d = o->depth;

	switch (o->fmt) {
	case XTC_OUT_JSON:
		json_key(o, key);
		json_escape(val);
		break;
	case XTC_OUT_TEXT:
		indent(o);
		printf("%s: %s\n", key, val);
		break;
	case XTC_OUT_PROM:
		if (o->n_labels[d] < MAX_LABELS) {
			snprintf(o->labels[d][o->n_labels[d]][0], 64, "%s", key);
			snprintf(o->labels[d][o->n_labels[d]][1], 64, "%s", val);
			o->n_labels[d]++;
		}
		break;
	}
}

void xtc_out_u64(struct xtc_out *o, const char *key, __u64 val)
{
	switch (o->fmt) {
	case XTC_OUT_JSON:
		json_key(o, key);
		printf("%llu", (unsigned long long)val);
		break;
	case XTC_OUT_TEXT:
		indent(o);
		printf("%s: %llu\n", key, (unsigned long long)val);
		break;
	case XTC_OUT_PROM:
		prom_sample(o, key, val);
		break;
	}
}

void xtc_out_bool(struct xtc_out *o, const char *key, bool val)
{
	switch (o->fmt) {
	case XTC_OUT_JSON:
		json_key(o, key);
		fputs(val ? "true" : "false", stdout);
		break;
	case XTC_OUT_TEXT:
		indent(o);
		printf("%s: %s\n", key, val ? "yes" : "no");
		break;
	case XTC_OUT_PROM:
		prom_sample(o, key, val);
		break;
	}
}

void xtc_out_free(struct xtc_out *o)
{
	int i;

	if (!o)
		return;
	if (o->fmt == XTC_OUT_JSON)
		puts("}");
	for (i = 0; i < o->n_fam; i++) {
		printf("# TYPE %s counter\n%s", o->fam[i].name, o->fam[i].samples ?: "");
		free(o->fam[i].samples);
	}
	free(o->fam);
	free(o);
}
