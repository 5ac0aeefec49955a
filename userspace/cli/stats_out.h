/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What `xtc stats` prints, for the daemon's metrics too (cmd_stats.c). */
#ifndef XTC_STATS_OUT_H
#define XTC_STATS_OUT_H

#include <stdio.h>
#include "output.h"
#include "state.h"

/* Every counter of st, as `xtc stats` prints it in o's format. */
void xtc_stats_print(struct xtc_out *o, const struct xtc_state *st, int ncpus);
/*
 * The Prometheus text of it to path, atomically (a temporary file beside it,
 * then rename); extra, when given, appends its own samples.  0 or -errno.
 */
int xtc_stats_write(const char *path, const struct xtc_state *st, int ncpus,
		    void (*extra)(FILE *f, void *arg), void *arg);

#endif
