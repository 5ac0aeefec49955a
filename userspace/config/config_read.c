// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading the INI files into the raw model: every section and key as written,
 * with its file and line.  Syntax problems are reported here; what the keys
 * mean is for the config_check*.c files.
 *
 * The reader parses every line itself: inih splits keys at ':' (which breaks
 * IPv6 keys in [static]), truncates names, joins indented lines, stops
 * reporting after the first error and knows nothing of bare set entries.
 * Input is bounded: only regular files, at most XTC_CONFIG_FILE_MAX bytes
 * each, XTC_CONFIG_LINE_MAX bytes a line and XTC_CONFIG_TOTAL_MAX in all, so
 * that a wrong -c (a device, a FIFO, a log file) fails at once.
 */
#define _GNU_SOURCE		/* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config_raw.h"
#include "mem.h"
#include "config_values.h"

const char *const cfg_sec_names[] = { "?", "global", "interface", "rule", "static", "set" };

static const char sec_kinds[] = "use [global], [interface NAME], [rule NAME], [set NAME] or "
				"[static]";

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	*e = '\0';
	return s;
}

/* ';' or '#' at the start of a value or after a blank starts a comment. */
static void cut_comment(char *s)
{
	char *p;

	for (p = s; *p; p++) {
		if ((*p == ';' || *p == '#') && (p == s || *(p - 1) == ' ' || *(p - 1) == '\t')) {
			*p = '\0';
			return;
		}
	}
}

bool cfg_valid_name(const char *s)
{
	size_t len = strlen(s), i;

	if (!len || len > RULE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* Big rule files have millions of short strings that all die together. */
char *cfg_strdup(struct ctx *c, const char *s)
{
	return xtc_arena_strdup(&c->strings, s);
}

char *cfg_strndup(struct ctx *c, const char *s, size_t n)
{
	return xtc_arena_strndup(&c->strings, s, n);
}

static int add_section(struct ctx *c, enum sec_kind kind, const char *name)
{
	struct raw_sec *s;

	if (xtc_bigarr_reserve((void **)&c->secs, &c->secs_cap, (size_t)c->n_secs + 1,
			       sizeof(*c->secs)))
		return -ENOMEM;
	s = &c->secs[c->n_secs];
	*s = (struct raw_sec){ .kind = kind, .file = c->file, .line = c->lineno,
			       .name = cfg_strdup(c, name), .kv_first = c->n_kvs };
	if (!s->name)
		return -ENOMEM;
	c->cur = c->n_secs++;
	return 0;
}

/* The section kind a header's first word names, in any case. */
static enum sec_kind sec_kind_of(const char *word, size_t len)
{
	int i;

	for (i = SEC_GLOBAL; i < SEC_N; i++)
		if (len == strlen(cfg_sec_names[i]) && !strncasecmp(word, cfg_sec_names[i], len))
			return (enum sec_kind)i;
	return SEC_BAD;
}

/* Whether the name of a section of this kind is good; reports it when not. */
static bool check_sec_name(struct ctx *c, enum sec_kind kind, const char *name)
{
	char err[XTC_ERR_LEN], ifname[IF_NAMESIZE];

	if ((kind == SEC_RULE || kind == SEC_SET) && !cfg_valid_name(name)) {
		cfg_problem(c, c->lineno, "bad %s name '" QS "': use 1-%zu letters, digits, '.', "
			    "'_' or '-'", cfg_sec_names[kind], name, RULE_NAME_MAX);
		return false;
	}
	if (kind == SEC_IFACE && cfg_is_pattern(name)) {
		if (strlen(name) >= XTC_PATTERN_MAX || strpbrk(name, "/: \t")) {
			cfg_problem(c, c->lineno, "bad interface pattern '" QS "': use up to %d "
				    "characters without '/', ':' or spaces, with * ? and [...] as in "
				    "a shell", name, XTC_PATTERN_MAX - 1);
			return false;
		}
		return true;
	}
	if (kind == SEC_IFACE && xtc_parse_ifname(name, ifname, err, sizeof(err))) {
		cfg_problem(c, c->lineno, "bad interface name '" QS "': %s", name, err);
		return false;
	}
	return true;
}

/*
 * The ']' that closes a header: the first one followed by nothing but blanks
 * or a comment, so that a pattern's [...] stays in the name.
 */
static char *header_end(char *s)
{
	char *close, *p;

	for (close = strchr(s, ']'); close; close = strchr(close + 1, ']')) {
		for (p = close + 1; *p == ' ' || *p == '\t'; p++)
			;
		if (!*p || *p == ';' || *p == '#')
			return close;
	}
	return strchr(s, ']');
}

static void read_header(struct ctx *c, char *s)
{
	char *close = header_end(s), *inner, *rest, *name;
	enum sec_kind kind = SEC_BAD, word = SEC_BAD;
	bool bad_name = false;
	size_t wl;

	if (!close) {
		cfg_problem(c, c->lineno, "syntax error: '" QS "' has no closing ']'", s);
		goto out;
	}
	*close = '\0';
	rest = trim(close + 1);
	inner = trim(s + 1);
	if (*rest && *rest != ';' && *rest != '#') {
		cfg_problem(c, c->lineno, "syntax error: '" QS "' after [" QS "]: "
			"only a comment may follow ']'",
			rest, inner);
		goto out;
	}
	wl = strcspn(inner, " \t");
	name = trim(inner + wl);
	kind = word = sec_kind_of(inner, wl);
	inner[wl] = '\0';
	switch (kind) {
	case SEC_BAD:
		if (!*inner) {
			cfg_problem(c, c->lineno, "empty section header []: %s", sec_kinds);
			break;
		}
		cfg_problem(c, c->lineno, "unknown section [" QS "%s" QS "]: %s",
			inner, *name ? " " : "", name, sec_kinds);
		break;
	case SEC_GLOBAL:
	case SEC_STATIC:
		if (*name) {
			cfg_problem(c, c->lineno, "section [%s] takes no name, but '" QS "' was "
				"given", cfg_sec_names[kind], name);
			kind = SEC_BAD;
		} else if (kind == SEC_GLOBAL && c->file) {
			cfg_problem(c, c->lineno, "[global] belongs in the main file %s: an include "
				    "file holds [interface], [rule], [set] and [static] sections",
				    c->m->files[0]);
			kind = SEC_BAD;
		}
		break;
	default:
		if (!*name) {
			cfg_problem(c, c->lineno, "section [%s] needs a name: [%s NAME]",
				    cfg_sec_names[kind], cfg_sec_names[kind]);
			kind = SEC_BAD;
		} else {
			bad_name = !check_sec_name(c, kind, name);
		}
		break;
	}
	if (kind != SEC_BAD) {
		if (add_section(c, kind, name))
			c->err = -ENOMEM;
		else
			c->secs[c->cur].bad_name = bad_name;
		c->secs[c->cur].entries = kind == SEC_SET;
		return;
	}
out:
	/* Keys that follow belong to no valid section: park them unchecked. */
	if (add_section(c, SEC_BAD, ""))
		c->err = -ENOMEM;
	else	/* and the entries of a [set] without a name */
		c->secs[c->cur].entries = word == SEC_SET;
}

/*
 * A copy of the key, shared with the last pair that spelled it the same way
 * (in a slot picked by length and first letter): pairs never change their
 * key's text, and a million rules need a few keys, not millions of copies.
 */
static const char *key_copy(struct ctx *c, const char *key, size_t klen)
{
	const char **slot = &c->recent_keys[(klen * 7 + (unsigned char)key[0]) %
					    ARRAY_SIZE(c->recent_keys)];

	if (*slot && !strncmp(*slot, key, klen) && !(*slot)[klen])
		return *slot;
	return *slot = cfg_strndup(c, key, klen);
}

static void add_pair_n(struct ctx *c, const char *key, size_t klen, const char *val,
		       size_t vlen)
{
	struct raw_sec *s = &c->secs[c->cur];
	struct raw_kv *kv;
	const char *k;

	/* A section's pairs are contiguous: the next header starts the next section. */
	if (xtc_bigarr_reserve((void **)&c->kvs, &c->kvs_cap, (size_t)c->n_kvs + 1,
			       sizeof(*c->kvs)))
		goto nomem;
	kv = &c->kvs[c->n_kvs++];
	k = key_copy(c, key, klen);
	*kv = (struct raw_kv){ .key = k, .val = val ? cfg_strndup(c, val, vlen) : NULL,
			       .line = c->lineno };
	s->n_kv++;
	if (!k || (val && !kv->val))
		goto nomem;
	return;
nomem:
	c->err = -ENOMEM;
}

/* One line of a [set NAME] section: an entry, or a key = value that does not belong. */
static void read_set_line(struct ctx *c, char *s)
{
	const struct raw_sec *sec = &c->secs[c->cur];

	cut_comment(s);
	s = trim(s);
	if (sec->kind != SEC_SET)
		return;
	if (strchr(s, '=')) {
		cfg_problem(c, c->lineno, "syntax error: '" QS "' in [set %s]: a set lists one "
			    "prefix, port or port range per line, without '='", s, sec->name);
		return;
	}
	add_pair_n(c, s, strlen(s), NULL, 0);
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * Handles one line of len bytes, without its newline.  A big file is
 * mostly key = value lines: those are cut with the length in hand, never
 * measured again.
 */
static void read_line(struct ctx *c, char *line, size_t len)
{
	char *s, *end, *eq, *key, *kend, *val;

	if (c->lineno == 1 && len >= 3 && !strncmp(line, "\xef\xbb\xbf", 3)) {
		line += 3;
		len -= 3;
	}
	end = line + len;
	for (s = line; s < end && (*s == ' ' || *s == '\t'); s++)
		;
	while (end > s && blank(end[-1]))
		end--;
	*end = '\0';
	if (s == end || *s == ';' || *s == '#')
		return;
	if (*s == '[') {
		read_header(c, s);
		return;
	}
	if (c->cur >= 0 && c->secs[c->cur].entries) {
		read_set_line(c, s);
		return;
	}
	eq = memchr(s, '=', (size_t)(end - s));
	if (!eq) {
		cfg_problem(c, c->lineno, "syntax error: '" QS "' is not [section], "
			"key = value or a comment (; or #)", s);
		return;
	}
	key = s;
	for (kend = eq; kend > key && (kend[-1] == ' ' || kend[-1] == '\t'); kend--)
		;
	*kend = '\0';
	val = eq + 1;
	cut_comment(val);
	val = trim(val);
	if (kend == key) {
		cfg_problem(c, c->lineno, "syntax error: '= " QS "' has no key before '='",
			val);
		return;
	}
	if (c->cur < 0) {
		cfg_problem(c, c->lineno, "key '" QS "' is outside any section: put it under "
			"[global], [interface NAME], [rule NAME] or [static]", key);
		return;
	}
	add_pair_n(c, key, (size_t)(kend - key), val, strlen(val));
}

/* ---- bounded input ---------------------------------------------------- */

/* Room for the longest line, its newline and a read's worth more. */
#define READ_CHUNK (64 * 1024)
#define BUF_SIZE (XTC_CONFIG_LINE_MAX + 1 + READ_CHUNK + 1)

struct reader {
	int fd;
	int copy_fd;			/* the snapshot being captured, or -1 */
	char *buf;
	size_t start, end;		/* unread bytes are buf[start, end) */
	unsigned long long bytes;	/* read from this file */
	bool eof;
	bool skipping;			/* inside a line that is too long */
};

enum { LINE_EOF, LINE_OK, LINE_TOO_LONG };

static const char *mode_name(mode_t mode)
{
	return S_ISCHR(mode) ? "character device" : S_ISBLK(mode) ? "block device" :
	       S_ISFIFO(mode) ? "FIFO" : S_ISSOCK(mode) ? "socket" : "special file";
}

/*
 * Opens c->m->files[c->file] without blocking (a FIFO without a writer must
 * not hang) and refuses anything but a regular file of bounded size.
 * Returns the fd or a negative errno (reported).
 */
static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* A file of the snapshot, opened anew (its own offset), for a load that replays it. */
static int open_replay(struct ctx *c)
{
	char path[64];
	int fd;

	if (c->file >= c->replay->n) {
		cfg_problem(c, 0, "cannot read: not in the snapshot");
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", c->replay->fds[c->file]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		cfg_problem(c, 0, "cannot read the copy: %s", strerror(-err));
		return err;
	}
	return fd;
}

/* Where this file's bytes are copied to, when a snapshot is being captured. */
static int capture_file(struct ctx *c)
{
	struct xtc_config_snapshot *s = c->capture;
	int fd;

	if (GROW(s->paths, s->n) || GROW(s->fds, s->n))
		return -ENOMEM;
	fd = memfd_create("xtc-config", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	s->paths[s->n] = strdup(c->m->files[c->file]);
	if (!s->paths[s->n]) {
		close(fd);
		return -ENOMEM;
	}
	s->fds[s->n++] = fd;
	return fd;
}

static int open_config(struct ctx *c)
{
	const char *path = c->m->files[c->file];
	struct stat st;
	int fd, err;

	if (c->replay)
		return open_replay(c);
	/*
	 * Look before opening: opening some devices does something (a watchdog
	 * starts).  The fstat below still checks what was opened, in case the
	 * path changed in between.
	 */
	if (!stat(path, &st) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		cfg_problem(c, 0, "is a %s, not a regular file; give the path of an INI file",
			    mode_name(st.st_mode));
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		err = -errno;
		cfg_problem(c, 0, "cannot read: %s", strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		cfg_problem(c, 0, "cannot read: %s", strerror(-err));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		cfg_problem(c, 0, "is a directory; give the path of an INI file");
		err = -EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_problem(c, 0, "is a %s, not a regular file; give the path of an INI file",
			    mode_name(st.st_mode));
		err = -EINVAL;
		goto fail;
	}
	if ((unsigned long long)st.st_size > XTC_CONFIG_FILE_MAX) {
		cfg_problem(c, 0, "is %llu bytes; xtc reads config files up to %llu MiB",
			    (unsigned long long)st.st_size, XTC_CONFIG_FILE_MAX >> 20);
		err = -EFBIG;
		goto fail;
	}
	if (c->total + (unsigned long long)st.st_size > XTC_CONFIG_TOTAL_MAX) {
		cfg_problem(c, 0, "brings the configuration to %llu bytes; xtc reads up to %llu "
			    "MiB in all, the main file and its include files together",
			    c->total + (unsigned long long)st.st_size, XTC_CONFIG_TOTAL_MAX >> 20);
		err = -EFBIG;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

/* More bytes into r->buf; 0, or a negative errno (reported). */
static int fill(struct ctx *c, struct reader *r)
{
	ssize_t n;

	if (r->start) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	do {
		n = read(r->fd, r->buf + r->end, BUF_SIZE - 1 - r->end);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = -errno;

		cfg_problem(c, 0, "cannot read: %s", strerror(-err));
		return err;
	}
	if (!n) {
		r->eof = true;
		return 0;
	}
	r->bytes += (unsigned long long)n;
	c->total += (unsigned long long)n;
	if (r->copy_fd >= 0 && write_all(r->copy_fd, r->buf + r->end, (size_t)n)) {
		int err = -errno;

		cfg_problem(c, 0, "cannot keep a copy: %s", strerror(-err));
		return err;
	}
	/* The size fstat() saw can lie: a file that grows, or one under /proc. */
	if (r->bytes > XTC_CONFIG_FILE_MAX) {
		cfg_problem(c, 0, "is over %llu MiB; xtc reads config files up to %llu MiB",
			    XTC_CONFIG_FILE_MAX >> 20, XTC_CONFIG_FILE_MAX >> 20);
		return -EFBIG;
	}
	if (c->total > XTC_CONFIG_TOTAL_MAX) {
		cfg_problem(c, 0, "brings the configuration over %llu MiB; xtc reads up to %llu "
			    "MiB in all, the main file and its include files together",
			    XTC_CONFIG_TOTAL_MAX >> 20, XTC_CONFIG_TOTAL_MAX >> 20);
		return -EFBIG;
	}
	r->end += (size_t)n;
	return 0;
}

/*
 * The next line in *line (NUL-terminated, without its newline) and its length
 * in *len.  Returns LINE_OK, LINE_TOO_LONG (the line was dropped), LINE_EOF,
 * or a negative errno.
 */
static int next_line(struct ctx *c, struct reader *r, char **line, size_t *len)
{
	for (;;) {
		char *p = r->buf + r->start;
		char *nl = memchr(p, '\n', r->end - r->start);
		int err;

		if (nl || (r->eof && r->end > r->start)) {
			size_t n = nl ? (size_t)(nl - p) : r->end - r->start;
			bool was_skipping = r->skipping;

			r->start += n + (nl ? 1 : 0);
			r->skipping = false;
			if (was_skipping || n > XTC_CONFIG_LINE_MAX)
				return LINE_TOO_LONG;
			p[n] = '\0';
			*line = p;
			*len = n;
			return LINE_OK;
		}
		if (r->eof) {
			if (!r->skipping)
				return LINE_EOF;
			r->skipping = false;
			return LINE_TOO_LONG;
		}
		if (r->end - r->start > XTC_CONFIG_LINE_MAX) {
			/* Drop what there is; the rest of the line goes when its newline comes. */
			r->skipping = true;
			r->start = r->end = 0;
		}
		err = fill(c, r);
		if (err)
			return err;
	}
}

/* Reads c->m->files[c->file] into c->secs; 0 or a negative errno (reported). */
static int read_file(struct ctx *c)
{
	struct reader r = { .fd = -1, .copy_fd = -1 };
	size_t len = 0;
	char *line = NULL;
	int rc = LINE_EOF;

	c->lineno = 0;
	c->cur = -1;		/* a section does not run on into the next file */
	r.fd = open_config(c);
	if (r.fd < 0)
		return r.fd;
	if (c->capture && (r.copy_fd = capture_file(c)) < 0) {
		cfg_problem(c, 0, "cannot keep a copy: %s", strerror(-r.copy_fd));
		close(r.fd);
		return r.copy_fd;
	}
	r.buf = malloc(BUF_SIZE);
	if (!r.buf) {
		close(r.fd);
		return -ENOMEM;
	}
	while (!c->err && (rc = next_line(c, &r, &line, &len)) > 0) {
		/* A big file grows the heap a lot: huge pages for that too. */
		if (!(++c->lineno & 0xffff))
			xtc_mem_advise();
		if (rc == LINE_TOO_LONG)
			cfg_problem(c, c->lineno, "line is longer than %d KiB",
				    XTC_CONFIG_LINE_MAX >> 10);
		else if (memchr(line, '\0', len))
			cfg_problem(c, c->lineno, "syntax error: the line holds a NUL byte; "
				"give a text file");
		else
			read_line(c, line, len);
	}
	free(r.buf);
	close(r.fd);
	/* The pairs array has stopped moving (until the next file). */
	for (int i = 0; i < c->n_secs; i++)
		c->secs[i].kv = c->kvs ? c->kvs + c->secs[i].kv_first : NULL;
	return c->err ? c->err : rc < 0 ? rc : 0;
}

/*
 * Bytes already in memory (a daemon's patch, config_patch.c), read as lines
 * of file c->file from line first_line on.  Only the lines a file read
 * would take as they are: a NUL byte or an over-long line returns -EAGAIN,
 * for a full read to report.  buf is changed.
 */
int cfg_read_buffer(struct ctx *c, char *buf, size_t len, int first_line)
{
	char *p = buf, *end = buf + len;

	c->cur = -1;
	c->lineno = first_line - 1;
	if (memchr(buf, '\0', len))
		return -EAGAIN;
	while (p < end && !c->err) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > XTC_CONFIG_LINE_MAX)
			return -EAGAIN;
		p[n] = '\0';
		c->lineno++;
		read_line(c, p, n);
		p += n + 1;
	}
	for (int i = 0; i < c->n_secs; i++)
		c->secs[i].kv = c->kvs ? c->kvs + c->secs[i].kv_first : NULL;
	return c->err;
}

/* ---- include ---------------------------------------------------------- */

/*
 * A key of the first [global], if it is there: a repeated [global] is
 * check's business, and an error anyway.
 */
const struct raw_kv *cfg_global_key(const struct ctx *c, const char *key)
{
	int i, k;

	for (i = 0; i < c->n_secs; i++) {
		const struct raw_sec *s = &c->secs[i];

		if (s->kind != SEC_GLOBAL)
			continue;
		for (k = 0; k < s->n_kv; k++)
			if (!strcasecmp(s->kv[k].key, key))
				return &s->kv[k];
		return NULL;
	}
	return NULL;
}

/* A relative glob is relative to the main file's directory, whose name may hold '*' or '['. */
static char *include_pattern(const char *main_path, const char *glob_val)
{
	const char *slash = strrchr(main_path, '/'), *p;
	size_t dlen = slash ? (size_t)(slash - main_path) + 1 : 0;
	char *out, *o;

	if (glob_val[0] == '/' || !dlen)
		return strdup(glob_val);
	out = malloc(2 * dlen + strlen(glob_val) + 1);
	if (!out)
		return NULL;
	for (p = main_path, o = out; p < main_path + dlen; p++) {
		if (strchr("*?[]\\", *p))
			*o++ = '\\';
		*o++ = *p;
	}
	strcpy(o, glob_val);
	return out;
}

static bool same_file(const struct stat *a, const char *path)
{
	struct stat b;

	return !stat(path, &b) && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

static int add_file(struct ctx *c, const char *path)
{
	char *copy = strdup(path);

	if (!copy || GROW(c->m->files, c->m->n_files)) {
		free(copy);
		return -ENOMEM;
	}
	c->m->files[c->m->n_files++] = copy;
	return 0;
}

/* One include file, read as if appended; a file that cannot be read is reported and skipped. */
static int read_include(struct ctx *c, const char *path)
{
	int err = add_file(c, path);

	if (err)
		return err;
	c->file = c->m->n_files - 1;
	err = read_file(c);
	if (err && err != -ENOMEM) {
		c->unreadable = true;
		err = 0;
	}
	return err;
}

/* The include files a snapshot holds, in the order they were read. */
static int replay_includes(struct ctx *c)
{
	int i, err = 0;

	for (i = 1; i < c->replay->n && !err; i++)
		err = read_include(c, c->replay->paths[i]);
	c->file = 0;
	return err;
}

/* Reads the files that [global] include matches, in sorted order, after the main file. */
static int read_includes(struct ctx *c)
{
	const struct raw_kv *inc = cfg_global_key(c, "include");
	struct stat main_st;
	glob_t g = {};
	char *pattern;
	size_t i;
	int rc, err = 0;

	if (c->replay)
		return replay_includes(c);
	if (!inc)
		return 0;
	if (!*inc->val) {
		cfg_problem(c, inc->line, "missing value for include: use a glob such as "
			    "/etc/xtc/conf.d/*.ini");
		return 0;
	}
	pattern = include_pattern(c->m->files[0], inc->val);
	if (!pattern)
		return -ENOMEM;
	rc = glob(pattern, 0, NULL, &g);
	/* A patch (config_patch.c) globs again to see that the same files are there. */
	if (c->capture && !c->capture->include)
		c->capture->include = pattern;
	else
		free(pattern);
	if (rc == GLOB_NOSPACE) {
		err = -ENOMEM;
		goto out;
	}
	if (rc == GLOB_ABORTED) {
		cfg_problem(c, inc->line, "include = " QS ": cannot read the directory", inc->val);
		c->unreadable = true;
		goto out;
	}
	if (rc)			/* GLOB_NOMATCH: an empty conf.d is fine */
		goto out;
	if (g.gl_pathc > XTC_CONFIG_INCLUDES_MAX) {
		cfg_problem(c, inc->line, "include = " QS " matches %zu files; xtc reads at most "
			    "%d", inc->val, g.gl_pathc, XTC_CONFIG_INCLUDES_MAX);
		c->unreadable = true;
		goto out;
	}
	if (stat(c->m->files[0], &main_st))
		memset(&main_st, 0, sizeof(main_st));
	for (i = 0; i < g.gl_pathc && !err; i++) {
		/* A glob beside the main file may match it: it has been read already. */
		if (main_st.st_ino && same_file(&main_st, g.gl_pathv[i]))
			continue;
		err = read_include(c, g.gl_pathv[i]);
	}
out:
	globfree(&g);
	c->file = 0;
	return err;
}

int cfg_read_main(struct ctx *c)
{
	c->file = 0;
	return read_file(c);
}

int cfg_read_all(struct ctx *c)
{
	int err;

	c->file = 0;
	err = read_file(c);
	if (err) {
		c->unreadable = true;
		return err;
	}
	return read_includes(c);
}
