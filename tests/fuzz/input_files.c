// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The config fuzzer's input as files, since the reader reads paths.  A
 * private directory DIR is made once per process; each input is split at
 * lines that are exactly "%%": the first part is DIR/main.ini, the next ones
 * DIR/inc/01.ini, DIR/inc/02.ini ..., which an include glob of *.ini files
 * in inc/ reads in order (the seeds have one).
 *
 * glob() is wrapped (the link has -Wl,--wrap=glob): an include pattern that
 * leaves DIR matches nothing, so no input reaches a file it did not write,
 * and a run does not walk the file system.
 */
#define _GNU_SOURCE
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
const char *const fuzz_main_path = main_path;
static size_t dir_len;

/* Each file of the current input, for the line numbers diagnostics may name. */
static struct {
	char path[PATH_MAX];
	struct stat st;		/* messages may spell the path another way (inc//01.ini) */
	int lines;
} files[1 + MAX_INCLUDES];
static int n_files;

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

void fuzz_files_init(void)
{
	const char *tmp = getenv("TMPDIR");
	char inc[PATH_MAX + 8];

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
}

bool fuzz_in_dir(const char *path)
{
	return !strncmp(path, dir, dir_len) && path[dir_len] == '/';
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

	if (!fuzz_in_dir(pattern))
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

/* A part as Windows saves it: a UTF-8 BOM first and CRLF line ends. */
static void write_windows(int i, const uint8_t *p, size_t n)
{
	uint8_t *buf = malloc(3 + 2 * n), *o = buf;
	size_t k;

	if (!buf)
		abort();
	memcpy(o, FUZZ_BOM, 3);
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

void fuzz_write_input(const uint8_t *data, size_t size, bool windows)
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

	*lo = *hi = 0;
	if (stat(path, &st))
		return;
	for (i = 0; i < n_files; i++) {
		if (st.st_dev == files[i].st.st_dev && st.st_ino == files[i].st.st_ino) {
			*lo = 1;
			*hi = files[i].lines;
			return;
		}
	}
}
