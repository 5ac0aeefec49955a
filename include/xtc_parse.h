/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Cursor-style header parsers shared by the XDP and TC programs.  Each one
 * bounds-checks its header against data_end before reading it, advances the
 * cursor and returns the next protocol (network byte order for EtherTypes),
 * or -1 when the packet is truncated or malformed.
 *
 * Only linux/ UAPI and bpf/ headers here: linux/icmp.h pulls linux/if.h and
 * with it glibc's sys/socket.h, which under -target bpf wants gnu/stubs-32.h
 * (libc6-dev-i386).  tests/unit/test_bpf_headers.py keeps it that way.
 */
#ifndef XTC_PARSE_H
#define XTC_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include "xtc_shared.h"

struct hdr_cursor {
	void *pos;
	/*
	 * Bytes of the frame beyond data_end.  TC sees only the linear part of
	 * a large skb; length fields are checked against the whole frame.
	 */
	__u32 beyond;
};

/* Bytes from the cursor to the end of the frame. */
static __always_inline long frame_left(const struct hdr_cursor *nh, void *data_end)
{
	long left = (long)data_end - (long)nh->pos;

	/* Keep the sum a scalar: the verifier forbids arithmetic on data_end. */
	asm volatile("" : "+r"(left));
	return left + nh->beyond;
}

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

/* IPv6 extension header common prefix (RFC 8200, section 4). */
struct ipv6_opt_hdr_xtc {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ipv6_frag_hdr_xtc {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;		/* offset << 3 | M flag */
	__be32 identification;
};

#define XTC_IP_MF 0x2000
#define XTC_IP_OFFSET 0x1fff

/*
 * Older verifiers (6.1) lose the bounds of a byte-swapped value, and then
 * refuse to add it to a packet pointer; the barrier keeps the mask in place.
 */
static __always_inline __u32 bounded16(__u32 v)
{
	asm volatile("" : "+r"(v));
	return v & 0xffff;
}

static __always_inline int proto_is_vlan(__u16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD);
}

/* Returns the EtherType after the Ethernet header and at most two VLAN tags. */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end,
					struct ethhdr **ethhdr)
{
	struct ethhdr *eth = nh->pos;
	struct vlan_hdr *vlh;
	__u16 h_proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return -1;
	nh->pos = eth + 1;
	*ethhdr = eth;
	h_proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < XTC_MAX_VLANS; i++) {
		if (!proto_is_vlan(h_proto))
			break;
		vlh = nh->pos;
		if ((void *)(vlh + 1) > data_end)
			return -1;
		h_proto = vlh->h_vlan_encapsulated_proto;
		nh->pos = vlh + 1;
	}
	/* A third tag is more than we parse: treat it as malformed. */
	if (proto_is_vlan(h_proto))
		return -1;
	return h_proto;
}

/*
 * Returns the IP protocol.  Rejects IHL < 5, options running past the frame,
 * and a tot_len that is shorter than the header or longer than the frame.
 */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end,
				       struct iphdr **iphdr)
{
	struct iphdr *iph = nh->pos;
	int hdrsize, tot_len;

	if ((void *)(iph + 1) > data_end)
		return -1;
	if (iph->version != 4)
		return -1;
	hdrsize = iph->ihl * 4;
	if (hdrsize < (int)sizeof(*iph))
		return -1;
	if (nh->pos + hdrsize > data_end)
		return -1;
	tot_len = bounded16(bpf_ntohs(iph->tot_len));
	if (tot_len < hdrsize || tot_len > frame_left(nh, data_end))
		return -1;
	nh->pos += hdrsize;
	*iphdr = iph;
	return iph->protocol;
}

/* Returns the Next Header of the fixed IPv6 header. */
static __always_inline int parse_ip6hdr(struct hdr_cursor *nh, void *data_end,
					struct ipv6hdr **ip6hdr)
{
	struct ipv6hdr *ip6h = nh->pos;

	if ((void *)(ip6h + 1) > data_end)
		return -1;
	if (ip6h->version != 6)
		return -1;
	if ((long)sizeof(*ip6h) + bounded16(bpf_ntohs(ip6h->payload_len)) >
	    frame_left(nh, data_end))
		return -1;
	nh->pos = ip6h + 1;
	*ip6hdr = ip6h;
	return ip6h->nexthdr;
}

/*
 * Walks hop-by-hop, routing, destination-options and fragment headers, at
 * most XTC_MAX_EXTHDRS of them.  Returns the upper-layer protocol; *nonfirst
 * is set for a fragment with a non-zero offset, which carries no L4 header.
 * A chain longer than the bound is reported as malformed.
 */
static __always_inline int parse_ip6_exthdrs(struct hdr_cursor *nh, void *data_end,
					     int nexthdr, int *nonfirst)
{
	struct ipv6_opt_hdr_xtc *opt;
	struct ipv6_frag_hdr_xtc *frag;
	int i;

	*nonfirst = 0;
#pragma unroll
	for (i = 0; i < XTC_MAX_EXTHDRS; i++) {
		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			opt = nh->pos;
			if ((void *)(opt + 1) > data_end)
				return -1;
			nexthdr = opt->nexthdr;
			nh->pos += (opt->hdrlen + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			frag = nh->pos;
			if ((void *)(frag + 1) > data_end)
				return -1;
			nexthdr = frag->nexthdr;
			nh->pos = frag + 1;
			if (frag->frag_off & bpf_htons(0xfff8)) {
				*nonfirst = 1;
				return nexthdr;
			}
			break;
		default:
			return nexthdr;
		}
	}
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
		return -1;
	}
	return nexthdr;
}

/* L4 parsers return the header length consumed, -1 when truncated. */
static __always_inline int parse_tcphdr(struct hdr_cursor *nh, void *data_end,
					struct tcphdr **tcphdr)
{
	struct tcphdr *h = nh->pos;
	int len;

	if ((void *)(h + 1) > data_end)
		return -1;
	len = h->doff * 4;
	if (len < (int)sizeof(*h) || nh->pos + len > data_end)
		return -1;
	nh->pos += len;
	*tcphdr = h;
	return len;
}

static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end,
					struct udphdr **udphdr)
{
	struct udphdr *h = nh->pos;

	if ((void *)(h + 1) > data_end)
		return -1;
	if (bpf_ntohs(h->len) < sizeof(*h))
		return -1;
	nh->pos = h + 1;
	*udphdr = h;
	return sizeof(*h);
}

/* ICMP and ICMPv6 share this type/code/checksum prefix (RFC 792, RFC 4443). */
struct icmphdr_common_xtc {
	__u8 type;
	__u8 code;
	__sum16 cksum;
};

static __always_inline int parse_icmphdr_common(struct hdr_cursor *nh, void *data_end,
						struct icmphdr_common_xtc **icmphdr)
{
	struct icmphdr_common_xtc *h = nh->pos;

	if ((void *)(h + 1) > data_end)
		return -1;
	nh->pos = h + 1;
	*icmphdr = h;
	return sizeof(*h);
}

#endif /* XTC_PARSE_H */
