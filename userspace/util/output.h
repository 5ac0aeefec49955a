/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One printing path for every command: commands describe a tree of objects,
 * lists and values, and the format decides how it looks: indented text,
 * JSON, or Prometheus text exposition (string fields of an object become the
 * labels of its numbers, "interface" as "device" like node_exporter; samples
 * are grouped by metric family, each with # HELP and # TYPE).
 */
#ifndef XTC_OUTPUT_H
#define XTC_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

enum xtc_out_fmt {
	XTC_OUT_TEXT,
	XTC_OUT_JSON,
	XTC_OUT_PROM,
};

/* The "schema" member of every JSON document xtc prints. */
#define XTC_JSON_SCHEMA 1

struct xtc_out;

/* Whether any command output was begun (so --json errors are not appended). */
bool xtc_out_started(void);

struct xtc_out *xtc_out_new(enum xtc_out_fmt fmt);
/* The same, printing to f instead of stdout. */
struct xtc_out *xtc_out_new_to(enum xtc_out_fmt fmt, FILE *f);
/* Flushes (Prometheus output is printed here) and frees; NULL-safe. */
void xtc_out_free(struct xtc_out *o);

/* key is NULL inside lists; metric names the Prometheus family prefix. */
void xtc_out_obj_begin(struct xtc_out *o, const char *key);
void xtc_out_obj_end(struct xtc_out *o);
void xtc_out_list_begin(struct xtc_out *o, const char *key, const char *metric);
void xtc_out_list_end(struct xtc_out *o);
void xtc_out_str(struct xtc_out *o, const char *key, const char *val);
/* A count: a counter in Prometheus (PREFIX_KEY_total). */
void xtc_out_u64(struct xtc_out *o, const char *key, __u64 val);
/* A level: a gauge in Prometheus (PREFIX_KEY). */
void xtc_out_gauge(struct xtc_out *o, const char *key, __u64 val);
/* A number that names something (an id, an ifindex): no Prometheus sample. */
void xtc_out_id(struct xtc_out *o, const char *key, __u64 val);
/* Like xtc_out_id, shown in hex in text (cls_bpf prio and handle, as tc prints them). */
void xtc_out_hex(struct xtc_out *o, const char *key, __u64 val);
void xtc_out_bool(struct xtc_out *o, const char *key, bool val);

enum xtc_out_fmt xtc_out_fmt(const struct xtc_out *o);
/* The # HELP text of a Prometheus family (full name); others get a generic one. */
void xtc_out_help(struct xtc_out *o, const char *family, const char *help);

#endif
