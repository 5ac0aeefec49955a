/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Arrays that grow to millions of elements one element at a time (a rule
 * file's sections and key = value pairs).  realloc() on the tuned heap
 * (mem.h) copies each doubling and leaves the old copy resident, which at
 * a million rules is over 100 MiB of a peak that must stay small.  These
 * live in a mapping of their own that grows by mremap(): no copy, no old
 * copy, huge pages where the kernel allows, and all of it returned on free.
 */
#ifndef XTC_BIGARR_H
#define XTC_BIGARR_H

#include <stddef.h>

/* Room in *p (cap bytes, 0 at first) for n elements of size: 0 or -ENOMEM. */
int xtc_bigarr_reserve(void **p, size_t *cap, size_t n, size_t size);
void xtc_bigarr_free(void *p, size_t cap);

#endif
