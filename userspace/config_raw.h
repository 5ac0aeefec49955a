/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Private to the config reader and validator: the raw model that reading
 * fills (every section and key as written, with line numbers), the context
 * both passes share, and the functions one file needs from another.
 * config.c ties them together behind config.h.
 */
#ifndef XTC_CONFIG_RAW_H
#define XTC_CONFIG_RAW_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include "model.h"
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

enum sec_kind { SEC_BAD, SEC_GLOBAL, SEC_IFACE, SEC_RULE, SEC_STATIC };

extern const char *const cfg_sec_names[];	/* indexed by enum sec_kind */

struct raw_kv {
	char *key;
	char *val;
	int line;
};

struct raw_sec {
	enum sec_kind kind;
	char *name;			/* "" for [global] and [static] */
	int line;
	bool bad_name;			/* reported already: skip host lookups */
	int first_line;			/* of an earlier section like it, else 0 */
	struct raw_kv *kv;
	int n_kv;
};

struct diag_ent {
	int line;
	int seq;
	char *msg;
};

/* One rtnetlink lookup per distinct name, however many rules name it. */
struct host {
	char name[IF_NAMESIZE];
	int err;
	struct xtc_netdev_info info;
};

struct ctx {
	const char *path;
	FILE *f;
	char *buf;			/* getline() buffer */
	size_t cap;
	int lineno;
	const char *key, *val;		/* the pair the reader just handed to inih */
	struct raw_sec *secs;
	int n_secs;
	int cur;			/* section that pairs go to; -1 before any */
	struct diag_ent *diags;
	int n_diags;
	char **chunks;			/* string arena: keys, values, names */
	int n_chunks;
	char *chunk_pos;		/* free space in the newest chunk */
	size_t chunk_left;
	struct host *hosts;		/* interface lookups so far */
	int n_hosts;
	int err;			/* -ENOMEM or a read error: stops everything */
};

/*
 * config.c: records a problem as "FILE:LINE: message" (line 0: "FILE: message").
 * Problems are collected, never fatal on their own; running out of memory sets
 * c->err.
 */
void cfg_problem(struct ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* config_read.c: a copy of s that lives as long as c; NULL when out of memory. */
char *cfg_strdup(struct ctx *c, const char *s);

/* config_read.c: opens c->path, reporting why it cannot; 0 or a negative errno. */
int cfg_open(struct ctx *c);
/* config_read.c: reads the whole file into c->secs; returns ini_parse_stream()'s result. */
int cfg_read(struct ctx *c);

/* config_check.c: checks the raw model as a whole and fills m; 0 or -ENOMEM. */
int cfg_validate(struct ctx *c, struct xtc_model *m);

/* config_check.c: helpers that config_check_rules.c shares. */
void cfg_bad_value(struct ctx *c, const struct raw_kv *kv, const char *accepted);
bool cfg_get_enum(struct ctx *c, const struct raw_kv *kv, const char *const *names, int *out);
bool cfg_get_bool(struct ctx *c, const struct raw_kv *kv, const char *accepted, bool *out);
void cfg_sec_label(const struct raw_sec *s, char *buf, size_t len);
void cfg_collect(struct ctx *c, const struct raw_sec *s, const char *const *keys,
		 const struct raw_kv **found);
int cfg_host_lookup(struct ctx *c, const char *name, struct xtc_netdev_info *info);
bool cfg_host_iface(struct ctx *c, int line, const char *whose, const char *name,
		    const char *fix, struct xtc_netdev_info *info);

/* config_check_rules.c: [rule NAME] sections, in the order cfg_validate() calls them. */
int cfg_check_rule(struct ctx *c, const struct raw_sec *s, bool dup, struct xtc_model *m);
int cfg_add_mirrors(struct xtc_model *m);
void cfg_check_max_rules(struct ctx *c, const struct xtc_model *m);

#endif
