// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Array maps read and written as memory when they are mmapable, in batches when not. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "maps.h"
#include "util.h"

/*
 * An array made with BPF_F_MMAPABLE is read as memory: 100k rule records
 * take a memcpy instead of 100k copies through the syscall (16 ms).  Maps
 * made before the flag refuse the mmap, and are read the other way.
 *
 * The mappings stay, one per map name: the first touch of each page of a
 * new one costs more than the copy (6 ms for 12 MB here, and 2 to unmap),
 * and a daemon reads the same maps at every reconcile.  A mapping holds its
 * map; it goes when a map of that name with another id is read.
 */
static struct kept_map {
	char name[BPF_OBJ_NAME_LEN];
	__u32 id;
	void *p;
	size_t len;
} kept[4];
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static struct kept_map *kept_for(const struct bpf_map_info *mi, size_t len)
{
	struct kept_map *k = NULL;
	int i;

	for (i = 0; i < (int)ARRAY_SIZE(kept) && !k; i++)
		if (kept[i].p && !strcmp(kept[i].name, mi->name))
			k = &kept[i];
	for (i = 0; i < (int)ARRAY_SIZE(kept) && !k; i++)
		if (!kept[i].p)
			k = &kept[i];
	if (!k)
		k = &kept[0];
	if (k->p && k->id == mi->id && k->len >= len)
		return k;
	if (k->p)
		munmap(k->p, k->len);
	k->p = NULL;
	return k;
}

/* Elements sit 8-byte aligned: only then is a mapping of the map an array of values. */
static bool as_memory(const struct bpf_map_info *mi, size_t value_size)
{
	return mi->type == BPF_MAP_TYPE_ARRAY && (mi->map_flags & BPF_F_MMAPABLE) &&
	       mi->value_size == value_size && !(value_size % 8);
}

static size_t page_up(size_t len)
{
	size_t page = sysconf(_SC_PAGESIZE);

	return (len + page - 1) / page * page;
}

static int read_mapped(int fd, void *vals, size_t value_size, __u32 n)
{
	struct bpf_map_info mi = {};
	__u32 info_len = sizeof(mi);
	size_t len = (size_t)n * value_size, all;
	struct kept_map *k;
	int err = 0;

	if (!len || bpf_obj_get_info_by_fd(fd, &mi, &info_len) || !as_memory(&mi, value_size) ||
	    n > mi.max_entries)
		return -EINVAL;
	all = (size_t)mi.max_entries * value_size;
	pthread_mutex_lock(&kept_lock);
	k = kept_for(&mi, len);
	if (!k->p) {
		/* Room to grow: twice what is read now, up to the whole map. */
		size_t map_len = 2 * len < all ? 2 * len : all;
		void *p = mmap(NULL, map_len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);

		if (p == MAP_FAILED) {
			err = -errno;
		} else {
			*k = (struct kept_map){ .id = mi.id, .p = p, .len = map_len };
			snprintf(k->name, sizeof(k->name), "%s", mi.name);
		}
	}
	if (!err)
		memcpy(vals, k->p, len);
	pthread_mutex_unlock(&kept_lock);
	return err;
}

int xtc_map_read_array(int fd, void *vals, size_t value_size, __u32 n)
{
	__u32 done = 0, in = 0, next = 0, cnt, *keys;
	int err = 0;

	if (!read_mapped(fd, vals, value_size, n))
		return 0;

	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while (done < n) {
		cnt = n - done;
		if (bpf_map_lookup_batch(fd, done ? &in : NULL, &next, keys + done,
					 (char *)vals + (size_t)done * value_size, &cnt, NULL)) {
			if (errno != ENOENT)
				err = -errno;
			break;
		}
		done += cnt;
		in = next;
	}
	free(keys);
	return err;
}

/*
 * Many writes go through writable mappings of the map: a first apply of
 * 1M rules writes 1M records and 1M digests, 0.5 s in batches of 4096 and
 * a memcpy each as memory.  A mapping costs a page-table entry per page up
 * front (6 ms for 100k records), more than a few batched writes: so only
 * from this many.  And the mapped pages count in the process's RSS though
 * the kernel holds them anyway: so a window of WRITE_WINDOW bytes at a
 * time, moved forward as the slots written grow.
 */
#define WRITE_MAPPED_FROM 16384
#define WRITE_BATCH 4096
#define WRITE_WINDOW (2UL << 20)

static int writer_batches(struct xtc_array_writer *w)
{
	w->keys = calloc(WRITE_BATCH, sizeof(*w->keys));
	w->vals = calloc(WRITE_BATCH, w->value_size);
	return w->keys && w->vals ? 0 : -ENOMEM;
}

int xtc_array_writer_open(struct xtc_array_writer *w, int fd, size_t value_size, size_t expect)
{
	struct bpf_map_info mi = {};
	__u32 info_len = sizeof(mi);

	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->value_size = value_size;
	if (bpf_obj_get_info_by_fd(fd, &mi, &info_len))
		return -errno;
	w->max_entries = mi.max_entries;
	if (expect >= WRITE_MAPPED_FROM && as_memory(&mi, value_size)) {
		w->map_len = page_up((size_t)mi.max_entries * value_size);
		w->mapped = true;
		return 0;
	}
	/* Not mmapable (made by an older xtc), or few writes: batches. */
	return writer_batches(w);
}

static int writer_flush(struct xtc_array_writer *w)
{
	__u32 i, done;

	for (i = 0; i < w->n; i += done) {
		done = w->n - i;
		if (bpf_map_update_batch(w->fd, w->keys + i, (char *)w->vals + (size_t)i * w->value_size,
					 &done, NULL))
			return -errno;
	}
	w->n = 0;
	return 0;
}

/* Maps the window that holds byte off of the map, whole values included. */
static int writer_move(struct xtc_array_writer *w, size_t off)
{
	size_t start = off / WRITE_WINDOW * WRITE_WINDOW, len = page_up(WRITE_WINDOW + w->value_size);
	void *p;

	if (start + len > w->map_len)
		len = w->map_len - start;
	if (w->mem)
		munmap(w->mem, w->mem_len);
	w->mem = NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, start);
	if (p == MAP_FAILED)
		return -errno;
	w->mem = p;
	w->mem_start = start;
	w->mem_len = len;
	return 0;
}

int xtc_array_writer_put(struct xtc_array_writer *w, __u32 idx, const void *val)
{
	size_t off = (size_t)idx * w->value_size;
	int err;

	if (idx >= w->max_entries)
		return -E2BIG;
	if (w->mapped && (!w->mem || off < w->mem_start ||
			  off + w->value_size > w->mem_start + w->mem_len)) {
		/* Windows only move forward: slots out of order go in batches. */
		err = w->mem && off < w->mem_start ? -ERANGE : writer_move(w, off);
		if (err) {
			if (w->mem)
				munmap(w->mem, w->mem_len);
			w->mem = NULL;
			w->mapped = false;
			err = writer_batches(w);
			if (err)
				return err;
		}
	}
	if (w->mapped) {
		memcpy((char *)w->mem + (off - w->mem_start), val, w->value_size);
		return 0;
	}
	w->keys[w->n] = idx;
	memcpy((char *)w->vals + (size_t)w->n * w->value_size, val, w->value_size);
	return ++w->n == WRITE_BATCH ? writer_flush(w) : 0;
}

int xtc_array_writer_close(struct xtc_array_writer *w)
{
	int err = w->keys ? writer_flush(w) : 0;

	if (w->mem)
		munmap(w->mem, w->mem_len);
	free(w->keys);
	free(w->vals);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	return err;
}
