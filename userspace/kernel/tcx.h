/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* TCX: our program on a hook through a bpf_link pinned in the state directory. */
#ifndef XTC_TCX_H
#define XTC_TCX_H

#include "tc_attach.h"

extern const struct xtc_tc_ops xtc_tcx_ops;

bool xtc_tcx_available(void);

#endif
