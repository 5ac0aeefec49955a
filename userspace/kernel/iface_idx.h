/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xtc_iface_idx: TC's quick look at the interface records (xtc_shared.h).
 * Each element belongs to one recorded interface whose ifindex falls there:
 * the one that holds it while it stays recorded, else the lowest.  The
 * loader writes an element with one 8-byte store through a mapping.
 */
#ifndef XTC_IFACE_IDX_H
#define XTC_IFACE_IDX_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* The map, mapped for writing; p is NULL when it is not. */
struct xtc_iface_idx {
	__u64 *p;
	int ifaces_fd;			/* borrowed: xtc_ifaces, to tell stale holders */
};

int xtc_iface_idx_map(struct xtc_iface_idx *ix, int idx_fd, int ifaces_fd);
void xtc_iface_idx_unmap(struct xtc_iface_idx *ix);

/* After the record of ifindex is written: its element, unless a recorded interface holds it. */
void xtc_iface_idx_set(const struct xtc_iface_idx *ix, __u32 ifindex, __u32 flags);
/* After the record of ifindex is gone: its element, if it holds it, goes too. */
void xtc_iface_idx_clear(const struct xtc_iface_idx *ix, __u32 ifindex);

/*
 * Pure: the elements that records (n ifindexes and their flags) want, given
 * what the array holds now (cur, XTC_IFACE_IDX_SLOTS elements); the number
 * of elements that differ.  want may be NULL (count only).
 */
size_t xtc_iface_idx_want(const __u32 *ifindex, const __u32 *flags, size_t n, const __u64 *cur,
			  __u64 *want);

/* Makes the array what the records in the kernel want now; the elements written, or -errno. */
int xtc_iface_idx_sync(const struct xtc_iface_idx *ix);

#endif
