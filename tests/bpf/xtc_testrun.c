// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc-testrun: runs packets through the real XDP and TC objects with
 * BPF_PROG_TEST_RUN, after loading a config's rules exactly as the loader
 * compiles them.  One JSON line per packet: return code, metadata written
 * by XDP, and the counters that moved.
 *
 *   xtc-testrun [--repeat N] CONFIG PACKETS
 *   PACKETS: lines of "xdp|tc_ingress|tc_egress IFINDEX HEXBYTES", or "!command"
 *
 * A hook written "xdp+explain" (likewise for TC) runs the packet as xtc
 * explain does: with an xtc_explain block as XDP metadata or in cb.  The
 * answer is printed as "explain", and the counters must not move.  "+stray" puts the same block
 * there with a wrong second word, as stray bytes of another layer might:
 * the program must treat the packet as live traffic.
 *
 * "%iface IFINDEX FLAGS" writes the interface record the datapath reads
 * (XTC_IF_* flags) and TC's copy in xtc_iface_idx, as apply does once XDP
 * is attached; "%iface IFINDEX FLAGS hash" leaves the copy out, so that TC
 * reads the record from the hash.  With
 * XTC_TESTRUN_NO_HANDOFF=1 in the environment the XDP build without the TC
 * handoff is loaded instead.
 *
 * Every packet runs twice on one CPU: the first run fills the verdict cache
 * (include/xtc_vcache.bpf.h), the second is answered from it.  The result is
 * the first run's; "cache_diff": true says the second differed in verdict,
 * output, explain answer or counters moved.
 *
 * "%vcache HOOK" prints how many slots of the verdict cache (one for every
 * hook) on this CPU hold a verdict of the live generation; "%vcache HOOK
 * drop" also turns those verdicts into drops, so that a test can tell a
 * cached answer from a searched one.  "%single" stops running packets a
 * second time, from there on: a flood of new flows is then one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "config.h"
#include "ipmap.h"
#include "log.h"
#include "iface_idx.h"
#include "objs.h"
#include "rule_table.h"
#include "tables.h"
#include "tss.h"

#define MAX_PKT 9000

static const char *const hook_names[XTC_HOOK_MAX] = { "xdp", "tc_ingress", "tc_egress" };
static const char *const iface_fields[] = { "seen", "parse_errors", "no_match",
	"handoffs_sent", "handoffs_received", "redirects_ok", "redirects_failed", "dropped" };

struct counters {
	struct xtc_rule_stats *rules;	/* summed over CPUs, per rule */
	__u64 iface[sizeof(struct xtc_iface_stats) / sizeof(__u64)];
};

static int ncpus;
static int cache_diff;	/* the cached run of the packet just printed differed */
static int single;	/* "%single": no second run */

enum { EXPLAIN_NONE, EXPLAIN_ON, EXPLAIN_STRAY };

static void read_counters(const struct xtc_maps *m, const struct xtc_model *model,
			  __u32 ifindex, int hook, struct counters *c)
{
	struct xtc_rule_stats *rs = calloc(ncpus, sizeof(*rs));
	struct xtc_iface_stats *is = calloc(ncpus, sizeof(*is));
	struct xtc_iface_cfg rec = {};
	__u32 key;
	int r, cpu;
	size_t f;

	memset(c->iface, 0, sizeof(c->iface));
	for (r = 0; r < model->n_rules; r++) {
		__u32 id = model->rules[r].id;

		c->rules[r].packets = c->rules[r].bytes = 0;
		if (bpf_map_lookup_elem(m->fd[XTC_MAP_RULE_STATS], &id, rs))
			continue;
		for (cpu = 0; cpu < ncpus; cpu++) {
			c->rules[r].packets += rs[cpu].packets;
			c->rules[r].bytes += rs[cpu].bytes;
		}
	}
	/* TC counts in the slot the record names; this XDP instance was loaded with slot 0. */
	if (hook != XTC_HOOK_XDP)
		bpf_map_lookup_elem(m->fd[XTC_MAP_IFACES], &ifindex, &rec);
	key = XTC_IFACE_STATS_KEY(XTC_IF_SLOT(rec.flags), hook);
	if (!bpf_map_lookup_elem(m->fd[XTC_MAP_IFACE_STATS], &key, is))
		for (cpu = 0; cpu < ncpus; cpu++)
			for (f = 0; f < sizeof(c->iface) / sizeof(__u64); f++)
				c->iface[f] += ((__u64 *)&is[cpu])[f];
	free(rs);
	free(is);
}

static int hex_decode(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = 0;
	unsigned int b;

	while (hex[0] && hex[1] && hex[0] != '\n') {
		if (n >= cap || sscanf(hex, "%2x", &b) != 1)
			return -EINVAL;
		out[n++] = b;
		hex += 2;
	}
	return n;
}

static int run_one(const struct xtc_objs *o, int hook, __u32 ifindex, const unsigned char *pkt,
		   int len, int repeat, int explain, __u32 *retval, unsigned char *out,
		   __u32 *out_len, __u32 *meta_len, __u32 *duration, struct xtc_explain *ex)
{
	static unsigned char in[sizeof(struct xtc_explain) + MAX_PKT];
	const struct xtc_explain req = {
		.magic = XTC_EXPLAIN_MAGIC,
		.check = explain == EXPLAIN_STRAY ? ~XTC_EXPLAIN_CHECK : XTC_EXPLAIN_CHECK,
	};
	__u32 pre = explain && hook == XTC_HOOK_XDP ? sizeof(req) : 0;
	struct xdp_md xctx = { .data = pre, .data_end = pre + len, .ingress_ifindex = ifindex };
	struct __sk_buff sctx = { .ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = pre + len,
		.data_out = out,
		.data_size_out = MAX_PKT + 64,
		.repeat = repeat,
	);
	int err;

	memcpy(in, &req, pre);
	memcpy(in + pre, pkt, len);
	if (hook == XTC_HOOK_XDP) {
		opts.ctx_in = &xctx;
		opts.ctx_size_in = sizeof(xctx);
		opts.ctx_out = &xctx;
		opts.ctx_size_out = sizeof(xctx);
	} else {
		if (explain)
			memcpy(sctx.cb, &req, sizeof(req));
		opts.ctx_in = &sctx;
		opts.ctx_size_in = sizeof(sctx);
		opts.ctx_out = &sctx;
		opts.ctx_size_out = sizeof(sctx);
	}
	err = bpf_prog_test_run_opts(xtc_objs_prog_fd(o, hook), &opts);
	if (err)
		return -errno;
	*retval = opts.retval;
	*out_len = opts.data_size_out;
	*meta_len = hook == XTC_HOOK_XDP ? xctx.data : 0;
	*duration = opts.duration;
	if (hook == XTC_HOOK_XDP && explain && *meta_len >= sizeof(*ex))
		memcpy(ex, out + *meta_len - sizeof(*ex), sizeof(*ex));	/* right before the frame */
	else if (explain)
		memcpy(ex, sctx.cb, sizeof(*ex));
	return 0;
}

static void print_explain(const struct xtc_model *model, const struct xtc_explain *ex)
{
	const char *name = NULL;
	int r;

	for (r = 0; r < model->n_rules; r++)
		if (model->rules[r].id == ex->rule_id)
			name = model->rules[r].name;
	printf(", \"explain\": {\"magic\": %u, \"check\": %u, \"rule_id\": %u, \"rule\": ",
	       ex->magic, ex->check, ex->rule_id);
	if (name)
		printf("\"%s\"", name);
	else
		printf("null");
	printf(", \"target_ifindex\": %u, \"action\": %u, \"mode\": %u, \"event\": %u, "
	       "\"flags\": %u}", ex->target_ifindex, ex->action, ex->mode, ex->event, ex->flags);
}

static void print_result(const struct xtc_model *model, int hook, __u32 retval,
			 const unsigned char *out, __u32 meta_len, const struct counters *a,
			 const struct counters *b, __u32 duration, const struct xtc_explain *ex)
{
	int r, first = 1;
	size_t f;

	/* Explain: what the program wrote in front of the block it was given. */
	if (ex && hook == XTC_HOOK_XDP)
		meta_len = meta_len >= sizeof(*ex) ? meta_len - sizeof(*ex) : 0;
	printf("{\"hook\": \"%s\", \"retval\": %u, \"duration_ns\": %u, \"meta\": ",
	       hook_names[hook], retval, duration);
	if (meta_len >= sizeof(struct xtc_meta)) {
		const struct xtc_meta *mt = (const void *)(out + meta_len - sizeof(*mt));

		printf("{\"len\": %u, \"magic\": %u, \"version\": %u, \"action\": %u, \"mode\": %u, "
		       "\"rule_id\": %u, \"target_ifindex\": %u, \"origin_ifindex\": %u}",
		       meta_len, mt->magic, mt->version, mt->action, mt->mode, mt->rule_id,
		       mt->target_ifindex, mt->origin_ifindex);
	} else if (meta_len) {
		printf("{\"len\": %u}", meta_len);
	} else {
		printf("null");
	}
	printf(", \"rules\": {");
	for (r = 0; r < model->n_rules; r++) {
		__u64 dp = b->rules[r].packets - a->rules[r].packets;
		__u64 db = b->rules[r].bytes - a->rules[r].bytes;

		if (!dp && !db)
			continue;
		printf("%s\"%s\": [%llu, %llu]", first ? "" : ", ", model->rules[r].name,
		       (unsigned long long)dp, (unsigned long long)db);
		first = 0;
	}
	printf("}, \"iface\": {");
	first = 1;
	for (f = 0; f < sizeof(a->iface) / sizeof(__u64); f++) {
		__u64 d = b->iface[f] - a->iface[f];

		if (!d)
			continue;
		printf("%s\"%s\": %llu", first ? "" : ", ", iface_fields[f], (unsigned long long)d);
		first = 0;
	}
	printf("}");
	if (cache_diff)
		printf(", \"cache_diff\": true");
	if (ex)
		print_explain(model, ex);
	printf("}\n");
	fflush(stdout);
}

/* Ids by name: a rule the maps already know keeps its id, a new one takes a free id. */
static int assign_ids(struct xtc_model *model, const struct xtc_model *prev)
{
	unsigned char *taken = calloc(model->max_rules + 1, 1);
	__u32 next = 0;
	int r, q;

	if (!taken)
		return -ENOMEM;
	for (r = 0; r < model->n_rules; r++) {
		model->rules[r].id = (__u32)-1;
		for (q = 0; prev && q < prev->n_rules; q++)
			if (!strcmp(prev->rules[q].name, model->rules[r].name))
				model->rules[r].id = prev->rules[q].id;
		if (model->rules[r].id != (__u32)-1)
			taken[model->rules[r].id] = 1;
	}
	for (r = 0; r < model->n_rules; r++) {
		if (model->rules[r].id != (__u32)-1)
			continue;
		while (taken[next])
			next++;
		taken[next] = 1;
		model->rules[r].id = next;
	}
	free(taken);
	return 0;
}

/*
 * Writes the model's rules as apply does: from nothing (prev NULL), or over
 * prev's through observe -> plan -> write.  Then checks that the rules hash
 * holds exactly what compiling the whole model gives, and says so.
 */
static int load_rules(const struct xtc_objs *o, struct xtc_model *model,
		      const struct xtc_model *prev)
{
	struct xtc_ipmap_entry *ip = calloc(model->n_statics + 1, sizeof(*ip));
	struct xtc_tables_obs obs = {};
	struct xtc_tables_plan plan = {};
	struct xtc_rule_table want = {};
	struct xtc_tss t = {}, whole = {};
	bool full = false;
	size_t changes, i;
	int err, consistent = 1;

	if (!ip)
		return -ENOMEM;
	err = assign_ids(model, prev);
	if (!err && prev)
		err = xtc_tables_observe(&o->maps, &obs);
	if (!err)
		err = prev ? xtc_tss_compile(model->rules, model->n_rules, &obs.live, &t) :
			     xtc_tss_build(model->rules, model->n_rules, NULL, &t);
	if (err) {
		pr_warn("cannot compile the rules: %s\n", strerror(-err));
		goto out;
	}
	err = xtc_rule_table_want(model->rules, model->n_rules, obs.rules.n, &want);
	if (!err)
		err = xtc_tables_plan(&obs, model, &t, &want, &plan);
	if (err == -ESTALE) {
		full = true;
		err = xtc_tables_observe_entries(&o->maps, &obs);
		if (!err)
			err = xtc_tables_plan(&obs, model, &t, &want, &plan);
	}
	if (!err)
		err = xtc_tables_write(&o->maps, &plan, &obs, NULL);
	if (err)
		goto out;
	if (prev) {
		/* The whole model compiled on the list now live must be what the hash holds. */
		struct xtc_tables_obs now = {};

		err = xtc_tables_observe(&o->maps, &now);
		if (!err)
			err = xtc_tables_observe_entries(&o->maps, &now);
		if (!err)
			err = xtc_tss_build(model->rules, model->n_rules, &now.live, &whole);
		if (!err) {
			consistent = whole.n_entries == now.entries.n &&
				     whole.n_masks == (int)now.live.count;
			for (i = 0; i < whole.n_entries && consistent; i++) {
				const struct xtc_rule_val *v = entry_table_get(&now.entries,
									       &whole.entries[i].key);

				consistent = v && !memcmp(v, &whole.entries[i].val, sizeof(*v));
			}
			consistent = consistent && now.digests && now.digests[0].n == now.entries.n &&
				     !now.digests[0].flags;
		}
		xtc_tables_obs_free(&now);
		printf("{\"reload\": true, \"full\": %s, \"added\": %zu, \"changed\": %zu, "
		       "\"removed\": %zu, \"entries\": %zu, \"consistent\": %s}\n",
		       full ? "true" : "false", plan.diff.added, plan.diff.changed,
		       plan.diff.removed, plan.n_entries, consistent ? "true" : "false");
		fflush(stdout);
		if (err)
			goto out;
	}
	for (i = 0; i < (size_t)model->n_statics; i++) {
		ip[i].prefix = model->statics[i].prefix;
		ip[i].ifindex = model->statics[i].ifindex;
	}
	err = xtc_ipmap_sync(&o->maps, ip, model->n_statics, false, &changes);
out:
	xtc_tss_free(&whole);
	xtc_tables_plan_free(&plan);
	xtc_rule_table_free(&want);
	xtc_tables_obs_free(&obs);
	xtc_tss_free(&t);
	free(ip);
	return err;
}

/* Live-generation slots of this CPU's verdict cache; drop: make them drops. */
static int vcache_live(const struct xtc_objs *o, int drop)
{
	struct xtc_vcache_ent *v = calloc(ncpus, sizeof(*v));
	struct xtc_mask_list *live = malloc(sizeof(*live));
	int fd = o->maps.fd[XTC_MAP_VCACHE], cpu = sched_getcpu(), n = 0;
	__u32 k;

	if (!v || !live || xtc_tables_live_masks(&o->maps, live)) {
		n = -1;
		goto out;
	}
	for (k = 0; k < XTC_VCACHE_SLOTS; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		if (!v[cpu].state || v[cpu].gen != live->gen)
			continue;
		n++;
		if (!drop)
			continue;
		v[cpu].state = XTC_VC_HIT;
		v[cpu].val.action = XTC_ACT_DROP;
		bpf_map_update_elem(fd, &k, v, BPF_ANY);
	}
out:
	free(live);
	free(v);
	return n;
}

static int same_deltas(const struct xtc_model *model, const struct counters *a,
		       const struct counters *b, const struct counters *a2,
		       const struct counters *b2)
{
	size_t f;
	int r;

	for (r = 0; r < model->n_rules; r++)
		if (b->rules[r].packets - a->rules[r].packets !=
		    b2->rules[r].packets - a2->rules[r].packets ||
		    b->rules[r].bytes - a->rules[r].bytes != b2->rules[r].bytes - a2->rules[r].bytes)
			return 0;
	for (f = 0; f < sizeof(a->iface) / sizeof(__u64); f++)
		if (b->iface[f] - a->iface[f] != b2->iface[f] - a2->iface[f])
			return 0;
	return 1;
}

/* The packet again, now from the verdict cache: 1 when anything came out different. */
static int run_cached(const struct xtc_objs *o, const struct xtc_model *model, int hook,
		      __u32 ifindex, const unsigned char *pkt, int len, int explain, __u32 retval,
		      const unsigned char *out, __u32 out_len, __u32 meta_len,
		      const struct xtc_explain *ex, const struct counters *a,
		      const struct counters *b)
{
	static unsigned char out2[MAX_PKT + 64];
	struct counters a2 = {}, b2 = {};
	__u32 retval2 = 0, out_len2 = 0, meta_len2 = 0, duration = 0;
	struct xtc_explain ex2 = {};
	int diff = 1;

	a2.rules = calloc(model->n_rules + 1, sizeof(*a2.rules));
	b2.rules = calloc(model->n_rules + 1, sizeof(*b2.rules));
	if (!a2.rules || !b2.rules)
		goto out;
	read_counters(&o->maps, model, ifindex, hook, &a2);
	if (run_one(o, hook, ifindex, pkt, len, 1, explain, &retval2, out2, &out_len2, &meta_len2,
		    &duration, &ex2))
		goto out;
	read_counters(&o->maps, model, ifindex, hook, &b2);
	diff = retval2 != retval || out_len2 != out_len || meta_len2 != meta_len ||
	       memcmp(out2, out, out_len) || (explain && memcmp(&ex2, ex, sizeof(ex2))) ||
	       !same_deltas(model, a, b, &a2, &b2);
out:
	free(a2.rules);
	free(b2.rules);
	return diff;
}

int main(int argc, char **argv)
{
	static unsigned char pkt[MAX_PKT], out[MAX_PKT + 64];
	struct xtc_objs_opts oo = {};
	struct counters before = {}, after = {};
	struct xtc_model *model = NULL;
	struct xtc_diag diag = {};
	struct xtc_objs o = {};
	char line[2 * MAX_PKT + 64], hookname[32];
	int repeat = 1, argi = 1, err, rc = 1;
	FILE *f = NULL;

	xtc_log_set_level(getenv("XTC_DEBUG") ? XTC_LOG_DEBUG : XTC_LOG_INFO);
	xtc_log_init_libs();
	if (argc > 2 && !strcmp(argv[1], "--repeat")) {
		repeat = atoi(argv[2]);
		argi = 3;
	}
	if (argc - argi != 2) {
		fprintf(stderr, "usage: xtc-testrun [--repeat N] CONFIG PACKETS\n");
		return 2;
	}
	ncpus = libbpf_num_possible_cpus();
	/* One CPU: the verdict cache is per CPU, and the second run must find the first. */
	{
		cpu_set_t one;
		int cpu = sched_getcpu();

		CPU_ZERO(&one);
		CPU_SET(cpu < 0 ? 0 : cpu, &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
	err = xtc_config_load(argv[argi], &model, &diag);
	xtc_diag_print(&diag);
	xtc_diag_free(&diag);
	if (err)
		return 2;
	oo.max_rules = model->max_rules;
	/* As the loader sizes it: a cap on the (unpreallocated) rules hash. */
	oo.max_entries = model->max_rules * 4 > 65536 ? model->max_rules * 4 : 65536;
	oo.malformed_action = XTC_ACT_PASS;
	oo.xdp_no_handoff = getenv("XTC_TESTRUN_NO_HANDOFF") && *getenv("XTC_TESTRUN_NO_HANDOFF");
	err = xtc_objs_load(&o, &oo);
	if (err)
		goto out;
	err = load_rules(&o, model, NULL);
	if (err) {
		pr_warn("cannot write the rules: %s\n", strerror(-err));
		goto out;
	}
	before.rules = calloc(model->n_rules + 1, sizeof(*before.rules));
	after.rules = calloc(model->n_rules + 1, sizeof(*after.rules));
	f = fopen(argv[argi + 1], "r");
	if (!f || !before.rules || !after.rules) {
		pr_warn("%s: %s\n", argv[argi + 1], strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		__u32 ifindex, retval = 0, out_len = 0, meta_len = 0, duration = 0;
		struct xtc_explain ex = {};
		int hook, len, n, explain = EXPLAIN_NONE;
		char *hex, *plus;

		/* "@CONFIG" applies another config over the loaded one, as a re-apply does. */
		if (line[0] == '@') {
			struct xtc_model *next = NULL;

			line[strcspn(line, "\n")] = 0;
			err = xtc_config_load(line + 1, &next, &diag);
			xtc_diag_print(&diag);
			xtc_diag_free(&diag);
			if (!err)
				err = load_rules(&o, next, model);
			if (err) {
				pr_warn("%s: cannot apply: %s\n", line + 1, strerror(-err));
				xtc_model_free(next);
				goto out;
			}
			xtc_model_free(model);
			model = next;
			free(before.rules);
			free(after.rules);
			before.rules = calloc(model->n_rules + 1, sizeof(*before.rules));
			after.rules = calloc(model->n_rules + 1, sizeof(*after.rules));
			if (!before.rules || !after.rules)
				goto out;
			continue;
		}
		if (!strncmp(line, "%iface ", 7)) {
			struct xtc_iface_cfg ic = {};
			struct xtc_iface_idx ix;
			char how[8] = "";

			if (sscanf(line + 7, "%u %u %7s", &ifindex, &ic.flags, how) < 2 ||
			    bpf_map_update_elem(o.maps.fd[XTC_MAP_IFACES], &ifindex, &ic, 0) ||
			    xtc_iface_idx_map(&ix, o.maps.fd[XTC_MAP_IFACE_IDX],
					      o.maps.fd[XTC_MAP_IFACES])) {
				pr_warn("bad or failed line: %s", line);
				goto out;
			}
			/* As apply writes it; "hash": TC must find the record in the hash. */
			if (strcmp(how, "hash"))
				xtc_iface_idx_set(&ix, ifindex, ic.flags);
			else
				xtc_iface_idx_clear(&ix, ifindex);
			xtc_iface_idx_unmap(&ix);
			continue;
		}
		if (!strncmp(line, "%single", 7)) {
			single = 1;
			continue;
		}
		if (!strncmp(line, "%vcache ", 8)) {
			char what[16] = "";

			if (sscanf(line + 8, "%31s %15s", hookname, what) < 1)
				goto out;
			for (hook = 0; hook < XTC_HOOK_MAX; hook++)
				if (!strcmp(hookname, hook_names[hook]))
					break;
			if (hook == XTC_HOOK_MAX)
				goto out;
			printf("{\"vcache\": %d}\n", vcache_live(&o, !strcmp(what, "drop")));
			fflush(stdout);
			continue;
		}
		/* "!cmd" changes the world between packets, e.g. deletes a target. */
		if (line[0] == '!') {
			if (system(line + 1))
				pr_warn("command failed: %s", line + 1);
			continue;
		}
		if (sscanf(line, "%31s %u %n", hookname, &ifindex, &n) != 2)
			continue;
		plus = strchr(hookname, '+');
		if (plus) {
			explain = !strcmp(plus, "+explain") ? EXPLAIN_ON :
				  !strcmp(plus, "+stray") ? EXPLAIN_STRAY : -1;
			*plus = 0;
		}
		for (hook = 0; hook < XTC_HOOK_MAX; hook++)
			if (!strcmp(hookname, hook_names[hook]))
				break;
		hex = line + n;
		len = hex_decode(hex, pkt, sizeof(pkt));
		if (hook == XTC_HOOK_MAX || len < 0 || explain < 0) {
			pr_warn("bad packet line: %s", line);
			goto out;
		}
		read_counters(&o.maps, model, ifindex, hook, &before);
		err = run_one(&o, hook, ifindex, pkt, len, repeat, explain, &retval, out, &out_len,
			      &meta_len, &duration, &ex);
		if (err) {
			printf("{\"hook\": \"%s\", \"error\": \"%s\"}\n", hookname, strerror(-err));
			continue;
		}
		read_counters(&o.maps, model, ifindex, hook, &after);
		cache_diff = !single && run_cached(&o, model, hook, ifindex, pkt, len, explain, retval, out,
					out_len, meta_len, &ex, &before, &after);
		print_result(model, hook, retval, out, meta_len, &before, &after, duration,
			     explain ? &ex : NULL);
	}
	rc = 0;
out:
	if (f)
		fclose(f);
	free(before.rules);
	free(after.rules);
	xtc_objs_destroy(&o);
	xtc_model_free(model);
	return rc;
}
