// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Grows an xtc_bigarr one element at a time, as the config reader does, and
 * prints JSON: whether every element kept its value across the moves, the
 * capacity, and the resident memory before, at the largest and after free
 * (util/bigarr.h promises that free gives it all back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bigarr.h"

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 0, cap = 0, i;
	unsigned long long *a = NULL;
	long before = rss_kib(), peak;
	int kept = 1;

	for (i = 0; i < n; i++) {
		if (xtc_bigarr_reserve((void **)&a, &cap, i + 1, sizeof(*a))) {
			fprintf(stderr, "bigarr_drv: no memory at %zu\n", i);
			return 1;
		}
		a[i] = i * 0x9e3779b97f4a7c15ULL;
	}
	for (i = 0; i < n; i++)
		kept &= a[i] == i * 0x9e3779b97f4a7c15ULL;
	peak = rss_kib();
	xtc_bigarr_free(a, cap);
	printf("{\"kept\": %s, \"cap_bytes\": %zu, \"rss_before_kib\": %ld, \"rss_peak_kib\": %ld, "
	       "\"rss_after_kib\": %ld}\n", kept ? "true" : "false", cap, before, peak, rss_kib());
	return 0;
}
