// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "maps.h"
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "util.h"
#include "xtc_shared.h"

const char *const xtc_map_names[XTC_MAP_COUNT] = {
	[XTC_MAP_RULES] = "xtc_rules",
	[XTC_MAP_MASKS] = "xtc_masks",
	[XTC_MAP_CONFIG] = "xtc_config",
	[XTC_MAP_IFACES] = "xtc_ifaces",
	[XTC_MAP_IPMAP] = "xtc_ipmap",
	[XTC_MAP_RULE_STATS] = "xtc_rule_stats",
	[XTC_MAP_IFACE_STATS] = "xtc_iface_stats",
	[XTC_MAP_RULE_INFO] = "xtc_rule_info",
	[XTC_MAP_RULE_SETS] = "xtc_rule_sets",
	[XTC_MAP_SET_ELEMS] = "xtc_set_elems",
	[XTC_MAP_RULE_DIGEST] = "xtc_rule_digest",
	[XTC_MAP_VCACHE] = "xtc_vcache",
	[XTC_MAP_IFACE_IDX] = "xtc_iface_idx",
};

void xtc_maps_init(struct xtc_maps *m)
{
	int i;

	for (i = 0; i < XTC_MAP_COUNT; i++)
		m->fd[i] = -1;
}

bool xtc_maps_none(const struct xtc_maps *m)
{
	int i;

	for (i = 0; m && i < XTC_MAP_COUNT; i++)
		if (m->fd[i] >= 0)
			return false;
	return true;
}

void xtc_maps_close(struct xtc_maps *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < XTC_MAP_COUNT; i++) {
		if (m->fd[i] >= 0)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
}

static struct bpf_map *find(struct bpf_object *obj, int id)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, xtc_map_names[id]);

	if (!map)
		pr_warn("BPF object %s has no map %s\n", bpf_object__name(obj), xtc_map_names[id]);
	return map;
}

int xtc_maps_resize(struct bpf_object *obj, __u32 max_rules, __u32 max_entries)
{
	struct bpf_map *rules = find(obj, XTC_MAP_RULES);
	struct bpf_map *stats = find(obj, XTC_MAP_RULE_STATS);
	struct bpf_map *info = find(obj, XTC_MAP_RULE_INFO);
	struct bpf_map *sets = find(obj, XTC_MAP_RULE_SETS);
	struct bpf_map *elems = find(obj, XTC_MAP_SET_ELEMS);
	struct bpf_map *digest = find(obj, XTC_MAP_RULE_DIGEST);
	int err;

	if (!rules || !stats || !info || !sets || !elems || !digest)
		return -ENOENT;
	err = bpf_map__set_max_entries(rules, max_entries);
	if (!err)
		err = bpf_map__set_max_entries(stats, max_rules);
	if (!err)
		err = bpf_map__set_max_entries(info, max_rules);
	if (!err)
		err = bpf_map__set_max_entries(sets, max_rules);
	/* Every element becomes one classifier entry at least. */
	if (!err)
		err = bpf_map__set_max_entries(elems, max_entries);
	/* One slot per rule id, after the header. */
	if (!err)
		err = bpf_map__set_max_entries(digest, max_rules + 1);
	return err;
}

int xtc_maps_reuse(struct bpf_object *obj, const struct xtc_maps *m)
{
	int i, err;

	for (i = 0; i < XTC_MAP_COUNT; i++) {
		struct bpf_map *map = find(obj, i);

		if (!map)
			return -ENOENT;
		if (m->fd[i] < 0)
			continue;
		err = bpf_map__reuse_fd(map, m->fd[i]);
		if (err)
			return err;
	}
	return 0;
}

int xtc_maps_from_obj(struct bpf_object *obj, struct xtc_maps *m)
{
	int i;

	xtc_maps_init(m);
	for (i = 0; i < XTC_MAP_COUNT; i++) {
		struct bpf_map *map = find(obj, i);

		if (!map)
			goto err;
		m->fd[i] = dup(bpf_map__fd(map));
		if (m->fd[i] < 0)
			goto err;
	}
	return 0;
err:
	xtc_maps_close(m);
	return -ENOENT;
}

int xtc_maps_pin(const struct xtc_maps *m, const char *dir)
{
	char path[4352];
	int i;

	for (i = 0; i < XTC_MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, xtc_map_names[i]);
		if (bpf_obj_pin(m->fd[i], path) && errno != EEXIST)
			return -errno;
	}
	return 0;
}

static int make_optional(struct xtc_maps *m, const char *dir, int id)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);
	char path[4352];
	int fd;

	if (id == XTC_MAP_VCACHE) {
		fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, xtc_map_names[id], sizeof(__u32),
				    sizeof(struct xtc_vcache_ent), XTC_VCACHE_SLOTS + 1, NULL);
	} else {
		if (bpf_obj_get_info_by_fd(m->fd[XTC_MAP_RULE_INFO], &mi, &len))
			return -errno;
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, xtc_map_names[id], sizeof(__u32),
				    sizeof(struct xtc_rule_digest), mi.max_entries + 1, NULL);
	}
	if (fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", dir, xtc_map_names[id]);
	/* Whatever is pinned there was refused as foreign: ours replaces it. */
	if ((unlink(path) && errno != ENOENT) || bpf_obj_pin(fd, path)) {
		int err = -errno;

		close(fd);
		return err;
	}
	m->fd[id] = fd;
	return 0;
}

int xtc_maps_add_optional(struct xtc_maps *m, const char *dir)
{
	int id, err;

	for (id = 0; id < XTC_MAP_COUNT; id++) {
		if (!(XTC_MAPS_OPTIONAL & (1U << id)) || m->fd[id] >= 0)
			continue;
		err = make_optional(m, dir, id);
		if (err)
			return err;
	}
	return 0;
}

int xtc_maps_open_pinned(struct xtc_maps *m, const char *dir)
{
	char path[4352];
	int i, err;

	xtc_maps_init(m);
	for (i = 0; i < XTC_MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, xtc_map_names[i]);
		m->fd[i] = bpf_obj_get(path);
		if (m->fd[i] < 0) {
			err = -errno;
			xtc_maps_close(m);
			return err;
		}
	}
	return 0;
}

__u32 xtc_maps_check(const struct xtc_maps *m)
{
	static const struct {
		__u32 key, value;
	} want[XTC_MAP_COUNT] = {
		[XTC_MAP_RULES] = { sizeof(struct xtc_flow_key), sizeof(struct xtc_rule_val) },
		[XTC_MAP_MASKS] = { sizeof(__u32), sizeof(struct xtc_mask_list) },
		[XTC_MAP_CONFIG] = { sizeof(__u32), sizeof(struct xtc_config) },
		[XTC_MAP_IFACES] = { sizeof(__u32), sizeof(struct xtc_iface_cfg) },
		[XTC_MAP_IPMAP] = { sizeof(struct xtc_ipmap_key), sizeof(struct xtc_ipmap_val) },
		[XTC_MAP_RULE_STATS] = { sizeof(__u32), sizeof(struct xtc_rule_stats) },
		[XTC_MAP_IFACE_STATS] = { sizeof(__u32), sizeof(struct xtc_iface_stats) },
		[XTC_MAP_RULE_INFO] = { sizeof(__u32), sizeof(struct xtc_rule_info) },
		[XTC_MAP_RULE_SETS] = { sizeof(__u32), sizeof(struct xtc_rule_sets) },
		[XTC_MAP_SET_ELEMS] = { sizeof(struct xtc_set_elem_key), sizeof(struct xtc_set_elem) },
		[XTC_MAP_RULE_DIGEST] = { sizeof(__u32), sizeof(struct xtc_rule_digest) },
		[XTC_MAP_VCACHE] = { sizeof(__u32), sizeof(struct xtc_vcache_ent) },
		[XTC_MAP_IFACE_IDX] = { sizeof(__u32), sizeof(__u64) },
	};
	__u32 bad = 0;
	int i;

	for (i = 0; i < XTC_MAP_COUNT; i++) {
		struct bpf_map_info mi = {};
		__u32 len = sizeof(mi);

		if (m->fd[i] < 0)
			continue;
		if (bpf_obj_get_info_by_fd(m->fd[i], &mi, &len) || mi.key_size != want[i].key ||
		    mi.value_size != want[i].value) {
			pr_debug("maps/%s: key %u, value %u bytes; this xtc uses %u and %u\n",
				 xtc_map_names[i], mi.key_size, mi.value_size, want[i].key,
				 want[i].value);
			bad |= 1U << i;
		}
	}
	return bad;
}

#define BATCH 4096

int xtc_map_for_each(int fd, size_t key_size, size_t value_size,
		     int (*fn)(const void *key, const void *value, void *ctx), void *ctx)
{
	char *keys = calloc(BATCH, key_size), *vals = calloc(BATCH, value_size);
	char *in = calloc(1, key_size), *out = calloc(1, key_size);
	bool first = true;
	__u32 i, n;
	int err = -ENOMEM;

	if (!keys || !vals || !in || !out)
		goto out;
	for (;;) {
		n = BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys, vals, &n, NULL);
		if (err && errno != ENOENT) {
			err = -errno;
			goto out;
		}
		for (i = 0; i < n; i++) {
			int e = fn(keys + i * key_size, vals + i * value_size, ctx);

			if (e) {
				err = e;
				goto out;
			}
		}
		if (err)	/* ENOENT: that was the last batch */
			break;
		memcpy(in, out, key_size);
		first = false;
	}
	err = 0;
out:
	free(out);
	free(in);
	free(vals);
	free(keys);
	return err;
}

static int add_rec(const void *key, const void *value, void *ctx)
{
	const struct xtc_iface_cfg *cfg = value;
	struct xtc_iface_recs *r = ctx;
	size_t i;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		__u32 *a = realloc(r->ifindex, cap * sizeof(*a)), *f;

		if (!a)
			return -ENOMEM;
		r->ifindex = a;
		if (!(f = realloc(r->flags, cap * sizeof(*f))))
			return -ENOMEM;
		r->flags = f;
		r->cap = cap;
	}
	/* In order as they come: at most XTC_MAX_IFACES of them. */
	for (i = r->n; i > 0 && r->ifindex[i - 1] > *(const __u32 *)key; i--) {
		r->ifindex[i] = r->ifindex[i - 1];
		r->flags[i] = r->flags[i - 1];
	}
	r->ifindex[i] = *(const __u32 *)key;
	r->flags[i] = cfg->flags;
	r->n++;
	return 0;
}

int xtc_iface_recs_read(int ifaces_fd, struct xtc_iface_recs *r)
{
	memset(r, 0, sizeof(*r));
	return xtc_map_for_each(ifaces_fd, sizeof(__u32), sizeof(struct xtc_iface_cfg), add_rec, r);
}

void xtc_iface_recs_free(struct xtc_iface_recs *r)
{
	free(r->ifindex);
	free(r->flags);
	memset(r, 0, sizeof(*r));
}
