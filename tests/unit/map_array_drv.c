// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test driver for the array writer of userspace/kernel/map_array.c: makes
 * an array map, writes value i ^ SEED into the slots listed, and reads
 * every slot back through the syscall.  Prints one line of JSON.
 *
 *   map_array_drv mmapable|plain MAX_ENTRIES VALUE_SIZE EXPECT ORDER N
 *
 * ORDER: up (slots 0..N-1), down (N-1..0), or stride (every 3rd slot,
 * then the rest).  EXPECT is the writer's hint.  "ok" is true when every
 * slot written holds its value and every other slot is still zero.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "maps.h"

#define SEED 0x5a5a5a5aU

static void fill(unsigned char *v, size_t size, __u32 i)
{
	__u32 x = i ^ SEED;
	size_t k;

	for (k = 0; k < size; k++)
		v[k] = (unsigned char)(x >> (8 * (k % 4))) + (unsigned char)k;
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	struct xtc_array_writer w;
	unsigned char *v, *got, *zero;
	__u32 max, n, i, k, *order, bad = 0, e2big;
	size_t size, expect;
	int fd, err, err2;

	if (argc != 7)
		return 2;
	o.map_flags = !strcmp(argv[1], "mmapable") ? BPF_F_MMAPABLE : 0;
	max = strtoul(argv[2], NULL, 0);
	size = strtoul(argv[3], NULL, 0);
	expect = strtoul(argv[4], NULL, 0);
	n = strtoul(argv[6], NULL, 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "drv", 4, size, max, &o);
	order = calloc(n ? n : 1, sizeof(*order));
	v = calloc(1, size);
	got = calloc(1, size);
	zero = calloc(1, size);
	if (fd < 0 || !order || !v || !got || !zero) {
		fprintf(stderr, "map_array_drv: setup: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0, k = 0; i < n; i++)
		order[i] = !strcmp(argv[5], "down") ? n - 1 - i : i;
	if (!strcmp(argv[5], "stride")) {
		for (i = 0; i < n; i += 3)
			order[k++] = i;
		for (i = 0; i < n; i++)
			if (i % 3)
				order[k++] = i;
	}
	err = xtc_array_writer_open(&w, fd, size, expect);
	for (i = 0; i < n && !err; i++) {
		fill(v, size, order[i]);
		err = xtc_array_writer_put(&w, order[i], v);
	}
	e2big = !err && xtc_array_writer_put(&w, max, v) == -E2BIG;
	err2 = xtc_array_writer_close(&w);
	for (i = 0; i < max; i++) {
		if (bpf_map_lookup_elem(fd, &i, got)) {
			bad++;
			continue;
		}
		fill(v, size, i);
		bad += memcmp(got, i < n ? v : zero, size) != 0;
	}
	printf("{\"err\": %d, \"close_err\": %d, \"e2big\": %s, \"bad\": %u, \"ok\": %s}\n", err, err2,
	       e2big ? "true" : "false", bad, !err && !err2 && !bad ? "true" : "false");
	return 0;
}
