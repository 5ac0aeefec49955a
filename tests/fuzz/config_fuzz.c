// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the config reader and validator: xtc_config_load()
 * and xtc_config_bpffs() on one input, with what config.h promises checked
 * as assertions.  A broken promise aborts, which libFuzzer reports and saves
 * like any crash.  The input becomes files as input_files.c says.
 *
 * One input in four is also loaded as Windows saves files (BOM, CRLF), which
 * must not change a message.
 *
 * XTC_FUZZ_SELFTEST=invariant|leak|ub makes every input break a promise,
 * leak or hit undefined behaviour, so that tests/fuzz can prove that each of
 * these fails `make fuzz`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"

static enum { SELFTEST_NONE, SELFTEST_INVARIANT, SELFTEST_LEAK, SELFTEST_UB } selftest;

static void dump_diag(const char *title, const struct xtc_diag *d)
{
	int i;

	fprintf(stderr, "%s\n", title);
	for (i = 0; d && i < d->n; i++)
		fprintf(stderr, "  diag %d: level %d file %s line %d: %s\n", i, d->msgs[i].level,
			d->msgs[i].file ? d->msgs[i].file : "(null)", d->msgs[i].line,
			d->msgs[i].text ? d->msgs[i].text : "(null)");
}

void fuzz_broken(const char *what, const char *file, int line, const struct xtc_diag *d)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	dump_diag("the load's messages:", d);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *st = getenv("XTC_FUZZ_SELFTEST");

	(void)argc;
	(void)argv;
	fuzz_files_init();
	if (st && !strcmp(st, "invariant"))
		selftest = SELFTEST_INVARIANT;
	else if (st && !strcmp(st, "leak"))
		selftest = SELFTEST_LEAK;
	else if (st && !strcmp(st, "ub"))
		selftest = SELFTEST_UB;
	return 0;
}

/* ---- the promises ------------------------------------------------------ */

/*
 * Each message is about a file the load read (its own, or one DIR holds),
 * prints as "FILE:LINE: text" with a line in that file, in file order and
 * then line order, and the counts add up.
 */
static void check_diags(const struct xtc_diag *d)
{
	int i, j, lo, hi, errors = 0, warnings = 0, n_seen = 0;
	const char *prev_file = NULL, *seen[64];
	int prev_line = 0;

	CHECK(d->n >= 0 && (!d->n || d->msgs), d);
	for (i = 0; i < d->n; i++) {
		const struct xtc_diag_msg *e = &d->msgs[i];

		CHECK(e->level == XTC_DIAG_ERROR || e->level == XTC_DIAG_WARNING, d);
		errors += e->level == XTC_DIAG_ERROR;
		warnings += e->level == XTC_DIAG_WARNING;
		CHECK(e->file && e->text, d);
		CHECK(fuzz_in_dir(e->file), d);
		fuzz_line_range(e->file, &lo, &hi);
		CHECK(e->line >= lo && e->line <= hi, d);
		CHECK(*e->text && !strchr(e->text, '\n'), d);
		if (prev_file && !strcmp(prev_file, e->file)) {
			CHECK(e->line >= prev_line, d);
		} else {	/* a file's messages are together: it does not come back */
			for (j = 0; j < n_seen; j++)
				CHECK(strcmp(seen[j], e->file), d);
			if (n_seen < (int)(sizeof(seen) / sizeof(seen[0])))
				seen[n_seen++] = e->file;
		}
		prev_file = e->file;
		prev_line = e->line;
	}
	CHECK(errors == d->n_errors && warnings == d->n_warnings, d);
	CHECK(!xtc_diag_failure(d) == !d->n, d);
	CHECK(!errors || xtc_diag_failure(d)->level == XTC_DIAG_ERROR, d);
}

/* config.h: 0 and a model, or a negative errno, no model and the reasons as errors. */
static void check_load(int err, const struct xtc_model *m, const struct xtc_diag *d)
{
	check_diags(d);
	CHECK(err <= 0 && err > -4096, d);
	CHECK(!err == !!m, d);
	CHECK(!err == !d->n_errors, d);
	if (m)
		fuzz_check_model(m, fuzz_main_path, d);
}

/* The state's location as status and unload read it: the file's own, when it is valid. */
static void check_bpffs(const struct xtc_model *m)
{
	struct xtc_diag d = {};
	char buf[4096];
	int err;

	err = xtc_config_bpffs(fuzz_main_path, buf, sizeof(buf), &d);
	check_diags(&d);
	/*
	 * main.ini is a small regular file: it is always readable.  Only a
	 * relative bpffs is refused, as check refuses it, with one message.
	 */
	CHECK(err ? err == -EINVAL && d.n_errors == 1 && !m : !d.n && *buf == '/', &d);
	if (m)
		CHECK(!strcmp(buf, m->bpffs), &d);
	xtc_diag_free(&d);
}

/*
 * Files saved on Windows read the same (tests/config/test_golden.py): with a
 * BOM and CRLF line ends in every file, a load gives the same result and
 * the same messages.  It costs a second load: one input in four, those
 * without a CR or a BOM of their own.
 */
static void check_windows(const uint8_t *data, size_t size, int err, const struct xtc_diag *d)
{
	struct xtc_model *m = NULL;
	struct xtc_diag w = {};
	bool same;
	int i;

	if (size % 4 || memchr(data, '\r', size) || memmem(data, size, FUZZ_BOM, 3))
		return;
	fuzz_write_input(data, size, true);
	i = xtc_config_load(fuzz_main_path, &m, &w);
	check_load(i, m, &w);
	same = i == err && w.n == d->n;
	for (i = 0; same && i < d->n; i++)
		same = w.msgs[i].level == d->msgs[i].level && w.msgs[i].line == d->msgs[i].line &&
		       !strcmp(w.msgs[i].file, d->msgs[i].file) &&
		       !strcmp(w.msgs[i].text, d->msgs[i].text);
	if (!same)
		dump_diag("the messages without CRLF and BOM:", d);
	CHECK(same, &w);
	xtc_model_free(m);
	xtc_diag_free(&w);
}

/* Where the leak selftest's block goes, so that the compiler keeps the malloc. */
static void *volatile sink;

static void run_selftest(int *err, struct xtc_model **m)
{
	static volatile int big = INT_MAX;
	int v;

	switch (selftest) {
	case SELFTEST_INVARIANT:	/* as if load had lied about its result */
		*err = *err ? 0 : -EINVAL;
		if (*err) {
			xtc_model_free(*m);
			*m = NULL;
		}
		break;
	case SELFTEST_LEAK:
		sink = malloc(64);
		sink = NULL;
		break;
	case SELFTEST_UB:
		v = big;
		v += 1;		/* signed overflow */
		big = v;
		break;
	case SELFTEST_NONE:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xtc_model *m = NULL;
	struct xtc_diag d = {};
	int err;

	fuzz_write_input(data, size, false);
	err = xtc_config_load(fuzz_main_path, &m, &d);
	run_selftest(&err, &m);
	check_load(err, m, &d);
	check_bpffs(m);
	check_windows(data, size, err, &d);
	xtc_model_free(m);
	xtc_diag_free(&d);
	return 0;
}
