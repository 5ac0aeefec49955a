/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Small helpers every layer may use; nothing here knows about xtc. */
#ifndef XTC_UTIL_H
#define XTC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Sizes that stop at SIZE_MAX instead of wrapping: counts of what rules expand to. */
static inline size_t xtc_sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static inline size_t xtc_sat_mul(size_t a, size_t b)
{
	return a && b > SIZE_MAX / a ? SIZE_MAX : a * b;
}

#define XTC_FNV64_INIT 0xcbf29ce484222325ULL

/* FNV-1a, 64 bits: cheap, stable across runs and machines (for build ids and digests). */
static inline __u64 xtc_fnv1a64(__u64 h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#endif
