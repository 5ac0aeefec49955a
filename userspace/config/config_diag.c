// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Problems found while reading and validating, recorded against FILE:LINE.
 * Every other config file reports through these; they call nothing back.
 */
#define _GNU_SOURCE		/* vasprintf */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_raw.h"

static void report(struct ctx *c, enum xtc_diag_level level, int file, int line,
		   const char *fmt, va_list ap)
{
	char *text;

	if (vasprintf(&text, fmt, ap) < 0)
		goto nomem;
	if (GROW(c->diags, c->n_diags)) {
		free(text);
		goto nomem;
	}
	c->diags[c->n_diags] = (struct diag_ent){
		.level = level, .file = file, .line = line, .seq = c->n_diags, .text = text,
	};
	c->n_diags++;
	if (level == XTC_DIAG_ERROR)
		c->n_errors++;
	return;
nomem:
	c->err = -ENOMEM;
}

void cfg_problem(struct ctx *c, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, XTC_DIAG_ERROR, c->file, line, fmt, ap);
	va_end(ap);
}

void cfg_warn(struct ctx *c, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, XTC_DIAG_WARNING, c->file, line, fmt, ap);
	va_end(ap);
}

void cfg_problem_at(struct ctx *c, int file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, XTC_DIAG_ERROR, file, line, fmt, ap);
	va_end(ap);
}

void cfg_warn_at(struct ctx *c, int file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, XTC_DIAG_WARNING, file, line, fmt, ap);
	va_end(ap);
}

/* Model objects hold one of m->files itself, so a pointer comparison finds it. */
int cfg_file_index(struct ctx *c, const char *file)
{
	int i;

	if (c->last_file < c->m->n_files && c->m->files[c->last_file] == file)
		return c->last_file;
	for (i = 0; i < c->m->n_files; i++)
		if (c->m->files[i] == file)
			return c->last_file = i;
	return 0;
}

void cfg_where(const struct ctx *c, int file, int line, char *buf, size_t len)
{
	if (file == c->file)
		snprintf(buf, len, "line %d", line);
	else
		snprintf(buf, len, "%s:%d", c->m->files[file], line);
}
