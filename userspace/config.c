// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The INI reader and validator.  Reading fills a raw model (every section and
 * key as written, with line numbers); validation then checks it as a whole and
 * builds struct xtc_model.  Problems are collected, never fatal on their own,
 * so that one run of `xtc check` shows all of them.
 *
 * Reading is in config_read.c, validation in config_check.c and
 * config_check_rules.c; this file collects the problems and hands them over.
 */
#define _GNU_SOURCE		/* asprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "config_raw.h"
#include "log.h"
#include "xtc_shared.h"

void cfg_problem(struct ctx *c, int line, const char *fmt, ...)
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
	int i;

	for (i = 0; i < c->n_diags; i++)
		free(c->diags[i].msg);
	free(c->diags);
	for (i = 0; i < c->n_secs; i++)
		free(c->secs[i].kv);
	free(c->secs);
	for (i = 0; i < c->n_chunks; i++)
		free(c->chunks[i]);
	free(c->chunks);
	free(c->hosts);
	free(c->buf);
	if (c->f)
		fclose(c->f);
}

int xtc_config_load(const char *path, struct xtc_model **out, struct xtc_diag *diag)
{
	struct ctx c = { .path = path, .cur = -1 };
	struct xtc_model *m = NULL;
	int err, rc;

	*out = NULL;
	err = cfg_open(&c);
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

	rc = cfg_read(&c);
	if (c.err) {
		err = c.err;
		if (err != -ENOMEM) {
			/* Half a file validates into nonsense: report only the read error. */
			for (rc = 0; rc < c.n_diags; rc++)
				free(c.diags[rc].msg);
			c.n_diags = 0;
			cfg_problem(&c, 0, "cannot read: %s", strerror(-err));
		}
		goto cleanup;
	}
	if (rc < 0) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = cfg_validate(&c, m);
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
