// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "failpoint.h"
#include "log.h"

struct hit {
	char name[64];
	int n;
};

/* Few distinct names exist, so a small table and a linear search will do. */
static struct hit hits[64];
static int n_hits;

static int count(const char *name)
{
	int i;

	for (i = 0; i < n_hits; i++)
		if (!strcmp(hits[i].name, name))
			return ++hits[i].n;
	if (n_hits == (int)(sizeof(hits) / sizeof(hits[0])))
		return 0;
	strncpy(hits[n_hits].name, name, sizeof(hits[n_hits].name) - 1);
	hits[n_hits].n = 1;
	return hits[n_hits++].n;
}

int xtc_failpoint(const char *name)
{
	const char *want = getenv("XTC_FAILPOINT");
	size_t len = strlen(name);
	int n = count(name), at = 1;
	const char *rest;

	pr_debug("failpoint %s #%d\n", name, n);
	if (!want || strncmp(want, name, len) || (want[len] && want[len] != ':'))
		return 0;
	rest = want + len;
	if (*rest == ':' && rest[1] >= '0' && rest[1] <= '9')
		at = (int)strtol(rest + 1, (char **)&rest, 10);
	if (n != at)
		return 0;
	if (!strcmp(rest, ":fail")) {
		pr_warn("failpoint %s #%d: failing as XTC_FAILPOINT asks\n", name, n);
		return -EIO;
	}
	/* Like a kill -9: no cleanup, no atexit, no flush. */
	raise(SIGKILL);
	return 0;
}
