/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rtnetlink notifications of links, addresses and routes: what makes the
 * daemon look at the host again.  Only that something happened is used; the
 * engine observes the kernel afresh (level-triggered), so a lost message
 * (ENOBUFS) costs nothing but a full look, which any event brings anyway.
 */
#ifndef XTC_NLWATCH_H
#define XTC_NLWATCH_H

#include <stdbool.h>

enum xtc_nl_event { XTC_NL_LINK, XTC_NL_ADDR, XTC_NL_ROUTE, XTC_NL_OVERFLOW, XTC_NL_N };
extern const char *const xtc_nl_event_names[XTC_NL_N];

/* A non-blocking socket subscribed to them; its receive buffer rcvbuf bytes (0: default). */
int xtc_nlwatch_open(int rcvbuf);
/* Reads what is queued; counts[] += messages by kind.  Returns how many, or -errno. */
int xtc_nlwatch_drain(int fd, unsigned long long counts[XTC_NL_N]);

#endif
