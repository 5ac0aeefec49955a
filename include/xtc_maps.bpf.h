/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The maps both BPF objects declare.  The loader pins them under
 * <bpffs>/xtc/maps and makes every program instance reuse the pinned ones,
 * so XDP and TC on every interface see one rule set and one set of counters.
 */
#ifndef XTC_MAPS_BPF_H
#define XTC_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xtc_shared.h"

/* All tuple-space entries: masked packet key -> rule verdict.  Not
 * preallocated, so max_entries is a cap that costs nothing until used. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XTC_MAX_ENTRIES);
	__type(key, struct xtc_flow_key);
	__type(value, struct xtc_rule_val);
} xtc_rules SEC(".maps");

/* Two copies of the tuple-space list; xtc_config.active picks the live one. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct xtc_mask_list);
} xtc_masks SEC(".maps");

/* Runtime settings the loader may change without reloading programs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xtc_config);
} xtc_config SEC(".maps");

/* Which hooks xtc runs on each managed interface. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XTC_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct xtc_iface_cfg);
} xtc_ifaces SEC(".maps");

/* ifindex % XTC_IFACE_IDX_SLOTS -> XTC_IFACE_IDX(ifindex, flags): TC's quick look at a record. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XTC_IFACE_IDX_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} xtc_iface_idx SEC(".maps");

/* Destination prefix -> interface, for target = auto. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XTC_MAX_IPMAP);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xtc_ipmap_key);
	__type(value, struct xtc_ipmap_val);
} xtc_ipmap SEC(".maps");

/*
 * The loader reads the rule records and digests as memory.  Test aid:
 * `make BPF_DEFINES=-DXTC_TEST_UNMAPPED=1` makes them as xtc did before,
 * for the tests of state left by an older xtc (tests/cli/test_daemon_patch.py).
 */
#ifdef XTC_TEST_UNMAPPED
#define XTC_MMAPABLE 0
#else
#define XTC_MMAPABLE BPF_F_MMAPABLE
#endif

/* Rule names, matches and settings by id; read by the loader only (as memory: mmapable). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, XTC_MMAPABLE);
	__uint(max_entries, XTC_MAX_RULES);
	__type(key, __u32);
	__type(value, struct xtc_rule_info);
} xtc_rule_info SEC(".maps");

/* The sets of the rules that use [set]s, by rule id; read by the loader only.
 * Not preallocated: most rules have none. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XTC_MAX_RULES);
	__type(key, __u32);
	__type(value, struct xtc_rule_sets);
} xtc_rule_sets SEC(".maps");

/* The elements of the sets rules use, for `xtc rules`; read by the loader only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XTC_MAX_ENTRIES);
	__type(key, struct xtc_set_elem_key);
	__type(value, struct xtc_set_elem);
} xtc_set_elems SEC(".maps");

/* Per-rule digests of the rules hash, header at key 0; read by the loader only (mmapable). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, XTC_MMAPABLE);
	__uint(max_entries, XTC_MAX_RULES + 1);
	__type(key, __u32);
	__type(value, struct xtc_rule_digest);
} xtc_rule_digest SEC(".maps");

/* Recent verdicts by flow key, per CPU (include/xtc_vcache.bpf.h); one more slot
 * for the streak of misses. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XTC_VCACHE_SLOTS + 1);
	__type(key, __u32);
	__type(value, struct xtc_vcache_ent);
} xtc_vcache SEC(".maps");

/* Packets and bytes per rule id, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XTC_MAX_RULES);
	__type(key, __u32);
	__type(value, struct xtc_rule_stats);
} xtc_rule_stats SEC(".maps");

/* Event counters per (interface slot, hook), per CPU: XTC_IFACE_STATS_KEY(). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XTC_IFACE_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct xtc_iface_stats);
} xtc_iface_stats SEC(".maps");

/*
 * Test aid: `make BPF_DEFINES=-DXTC_TEST_VARIANT=N` builds programs whose
 * code differs by one harmless instruction, so that tests can upgrade a
 * running xtc to another build (tests/host/test_upgrade.py).
 */
#ifdef XTC_TEST_VARIANT
#define XTC_VARIANT_INSN() asm volatile("r0 = %0" ::"i"(XTC_TEST_VARIANT) : "r0")
#else
#define XTC_VARIANT_INSN() do { } while (0)
#endif

#endif /* XTC_MAPS_BPF_H */
