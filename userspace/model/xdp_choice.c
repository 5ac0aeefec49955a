// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "xdp_choice.h"

const char *const xtc_xdp_setting_names[] = { "auto", "on", "off", NULL };

static const char *const why_text[XTC_XDP_WHY_COUNT] = {
	[XTC_XDP_WHY_SET] = "set in the file",
	[XTC_XDP_WHY_NATIVE] = "the driver runs XDP natively: drops cost least there",
	[XTC_XDP_WHY_NATIVE_UNKNOWN] = "a device with a driver of its own (this kernel does not "
				       "report XDP features): XDP",
	[XTC_XDP_WHY_VETH] = "veth: XDP there copies every packet and strips GSO from its "
			     "peer, so TC alone is faster (set xdp = on to force XDP)",
	[XTC_XDP_WHY_VIRTUAL] = "virtual device: TC alone (set xdp = on to force XDP)",
	[XTC_XDP_WHY_LOOPBACK] = "loopback has no native XDP: TC alone",
	[XTC_XDP_WHY_NO_NATIVE] = "the driver has no native XDP: TC alone (set xdp = on with "
				  "xdp_mode = skb to force generic XDP)",
};

bool xtc_xdp_auto_choice(const struct xtc_dev_facts *f, enum xtc_xdp_why *why)
{
	if (f->loopback)
		*why = XTC_XDP_WHY_LOOPBACK;
	else if (f->kind && !strcmp(f->kind, "veth"))
		*why = XTC_XDP_WHY_VETH;
	else if (f->kind && f->kind[0])
		*why = XTC_XDP_WHY_VIRTUAL;
	else if (f->xdp_native == 0)
		*why = XTC_XDP_WHY_NO_NATIVE;
	else
		*why = f->xdp_native > 0 ? XTC_XDP_WHY_NATIVE : XTC_XDP_WHY_NATIVE_UNKNOWN;
	return *why == XTC_XDP_WHY_NATIVE || *why == XTC_XDP_WHY_NATIVE_UNKNOWN;
}

const char *xtc_xdp_why_text(enum xtc_xdp_why why)
{
	return (unsigned)why < XTC_XDP_WHY_COUNT ? why_text[why] : "?";
}
