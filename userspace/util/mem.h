/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XTC_MEM_H
#define XTC_MEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

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

/*
 * Faults in the pages of [p, p + len) on a thread of its own, while the
 * caller fills the array from its start: the other core pays for the fresh
 * pages (a million rules: 144 MB).  The contents are not touched
 * (MADV_POPULATE_WRITE).  Wait before freeing it.  Nothing happens for a
 * small array, or on a kernel without that advice.
 */
struct xtc_populate {
	pthread_t thread;
	void *p;
	size_t len;
	bool started;
};

void xtc_mem_populate_start(struct xtc_populate *pp, void *p, size_t len);
void xtc_mem_populate_wait(struct xtc_populate *pp);

#endif
