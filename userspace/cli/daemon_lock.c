// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE		/* struct ucred */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "daemon_lock.h"
#include "log.h"
#include "util.h"

static socklen_t address(const char *state_dir, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* sun_path[0] = 0: abstract.  The directory's hash: its name may be long. */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "xtc-daemon:%016llx",
		     (unsigned long long)xtc_fnv1a64(XTC_FNV64_INIT, state_dir, strlen(state_dir)));
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

int xtc_daemon_lock(const char *state_dir)
{
	struct sockaddr_un sa;
	socklen_t len = address(state_dir, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) || listen(fd, 8)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

pid_t xtc_daemon_pid(const char *state_dir)
{
	struct ucred cred = {};
	socklen_t clen = sizeof(cred);
	struct sockaddr_un sa;
	socklen_t len = address(state_dir, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid = 0;

	if (fd < 0)
		return 0;
	if (!connect(fd, (struct sockaddr *)&sa, len) &&
	    !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen))
		pid = cred.pid;
	close(fd);
	return pid;
}

int xtc_daemon_refuse(const char *bpffs, const char *command)
{
	char dir[4200];
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/xtc", bpffs);
	pid = xtc_daemon_pid(dir);
	if (!pid)
		return 0;
	pr_warn("xtc daemon (pid %d) manages %s: %s would race it; reload the daemon instead "
		"(systemctl reload xtc-daemon, or kill -HUP %d), or stop it first\n", (int)pid, dir,
		command, (int)pid);
	return -EBUSY;
}

int xtc_daemon_info_format(const struct xtc_daemon_info *d, char *buf, size_t len)
{
	size_t n;
	int i;

	n = (size_t)snprintf(buf, len, "pid %d\nstarted %llu\nlast_reload %llu\n"
			     "last_reload_ok %d\nreconciles %llu\nrepairs %llu\nfailures %llu\n",
			     (int)d->pid, d->started, d->last_reload, d->last_reload_ok,
			     d->reconciles, d->repairs, d->failures);
	for (i = 0; i < XTC_NL_N && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "events_%s %llu\n", xtc_nl_event_names[i],
				      d->events[i]);
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, "last_error %s\n", d->last_error);
	return n < len ? (int)n : -ENOSPC;
}

static void parse_line(struct xtc_daemon_info *d, char *key, char *val)
{
	unsigned long long v = strtoull(val, NULL, 10);
	int i;

	if (!strcmp(key, "pid"))
		d->pid = (pid_t)v;
	else if (!strcmp(key, "started"))
		d->started = v;
	else if (!strcmp(key, "last_reload"))
		d->last_reload = v;
	else if (!strcmp(key, "last_reload_ok"))
		d->last_reload_ok = v;
	else if (!strcmp(key, "reconciles"))
		d->reconciles = v;
	else if (!strcmp(key, "repairs"))
		d->repairs = v;
	else if (!strcmp(key, "failures"))
		d->failures = v;
	else if (!strcmp(key, "last_error"))
		snprintf(d->last_error, sizeof(d->last_error), "%s", val);
	for (i = 0; i < XTC_NL_N; i++)
		if (!strncmp(key, "events_", 7) && !strcmp(key + 7, xtc_nl_event_names[i]))
			d->events[i] = v;
}

int xtc_daemon_query(const char *state_dir, struct xtc_daemon_info *d)
{
	struct timeval tv = { .tv_sec = 2 };
	struct sockaddr_un sa;
	socklen_t len = address(state_dir, &sa);
	char buf[4096], *line, *save = NULL;
	size_t got = 0;
	ssize_t k;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(d, 0, sizeof(*d));
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, len)) {
		close(fd);
		return -ENOENT;
	}
	while (got < sizeof(buf) - 1 && (k = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)k;
	close(fd);
	buf[got] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (!sp)
			continue;
		*sp = 0;
		parse_line(d, line, sp + 1);
	}
	return d->pid ? 0 : -ENOENT;
}
