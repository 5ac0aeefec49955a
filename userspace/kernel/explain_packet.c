// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The PACKET of `xtc explain`: parser and frame builder; see explain_packet.h. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "explain_packet.h"
#include "xtc_shared.h"

struct proto_word {
	const char *word;
	__u8 proto;			/* for IPv4; ICMP becomes ICMPv6 for IPv6 */
	__u8 family;			/* XTC_FAMILY_ANY: the addresses decide */
};

static const struct proto_word protos[] = {
	{ "tcp", IPPROTO_TCP, XTC_FAMILY_ANY },
	{ "udp", IPPROTO_UDP, XTC_FAMILY_ANY },
	{ "icmp", IPPROTO_ICMP, XTC_FAMILY_ANY },
	{ "tcp4", IPPROTO_TCP, XTC_FAMILY_V4 },
	{ "udp4", IPPROTO_UDP, XTC_FAMILY_V4 },
	{ "icmp4", IPPROTO_ICMP, XTC_FAMILY_V4 },
	{ "tcp6", IPPROTO_TCP, XTC_FAMILY_V6 },
	{ "udp6", IPPROTO_UDP, XTC_FAMILY_V6 },
	{ "icmp6", IPPROTO_ICMP, XTC_FAMILY_V6 },
	{ "icmpv6", IPPROTO_ICMP, XTC_FAMILY_V6 },
};

struct endpoint {
	__u8 family;
	__u8 addr[16];
	int has_port;
	__u16 port;
};

static int fail(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_port(const char *s, const char *tok, __u16 *port, char *why, size_t len)
{
	unsigned long v = 0;
	const char *c;

	if (!*s)
		return fail(why, len, "missing port after ':' in '%s'", tok);
	for (c = s; *c; c++) {
		if (!isdigit((unsigned char)*c) || c - s >= 5)
			return fail(why, len, "bad port '%s' in '%s' (a number 0-65535)", s, tok);
		v = v * 10 + (*c - '0');
	}
	if (v > 65535)
		return fail(why, len, "bad port '%s' in '%s' (a number 0-65535)", s, tok);
	*port = v;
	return 0;
}

static int parse_endpoint(const char *tok, struct endpoint *e, char *why, size_t len)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *colon, *port = NULL;
	size_t alen;
	int colons = 0;

	memset(e, 0, sizeof(*e));
	for (colon = tok; *colon; colon++)
		colons += *colon == ':';

	if (tok[0] == '[') {
		const char *close = strchr(tok, ']');

		if (!close)
			return fail(why, len, "'%s' has '[' but no ']'", tok);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return fail(why, len, "unexpected '%s' after ']' in '%s'", close + 1, tok);
		alen = close - tok - 1;
		if (alen >= sizeof(addr))
			return fail(why, len, "'%s' is not an IPv6 address", tok);
		memcpy(addr, tok + 1, alen);
		addr[alen] = 0;
		if (inet_pton(AF_INET6, addr, e->addr) != 1) {
			if (inet_pton(AF_INET, addr, e->addr) == 1)
				return fail(why, len, "'%s': brackets are for IPv6 addresses (IPv4: "
					    "ADDR:PORT)", tok);
			return fail(why, len, "'%s' is not an IPv6 address", addr);
		}
		e->family = XTC_FAMILY_V6;
	} else if (colons >= 2) {
		if (strlen(tok) >= sizeof(addr) || inet_pton(AF_INET6, tok, e->addr) != 1)
			return fail(why, len, "'%s' is not an IPv6 address (with a port: "
				    "[ADDR]:PORT)", tok);
		e->family = XTC_FAMILY_V6;
	} else {
		colon = strchr(tok, ':');
		alen = colon ? (size_t)(colon - tok) : strlen(tok);
		if (colon)
			port = colon + 1;
		if (alen >= sizeof(addr))
			return fail(why, len, "'%s' is not an IPv4 or IPv6 address", tok);
		memcpy(addr, tok, alen);
		addr[alen] = 0;
		if (inet_pton(AF_INET, addr, e->addr) != 1)
			return fail(why, len, colon ? "'%s' is not an IPv4 address" :
				    "'%s' is not an IPv4 or IPv6 address", addr);
		e->family = XTC_FAMILY_V4;
	}
	if (port) {
		if (parse_port(port, tok, &e->port, why, len))
			return -EINVAL;
		e->has_port = 1;
	}
	return 0;
}

static const char *family_name(__u8 family)
{
	return family == XTC_FAMILY_V6 ? "IPv6" : "IPv4";
}

static void format_endpoint(const struct xtc_packet *p, const __u8 *addr, __u16 port, char *buf,
			    size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int v6 = p->family == XTC_FAMILY_V6;

	inet_ntop(v6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
		snprintf(buf, len, "%s", a);
	else if (v6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

/* Splits s at blanks into at most max tokens; returns how many there were. */
static int split(char *s, char **tok, int max)
{
	char *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(s, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n < max)
			tok[n] = t;
		n++;
	}
	return n;
}

int xtc_packet_parse(char *const *words, int n_words, struct xtc_packet *p, char *input,
		     size_t input_len, char *why, size_t why_len)
{
	char buf[512], *arrow, *left[3], *right[2], s[64], d[64];
	const struct proto_word *pw = NULL;
	struct endpoint src, dst;
	size_t n = 0, i;
	int nl, nr;

	memset(p, 0, sizeof(*p));
	input[0] = 0;
	for (i = 0; i < (size_t)n_words; i++) {
		int w = snprintf(input + n, input_len - n, "%s%s", i ? " " : "", words[i]);

		if (w < 0 || (size_t)w >= input_len - n)
			return fail(why, why_len, "too long");
		n += w;
	}
	if (n >= sizeof(buf))
		return fail(why, why_len, "too long");
	memcpy(buf, input, n + 1);

	arrow = strstr(buf, "->");
	if (!arrow && n && buf[n - 1] == '-' && (n == 1 || buf[n - 2] == ' '))
		return fail(why, why_len, "no '->' between source and destination (a shell took the "
			    "'>' of an unquoted -> as a redirection: quote it, '->', or the whole "
			    "packet)");
	if (!arrow)
		return fail(why, why_len, "no '->' between source and destination");
	if (strstr(arrow + 2, "->"))
		return fail(why, why_len, "a second '->'");
	*arrow = 0;
	nl = split(buf, left, 3);
	nr = split(arrow + 2, right, 2);

	if (nl == 0)
		return fail(why, why_len, "missing protocol and source before '->'");
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcasecmp(left[0], protos[i].word))
			pw = &protos[i];
	if (!pw)
		return fail(why, why_len, "unknown protocol '%s' (tcp, udp, icmp, tcp6, udp6, "
			    "icmp6; tcp4, udp4, icmp4)", left[0]);
	if (nl == 1)
		return fail(why, why_len, "missing source between '%s' and '->'", left[0]);
	if (nl > 2)
		return fail(why, why_len, "unexpected '%s' between the source and '->'", left[2]);
	if (nr == 0)
		return fail(why, why_len, "missing destination after '->'");
	if (nr > 1)
		return fail(why, why_len, "unexpected '%s' after the destination", right[1]);
	if (parse_endpoint(left[1], &src, why, why_len) ||
	    parse_endpoint(right[0], &dst, why, why_len))
		return -EINVAL;

	if (src.family != dst.family)
		return fail(why, why_len, "source '%s' is %s but destination '%s' is %s", left[1],
			    family_name(src.family), right[0], family_name(dst.family));
	if (pw->family != XTC_FAMILY_ANY && pw->family != src.family)
		return fail(why, why_len, "'%s' is %s, but '%s' is an %s address", left[0],
			    family_name(pw->family), left[1], family_name(src.family));
	p->family = src.family;
	p->proto = pw->proto;
	if (p->proto == IPPROTO_ICMP && p->family == XTC_FAMILY_V6)
		p->proto = IPPROTO_ICMPV6;
	if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP && (src.has_port || dst.has_port))
		return fail(why, why_len, "%s has no ports: '%s'", left[0],
			    src.has_port ? left[1] : right[0]);
	memcpy(p->src, src.addr, sizeof(p->src));
	memcpy(p->dst, dst.addr, sizeof(p->dst));
	p->sport = src.port;
	p->dport = dst.port;

	format_endpoint(p, p->src, p->sport, s, sizeof(s));
	format_endpoint(p, p->dst, p->dport, d, sizeof(d));
	snprintf(p->text, sizeof(p->text), "%s%s %s -> %s",
		 p->proto == IPPROTO_TCP ? "tcp" : p->proto == IPPROTO_UDP ? "udp" : "icmp",
		 p->family == XTC_FAMILY_V6 ? "6" : "", s, d);
	return 0;
}

/* ---- building ---- */

static void put16(__u8 *b, __u16 v)
{
	b[0] = v >> 8;
	b[1] = v;
}

static void put32(__u8 *b, __u32 v)
{
	put16(b, v >> 16);
	put16(b + 2, v);
}

static __u32 sum16(const __u8 *b, size_t len, __u32 sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	return sum;
}

static __u16 fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* The pseudo-header sum of RFC 793 / RFC 8200 section 8.1. */
static __u32 pseudo_sum(const struct xtc_packet *p, __u32 l4_len)
{
	int alen = p->family == XTC_FAMILY_V6 ? 16 : 4;
	__u32 sum = sum16(p->src, alen, 0);

	sum = sum16(p->dst, alen, sum);
	return sum + p->proto + (l4_len >> 16) + (l4_len & 0xffff);
}

int xtc_packet_build(const struct xtc_packet *p, const __u8 mac[6], __u8 *buf, size_t cap)
{
	int v6 = p->family == XTC_FAMILY_V6;
	size_t l3 = 14, l3_len = v6 ? 40 : 20, l4 = l3 + l3_len, l4_len, total;
	__u8 *h, *t;
	__u16 sum;

	l4_len = p->proto == IPPROTO_TCP ? 20 : 8;	/* UDP header, ICMP echo header */
	total = l4 + l4_len;
	if (total > cap)
		return -ENOSPC;
	memset(buf, 0, total);

	memcpy(buf, mac, 6);
	memcpy(buf + 6, mac, 6);
	put16(buf + 12, v6 ? 0x86dd : 0x0800);

	h = buf + l3;
	if (v6) {
		put32(h, 0x60000000);
		put16(h + 4, l4_len);
		h[6] = p->proto;
		h[7] = 64;
		memcpy(h + 8, p->src, 16);
		memcpy(h + 24, p->dst, 16);
	} else {
		h[0] = 0x45;
		put16(h + 2, l3_len + l4_len);
		put16(h + 6, 0x4000);		/* DF */
		h[8] = 64;
		h[9] = p->proto;
		memcpy(h + 12, p->src, 4);
		memcpy(h + 16, p->dst, 4);
		put16(h + 10, fold(sum16(h, l3_len, 0)));
	}

	t = buf + l4;
	switch (p->proto) {
	case IPPROTO_TCP:
		put16(t, p->sport);
		put16(t + 2, p->dport);
		put32(t + 4, 1);		/* sequence number */
		t[12] = 5 << 4;			/* data offset: 20 bytes */
		t[13] = 0x02;			/* SYN */
		put16(t + 14, 64240);		/* window */
		break;
	case IPPROTO_UDP:
		put16(t, p->sport);
		put16(t + 2, p->dport);
		put16(t + 4, l4_len);
		break;
	default:				/* echo request, id 1, sequence 1 */
		t[0] = p->proto == IPPROTO_ICMPV6 ? 128 : 8;
		put16(t + 4, 1);
		put16(t + 6, 1);
		break;
	}
	if (p->proto == IPPROTO_ICMP) {
		sum = fold(sum16(t, l4_len, 0));
	} else {
		sum = fold(sum16(t, l4_len, pseudo_sum(p, l4_len)));
		if (p->proto == IPPROTO_UDP && !sum)
			sum = 0xffff;		/* 0 means "no checksum" in UDP */
	}
	put16(t + (p->proto == IPPROTO_TCP ? 16 : p->proto == IPPROTO_UDP ? 6 : 2), sum);
	return total;
}
