/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which prefix lengths the compiler cuts port ranges into (controlled
 * prefix expansion).  A range becomes prefix blocks of several lengths, and
 * every length is a match shape, one hash probe more for every packet that
 * misses the verdict cache.  Cutting a block into longer ones of a length
 * in use costs entries and saves a shape: port_lens.c chooses the fewest
 * lengths whose extra entries stay within a small budget.
 */
#ifndef XTC_PORT_LENS_H
#define XTC_PORT_LENS_H

#include <stddef.h>
#include "model.h"
#include "xtc_shared.h"

/* Bit l set: /l is a length of the field's blocks.  /0 (any) and /16 (one port) always are. */
#define XTC_PORT_LENS_FIXED (1u << 0 | 1u << 16)

/*
 * Ranges held whole instead (xtc_port_span in xtc_shared.h): a range of
 * several blocks that some rule uses becomes one entry per rule in a space
 * of its own, up to this many per field.  The rest are cut as above.
 */
#define XTC_PORT_SPANS_MAX 16

/* xtc_port_spans.n for estimates: every range of several blocks held whole. */
#define XTC_PORT_SPANS_ALL (-1)

struct xtc_port_spans {
	int n;
	struct xtc_port_span v[XTC_PORT_SPANS_MAX];	/* sorted by lo, then hi */
};

struct xtc_port_lens {
	__u32 sport, dport;
	struct xtc_port_spans sspans, dspans;
};

/* Whether [lo, hi] is one of spans (NULL: none). */
bool xtc_port_spans_has(const struct xtc_port_spans *spans, __u16 lo, __u16 hi);
bool xtc_port_lens_equal(const struct xtc_port_lens *a, const struct xtc_port_lens *b);

/* Extra entries the cut may cost a rule set: under 1 MiB of kernel memory. */
#define XTC_PORT_CUT_BUDGET 8192

/* A block's prefix length, from its mask. */
static inline int xtc_port_mask_len(__u16 mask)
{
	return __builtin_popcount(mask);
}

/* The length a block of plen is cut into: the shortest of lens at least plen. */
static inline int xtc_port_lens_target(__u32 lens, int plen)
{
	return __builtin_ctz((lens | 1u << 16) & ~((1u << plen) - 1));
}

/*
 * The spans and lengths to compile rules with.  Spans first: for each
 * field, the max_spans ranges of several blocks that save the most entries.
 * Then, for the blocks of the other ranges, the fewest lengths that keep
 * the extra entries of both fields within budget (fewer extra entries
 * between equals).  Rules without a port range leave them as they are.
 * Returns how many entries the cut adds.  A budget of 0 chooses the spans
 * only: lengths 0, which xtc_tss_expand() takes as no cut.
 */
size_t xtc_port_lens_choose(const struct xtc_rule *rules, int n_rules, size_t budget,
			    int max_spans, struct xtc_port_lens *out);
/*
 * The blocks of one port field (a range, or a set's ranges): how many of
 * each length into cnt, and how many in all.  A range in spans is one block
 * of length 0 (its space leaves the port out of the mask); NULL: none are.
 */
size_t xtc_port_block_lens(const struct xtc_port_range *one, const struct xtc_set *set,
			   const struct xtc_port_spans *spans, size_t cnt[17]);
/*
 * The spans and lengths a compiled list was made with, from its shapes: the
 * same as chosen, since every chosen span is some space's and every chosen
 * length is some block's target.
 */
void xtc_port_lens_of_list(const struct xtc_mask_ent *masks, int n_masks,
			   struct xtc_port_lens *out);

#endif
