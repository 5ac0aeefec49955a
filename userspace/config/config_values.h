/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Parsers for the values an xtc INI file holds, shared by the config reader
 * and any tool that takes the same notation.  Each returns 0, or -EINVAL with
 * err filled with what is accepted (no value quoted: the caller says which
 * key and value were wrong).
 */
#ifndef XTC_CONFIG_VALUES_H
#define XTC_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "model.h"

#define XTC_ERR_LEN 160			/* enough for every err message here */

/*
 * "a.b.c.d/len", "v6addr/len", or an address alone (a host prefix).  Host
 * bits beyond the prefix length are an error that names the network, as
 * ip route does: "host bits are set; did you mean 10.0.0.0/24?".
 */
int xtc_parse_cidr(const char *s, struct xtc_cidr *out, char *err, size_t errlen);

/* "addr/len" for c; 0 or a negative errno. */
int xtc_format_cidr(const struct xtc_cidr *c, char *buf, size_t len);

/* "N" or "N-M" with 0 <= N <= M <= 65535. */
int xtc_parse_port_range(const char *s, struct xtc_port_range *out, char *err, size_t errlen);

/* tcp | udp | icmp | icmpv6 | any (in any case) | 0-255; *any is set for "any". */
int xtc_parse_proto(const char *s, bool *any, __u8 *proto, char *err, size_t errlen);

/* One of names (NULL-terminated), in any case; *out is its index. */
int xtc_parse_enum(const char *s, const char *const *names, int *out, char *err, size_t errlen);

/* The one boolean vocabulary, in any case: yes/no, on/off, true/false, 1/0. */
#define XTC_BOOL_WORDS "use yes or no (or on/off, true/false, 1/0)"
int xtc_parse_bool(const char *s, bool *out, char *err, size_t errlen);

/* A decimal number in [min, max]. */
int xtc_parse_uint(const char *s, __u64 min, __u64 max, __u64 *out, char *err, size_t errlen);

/* The same, or in hex with 0x, as tc takes numbers (prio 0x7874). */
int xtc_parse_uint_hex(const char *s, __u64 min, __u64 max, __u64 *out, char *err,
		       size_t errlen);

/* A name the kernel would accept for a network interface; out has IF_NAMESIZE bytes. */
int xtc_parse_ifname(const char *s, char *out, char *err, size_t errlen);

#endif
