// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include "mem.h"

#define STEP (256UL << 20)
#define HUGE (2UL << 20)

void xtc_mem_tune(void)
{
	uintptr_t start, end;
	void *p;

	mallopt(M_MMAP_THRESHOLD, STEP);
	mallopt(M_TRIM_THRESHOLD, 2 * STEP);
	mallopt(M_TOP_PAD, STEP);
	/* Grows the heap (libraries made it small already), STEP ahead: advise it all. */
	p = malloc(2 * HUGE);
	end = (uintptr_t)sbrk(0);
	start = ((uintptr_t)p + HUGE - 1) & ~(HUGE - 1);
	if (p && end > start + HUGE)
		madvise((void *)start, (end - start) & ~(HUGE - 1), MADV_HUGEPAGE);
	free(p);
}
