/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the kernel half and the loader share: map keys and values, action and
 * mode codes, counter layouts and the XDP->TC metadata contract.  Everything
 * here is fixed-size and naturally aligned so the same bytes mean the same
 * thing on both sides.
 */
#ifndef XTC_SHARED_H
#define XTC_SHARED_H

#include <linux/types.h>

/* Map sizes; the loader may resize with bpf_map__set_max_entries(). */
#ifndef XTC_MAX_MASKS
#define XTC_MAX_MASKS 64		/* distinct mask shapes (tuple spaces) */
#endif
#ifndef XTC_MAX_RULES
#define XTC_MAX_RULES 65536		/* rule ids: per-rule counter slots */
#endif
#ifndef XTC_MAX_ENTRIES
#define XTC_MAX_ENTRIES 262144		/* hash entries after range expansion */
#endif
#ifndef XTC_MAX_IPMAP
#define XTC_MAX_IPMAP 16384		/* IP-to-ifindex prefixes */
#endif
#ifndef XTC_MAX_IFACES
#define XTC_MAX_IFACES 1024		/* per-interface config and counters */
#endif
#define XTC_MAX_VLANS 2			/* 802.1ad + 802.1Q */
#define XTC_MAX_EXTHDRS 6		/* IPv6 extension headers walked */

enum xtc_action {
	XTC_ACT_PASS = 0,
	XTC_ACT_DROP = 1,
	XTC_ACT_REDIRECT = 2,
};

enum xtc_redirect_mode {
	XTC_MODE_PLAIN = 0,		/* bpf_redirect(ifindex, 0) */
	XTC_MODE_NEIGH = 1,		/* bpf_redirect_neigh() */
	XTC_MODE_PEER = 2,		/* bpf_redirect_peer(), TC ingress only */
};

enum xtc_dir {
	XTC_DIR_INGRESS = 0,
	XTC_DIR_EGRESS = 1,
};

enum xtc_hook {
	XTC_HOOK_XDP = 0,
	XTC_HOOK_TC_INGRESS = 1,
	XTC_HOOK_TC_EGRESS = 2,
	XTC_HOOK_MAX,
};

/* target_ifindex value that means: look the destination up in ipmap. */
#define XTC_TARGET_AUTO 0

/* xtc_flow_key.flags */
#define XTC_KF_L4 0x01			/* ports were read from an L4 header */

/* xtc_flow_key.family */
#define XTC_FAMILY_ANY 0
#define XTC_FAMILY_V4 4
#define XTC_FAMILY_V6 6

/*
 * One key for every tuple space.  A packet's fields are ANDed with a mask of
 * this same layout, mask_id is set to the mask's id and the result is looked
 * up in the single rules hash.  Addresses are in network byte order (IPv4 in
 * src[0]/dst[0]); ports are in host byte order so that the loader can split
 * port ranges into prefix masks.
 */
struct xtc_flow_key {
	__u16 mask_id;
	__u8 dir;			/* enum xtc_dir */
	__u8 family;			/* XTC_FAMILY_* */
	__u8 proto;			/* IP protocol / IPv6 upper-layer header */
	__u8 flags;			/* XTC_KF_* */
	__u16 pad;
	__u32 ifindex;			/* interface the hook runs on */
	__u16 sport;
	__u16 dport;
	__u32 src[4];
	__u32 dst[4];
};

/* What a matching entry says; prio decides between tuple spaces. */
struct xtc_rule_val {
	__u32 prio;			/* lower wins: the rule's position in the file */
	__u32 rule_id;			/* slot in rule_stats */
	__u32 target_ifindex;		/* XTC_TARGET_AUTO or a fixed ifindex */
	__u8 action;			/* enum xtc_action */
	__u8 mode;			/* enum xtc_redirect_mode */
	__u16 pad;
};

/*
 * Which packets a tuple space can hold at all: bits for the families and
 * protocol classes of its entries.  A packet outside both sets skips the
 * hash probe.
 */
#define XTC_FB_V4 0x01
#define XTC_FB_V6 0x02
#define XTC_PB_TCP 0x01
#define XTC_PB_UDP 0x02
#define XTC_PB_ICMP 0x04		/* ICMP and ICMPv6 */
#define XTC_PB_OTHER 0x08
#define XTC_PB_ALL 0x0f

static inline __u8 xtc_proto_bit(__u8 proto)
{
	switch (proto) {
	case 6:
		return XTC_PB_TCP;
	case 17:
		return XTC_PB_UDP;
	case 1:
	case 58:
		return XTC_PB_ICMP;
	}
	return XTC_PB_OTHER;
}

/*
 * A packet's class for the search: its family and protocol class.  Each
 * class has its own order of the tuple spaces that can hold its packets, so
 * the search never steps over one that cannot (a step costs a call).
 */
#define XTC_SEARCH_CLASSES 8
static inline __u32 xtc_search_class(__u8 fam_bit, __u8 proto_bit)
{
	return (fam_bit == XTC_FB_V6 ? 4 : 0) |
	       (proto_bit == XTC_PB_TCP ? 0 : proto_bit == XTC_PB_UDP ? 1 :
		proto_bit == XTC_PB_ICMP ? 2 : 3);
}

/*
 * A port range that a tuple space holds whole instead of as prefix blocks:
 * the space's mask leaves the port out and a packet is probed only when its
 * port is within [lo, hi].  A range of many blocks is then one entry per
 * rule, not one per block.  {0, 0} (a range of one block is never held
 * whole) means none: every port.
 */
struct xtc_port_span {
	__u16 lo, hi;
};

/* One tuple space: its mask (mask.mask_id is its id), port spans and best priority. */
struct xtc_mask_ent {
	struct xtc_flow_key mask;
	__u32 min_prio;
	__u8 families;			/* XTC_FB_* */
	__u8 protos;			/* XTC_PB_* */
	__u16 pad;
	struct xtc_port_span sport, dport;
};

/* Whether a port passes a space's span (none: every port). */
static inline int xtc_port_in_span(__u16 port, const struct xtc_port_span *sp)
{
	return !sp->hi || (port >= sp->lo && port <= sp->hi);
}

/*
 * The live list of tuple spaces, sorted by min_prio so that the search stops
 * as soon as no remaining space can beat the best match found.  The loader
 * writes the inactive one of two copies and flips xtc_config.active.
 *
 * gen names the classifier's contents: the loader makes a list with a
 * higher gen live after every apply that changed entries, once the stale
 * ones are gone, so a verdict remembered under an older gen is never used
 * again (the verdict cache, include/xtc_vcache.bpf.h).  States made before
 * it existed hold 0 here (it was padding).
 *
 * order[c] lists, in the same order, the spaces whose families and protocols
 * take packets of class c (xtc_search_class()); n_order[c] says how many.
 */
struct xtc_mask_list {
	__u32 count;
	__u32 gen;
	struct xtc_mask_ent ent[XTC_MAX_MASKS];
	__u8 n_order[XTC_SEARCH_CLASSES];
	__u8 order[XTC_SEARCH_CLASSES][XTC_MAX_MASKS];
};

/*
 * One slot of the per-CPU verdict cache: a packet's whole flow key and what
 * the tuple-space search gave for it under generation gen.
 */
#ifndef XTC_VCACHE_SLOTS
#define XTC_VCACHE_SLOTS 1024		/* per CPU, shared by every program: 72 KiB */
#endif
#define XTC_VC_MISS 1			/* xtc_vcache_ent.state: no rule matched */
#define XTC_VC_HIT 2			/* val holds the matching rule */
struct xtc_vcache_ent {
	struct xtc_flow_key key;	/* mask_id 0: the packet's own key */
	struct xtc_rule_val val;
	__u32 gen;
	__u16 state;			/* 0: empty, XTC_VC_MISS or XTC_VC_HIT */
	__u16 misses;			/* by other flows: every 16th replaces this one */
};

/* Runtime settings (array map "xtc_config", one element). */
#define XTC_OWNER_MAGIC 0x78746331	/* "xtc1" */
#define XTC_STATE_SCHEMA 6		/* bumped whenever a pinned map's layout changes */
struct xtc_config {
	__u32 active;			/* which xtc_mask_list copy is live: 0 or 1 */
	__u32 redirect_fallback;	/* XTC_ACT_PASS or XTC_ACT_DROP */
	__u64 applied_at;		/* loader only: wall-clock seconds of the last apply */
	/*
	 * Loader only: whose maps these are.  xtc recognises its programs in the
	 * kernel, pins or not, by their name and by this mark in the xtc_config
	 * map they use (see userspace/kernel/owner.c).
	 */
	__u32 magic;			/* XTC_OWNER_MAGIC */
	__u32 schema;			/* XTC_STATE_SCHEMA of the xtc that made them */
	__u64 state_id;			/* hash of the state directory's path */
	__u64 build_id;			/* the BPF code the pinned programs run */
};

/*
 * Per-interface state (hash map "xtc_ifaces", keyed by ifindex).  The
 * datapath reads flags only; the rest is what the loader attached, so that
 * status, re-apply and unload work from the pins alone.
 */
#define XTC_IF_XDP 0x01			/* our XDP classifier runs on this interface */
#define XTC_IF_TC_INGRESS 0x02		/* our TC ingress program is attached */
#define XTC_IF_TC_EGRESS 0x04		/* our TC egress program is attached */
#define XTC_IF_XDP_SINGLE 0x08		/* libxdp had no dispatcher: a single program */
#define XTC_IF_QDISC_OURS 0x10		/* we created the clsact qdisc */
/*
 * With XTC_IF_XDP: XDP may pass a redirect verdict without the metadata
 * handoff (its no-handoff build), so TC ingress classifies what arrives
 * without metadata and acts on redirect verdicts only: XDP counted the rest.
 */
#define XTC_IF_XDP_NO_HANDOFF 0x20
/* Loader only: xdp = auto made the XDP choice (status tells why from the device). */
#define XTC_IF_XDP_AUTO 0x40
/*
 * The upper 16 bits: the interface's counter slot, 1..XTC_MAX_IFACES, which
 * the loader assigns and keeps while the interface is recorded.  TC reads it
 * here; XDP, loaded per interface, has it as a load-time constant.  Slot 0
 * counts packets on interfaces without a record (never reported).
 */
#define XTC_IF_SLOT_SHIFT 16
#define XTC_IF_SLOT(flags) ((flags) >> XTC_IF_SLOT_SHIFT)
struct xtc_iface_cfg {
	__u32 flags;
	__u32 xdp_prog_id;
	__u32 xdp_prio;
	__u8 xdp_mode;			/* 0 native, 1 skb */
	__u8 tc_kind;			/* 1 TCX, 2 cls_bpf */
	__u16 tc_prio;			/* cls_bpf: our filter's prio; 0 (older states) is 0x7874 */
	char name[16];
};

/*
 * The records' flags again, for TC, in an array by ifindex % XTC_IFACE_IDX_SLOTS
 * ("xtc_iface_idx"): an array lookup costs a fraction of the hash lookup.
 * An element is (flags << 32 | ifindex), or 0; the loader writes each with
 * one 8-byte store through a mapping, so TC never reads half of one.  An
 * interface whose element holds another ifindex (two interfaces, one
 * element) is looked up in xtc_ifaces.
 */
#define XTC_IFACE_IDX_SLOTS 4096
#define XTC_IFACE_IDX(ifindex, flags) ((__u64)(flags) << 32 | (__u32)(ifindex))

/*
 * Rule id -> what the file said, so that rules, stats, status and the plan
 * can describe the loaded rules without the file (array "xtc_rule_info",
 * loader only; the datapath never reads it).
 */
#define XTC_RI_USED 0x01
#define XTC_RI_GENERATED 0x02		/* a reverse = yes mirror */

/* xtc_rule_match.fields: which matches the rule has; a [set] one is marked too. */
#define XTC_RM_SRC 0x01
#define XTC_RM_DST 0x02
#define XTC_RM_PROTO 0x04
#define XTC_RM_SPORT 0x08
#define XTC_RM_DPORT 0x10
#define XTC_RM_SET_SHIFT 8		/* (XTC_RM_x << XTC_RM_SET_SHIFT): from @SET */

struct xtc_rule_match {
	__u8 src[16];			/* network order; IPv4 in the first 4 bytes */
	__u8 dst[16];
	__u8 src_plen;
	__u8 dst_plen;
	__u8 proto;
	__u8 family;			/* XTC_FAMILY_* */
	__u16 sport_lo, sport_hi;
	__u16 dport_lo, dport_hi;
	__u32 fields;			/* XTC_RM_* */
};

struct xtc_rule_info {
	char name[64];
	__u32 prio;
	__u32 ifindex;
	__u32 target_ifindex;
	__u8 flags;
	__u8 action;
	__u8 mode;
	__u8 dir;
	struct xtc_rule_match match;
};

/*
 * The [set]s a rule matches on (hash "xtc_rule_sets", keyed by rule id, only
 * for rules that use sets; loader only): names, sizes and a digest of the
 * elements, so that the plan sees an edited set.
 */
enum xtc_rm_set {			/* index of a set-valued match */
	XTC_RM_SET_SRC,
	XTC_RM_SET_DST,
	XTC_RM_SET_SPORT,
	XTC_RM_SET_DPORT,
	XTC_RM_SET_N,
};

#define XTC_RI_SET_NAME 64		/* as rule names: XTC_NAME_MAX */
struct xtc_rule_sets {
	char name[XTC_RM_SET_N][XTC_RI_SET_NAME];
	__u32 size[XTC_RM_SET_N];
	__u32 pad;
	__u64 digest[XTC_RM_SET_N];	/* of the elements, whatever their order */
};

/*
 * What the rules hash holds, rule by rule (array "xtc_rule_digest", loader
 * only), so that a re-apply finds the rules that changed without reading
 * the hash.  Key 0 is a header; key id + 1 describes rule id: a digest of
 * the entries that rule expands to (keys with mask ids, and its value)
 * before equal keys merge, and how many there are.  An unused slot is all
 * zero and a used one never is (a rule with no entries has hash 1), so that
 * under a clean header the last nonzero slot bounds the rule records an
 * observe must read.  The loader marks the header dirty before it changes
 * anything and clean when the digests match the hash again: a dirty or
 * unknown header makes the next apply compare the whole hash once.
 */
#define XTC_DIGEST_MAGIC 0x7874634400000002ULL	/* "xtcD", format 2 */
#define XTC_DIGEST_DIRTY 0x01			/* header flags */
struct xtc_rule_digest {
	__u64 hash;			/* header: XTC_DIGEST_MAGIC */
	__u32 n;			/* header: entries in the rules hash */
	__u32 flags;			/* header: XTC_DIGEST_* */
};

/*
 * The elements of every [set] in use (hash "xtc_set_elems", loader only), so
 * that `xtc rules` can list them: keyed by the set's digest and size, so that
 * one set is stored once however many rules use it, and an element once
 * written never changes.
 */
struct xtc_set_elem_key {
	__u64 digest;
	__u32 size;
	__u32 index;			/* 0 .. size - 1 */
};

struct xtc_set_elem {
	__u8 ports;			/* 1: a port range; 0: a prefix */
	__u8 family;			/* XTC_FAMILY_V4 or XTC_FAMILY_V6 */
	__u8 plen;
	__u8 pad;
	__u16 lo, hi;			/* the port range */
	__u8 addr[16];			/* the prefix, network order */
};

/* IP-to-ifindex LPM trie; IPv4 is stored as ::ffff:a.b.c.d, prefixlen + 96. */
struct xtc_ipmap_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* xtc_ipmap_val.flags: where the entry came from (loader only). */
enum xtc_ipmap_origin {
	XTC_IPMAP_ADDRESS = 1,		/* an address of the interface */
	XTC_IPMAP_ROUTE = 2,		/* a directly connected route */
	XTC_IPMAP_STATIC = 3,		/* [static] in the file */
};

struct xtc_ipmap_val {
	__u32 ifindex;
	__u32 flags;			/* enum xtc_ipmap_origin */
};

/* Per-CPU counters, one slot per rule id. */
struct xtc_rule_stats {
	__u64 packets;
	__u64 bytes;
#ifdef XTC_TEST_LAYOUT
	__u64 test_spare;		/* test aid: a map layout change (tests/host) */
#endif
};

/*
 * Per-CPU counters per (interface slot, hook): an array, because an array
 * lookup with a known key costs a fraction of a hash lookup on every packet.
 */
#define XTC_IFACE_STATS_KEY(slot, hook) ((slot) * XTC_HOOK_MAX + (hook))
#define XTC_IFACE_STATS_ENTRIES ((XTC_MAX_IFACES + 1) * XTC_HOOK_MAX)
_Static_assert(XTC_MAX_IFACES < 0x10000, "a counter slot fits the upper half of the flags");

struct xtc_iface_stats {
	__u64 seen;
	__u64 parse_errors;
	__u64 no_match;
	__u64 handoffs_sent;		/* XDP wrote metadata for TC */
	__u64 handoffs_received;	/* TC found valid metadata */
	__u64 redirects_ok;
	__u64 redirects_failed;		/* target gone or helper refused */
	__u64 dropped;
#ifdef XTC_TEST_LAYOUT
	__u64 test_spare;		/* test aid: a map layout change (tests/host) */
#endif
};

/*
 * The XDP->TC handoff, written in front of the packet with
 * bpf_xdp_adjust_meta() for redirect verdicts only.  TC trusts it only when
 * magic, version and origin_ifindex all check out, and wipes the magic once
 * used so that a redirected skb never carries a stale order further.
 */
#define XTC_META_MAGIC 0x7874634dU	/* "xtcM" */
#define XTC_META_VERSION 1
struct xtc_meta {
	__u32 magic;
	__u8 version;
	__u8 action;			/* always XTC_ACT_REDIRECT in version 1 */
	__u8 mode;			/* enum xtc_redirect_mode */
	__u8 flags;
	__u32 rule_id;
	__u32 target_ifindex;		/* resolved: never XTC_TARGET_AUTO */
	__u32 origin_ifindex;		/* the interface XDP ran on */
};

/*
 * xtc explain: one packet through a live program with BPF_PROG_TEST_RUN,
 * classified as usual but neither counted nor handed off.  The caller puts
 * this block where live traffic never carries it, and the program answers
 * in the same bytes:
 *   XDP: as metadata in front of the frame (xdp_md.data = its size);
 *        data_out returns it, still at the start.
 *   TC:  in __sk_buff.cb[0..4]; ctx_out returns it.
 * A program sees an explain request only when both magic words are there
 * (live skb->cb may hold stray bytes of other layers), and then writes
 * XTC_EXPLAIN_DONE over the first: a block that comes back unchanged was
 * run by a program that predates this contract.  Host byte order: both
 * sides are the same machine.
 */
#define XTC_EXPLAIN_MAGIC 0x78746345U	/* "xtcE": in */
#define XTC_EXPLAIN_CHECK 0x78706c01U	/* "xpl" + version 1: in, left as is */
#define XTC_EXPLAIN_DONE 0x78746352U	/* "xtcR": out, over the magic */
#define XTC_EXPLAIN_NO_RULE 0xffffffffU	/* rule_id when no rule matched */

/* What happened to a packet: the xtc_iface_stats field it counts in. */
enum xtc_event {
	XTC_EV_NONE = 0,
	XTC_EV_PARSE_ERR,
	XTC_EV_NO_MATCH,
	XTC_EV_PASS,
	XTC_EV_DROP,
	XTC_EV_HANDOFF_SENT,
	XTC_EV_REDIRECT_OK,
	XTC_EV_REDIRECT_FAILED,
};

/* xtc_explain.flags: the outcome, final for the packet. */
#define XTC_EXF_MATCHED 0x01		/* a rule matched (rule_id is valid) */
#define XTC_EXF_DROP 0x02		/* the packet is dropped */
#define XTC_EXF_REDIRECT 0x04		/* the packet is redirected to target_ifindex */
#define XTC_EXF_FALLBACK 0x08		/* the redirect cannot be done: redirect_fallback applies */
#define XTC_EXF_HANDOFF 0x10		/* XDP hands the redirect to TC ingress (xtc_meta) */
#define XTC_EXF_XDP_OWNS 0x20		/* TC ingress passed it unclassified: XDP classifies here */

struct xtc_explain {
	__u32 magic;			/* in: XTC_EXPLAIN_MAGIC; out: XTC_EXPLAIN_DONE */
	__u32 check;			/* in: XTC_EXPLAIN_CHECK */
	__u32 rule_id;			/* out: the matched rule, or XTC_EXPLAIN_NO_RULE */
	__u32 target_ifindex;		/* out: resolved redirect target; 0: none */
	__u8 action;			/* out: the matched rule's enum xtc_action */
	__u8 mode;			/* out: its enum xtc_redirect_mode */
	__u8 event;			/* out: enum xtc_event, what a live packet would count */
	__u8 flags;			/* out: XTC_EXF_* */
};

/* Fits __sk_buff.cb (5 words) and XDP metadata (a multiple of 4, at most 32). */
_Static_assert(sizeof(struct xtc_explain) == 20, "struct xtc_explain is cb[0..4]");

#endif /* XTC_SHARED_H */
