/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cls_bpf: our program as one filter under clsact, in our slot (prio, handle). */
#ifndef XTC_CLS_BPF_H
#define XTC_CLS_BPF_H

#include "tc_attach.h"

extern const struct xtc_tc_ops xtc_cls_bpf_ops;

#endif
