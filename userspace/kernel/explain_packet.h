/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The PACKET of `xtc explain`: parsed from the command line and built into
 * a minimal valid Ethernet frame.
 *
 *   PROTO SRC[:PORT] -> DST[:PORT]
 *   PROTO: tcp udp icmp (the family follows the addresses), tcp4 udp4 icmp4,
 *          tcp6 udp6 icmp6 (icmpv6 too)
 *   IPv6 with a port: [ADDR]:PORT; without one, ADDR or [ADDR]
 *   A port left out is 0; icmp takes none.
 */
#ifndef XTC_EXPLAIN_PACKET_H
#define XTC_EXPLAIN_PACKET_H

#include <stddef.h>
#include <linux/types.h>

#define XTC_PACKET_TEXT 192

struct xtc_packet {
	__u8 family;			/* XTC_FAMILY_V4 or XTC_FAMILY_V6 */
	__u8 proto;			/* IPPROTO_TCP, _UDP, _ICMP or _ICMPV6 */
	__u8 src[16], dst[16];		/* network byte order; IPv4 in the first 4 */
	__u16 sport, dport;		/* host byte order */
	char text[XTC_PACKET_TEXT];	/* normalized: "tcp 10.0.0.1:4000 -> 10.0.0.2:80" */
};

/*
 * Parses the words of PACKET (one or several arguments; they are joined with
 * spaces).  On failure returns -EINVAL, with the joined input in input and
 * the reason, naming the bad token, in why.
 */
int xtc_packet_parse(char *const *words, int n_words, struct xtc_packet *p, char *input,
		     size_t input_len, char *why, size_t why_len);

/*
 * Builds the frame: Ethernet (both MACs mac), IPv4 or IPv6 (TTL 64), and a
 * TCP SYN, a UDP header or an ICMP echo request, lengths and checksums
 * right.  Returns its length, or -ENOSPC.
 */
int xtc_packet_build(const struct xtc_packet *p, const __u8 mac[6], __u8 *buf, size_t cap);

#endif
