/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What tcx.c and cls_bpf.c share about one hook: its name in messages and its programs. */
#ifndef XTC_TC_HOOK_H
#define XTC_TC_HOOK_H

#include <stddef.h>
#include <net/if.h>
#include "tc_attach.h"

/* "eth0: TC ingress": the prefix of every message about one hook. */
struct xtc_tc_label {
	char s[IF_NAMESIZE + 32];
};

const char *xtc_tc_label(struct xtc_tc_label *l, const struct xtc_tc_hook *h);

/* The interface's name, or "ifN" once it is gone. */
void xtc_tc_ifname(__u32 ifindex, char *buf, size_t len);

/* Our cls_bpf prio on the hook: the caller's, or XTC_CLS_PRIO. */
__u32 xtc_tc_hook_prio(const struct xtc_tc_hook *h);

/* The id of the program behind prog_fd; says why not, as where, when it cannot. */
int xtc_tc_prog_id(int prog_fd, const char *where, __u32 *id);

/* The program's name; "" when it cannot be read (gone, or no permission). */
void xtc_tc_prog_name(__u32 id, char *name, size_t len);

#endif
