/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp = auto: XDP where it pays, TC alone where it costs.  XDP on a veth
 * strips software GSO from its peer and copies every skb, which halves TCP
 * throughput (docs/bench/RESULTS.md); a NIC with native XDP drops cheapest
 * in XDP.  Pure: the facts come from the kernel layer's netdev.
 */
#ifndef XTC_XDP_CHOICE_H
#define XTC_XDP_CHOICE_H

#include <stdbool.h>

enum xtc_xdp_setting {
	XTC_XDP_SET_AUTO = 0,
	XTC_XDP_SET_ON,
	XTC_XDP_SET_OFF,
};

enum xtc_xdp_why {
	XTC_XDP_WHY_SET = 0,		/* xdp = on or off in the file */
	XTC_XDP_WHY_NATIVE,
	XTC_XDP_WHY_NATIVE_UNKNOWN,	/* a device of its own; the kernel cannot say (< 6.3) */
	XTC_XDP_WHY_VETH,
	XTC_XDP_WHY_VIRTUAL,
	XTC_XDP_WHY_LOOPBACK,
	XTC_XDP_WHY_NO_NATIVE,
	XTC_XDP_WHY_COUNT,
};

struct xtc_dev_facts {
	const char *kind;		/* rtnetlink link kind; "" for a device with its own driver */
	bool loopback;
	int xdp_native;			/* 1, 0, or -1 unknown */
};

/* What xdp = auto chooses on such a device: true for XDP, and why. */
bool xtc_xdp_auto_choice(const struct xtc_dev_facts *f, enum xtc_xdp_why *why);

/* The reason in words, for status and the plan. */
const char *xtc_xdp_why_text(enum xtc_xdp_why why);

extern const char *const xtc_xdp_setting_names[];	/* "auto", "on", "off", NULL */

#endif
