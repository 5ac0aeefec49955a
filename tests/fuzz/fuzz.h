/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by the config fuzzer's files: how a broken promise is reported. */
#ifndef XTC_FUZZ_H
#define XTC_FUZZ_H

#include "config.h"

/* Prints the promise, where, and the input's diagnostics, then aborts. */
void fuzz_broken(const char *what, const char *file, int line, const struct xtc_diag *d)
	__attribute__((noreturn));

#define CHECK(cond, d)								\
	do {									\
		if (!(cond))							\
			fuzz_broken(#cond, __FILE__, __LINE__, d);		\
	} while (0)

/* The lines of path that a message or a model object may name; 0, 0 for other paths. */
void fuzz_line_range(const char *path, int *lo, int *hi);

/* check_model.c: what validation promises about a model it returned. */
void fuzz_check_model(const struct xtc_model *m, const char *main_path, const struct xtc_diag *d);

#endif
