// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "iface_idx.h"
#include "maps.h"
#include "xtc_shared.h"

#define IDX_BYTES ((size_t)XTC_IFACE_IDX_SLOTS * sizeof(__u64))

int xtc_iface_idx_map(struct xtc_iface_idx *ix, int idx_fd, int ifaces_fd)
{
	void *p;

	ix->p = NULL;
	ix->ifaces_fd = ifaces_fd;
	if (idx_fd < 0)
		return -EBADF;
	p = mmap(NULL, IDX_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, idx_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	ix->p = p;
	return 0;
}

void xtc_iface_idx_unmap(struct xtc_iface_idx *ix)
{
	if (ix->p)
		munmap(ix->p, IDX_BYTES);
	ix->p = NULL;
}

static void store(const struct xtc_iface_idx *ix, __u32 slot, __u64 v)
{
	__atomic_store_n(&ix->p[slot], v, __ATOMIC_RELEASE);
}

static bool recorded(const struct xtc_iface_idx *ix, __u32 ifindex)
{
	struct xtc_iface_cfg cfg;

	return !bpf_map_lookup_elem(ix->ifaces_fd, &ifindex, &cfg);
}

void xtc_iface_idx_set(const struct xtc_iface_idx *ix, __u32 ifindex, __u32 flags)
{
	__u32 slot = ifindex & (XTC_IFACE_IDX_SLOTS - 1), holder;

	if (!ix->p)
		return;
	holder = (__u32)__atomic_load_n(&ix->p[slot], __ATOMIC_ACQUIRE);
	if (!holder || holder == ifindex || !recorded(ix, holder))
		store(ix, slot, XTC_IFACE_IDX(ifindex, flags));
}

void xtc_iface_idx_clear(const struct xtc_iface_idx *ix, __u32 ifindex)
{
	__u32 slot = ifindex & (XTC_IFACE_IDX_SLOTS - 1);

	if (ix->p && (__u32)__atomic_load_n(&ix->p[slot], __ATOMIC_ACQUIRE) == ifindex)
		store(ix, slot, 0);
}

size_t xtc_iface_idx_want(const __u32 *ifindex, const __u32 *flags, size_t n, const __u64 *cur,
			  __u64 *want)
{
	__u64 *w = want ? want : calloc(XTC_IFACE_IDX_SLOTS, sizeof(*w));
	size_t i, differ = 0;
	__u32 s;

	if (!w)
		return XTC_IFACE_IDX_SLOTS;	/* cannot tell: as if all differed */
	memset(w, 0, XTC_IFACE_IDX_SLOTS * sizeof(*w));
	/* The holder keeps its element... */
	for (i = 0; i < n; i++) {
		s = ifindex[i] & (XTC_IFACE_IDX_SLOTS - 1);
		if ((__u32)cur[s] == ifindex[i])
			w[s] = XTC_IFACE_IDX(ifindex[i], flags[i]);
	}
	/* ...and an element without a recorded holder goes to the lowest ifindex. */
	for (i = 0; i < n; i++) {
		bool held;

		s = ifindex[i] & (XTC_IFACE_IDX_SLOTS - 1);
		held = w[s] && (__u32)w[s] == (__u32)cur[s];
		if (!held && (!w[s] || ifindex[i] < (__u32)w[s]))
			w[s] = XTC_IFACE_IDX(ifindex[i], flags[i]);
	}
	for (s = 0; s < XTC_IFACE_IDX_SLOTS; s++)
		differ += w[s] != cur[s];
	if (!want)
		free(w);
	return differ;
}

int xtc_iface_idx_sync(const struct xtc_iface_idx *ix)
{
	__u64 *cur = malloc(IDX_BYTES), *want = malloc(IDX_BYTES);
	struct xtc_iface_recs r = {};
	int err, written = 0;
	__u32 s;

	err = !ix->p ? -EBADF : !cur || !want ? -ENOMEM : xtc_iface_recs_read(ix->ifaces_fd, &r);
	if (!err) {
		for (s = 0; s < XTC_IFACE_IDX_SLOTS; s++)
			cur[s] = __atomic_load_n(&ix->p[s], __ATOMIC_ACQUIRE);
		xtc_iface_idx_want(r.ifindex, r.flags, r.n, cur, want);
		for (s = 0; s < XTC_IFACE_IDX_SLOTS; s++)
			if (want[s] != cur[s]) {
				store(ix, s, want[s]);
				written++;
			}
	}
	xtc_iface_recs_free(&r);
	free(cur);
	free(want);
	return err ?: written;
}
