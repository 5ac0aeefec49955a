// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE	/* mremap */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include "bigarr.h"
#include "util.h"

#define FIRST (64UL << 10)
#define HUGE_FROM (4UL << 20)	/* below this, a huge page would be mostly empty */

int xtc_bigarr_reserve(void **p, size_t *cap, size_t n, size_t size)
{
	size_t need = xtc_sat_mul(n, size), want = *cap ? *cap : FIRST;
	void *q;

	if (need <= *cap)
		return 0;
	while (want < need) {
		if (want > SIZE_MAX / 2)
			return -ENOMEM;
		want *= 2;
	}
	if (*cap)
		q = mremap(*p, *cap, want, MREMAP_MAYMOVE);
	else
		q = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED)
		return -ENOMEM;
	/* Advice only: without huge pages it is slower, not wrong. */
	if (want >= HUGE_FROM)
		madvise(q, want, MADV_HUGEPAGE);
	*p = q;
	*cap = want;
	return 0;
}

void xtc_bigarr_free(void *p, size_t cap)
{
	if (cap)
		munmap(p, cap);
}
