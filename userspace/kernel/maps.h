/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The datapath's maps by role: sizing before load, sharing between the XDP
 * and TC objects, and pinning. */
#ifndef XTC_MAPS_H
#define XTC_MAPS_H

#include <bpf/libbpf.h>
#include <linux/types.h>

enum xtc_map_id {
	XTC_MAP_RULES,
	XTC_MAP_MASKS,
	XTC_MAP_CONFIG,
	XTC_MAP_IFACES,
	XTC_MAP_IPMAP,
	XTC_MAP_RULE_STATS,
	XTC_MAP_IFACE_STATS,
	XTC_MAP_RULE_INFO,
	XTC_MAP_RULE_SETS,
	XTC_MAP_SET_ELEMS,
	XTC_MAP_RULE_DIGEST,
	XTC_MAP_VCACHE,
	XTC_MAP_IFACE_IDX,
	XTC_MAP_COUNT,
};

/*
 * Maps that a state made by an older xtc may lack (bit per enum
 * xtc_map_id): such a state still works, more slowly (the rule digests
 * only spare a re-apply from reading the whole rules hash; programs loaded
 * without the pinned verdict cache get one of their own), until
 * xtc_maps_add_optional() makes them.
 */
#define XTC_MAPS_OPTIONAL ((1U << XTC_MAP_RULE_DIGEST) | (1U << XTC_MAP_VCACHE))

extern const char *const xtc_map_names[XTC_MAP_COUNT];

struct xtc_maps {
	int fd[XTC_MAP_COUNT];
};

void xtc_maps_init(struct xtc_maps *m);
/* Whether m (or NULL) holds no map at all. */
bool xtc_maps_none(const struct xtc_maps *m);
void xtc_maps_close(struct xtc_maps *m);

/* Sizes the rule maps of an opened (not loaded) object. */
int xtc_maps_resize(struct bpf_object *obj, __u32 max_rules, __u32 max_entries);
/* Makes an opened object use these maps (those with an fd) instead of creating its own. */
int xtc_maps_reuse(struct bpf_object *obj, const struct xtc_maps *m);
/* Takes (dup'ed) fds of a loaded object's maps. */
int xtc_maps_from_obj(struct bpf_object *obj, struct xtc_maps *m);
/* Pins every map as DIR/NAME; opens them back. */
int xtc_maps_pin(const struct xtc_maps *m, const char *dir);
/*
 * Creates and pins (as DIR/NAME) the optional maps m lacks, sized after
 * the maps it has; a pin of another layout in the way is replaced.
 */
int xtc_maps_add_optional(struct xtc_maps *m, const char *dir);
int xtc_maps_open_pinned(struct xtc_maps *m, const char *dir);
/*
 * The open maps whose key or value size is not this xtc's (bit per
 * enum xtc_map_id): pins made by another version would be read wrongly.
 */
__u32 xtc_maps_check(const struct xtc_maps *m);

/* Reads the first n slots of an array map into vals, in batches (one call per few thousand). */
int xtc_map_read_array(int fd, void *vals, size_t value_size, __u32 n);

/*
 * Writes values into slots of an array map: as memory when the map is
 * mmapable and about expect writes are coming, else in batches of a few
 * thousand.  Close flushes what is left; a write is not known to be done
 * before it returns 0.
 */
struct xtc_array_writer {
	int fd;
	size_t value_size;
	__u32 max_entries;
	bool mapped;			/* writes go into mem, else into the batch */
	void *mem;			/* a window of the map: bytes mem_start on */
	size_t mem_start, mem_len, map_len;
	__u32 *keys;			/* the batch */
	void *vals;
	__u32 n;
};

int xtc_array_writer_open(struct xtc_array_writer *w, int fd, size_t value_size, size_t expect);
int xtc_array_writer_put(struct xtc_array_writer *w, __u32 idx, const void *val);
int xtc_array_writer_close(struct xtc_array_writer *w);

/*
 * Calls fn for every entry of a hash map, read in batches (one syscall per
 * few thousand entries, not per entry); stops at fn's first error.
 */
int xtc_map_for_each(int fd, size_t key_size, size_t value_size,
		     int (*fn)(const void *key, const void *value, void *ctx), void *ctx);

/* The records of xtc_ifaces: ifindexes and flags, by ifindex.  Free both arrays. */
struct xtc_iface_recs {
	__u32 *ifindex;
	__u32 *flags;
	size_t n, cap;
};
int xtc_iface_recs_read(int ifaces_fd, struct xtc_iface_recs *r);
void xtc_iface_recs_free(struct xtc_iface_recs *r);

#endif
