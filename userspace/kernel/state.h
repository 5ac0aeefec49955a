/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xtc's state in bpffs, <bpffs>/xtc:
 *   maps/   every datapath map (rules, counters, interface state, rule names)
 *   progs/  the TC programs, loaded once and shared by every interface
 *   links/  TCX links, one per interface and hook
 * The directory is also the lock that serialises concurrent applies.
 */
#ifndef XTC_STATE_H
#define XTC_STATE_H

#include <stdbool.h>
#include "maps.h"

/* Pins by bit in xtc_state.missing: the maps in enum xtc_map_id order, then these. */
#define XTC_PIN_TC_INGRESS XTC_MAP_COUNT
#define XTC_PIN_TC_EGRESS (XTC_MAP_COUNT + 1)
#define XTC_PIN_COUNT (XTC_MAP_COUNT + 2)

struct xtc_state {
	char dir[4096];			/* <bpffs>/xtc */
	int lock_fd;			/* the directory, flock()ed */
	bool exists;			/* every pin was found */
	bool partial;			/* the directory holds some pins, not all */
	bool unsafe;			/* someone else owns or may write the directory */
	char unsafe_why[1024];		/* and what to do about it */
	__u32 missing;			/* bit XTC_MAP_* / XTC_PIN_*: that pin is gone */
	__u32 foreign;			/* bit XTC_MAP_*: made by another xtc version; not opened */
	struct xtc_maps maps;		/* fd -1 for a missing pin */
	struct xtc_maps old;		/* the pins of st->foreign, kept open to carry counters */
	int tc_ingress_fd, tc_egress_fd;	/* pinned TC programs */
};

/* Every fd -1, nothing open: what xtc_state_close() accepts. */
void xtc_state_init(struct xtc_state *st);

/* "maps/xtc_rules", "progs/tc_ingress": a pin's path under the state directory. */
const char *xtc_state_pin_name(int pin);

/* Checks that bpffs is mounted at path; explains how to mount it if not. */
int xtc_state_check_bpffs(const char *bpffs);

/*
 * Opens the state under bpffs.  With create, makes the directories (0700)
 * and takes the lock (waiting for another apply to finish); a directory
 * that is not ours alone (st->unsafe) is refused, said.  Without create, a
 * missing state is not an error (st->exists tells) and an unsafe one is
 * only noted.
 */
int xtc_state_open(struct xtc_state *st, const char *bpffs, bool create);
void xtc_state_close(struct xtc_state *st);

/* Opens the pins again, after some were made: exists, missing and the fds follow. */
int xtc_state_reopen(struct xtc_state *st);
/* Pins fd as pin (XTC_MAP_* or XTC_PIN_*). */
int xtc_state_pin_one(const struct xtc_state *st, int pin, int fd);

/* Pins a freshly created set of maps and TC programs. */
int xtc_state_pin(struct xtc_state *st, const struct xtc_maps *maps, int tc_in_fd,
		  int tc_eg_fd);
/* Removes every pin and the directories (the lock is kept until close). */
int xtc_state_remove(struct xtc_state *st);

/* The pin path of a TCX link. */
void xtc_state_link_path(const struct xtc_state *st, __u32 ifindex, bool egress, char *buf,
			 size_t len);

#endif
