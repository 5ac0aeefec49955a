// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE		/* struct ucred */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
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
