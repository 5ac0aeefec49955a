/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The host's view of where addresses live, for target = auto. */
#ifndef XTC_HOSTROUTES_H
#define XTC_HOSTROUTES_H

#include <stddef.h>
#include "ipmap.h"

/*
 * Reads, through libnl-route-3 caches, every interface address (as a host
 * prefix, /32 or /128) and every directly connected route (main table, scope
 * link, one output device), IPv4 and IPv6, in this network namespace.
 * Skips loopback, link-local, multicast and routes without a device.
 * *out is malloc'ed; the caller frees it.
 */
int xtc_host_routes(struct xtc_ipmap_entry **out, size_t *n);

#endif
