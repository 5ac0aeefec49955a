// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xtc stats: per-rule and per-interface counters, summed over CPUs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "log.h"
#include "maps.h"
#include "output.h"
#include "rule_info.h"
#include "state.h"
#include "cmd_common.h"
#include "stats_out.h"
#include "tables.h"

static void print_rules(struct xtc_out *o, const struct xtc_state *st, int ncpus)
{
	struct xtc_rule_stats *per = calloc(ncpus, sizeof(*per));
	struct xtc_rule_info *info = NULL;
	__u32 n = 0, id;
	int cpu;

	xtc_out_list_begin(o, "rules", "xtc_rule");
	if (!per || !st->exists || xtc_read_rule_info(&st->maps, &info, &n))
		goto out;
	for (id = 0; id < n; id++) {
		struct xtc_rule_stats sum = {};
		char ifname[IF_NAMESIZE + 8];

		if (!(info[id].flags & XTC_RI_USED))
			continue;
		if (!bpf_map_lookup_elem(st->maps.fd[XTC_MAP_RULE_STATS], &id, per))
			for (cpu = 0; cpu < ncpus; cpu++) {
				sum.packets += per[cpu].packets;
				sum.bytes += per[cpu].bytes;
			}
		xtc_ifname_of(info[id].ifindex, ifname, sizeof(ifname));
		info[id].name[sizeof(info[id].name) - 1] = 0;
		xtc_out_obj_begin(o, NULL);
		xtc_out_str(o, "rule", info[id].name);
		xtc_out_str(o, "interface", ifname);
		xtc_out_str(o, "direction", XTC_ENUM_NAME(dir_names, info[id].dir));
		xtc_out_str(o, "action", XTC_ENUM_NAME(action_names, info[id].action));
		xtc_out_u64(o, "packets", sum.packets);
		xtc_out_u64(o, "bytes", sum.bytes);
		xtc_out_obj_end(o);
	}
out:
	xtc_out_list_end(o);
	free(info);
	free(per);
}

static const struct {
	const char *key;
	const char *help;
} iface_fields[] = {
	{ "seen", "packets the hook ran on" },
	{ "parse_errors", "truncated or malformed packets" },
	{ "no_match", "packets no rule matched" },
	{ "handoffs_sent", "redirect verdicts XDP handed to TC in packet metadata" },
	{ "handoffs_received", "redirect verdicts TC found in packet metadata" },
	{ "redirects_ok", "redirects carried out" },
	{ "redirects_failed", "redirects that could not be carried out (redirect_fallback applied)" },
	{ "dropped", "packets dropped" },
};
#define IFACE_FIELDS (sizeof(iface_fields) / sizeof(iface_fields[0]))
#ifdef XTC_TEST_LAYOUT
#define IFACE_UNNAMED 1		/* test_spare */
#else
#define IFACE_UNNAMED 0
#endif
_Static_assert((IFACE_FIELDS + IFACE_UNNAMED) * sizeof(__u64) == sizeof(struct xtc_iface_stats),
	       "iface_fields must name every counter of struct xtc_iface_stats");

static void print_ifaces(struct xtc_out *o, const struct xtc_state *st, int ncpus)
{
	static const __u32 hook_flag[XTC_HOOK_MAX] = { XTC_IF_XDP, XTC_IF_TC_INGRESS,
						       XTC_IF_TC_EGRESS };
	struct xtc_iface_stats *per = calloc(ncpus, sizeof(*per));
	int fd = st->maps.fd[XTC_MAP_IFACE_STATS];
	struct xtc_iface_recs r = {};
	size_t i, f;
	int cpu, h;

	xtc_out_list_begin(o, "interfaces", "xtc_iface");
	if (per && st->exists)
		xtc_iface_recs_read(st->maps.fd[XTC_MAP_IFACES], &r);
	for (i = 0; per && i < r.n; i++) {
		__u32 slot = XTC_IF_SLOT(r.flags[i]);
		char ifname[IF_NAMESIZE + 8];

		xtc_ifname_of(r.ifindex[i], ifname, sizeof(ifname));
		for (h = 0; h < XTC_HOOK_MAX; h++) {
			__u32 key = XTC_IFACE_STATS_KEY(slot, h);
			__u64 sum[IFACE_FIELDS] = {};

			if (!slot || !(r.flags[i] & hook_flag[h]) ||
			    bpf_map_lookup_elem(fd, &key, per))
				continue;
			for (cpu = 0; cpu < ncpus; cpu++)
				for (f = 0; f < IFACE_FIELDS; f++)
					sum[f] += ((__u64 *)&per[cpu])[f];
			xtc_out_obj_begin(o, NULL);
			xtc_out_str(o, "interface", ifname);
			xtc_out_id(o, "ifindex", r.ifindex[i]);
			xtc_out_str(o, "hook", XTC_ENUM_NAME(hook_names, h));
			for (f = 0; f < IFACE_FIELDS; f++)
				xtc_out_u64(o, iface_fields[f].key, sum[f]);
			xtc_out_obj_end(o);
		}
	}
	xtc_out_list_end(o);
	xtc_iface_recs_free(&r);
	free(per);
}

static void prom_help(struct xtc_out *o)
{
	char name[96], help[160];
	size_t f;

	xtc_out_help(o, "xtc_up", "1 when xtc's state is loaded, 0 when it is not");
	xtc_out_help(o, "xtc_build_info", "the xtc version that wrote these metrics");
	xtc_out_help(o, "xtc_last_apply_timestamp_seconds",
		     "when an apply last changed the kernel, in seconds since the epoch");
	xtc_out_help(o, "xtc_rule_packets_total", "packets that matched the rule");
	xtc_out_help(o, "xtc_rule_bytes_total", "bytes of the packets that matched the rule");
	for (f = 0; f < IFACE_FIELDS; f++) {
		snprintf(name, sizeof(name), "xtc_iface_%s_total", iface_fields[f].key);
		snprintf(help, sizeof(help), "per interface and hook: %s", iface_fields[f].help);
		xtc_out_help(o, name, help);
	}
}

void xtc_stats_print(struct xtc_out *o, const struct xtc_state *st, int ncpus)
{
	__u64 applied_at = st->exists ? xtc_tables_applied_at(&st->maps) : 0;

	if (xtc_out_fmt(o) == XTC_OUT_PROM) {
		prom_help(o);
		xtc_out_gauge(o, "up", st->exists);
		xtc_out_list_begin(o, "build", "xtc_build");
		xtc_out_obj_begin(o, NULL);
		xtc_out_str(o, "version", XTC_VERSION);
		xtc_out_gauge(o, "info", 1);
		xtc_out_obj_end(o);
		xtc_out_list_end(o);
	} else {
		xtc_out_bool(o, "loaded", st->exists);
	}
	if (applied_at)
		xtc_out_gauge(o, "last_apply_timestamp_seconds", applied_at);
	print_rules(o, st, ncpus);
	print_ifaces(o, st, ncpus);
}

/* A scrape must never see half a file: write a temporary one, then rename. */
int xtc_stats_write(const char *path, const struct xtc_state *st, int ncpus,
		    void (*extra)(FILE *f, void *arg), void *arg)
{
	char tmp[4200];
	struct xtc_out *o;
	FILE *f;
	int fd, err = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.xtc-XXXXXX", path) >= sizeof(tmp)) {
		pr_warn("stats: %.64s...: the path is too long\n", path);
		return -ENAMETOOLONG;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		pr_warn("stats: cannot create a file beside %s: %s\n", path, strerror(errno));
		return err;
	}
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto fail;
	}
	o = xtc_out_new_to(XTC_OUT_PROM, f);
	if (!o) {
		fclose(f);
		err = -ENOMEM;
		goto fail;
	}
	xtc_stats_print(o, st, ncpus);
	xtc_out_free(o);
	if (extra)
		extra(f, arg);
	/* The textfile collector runs as another user. */
	if (fchmod(fileno(f), 0644) || fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		return 0;
fail:
	pr_warn("stats: cannot write %s: %s\n", path, strerror(-err));
	unlink(tmp);
	return err;
}

int cmd_stats(const struct xtc_opts *opts)
{
	int ncpus = libbpf_num_possible_cpus(), err, rc = XTC_EXIT_OK;
	struct xtc_state st;
	struct xtc_out *o;

	err = xtc_open_any(opts, &st);
	if (err == -ENOENT && opts->prometheus) {
		/* No bpffs, so no xtc: a scrape must still learn that (xtc_up 0). */
		rc = XTC_EXIT_RUNTIME;
		st.exists = false;
	} else if (err || ncpus <= 0) {
		xtc_state_close(&st);
		return err ? xtc_read_exit(err) : XTC_EXIT_RUNTIME;
	}
	/* Not loaded is news, not a failure: the output says so (loaded: no, xtc_up 0). */
	if (!st.exists && !err)
		pr_warn("xtc is not loaded: no state under %s (run xtc apply)\n", st.dir);
	if (opts->output) {
		if (xtc_stats_write(opts->output, &st, ncpus, NULL, NULL))
			rc = XTC_EXIT_RUNTIME;
		goto out;
	}
	o = xtc_out_new(opts->json ? XTC_OUT_JSON : opts->prometheus ? XTC_OUT_PROM : XTC_OUT_TEXT);
	if (!o) {
		rc = XTC_EXIT_RUNTIME;
		goto out;
	}
	xtc_stats_print(o, &st, ncpus);
	xtc_out_free(o);
out:
	xtc_state_close(&st);
	return rc;
}
