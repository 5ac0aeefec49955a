/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The IP-to-ifindex map behind target = auto. */
#ifndef XTC_IPMAP_H
#define XTC_IPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include "maps.h"
#include "model.h"
#include "xtc_shared.h"

struct xtc_ipmap_entry {
	struct xtc_cidr prefix;
	__u32 ifindex;
	__u32 origin;			/* enum xtc_ipmap_origin */
};

/* "address", "route", "static": the origin as `xtc ipmap` shows it. */
const char *xtc_ipmap_origin_name(__u32 origin);

/* IPv4 becomes ::ffff:a.b.c.d with 96 added to the prefix length. */
void xtc_ipmap_key(const struct xtc_cidr *c, struct xtc_ipmap_key *k);

/* Makes the map hold exactly these entries; *changes counts the writes. */
int xtc_ipmap_sync(const struct xtc_maps *m, const struct xtc_ipmap_entry *e, size_t n,
		   bool dry_run, size_t *changes);

#endif
