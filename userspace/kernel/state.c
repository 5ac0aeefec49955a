// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "state.h"
#include "log.h"

static const char *const prog_pins[] = { "progs/tc_ingress", "progs/tc_egress" };

int xtc_state_check_bpffs(const char *bpffs)
{
	struct statfs sfs;

	if (statfs(bpffs, &sfs)) {
		pr_warn("%s: %s; xtc keeps its state in bpffs (mount -t bpf bpf %s)\n", bpffs,
			strerror(errno), bpffs);
		return -ENOENT;
	}
	if (sfs.f_type != BPF_FS_MAGIC) {
		pr_warn("%s is not a bpf filesystem; mount it with: mount -t bpf bpf %s\n", bpffs,
			bpffs);
		return -EINVAL;
	}
	return 0;
}

/*
 * Whether path is a directory that only we can change.  bpffs is mounted
 * with mode 1777 by default, so anyone may have made it before us: a
 * directory that another user owns or may write lets them delete our link
 * pins (detaching TC) or put their maps where ours belong.
 */
static int check_dir(struct xtc_state *st, const char *path)
{
	struct stat s;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			return err;
		snprintf(st->unsafe_why, sizeof(st->unsafe_why),
			 "%s is not a directory of ours (%s): remove it, then run xtc again", path,
			 strerror(-err));
		st->unsafe = true;
		return -ENOTDIR;
	}
	if (fstat(fd, &s)) {
		err = -errno;
	} else if (s.st_uid != geteuid() || (s.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(st->unsafe_why, sizeof(st->unsafe_why),
			 "%s is owned by uid %u with mode %04o, so others can detach xtc or swap "
			 "its maps; if you did not make it, remove it (rm -r %s), else run chown "
			 "%u %s && chmod go-w %s (bpffs is mounted with mode 1777 by default: "
			 "anyone may create directories in it)",
			 path, (unsigned)s.st_uid, (unsigned)(s.st_mode & 07777), path,
			 (unsigned)geteuid(), path, path);
		st->unsafe = true;
		err = -EPERM;
	}
	close(fd);
	return err;
}

/* mkdir, and then trust only what check_dir accepts: never an EEXIST alone. */
static int make_dir(struct xtc_state *st, const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return check_dir(st, path);
}

static int sub(const struct xtc_state *st, const char *name, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", st->dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

const char *xtc_state_pin_name(int pin)
{
	static char names[XTC_MAP_COUNT][64];

	if (pin == XTC_PIN_TC_INGRESS || pin == XTC_PIN_TC_EGRESS)
		return prog_pins[pin - XTC_PIN_TC_INGRESS];
	if (pin < 0 || pin >= XTC_MAP_COUNT)
		return "?";
	snprintf(names[pin], sizeof(names[pin]), "maps/%s", xtc_map_names[pin]);
	return names[pin];
}

/*
 * Opens every pin it finds and notes the missing ones, so that status can
 * name them.  A pin that exists but is of another kind or layout is an error.
 */
static int open_pins(struct xtc_state *st)
{
	char path[4200];
	int pin, fd, n_found = 0;

	for (pin = 0; pin < XTC_PIN_COUNT; pin++) {
		sub(st, xtc_state_pin_name(pin), path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0) {
			if (errno != ENOENT)
				pr_warn("%s: cannot open: %s\n", path, strerror(errno));
			if (!(XTC_MAPS_OPTIONAL & (1U << pin)))
				st->missing |= 1U << pin;
			continue;
		}
		n_found++;
		if (pin == XTC_PIN_TC_INGRESS)
			st->tc_ingress_fd = fd;
		else if (pin == XTC_PIN_TC_EGRESS)
			st->tc_egress_fd = fd;
		else
			st->maps.fd[pin] = fd;
	}
	/*
	 * A map of another layout is as good as gone for this xtc, which makes
	 * it anew; the old one stays open (the first one seen) so that its
	 * counters can be carried over.
	 */
	st->foreign = xtc_maps_check(&st->maps);
	for (pin = 0; pin < XTC_MAP_COUNT; pin++) {
		if (!(st->foreign & (1U << pin)))
			continue;
		if (st->old.fd[pin] < 0)
			st->old.fd[pin] = st->maps.fd[pin];
		else
			close(st->maps.fd[pin]);
		st->maps.fd[pin] = -1;
		if (!(XTC_MAPS_OPTIONAL & (1U << pin)))
			st->missing |= 1U << pin;
	}
	st->partial = n_found && st->missing;
	return st->missing ? -ENOENT : 0;
}

static int make_dirs(struct xtc_state *st)
{
	static const char *const subs[] = { "maps", "progs", "links" };
	char path[4200];
	size_t i;
	int err;

	err = make_dir(st, st->dir);
	for (i = 0; !err && i < sizeof(subs) / sizeof(subs[0]); i++) {
		sub(st, subs[i], path, sizeof(path));
		err = make_dir(st, path);
	}
	if (st->unsafe)
		pr_warn("%s\n", st->unsafe_why);
	else if (err)
		pr_warn("%s: cannot create the state directory: %s\n", st->dir, strerror(-err));
	return err;
}

/*
 * Locks the state directory.  Whoever held the lock before us may have
 * removed the directory (unload --all): then the lock is on a dead inode,
 * so make the directory again and lock the new one.
 */
static int lock_current(struct xtc_state *st)
{
	struct stat a, b;
	int err, tries;

	for (tries = 0; tries < 100; tries++) {
		if (flock(st->lock_fd, LOCK_EX)) {
			err = -errno;
			pr_warn("%s: cannot lock: %s\n", st->dir, strerror(errno));
			return err;
		}
		if (!fstat(st->lock_fd, &a) && !stat(st->dir, &b) && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			err = make_dirs(st);
			return err;
		}
		close(st->lock_fd);
		err = make_dirs(st);
		if (err)
			return err;
		st->lock_fd = open(st->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (st->lock_fd < 0)
			return -errno;
	}
	return -EAGAIN;
}

void xtc_state_init(struct xtc_state *st)
{
	memset(st, 0, sizeof(*st));
	st->lock_fd = st->tc_ingress_fd = st->tc_egress_fd = -1;
	xtc_maps_init(&st->maps);
	xtc_maps_init(&st->old);
}

int xtc_state_open(struct xtc_state *st, const char *bpffs, bool create)
{
	int err;

	xtc_state_init(st);
	if ((size_t)snprintf(st->dir, sizeof(st->dir), "%s/xtc", bpffs) >= sizeof(st->dir))
		return -ENAMETOOLONG;

	if (create) {
		err = make_dirs(st);
		if (err)
			return err;
	}
	if (!create) {
		static const char *const subs[] = { "", "/maps", "/progs", "/links" };
		char path[4200];
		size_t i;

		for (i = 0; i < sizeof(subs) / sizeof(subs[0]) && !st->unsafe; i++) {
			snprintf(path, sizeof(path), "%s%s", st->dir, subs[i]);
			check_dir(st, path);
		}
	}
	st->lock_fd = open(st->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (st->lock_fd < 0) {
		if (errno == ENOENT && !create)
			return 0;
		err = -errno;
		pr_warn("%s: %s\n", st->dir, strerror(errno));
		return err;
	}
	if (create) {
		err = lock_current(st);
		if (err)
			return err;
	}
	err = open_pins(st);
	if (!err) {
		st->exists = true;
		return 0;
	}
	/* A directory without (all) pins is a state that was never completed. */
	return err == -ENOENT ? 0 : err;
}

int xtc_state_reopen(struct xtc_state *st)
{
	int err;

	xtc_maps_close(&st->maps);
	if (st->tc_ingress_fd >= 0)
		close(st->tc_ingress_fd);
	if (st->tc_egress_fd >= 0)
		close(st->tc_egress_fd);
	st->tc_ingress_fd = st->tc_egress_fd = -1;
	st->missing = st->foreign = 0;
	st->exists = st->partial = false;
	err = open_pins(st);
	st->exists = !err;
	return err == -ENOENT ? 0 : err;
}

int xtc_state_pin_one(const struct xtc_state *st, int pin, int fd)
{
	char path[4200];

	if (sub(st, xtc_state_pin_name(pin), path, sizeof(path)))
		return -ENAMETOOLONG;
	if (bpf_obj_pin(fd, path))
		return -errno;
	return 0;
}

void xtc_state_close(struct xtc_state *st)
{
	if (!st)
		return;
	xtc_maps_close(&st->maps);
	xtc_maps_close(&st->old);
	if (st->tc_ingress_fd >= 0)
		close(st->tc_ingress_fd);
	if (st->tc_egress_fd >= 0)
		close(st->tc_egress_fd);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	st->lock_fd = st->tc_ingress_fd = st->tc_egress_fd = -1;
}

int xtc_state_pin(struct xtc_state *st, const struct xtc_maps *maps, int tc_in_fd, int tc_eg_fd)
{
	char path[4200];
	int err;

	sub(st, "maps", path, sizeof(path));
	err = xtc_maps_pin(maps, path);
	if (err)
		return err;
	sub(st, prog_pins[0], path, sizeof(path));
	if (bpf_obj_pin(tc_in_fd, path) && errno != EEXIST)
		return -errno;
	sub(st, prog_pins[1], path, sizeof(path));
	if (bpf_obj_pin(tc_eg_fd, path) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Unlinks every entry of one subdirectory, then the directory. */
static int remove_dir(const char *dir)
{
	char path[4608];
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT && !err)
		err = -errno;
	return err;
}

int xtc_state_remove(struct xtc_state *st)
{
	static const char *const subs[] = { "links", "progs", "maps" };
	char path[4200];
	size_t i;
	int err = 0, e;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		sub(st, subs[i], path, sizeof(path));
		e = remove_dir(path);
		if (e && !err)
			err = e;
	}
	if (rmdir(st->dir) && errno != ENOENT && !err)
		err = -errno;
	if (err)
		pr_warn("%s: cannot remove every pin: %s\n", st->dir, strerror(-err));
	st->exists = false;
	return err;
}

void xtc_state_link_path(const struct xtc_state *st, __u32 ifindex, bool egress, char *buf,
			 size_t len)
{
	snprintf(buf, len, "%s/links/tcx_%u_%s", st->dir, ifindex, egress ? "egress" : "ingress");
}
