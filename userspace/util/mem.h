/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XTC_MEM_H
#define XTC_MEM_H

/*
 * Sets up the heap for a short run that builds large tables (100k rules
 * take about 100 MiB): big arrays come from the heap too, which grows in
 * large steps, never shrinks mid-run, and is backed by transparent huge
 * pages where the kernel allows them.  Page faults otherwise cost more than
 * the work itself (one per 4 KiB first touched; far more under a
 * hypervisor).  Call once, first thing in main().
 */
void xtc_mem_tune(void);

#endif
