// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The INI reader and validator.  Reading fills a raw model (every section and
 * key as written, with file and line); validation then checks it as a whole
 * and builds struct xtc_model.  Problems are collected, never fatal on their
 * own, so that one run of `xtc check` shows all of them.
 *
 * Reading is in config_read.c, validation in the config_check*.c files; this
 * file collects the problems and hands them over.
 */
#define _GNU_SOURCE		/* vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config.h"
#include "config_raw.h"
#include <pthread.h>
#include <unistd.h>
#include "log.h"
#include "mem.h"
#include "xtc_shared.h"

static int diag_cmp(const void *a, const void *b)
{
	const struct diag_ent *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hands the collected problems over in file and line order; returns -ENOMEM or 0. */
static int move_diags(struct ctx *c, struct xtc_diag *diag)
{
	struct xtc_diag_msg *msgs;
	int i;

	if (!c->n_diags)
		return 0;
	qsort(c->diags, (size_t)c->n_diags, sizeof(*c->diags), diag_cmp);
	msgs = realloc(diag->msgs, (size_t)(diag->n + c->n_diags) * sizeof(*msgs));
	if (!msgs)
		return -ENOMEM;
	diag->msgs = msgs;
	for (i = 0; i < c->n_diags; i++) {
		struct diag_ent *e = &c->diags[i];
		char *file = strdup(c->m->files[e->file]);

		if (!file)
			return -ENOMEM;
		diag->msgs[diag->n++] = (struct xtc_diag_msg){
			.level = e->level, .file = file, .line = e->line, .text = e->text,
		};
		e->text = NULL;
		if (e->level == XTC_DIAG_ERROR)
			diag->n_errors++;
		else
			diag->n_warnings++;
	}
	return 0;
}

/* The file as read (sections, pairs, strings): the model holds copies of what it needs. */
static void ctx_free_raw(struct ctx *c)
{
	xtc_bigarr_free(c->kvs, c->kvs_cap);
	xtc_bigarr_free(c->secs, c->secs_cap);
	xtc_arena_free(&c->strings);
	memset(c->recent_keys, 0, sizeof(c->recent_keys));
	c->kvs = NULL;
	c->secs = NULL;
	c->n_kvs = c->n_secs = 0;
	c->kvs_cap = c->secs_cap = 0;
}

void cfg_ctx_free(struct ctx *c)
{
	int i;

	for (i = 0; i < c->n_diags; i++)
		free(c->diags[i].text);
	free(c->diags);
	ctx_free_raw(c);
	free(c->hosts);
	free(c->set_index);
}

static struct xtc_model *model_new(const char *path)
{
	struct xtc_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	/* GROW() is how m->files grows while include files are read. */
	if (GROW(m->files, m->n_files) || !(m->files[0] = strdup(path))) {
		xtc_model_free(m);
		return NULL;
	}
	m->n_files = 1;
	snprintf(m->path, sizeof(m->path), "%s", path);
	snprintf(m->bpffs, sizeof(m->bpffs), "%s", XTC_DEFAULT_BPFFS);
	m->xdp_mode = XTC_XDP_NATIVE;
	m->xdp_priority = XTC_DEFAULT_PRIO;
	m->tc_attach = XTC_TC_AUTO;
	m->tc_prio = XTC_DEFAULT_TC_PRIO;
	m->redirect_fallback = XTC_ACT_PASS;
	m->max_rules = XTC_DEFAULT_MAX_RULES;
	m->resync_ms = 30000;
	return m;
}

/*
 * A load whose shadowed-rules check may still run (xtc_config_load_async).
 * The check has a context of its own, so that it runs beside the limits
 * check, the hooks check and the caller's planning: its warnings join the
 * load's problems when it is waited for, after them all as if it had run
 * last.
 */
struct xtc_config_pending {
	struct ctx c;
	struct ctx sc;			/* the check's: its thread writes nothing else */
	pthread_t thread;
	bool started;			/* thread runs; else err is the check's, done */
	int err;
};

static void *run_shadow(void *arg)
{
	struct xtc_config_pending *p = arg;
	double t0 = xtc_now();

	p->err = cfg_check_shadow(&p->sc, p->sc.m);
	pr_debug("timing: shadowed rules, on a thread of their own, %.3f s\n", xtc_now() - t0);
	return NULL;
}

static void shadow_start(struct xtc_config_pending *p, struct xtc_model *m)
{
	p->sc.cur = -1;
	p->sc.m = m;
	if (!pthread_create(&p->thread, NULL, run_shadow, p)) {
		p->started = true;
		pthread_setname_np(p->thread, "xtc-shadow");	/* for top and perf */
	}
	else
		p->err = cfg_check_shadow(&p->sc, m);
}

/* The check's warnings after the load's problems; keep false drops them. */
static int shadow_join(struct xtc_config_pending *p, bool keep)
{
	struct ctx *c = &p->c, *sc = &p->sc;
	int i, err;

	if (p->started)
		pthread_join(p->thread, NULL);
	p->started = false;
	err = p->err ? p->err : sc->err;
	p->err = 0;
	if (keep && !err && sc->n_diags) {
		struct diag_ent *d = realloc(c->diags, (size_t)(c->n_diags + sc->n_diags) *
					     sizeof(*d));

		if (!d)
			err = -ENOMEM;
		for (i = 0; d && i < sc->n_diags; i++) {
			d[c->n_diags] = sc->diags[i];
			d[c->n_diags].seq = c->n_diags;
			c->n_diags++;
			c->n_errors += sc->diags[i].level == XTC_DIAG_ERROR;
			sc->diags[i].text = NULL;
		}
		if (d)
			c->diags = d;
	}
	cfg_ctx_free(sc);
	memset(sc, 0, sizeof(*sc));
	return err;
}

/* Moves the problems out and frees; err, or what the handing over met. */
static int finish(struct xtc_config_pending *p, struct xtc_model *m, struct xtc_diag *diag,
		  int err)
{
	int werr = shadow_join(p, !err && !p->c.err && !p->c.n_errors);

	if (!err && p->c.err)
		err = p->c.err;
	if (!err && p->c.n_errors)
		err = -EINVAL;
	if (!err)
		err = werr;
	if (move_diags(&p->c, diag) && !err)
		err = -ENOMEM;
	if (err)
		xtc_model_free(m);
	cfg_ctx_free(&p->c);
	free(p);
	return err;
}

static int load(const char *path, const struct xtc_config_opts *o, struct xtc_model **out,
		struct xtc_diag *diag, struct xtc_config_pending **pending)
{
	struct xtc_config_pending *p = calloc(1, sizeof(*p));
	struct ctx *c = p ? &p->c : NULL;
	struct xtc_model *m;
	double t0;
	int err;

	*out = NULL;
	if (pending)
		*pending = NULL;
	m = model_new(path);
	if (!m || !p) {
		xtc_model_free(m);
		free(p);
		return -ENOMEM;
	}
	c->cur = -1;
	c->m = m;
	if (o) {
		c->daemon = o->daemon;
		c->capture = o->capture;
		c->replay = o->replay;
	}
	t0 = xtc_now();
	err = cfg_read_all(c);
	pr_debug("timing: config read %.3f s\n", xtc_now() - t0);
	xtc_mem_advise();	/* validation and compiling grow about as much again */
	if (!err && c->err)
		err = c->err;
	/* Half a file validates into nonsense: then only the read errors are reported. */
	if (!err && c->unreadable)
		err = -EINVAL;
	if (!err)
		err = cfg_validate(c, m);
	if (!err && !c->err && !c->n_errors) {
		if (!(o && o->no_shadow))
			shadow_start(p, m);
		err = cfg_check_across(c, m, &m->n_expanded);
	}
	if (!err && c->err)
		err = c->err;
	if (!err && c->n_errors)
		err = -EINVAL;
	/* What a daemon may patch on its next reload: nothing to say again (config_patch.c). */
	m->clean = !err && !c->n_diags;
	if (!err)
		pr_debug("config: %s: %d file(s), %d interface(s), %d rule(s), %d set(s), "
			 "%d static(s)\n", path, m->n_files, m->n_ifaces, m->n_rules, m->n_sets,
			 m->n_statics);
	if (!err && pending && p->started) {
		/* Not needed any more, and big: gone before the plan takes its share. */
		ctx_free_raw(c);
		*out = m;
		*pending = p;
		return 0;
	}
	*out = err ? NULL : m;
	return finish(p, m, diag, err);
}

int xtc_config_shadow_async(struct xtc_model *m, struct xtc_config_pending **pending)
{
	struct xtc_config_pending *p = calloc(1, sizeof(*p));

	*pending = NULL;
	if (!p)
		return -ENOMEM;
	p->c.cur = -1;
	p->c.m = m;
	shadow_start(p, m);
	*pending = p;
	return 0;
}

int xtc_config_load(const char *path, struct xtc_model **out, struct xtc_diag *diag)
{
	return load(path, NULL, out, diag, NULL);
}

int xtc_config_load_opts(const char *path, const struct xtc_config_opts *o,
			 struct xtc_model **out, struct xtc_diag *diag)
{
	return load(path, o, out, diag, NULL);
}

int xtc_config_load_async(const char *path, struct xtc_model **out, struct xtc_diag *diag,
			  struct xtc_config_pending **pending)
{
	return load(path, NULL, out, diag, pending);
}

int xtc_config_load_opts_async(const char *path, const struct xtc_config_opts *o,
			       struct xtc_model **out, struct xtc_diag *diag,
			       struct xtc_config_pending **pending)
{
	return load(path, o, out, diag, pending);
}

void xtc_config_snapshot_free(struct xtc_config_snapshot *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->paths[i]);
		close(s->fds[i]);
	}
	free(s->include);
	free(s->paths);
	free(s->fds);
	memset(s, 0, sizeof(*s));
}

int xtc_config_wait(struct xtc_config_pending *p, struct xtc_model **m, struct xtc_diag *diag)
{
	double t0 = xtc_now();
	int err;

	if (!p)
		return 0;
	err = shadow_join(p, true);
	pr_debug("timing: waited for the shadowed rules %.3f s\n", xtc_now() - t0);
	err = finish(p, *m, diag, err);
	if (err)
		*m = NULL;
	return err;
}

int xtc_config_bpffs(const char *path, char *buf, size_t len, struct xtc_diag *diag)
{
	struct ctx c = { .cur = -1 };
	const struct raw_kv *bpffs;
	int err, i, n, bad = -1;

	snprintf(buf, len, "%s", XTC_DEFAULT_BPFFS);
	c.m = model_new(path);
	if (!c.m)
		return -ENOMEM;
	err = cfg_read_main(&c);
	if (!err && c.err)
		err = c.err;
	if (!err) {
		bpffs = cfg_global_key(&c, "bpffs");
		/* The same rule as check's: a relative path would follow the working directory. */
		if (bpffs && *bpffs->val && (bpffs->val[0] != '/' || strlen(bpffs->val) > 4000)) {
			cfg_problem(&c, bpffs->line, "bad value '" QS "' for bpffs: use the absolute "
				    "path of a mounted bpf filesystem, e.g. /sys/fs/bpf", bpffs->val);
			bad = c.n_diags - 1;
			err = c.err ?: -EINVAL;
		} else if (bpffs && *bpffs->val) {
			snprintf(buf, len, "%s", bpffs->val);
		}
	}
	/* Only what stopped the reading matters here: the file's own problems are check's. */
	for (i = 0, n = 0; i < c.n_diags; i++) {
		if (err && (bad >= 0 ? i == bad : !c.diags[i].line))
			c.diags[n++] = c.diags[i];
		else
			free(c.diags[i].text);
	}
	c.n_diags = n;
	if (move_diags(&c, diag) && !err)
		err = -ENOMEM;
	xtc_model_free(c.m);
	cfg_ctx_free(&c);
	return err;
}

const struct xtc_diag_msg *xtc_diag_failure(const struct xtc_diag *d)
{
	int i;

	for (i = 0; i < d->n; i++)
		if (d->msgs[i].level == XTC_DIAG_ERROR)
			return &d->msgs[i];
	return d->n ? &d->msgs[0] : NULL;
}

void xtc_diag_free(struct xtc_diag *d)
{
	int i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->msgs[i].file);
		free(d->msgs[i].text);
	}
	free(d->msgs);
	memset(d, 0, sizeof(*d));
}

void xtc_diag_print(const struct xtc_diag *d)
{
	bool first_error = true;
	char line[16];
	int i;

	if (!d)
		return;
	fflush(stdout);		/* keep stdout and stderr in order in one log */
	for (i = 0; i < d->n; i++) {
		const struct xtc_diag_msg *e = &d->msgs[i];
		bool warn = e->level == XTC_DIAG_WARNING;

		snprintf(line, sizeof(line), ":%d", e->line);
		fprintf(stderr, "xtc: %s%s: %s%s\n", e->file, e->line ? line : "",
			warn ? "warning: " : "", e->text);
		if (!warn && first_error) {
			xtc_log_set_error(e->file, e->line, e->text);
			first_error = false;
		}
	}
}
