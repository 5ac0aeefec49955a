// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The plan on made-up observations, without root: every case builds an
 * observed state (healthy, each kind of damage, half-applied), plans against
 * a wanted one and checks the steps.  Prints "ok NAME" or "FAIL NAME: why"
 * per case and exits 1 on any failure.  tests/unit/test_plan.py runs it as
 * an unprivileged user, so a plan that made a bpf() call would fail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"

static int failures;

#define CHECK(cond)								\
	do {									\
		if (!(cond)) {							\
			printf("FAIL %s: %s (line %d)\n", name, #cond, __LINE__);	\
			failures++;						\
			goto out;						\
		}								\
	} while (0)

static struct xtc_state st = { .dir = "/sys/fs/bpf/xtc", .exists = true };

/* Two interfaces: a (ifindex 2) with XDP and TC ingress, b (3) with TC egress. */
static const struct xtc_iface_want want2[] = {
	{ .name = "a", .ifindex = 2, .xdp = true, .xdp_mode = XTC_XDP_SKB, .xdp_prio = 30,
	  .tc = { true, false } },
	{ .name = "b", .ifindex = 3, .tc = { false, true } },
};

#define SLOT(n) ((__u32)(n) << XTC_IF_SLOT_SHIFT)

static void healthy(struct xtc_observed *ob, struct xtc_obs_iface ifs[2])
{
	memset(ob, 0, sizeof(*ob));
	memset(ifs, 0, 2 * sizeof(*ifs));
	ob->st = &st;
	ob->tcx = true;
	ob->marked = true;
	ob->gen = 100;
	ob->tc_prog_ids[0] = 11;
	ob->tc_prog_ids[1] = 12;
	ob->ifs = ifs;
	ob->n_ifs = 2;
	ifs[0] = (struct xtc_obs_iface){
		.ifindex = 2, .name = "a", .recorded = true, .present = true,
		.rec = { .flags = XTC_IF_XDP | XTC_IF_XDP_SINGLE | XTC_IF_TC_INGRESS |
				  SLOT(1),
			 .xdp_prog_id = 21, .xdp_prio = 30, .xdp_mode = XTC_XDP_SKB,
			 .tc_kind = XTC_TC_KIND_TCX, .name = "a" },
		.xdp = { .n_ours = 1, .ids = { 21 }, .mode = XTC_XDP_SKB, .slot = { 1 } },
		.tc = { { .kind = XTC_TC_KIND_TCX, .prog_id = 11 } },
	};
	ifs[1] = (struct xtc_obs_iface){
		.ifindex = 3, .name = "b", .recorded = true, .present = true,
		.rec = { .flags = XTC_IF_TC_EGRESS | SLOT(2), .tc_kind = XTC_TC_KIND_TCX,
			 .name = "b" },
		.tc = { {}, { .kind = XTC_TC_KIND_TCX, .prog_id = 12 } },
	};
}

static int plan(const struct xtc_observed *ob, const struct xtc_iface_want *w, int n,
		enum xtc_tc_attach tc, struct xtc_plan *p)
{
	struct xtc_observed copy = *ob;
	struct xtc_obs_iface ifs[8];
	int err;

	memcpy(ifs, ob->ifs, ob->n_ifs * sizeof(*ifs));
	memset(p, 0, sizeof(*p));
	err = xtc_plan_build(w, n, tc, ob, p);
	/* Pure: the observation is as it was. */
	if (memcmp(&copy, ob, sizeof(copy)) || memcmp(ifs, ob->ifs, ob->n_ifs * sizeof(*ifs))) {
		printf("FAIL plan wrote to its input\n");
		failures++;
	}
	return err;
}

static const struct xtc_iface_plan *iface(const struct xtc_plan *p, __u32 ifindex)
{
	int i;

	for (i = 0; i < p->n_ifs; i++)
		if (p->ifs[i].ifindex == ifindex)
			return &p->ifs[i];
	return NULL;
}

static bool says(const struct xtc_plan *p, const char *text)
{
	size_t i;

	for (i = 0; i < p->changes.n; i++)
		if ((p->changes.c[i].detail && strstr(p->changes.c[i].detail, text)) ||
		    (p->changes.c[i].name && strstr(p->changes.c[i].name, text)))
			return true;
	return false;
}

static void case_healthy(void)
{
	const char *name = "healthy: nothing to do";
	struct xtc_obs_iface ifs[2];
	struct xtc_observed ob;
	struct xtc_plan p;

	healthy(&ob, ifs);
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(xtc_plan_empty(&p));
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_fresh(void)
{
	const char *name = "no state: load, pin, attach everything";
	struct xtc_observed ob = { .st = &st, .tcx = true, .missing = (1U << XTC_PIN_COUNT) - 1 };
	struct xtc_obs_iface ifs[2] = {
		{ .ifindex = 2, .name = "a", .present = true },
		{ .ifindex = 3, .name = "b", .present = true },
	};
	struct xtc_plan p;

	ob.ifs = ifs;
	ob.n_ifs = 2;
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(p.state.fresh && p.state.stamp && !p.state.repin);
	CHECK(iface(&p, 2)->xdp_on && iface(&p, 2)->tc_on[0] && !iface(&p, 2)->tc_on[1]);
	CHECK(iface(&p, 3)->tc_on[1] && !iface(&p, 3)->xdp_on);
	CHECK(iface(&p, 2)->want.tc_kind == XTC_TC_KIND_TCX);
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_pins(void)
{
	const char *name = "pins deleted: taken back from live programs, or made anew";
	struct xtc_obs_iface ifs[2];
	struct xtc_observed ob;
	struct xtc_plan p;

	healthy(&ob, ifs);
	ob.missing = (1U << XTC_MAP_RULES) | (1U << XTC_MAP_RULE_INFO) | (1U << XTC_PIN_TC_INGRESS);
	ob.recover_from[XTC_MAP_RULES] = 11;
	ob.recover_from[XTC_PIN_TC_INGRESS] = 11;
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(p.state.repin == ((1U << XTC_MAP_RULES) | (1U << XTC_PIN_TC_INGRESS)));
	CHECK(p.state.create == (1U << XTC_MAP_RULE_INFO) && !p.state.fresh);
	CHECK(p.state.recover_from[XTC_MAP_RULES] == 11);
	/* Nothing attached is touched. */
	CHECK(xtc_iface_plan_empty(iface(&p, 2)) && xtc_iface_plan_empty(iface(&p, 3)));
	CHECK(says(&p, "taken from program 11") && says(&p, "made anew"));
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_unrecorded_xdp(void)
{
	const char *name = "killed after the XDP attach: the program is adopted, not attached again";
	struct xtc_obs_iface ifs[2];
	struct xtc_observed ob;
	struct xtc_plan p;

	healthy(&ob, ifs);
	ifs[0].rec.flags &= ~(XTC_IF_XDP | XTC_IF_XDP_SINGLE);
	ifs[0].rec.xdp_prog_id = 0;
	ifs[0].xdp.ids[0] = 77;
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(!iface(&p, 2)->xdp_on && !iface(&p, 2)->n_xdp_off);
	CHECK(iface(&p, 2)->write_entry && iface(&p, 2)->want.xdp_prog_id == 77);
	CHECK((iface(&p, 2)->want.flags & XTC_IF_XDP) && !xtc_plan_empty(&p));
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_unrecorded_iface(void)
{
	const char *name = "killed before the first record: programs on an unrecorded interface go";
	struct xtc_obs_iface ifs[3];
	struct xtc_observed ob;
	struct xtc_plan p;

	healthy(&ob, ifs);
	ifs[2] = (struct xtc_obs_iface){ .ifindex = 9, .name = "c", .present = true,
		.xdp = { .n_ours = 1, .ids = { 55 }, .mode = XTC_XDP_SKB } };
	ob.n_ifs = 3;
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(iface(&p, 9) && iface(&p, 9)->n_xdp_off == 1 && iface(&p, 9)->xdp_off[0] == 55);
	CHECK(!iface(&p, 9)->keep && !iface(&p, 9)->had);
	CHECK(says(&p, "not recorded"));
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_stale_and_doubles(void)
{
	const char *name = "a stale XDP program is swapped in place; a second instance is detached";
	struct xtc_obs_iface ifs[2];
	struct xtc_observed ob;
	struct xtc_plan p;

	healthy(&ob, ifs);
	ifs[0].xdp.stale[0] = true;
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	/* Alone on the hook (no dispatcher): swapped in one step, XDP_FLAGS_REPLACE. */
	CHECK(iface(&p, 2)->xdp_on && iface(&p, 2)->xdp_replace == 21 &&
	      !iface(&p, 2)->n_xdp_off && !iface(&p, 2)->xdp_first);
	CHECK(!p.changes.c[0].disruptive && says(&p, "replace program 21 in place"));
	xtc_plan_free(&p);

	/* Killed between the two halves of a dispatcher swap: two of ours. */
	healthy(&ob, ifs);
	ifs[0].xdp = (struct xtc_obs_xdp){ .n_ours = 2, .ids = { 21, 22 }, .prio = { 40, 30 },
					   .slot = { 1, 1 }, .dispatcher = true,
					   .mode = XTC_XDP_SKB };
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(!iface(&p, 2)->xdp_on && iface(&p, 2)->n_xdp_off == 1 &&
	      iface(&p, 2)->xdp_off[0] == 21 && iface(&p, 2)->want.xdp_prog_id == 22);
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_dispatcher_priority(void)
{
	const char *name = "a priority change under the dispatcher attaches first, then detaches";
	struct xtc_iface_want w[2];
	struct xtc_obs_iface ifs[2];
	struct xtc_observed ob;
	struct xtc_plan p;

	healthy(&ob, ifs);
	ifs[0].xdp.dispatcher = true;
	ifs[0].xdp.n_progs = 3;
	ifs[0].xdp.prio[0] = 30;
	memcpy(w, want2, sizeof(w));
	w[0].xdp_prio = 40;
	CHECK(!plan(&ob, w, 2, XTC_TC_AUTO, &p));
	CHECK(iface(&p, 2)->xdp_on && iface(&p, 2)->xdp_first && iface(&p, 2)->n_xdp_off == 1);
	CHECK(!p.changes.c[0].disruptive);
	xtc_plan_free(&p);

	/* A full dispatcher has no room for a second instance: out, then in. */
	ifs[0].xdp.n_progs = XTC_XDP_MAX_PROGS;
	CHECK(!plan(&ob, w, 2, XTC_TC_AUTO, &p));
	CHECK(iface(&p, 2)->xdp_on && !iface(&p, 2)->xdp_first && p.changes.c[0].disruptive);
	xtc_plan_free(&p);

	/* Without the dispatcher the priority orders nothing: only the record changes. */
	ifs[0].xdp.dispatcher = false;
	CHECK(!plan(&ob, w, 2, XTC_TC_AUTO, &p));
	CHECK(!iface(&p, 2)->xdp_on && !iface(&p, 2)->n_xdp_off && iface(&p, 2)->write_entry);
	CHECK(says(&p, "nothing re-attached"));
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_tc_swap(void)
{
	const char *name = "a stale TC program of ours is swapped in place, never removed first";
	struct xtc_obs_iface ifs[2];
	struct xtc_observed ob;
	struct xtc_plan p;

	healthy(&ob, ifs);
	ifs[0].tc[0].stale = true;
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(iface(&p, 2)->tc_on[0] && iface(&p, 2)->tc_swap[0] &&
	      iface(&p, 2)->tc_off_id[0] == 11);
	CHECK(says(&p, "replace program 11 in place"));
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_tc_damage(void)
{
	const char *name = "a TC link detached or a clsact deleted by hand is attached again";
	struct xtc_obs_iface ifs[2];
	struct xtc_observed ob;
	struct xtc_plan p;

	healthy(&ob, ifs);
	ifs[1].tc[1] = (struct xtc_obs_tc){};
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(iface(&p, 3)->tc_on[1] && !iface(&p, 3)->tc_off[1]);
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_foreign_slot(void)
{
	const char *name = "a foreign filter in our cls_bpf slot is refused, named with its id";
	struct xtc_obs_iface ifs[2];
	struct xtc_observed ob;
	struct xtc_plan p;

	healthy(&ob, ifs);
	ifs[0].tc[0] = (struct xtc_obs_tc){ .foreign = true, .foreign_id = 444,
		.foreign_name = "a bpf filter running program 'their_prog' (id 444)",
		.prio = 0x7874, .handle = 0x7874 };
	CHECK(plan(&ob, want2, 2, XTC_TC_CLS_BPF, &p) == -EBUSY);
	CHECK(strstr(p.refusal, "their_prog") && strstr(p.refusal, "444") &&
	      strstr(p.refusal, "a: TC ingress"));
	xtc_plan_free(&p);

	/* With another tc_prio, ours goes beside it. */
	{
		struct xtc_iface_want w[2];

		memcpy(w, want2, sizeof(w));
		w[0].tc_prio = 100;
		ifs[0].tc[0].kind = XTC_TC_KIND_NONE;
		CHECK(!plan(&ob, w, 2, XTC_TC_CLS_BPF, &p));
		CHECK(iface(&p, 2)->tc_on[0] && iface(&p, 2)->want.tc_prio == 100);
	}
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_gone_and_unload(void)
{
	const char *name = "a gone interface is forgotten; unload takes what is found";
	struct xtc_obs_iface ifs[2];
	struct xtc_observed ob;
	struct xtc_plan p;

	healthy(&ob, ifs);
	ifs[1].present = false;
	CHECK(!plan(&ob, want2, 1, XTC_TC_AUTO, &p));
	CHECK(iface(&p, 3)->had && !iface(&p, 3)->keep && iface(&p, 3)->gone);
	CHECK(!iface(&p, 3)->tc_off[1]);	/* nothing to detach from a gone interface */
	xtc_plan_free(&p);

	healthy(&ob, ifs);
	ifs[0].recorded = false;	/* the record was lost */
	memset(&p, 0, sizeof(p));
	p.state_as_is = true;
	CHECK(!xtc_plan_build(NULL, 0, XTC_TC_AUTO, &ob, &p));
	CHECK(iface(&p, 2)->n_xdp_off == 1 && iface(&p, 2)->tc_off[0]);
	CHECK(iface(&p, 3)->tc_off[1] && xtc_state_plan_empty(&p.state));
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_layout(void)
{
	const char *name = "maps of another layout: made anew, programs swapped in place";
	const __u32 old = (1U << XTC_MAP_RULE_STATS) | (1U << XTC_MAP_IFACE_STATS);
	struct xtc_state st2 = st;
	struct xtc_obs_iface ifs[2];
	struct xtc_observed ob;
	struct xtc_plan p;

	healthy(&ob, ifs);
	st2.foreign = old;
	ob.st = &st2;
	ob.missing = old;
	ob.incompatible = true;
	/* Even if a live program holds the old map, it is not taken back. */
	ob.recover_from[XTC_MAP_RULE_STATS] = 11;
	/* Observe marks every program of ours stale when the layout changes. */
	ifs[0].xdp.stale[0] = true;
	ifs[0].tc[0].stale = true;
	ifs[1].tc[1].stale = true;
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(p.state.migrate == old && !p.state.repin && !p.state.fresh && !p.state.reload_progs);
	CHECK(p.state.create == (old | (1U << XTC_PIN_TC_INGRESS) | (1U << XTC_PIN_TC_EGRESS)));
	CHECK(iface(&p, 2)->xdp_replace == 21 && !iface(&p, 2)->n_xdp_off);
	CHECK(iface(&p, 2)->tc_swap[0] && iface(&p, 3)->tc_swap[1]);
	CHECK(says(&p, "counters carry over by rule name"));
	CHECK(says(&p, "another layout: made anew"));
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

static void case_slots(void)
{
	const char *name = "counter slots: kept, taken back from XDP, never shared, new ones zeroed";
	struct xtc_iface_want want3[3] = { want2[0], want2[1],
		{ .name = "c", .ifindex = 9, .tc = { true, false } } };
	struct xtc_obs_iface ifs[4];
	struct xtc_observed ob;
	struct xtc_plan p;

	/* A fresh state: slots from 1, each zeroed before use. */
	healthy(&ob, ifs);
	ob.n_ifs = 0;
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(XTC_IF_SLOT(iface(&p, 2)->want.flags) == 1 && iface(&p, 2)->zero_slot);
	CHECK(XTC_IF_SLOT(iface(&p, 3)->want.flags) == 2 && iface(&p, 3)->zero_slot);
	xtc_plan_free(&p);

	/* Record lost: the slot comes back from the XDP program, which stays; nothing zeroed. */
	healthy(&ob, ifs);
	ifs[0].recorded = false;
	ifs[0].xdp.slot[0] = 7;
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(XTC_IF_SLOT(iface(&p, 2)->want.flags) == 7 && !iface(&p, 2)->zero_slot);
	CHECK(!iface(&p, 2)->xdp_on && iface(&p, 2)->write_entry);
	xtc_plan_free(&p);

	/* An XDP instance counting elsewhere than the record says is replaced. */
	healthy(&ob, ifs);
	ifs[0].xdp.slot[0] = 3;
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(iface(&p, 2)->xdp_on && XTC_IF_SLOT(iface(&p, 2)->want.flags) == 1);
	CHECK(!iface(&p, 2)->zero_slot);
	xtc_plan_free(&p);

	/* An older build says no slot: replaced too. */
	healthy(&ob, ifs);
	ifs[0].xdp.slot[0] = XTC_OBS_SLOT_UNKNOWN;
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(iface(&p, 2)->xdp_on);
	xtc_plan_free(&p);

	/* Two records name one slot: the second interface gets a new one. */
	healthy(&ob, ifs);
	ifs[1].rec.flags = (ifs[1].rec.flags & ~SLOT(0xffff)) | SLOT(1);
	CHECK(!plan(&ob, want2, 2, XTC_TC_AUTO, &p));
	CHECK(XTC_IF_SLOT(iface(&p, 2)->want.flags) == 1 && !iface(&p, 2)->zero_slot);
	CHECK(XTC_IF_SLOT(iface(&p, 3)->want.flags) == 2 && iface(&p, 3)->zero_slot);
	CHECK(iface(&p, 3)->write_entry);
	xtc_plan_free(&p);

	/* A newcomer does not take the slot of an interface that leaves in the same apply. */
	healthy(&ob, ifs);
	CHECK(!plan(&ob, &want3[1], 2, XTC_TC_AUTO, &p));
	CHECK(!iface(&p, 2)->keep && XTC_IF_SLOT(iface(&p, 9)->want.flags) == 3);
	CHECK(iface(&p, 9)->zero_slot && XTC_IF_SLOT(iface(&p, 3)->want.flags) == 2);
	printf("ok %s\n", name);
out:
	xtc_plan_free(&p);
}

int main(void)
{
	case_healthy();
	case_fresh();
	case_pins();
	case_unrecorded_xdp();
	case_unrecorded_iface();
	case_stale_and_doubles();
	case_dispatcher_priority();
	case_tc_damage();
	case_tc_swap();
	case_foreign_slot();
	case_gone_and_unload();
	case_layout();
	case_slots();
	return failures ? 1 : 0;
}
