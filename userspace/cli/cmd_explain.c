// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc explain [--egress] IFACE PACKET: builds PACKET and runs it through the
 * program attached to IFACE now with BPF_PROG_TEST_RUN, so the answer is
 * the live rule set's and the live code's, never a model.  The request
 * travels in a struct xtc_explain block (XDP metadata, or TC's cb), which
 * makes the program answer into the block instead of counting.
 *
 * Which program: at ingress our XDP program when it is attached to IFACE
 * (it decides there; a redirect is handed to TC ingress, and its answer
 * says what TC ingress will do with it), else the shared TC ingress
 * program when it is attached to IFACE; with --egress the TC egress one.
 *
 * A program in a libxdp dispatcher slot is BPF_PROG_TYPE_EXT, which the
 * kernel cannot test-run.  Then a fresh instance of the XDP object built
 * into this binary is loaded on the pinned maps, with the live program's
 * read-only data (malformed_verdict) copied over, run, and unloaded; the
 * output says live_program: no.  XTC_EXPLAIN_FORCE_COPY=1 in the
 * environment takes that path for any XDP program (for tests on kernels
 * without the dispatcher).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "cli.h"
#include "cmd_common.h"
#include "explain_packet.h"
#include "log.h"
#include "output.h"
#include "plan.h"
#include "rule_info.h"
#include "tc_attach.h"
#include "xdp_attach.h"
#include "xtc_shared.h"
#include "xtc_xdp.skel.h"

#define FRAME_MAX 256


struct explain_run {
	const char *ifname;
	__u32 ifindex;
	int hook;			/* enum xtc_hook */
	__u32 prog_id;			/* the live program's */
	int prog_fd;			/* what is run */
	bool own_fd;			/* prog_fd is ours to close */
	bool live;			/* prog_fd is the live program itself */
	struct xtc_xdp *copy;		/* the stand-in for a dispatcher slot */
	bool tc_ingress_attached;
	__u32 retval;
	struct xtc_explain res;
};

/* The interface's MAC; zeros for an interface without one. */
static void get_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(mac, 0, 6);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd >= 0 && !ioctl(fd, SIOCGIFHWADDR, &ifr))
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (fd >= 0)
		close(fd);
}

static bool tc_attached(__u32 ifindex, bool egress, __u32 prio, int prog_fd)
{
	struct xtc_tc_hook h = { .ifindex = ifindex, .egress = egress, .prio = prio };
	struct xtc_tc_info ti;

	return !xtc_tc_query(&h, xtc_prog_id(prog_fd), &ti) &&
	       ti.kind != XTC_TC_KIND_NONE;
}

/* Copies the live program's .rodata (malformed_verdict) into the copy. */
static void copy_rodata(int live_fd, struct xtc_xdp *skel)
{
	size_t want = bpf_map__value_size(skel->maps.rodata);
	struct bpf_prog_info info;
	__u32 ids[64], len = sizeof(info), i, zero = 0;
	bool done = false;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(live_fd, &info, &len))
		goto out;
	for (i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]) && !done; i++) {
		struct bpf_map_info mi;
		__u32 mlen = sizeof(mi);
		size_t nl;
		void *val;
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) && (nl = strlen(mi.name)) >= 7 &&
		    !strcmp(mi.name + nl - 7, ".rodata") && mi.value_size == want &&
		    (val = calloc(1, want))) {
			if (!bpf_map_lookup_elem(fd, &zero, val)) {
				memcpy(skel->rodata, val, want);
				done = true;
			}
			free(val);
		}
		close(fd);
	}
out:
	if (!done)
		pr_debug("explain: cannot read the live XDP program's settings; the copy uses "
			 "the defaults\n");
}

/* A fresh instance of our XDP program on the pinned maps, for a dispatcher slot. */
static int load_copy(const struct xtc_state *st, int live_fd, struct explain_run *r)
{
	struct xtc_xdp *skel = xtc_xdp__open();
	int err;

	if (!skel) {
		err = -errno ?: -ENOMEM;
		pr_warn("explain: cannot open our XDP object: %s\n", strerror(-err));
		return err;
	}
	copy_rodata(live_fd, skel);
	err = xtc_maps_reuse(skel->obj, &st->maps);
	if (!err)
		err = xtc_xdp__load(skel);
	if (err) {
		pr_warn("explain: cannot load a copy of our XDP program on the pinned maps: %s (run "
			"with -vv for the verifier log)\n", strerror(-err));
		xtc_xdp__destroy(skel);
		return err;
	}
	r->copy = skel;
	r->prog_fd = bpf_program__fd(skel->progs.xtc_xdp);
	r->live = false;
	return 0;
}

static int use_xdp(const struct xtc_state *st, struct explain_run *r)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(r->prog_id), err;
	bool forced;

	if (fd < 0) {
		err = -errno;
		pr_warn("explain: %s: cannot open XDP program id %u: %s\n", r->ifname, r->prog_id,
			strerror(errno));
		return err;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		pr_warn("explain: %s: cannot read XDP program id %u: %s\n", r->ifname, r->prog_id,
			strerror(errno));
		close(fd);
		return err;
	}
	forced = getenv("XTC_EXPLAIN_FORCE_COPY") && *getenv("XTC_EXPLAIN_FORCE_COPY");
	if (info.type == BPF_PROG_TYPE_XDP && !forced) {
		r->prog_fd = fd;
		r->own_fd = true;
		r->live = true;
		return 0;
	}
	err = load_copy(st, fd, r);
	close(fd);
	if (!err)
		pr_info("explain: %s: ran a copy of XDP program id %u on the same maps (%s)\n",
			r->ifname, r->prog_id, info.type == BPF_PROG_TYPE_XDP ?
			"XTC_EXPLAIN_FORCE_COPY is set" : "a dispatcher slot cannot be test-run");
	return err;
}

static int no_program(const struct explain_run *r, const char *why)
{
	pr_warn("explain: %s: no xtc program on %s (%s)\n", r->ifname,
		r->hook == XTC_HOOK_TC_EGRESS ? "egress" : "ingress", why);
	return XTC_EXIT_RUNTIME;
}

/*
 * Picks the program that handles the packet at this hook now.  Returns 0,
 * or the exit code after saying why there is none.
 */
static int pick_program(const struct xtc_state *st, bool egress, struct explain_run *r)
{
	struct xtc_iface_cfg cfg;
	struct xtc_xdp_info xi;
	bool known;

	known = !bpf_map_lookup_elem(st->maps.fd[XTC_MAP_IFACES], &r->ifindex, &cfg);
	if (known) {
		cfg.name[sizeof(cfg.name) - 1] = 0;
		known = !strcmp(cfg.name, r->ifname);	/* not a gone one's reused ifindex */
	}
	r->hook = egress ? XTC_HOOK_TC_EGRESS : XTC_HOOK_XDP;
	if (!known)
		return no_program(r, "the interface is not in the applied file; run xtc apply");

	if (egress) {
		if (!(cfg.flags & XTC_IF_TC_EGRESS))
			return no_program(r, "tc_egress is off for it in the applied file: no egress "
					  "rule applies to it");
		if (!tc_attached(r->ifindex, true, cfg.tc_prio, st->tc_egress_fd))
			return no_program(r, "xtc's TC egress program is not attached now; xtc status "
					  "shows it, xtc apply attaches it again");
		r->prog_fd = st->tc_egress_fd;
		r->prog_id = xtc_prog_id(r->prog_fd);
		r->live = true;
		return 0;
	}

	r->tc_ingress_attached = (cfg.flags & XTC_IF_TC_INGRESS) &&
				 tc_attached(r->ifindex, false, cfg.tc_prio, st->tc_ingress_fd);
	if ((cfg.flags & XTC_IF_XDP) && !xtc_xdp_query(r->ifindex, cfg.xdp_prog_id, &xi) &&
	    xi.our_pos >= 0) {
		r->prog_id = cfg.xdp_prog_id;
		return use_xdp(st, r) ? XTC_EXIT_RUNTIME : 0;
	}
	r->hook = XTC_HOOK_TC_INGRESS;
	if (!r->tc_ingress_attached) {
		if (cfg.flags & XTC_IF_XDP)
			return no_program(r, "xtc's XDP program is not attached now; xtc status shows "
					  "it, xtc apply attaches it again");
		if (!(cfg.flags & XTC_IF_TC_INGRESS))
			return no_program(r, "xdp and tc_ingress are off for it in the applied file");
		return no_program(r, "xtc's TC ingress program is not attached now; xtc status "
				  "shows it, xtc apply attaches it again");
	}
	if (cfg.flags & XTC_IF_XDP)
		pr_warn("explain: %s: XDP is on for it in the applied file but xtc's XDP program is "
			"not attached now, so TC ingress lets every packet pass unclassified (xtc "
			"status; xtc apply)\n", r->ifname);
	r->prog_fd = st->tc_ingress_fd;
	r->prog_id = xtc_prog_id(r->prog_fd);
	r->live = true;
	return 0;
}

static int run(struct explain_run *r, const __u8 *frame, int len)
{
	const struct xtc_explain req = { .magic = XTC_EXPLAIN_MAGIC, .check = XTC_EXPLAIN_CHECK };
	__u8 in[sizeof(req) + FRAME_MAX], out[sizeof(req) + FRAME_MAX + 64];
	struct xdp_md xctx = {
		.data = sizeof(req),
		.data_end = sizeof(req) + len,
		.ingress_ifindex = r->ifindex,
		.rx_queue_index = 0,
	};
	struct __sk_buff sctx = { .ifindex = r->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = 1,
	);

	if (r->hook == XTC_HOOK_XDP) {
		memcpy(in, &req, sizeof(req));
		memcpy(in + sizeof(req), frame, len);
		opts.data_in = in;
		opts.data_size_in = sizeof(req) + len;
		opts.ctx_in = opts.ctx_out = &xctx;
		opts.ctx_size_in = opts.ctx_size_out = sizeof(xctx);
	} else {
		if (r->hook == XTC_HOOK_TC_INGRESS)
			sctx.ingress_ifindex = r->ifindex;
		memcpy(sctx.cb, &req, sizeof(req));
		opts.data_in = frame;
		opts.data_size_in = len;
		opts.ctx_in = opts.ctx_out = &sctx;
		opts.ctx_size_in = opts.ctx_size_out = sizeof(sctx);
	}
	if (bpf_prog_test_run_opts(r->prog_fd, &opts)) {
		int err = -errno;

		pr_warn("explain: %s: the kernel refused to test-run program id %u: %s\n", r->ifname,
			r->prog_id, strerror(-err));
		return err;
	}
	r->retval = opts.retval;
	/* XDP: the block comes back right in front of the frame. */
	if (r->hook != XTC_HOOK_XDP)
		memcpy(&r->res, sctx.cb, sizeof(r->res));
	else if (xctx.data >= sizeof(r->res) && xctx.data <= opts.data_size_out)
		memcpy(&r->res, out + xctx.data - sizeof(r->res), sizeof(r->res));
	else
		memset(&r->res, 0, sizeof(r->res));
	if (r->res.magic != XTC_EXPLAIN_DONE || r->res.check != XTC_EXPLAIN_CHECK) {
		pr_warn("explain: %s: program id %u gave no answer: it predates xtc explain (and may "
			"have counted the packet). xtc unload --all and xtc apply load the current "
			"programs.\n", r->ifname, r->prog_id);
		return -EPROTO;
	}
	return 0;
}

static void rule_name(const struct xtc_state *st, __u32 id, char *buf, size_t len)
{
	struct xtc_rule_info info;

	if (!bpf_map_lookup_elem(st->maps.fd[XTC_MAP_RULE_INFO], &id, &info) &&
	    (info.flags & XTC_RI_USED) && info.name[0]) {
		info.name[sizeof(info.name) - 1] = 0;
		snprintf(buf, len, "%s", info.name);
	} else {
		snprintf(buf, len, "#%u", id);
	}
}

/*
 * What happens to the packet.  The one thing the program cannot know: a
 * redirect XDP hands off is carried out only if TC ingress is there to take
 * it; without it the packet passes.
 */
static const char *verdict_of(const struct explain_run *r)
{
	const struct xtc_explain *x = &r->res;

	if (x->flags & XTC_EXF_DROP)
		return "drop";
	if ((x->flags & XTC_EXF_REDIRECT) &&
	    (!(x->flags & XTC_EXF_HANDOFF) || r->tc_ingress_attached))
		return "redirect";
	return "pass";
}

static void print_answer(const struct xtc_opts *opts, const struct xtc_state *st,
		  const struct explain_run *r, const struct xtc_packet *pkt)
{
	const struct xtc_explain *x = &r->res;
	bool matched = x->flags & XTC_EXF_MATCHED;
	char name[80], target[IF_NAMESIZE + 8];
	struct xtc_out *o;

	o = xtc_out_new(opts->json ? XTC_OUT_JSON : XTC_OUT_TEXT);
	if (!o)
		return;
	xtc_out_str(o, "interface", r->ifname);
	xtc_out_u64(o, "ifindex", r->ifindex);
	xtc_out_str(o, "packet", pkt->text);
	xtc_out_str(o, "hook", XTC_ENUM_NAME(hook_names, r->hook));
	xtc_out_u64(o, "program_id", r->prog_id);
	xtc_out_bool(o, "live_program", r->live);
	xtc_out_str(o, "verdict", verdict_of(r));
	if (matched) {
		rule_name(st, x->rule_id, name, sizeof(name));
		xtc_out_str(o, "rule", name);
	}
	xtc_out_bool(o, "matched", matched);
	if (matched) {
		xtc_out_str(o, "action", XTC_ENUM_NAME(action_names, x->action));
		if (x->action == XTC_ACT_REDIRECT)
			xtc_out_str(o, "redirect", XTC_ENUM_NAME(mode_names, x->mode));
	}
	if (x->target_ifindex) {
		if (!if_indextoname(x->target_ifindex, target))
			snprintf(target, sizeof(target), "#%u", x->target_ifindex);
		xtc_out_str(o, "target", target);
		xtc_out_u64(o, "target_ifindex", x->target_ifindex);
	}
	xtc_out_bool(o, "fallback", x->flags & XTC_EXF_FALLBACK);
	xtc_out_bool(o, "counted", false);
	xtc_out_free(o);
}

/* What the answer implies beyond itself, said before the output. */
static void notes(const struct explain_run *r)
{
	const struct xtc_explain *x = &r->res;

	if ((x->flags & XTC_EXF_HANDOFF) && (x->flags & XTC_EXF_REDIRECT) &&
	    !r->tc_ingress_attached)
		pr_warn("explain: %s: XDP hands the redirect to TC ingress, but xtc's TC ingress "
			"program is not attached, so the packet passes (tc_ingress = on; xtc status; "
			"xtc apply)\n", r->ifname);
	if ((x->flags & XTC_EXF_FALLBACK) && x->target_ifindex)
		pr_info("explain: %s: redirect target ifindex %u is gone: redirect_fallback "
			"applies\n", r->ifname, x->target_ifindex);
}

int cmd_explain(const struct xtc_opts *opts)
{
	struct explain_run r = { .prog_fd = -1 };
	char input[512], why[256];
	__u8 mac[6], frame[FRAME_MAX];
	struct xtc_packet pkt;
	struct xtc_state st;
	int err, len, rc;

	/* The packet first: a bad one is a usage error whatever the state. */
	if (xtc_packet_parse(opts->args + 1, opts->n_args - 1, &pkt, input, sizeof(input), why,
			     sizeof(why))) {
		pr_warn("explain: bad packet '%s': %s\n", input, why);
		return XTC_EXIT_USAGE;
	}
	r.ifname = opts->args[0];
	r.ifindex = if_nametoindex(r.ifname);
	if (!r.ifindex) {
		pr_warn("explain: %s: no such interface\n", r.ifname);
		return XTC_EXIT_RUNTIME;
	}
	err = xtc_open_for_reading(opts, &st);
	if (err)
		return xtc_read_exit(err);

	rc = pick_program(&st, opts->egress, &r);
	if (rc)
		goto out;
	get_mac(r.ifname, mac);
	len = xtc_packet_build(&pkt, mac, frame, sizeof(frame));
	rc = XTC_EXIT_RUNTIME;
	if (len < 0 || run(&r, frame, len))
		goto out;
	notes(&r);
	print_answer(opts, &st, &r, &pkt);
	rc = XTC_EXIT_OK;
out:
	if (r.own_fd)
		close(r.prog_fd);
	xtc_xdp__destroy(r.copy);
	xtc_state_close(&st);
	return rc;
}
