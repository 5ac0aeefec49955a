// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc status: what is attached where, from the kernel and the pins alone,
 * and every way the kernel differs from what was applied.  The problems are
 * part of the output (never log lines) and make the exit status 3.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "cli.h"
#include "daemon_lock.h"
#include "cmd_common.h"
#include "output.h"
#include "observe.h"
#include "rule_info.h"
#include "tables.h"
#include "tc_attach.h"
#include "netdev.h"
#include "xdp_attach.h"
#include "xdp_choice.h"

static const char *const xdp_actions[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					   "XDP_REDIRECT" };

/* Problems are collected while printing and listed at the end. */
struct problem {
	char kind[32];			/* a short fixed word */
	char iface[IF_NAMESIZE];	/* "" when not about an interface */
	char message[512];
};

struct problems {
	struct problem *p;
	int n;
};

static void add_problem(struct problems *ps, const char *kind, const char *iface,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add_problem(struct problems *ps, const char *kind, const char *iface,
			const char *fmt, ...)
{
	struct problem *p = realloc(ps->p, (ps->n + 1) * sizeof(*p));
	va_list ap;

	if (!p)
		return;
	ps->p = p;
	p = &ps->p[ps->n++];
	snprintf(p->kind, sizeof(p->kind), "%s", kind);
	snprintf(p->iface, sizeof(p->iface), "%s", iface ?: "");
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
}

static void print_problems(struct xtc_out *o, const struct problems *ps)
{
	int i;

	xtc_out_list_begin(o, "problems", NULL);
	for (i = 0; i < ps->n; i++) {
		xtc_out_obj_begin(o, NULL);
		xtc_out_str(o, "problem", ps->p[i].kind);
		if (ps->p[i].iface[0])
			xtc_out_str(o, "interface", ps->p[i].iface);
		xtc_out_str(o, "message", ps->p[i].message);
		xtc_out_obj_end(o);
	}
	xtc_out_list_end(o);
}

static void print_programs(struct xtc_out *o, const struct xtc_xdp_info *xi)
{
	size_t a;
	int i;

	xtc_out_list_begin(o, "programs", NULL);
	for (i = 0; i < xi->n_progs; i++) {
		xtc_out_obj_begin(o, NULL);
		xtc_out_str(o, "name", xi->progs[i].name);
		xtc_out_id(o, "program_id", xi->progs[i].id);
		xtc_out_id(o, "priority", xi->progs[i].prio);
		xtc_out_list_begin(o, "chain_call_actions", NULL);
		for (a = 0; a < sizeof(xdp_actions) / sizeof(xdp_actions[0]); a++)
			if (xi->progs[i].chain_actions & (1U << a))
				xtc_out_str(o, NULL, xdp_actions[a]);
		xtc_out_list_end(o);
		xtc_out_bool(o, "ours", xi->progs[i].ours);
		xtc_out_obj_end(o);
	}
	xtc_out_list_end(o);
}

/* xdp = auto: what the device is now says why XDP runs there or not. */
static void print_xdp_choice(struct xtc_out *o, const char *name, const struct xtc_iface_cfg *c,
			     bool present)
{
	struct xtc_netdev_info info;
	struct xtc_dev_facts f;
	enum xtc_xdp_why why = XTC_XDP_WHY_SET;

	if (!(c->flags & XTC_IF_XDP_AUTO)) {
		xtc_out_str(o, "setting", c->flags & XTC_IF_XDP ? "on" : "off");
		return;
	}
	xtc_out_str(o, "setting", "auto");
	if (!present || xtc_netdev_get(name, &info))
		return;
	f = (struct xtc_dev_facts){ .kind = info.kind, .loopback = info.loopback,
				    .xdp_native = info.xdp_native };
	xtc_xdp_auto_choice(&f, &why);
	xtc_out_str(o, "reason", xtc_xdp_why_text(why));
}

static void print_xdp(struct xtc_out *o, const char *name, __u32 ifindex,
		      const struct xtc_iface_cfg *c, bool present, struct problems *ps)
{
	bool want = c->flags & XTC_IF_XDP;
	struct xtc_xdp_info xi;

	xtc_out_obj_begin(o, "xdp");
	xtc_out_bool(o, "configured", want);
	print_xdp_choice(o, name, c, present);
	if (!want || !present || xtc_xdp_query(ifindex, c->xdp_prog_id, &xi) || xi.our_pos < 0) {
		xtc_out_bool(o, "attached", false);
		xtc_out_obj_end(o);
		if (want && present)
			add_problem(ps, "xdp_detached", name, "%s: xtc's XDP program (id %u) is no "
				    "longer attached; run xtc apply to attach it again", name,
				    c->xdp_prog_id);
		return;
	}
	xtc_out_bool(o, "attached", true);
	xtc_out_str(o, "mode", xi.mode == XTC_XDP_SKB ? "skb" : "native");
	/* single: libxdp could not use its dispatcher (freplace refused by this kernel) */
	xtc_out_str(o, "via", xi.dispatcher ? "dispatcher" : "single");
	xtc_out_id(o, "program_id", c->xdp_prog_id);
	/* Redirect verdicts reach TC in metadata, or TC classifies them itself. */
	xtc_out_str(o, "handoff", !xtc_xdp_name_no_handoff(xi.progs[xi.our_pos].name) ? "on" :
		    "off (kernel refuses packet-data changes in dispatcher slots)");
	/* A single program has no dispatcher to hold its priority: use ours. */
	if (!xi.dispatcher)
		xi.progs[xi.our_pos].prio = c->xdp_prio;
	xtc_out_id(o, "priority", xi.progs[xi.our_pos].prio);
	xtc_out_id(o, "position", xi.our_pos + 1);
	xtc_out_id(o, "programs_total", xi.n_progs);
	print_programs(o, &xi);
	xtc_out_obj_end(o);
}

/* Apply would refuse the place: say what holds it, not "run xtc apply". */
static void slot_taken_problem(struct problems *ps, const char *name, bool egress,
			       const struct xtc_cls_slot *slot)
{
	char holder[128];

	xtc_cls_slot_describe(slot, holder, sizeof(holder));
	add_problem(ps, egress ? "tc_egress_detached" : "tc_ingress_detached", name,
		    "%s: xtc's TC %s program is no longer attached: its place, prio %u (0x%x) "
		    "handle 0x%x, holds %s; remove that filter or choose another tc_prio, then "
		    "run xtc apply", name, egress ? "egress" : "ingress", slot->prio, slot->prio,
		    XTC_CLS_HANDLE, holder);
}

static bool print_tc(struct xtc_out *o, const struct xtc_state *st, const char *name,
		     __u32 ifindex, const struct xtc_iface_cfg *c, bool present, bool no_ffff,
		     struct problems *ps)
{
	__u32 ids[2] = { xtc_prog_id(st->tc_ingress_fd), xtc_prog_id(st->tc_egress_fd) };
	struct xtc_tc_info ti;
	bool tcx = false;
	int h;

	for (h = 0; h < 2; h++) {
		const char *hook = h ? "tc_egress" : "tc_ingress";
		bool want = c->flags & (h ? XTC_IF_TC_EGRESS : XTC_IF_TC_INGRESS);
		struct xtc_tc_hook th = { .ifindex = ifindex, .egress = h, .prio = c->tc_prio,
					  .no_ffff = no_ffff };

		memset(&ti, 0, sizeof(ti));
		xtc_out_obj_begin(o, hook);
		xtc_out_bool(o, "configured", want);
		if (!present || !ids[h] || xtc_tc_query(&th, ids[h], &ti) ||
		    ti.kind == XTC_TC_KIND_NONE) {
			xtc_out_bool(o, "attached", false);
			xtc_out_obj_end(o);
			if (want && present && c->tc_kind == XTC_TC_KIND_CLS_BPF && ti.slot.taken)
				slot_taken_problem(ps, name, h, &ti.slot);
			else if (want && present)
				add_problem(ps, h ? "tc_egress_detached" : "tc_ingress_detached",
					    name, "%s: xtc's TC %s program is no longer attached; "
					    "run xtc apply to attach it again", name,
					    h ? "egress" : "ingress");
			continue;
		}
		xtc_out_bool(o, "attached", true);
		xtc_out_str(o, "kind", ti.kind == XTC_TC_KIND_TCX ? "tcx" : "cls_bpf");
		xtc_out_id(o, "program_id", ti.prog_id);
		if (ti.kind == XTC_TC_KIND_CLS_BPF) {
			xtc_out_hex(o, "prio", ti.prio);
			xtc_out_hex(o, "handle", ti.handle);
		}
		tcx |= ti.kind == XTC_TC_KIND_TCX;
		xtc_out_id(o, "other_programs", ti.n_others);
		xtc_out_obj_end(o);
	}
	return tcx;
}

/*
 * How many loaded rules each interface has: those on every interface, and
 * its own, counted once (a host has hundreds of interfaces, a file 100k rules).
 */
struct rule_counts {
	int total;
	int any;			/* rules on every interface */
	__u32 *own;			/* the ifindex of every other rule, sorted (NULL: no memory) */
	int n_own;
};

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static void count_rules(const struct xtc_rule_info *info, __u32 n, struct rule_counts *rc)
{
	__u32 i;

	memset(rc, 0, sizeof(*rc));
	rc->own = malloc((n ? n : 1) * sizeof(*rc->own));
	for (i = 0; i < n; i++) {
		if (!(info[i].flags & XTC_RI_USED))
			continue;
		rc->total++;
		if (!info[i].ifindex)
			rc->any++;
		else if (rc->own)
			rc->own[rc->n_own++] = info[i].ifindex;
	}
	qsort(rc->own, (size_t)rc->n_own, sizeof(*rc->own), cmp_u32);
}

static int rules_on(const struct rule_counts *rc, __u32 ifindex)
{
	int lo = 0, hi = rc->n_own, first, count = rc->any;

	while (lo < hi) {	/* the first at or above ifindex */
		int mid = (lo + hi) / 2;

		if (rc->own[mid] < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (first = lo; lo < rc->n_own && rc->own[lo] == ifindex; lo++)
		;
	return count + lo - first;
}

static bool in_sorted(const __u32 *v, int n, __u32 x)
{
	return n > 0 && bsearch(&x, v, (size_t)n, sizeof(*v), cmp_u32);
}

/* Each managed interface as the kernel holds it; true when any hook is TCX. */
static bool print_ifaces(struct xtc_out *o, const struct xtc_state *st,
			 const struct rule_counts *rc, struct problems *ps)
{
	int fd = st->maps.fd[XTC_MAP_IFACES], n_ffff = 0;
	__u32 key, next, *prev = NULL, *with_ffff = NULL;
	struct xtc_iface_cfg c;
	bool tcx = false, know_ffff;

	/* One qdisc dump: an interface without a ffff: qdisc has no filter to list. */
	know_ffff = !xtc_netdev_with_ffff(&with_ffff, &n_ffff);
	if (know_ffff)
		qsort(with_ffff, (size_t)n_ffff, sizeof(*with_ffff), cmp_u32);

	xtc_out_list_begin(o, "interfaces", NULL);
	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		char now[IF_NAMESIZE] = "";
		bool present;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &c))
			continue;
		c.name[sizeof(c.name) - 1] = 0;
		present = if_indextoname(key, now) && !strcmp(now, c.name);
		xtc_out_obj_begin(o, NULL);
		xtc_out_str(o, "interface", c.name);
		xtc_out_id(o, "ifindex", key);
		xtc_out_bool(o, "present", present);
		if (!present)
			add_problem(ps, "interface_missing", c.name, now[0] ?
				    "%s: ifindex %u is now called %s: the interface xtc managed is "
				    "gone; run xtc apply" : "%s: the interface (ifindex %u) is gone%s; "
				    "run xtc apply, or remove it from the file and apply", c.name, key,
				    now);
		xtc_out_gauge(o, "rule_count", rules_on(rc, key));
		print_xdp(o, c.name, key, &c, present, ps);
		tcx |= print_tc(o, st, c.name, key, &c, present,
				know_ffff && !in_sorted(with_ffff, n_ffff, key), ps);
		xtc_out_obj_end(o);
	}
	xtc_out_list_end(o);
	free(with_ffff);
	return tcx;
}

static void note_pins(const struct xtc_state *st, const struct xtc_observed *ob,
		      struct problems *ps)
{
	int pin;

	if (st->unsafe)
		add_problem(ps, "state_dir_unsafe", NULL, "%s", st->unsafe_why);
	for (pin = 0; pin < XTC_PIN_COUNT; pin++) {
		if (st->foreign & (1U << pin))
			add_problem(ps, "pin_foreign", NULL, "%s/%s was made by another version of xtc "
				    "(its layout differs): run xtc apply, which moves it to this "
				    "version's layout and carries its counters over",
				    st->dir, xtc_state_pin_name(pin));
		else if (st->missing & (1U << pin))
			add_problem(ps, "pin_missing", NULL, "%s/%s is gone (removed by hand?): run "
				    "xtc apply, which %s", st->dir, xtc_state_pin_name(pin),
				    ob->recover_from[pin] ? "takes it back from the running programs" :
				    "makes it anew");
	}
}

/* The daemon that manages this state, when one runs. */
static void print_daemon(struct xtc_out *o, const struct xtc_state *st)
{
	struct xtc_daemon_info d;
	int i;

	if (xtc_daemon_query(st->dir, &d))
		return;
	xtc_out_obj_begin(o, "daemon");
	xtc_out_id(o, "pid", (__u64)d.pid);
	xtc_out_gauge(o, "started_timestamp_seconds", d.started);
	if (d.last_reload) {
		xtc_out_gauge(o, "last_reload_timestamp_seconds", d.last_reload);
		xtc_out_bool(o, "last_reload_ok", d.last_reload_ok);
	}
	xtc_out_u64(o, "reconciles", d.reconciles);
	xtc_out_u64(o, "repairs", d.repairs);
	xtc_out_u64(o, "failures", d.failures);
	xtc_out_obj_begin(o, "events");
	for (i = 0; i < XTC_NL_N; i++)
		xtc_out_u64(o, xtc_nl_event_names[i], d.events[i]);
	xtc_out_obj_end(o);
	if (d.last_error[0])
		xtc_out_str(o, "last_error", d.last_error);
	xtc_out_obj_end(o);
}

/* What observe found in the kernel that no record explains. */
static void note_kernel(const struct xtc_observed *ob, struct problems *ps)
{
	int i, k, h;

	if (ob->iface_idx_stale)
		add_problem(ps, "iface_index_stale", NULL, "%s/maps/xtc_iface_idx: %zu element(s) "
			    "disagree with the interface records, so TC may act on old settings "
			    "there; run xtc apply, which writes them again", ob->st->dir,
			    ob->iface_idx_stale);
	for (i = 0; i < ob->n_ifs; i++) {
		const struct xtc_obs_iface *oi = &ob->ifs[i];

		for (k = 0; k < oi->xdp.n_ours; k++) {
			if (oi->xdp.stale[k])
				add_problem(ps, "program_stale", oi->name, "%s: xtc's XDP program %u "
					    "runs on maps that are no longer pinned; run xtc apply to "
					    "replace it", oi->name, oi->xdp.ids[k]);
			else if (!oi->recorded || oi->rec.xdp_prog_id != oi->xdp.ids[k])
				add_problem(ps, "program_unrecorded", oi->name, "%s: xtc's XDP "
					    "program %u is attached but not recorded (an earlier run "
					    "stopped half way?); run xtc apply, which adopts or removes "
					    "it", oi->name, oi->xdp.ids[k]);
		}
		if (oi->recorded && (oi->rec.flags & XTC_IF_XDP) && oi->xdp.foreign_id)
			add_problem(ps, "xdp_replaced", oi->name, "%s: XDP now runs %s (id %u), "
				    "which is not xtc's; remove it (xdp-loader unload) and run xtc "
				    "apply", oi->name, oi->xdp.foreign_name, oi->xdp.foreign_id);
		for (h = 0; h < 2; h++) {
			const struct xtc_obs_tc *t = &oi->tc[h];

			/* A foreign holder of our slot is named where the hook is listed. */
			if (t->kind != XTC_TC_KIND_NONE && !oi->recorded)
				add_problem(ps, "program_unrecorded", oi->name, "%s: xtc's TC %s "
					    "program %u is attached but not recorded; run xtc apply, "
					    "which adopts or removes it", oi->name,
					    h ? "egress" : "ingress", t->prog_id);
		}
	}
}

int cmd_status(const struct xtc_opts *opts)
{
	struct xtc_rule_info *info = NULL;
	struct rule_counts counts;
	struct problems ps = {};
	struct xtc_mask_list live;
	struct xtc_observed ob = {};
	struct xtc_state st;
	struct xtc_out *o;
	__u64 applied_at;
	__u32 n_info = 0;
	bool tcx = false;
	int err, rc;

	err = xtc_open_any(opts, &st);
	if (err) {
		xtc_state_close(&st);
		return xtc_read_exit(err);
	}
	o = xtc_out_new(opts->json ? XTC_OUT_JSON : XTC_OUT_TEXT);
	if (!o) {
		xtc_state_close(&st);
		return XTC_EXIT_RUNTIME;
	}
	xtc_out_str(o, "state", st.dir);
	xtc_out_bool(o, "loaded", st.exists);
	if (!st.exists && !st.partial && !st.unsafe)
		add_problem(&ps, "not_loaded", NULL, "xtc is not loaded: no state under %s (run "
			    "xtc apply)", st.dir);
	if (!xtc_observe(&st, false, &ob)) {
		note_pins(&st, &ob, &ps);
		note_kernel(&ob, &ps);
	}
	xtc_observed_free(&ob);
	applied_at = xtc_tables_applied_at(&st.maps);
	if (applied_at)
		xtc_out_gauge(o, "last_apply_timestamp_seconds", applied_at);
	print_daemon(o, &st);
	xtc_out_obj_begin(o, "kernel");
	xtc_out_bool(o, "xdp_dispatcher_usable", xtc_xdp_dispatcher_usable());
	xtc_out_bool(o, "tcx_available", xtc_tc_tcx_available());
	xtc_out_obj_end(o);
	if (st.maps.fd[XTC_MAP_RULE_INFO] >= 0)
		xtc_read_rule_info(&st.maps, &info, &n_info);
	count_rules(info, n_info, &counts);
	xtc_out_gauge(o, "rule_count", counts.total);
	if (st.exists && !xtc_tables_live_masks(&st.maps, &live))
		xtc_out_gauge(o, "match_shapes", live.count);
	tcx = print_ifaces(o, &st, &counts, &ps);
	free(counts.own);
	xtc_out_gauge(o, "problem_count", ps.n);
	print_problems(o, &ps);
	if (xtc_out_fmt(o) == XTC_OUT_TEXT && tcx)
		printf("# TCX attachments show in `bpftool link`, not in `tc filter show` nor in "
		       "bpftool 7.1's `bpftool net`.\n");
	xtc_out_free(o);
	rc = ps.n ? XTC_EXIT_DIFF : XTC_EXIT_OK;
	free(ps.p);
	free(info);
	xtc_state_close(&st);
	return rc;
}
