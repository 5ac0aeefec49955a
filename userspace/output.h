/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One printing path for status and stats: commands describe a tree of
 * objects, lists and values, and the format decides how it looks: indented
 * text, JSON, or Prometheus text exposition (string fields of an object
 * become the labels of its numbers; samples are grouped by metric family).
 */
#ifndef XTC_OUTPUT_H
#define XTC_OUTPUT_H

#include <stdbool.h>
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
/* Flushes (Prometheus output is printed here) and frees; NULL-safe. */
void xtc_out_free(struct xtc_out *o);

/* key is NULL inside lists; metric names the Prometheus family prefix. */
void xtc_out_obj_begin(struct xtc_out *o, const char *key);
void xtc_out_obj_end(struct xtc_out *o);
void xtc_out_list_begin(struct xtc_out *o, const char *key, const char *metric);
void xtc_out_list_end(struct xtc_out *o);
void xtc_out_str(struct xtc_out *o, const char *key, const char *val);
void xtc_out_u64(struct xtc_out *o, const char *key, __u64 val);
void xtc_out_bool(struct xtc_out *o, const char *key, bool val);

#endif
