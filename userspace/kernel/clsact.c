// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The clsact qdisc and its filters as rtnetlink reports them; see clsact.h. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include "clsact.h"
#include "nlutil.h"

int xtc_clsact_probe(struct nl_sock *sk, __u32 ifindex, enum xtc_ffff_qdisc *found)
{
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	struct rtnl_tc *tc;
	const char *kind;
	int err;

	*found = XTC_FFFF_NONE;
	err = rtnl_qdisc_alloc_cache(sk, &cache);
	if (err)
		return xtc_nl_errno(err);
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		tc = TC_CAST(obj);
		if (rtnl_tc_get_ifindex(tc) != (int)ifindex ||
		    rtnl_tc_get_handle(tc) != TC_H_MAKE(TC_H_CLSACT, 0))
			continue;
		kind = rtnl_tc_get_kind(tc);
		*found = kind && !strcmp(kind, "clsact") ? XTC_FFFF_CLSACT : XTC_FFFF_OTHER;
		break;
	}
	nl_cache_free(cache);
	return 0;
}

struct dump {
	xtc_tc_filter_fn fn;
	void *arg;
};

/* libnl-route has no cls_bpf, so the program id is read from the message itself. */
static int dump_entry(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[TCA_MAX + 1], *opt[TCA_BPF_MAX + 1];
	struct nlmsghdr *nh = nlmsg_hdr(msg);
	struct dump *d = arg;
	struct xtc_tc_filter f;
	struct tcmsg *t;

	if (nh->nlmsg_type != RTM_NEWTFILTER ||
	    nlmsg_parse(nh, sizeof(*t), tb, TCA_MAX, NULL) < 0)
		return NL_SKIP;
	t = nlmsg_data(nh);
	memset(&f, 0, sizeof(f));
	f.prio = TC_H_MAJ(t->tcm_info) >> 16;
	f.protocol = ntohs((__u16)TC_H_MIN(t->tcm_info));
	f.handle = t->tcm_handle;
	if (tb[TCA_CHAIN])
		f.chain = nla_get_u32(tb[TCA_CHAIN]);
	if (tb[TCA_KIND])
		nla_strlcpy(f.kind, tb[TCA_KIND], sizeof(f.kind));
	if (!strcmp(f.kind, "bpf") && tb[TCA_OPTIONS] &&
	    !nla_parse_nested(opt, TCA_BPF_MAX, tb[TCA_OPTIONS], NULL) && opt[TCA_BPF_ID])
		f.prog_id = nla_get_u32(opt[TCA_BPF_ID]);
	d->fn(&f, d->arg);
	return NL_OK;
}

static int dump_hook(struct nl_sock *sk, __u32 ifindex, bool egress, struct dump *d)
{
	struct tcmsg t = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = (int)ifindex,
		.tcm_parent = TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS),
	};
	struct nl_msg *msg;
	int err;

	msg = nlmsg_alloc_simple(RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	err = nlmsg_append(msg, &t, sizeof(t), NLMSG_ALIGNTO);
	if (!err)
		err = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, dump_entry, d);
	if (!err)
		err = nl_send_auto(sk, msg);
	if (err >= 0)
		err = nl_recvmsgs_default(sk);
	nlmsg_free(msg);
	return err < 0 ? xtc_nl_errno(err) : 0;
}

/*
 * The ingress qdisc takes filters for ffff:fff3 too, but puts them on its
 * only hook, ingress: egress is a hook only under a real clsact.
 */
int xtc_clsact_filters(struct nl_sock *sk, __u32 ifindex, bool egress, xtc_tc_filter_fn fn,
		       void *arg)
{
	struct dump d = { .fn = fn, .arg = arg };
	enum xtc_ffff_qdisc q;
	int err;

	if (egress) {
		err = xtc_clsact_probe(sk, ifindex, &q);
		if (err || q != XTC_FFFF_CLSACT)
			return err;
	}
	return dump_hook(sk, ifindex, egress, &d);
}

bool xtc_tc_filter_is_real(const struct xtc_tc_filter *f)
{
	if (!f->handle)
		return false;
	return !(!strcmp(f->kind, "u32") && !(f->handle & 0xfff));
}
