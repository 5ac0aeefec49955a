// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the config reader and validator: xtc_config_load()
 * and xtc_config_bpffs() on one input, with what config.h promises checked
 * as assertions.  A broken promise aborts, which libFuzzer reports and saves
 * like any crash.
 *
 * The reader reads files, so the input becomes files in a private directory
 * DIR made once per process: the input is split at lines that are exactly
 * "%%"; the first part is DIR/main.ini, the next ones DIR/inc/01.ini,
 * DIR/inc/02.ini ... so that `include = inc/?*.ini` (or the usual star)
 * reads them in order.
 * glob() is wrapped (the link has -Wl,--wrap=glob): an include pattern that
 * leaves DIR matches nothing, so no input reaches a file it did not write.
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
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"

#define MAX_INCLUDES 8

static char dir[PATH_MAX];
static char main_path[PATH_MAX];
static size_t dir_len;

/* Each file of the current input, for the line numbers diagnostics may name. */
static struct {
	char path[PATH_MAX];
	struct stat st;		/* messages may spell the path another way (inc//01.ini) */
	int lines;
} files[1 + MAX_INCLUDES];
static int n_files;

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

static void remove_dir(void)
{
	char path[PATH_MAX + 16];
	int i;

	unlink(main_path);
	for (i = 1; i <= MAX_INCLUDES; i++) {
		snprintf(path, sizeof(path), "%s/inc/%02d.ini", dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/inc", dir);
	rmdir(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR"), *st = getenv("XTC_FUZZ_SELFTEST");
	char inc[PATH_MAX + 8];

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/xtc-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("config_fuzz: mkdtemp");
		exit(1);
	}
	dir_len = strlen(dir);
	snprintf(main_path, sizeof(main_path), "%s/main.ini", dir);
	snprintf(inc, sizeof(inc), "%s/inc", dir);
	if (mkdir(inc, 0700)) {
		perror("config_fuzz: mkdir");
		exit(1);
	}
	atexit(remove_dir);
	if (st && !strcmp(st, "invariant"))
		selftest = SELFTEST_INVARIANT;
	else if (st && !strcmp(st, "leak"))
		selftest = SELFTEST_LEAK;
	else if (st && !strcmp(st, "ub"))
		selftest = SELFTEST_UB;
	return 0;
}

/* ---- keeping include inside DIR --------------------------------------- */

int __real_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g);
int __wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g);

/*
 * Relative patterns come prefixed with DIR (the main file's directory);
 * absolute ones must name it themselves.  Below DIR, a component that
 * starts with '.', '[' or '\' could match "..", so it is refused too (glob
 * matches a leading '.' only with a literal one).
 */
static bool inside_dir(const char *pattern)
{
	const char *p;

	if (strncmp(pattern, dir, dir_len) || pattern[dir_len] != '/')
		return false;
	for (p = pattern + dir_len; (p = strchr(p, '/')); ) {
		p++;
		if (*p == '.' || *p == '[' || *p == '\\')
			return false;
	}
	return true;
}

int __wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
	if (!inside_dir(pattern)) {
		memset(g, 0, sizeof(*g));
		return GLOB_NOMATCH;
	}
	return __real_glob(pattern, flags, errfunc, g);
}

/* ---- the input as files ----------------------------------------------- */

static int count_lines(const uint8_t *p, size_t n)
{
	int lines = 0;
	size_t i;

	for (i = 0; i < n; i++)
		lines += p[i] == '\n';
	return lines + (n && p[n - 1] != '\n');
}

static void write_file(const char *path, const uint8_t *p, size_t n, struct stat *st)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t w;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (n) {
		w = write(fd, p, n);
		if (w <= 0) {
			perror(path);
			abort();
		}
		p += w;
		n -= (size_t)w;
	}
	if (fstat(fd, st)) {
		perror(path);
		abort();
	}
	close(fd);
}

/* The end of the part that starts at p: the next "%%" line, or the end of the input. */
static const uint8_t *part_end(const uint8_t *p, const uint8_t *end, const uint8_t **next)
{
	const uint8_t *line;

	for (line = p; line < end; ) {
		const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
		const uint8_t *eol = nl ? nl : end;

		if (eol - line == 2 && line[0] == '%' && line[1] == '%') {
			*next = nl ? nl + 1 : end;
			return line;
		}
		line = nl ? nl + 1 : end;
	}
	*next = NULL;
	return end;
}

#define BOM "\xef\xbb\xbf"

/* A part as Windows saves it: a UTF-8 BOM first and CRLF line ends. */
static void write_windows(int i, const uint8_t *p, size_t n)
{
	uint8_t *buf = malloc(3 + 2 * n), *o = buf;
	size_t k;

	if (!buf)
		abort();
	memcpy(o, BOM, 3);
	o += 3;
	for (k = 0; k < n; k++) {
		if (p[k] == '\n')
			*o++ = '\r';
		*o++ = p[k];
	}
	write_file(files[i].path, buf, (size_t)(o - buf), &files[i].st);
	files[i].lines = count_lines(buf, (size_t)(o - buf));
	free(buf);
}

static void write_input(const uint8_t *data, size_t size, bool windows)
{
	const uint8_t *p = data, *end = data + size, *next, *e;
	int i;

	n_files = 0;
	while (p) {
		/* The last include file takes the rest, "%%" lines and all. */
		if (n_files == MAX_INCLUDES) {
			e = end;
			next = NULL;
		} else {
			e = part_end(p, end, &next);
		}
		if (n_files)
			snprintf(files[n_files].path, sizeof(files[n_files].path), "%s/inc/%02d.ini",
				 dir, n_files);
		else
			snprintf(files[0].path, sizeof(files[0].path), "%s", main_path);
		if (windows) {
			write_windows(n_files, p, (size_t)(e - p));
		} else {
			write_file(files[n_files].path, p, (size_t)(e - p), &files[n_files].st);
			files[n_files].lines = count_lines(p, (size_t)(e - p));
		}
		n_files++;
		p = next;
	}
	for (i = n_files; i <= MAX_INCLUDES; i++) {
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/inc/%02d.ini", dir, i);
		unlink(path);
	}
}

/* ---- the promises ------------------------------------------------------ */

/*
 * The lines a diagnostic about path may name.  Line 0 is about a file as a
 * whole (it cannot be read, it is too big): the files written here are
 * small and readable, so their messages name a line of them; anything else
 * include matched (a directory) is refused whole.
 */
void fuzz_line_range(const char *path, int *lo, int *hi)
{
	struct stat st;
	int i;

	for (i = 0; i < n_files && !stat(path, &st); i++) {
		if (st.st_dev == files[i].st.st_dev && st.st_ino == files[i].st.st_ino) {
			*lo = 1;
			*hi = files[i].lines;
			return;
		}
	}
	*lo = *hi = 0;
}

/*
 * Each message is about a file the load read (its own, or one DIR holds),
 * prints as "FILE:LINE: text" with a line in that file, in file order and
 * then line order, and the counts add up.
 */
static void check_diags(const struct xtc_diag *d)
{
	int i, lo, hi, errors = 0, warnings = 0;
	const char *prev_file = NULL;
	int prev_line = 0;

	CHECK(d->n >= 0 && (!d->n || d->msgs), d);
	for (i = 0; i < d->n; i++) {
		const struct xtc_diag_msg *e = &d->msgs[i];

		CHECK(e->level == XTC_DIAG_ERROR || e->level == XTC_DIAG_WARNING, d);
		errors += e->level == XTC_DIAG_ERROR;
		warnings += e->level == XTC_DIAG_WARNING;
		CHECK(e->file && e->text, d);
		CHECK(!strcmp(e->file, main_path) ||
		      (!strncmp(e->file, dir, dir_len) && e->file[dir_len] == '/'), d);
		fuzz_line_range(e->file, &lo, &hi);
		CHECK(e->line >= lo && e->line <= hi, d);
		CHECK(*e->text && !strchr(e->text, '\n'), d);
		if (prev_file && !strcmp(prev_file, e->file))
			CHECK(e->line >= prev_line, d);
		else	/* a file's messages are together: it does not come back */
			for (int j = 0; j < i; j++)
				CHECK(strcmp(d->msgs[j].file, e->file), d);
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
		fuzz_check_model(m, main_path, d);
}

/* The state's location as status and unload read it: the file's own, when it is valid. */
static void check_bpffs(const struct xtc_model *m)
{
	struct xtc_diag d = {};
	char buf[4096];
	int err;

	err = xtc_config_bpffs(main_path, buf, sizeof(buf), &d);
	check_diags(&d);
	/* main.ini is a small regular file: it is always readable. */
	CHECK(!err && !d.n && *buf, &d);
	/* Not '/' always: a bad value is returned as written (check is what refuses it). */
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

	if (size % 4 || memchr(data, '\r', size) || memmem(data, size, BOM, 3))
		return;
	write_input(data, size, true);
	i = xtc_config_load(main_path, &m, &w);
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

	write_input(data, size, false);
	err = xtc_config_load(main_path, &m, &d);
	run_selftest(&err, &m);
	check_load(err, m, &d);
	check_bpffs(m);
	check_windows(data, size, err, &d);
	xtc_model_free(m);
	xtc_diag_free(&d);
	return 0;
}
