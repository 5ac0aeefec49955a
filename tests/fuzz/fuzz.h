/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by the config fuzzer's files (tests/fuzz/config_fuzz.c says what it does). */
#ifndef XTC_FUZZ_H
#define XTC_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

/* Prints the promise, where, and the input's diagnostics, then aborts. */
void fuzz_broken(const char *what, const char *file, int line, const struct xtc_diag *d)
	__attribute__((noreturn));

#define CHECK(cond, d)								\
	do {									\
		if (!(cond))							\
			fuzz_broken(#cond, __FILE__, __LINE__, d);		\
	} while (0)

/* input_files.c: the input as files in a private directory, DIR. */
#define FUZZ_BOM "\xef\xbb\xbf"
extern const char *const fuzz_main_path;	/* DIR/main.ini */
/* Makes DIR, which goes at exit; exits when it cannot. */
void fuzz_files_init(void);
/* Whether path is below DIR. */
bool fuzz_in_dir(const char *path);
/* Writes the parts of an input; windows: with a BOM and CRLF line ends. */
void fuzz_write_input(const uint8_t *data, size_t size, bool windows);
/* The lines of path that a message or a model object may name; 0, 0 for other paths. */
void fuzz_line_range(const char *path, int *lo, int *hi);

/* check_model.c: what validation promises about a model it returned. */
void fuzz_check_model(const struct xtc_model *m, const char *main_path, const struct xtc_diag *d);

#endif
