/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reading the INI file (and the files it includes): a reader fills a raw
 * model line by line, then a separate pass validates it and resolves
 * interfaces.  Every problem is collected with its file and line, so that
 * check can print them all.
 */
#ifndef XTC_CONFIG_H
#define XTC_CONFIG_H

#include "model.h"

/* Input limits: a config is text a person or a generator wrote, never a stream. */
#define XTC_CONFIG_FILE_MAX (64ULL << 20)	/* bytes per file */
#define XTC_CONFIG_TOTAL_MAX (256ULL << 20)	/* bytes of the main file and its includes */
#define XTC_CONFIG_LINE_MAX (64 << 10)		/* bytes per line, without the newline */
#define XTC_CONFIG_INCLUDES_MAX 4096		/* files one include glob may match */

/*
 * Classifier limits that check enforces so that apply cannot refuse a file
 * that check passed: hash entries one rule may expand to (its set elements
 * and port-range blocks multiplied out), and all rules together.
 */
#define XTC_RULE_ENTRIES_MAX 1000000
#define XTC_TOTAL_ENTRIES_MAX 16777216

enum xtc_diag_level { XTC_DIAG_ERROR, XTC_DIAG_WARNING };

struct xtc_diag_msg {
	enum xtc_diag_level level;
	char *file;			/* the file the problem is in (an include file when it is there) */
	int line;			/* 0 when not about a line */
	char *text;			/* without "FILE:LINE: " and without "warning: " */
};

struct xtc_diag {
	struct xtc_diag_msg *msgs;	/* in file order (main file, then includes), then line */
	int n;
	int n_errors;
	int n_warnings;
};

void xtc_diag_free(struct xtc_diag *d);
/* What fails the file: the first error, or else (under --strict) the first warning. */
const struct xtc_diag_msg *xtc_diag_failure(const struct xtc_diag *d);

/*
 * Prints one line per message on stderr, "xtc: FILE:LINE: text" or
 * "xtc: FILE:LINE: warning: text" (no ":LINE" when line is 0), and hands the
 * first error to the log layer for --json error reports.
 */
void xtc_diag_print(const struct xtc_diag *d);

/*
 * Parses and validates path and the files it includes.  Returns 0 and *out
 * (warnings, if any, are in diag), or a negative errno and no model with the
 * reasons in diag: -EINVAL for config problems, -ENOENT/-EACCES/-EISDIR and
 * friends when the main file cannot be read.  Callers that treat warnings as
 * errors (--strict) test diag->n_warnings themselves.
 */
int xtc_config_load(const char *path, struct xtc_model **out, struct xtc_diag *diag);

/*
 * The files a load read, kept as they were (memfds), so that a daemon can
 * load the same configuration again when the host changes without taking
 * edits that nobody signalled (SIGHUP).
 */
struct xtc_config_snapshot {
	int n;
	char **paths;			/* the main file, then the include files */
	int *fds;
	char *include;			/* the main file's include glob, resolved; or NULL */
};
void xtc_config_snapshot_free(struct xtc_config_snapshot *s);

struct xtc_config_opts {
	bool daemon;			/* a named interface may be missing: awaited, warned */
	struct xtc_config_snapshot *capture;		/* filled with the files read */
	const struct xtc_config_snapshot *replay;	/* read instead of the files */
	bool no_shadow;			/* warnings already said for these bytes: skip that check */
};
int xtc_config_load_opts(const char *path, const struct xtc_config_opts *o,
			 struct xtc_model **out, struct xtc_diag *diag);

/*
 * The same, but the shadowed-rules check (the slowest, a pass that only
 * warns) may still be running in a thread when it returns 0 with *pending
 * set: the caller may plan with *out meanwhile (the check reads the rules
 * and writes nothing; assigning rule ids is fine), and must call
 * xtc_config_wait() before it acts or reads diag.  On an error nothing is
 * pending, as with xtc_config_load().
 */
struct xtc_config_pending;
int xtc_config_load_async(const char *path, struct xtc_model **out, struct xtc_diag *diag,
			  struct xtc_config_pending **pending);
int xtc_config_load_opts_async(const char *path, const struct xtc_config_opts *o,
			       struct xtc_model **out, struct xtc_diag *diag,
			       struct xtc_config_pending **pending);
/*
 * A daemon's reload of m, loaded without a word from the files snap holds,
 * when the edits since stay inside [rule] sections (config_patch.c): m and
 * snap are patched in place and *out says which rules changed and how.
 * -EAGAIN (or another error): nothing changed; load the files in full.
 */
#define XTC_PATCH_RULES_MAX 64	/* more changed rules than this: a full load costs no more */
struct xtc_config_patched {
	int n;				/* rules changed */
	int idx[XTC_PATCH_RULES_MAX];	/* where they are in m->rules */
	struct xtc_rule was[XTC_PATCH_RULES_MAX];	/* and what they were */
};
int xtc_config_patch(struct xtc_model *m, struct xtc_config_snapshot *snap,
		     struct xtc_config_patched *out);
/* The shadowed-rules check of m (a patched one) in a thread; xtc_config_wait() as above. */
int xtc_config_shadow_async(struct xtc_model *m, struct xtc_config_pending **pending);
/* Waits for the check and hands its warnings over; on an error *m is freed and NULL. */
int xtc_config_wait(struct xtc_config_pending *p, struct xtc_model **m, struct xtc_diag *diag);

/*
 * The [global] bpffs of path (XTC_DEFAULT_BPFFS when it has none), for the
 * commands that need only the state's location: the rest of the file need
 * not be valid (an interface in it may be gone), but it is read with the
 * same rules and limits.  Returns 0, or a negative errno with the reason in
 * diag when the file cannot be read (-ENOENT when it does not exist).
 */
int xtc_config_bpffs(const char *path, char *buf, size_t len, struct xtc_diag *diag);

#endif
