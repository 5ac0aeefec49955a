/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The rule compiler: turns rules in file order into tuple spaces (one mask
 * per distinct shape) and the hash entries the datapath probes.  A rule with
 * sets becomes the cross product of their elements, all under its one id and
 * priority; port ranges become prefix-masked ports; entries that a
 * higher-priority rule makes unreachable within one space are dropped here,
 * not in the kernel.
 */
#ifndef XTC_TSS_H
#define XTC_TSS_H

#include <stddef.h>
#include "xtc_shared.h"
#include "model.h"
#include "entry_table.h"
#include "port_lens.h"

/* A tuple space's identity: its mask (mask_id 0) and the port ranges it holds whole. */
struct xtc_shape {
	struct xtc_flow_key mask;
	struct xtc_port_span sport, dport;
};

struct xtc_tss {
	struct xtc_mask_ent masks[XTC_MAX_MASKS];	/* sorted by min_prio */
	int n_masks;
	struct xtc_port_lens lens;	/* what port ranges were cut into */
	/* The merged entries (the same as set.e), after xtc_tss_build() or _add_entries(). */
	struct xtc_tss_entry *entries;
	size_t n_entries;
	struct entry_table set;		/* the same entries, for lookups by key */
	/* Per rule, in the rules' order: what it expands to, as xtc_rule_digest holds it. */
	struct xtc_rule_digest *digests;
	size_t n_expanded;		/* the sum of digests[].n: entries before merging */
	/* Per rule, with the digests: a bit per mask id its entries use (all for ids >= 64). */
	__u64 *rule_masks;
	/* How many masks a rule needed; the first rule over the limit. */
	const struct xtc_rule *overflow_rule;
};

/*
 * Builds the tables for rules, which must have their ids.  prev, when not
 * NULL, is the list now live in the kernel: shapes it already has keep
 * their ids, and new shapes get ids it does not use, so the old and new
 * lists can be live at the same time.  Returns 0, -E2BIG when the rules
 * need more than XTC_MAX_MASKS shapes (t->overflow_rule names the culprit),
 * or -ENOMEM.
 */
int xtc_tss_build(const struct xtc_rule *rules, int n_rules,
		  const struct xtc_mask_list *prev, struct xtc_tss *t);
/*
 * xtc_tss_build() holding at most max_spans port ranges whole per field
 * (port_lens.h; it holds XTC_PORT_SPANS_MAX), fewer when they need too many
 * shapes: for tests.
 */
int xtc_tss_build_spans(const struct xtc_rule *rules, int n_rules,
			const struct xtc_mask_list *prev, int max_spans, struct xtc_tss *t);
/*
 * The same without the entries: shapes and digests only, which is all a
 * re-apply needs when few rules changed (it expands those again).
 */
int xtc_tss_compile(const struct xtc_rule *rules, int n_rules,
		    const struct xtc_mask_list *prev, struct xtc_tss *t);
/* Adds the merged entries to a compiled t (nothing when it has them). */
int xtc_tss_add_entries(const struct xtc_rule *rules, int n_rules, struct xtc_tss *t);
void xtc_tss_free(struct xtc_tss *t);
/* The XTC_FB_* families an entry with key k matches. */
__u8 xtc_tss_entry_families(const struct xtc_flow_key *k);

/*
 * A compile kept for the next one of the same rules with a few changed in
 * place (a daemon's patch, config_patch.c): copying it costs a memcpy where
 * compiling 100k rules again costs 30 ms.  tss_memo.c.
 */
struct xtc_tss_memo {
	int n_rules;			/* 0: nothing kept */
	__u32 *ids;			/* each rule's id when compiled */
	struct xtc_rule_digest *digests;
	__u64 *rule_masks;
	struct xtc_mask_ent masks[XTC_MAX_MASKS];
	int n_masks;
	struct xtc_port_lens lens;	/* what masks' compile cut port ranges into */
};

/* The rules changed since the memo was kept: where they are and what they were. */
struct xtc_tss_carry {
	const struct xtc_tss_memo *memo;
	int n;
	const int *idx;
	const struct xtc_rule *was;
};

/* Keeps t's digests (taken from t) and shapes for rules, which have their ids. */
int xtc_tss_memo_keep(struct xtc_tss_memo *mm, struct xtc_tss *t, const struct xtc_rule *rules,
		      int n_rules);
void xtc_tss_memo_free(struct xtc_tss_memo *mm);
/*
 * xtc_tss_compile() of rules, from the carry's memo: 0 with t as compiling
 * would give it, or -ESTALE when it cannot be had that way (the live list
 * is not the memo's, a changed rule uses other shapes or families): then
 * compile.
 */
int xtc_tss_compile_carried(const struct xtc_rule *rules, int n_rules,
			    const struct xtc_mask_list *prev, const struct xtc_tss_carry *carry,
			    struct xtc_tss *t);

/*
 * Calls fn for every entry r expands to, in order, with mask ids from
 * masks (a compiled list, or the kernel's live one) and port ranges cut as
 * that list's compile cut them: lens, which callers that go through many
 * rules find once with xtc_port_lens_of_list() (NULL: found here).
 * Returns -ESTALE when r has a shape that masks lacks, else the first
 * nonzero value of fn.
 */
typedef int (*xtc_tss_entry_fn)(void *ctx, const struct xtc_tss_entry *e);
int xtc_tss_rule_entries_in(const struct xtc_rule *r, const struct xtc_mask_ent *masks,
			    int n_masks, const struct xtc_port_lens *lens, xtc_tss_entry_fn fn,
			    void *ctx);
/* The digest of those entries, as compiling gives it (0 when r expands to none). */
int xtc_tss_rule_digest(const struct xtc_rule *r, const struct xtc_mask_ent *masks, int n_masks,
			const struct xtc_port_lens *lens, struct xtc_rule_digest *d);

/*
 * The mask part of xtc_tss_build() alone, without entries: how many distinct
 * match shapes the rules need.  Returns 0 with *n_shapes, or -E2BIG with
 * *overflow set to the rule that xtc_tss_build() would name.
 */
int xtc_tss_count_shapes(const struct xtc_rule *rules, int n_rules, int *n_shapes,
			 const struct xtc_rule **overflow);
/* Whether every match shape of r is one of of's: swapping them adds no shape. */
bool xtc_tss_shapes_within(const struct xtc_rule *r, const struct xtc_rule *of);
/*
 * The mask ids of masks (a compiled list, or the kernel's live one) that r's
 * entries use, as bits (id 64 and above: every bit), found without making
 * the entries; -ESTALE when r has a shape that masks lacks.
 */
int xtc_tss_rule_mask_bits(const struct xtc_rule *r, const struct xtc_mask_ent *masks,
			   int n_masks, const struct xtc_port_lens *lens, __u64 *bits);

/*
 * How many hash entries r expands to before equal keys merge: its element
 * combinations times the prefix blocks of its port ranges.  Saturates at
 * SIZE_MAX; cheap (no entry is made).
 */
size_t xtc_tss_rule_entries(const struct xtc_rule *r);
/* The same with lens's ranges held whole (NULL: none), before any cut. */
size_t xtc_tss_rule_entries_lens(const struct xtc_rule *r, const struct xtc_port_lens *lens);
/* The same with every port range of several blocks held whole: one block each. */
size_t xtc_tss_rule_entries_whole(const struct xtc_rule *r);

/*
 * Calls fn for every (shape, key) r expands to, in the order xtc_tss_build()
 * adds them; key is already masked and mask_id is 0 in both.  Port ranges
 * are held whole or cut as lens says, or left as prefix blocks when it is
 * NULL.  Stops at and returns the first nonzero value fn returns; -ENOMEM
 * when out of memory.
 */
typedef int (*xtc_tss_atom_fn)(void *ctx, const struct xtc_shape *shape,
			       const struct xtc_flow_key *key);
int xtc_tss_expand(const struct xtc_rule *r, const struct xtc_port_lens *lens,
		   xtc_tss_atom_fn fn, void *ctx);

/* Splits [lo, hi] into prefix blocks; returns their number (at most 32). */
int xtc_port_prefixes(__u16 lo, __u16 hi, __u16 *vals, __u16 *masks);

#endif
