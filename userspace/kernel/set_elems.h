/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The elements of the [set]s that rules use, kept in the kernel
 * (xtc_set_elems) so that `xtc rules` lists what is enforced without the
 * file.  Content-addressed by digest and size: a set is written once, never
 * changed in place, and dropped when no rule uses it any more.
 */
#ifndef XTC_SET_ELEMS_H
#define XTC_SET_ELEMS_H

#include "maps.h"
#include "model.h"
#include "xtc_shared.h"

/* Writes the sets the model's rules use that the kernel lacks, then drops the others. */
int xtc_set_elems_sync(const struct xtc_maps *m, const struct xtc_model *model);

/* Element index of the set with this digest and size; -ENOENT when it is not there. */
int xtc_set_elem_get(const struct xtc_maps *m, __u64 digest, __u32 size, __u32 index,
		     struct xtc_set_elem *out);

/* "10.0.0.0/8", "fd00::/64", "80" or "1024-65535". */
void xtc_set_elem_str(const struct xtc_set_elem *e, char *buf, size_t len);

#endif
