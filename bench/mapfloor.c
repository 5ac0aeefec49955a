// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel's part of a first apply, alone: maps of the kinds and sizes
 * that xtc makes for a rule set, and the writes it does into them, from a
 * bare C loop with no parsing, compiling or planning.  bench/control.py runs
 * it beside `xtc apply` so that RESULTS.md can say how much of an apply from
 * nothing this machine's kernel takes whatever xtc does.
 *
 *   mapfloor ENTRIES HASH_MAX RECORDS RECORDS_MAX
 *
 * prints one JSON object: seconds to create the maps, to insert ENTRIES keys
 * into the rules hash (48-byte keys, 16-byte values, not preallocated, in
 * batches of 4096 as xtc writes them) and to write RECORDS 128-byte records
 * into the rule-info array (mmapable, and written as memory, as xtc does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#define BATCH 4096

struct key { unsigned int w[12]; };	/* the size of struct xtc_flow_key */
struct val { unsigned int w[4]; };	/* struct xtc_rule_val */
struct rec { unsigned char b[128]; };	/* struct xtc_rule_info */
struct stats { unsigned long long packets, bytes; };

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int create(enum bpf_map_type type, const char *name, unsigned int ksz, unsigned int vsz,
		  unsigned int max, unsigned int flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);
	int fd = bpf_map_create(type, name, ksz, vsz, max, &o);

	if (fd < 0) {
		fprintf(stderr, "mapfloor: cannot create %s: %s\n", name, strerror(errno));
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	unsigned int n, hmax, nrec, rmax, i, j;
	struct key *keys;
	struct val *vals;
	struct rec *recs;
	double t0, t_create, t_insert, t_records;
	int hfd, afd, sfd;

	if (argc != 5) {
		fprintf(stderr, "usage: mapfloor ENTRIES HASH_MAX RECORDS RECORDS_MAX\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 0);
	hmax = strtoul(argv[2], NULL, 0);
	nrec = strtoul(argv[3], NULL, 0);
	rmax = strtoul(argv[4], NULL, 0);
	keys = calloc(BATCH, sizeof(*keys));
	vals = calloc(BATCH, sizeof(*vals));
	if (!keys || !vals)
		return 1;

	t0 = now();
	hfd = create(BPF_MAP_TYPE_HASH, "floor_rules", sizeof(struct key), sizeof(struct val),
		     hmax, BPF_F_NO_PREALLOC);
	afd = create(BPF_MAP_TYPE_ARRAY, "floor_info", sizeof(__u32), sizeof(struct rec), rmax,
		     BPF_F_MMAPABLE);
	sfd = create(BPF_MAP_TYPE_PERCPU_ARRAY, "floor_stats", sizeof(__u32),
		     sizeof(struct stats), rmax, 0);
	t_create = now() - t0;

	/* Distinct keys spread over 21 shapes, as a rule set's entries are. */
	t0 = now();
	for (i = 0; i < n; i += BATCH) {
		__u32 cnt = n - i < BATCH ? n - i : BATCH;

		for (j = 0; j < cnt; j++) {
			unsigned int k = i + j;

			memset(&keys[j], 0, sizeof(keys[j]));
			keys[j].w[0] = k % 21;
			keys[j].w[1] = 0x0604;
			keys[j].w[3] = (80 + k % 4) << 16;
			keys[j].w[4] = k * 2654435761U;
			keys[j].w[8] = k;
			vals[j].w[0] = k;
			vals[j].w[1] = k / 3;
		}
		if (bpf_map_update_batch(hfd, keys, vals, &cnt, NULL)) {
			fprintf(stderr, "mapfloor: insert: %s\n", strerror(errno));
			return 1;
		}
	}
	t_insert = now() - t0;

	t0 = now();
	recs = mmap(NULL, (size_t)rmax * sizeof(*recs), PROT_READ | PROT_WRITE, MAP_SHARED, afd, 0);
	if (recs == MAP_FAILED) {
		fprintf(stderr, "mapfloor: records: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < nrec; i++)
		snprintf((char *)recs[i].b, 64, "r%u", i);
	munmap(recs, (size_t)rmax * sizeof(*recs));
	t_records = now() - t0;

	printf("{\"entries\": %u, \"hash_max\": %u, \"records\": %u, \"records_max\": %u, "
	       "\"create_s\": %.4f, \"insert_s\": %.4f, \"records_s\": %.4f}\n",
	       n, hmax, nrec, rmax, t_create, t_insert, t_records);
	close(sfd);
	close(afd);
	close(hfd);
	return 0;
}
