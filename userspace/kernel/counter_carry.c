// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counter_carry.h"
#include "log.h"

static int info_of(int fd, struct bpf_map_info *mi)
{
	__u32 len = sizeof(*mi);

	memset(mi, 0, sizeof(*mi));
	return bpf_obj_get_info_by_fd(fd, mi, &len) ? -errno : 0;
}

static int collect_keys(struct xtc_carry_map *c, bool array, const __u32 *ids, size_t n_ids,
			__u32 max_entries)
{
	size_t cap = array ? n_ids : max_entries;
	void *prev = NULL;

	c->keys = calloc(cap ? cap : 1, c->key_size);
	if (!c->keys)
		return -ENOMEM;
	if (array) {
		memcpy(c->keys, ids, n_ids * sizeof(*ids));
		c->n = n_ids;
		return 0;
	}
	while (c->n < cap) {
		char *key = (char *)c->keys + (size_t)c->n * c->key_size;

		if (bpf_map_get_next_key(c->old_fd, prev, key))
			return errno == ENOENT ? 0 : -errno;
		prev = key;
		c->n++;
	}
	return 0;
}

/* Keeps the entries that have a successor, each with its new key. */
static int rekey_all(struct xtc_carry_map *c, __u32 new_key_size, xtc_carry_rekey_fn rekey,
		     void *ctx)
{
	__u32 i, kept = 0;

	c->new_key_size = new_key_size;
	c->new_keys = calloc(c->n ? c->n : 1, new_key_size);
	if (!c->new_keys)
		return -ENOMEM;
	for (i = 0; i < c->n; i++) {
		const char *ok = (char *)c->keys + (size_t)i * c->key_size;

		if (!rekey(ok, c->key_size, (char *)c->new_keys + (size_t)kept * new_key_size, ctx))
			continue;
		memmove((char *)c->keys + (size_t)kept * c->key_size, ok, c->key_size);
		kept++;
	}
	c->n = kept;
	return 0;
}

static const void *new_key(const struct xtc_carry_map *c, __u32 i)
{
	return c->new_keys ? (char *)c->new_keys + (size_t)i * c->new_key_size :
			     (char *)c->keys + (size_t)i * c->key_size;
}

int xtc_carry_begin(struct xtc_carry_map *c, int old_fd, int new_fd, const __u32 *ids,
		    size_t n_ids, xtc_carry_rekey_fn rekey, void *ctx)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_map_info om, nm;
	__u64 *nv = NULL;
	__u32 i;
	int err;

	memset(c, 0, sizeof(*c));
	c->old_fd = old_fd;
	c->new_fd = new_fd;
	if (ncpu < 1)
		return ncpu ?: -EINVAL;
	if ((err = info_of(old_fd, &om)) || (err = info_of(new_fd, &nm)))
		return err;
	bool rekeyed = om.type != nm.type || om.key_size != nm.key_size;

	if (rekeyed && !rekey) {
		pr_warn("counters of %s: the old map is keyed differently; they start again\n",
			nm.name);
		return 0;
	}
	c->key_size = om.key_size;
	c->old_stride = (om.value_size + 7) / 8;
	c->new_stride = (nm.value_size + 7) / 8;
	c->words = (om.value_size < nm.value_size ? om.value_size : nm.value_size) / 8;
	err = collect_keys(c, om.type == BPF_MAP_TYPE_PERCPU_ARRAY, ids, n_ids, om.max_entries);
	if (!err && rekeyed)
		err = rekey_all(c, nm.key_size, rekey, ctx);
	if (!err && !(c->base = calloc((size_t)c->n * ncpu * c->old_stride + 1, 8)))
		err = -ENOMEM;
	if (!err && !(nv = calloc((size_t)ncpu * c->new_stride, 8)))
		err = -ENOMEM;
	for (i = 0; !err && i < c->n; i++) {
		const void *key = (char *)c->keys + (size_t)i * c->key_size;
		__u64 *ov = c->base + (size_t)i * ncpu * c->old_stride;
		int cpu;

		if (bpf_map_lookup_elem(old_fd, key, ov)) {
			/* Gone meanwhile (a hash entry): nothing to carry. */
			memset(ov, 0, (size_t)ncpu * c->old_stride * 8);
			continue;
		}
		memset(nv, 0, (size_t)ncpu * c->new_stride * 8);
		for (cpu = 0; cpu < ncpu; cpu++)
			memcpy(nv + cpu * c->new_stride, ov + cpu * c->old_stride, c->words * 8);
		if (bpf_map_update_elem(new_fd, new_key(c, i), nv, BPF_ANY))
			err = -errno;
	}
	free(nv);
	if (err)
		xtc_carry_free(c);
	return err;
}

int xtc_carry_finish(struct xtc_carry_map *c)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *ov = NULL, *nv = NULL;
	__u32 i;
	int err = 0;

	if (!c->n || ncpu < 1)
		return 0;
	ov = calloc((size_t)ncpu * c->old_stride, 8);
	nv = calloc((size_t)ncpu * c->new_stride, 8);
	if (!ov || !nv)
		err = -ENOMEM;
	for (i = 0; !err && i < c->n; i++) {
		const void *key = (char *)c->keys + (size_t)i * c->key_size;
		const __u64 *base = c->base + (size_t)i * ncpu * c->old_stride;
		bool moved = false;
		int cpu;
		size_t w;

		if (bpf_map_lookup_elem(c->old_fd, key, ov) ||
		    bpf_map_lookup_elem(c->new_fd, new_key(c, i), nv))
			continue;
		for (cpu = 0; cpu < ncpu; cpu++)
			for (w = 0; w < c->words; w++) {
				__u64 d = ov[cpu * c->old_stride + w] - base[cpu * c->old_stride + w];

				nv[cpu * c->new_stride + w] += d;
				moved |= d != 0;
			}
		/* A program may count between the read and this write: rare, and only ever low. */
		if (moved && bpf_map_update_elem(c->new_fd, new_key(c, i), nv, BPF_EXIST))
			err = -errno;
	}
	free(ov);
	free(nv);
	return err;
}

void xtc_carry_free(struct xtc_carry_map *c)
{
	if (!c)
		return;
	free(c->keys);
	free(c->new_keys);
	free(c->base);
	memset(c, 0, sizeof(*c));
	c->old_fd = c->new_fd = -1;
}
