/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XTC_MEM_H
#define XTC_MEM_H

#include <stdbool.h>

/*
 * Sets up the heap for a short run that builds large tables (100k rules
 * take about 100 MiB): big arrays come from the heap too, which grows in
 * large steps, never shrinks mid-run, and is backed by transparent huge
 * pages where the kernel allows them.  Page faults otherwise cost more than
 * the work itself (one per 4 KiB first touched; far more under a
 * hypervisor).  Call once, first thing in main().  Nothing changes when
 * the address space is limited or memory is committed strictly.
 */
void xtc_mem_tune(void);
/* Advises the heap grown since, so that a big run keeps its huge pages. */
void xtc_mem_advise(void);
/* Gives free heap back to the system (a daemon gone quiet), keeping the tuning. */
void xtc_mem_trim(void);

#endif
