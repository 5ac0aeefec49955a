// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Value parsers for the INI notation; see config_values.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "config_values.h"
#include "xtc_shared.h"

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

/*
 * Digits of base (10 or 16) only: strtoul would take signs, spaces and,
 * in base 0, octal, which read as typos here.
 */
static int parse_num(const char *s, size_t len, unsigned int base, __u64 max, __u64 *out)
{
	__u64 v = 0;
	size_t i;
	int c;

	if (!len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (!(base == 16 ? isxdigit(c) : isdigit(c)))
			return -EINVAL;
		v = v * base + (__u64)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
		if (v > max)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

static int parse_dec(const char *s, size_t len, __u64 max, __u64 *out)
{
	return parse_num(s, len, 10, max, out);
}

/* Whether any bit beyond the prefix length is set. */
static bool host_bits_set(const struct xtc_cidr *c)
{
	int bytes = c->family == XTC_FAMILY_V4 ? 4 : 16;
	int i;

	for (i = 0; i < bytes; i++) {
		int keep = (int)c->plen - i * 8;
		__u8 host = keep <= 0 ? 0xff : keep < 8 ? (__u8)(0xff >> keep) : 0;

		if (c->addr[i] & host)
			return true;
	}
	return false;
}

static void clear_host_bits(struct xtc_cidr *c)
{
	int bytes = c->family == XTC_FAMILY_V4 ? 4 : 16;
	int i;

	for (i = 0; i < bytes; i++) {
		int keep = (int)c->plen - i * 8;

		if (keep <= 0)
			c->addr[i] = 0;
		else if (keep < 8)
			c->addr[i] &= (__u8)(0xff << (8 - keep));
	}
}

int xtc_format_cidr(const struct xtc_cidr *c, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family == XTC_FAMILY_V4 ? AF_INET : AF_INET6, c->addr, addr,
		       sizeof(addr)))
		return -errno;
	snprintf(buf, len, "%s/%u", addr, c->plen);
	return 0;
}

int xtc_parse_cidr(const char *s, struct xtc_cidr *out, char *err, size_t errlen)
{
	static const char usage[] = "use an IPv4 or IPv6 address with an optional /prefix length, "
				    "e.g. 10.0.0.0/8 or fd00::/64";
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct xtc_cidr c = {};
	char addr[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN + 8];
	int max, af;
	__u64 plen;

	if (!alen || alen >= sizeof(addr))
		return fail(err, errlen, usage);
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, addr, c.addr) != 1)
		return fail(err, errlen, usage);
	c.family = af == AF_INET ? XTC_FAMILY_V4 : XTC_FAMILY_V6;
	max = af == AF_INET ? 32 : 128;
	plen = (__u64)max;
	if (slash && parse_dec(slash + 1, strlen(slash + 1), 1000, &plen))
		return fail(err, errlen, af == AF_INET ?
			    "the prefix length must be a number 0-32 for IPv4" :
			    "the prefix length must be a number 0-128 for IPv6");
	if (plen > (__u64)max)
		return fail(err, errlen, af == AF_INET ? "the prefix length must be 0-32 for IPv4" :
			    "the prefix length must be 0-128 for IPv6");
	c.plen = (__u8)plen;
	/* Like ip route: 10.0.0.1/24 is more likely a typo than a way to say 10.0.0.0/24. */
	if (host_bits_set(&c)) {
		clear_host_bits(&c);
		if (xtc_format_cidr(&c, net, sizeof(net)))
			return fail(err, errlen, "host bits are set");
		snprintf(err, errlen, "host bits are set; did you mean %s?", net);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

int xtc_parse_port_range(const char *s, struct xtc_port_range *out, char *err, size_t errlen)
{
	static const char usage[] = "use a port 0-65535 or a range LOW-HIGH such as 1024-65535";
	const char *dash = strchr(s, '-');
	__u64 lo, hi;

	if (dash) {
		if (parse_dec(s, (size_t)(dash - s), 65535, &lo) ||
		    parse_dec(dash + 1, strlen(dash + 1), 65535, &hi))
			return fail(err, errlen, usage);
	} else {
		if (parse_dec(s, strlen(s), 65535, &lo))
			return fail(err, errlen, usage);
		hi = lo;
	}
	if (lo > hi)
		return fail(err, errlen, "the range is backwards: use LOW-HIGH with LOW <= HIGH");
	out->lo = (__u16)lo;
	out->hi = (__u16)hi;
	return 0;
}

int xtc_parse_proto(const char *s, bool *any, __u8 *proto, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		__u8 num;
	} names[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
		{ "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
	};
	size_t i;
	__u64 v;

	*any = false;
	if (!strcasecmp(s, "any")) {
		*any = true;
		*proto = 0;
		return 0;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(s, names[i].name)) {
			*proto = names[i].num;
			return 0;
		}
	}
	if (parse_dec(s, strlen(s), 255, &v))
		return fail(err, errlen,
			    "use tcp, udp, icmp, icmpv6, any or a protocol number 0-255");
	*proto = (__u8)v;
	return 0;
}

int xtc_parse_enum(const char *s, const char *const *names, int *out, char *err, size_t errlen)
{
	size_t used;
	int i, n;

	for (n = 0; names[n]; n++) {
		if (!strcasecmp(s, names[n])) {
			*out = n;
			return 0;
		}
	}
	used = (size_t)snprintf(err, errlen, "use");
	for (i = 0; i < n && used < errlen; i++)
		used += (size_t)snprintf(err + used, errlen - used, "%s%s",
					 i == 0 ? " " : i == n - 1 ? " or " : ", ", names[i]);
	return -EINVAL;
}

int xtc_parse_bool(const char *s, bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*out = !strcasecmp(s, yes[i]);
			return 0;
		}
	}
	return fail(err, errlen, XTC_BOOL_WORDS);
}

int xtc_parse_uint(const char *s, __u64 min, __u64 max, __u64 *out, char *err, size_t errlen)
{
	__u64 v;

	if (parse_dec(s, strlen(s), max, &v) || v < min) {
		snprintf(err, errlen, "use a whole number from %llu to %llu",
			 (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int xtc_parse_uint_hex(const char *s, __u64 min, __u64 max, __u64 *out, char *err,
		       size_t errlen)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s;
	__u64 v;

	if (parse_num(digits, strlen(digits), hex ? 16 : 10, max, &v) || v < min) {
		snprintf(err, errlen, "use a whole number from %llu to %llu (0x%llx to 0x%llx)",
			 (unsigned long long)min, (unsigned long long)max, (unsigned long long)min,
			 (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* The kernel's dev_valid_name(), so that check agrees with `ip link`. */
int xtc_parse_ifname(const char *s, char *out, char *err, size_t errlen)
{
	size_t len = strlen(s), i;

	if (!len || len >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		goto bad;
	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]))
			goto bad;
	memcpy(out, s, len + 1);
	return 0;
bad:
	return fail(err, errlen,
		    "use an interface name of 1-15 characters without '/', ':' or spaces");
}
