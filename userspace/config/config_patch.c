// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A daemon's reload that patches the model it runs instead of loading the
 * files again.  The common SIGHUP edits one rule of many: reading and
 * validating 100k rules takes about 60 ms of it, a patch well under one.
 *
 * Each file is compared with the copy its last load kept (the snapshot).
 * Where the bytes differ, the whole sections around the difference are read
 * again, as they were and as they are.  The patch applies only when both
 * hold the same [rule NAME] sections in the same order, every new rule
 * validates without a word, and nothing but the rule itself can notice:
 * - the same interface, direction, action and target: the hooks, the IP map
 *   and the interface checks depend on those;
 * - no reverse = yes and no interface pattern: those make rules of their own;
 * - no match shape the old rule did not have, and no more entries: the
 *   limits still hold.
 * Anything else returns -EAGAIN for the full load, which says every problem.
 * The shadowed-rules check, on the whole patched model, is the caller's to
 * start (xtc_config_shadow_async()) when it suits it.
 * A model whose load said anything (a warning included) is never patched,
 * so that nothing said at load goes unsaid.
 */
#define _GNU_SOURCE		/* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config_raw.h"
#include "log.h"
#include "tss.h"

struct bytes {
	char *p;
	size_t n;
	bool mapped;		/* a snapshot's copy, mapped: munmap, not free */
};

/* Where one file's bytes differ, widened to whole lines from a header on. */
struct window {
	size_t start;		/* a line start, before which both are the same */
	size_t old_end, new_end;	/* a header or the end, after which both are the same */
	int line;		/* the line at start */
	int old_lines, new_lines;	/* newlines inside */
};

/* One changed file, checked and ready to go in. */
struct file_patch {
	int file;		/* index in m->files and the snapshot */
	struct window w;
	int memfd;		/* the new bytes, for the snapshot */
	int n;
	int idx[XTC_PATCH_RULES_MAX];	/* in m->rules */
	struct xtc_rule rules[XTC_PATCH_RULES_MAX];
};

/* fd's bytes, whole, if it is a regular file of at most limit bytes; else -EAGAIN. */
static int read_fd(int fd, unsigned long long limit, struct bytes *b)
{
	struct stat st;
	size_t cap, n = 0;
	ssize_t k;

	b->p = NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (unsigned long long)st.st_size > limit)
		return -EAGAIN;
	cap = (size_t)st.st_size + 1;	/* one more: a file that grew shows */
	b->p = malloc(cap + 1);
	if (!b->p)
		return -ENOMEM;
	for (;;) {
		if (n == cap)
			goto again;
		k = pread(fd, b->p + n, cap - n, (off_t)n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			goto again;
		if (!k)
			break;
		n += (size_t)k;
	}
	b->n = n;
	b->p[n] = '\0';
	return 0;
again:
	free(b->p);
	b->p = NULL;
	return -EAGAIN;
}

/* A snapshot's copy as it is: nobody else writes a memfd of ours. */
static int map_copy(int fd, struct bytes *b)
{
	struct stat st;
	void *p;

	*b = (struct bytes){};
	if (fstat(fd, &st) || (unsigned long long)st.st_size > XTC_CONFIG_FILE_MAX)
		return -EAGAIN;
	if (!st.st_size)
		return 0;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED)
		return -EAGAIN;
	*b = (struct bytes){ .p = p, .n = (size_t)st.st_size, .mapped = true };
	return 0;
}

static void bytes_free(struct bytes *b)
{
	if (b->mapped)
		munmap(b->p, b->n);
	else
		free(b->p);
}

static int read_path(const char *path, unsigned long long limit, struct bytes *b)
{
	struct stat st;
	int fd, err;

	/* Look before opening, as the full read does: opening some devices does something. */
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return -EAGAIN;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -EAGAIN;
	err = read_fd(fd, limit, b);
	close(fd);
	return err;
}

/* Whether the include glob still matches the files the snapshot read, in order. */
static bool same_includes(const struct xtc_config_snapshot *s)
{
	struct stat main_st, st;
	glob_t g = {};
	bool same = true;
	int rc, k = 1;
	size_t i;

	if (!s->include)
		return s->n == 1;
	rc = glob(s->include, 0, NULL, &g);
	if (rc && rc != GLOB_NOMATCH) {
		globfree(&g);
		return false;
	}
	if (stat(s->paths[0], &main_st))
		memset(&main_st, 0, sizeof(main_st));
	for (i = 0; i < g.gl_pathc && same; i++) {
		if (main_st.st_ino && !stat(g.gl_pathv[i], &st) && st.st_dev == main_st.st_dev &&
		    st.st_ino == main_st.st_ino)
			continue;
		same = k < s->n && !strcmp(g.gl_pathv[i], s->paths[k++]);
	}
	globfree(&g);
	return same && k == s->n;
}

static bool header_at(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p < end && *p == '[';
}

static size_t line_start(const char *buf, size_t at)
{
	while (at && buf[at - 1] != '\n')
		at--;
	return at;
}

static int count_lines(const char *p, size_t n)
{
	const char *end = p + n;
	int lines = 0;

	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		lines++;
		p++;
	}
	return lines;
}

#define BLOCK 4096
#define WINDOW_MAX (1 << 20)

/* The sections around where o and n differ (they do). */
static void find_window(const struct bytes *o, const struct bytes *n, struct window *w)
{
	size_t a = 0, b = 0, min = o->n < n->n ? o->n : n->n, end;

	/* Megabytes alike on either side: a block at a time, then byte by byte. */
	while (a + BLOCK <= min && !memcmp(o->p + a, n->p + a, BLOCK))
		a += BLOCK;
	while (a < min && o->p[a] == n->p[a])
		a++;
	while (b + BLOCK <= min - a && !memcmp(o->p + o->n - b - BLOCK, n->p + n->n - b - BLOCK,
					       BLOCK))
		b += BLOCK;
	while (b < min - a && o->p[o->n - 1 - b] == n->p[n->n - 1 - b])
		b++;
	/* Back to the header of the section the first difference is in. */
	w->start = line_start(o->p, a);
	while (w->start && !header_at(o->p + w->start, o->p + o->n))
		w->start = line_start(o->p, w->start - 1);
	/* On to the next header after the last difference, at a line start in both. */
	for (end = o->n - b > w->start ? o->n - b : w->start + 1; end < o->n; end++) {
		size_t ne = end - o->n + n->n;

		if (ne && o->p[end - 1] == '\n' && n->p[ne - 1] == '\n' &&
		    header_at(o->p + end, o->p + o->n))
			break;
	}
	if (end > o->n)
		end = o->n;
	w->old_end = end;
	w->new_end = end - o->n + n->n;
	w->line = 1 + count_lines(o->p, w->start);
	w->old_lines = count_lines(o->p + w->start, w->old_end - w->start);
	w->new_lines = count_lines(n->p + w->start, w->new_end - w->start);
}

/* The sections of buf[from, to) read as file `file` from `line` on; -EAGAIN if it said anything. */
static int read_window(struct ctx *c, int file, const struct bytes *b, size_t from, size_t to,
		       int line)
{
	char *copy = malloc(to - from + 1);
	int err;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, b->p + from, to - from);
	c->file = file;
	err = cfg_read_buffer(c, copy, to - from, line);
	free(copy);
	return err ?: c->n_diags ? -EAGAIN : 0;
}

/* The rule named name, not a mirror, looked for at hint first: a window's rules are in a row. */
static int find_rule(const struct xtc_model *m, const char *name, int hint)
{
	int i;

	if (hint >= 0 && hint < m->n_rules && !m->rules[hint].generated &&
	    !strcmp(m->rules[hint].name, name))
		return hint;
	for (i = 0; i < m->n_rules; i++)
		if (!m->rules[i].generated && !strcmp(m->rules[i].name, name))
			return i;
	return -1;
}

/* Whether new can take old's place with nothing but its own entries changing. */
static bool swappable(const struct xtc_rule *old, const struct xtc_rule *new)
{
	return !strcmp(old->ifname, new->ifname) && old->ifindex == new->ifindex &&
	       old->dir == new->dir && old->action == new->action && old->mode == new->mode &&
	       old->target_auto == new->target_auto && !strcmp(old->target, new->target) &&
	       old->target_ifindex == new->target_ifindex && !old->reverse && !new->reverse &&
	       !old->absent && !new->absent &&
	       xtc_tss_rule_entries(new) <= xtc_tss_rule_entries(old) &&
	       xtc_tss_shapes_within(new, old);
}

/* The window's rules, validated against m; 0 with fp filled, or -EAGAIN. */
static int check_window(struct xtc_model *m, const struct bytes *o, const struct bytes *n,
			struct file_patch *fp)
{
	struct xtc_model scratch = *m;
	struct ctx co = { .m = m, .cur = -1 }, cn = { .m = &scratch, .cur = -1, .daemon = true };
	const struct window *w = &fp->w;
	int err, i, at = -1;

	scratch.rules = NULL;
	scratch.n_rules = 0;
	scratch.names = (struct xtc_arena){};	/* m's chunks are m's */
	/* Edits far apart make one window of most of the file: a full load is as quick. */
	if (w->old_end - w->start > WINDOW_MAX || w->new_end - w->start > WINDOW_MAX)
		return -EAGAIN;
	err = read_window(&co, fp->file, o, w->start, w->old_end, w->line);
	if (!err)
		err = read_window(&cn, fp->file, n, w->start, w->new_end, w->line);
	if (!err && (co.n_secs != cn.n_secs || cn.n_secs > XTC_PATCH_RULES_MAX))
		err = -EAGAIN;
	for (i = 0; !err && i < cn.n_secs; i++)
		if (co.secs[i].kind != SEC_RULE || cn.secs[i].kind != SEC_RULE ||
		    strcmp(co.secs[i].name, cn.secs[i].name))
			err = -EAGAIN;
	if (!err)
		err = cfg_index_sets(&cn, m);
	for (i = 0; !err && i < cn.n_secs; i++) {
		int before = scratch.n_rules;

		err = cfg_check_rule(&cn, &cn.secs[i], false, &scratch);
		if (!err && (cn.n_diags || cn.err || scratch.n_rules != before + 1 ||
			     strcmp(scratch.rules[before].name, cn.secs[i].name)))
			err = -EAGAIN;
	}
	for (i = 0; !err && i < cn.n_secs; i++) {
		at = find_rule(m, cn.secs[i].name, at + 1);
		if (at < 0 || !swappable(&m->rules[at], &scratch.rules[i])) {
			err = -EAGAIN;
			break;
		}
		fp->idx[i] = at;
		fp->rules[i] = scratch.rules[i];
		fp->rules[i].id = m->rules[at].id;
		fp->rules[i].prio = m->rules[at].prio;
		/* The same strings (swappable), in what outlives scratch. */
		fp->rules[i].name = m->rules[at].name;
		fp->rules[i].ifname = m->rules[at].ifname;
		fp->rules[i].target = m->rules[at].target;
	}
	fp->n = err ? 0 : cn.n_secs;
	free(scratch.rules);
	xtc_arena_free(&scratch.names);
	cfg_ctx_free(&co);
	cfg_ctx_free(&cn);
	return err;
}

static int keep_copy(const struct bytes *b)
{
	int fd = memfd_create("xtc-config", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < b->n) {
		ssize_t k = write(fd, b->p + off, b->n - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			close(fd);
			return -EIO;
		}
		off += (size_t)k;
	}
	return fd;
}

/* What follows a window in its file moves by as many lines as the window grew. */
#define SHIFT(arr, n, file, from, by)						\
	do {									\
		for (int i_ = 0; i_ < (n); i_++)				\
			if ((arr)[i_].file == (file) && (arr)[i_].line >= (from))	\
				(arr)[i_].line += (by);				\
	} while (0)

static void commit(struct xtc_model *m, struct xtc_config_snapshot *snap, struct file_patch *fp,
		   struct xtc_config_patched *out)
{
	const char *file = m->files[fp->file];
	int from = fp->w.line + fp->w.old_lines, by = fp->w.new_lines - fp->w.old_lines, i;

	if (by) {
		SHIFT(m->rules, m->n_rules, file, from, by);
		SHIFT(m->ifaces, m->n_ifaces, file, from, by);
		SHIFT(m->patterns, m->n_patterns, file, from, by);
		SHIFT(m->statics, m->n_statics, file, from, by);
		SHIFT(m->sets, m->n_sets, file, from, by);
	}
	for (i = 0; i < fp->n; i++) {
		out->idx[out->n] = fp->idx[i];
		out->was[out->n++] = m->rules[fp->idx[i]];
		m->rules[fp->idx[i]] = fp->rules[i];
	}
	close(snap->fds[fp->file]);
	snap->fds[fp->file] = fp->memfd;
	fp->memfd = -1;
}

int xtc_config_patch(struct xtc_model *m, struct xtc_config_snapshot *snap,
		     struct xtc_config_patched *out)
{
	struct file_patch *fps = NULL;
	unsigned long long total = 0;
	int n_fps = 0, k, i, err = 0, n = 0;

	out->n = 0;
	if (!m->clean || snap->n != m->n_files || !same_includes(snap))
		return -EAGAIN;
	for (k = 0; k < snap->n && !err; k++) {
		struct bytes o = {}, nb = {};
		struct file_patch *fp;

		if (strcmp(snap->paths[k], m->files[k])) {
			err = -EAGAIN;
			break;
		}
		err = map_copy(snap->fds[k], &o);
		if (!err)
			err = read_path(snap->paths[k], XTC_CONFIG_FILE_MAX, &nb);
		total += nb.n;
		if (!err && total > XTC_CONFIG_TOTAL_MAX)
			err = -EAGAIN;
		if (!err && (o.n != nb.n || memcmp(o.p, nb.p, o.n))) {
			fp = realloc(fps, (size_t)(n_fps + 1) * sizeof(*fps));
			if (!fp) {
				err = -ENOMEM;
			} else {
				fps = fp;
				fp = &fps[n_fps++];
				*fp = (struct file_patch){ .file = k, .memfd = -1 };
				find_window(&o, &nb, &fp->w);
				err = check_window(m, &o, &nb, fp);
				n += fp->n;
				if (!err && n > XTC_PATCH_RULES_MAX)
					err = -EAGAIN;
				if (!err && (fp->memfd = keep_copy(&nb)) < 0)
					err = fp->memfd;
			}
		}
		bytes_free(&o);
		bytes_free(&nb);
	}
	if (!err)
		for (i = 0; i < n_fps; i++)
			commit(m, snap, &fps[i], out);
	for (i = 0; i < n_fps; i++)
		if (fps[i].memfd >= 0)
			close(fps[i].memfd);
	free(fps);
	return err;
}
