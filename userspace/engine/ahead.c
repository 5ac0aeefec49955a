// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include "ahead.h"
#include "log.h"

bool xtc_ahead_useful(const struct xtc_state *st)
{
	return xtc_maps_none(&st->maps) && xtc_maps_none(&st->old);
}

static void *load(void *arg)
{
	struct xtc_ahead *a = arg;

	/* A failure here is apply's to report, when it loads them again itself. */
	xtc_log_quiet_thread();
	a->err = xtc_objs_load(&a->o, &a->oo);
	return NULL;
}

void xtc_ahead_start(struct xtc_ahead *a, const struct xtc_objs_opts *oo)
{
	xtc_ahead_free(a);
	a->oo = *oo;
	a->oo.reuse = NULL;
	a->started = !pthread_create(&a->th, NULL, load, a);
}

static void wait_for(struct xtc_ahead *a)
{
	if (!a->started)
		return;
	pthread_join(a->th, NULL);
	a->started = false;
	if (a->err)
		memset(&a->o, 0, sizeof(a->o));
	else
		a->err = a->o.tc ? 0 : -ENOENT;
}

int xtc_ahead_take(struct xtc_ahead *a, const struct xtc_objs_opts *oo, struct xtc_objs *o)
{
	bool same;

	if (!a || (!a->started && !a->o.tc))
		return -ENOENT;
	wait_for(a);
	/* The rules hash was sized before the compile merged or cut: room enough, not twice. */
	same = !a->err && a->o.tc && oo->max_rules == a->oo.max_rules &&
	       a->oo.max_entries >= oo->max_entries && a->oo.max_entries / 2 <= oo->max_entries &&
	       oo->malformed_action == a->oo.malformed_action &&
	       oo->xdp_no_handoff == a->oo.xdp_no_handoff && oo->xdp_slot == a->oo.xdp_slot &&
	       xtc_maps_none(oo->reuse);
	if (!same) {
		pr_debug("state: the objects loaded ahead do not fit (%s); loading again\n",
			 a->err ? strerror(-a->err) : "other sizes");
		xtc_ahead_free(a);
		return -ENOENT;
	}
	pr_debug("state: the objects were loaded while the rules compiled\n");
	*o = a->o;
	memset(&a->o, 0, sizeof(a->o));
	return 0;
}

void xtc_ahead_free(struct xtc_ahead *a)
{
	if (!a)
		return;
	wait_for(a);
	if (a->o.tc)
		xtc_objs_destroy(&a->o);
	memset(a, 0, sizeof(*a));
}
