/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Small helpers every layer may use; nothing here knows about xtc. */
#ifndef XTC_UTIL_H
#define XTC_UTIL_H

#include <stddef.h>
#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

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
