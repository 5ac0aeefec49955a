// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"

#define MAX_DEPTH 16
#define MAX_LABELS 8

struct prom_family {
	char name[128];
	bool gauge;
	char *help;
	char *samples;			/* newline-separated sample lines */
	size_t len;
};

struct xtc_out {
	enum xtc_out_fmt fmt;
	FILE *f;
	int depth;
	bool first[MAX_DEPTH];		/* JSON: no comma before the first member */
	bool in_list[MAX_DEPTH];
	const char *metric[MAX_DEPTH];	/* Prometheus family prefix per level */
	char labels[MAX_DEPTH][MAX_LABELS][2][256];
	int n_labels[MAX_DEPTH];
	struct prom_family *fam;
	int n_fam;
};

static bool started;

bool xtc_out_started(void)
{
	return started;
}

struct xtc_out *xtc_out_new_to(enum xtc_out_fmt fmt, FILE *f)
{
	struct xtc_out *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->fmt = fmt;
	o->f = f;
	if (f == stdout)
		started = true;
	if (fmt == XTC_OUT_JSON)
		fprintf(f, "{\"schema\":%d", XTC_JSON_SCHEMA);
	return o;
}

struct xtc_out *xtc_out_new(enum xtc_out_fmt fmt)
{
	return xtc_out_new_to(fmt, stdout);
}

enum xtc_out_fmt xtc_out_fmt(const struct xtc_out *o)
{
	return o->fmt;
}

/* Length of the valid UTF-8 sequence at s, 0 when it is not one. */
static int utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] < 0x80)
		return 1;
	n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
	if (s[0] >= 0xf5)
		n = 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Names come from the kernel and may hold any byte: JSON gets valid UTF-8
 * (a stray byte becomes \u00XX), text gets no control characters.
 */
static void json_escape(struct xtc_out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	fputc('"', o->f);
	while (*s) {
		n = utf8_len(s);
		if (*s == '"' || *s == '\\')
			fprintf(o->f, "\\%c", *s);
		else if (*s < 0x20 || *s == 0x7f || !n)
			fprintf(o->f, "\\u%04x", *s);
		else
			fwrite(s, 1, n, o->f);
		s += n ? n : 1;
	}
	fputc('"', o->f);
}

static void text_escape(struct xtc_out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	for (; *s; s++) {
		if (*s < 0x20 || *s == 0x7f)
			fprintf(o->f, "\\x%02x", *s);
		else
			fputc(*s, o->f);
	}
}

static void json_key(struct xtc_out *o, const char *key)
{
	/* The top level always holds "schema" first. */
	if (o->depth == 0 || !o->first[o->depth])
		fputc(',', o->f);
	o->first[o->depth] = false;
	if (key && !o->in_list[o->depth]) {
		json_escape(o, key);
		fputc(':', o->f);
	}
}

/* YAML-like: the first line of an object inside a list gets the "- ". */
static void indent(struct xtc_out *o)
{
	int d = o->depth, n = 2 * d;

	if (d > 0 && o->in_list[d - 1] && !o->in_list[d] && o->first[d] && n >= 2) {
		fprintf(o->f, "%*s- ", n - 2, "");
		o->first[d] = false;
		return;
	}
	fprintf(o->f, "%*s", n, "");
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
		fputc('{', o->f);
	} else if (o->fmt == XTC_OUT_TEXT && key) {
		indent(o);
		fprintf(o->f, "%s:\n", key);
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
		fputc('}', o->f);
	o->depth--;
	if (o->depth >= 0)
		o->first[o->depth] = false;
}

void xtc_out_list_begin(struct xtc_out *o, const char *key, const char *metric)
{
	if (o->depth + 1 >= MAX_DEPTH)
		return;
	if (o->fmt == XTC_OUT_JSON) {
		json_key(o, key);
		fputc('[', o->f);
	} else if (o->fmt == XTC_OUT_TEXT) {
		indent(o);
		fprintf(o->f, "%s:\n", key);
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
		fputc(']', o->f);
	o->depth--;
	if (o->depth >= 0)
		o->first[o->depth] = false;
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

void xtc_out_help(struct xtc_out *o, const char *name, const char *help)
{
	struct prom_family *f;

	if (o->fmt != XTC_OUT_PROM || !(f = family(o, name)))
		return;
	free(f->help);
	f->help = strdup(help);
}

/* Label values escape \, " and newline (the exposition format's rule). */
static size_t prom_escape(char *dst, size_t len, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = 0;
	int u;

	while (*s && n + 5 < len) {
		u = utf8_len(s);
		if (*s == '\\' || *s == '"') {
			dst[n++] = '\\';
			dst[n++] = (char)*s;
		} else if (*s == '\n') {
			dst[n++] = '\\';
			dst[n++] = 'n';
		} else if (!u) {
			/* The format is UTF-8: a stray byte becomes U+FFFD. */
			memcpy(dst + n, "\xef\xbf\xbd", 3);
			n += 3;
		} else {
			memcpy(dst + n, s, u);
			n += u;
		}
		s += u ? u : 1;
	}
	dst[n] = '\0';
	return n;
}

/* node_exporter calls a network interface "device". */
static const char *prom_label(const char *key)
{
	return !strcmp(key, "interface") ? "device" : key;
}

static void prom_sample(struct xtc_out *o, const char *key, __u64 val, bool gauge)
{
	char name[128], line[4096], esc[600];
	struct prom_family *f;
	int d, i, l, n;
	char *p;

	snprintf(name, sizeof(name), "%s_%s%s", cur_metric(o), key, gauge ? "" : "_total");
	f = family(o, name);
	if (!f)
		return;
	f->gauge = gauge;
	n = snprintf(line, sizeof(line), "%s", name);
	for (d = 1, i = 0; d <= o->depth; d++) {
		for (l = 0; l < o->n_labels[d] && n < (int)sizeof(line); l++) {
			const char *key = o->labels[d][l][0], *val = o->labels[d][l][1];

			/* interface = * (every interface) names no device: no label. */
			if (!strcmp(key, "interface") && !strcmp(val, "*"))
				continue;
			prom_escape(esc, sizeof(esc), val);
			n += snprintf(line + n, sizeof(line) - n, "%s%s=\"%s\"", i++ ? "," : "{",
				      prom_label(key), esc);
		}
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
		json_escape(o, val);
		break;
	case XTC_OUT_TEXT:
		indent(o);
		if (key)
			fprintf(o->f, "%s: ", key);
		else		/* a plain value in a list */
			fputs("- ", o->f);
		text_escape(o, val);
		fputc('\n', o->f);
		break;
	case XTC_OUT_PROM:
		if (key && o->n_labels[d] < MAX_LABELS) {
			snprintf(o->labels[d][o->n_labels[d]][0], 256, "%s", key);
			snprintf(o->labels[d][o->n_labels[d]][1], 256, "%s", val);
			o->n_labels[d]++;
		}
		break;
	}
}

static void number(struct xtc_out *o, const char *key, __u64 val, bool hex)
{
	switch (o->fmt) {
	case XTC_OUT_JSON:
		json_key(o, key);
		fprintf(o->f, "%llu", (unsigned long long)val);
		break;
	case XTC_OUT_TEXT:
		indent(o);
		fprintf(o->f, hex ? "%s: 0x%llx\n" : "%s: %llu\n", key, (unsigned long long)val);
		break;
	case XTC_OUT_PROM:
		break;
	}
}

void xtc_out_u64(struct xtc_out *o, const char *key, __u64 val)
{
	if (o->fmt == XTC_OUT_PROM)
		prom_sample(o, key, val, false);
	else
		number(o, key, val, false);
}

void xtc_out_gauge(struct xtc_out *o, const char *key, __u64 val)
{
	if (o->fmt == XTC_OUT_PROM)
		prom_sample(o, key, val, true);
	else
		number(o, key, val, false);
}

void xtc_out_id(struct xtc_out *o, const char *key, __u64 val)
{
	number(o, key, val, false);
}

void xtc_out_hex(struct xtc_out *o, const char *key, __u64 val)
{
	number(o, key, val, true);
}

void xtc_out_bool(struct xtc_out *o, const char *key, bool val)
{
	switch (o->fmt) {
	case XTC_OUT_JSON:
		json_key(o, key);
		fputs(val ? "true" : "false", o->f);
		break;
	case XTC_OUT_TEXT:
		indent(o);
		fprintf(o->f, "%s: %s\n", key, val ? "yes" : "no");
		break;
	case XTC_OUT_PROM:
		prom_sample(o, key, val, true);
		break;
	}
}

void xtc_out_free(struct xtc_out *o)
{
	int i;

	if (!o)
		return;
	if (o->fmt == XTC_OUT_JSON)
		fputs("}\n", o->f);
	for (i = 0; i < o->n_fam; i++) {
		struct prom_family *f = &o->fam[i];

		if (!f->samples)
			goto next;
		if (f->help)
			fprintf(o->f, "# HELP %s %s\n", f->name, f->help);
		else
			fprintf(o->f, "# HELP %s xtc %s\n", f->name, f->name);
		fprintf(o->f, "# TYPE %s %s\n%s", f->name, f->gauge ? "gauge" : "counter",
			f->samples);
next:
		free(f->samples);
		free(f->help);
	}
	free(o->fam);
	free(o);
}
