/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The validated configuration: what `xtc check` proves and `xtc apply` makes
 * the kernel match.  Filled by config.c; interface names are resolved to
 * ifindexes by validation, so every consumer can trust them.
 */
#ifndef XTC_MODEL_H
#define XTC_MODEL_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>
#include "arena.h"
#include "xdp_choice.h"

#define XTC_NAME_MAX 64			/* rule and set names */
#define XTC_DEFAULT_CONFIG "/etc/xtc/xtc.ini"
#define XTC_DEFAULT_BPFFS "/sys/fs/bpf"
#define XTC_DEFAULT_PRIO 30
#define XTC_DEFAULT_MAX_RULES 65536
#define XTC_DEFAULT_TC_PRIO 0x7874	/* = XTC_CLS_PRIO, where older states have theirs */

enum xtc_xdp_mode {
	XTC_XDP_NATIVE = 0,
	XTC_XDP_SKB = 1,
};

enum xtc_tc_attach {
	XTC_TC_AUTO = 0,		/* TCX where the kernel has it, else cls_bpf */
	XTC_TC_TCX = 1,
	XTC_TC_CLS_BPF = 2,
};

/* A prefix; addr is in network byte order, IPv4 in the first 4 bytes. */
struct xtc_cidr {
	__u8 family;			/* XTC_FAMILY_V4 or XTC_FAMILY_V6 */
	__u8 plen;
	__u8 addr[16];
};

/* An inclusive port range; lo = 0, hi = 65535 means any. */
struct xtc_port_range {
	__u16 lo;
	__u16 hi;
};

/*
 * A [set NAME] section: prefixes (IPv4 and IPv6 may mix) or port ranges,
 * never both.  Entries are unique; the order is the file's.
 */
struct xtc_set {
	char name[XTC_NAME_MAX];
	const char *file;		/* the file it is in: one of xtc_model.files */
	int line;			/* of the [set NAME] header */
	bool ports;			/* holds port ranges, not prefixes */
	struct xtc_cidr *prefixes;
	int n_prefixes;
	struct xtc_port_range *ports_r;
	int n_ports;
	int n_v4, n_v6;			/* prefixes of each family, so rules need not count */
};

/* Pointers, then words, then bytes: no padding, 144 bytes (a million rules). */
struct xtc_rule {
	/* name, ifname and target are in the model's names; "" when absent.  A
	 * rule read back from the kernel points into its record instead. */
	const char *name;
	const char *file;		/* the file it is in: one of xtc_model.files */
	const char *ifname;		/* "" means any interface (*) */
	const char *target;
	/*
	 * A match on a set (src = @NAME ...): has_src (and so on) is true, the
	 * single value beside it unused.  The rule matches the cross product of
	 * the elements; combinations whose src and dst families differ do not
	 * exist.  NULL when the match is a single value or absent.
	 */
	const struct xtc_set *src_set, *dst_set, *sport_set, *dport_set;
	int line;			/* line of the [rule NAME] header */
	__u32 id;			/* counter slot (rule_stats index) */
	__u32 prio;			/* position in file order; lower wins */
	__u32 ifindex;			/* 0 means any */
	__u32 target_ifindex;		/* XTC_TARGET_AUTO when target_auto */
	struct xtc_cidr src, dst;
	struct xtc_port_range sport, dport;
	__u8 dir;			/* enum xtc_dir */
	__u8 family;			/* XTC_FAMILY_ANY/V4/V6, from src/dst/proto */
	bool has_src, has_dst;
	bool has_proto;
	__u8 proto;
	bool has_sport, has_dport;
	__u8 action;			/* enum xtc_action */
	__u8 mode;			/* enum xtc_redirect_mode */
	bool target_auto;
	bool reverse;
	bool generated;			/* a reverse = yes mirror, not in the file */
	bool absent;			/* waits for an interface (its own, or its target under the
					 * daemon) that is not there: not loaded */
};

struct xtc_iface {
	char name[IF_NAMESIZE];
	const char *file;
	int line;
	__u32 ifindex;
	bool xdp;			/* XDP runs here: the setting, resolved for the device */
	enum xtc_xdp_setting xdp_setting;
	enum xtc_xdp_why xdp_why;	/* what decided xdp */
	enum xtc_xdp_mode xdp_mode;
	__u32 xdp_priority;
	bool tc_ingress;		/* after defaults are applied */
	bool tc_egress;
	__u32 tc_prio;			/* our cls_bpf filter's prio, 1-0xffff */
	int pattern;			/* 0: named in the file; n: matched m->patterns[n - 1] */
};

/* An [interface PATTERN] section: the interfaces it matched are in m->ifaces. */
struct xtc_iface_pattern {
	char pattern[64];		/* fnmatch(3) */
	const char *file;
	int line;
};

struct xtc_static {
	struct xtc_cidr prefix;
	char ifname[IF_NAMESIZE];
	__u32 ifindex;
	const char *file;
	int line;
};

struct xtc_model {
	char path[4096];		/* the file it came from */
	char **files;			/* path, then the include files in the order read */
	int n_files;
	char bpffs[4096];
	enum xtc_xdp_setting xdp_setting;	/* [global] xdp: every interface's default */
	enum xtc_xdp_mode xdp_mode;
	__u32 xdp_priority;
	enum xtc_tc_attach tc_attach;
	__u32 tc_prio;			/* the interfaces' default */
	__u8 redirect_fallback;		/* XTC_ACT_PASS or XTC_ACT_DROP */
	__u32 max_rules;
	__u32 resync_ms;		/* xtc daemon: a full look this often */
	char metrics_file[4096];	/* xtc daemon: Prometheus text written here, or "" */
	char metrics_listen[64];	/* xtc daemon: ADDRESS:PORT serving /metrics, or "" */

	struct xtc_iface *ifaces;
	int n_ifaces;
	struct xtc_iface_pattern *patterns;
	int n_patterns;
	char (*absent)[IF_NAMESIZE];	/* named interfaces not on the host, optional */
	int n_absent;
	struct xtc_rule *rules;		/* file order; generated mirrors follow */
	int n_rules;
	/* The rules' classifier entries before any merging, with every port range of
	 * several blocks held whole (port_lens.h), or 0: an estimate, for sizing. */
	size_t n_expanded;
	struct xtc_static *statics;
	int n_statics;
	struct xtc_set *sets;		/* rules point into it */
	int n_sets;
	struct xtc_arena names;		/* the rules' names, interfaces and targets */
	bool clean;			/* loaded without a word said, shadowed rules aside */
};

void xtc_model_free(struct xtc_model *m);

#endif
