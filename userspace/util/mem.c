// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include "mem.h"

#define STEP (256UL << 20)
#define HUGE (2UL << 20)

static uintptr_t advised_end;

/* Reserving heap ahead is safe unless address space or commit is counted strictly. */
static bool room_to_reserve(void)
{
	struct rlimit rl;
	FILE *f;
	int mode = 0;

	if (getrlimit(RLIMIT_AS, &rl) || rl.rlim_cur != RLIM_INFINITY)
		return false;
	f = fopen("/proc/sys/vm/overcommit_memory", "re");
	if (f) {
		if (fscanf(f, "%d", &mode) != 1)
			mode = 2;
		fclose(f);
	}
	return mode != 2;
}

void xtc_mem_advise(void)
{
	uintptr_t end = (uintptr_t)sbrk(0) & ~(HUGE - 1);

	if (!advised_end || end <= advised_end)
		return;
	madvise((void *)advised_end, end - advised_end, MADV_HUGEPAGE);
	advised_end = end;
}

/* Grows the heap STEP ahead (virtual: nothing is touched) and advises it all. */
static bool reserve(void)
{
	uintptr_t start;
	void *p;

	p = malloc(2 * HUGE);
	if (!p)
		return false;
	start = ((uintptr_t)p + HUGE - 1) & ~(HUGE - 1);
	if (!advised_end || start < advised_end)
		advised_end = start;
	xtc_mem_advise();
	free(p);
	return true;
}

static bool tuned;

void xtc_mem_tune(void)
{
	if (!room_to_reserve())
		return;
	mallopt(M_MMAP_THRESHOLD, STEP);
	mallopt(M_TRIM_THRESHOLD, 2 * STEP);
	mallopt(M_TOP_PAD, STEP);
	/* Libraries made the heap small already. */
	if (!reserve()) {
		/* No room after all: glibc's defaults, which ask for no more than needed. */
		mallopt(M_TOP_PAD, 128 << 10);
		return;
	}
	tuned = true;
}

void xtc_mem_trim(void)
{
	malloc_trim(0);
	/*
	 * The advice went with the heap's top: reserve and advise again, so that
	 * the next big run is as fast as the first (a re-grown heap would
	 * otherwise fault in 4 KiB pages, about twice as slow end to end).
	 */
	if (tuned && (uintptr_t)sbrk(0) < advised_end) {
		advised_end = 0;
		reserve();
	}
}

#define POPULATE_FROM (4UL << 20)	/* below this, a thread costs more than it saves */

static void *populate(void *arg)
{
	struct xtc_populate *pp = arg;

	/* Advice: where it fails the caller's writes fault the pages in, as without it. */
	madvise(pp->p, pp->len, MADV_POPULATE_WRITE);
	return NULL;
}

void xtc_mem_populate_start(struct xtc_populate *pp, void *p, size_t len)
{
	uintptr_t start = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t end = ((uintptr_t)p + len) & ~(uintptr_t)4095;

	pp->started = false;
	if (!p || len < POPULATE_FROM || end <= start)
		return;
	pp->p = (void *)start;
	pp->len = end - start;
	pp->started = !pthread_create(&pp->thread, NULL, populate, pp);
}

void xtc_mem_populate_wait(struct xtc_populate *pp)
{
	if (pp->started)
		pthread_join(pp->thread, NULL);
	pp->started = false;
}
