// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Our XDP program on an interface, through libxdp so that it can share the
 * interface with other programs under the dispatcher.  Each attach loads a
 * new instance on the shared maps and then lets go of every userspace
 * handle: the kernel keeps the program alive (the netlink attachment for a
 * single program; the freplace links libxdp pins under bpffs for the
 * dispatcher), so nothing here needs a long-running process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>
#include <xdp/prog_dispatcher.h>
#include "xdp_attach.h"
#include "log.h"
#include "xtc_shared.h"
#include "xdp_build.h"
#include "xtc_xdp.skel.h"
#include "xtc_probe.skel.h"

_Static_assert(XTC_XDP_MAX_PROGS == MAX_DISPATCHER_ACTIONS,
	       "XTC_XDP_MAX_PROGS must be libxdp's dispatcher limit");

/* libxdp reports its fallback and the kernel's refusals only as log lines. */
#define HEARD_SINGLE "Falling back to loading single prog"
#define HEARD_PKT_DATA "Extension program changes packet data"
#define HEARD_KERNEL "Kernel error message: "

static struct {
	libxdp_print_fn_t xdp_prev;
	libbpf_print_fn_t bpf_prev;
	bool single;
	bool pkt_data;
	char kernel[256];		/* the kernel's extack message, if any */
} heard;

/*
 * Refusals whose fix is known: the kernel's extack text (or, without one,
 * the errno of a native attach) and what the operator should do.  %1$s is
 * the interface.
 */
static const struct {
	const char *says;		/* a piece of the kernel's message */
	const char *fix;
} known_refusals[] = {
	{ "does not support XDP in native mode",
	  "the driver has no native XDP: set xdp_mode = skb for %1$s (in [interface %1$s])" },
	{ "GRO_HW/CSUM",
	  "virtio_net cannot run XDP while the host offloads GRO and checksums: run "
	  "`ethtool -K %1$s gro off` (or turn off guest offloads on the host), or set "
	  "xdp_mode = skb for %1$s" },
	{ "Too few free TX rings",
	  "the driver needs a TX queue per CPU for XDP: add queues (`ethtool -L %1$s combined "
	  "N`), or set xdp_mode = skb for %1$s" },
	{ "MTU too large",
	  "the MTU is too large for XDP on this driver: lower it (`ip link set dev %1$s mtu "
	  "1500`), or set xdp_mode = skb for %1$s" },
	{ "Peer MTU is too large",
	  "the veth peer's MTU is too large for XDP: lower it, or set xdp_mode = skb for %1$s" },
	{ "rx queues not less than peer tx queues",
	  "veth XDP needs as many RX queues as the peer has TX queues: recreate the pair with "
	  "`numrxqueues`/`numtxqueues` to match, or set xdp_mode = skb for %1$s" },
};

static void hear_line(const char *fmt, va_list ap)
{
	char *line;
	va_list cp;

	va_copy(cp, ap);
	if (vasprintf(&line, fmt, cp) >= 0) {
		if (strstr(line, HEARD_SINGLE))
			heard.single = true;
		if (strstr(line, HEARD_PKT_DATA))
			heard.pkt_data = true;
		if (strstr(line, HEARD_KERNEL)) {
			snprintf(heard.kernel, sizeof(heard.kernel), "%s",
				 strstr(line, HEARD_KERNEL) + strlen(HEARD_KERNEL));
			heard.kernel[strcspn(heard.kernel, "\n")] = '\0';
		}
		free(line);
	}
	va_end(cp);
}

/* Forwarded at debug level: we explain what matters ourselves. */
static int hear_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	hear_line(fmt, ap);
	return heard.xdp_prev ? heard.xdp_prev(LIBXDP_DEBUG, fmt, ap) : 0;
}

/* The verifier's refusal comes through libbpf, which libxdp loads with. */
static int hear_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	hear_line(fmt, ap);
	return heard.bpf_prev ? heard.bpf_prev(LIBBPF_DEBUG, fmt, ap) : 0;
}

static void listen_start(void)
{
	heard.single = false;
	heard.pkt_data = false;
	heard.kernel[0] = '\0';
	heard.xdp_prev = libxdp_set_print(hear_libxdp);
	heard.bpf_prev = libbpf_set_print(hear_libbpf);
}

static void listen_stop(void)
{
	libxdp_set_print(heard.xdp_prev);
	libbpf_set_print(heard.bpf_prev);
}

static const char *mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_SKB:
		return "skb";
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_HW:
		return "hw";
	default:
		return "unknown";
	}
}

/*
 * What the interface holds: *mp is NULL when it holds nothing (or only an
 * offloaded program, which we neither use nor touch).
 */
static int get_progs(__u32 ifindex, const char *ifname, struct xdp_multiprog **mp)
{
	struct xdp_multiprog *m = xdp_multiprog__get_from_ifindex(ifindex);
	long err;

	*mp = NULL;
	err = libxdp_get_error(m);
	if (err == -ENOENT || (!err && !m))
		return 0;
	if (err) {
		pr_warn("%s: XDP: cannot read the interface's XDP programs: %s\n", ifname,
			strerror((int)-err));
		return (int)err;
	}
	if (!xdp_multiprog__main_prog(m)) {
		xdp_multiprog__close(m);
		return 0;
	}
	*mp = m;
	return 0;
}

static void explain_full(const char *ifname, int n)
{
	pr_warn("%s: XDP: the interface's libxdp dispatcher already runs %d programs, the most "
		"it can hold (%d), so xtc cannot be added beside them. Unload one of them "
		"(xdp-loader status %s lists them; xdp-loader unload %s --id ID), or set xdp = off "
		"for this interface so TC classifies alone, then run xtc apply again.\n",
		ifname, n, XTC_XDP_MAX_PROGS, ifname, ifname);
}

/*
 * libxdp can add us beside programs under its dispatcher, but a program
 * attached without it can only be replaced, and replacing someone else's
 * program is never ours to do.
 */
static int check_room(__u32 ifindex, const char *ifname, enum xdp_attach_mode mode)
{
	struct xdp_multiprog *mp;
	struct xdp_program *main_prog;
	enum xdp_attach_mode cur;
	const char *name;
	int err;

	err = get_progs(ifindex, ifname, &mp);
	if (err || !mp)
		return err;
	main_prog = xdp_multiprog__main_prog(mp);
	name = xdp_program__name(main_prog) ?: "?";
	cur = xdp_multiprog__attach_mode(mp);
	if (xdp_multiprog__is_legacy(mp) && strcmp(name, XTC_XDP_PROG_NAME) &&
	    !xtc_xdp_name_no_handoff(name)) {
		pr_warn("%s: XDP: the interface already has XDP program %s (id %u) attached without "
			"the libxdp dispatcher, so xtc cannot be added beside it without replacing "
			"it. Unload it first (xdp-loader unload %s --all / ip link set dev %s xdp "
			"off), or load it through xdp-loader on a kernel where the dispatcher works, "
			"then run xtc apply again.\n",
			ifname, name, xdp_program__id(main_prog), ifname, ifname);
		err = -EBUSY;
	} else if (xdp_multiprog__is_legacy(mp)) {
		/* An older instance of ours: the caller must detach it first. */
		pr_debug("%s: XDP: our program (id %u) is attached without the dispatcher; "
			 "a second instance cannot go beside it\n",
			 ifname, xdp_program__id(main_prog));
		err = -EEXIST;
	} else if (cur != mode) {
		pr_warn("%s: XDP: the interface's XDP dispatcher runs in %s mode and xtc asks for "
			"%s mode; the kernel does not run both at once. Set the interface's xdp "
			"mode to %s, or unload the other programs first.\n",
			ifname, mode_name(cur), mode_name(mode), mode_name(cur));
		err = -EBUSY;
	} else if (xdp_multiprog__program_count(mp) >= XTC_XDP_MAX_PROGS) {
		/* libxdp would only say E2BIG ("Argument list too long"). */
		explain_full(ifname, xdp_multiprog__program_count(mp));
		err = -E2BIG;
	}
	xdp_multiprog__close(mp);
	return err;
}

/* Run priority and chain-call must be set before libxdp loads the program. */
static struct xdp_program *make_prog(const struct xtc_xdp_build *o, const char *ifname,
				     __u32 prio)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts,
		.obj = o->obj,
		.prog_name = o->prog_name,
	);
	struct xdp_program *prog;
	int err;

	prog = xdp_program__create(&opts);
	if (!prog) {
		err = -errno ?: -ENOMEM;
		pr_warn("%s: XDP: cannot prepare our program for libxdp: %s\n", ifname,
			strerror(-err));
		errno = -err;
		return NULL;
	}
	err = xdp_program__set_run_prio(prog, prio);
	if (!err)
		err = xdp_program__set_chain_call_enabled(prog, XDP_PASS, true);
	if (err) {
		pr_warn("%s: XDP: cannot set run priority %u and chain-call on XDP_PASS: %s\n",
			ifname, prio, strerror(-err));
		xdp_program__close(prog);
		errno = -err;
		return NULL;
	}
	return prog;
}

/* Says what to do about a refusal we know; false when we do not know it. */
static bool explain_refusal(const char *ifname, enum xdp_attach_mode mode, int err)
{
	const char *fix = NULL;
	char msg[512];
	size_t i;

	for (i = 0; i < sizeof(known_refusals) / sizeof(known_refusals[0]); i++)
		if (heard.kernel[0] && strstr(heard.kernel, known_refusals[i].says))
			fix = known_refusals[i].fix;
	/* Older kernels refuse native mode without a message. */
	if (!fix && !heard.kernel[0] && mode == XDP_MODE_NATIVE && err == -EOPNOTSUPP)
		fix = known_refusals[0].fix;
	if (!fix)
		return false;
	snprintf(msg, sizeof(msg), fix, ifname);
	pr_warn("%s: XDP: the kernel refused %s mode (%s%s%s): %s\n", ifname, mode_name(mode),
		strerror(-err), heard.kernel[0] ? ": " : "", heard.kernel, msg);
	return true;
}

static int attach_prog(struct xdp_program *prog, __u32 ifindex, const char *ifname,
		       enum xdp_attach_mode mode)
{
	int err;

	listen_start();
	err = xdp_program__attach(prog, (int)ifindex, mode, 0);
	listen_stop();
	if (!err)
		return 0;
	if (err == -E2BIG)	/* filled up since check_room() looked */
		explain_full(ifname, XTC_XDP_MAX_PROGS);
	else if (heard.pkt_data)
		pr_debug("%s: XDP: the kernel refuses a program that changes packet data in a "
			 "dispatcher slot\n", ifname);
	else if (!explain_refusal(ifname, mode, err))
		pr_warn("%s: XDP: cannot attach our program in %s mode: %s%s%s (run with -vv for "
			"libxdp's log)\n", ifname, mode_name(mode), strerror(-err),
			heard.kernel[0] ? "; the kernel says: " : "", heard.kernel);
	return err;
}

/* Asked after the fact: libxdp does not say which way it went. */
static bool is_single(__u32 ifindex, const char *ifname)
{
	struct xdp_multiprog *mp;
	bool single = heard.single;

	if (!get_progs(ifindex, ifname, &mp) && mp) {
		single = xdp_multiprog__is_legacy(mp);
		xdp_multiprog__close(mp);
	}
	return single;
}

/* One instance of one build, attached; *refused_pkt_data when that was the refusal. */
static int attach_build(const struct xtc_maps *maps, __u32 ifindex, const char *ifname,
			enum xdp_attach_mode xmode, __u32 prio, __u8 malformed_action,
			__u32 slot, bool handoff, __u32 *prog_id, bool *refused_pkt_data)
{
	struct xdp_program *prog = NULL;
	struct xtc_xdp_build o;
	int err;

	*refused_pkt_data = false;
	err = xtc_xdp_build_open(&o, handoff, malformed_action, slot);
	if (err) {
		pr_warn("%s: XDP: cannot open our BPF object: %s\n", ifname, strerror(-err));
		return err;
	}
	err = xtc_maps_reuse(o.obj, maps);
	if (err) {
		pr_warn("%s: XDP: cannot give our program the shared maps: %s\n", ifname,
			strerror(-err));
		goto out;
	}
	prog = make_prog(&o, ifname, prio);
	if (!prog) {
		err = -errno;
		goto out;
	}
	err = attach_prog(prog, ifindex, ifname, xmode);
	*refused_pkt_data = err && heard.pkt_data;
	if (!err)
		*prog_id = xdp_program__id(prog);
out:
	xdp_program__close(prog);
	xtc_xdp_build_close(&o);
	return err;
}

int xtc_xdp_attach(const struct xtc_maps *maps, __u32 ifindex, const char *ifname,
		   enum xtc_xdp_mode mode, __u32 prio, __u8 malformed_action, __u32 slot,
		   __u32 *prog_id, bool *single, bool *no_handoff)
{
	enum xdp_attach_mode xmode = mode == XTC_XDP_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	bool refused;
	int err;

	*prog_id = 0;
	*single = false;
	*no_handoff = false;
	err = check_room(ifindex, ifname, xmode);
	if (err)
		return err;
	err = attach_build(maps, ifindex, ifname, xmode, prio, malformed_action, slot, true,
			   prog_id, &refused);
	if (err && refused) {
		/*
		 * Kernels >= 6.13 (and late 6.12) refuse it beside a libxdp < 1.5.5
		 * dispatcher stub: the build without the handoff still drops and
		 * passes here, and TC ingress redirects on its own.
		 */
		pr_info("%s: XDP: this kernel refuses packet-data changes in dispatcher slots; "
			"attaching the build without the TC handoff (TC ingress classifies "
			"redirects itself)\n", ifname);
		*no_handoff = true;
		err = attach_build(maps, ifindex, ifname, xmode, prio, malformed_action, slot,
				   false, prog_id, &refused);
	}
	if (err)
		return err;
	*single = is_single(ifindex, ifname);
	pr_debug("%s: XDP: attached %s id %u, priority %u, %s mode, %s\n", ifname,
		 *no_handoff ? XTC_XDP_NH_PROG_NAME : XTC_XDP_PROG_NAME, *prog_id, prio,
		 mode_name(xmode), *single ? "single program (no dispatcher)" :
		 "under the libxdp dispatcher");
	return 0;
}

int xtc_xdp_replace_single(const struct xtc_maps *maps, __u32 ifindex, const char *ifname,
			   enum xtc_xdp_mode mode, __u8 malformed_action, __u32 slot,
			   __u32 old_id, __u32 *prog_id)
{
	__u32 flags = XDP_FLAGS_REPLACE |
		      (mode == XTC_XDP_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	struct bpf_prog_info info = {};
	struct xtc_xdp_build b = {};
	__u32 len = sizeof(info);
	int old_fd, fd, err;

	*prog_id = 0;
	old_fd = bpf_prog_get_fd_by_id(old_id);
	if (old_fd < 0)
		return -errno;
	/* A single program has no dispatcher slot to refuse the handoff. */
	err = xtc_xdp_build_open(&b, true, malformed_action, slot);
	if (!err)
		err = xtc_maps_reuse(b.obj, maps);
	if (!err)
		err = xtc_xdp_build_load(&b);
	if (err) {
		pr_warn("%s: XDP: cannot load our program: %s\n", ifname, strerror(-err));
		goto out;
	}
	fd = bpf_program__fd(b.prog);
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);

		err = bpf_xdp_attach((int)ifindex, fd, flags, &opts);
	}
	if (err) {
		pr_warn("%s: XDP: cannot swap program %u for ours in place: %s\n", ifname, old_id,
			strerror(-err));
		goto out;
	}
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		*prog_id = info.id;
	pr_debug("%s: XDP: program %u swapped for %u in place\n", ifname, old_id, *prog_id);
out:
	xtc_xdp_build_close(&b);
	close(old_fd);
	return err;
}

/* Ours among the interface's programs, or NULL when it is gone already. */
static struct xdp_program *find_ours(const struct xdp_multiprog *mp, __u32 prog_id)
{
	struct xdp_program *p;

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		return xdp_program__id(p) == prog_id ? p : NULL;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
		if (xdp_program__id(p) == prog_id)
			return p;
	return NULL;
}

int xtc_xdp_detach(__u32 ifindex, const char *ifname, __u32 prog_id)
{
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *ours;
	int err;

	if (!prog_id)
		return 0;
	err = get_progs(ifindex, ifname, &mp);
	if (err || !mp)
		goto out;
	ours = find_ours(mp, prog_id);
	if (!ours) {
		pr_debug("%s: XDP: our program id %u is not attached any more\n", ifname, prog_id);
		goto out;
	}
	/*
	 * libxdp rebuilds the dispatcher without ours, or for a single
	 * program replaces it with nothing only if it is still the one we
	 * saw, so a program attached meanwhile by someone else is left alone.
	 */
	err = xdp_program__detach(ours, (int)ifindex, xdp_multiprog__attach_mode(mp), 0);
	if (err)
		pr_warn("%s: XDP: cannot detach our program id %u: %s (run with -v for libxdp's "
			"log)\n", ifname, prog_id, strerror(-err));
	else
		pr_debug("%s: XDP: detached our program id %u\n", ifname, prog_id);
out:
	xdp_multiprog__close(mp);
	return err;
}

static void add_prog(struct xtc_xdp_info *info, const struct xdp_program *prog, __u32 our_id)
{
	struct xtc_xdp_prog_info *p;
	int act;

	if (info->n_progs >= XTC_XDP_MAX_PROGS)
		return;
	p = &info->progs[info->n_progs];
	snprintf(p->name, sizeof(p->name), "%s", xdp_program__name(prog) ?: "");
	p->id = xdp_program__id(prog);
	p->prio = xdp_program__run_prio(prog);
	p->chain_actions = 0;
	for (act = XDP_ABORTED; act <= XDP_REDIRECT; act++)
		if (xdp_program__chain_call_enabled(prog, act))
			p->chain_actions |= 1U << act;
	p->ours = our_id && p->id == our_id;
	if (p->ours && info->our_pos < 0)
		info->our_pos = info->n_progs;
	info->n_progs++;
}

int xtc_xdp_query(__u32 ifindex, __u32 our_id, struct xtc_xdp_info *info)
{
	char ifname[32];
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int err;

	memset(info, 0, sizeof(*info));
	info->mode = XTC_XDP_NATIVE;
	info->our_pos = -1;
	snprintf(ifname, sizeof(ifname), "ifindex %u", ifindex);
	err = get_progs(ifindex, ifname, &mp);
	if (err || !mp)
		return err;

	info->attached = true;
	info->dispatcher = !xdp_multiprog__is_legacy(mp);
	info->mode = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ? XTC_XDP_SKB : XTC_XDP_NATIVE;
	info->main_id = xdp_program__id(xdp_multiprog__main_prog(mp));
	if (!info->dispatcher)
		add_prog(info, xdp_multiprog__main_prog(mp), our_id);
	else
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			add_prog(info, p, our_id);
	xdp_multiprog__close(mp);
	return 0;
}

/*
 * The same test as libxdp's compatibility check: load and attach an
 * extension of a loaded XDP program (xdp/xtc_probe.bpf.c).
 */
static int probe_freplace(void)
{
	struct xtc_probe *probe = NULL, *target = NULL;
	struct bpf_link *link = NULL;
	int err;

	target = xtc_probe__open();
	if (!target) {
		err = -errno ?: -ENOMEM;
		goto out;
	}
	bpf_program__set_autoload(target->progs.xtc_probe, false);
	err = xtc_probe__load(target);
	if (err) {
		pr_debug("XDP: freplace probe: cannot load the target program: %s\n",
			 strerror(-err));
		goto out;
	}
	probe = xtc_probe__open();
	if (!probe) {
		err = -errno ?: -ENOMEM;
		goto out;
	}
	bpf_program__set_autoload(probe->progs.xtc_probe_target, false);
	err = bpf_program__set_attach_target(probe->progs.xtc_probe,
					     bpf_program__fd(target->progs.xtc_probe_target),
					     "xtc_probe_target");
	if (!err)
		err = xtc_probe__load(probe);
	if (err) {
		pr_debug("XDP: freplace probe: the kernel refuses to load an extension program: "
			 "%s\n", strerror(-err));
		goto out;
	}
	link = bpf_program__attach(probe->progs.xtc_probe);
	if (!link) {
		err = -errno;
		pr_debug("XDP: freplace probe: the kernel refuses to attach an extension "
			 "program: %s\n", strerror(-err));
	}
out:
	bpf_link__destroy(link);
	xtc_probe__destroy(probe);
	xtc_probe__destroy(target);
	return err;
}

bool xtc_xdp_dispatcher_usable(void)
{
	static int usable = -1;

	if (usable < 0) {
		usable = !probe_freplace();
		pr_debug("XDP: %s\n", usable ?
			 "the kernel accepts freplace programs: the libxdp dispatcher can work" :
			 "freplace probe failed: the libxdp dispatcher is taken as unusable");
	}
	return usable;
}
