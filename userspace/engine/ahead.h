/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The BPF objects of a state made from nothing, loaded on a thread of their
 * own while the rules compile: at 1M rules creating the maps takes about a
 * second of kernel time (the per-CPU counters most of it), as long as the
 * compile.  Nothing is pinned or attached here: objects that apply does not
 * take vanish with the process, so the kernel changes only when apply acts.
 */
#ifndef XTC_AHEAD_H
#define XTC_AHEAD_H

#include <pthread.h>
#include <stdbool.h>
#include "objs.h"
#include "state.h"

struct xtc_ahead {
	pthread_t th;
	bool started;
	struct xtc_objs_opts oo;
	struct xtc_objs o;
	int err;
};

/* Whether st holds nothing of ours: the only state objects are loaded ahead for. */
bool xtc_ahead_useful(const struct xtc_state *st);

/* Starts loading with these options (reuse ignored: every map is made); quietly does nothing if it cannot. */
void xtc_ahead_start(struct xtc_ahead *a, const struct xtc_objs_opts *oo);

/*
 * Waits for the objects and hands them over when they were loaded with the
 * options apply would load with now (no map to reuse), the rules hash with
 * room for what compiled but not twice that; -ENOENT otherwise, and then
 * apply loads them itself, saying why if that fails.
 */
int xtc_ahead_take(struct xtc_ahead *a, const struct xtc_objs_opts *oo, struct xtc_objs *o);

/* Waits, and destroys what was not taken. */
void xtc_ahead_free(struct xtc_ahead *a);

#endif
