/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Private to the config reader and validator: the raw model that reading
 * fills (every section and key as written, with file and line), the context
 * all passes share, and the functions one file needs from another.
 * config.c ties them together behind config.h.
 */
#ifndef XTC_CONFIG_RAW_H
#define XTC_CONFIG_RAW_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "bigarr.h"
#include "config.h"
#include "model.h"
#include "util.h"
#include "netdev.h"

#define RULE_NAME_MAX (XTC_NAME_MAX - sizeof("~reverse"))	/* room for the mirror's name */
#define MAX_RULES_LIMIT 16777216
#define QS "%.60s"		/* quotes at most this much of the file in a message */

/*
 * Makes room in arr, which holds n elements, for one more: 0 or -ENOMEM.
 * Capacity doubles so that files with tens of thousands of rules load fast.
 */
#define GROW(arr, n)								\
	({									\
		__typeof__(arr) grow_p = (arr);					\
		int grow_err = 0;						\
										\
		if ((n) == 0 || ((n) >= 8 && !((n) & ((n) - 1)))) {		\
			grow_p = realloc((arr), ((n) < 8 ? 8 : 2 * (size_t)(n)) * sizeof(*(arr))); \
			if (grow_p)						\
				(arr) = grow_p;					\
			else							\
				grow_err = -ENOMEM;				\
		}								\
		grow_err;							\
	})


enum sec_kind { SEC_BAD, SEC_GLOBAL, SEC_IFACE, SEC_RULE, SEC_STATIC, SEC_SET, SEC_N };

extern const char *const cfg_sec_names[];	/* indexed by enum sec_kind */

struct raw_kv {
	const char *key;		/* canonical (lower case) once cfg_collect() knew it */
	char *val;			/* NULL for an entry of a [set NAME] section */
	int line;
};

struct raw_sec {
	enum sec_kind kind;
	char *name;			/* "" for [global] and [static] */
	int file;			/* index in the model's files */
	int line;
	bool bad_name;			/* reported already: skip host lookups */
	bool entries;			/* takes bare lines: a [set NAME], or a bad one's stand-in */
	int first_file, first_line;	/* of an earlier section like it, else line 0 */
	struct raw_kv *kv;		/* n_kv of ctx.kvs, set once its file is read */
	int n_kv;
	int kv_first;			/* index in ctx.kvs */
};

struct diag_ent {
	enum xtc_diag_level level;
	int file;
	int line;
	int seq;
	char *text;
};

/* One rtnetlink lookup per distinct name, however many rules name it. */
struct host {
	char name[IF_NAMESIZE];
	int err;
	struct xtc_netdev_info info;
};

struct ctx {
	struct xtc_model *m;		/* m->files names every file read */
	int file;			/* the file problems are about unless said */
	int last_file;			/* cfg_file_index()'s previous answer */
	int lineno;			/* while reading */
	unsigned long long total;	/* bytes read from all files */
	struct raw_sec *secs;		/* xtc_bigarr: secs_cap bytes */
	int n_secs;
	size_t secs_cap;
	struct raw_kv *kvs;		/* of every section, in file order: one xtc_bigarr */
	int n_kvs;
	size_t kvs_cap;
	int cur;			/* section that pairs go to; -1 before any */
	struct diag_ent *diags;
	int n_diags;
	int n_errors;
	struct xtc_arena strings;	/* keys, values, names */
	const char *recent_keys[16];	/* in strings: a million rules spell a few keys */
	struct {			/* cfg_collect(): which of a keys list such a key is */
		const char *const *keys;
		const char *key;
		int k;
	} key_memo[16];
	struct host *hosts;		/* interface lookups so far */
	int n_hosts;
	const struct xtc_set **set_index;	/* m->sets by name */
	int n_set_index;
	bool unreadable;		/* a file could not be read whole: validate nothing */
	bool daemon;			/* a named interface that is missing is awaited */
	struct xtc_config_snapshot *capture;		/* xtc_config_opts */
	const struct xtc_config_snapshot *replay;
	int rules_cap;			/* room in m->rules */
	const char *last_ifname, *last_target;	/* push_rule()'s latest copies in m->names */
	int err;			/* -ENOMEM: stops everything */
};

/*
 * config_diag.c: records a problem in c->file (line 0: about the file as a
 * whole).  Problems are collected, never fatal on their own; running out of
 * memory sets c->err.
 */
void cfg_problem(struct ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_warn(struct ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_problem_at(struct ctx *c, int file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void cfg_warn_at(struct ctx *c, int file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The index of a path in c->m->files (for model objects that hold the path). */
int cfg_file_index(struct ctx *c, const char *file);

/* config_read.c: a key of the first [global] section, or NULL. */
const struct raw_kv *cfg_global_key(const struct ctx *c, const char *key);

/* config_read.c: a copy of s that lives as long as c; NULL when out of memory. */
char *cfg_strdup(struct ctx *c, const char *s);
/* An [interface NAME] whose name has * ? or [ is an fnmatch(3) pattern. */
#define XTC_PATTERN_MAX 64
static inline bool cfg_is_pattern(const char *name)
{
	return strpbrk(name, "*?[") != NULL;
}
/* The same for n bytes of s, which need not end there. */
char *cfg_strndup(struct ctx *c, const char *s, size_t n);

/*
 * config_read.c: reads the main file c->m->files[0] and the files its
 * [global] include names into c->secs.  Returns 0, or a negative errno when
 * the main file cannot be read at all (reported); c->unreadable is set when
 * any file could not be read whole.
 */
int cfg_read_all(struct ctx *c);
/* config_read.c: the main file alone, without its includes. */
int cfg_read_main(struct ctx *c);
int cfg_read_buffer(struct ctx *c, char *buf, size_t len, int first_line);
void cfg_ctx_free(struct ctx *c);

/* config_check.c: checks the raw model section by section and fills m; 0 or -ENOMEM. */
int cfg_validate(struct ctx *c, struct xtc_model *m);
/* Then, on a model without errors: the limits and hooks checks across rules. */
int cfg_check_across(struct ctx *c, const struct xtc_model *m, size_t *expanded);

/* config_keys.c: what the config_check*.c files read values with. */
void cfg_bad_value(struct ctx *c, const struct raw_kv *kv, const char *accepted);
bool cfg_get_enum(struct ctx *c, const struct raw_kv *kv, const char *const *names, int *out);
bool cfg_get_bool(struct ctx *c, const struct raw_kv *kv, bool *out);
bool cfg_get_uint(struct ctx *c, const struct raw_kv *kv, __u64 min, __u64 max, __u32 *out);
void cfg_sec_label(const struct raw_sec *s, char *buf, size_t len);
void cfg_collect(struct ctx *c, struct raw_sec *s, const char *const *keys,
		 const struct raw_kv **found);
int cfg_host_lookup(struct ctx *c, const char *name, struct xtc_netdev_info *info);
bool cfg_host_iface(struct ctx *c, int line, const char *whose, const char *name,
		    const char *fix, struct xtc_netdev_info *info);
bool cfg_valid_name(const char *s);
/* "line N" in the same file, else "FILE:N": where an earlier thing is. */
void cfg_where(const struct ctx *c, int file, int line, char *buf, size_t len);

/* config_check_sets.c: [set NAME] sections, checked before the rules that use them. */
int cfg_check_sets(struct ctx *c, struct xtc_model *m);
/* c->set_index over m->sets, as cfg_check_sets() leaves it. */
int cfg_index_sets(struct ctx *c, const struct xtc_model *m);
const struct xtc_set *cfg_find_set(const struct ctx *c, const char *name);

/* config_check_rules.c: [rule NAME] sections, in the order cfg_validate() calls them. */
int cfg_check_rule(struct ctx *c, struct raw_sec *s, bool dup, struct xtc_model *m);
int cfg_add_mirrors(struct ctx *c, struct xtc_model *m);
void cfg_check_max_rules(struct ctx *c, const struct xtc_model *m);
/* "[rule NAME]", or "the reverse = yes mirror of [rule NAME]", for messages. */
void cfg_rule_label(const struct xtc_rule *r, char *buf, size_t len);

/* config_check_limits.c: what the classifier and the maps can hold. */
int cfg_check_limits(struct ctx *c, const struct xtc_model *m, size_t *expanded);

/* config_check_hooks.c: warnings for rules on hooks that are off. */
void cfg_check_hooks(struct ctx *c, const struct xtc_model *m);

/* config_cover.c: whether rule a matches every packet rule b matches. */
struct cover_ctx;
struct cover_ctx *cfg_cover_new(const struct xtc_model *m);
void cfg_cover_free(struct cover_ctx *cc);
/* Exact, over every element combination of both rules' sets; *err is set when out of memory. */
bool cfg_covers(struct cover_ctx *cc, const struct xtc_rule *a, const struct xtc_rule *b, int *err);
/* Whether a runs wherever b does: its direction, and interface = * or b's own. */
bool cfg_scope_covers(const struct xtc_rule *a, const struct xtc_rule *b);
/* Whether a matches the packet with classifier key p, scope aside; *err as above. */
struct xtc_flow_key;
bool cfg_rule_matches(struct cover_ctx *cc, const struct xtc_rule *a, const struct xtc_flow_key *p,
		      int *err);
/* fn for each prefix of family fam in a prefix set that overlaps [lo, hi] (16 bytes each). */
typedef int (*cfg_prefix_fn)(void *arg, const struct xtc_cidr *c);
int cfg_cover_set_prefixes(struct cover_ctx *cc, const struct xtc_set *set, __u8 fam,
			   const __u8 *lo, const __u8 *hi, cfg_prefix_fn fn, void *arg);

/*
 * config_cover_union.c: the packets of one rule that earlier rules leave,
 * as boxes; see there for the caps.  start and subtract return 0, -E2BIG
 * when a cap is hit (the answer is then unknown: no warning), or -ENOMEM.
 */
struct cover_union;
struct cover_union *cfg_union_new(struct cover_ctx *cc);
void cfg_union_free(struct cover_union *u);
int cfg_union_start(struct cover_union *u, const struct xtc_rule *b);
/* Whether packets remain; if so *p is the key of one (dir and ifindex left 0). */
bool cfg_union_point(const struct cover_union *u, struct xtc_flow_key *p);
/* Takes a's packets out; *removed says whether any were left to take. */
int cfg_union_subtract(struct cover_union *u, const struct xtc_rule *a, bool *removed);

/*
 * config_check_shadow.c: warnings for rules that earlier rules cover.  It
 * reads only m and writes only c, so it runs on a thread beside the rest.
 */
int cfg_check_shadow(struct ctx *c, const struct xtc_model *m);

#endif
