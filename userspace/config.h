/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reading the INI file: an inih handler fills a raw model line by line, then
 * a separate pass validates it and resolves interfaces.  Every problem is
 * collected as "FILE:LINE: message" so that check can print them all.
 */
#ifndef XTC_CONFIG_H
#define XTC_CONFIG_H

#include "model.h"

struct xtc_diag {
	char **msgs;			/* each "FILE:LINE: message" (or "FILE: message") */
	int n;
};

void xtc_diag_free(struct xtc_diag *d);
void xtc_diag_print(const struct xtc_diag *d);	/* one per line on stderr */

/*
 * Parses and validates path.  Returns 0 and *out, or a negative errno with
 * the reasons in diag: -EINVAL for config problems, -ENOENT/-EACCES/-EISDIR
 * and friends when the file cannot be read.
 */
int xtc_config_load(const char *path, struct xtc_model **out, struct xtc_diag *diag);

#endif
