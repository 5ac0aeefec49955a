// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's patched reload without a daemon or a kernel, for
 * test_config_patch.py:
 *
 *   config_patch_drv DIR SEED ROUNDS
 *
 * Writes a file with rules and an include file of rules under DIR, loads it
 * as the daemon does (keeping the bytes), then edits it ROUNDS times at
 * random and patches (xtc_config_patch()).  Edits that change only what
 * rules match must be patched, the others refused (-EAGAIN, then loaded in
 * full as the daemon would).  A patched model must equal a full load of the
 * edited files, rule by rule and line by line, and the compile carried over
 * (xtc_tss_compile_carried()) must equal a compile of every rule against
 * the same live mask list.  One line per round: "ok ..." or "FAIL ...".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "config.h"
#include "tss.h"

#define N_MAIN 8
#define N_ALL 48

struct spec {
	int port, src, notes;
	bool udp, has_src, pass;
};

static struct spec specs[N_ALL];
static char dir[3000];
static int failures;

static void put_rule(FILE *f, int i)
{
	const struct spec *s = &specs[i];
	int k;

	fprintf(f, "\n[rule r%d]\nproto = %s\n", i, s->udp ? "udp" : "tcp");
	if (s->has_src)
		fprintf(f, "src = 10.%d.0.0/16\n", s->src);
	fprintf(f, "dst_port = %d\naction = %s\n", s->port, s->pass ? "pass" : "drop");
	for (k = 0; k < s->notes; k++)
		fprintf(f, "; note %d\n", k);
}

static void save_one(const char *name, int from, int to, bool main_file)
{
	char path[3100], tmp[3200];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		exit(2);
	}
	if (main_file)
		fprintf(f, "[global]\ninclude = rules.d/*.ini\n");
	for (i = from; i < to; i++)
		put_rule(f, i);
	fclose(f);
	if (rename(tmp, path)) {
		perror(path);
		exit(2);
	}
}

static void save(void)
{
	save_one("main.ini", 0, N_MAIN, true);
	save_one("rules.d/a.ini", N_MAIN, N_ALL, false);
}

static int load(const char *path, struct xtc_config_snapshot *snap, struct xtc_model **m)
{
	struct xtc_config_opts o = { .daemon = true, .capture = snap };
	struct xtc_diag diag = {};
	int err = xtc_config_load_opts(path, &o, m, &diag);

	xtc_diag_print(&diag);
	xtc_diag_free(&diag);
	return err;
}

static bool same_set(const struct xtc_set *a, const struct xtc_set *b)
{
	return (!a && !b) || (a && b && !strcmp(a->name, b->name));
}

static bool same_cidr(const struct xtc_cidr *a, const struct xtc_cidr *b)
{
	return a->family == b->family && a->plen == b->plen && !memcmp(a->addr, b->addr, 16);
}

/* The patched model against a full load of the same files. */
static bool same_rules(int round, const struct xtc_model *p, const struct xtc_model *f)
{
	int i;

	if (p->n_rules != f->n_rules) {
		printf("FAIL round %d: %d rules patched, %d loaded\n", round, p->n_rules, f->n_rules);
		return false;
	}
	for (i = 0; i < p->n_rules; i++) {
		const struct xtc_rule *a = &p->rules[i], *b = &f->rules[i];

		if (strcmp(a->name, b->name) || strcmp(a->file, b->file) || a->line != b->line ||
		    a->id != b->id || a->prio != b->prio || strcmp(a->ifname, b->ifname) ||
		    a->ifindex != b->ifindex || a->dir != b->dir || a->family != b->family ||
		    a->has_src != b->has_src || a->has_dst != b->has_dst ||
		    !same_cidr(&a->src, &b->src) || !same_cidr(&a->dst, &b->dst) ||
		    a->has_proto != b->has_proto || a->proto != b->proto ||
		    a->has_sport != b->has_sport || a->has_dport != b->has_dport ||
		    a->sport.lo != b->sport.lo || a->sport.hi != b->sport.hi ||
		    a->dport.lo != b->dport.lo || a->dport.hi != b->dport.hi ||
		    !same_set(a->src_set, b->src_set) || !same_set(a->dst_set, b->dst_set) ||
		    !same_set(a->sport_set, b->sport_set) || !same_set(a->dport_set, b->dport_set) ||
		    a->action != b->action || a->mode != b->mode || a->target_auto != b->target_auto ||
		    strcmp(a->target, b->target) || a->target_ifindex != b->target_ifindex ||
		    a->reverse != b->reverse || a->generated != b->generated ||
		    a->absent != b->absent) {
			printf("FAIL round %d: rule %d (%s, line %d) differs from the full load's "
			       "(%s, line %d)\n", round, i, a->name, a->line, b->name, b->line);
			return false;
		}
	}
	return true;
}

/* The memo of a compile, and the live list the kernel would hold after it. */
struct kept {
	struct xtc_tss_memo memo;
	struct xtc_mask_list live;
};

static int keep(struct kept *k, const struct xtc_model *m, const struct xtc_mask_list *prev)
{
	struct xtc_tss t;
	int err = xtc_tss_compile(m->rules, m->n_rules, prev, &t);

	if (!err)
		err = xtc_tss_memo_keep(&k->memo, &t, m->rules, m->n_rules);
	if (!err) {
		memset(&k->live, 0, sizeof(k->live));
		k->live.count = (__u32)k->memo.n_masks;
		memcpy(k->live.ent, k->memo.masks, sizeof(k->memo.masks[0]) * k->memo.n_masks);
	}
	xtc_tss_free(&t);
	return err;
}

/* Carried against compiled, both against the live list; -ESTALE when not carried. */
static int check_carry(int round, struct kept *k, const struct xtc_model *m,
		       const struct xtc_config_patched *out)
{
	struct xtc_tss_carry carry = { .memo = &k->memo, .n = out->n, .idx = out->idx,
				       .was = out->was };
	struct xtc_tss c, f;
	int err = xtc_tss_compile_carried(m->rules, m->n_rules, &k->live, &carry, &c);

	if (err)
		return err;
	err = xtc_tss_compile(m->rules, m->n_rules, &k->live, &f);
	if (!err && (c.n_masks != f.n_masks || c.n_expanded != f.n_expanded ||
		     memcmp(c.masks, f.masks, sizeof(c.masks[0]) * c.n_masks) ||
		     memcmp(c.digests, f.digests, sizeof(c.digests[0]) * m->n_rules) ||
		     memcmp(c.rule_masks, f.rule_masks, sizeof(c.rule_masks[0]) * m->n_rules))) {
		printf("FAIL round %d: the carried compile is not the full one\n", round);
		failures++;
	}
	xtc_tss_free(&c);
	xtc_tss_free(&f);
	return err;
}

int main(int argc, char **argv)
{
	static const char *const kinds[] = { "ports", "notes", "src", "action", "error" };
	struct xtc_config_snapshot snap = {};
	struct xtc_model *m = NULL, *full = NULL;
	struct kept k = {};
	char path[3100];
	int rounds, round, i, patched = 0, whole = 0, carried = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DIR SEED ROUNDS\n", argv[0]);
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	srand((unsigned)atoi(argv[2]));
	rounds = atoi(argv[3]);
	snprintf(path, sizeof(path), "%s/rules.d", dir);
	mkdir(path, 0755);
	for (i = 0; i < N_ALL; i++)
		specs[i] = (struct spec){ .port = 1000 + i, .udp = i % 3 == 0, .has_src = i % 4 == 0,
					  .src = i, .pass = i % 5 == 0 };
	save();
	snprintf(path, sizeof(path), "%s/main.ini", dir);
	if (load(path, &snap, &m) || keep(&k, m, NULL)) {
		printf("FAIL: the first load\n");
		return 1;
	}
	for (round = 1; round <= rounds; round++) {
		struct xtc_config_patched out;
		int kind = rand() % 5, n = 1 + rand() % 3, changed = 0, err, r;
		struct spec before[N_ALL];
		bool gained = false, want_patch;

		memcpy(before, specs, sizeof(specs));
		for (i = 0; i < n; i++) {
			r = rand() % N_ALL;
			if (kind == 0)
				specs[r].port = 2000 + rand() % 60000;
			else if (kind == 1)
				specs[r].notes = rand() % 3;
			else if (kind == 2 && specs[r].has_src)
				specs[r].src = rand() % 256;
			else if (kind == 2)
				specs[r].has_src = gained = true;	/* a new shape */
			else if (kind == 3)
				specs[r].pass = !specs[r].pass;
			else
				specs[r].port = 70000;
		}
		for (i = 0; i < N_ALL; i++)
			changed += !!memcmp(&specs[i], &before[i], sizeof(specs[i]));
		save();
		err = xtc_config_patch(m, &snap, &out);
		/* Patched: edits of what rules match, in shapes they had (or no edit at all). */
		want_patch = !changed || kind <= 1 || (kind == 2 && !gained);
		if (err && err != -EAGAIN) {
			printf("FAIL round %d (%s): patch: %s\n", round, kinds[kind], strerror(-err));
			return 1;
		}
		if (!err != want_patch) {
			printf("FAIL round %d (%s): %s, but should %s\n", round, kinds[kind],
			       err ? "refused" : "patched", want_patch ? "patch" : "be refused");
			failures++;
		}
		if (kind == 4)
			memcpy(specs, before, sizeof(specs));
		if (err) {
			/* As the daemon: a full load (after an error, of the file put right). */
			whole++;
			save();
			xtc_config_snapshot_free(&snap);
			xtc_model_free(m);
			m = NULL;
			if (load(path, &snap, &m) || keep(&k, m, &k.live)) {
				printf("FAIL round %d: a full load after the refusal\n", round);
				return 1;
			}
			printf("ok round %d (%s): read whole\n", round, kinds[kind]);
			continue;
		}
		patched++;
		/* A window may take in rules between two edited ones: at least those edited. */
		if (out.n < changed) {
			printf("FAIL round %d (%s): %d rule(s) patched, %d edited\n", round,
			       kinds[kind], out.n, changed);
			failures++;
		}
		full = NULL;
		{
			struct xtc_config_snapshot none = {};

			if (load(path, &none, &full)) {
				printf("FAIL round %d: the full load of the patched files\n", round);
				return 1;
			}
			xtc_config_snapshot_free(&none);
		}
		if (!same_rules(round, m, full))
			failures++;
		xtc_model_free(full);
		err = check_carry(round, &k, m, &out);
		carried += !err;
		if (err && err != -ESTALE) {
			printf("FAIL round %d: carried compile: %s\n", round, strerror(-err));
			return 1;
		}
		if (kind <= 1 && err) {
			printf("FAIL round %d (%s): not carried\n", round, kinds[kind]);
			failures++;
		}
		if (keep(&k, m, &k.live)) {
			printf("FAIL round %d: compile\n", round);
			return 1;
		}
		printf("ok round %d (%s): %d rule(s) patched\n", round, kinds[kind], out.n);
	}
	printf("ok %d patched, %d read whole, %d compiles carried, %d failure(s)\n", patched, whole,
	       carried, failures);
	xtc_tss_memo_free(&k.memo);
	xtc_config_snapshot_free(&snap);
	xtc_model_free(m);
	return failures ? 1 : 0;
}
