// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading the INI file into the raw model: every section and key as written,
 * with its line number.  Syntax problems are reported here; what the keys
 * mean is for config_check.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ini.h>
#include "config_raw.h"
#include "config_values.h"

const char *const cfg_sec_names[] = { "?", "global", "interface", "rule", "static" };

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

static bool valid_rule_name(const char *s)
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

#define CHUNK_SIZE (256 * 1024)

/*
 * Big rule files have millions of short strings that all die together:
 * carving them out of large chunks saves a malloc (and a free) for each.
 */
char *cfg_strdup(struct ctx *c, const char *s)
{
	size_t len = strlen(s) + 1;
	char *p;

	if (len > c->chunk_left) {
		size_t size = len > CHUNK_SIZE ? len : CHUNK_SIZE;

		if (GROW(c->chunks, c->n_chunks))
			return NULL;
		p = malloc(size);
		if (!p)
			return NULL;
		c->chunks[c->n_chunks++] = p;
		c->chunk_pos = p;
		c->chunk_left = size;
	}
	p = c->chunk_pos;
	memcpy(p, s, len);
	c->chunk_pos += len;
	c->chunk_left -= len;
	return p;
}

static int add_section(struct ctx *c, enum sec_kind kind, const char *name)
{
	struct raw_sec *s;

	if (GROW(c->secs, c->n_secs))
		return -ENOMEM;
	s = &c->secs[c->n_secs];
	*s = (struct raw_sec){ .kind = kind, .line = c->lineno, .name = cfg_strdup(c, name) };
	if (!s->name)
		return -ENOMEM;
	c->cur = c->n_secs++;
	return 0;
}

static void read_header(struct ctx *c, char *s)
{
	static const char kinds[] = "use [global], [interface NAME], [rule NAME] or [static]";
	char err[XTC_ERR_LEN], ifname[IF_NAMESIZE];
	enum sec_kind kind = SEC_BAD;
	char *close = strchr(s, ']'), *inner, *rest, *name;
	bool bad_name = false;
	size_t wl;
	int i;

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
	for (i = SEC_GLOBAL; i <= SEC_STATIC; i++)
		if (wl == strlen(cfg_sec_names[i]) && !strncmp(inner, cfg_sec_names[i], wl))
			kind = (enum sec_kind)i;
	inner[wl] = '\0';
	switch (kind) {
	case SEC_BAD:
		if (!*inner) {
			cfg_problem(c, c->lineno, "empty section header []: %s", kinds);
			break;
		}
		cfg_problem(c, c->lineno, "unknown section [" QS "%s" QS "]: %s",
			inner, *name ? " " : "", name, kinds);
		break;
	case SEC_GLOBAL:
	case SEC_STATIC:
		if (*name) {
			cfg_problem(c, c->lineno, "section [%s] takes no name, but '" QS "' was "
				"given", inner, name);
			kind = SEC_BAD;
		}
		break;
	case SEC_IFACE:
	case SEC_RULE:
		if (!*name) {
			cfg_problem(c, c->lineno, "section [%s] needs a name: [%s NAME]", inner,
				inner);
			kind = SEC_BAD;
		} else if (kind == SEC_RULE && !valid_rule_name(name)) {
			cfg_problem(c, c->lineno, "bad rule name '" QS "': use 1-%zu letters, "
				"digits, '.', '_' or '-'", name, RULE_NAME_MAX);
			bad_name = true;
		} else if (kind == SEC_IFACE && xtc_parse_ifname(name, ifname, err, sizeof(err))) {
			cfg_problem(c, c->lineno, "bad interface name '" QS "': %s", name,
				err);
			bad_name = true;
		}
		break;
	}
	if (kind != SEC_BAD) {
		if (add_section(c, kind, name))
			c->err = -ENOMEM;
		else
			c->secs[c->cur].bad_name = bad_name;
		return;
	}
out:
	/* Keys that follow belong to no valid section: park them unchecked. */
	if (add_section(c, SEC_BAD, ""))
		c->err = -ENOMEM;
}

/* Handles one physical line; returns true when it is a key = value pair. */
static bool read_line(struct ctx *c, char *line)
{
	char *s, *eq, *key, *val;

	if (c->lineno == 1 && !strncmp(line, "\xef\xbb\xbf", 3))
		line += 3;
	s = trim(line);
	if (!*s || *s == ';' || *s == '#')
		return false;
	if (*s == '[') {
		read_header(c, s);
		return false;
	}
	eq = strchr(s, '=');
	if (!eq) {
		cfg_problem(c, c->lineno, "syntax error: '" QS "' is not [section], "
			"key = value or a comment (; or #)", s);
		return false;
	}
	*eq = '\0';
	key = trim(s);
	val = eq + 1;
	cut_comment(val);
	val = trim(val);
	if (!*key) {
		cfg_problem(c, c->lineno, "syntax error: '= " QS "' has no key before '='",
			val);
		return false;
	}
	if (c->cur < 0) {
		cfg_problem(c, c->lineno, "key '" QS "' is outside any section: put it under "
			"[global], [interface NAME], [rule NAME] or [static]", key);
		return false;
	}
	c->key = key;
	c->val = val;
	return true;
}

/*
 * inih's own line parser splits keys at ':' (which breaks IPv6 keys in
 * [static]), truncates names at 50 bytes, joins indented lines and stops
 * reporting after the first error.  So this reader parses every line itself,
 * reports syntax errors, and hands inih only a stand-in for each key = value
 * line; inih then calls the handler, which takes the pair from the reader.
 */
static char *reader(char *str, int num, void *stream)
{
	struct ctx *c = stream;
	ssize_t len;

	while (!c->err) {
		errno = 0;
		len = getline(&c->buf, &c->cap, c->f);
		if (len < 0) {
			if (ferror(c->f))
				c->err = errno ? -errno : -EIO;
			return NULL;
		}
		c->lineno++;
		if (strlen(c->buf) != (size_t)len) {
			cfg_problem(c, c->lineno, "syntax error: the line holds a NUL byte; "
				"give a text file");
			continue;
		}
		if (read_line(c, c->buf)) {
			snprintf(str, (size_t)num, "k=v\n");
			return str;
		}
	}
	return NULL;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct ctx *c = user;
	struct raw_sec *s = &c->secs[c->cur];
	struct raw_kv *kv;

	/* inih's section, name and value describe the stand-in: ignore them. */
	(void)section;
	(void)name;
	(void)value;
	if (GROW(s->kv, s->n_kv))
		goto nomem;
	kv = &s->kv[s->n_kv];
	*kv = (struct raw_kv){ .key = cfg_strdup(c, c->key), .val = cfg_strdup(c, c->val),
			       .line = c->lineno };
	s->n_kv++;
	if (!kv->key || !kv->val)
		goto nomem;
	return 1;
nomem:
	c->err = -ENOMEM;
	return 0;
}

int cfg_open(struct ctx *c)
{
	struct stat st;
	int fd, err;

	fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		cfg_problem(c, 0, "cannot read: %s", strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		cfg_problem(c, 0, "cannot read: %s", strerror(-err));
		close(fd);
		return err;
	}
	if (S_ISDIR(st.st_mode)) {
		cfg_problem(c, 0, "is a directory; give the path of an INI file");
		close(fd);
		return -EISDIR;
	}
	c->f = fdopen(fd, "r");
	if (!c->f) {
		err = -errno;
		cfg_problem(c, 0, "cannot read: %s", strerror(-err));
		close(fd);
		return err;
	}
	return 0;
}

int cfg_read(struct ctx *c)
{
	return ini_parse_stream(reader, c, on_pair, c);
}
