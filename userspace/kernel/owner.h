/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Recognising our objects in the kernel itself, pins or not.  A program is
 * ours when its name is one of ours AND the xtc_config map it uses carries
 * our mark: XTC_OWNER_MAGIC and the id of our state directory.  Slot or
 * name alone is never enough: another tool may use the same names or
 * priorities.  The config map's id also tells the generation: programs
 * that use another set of maps than the pinned one are ours but stale.
 */
#ifndef XTC_OWNER_H
#define XTC_OWNER_H

#include <stdbool.h>
#include <linux/types.h>
#include "maps.h"

enum xtc_role {
	XTC_ROLE_NONE,			/* not one of our program names */
	XTC_ROLE_XDP,
	XTC_ROLE_TC_INGRESS,
	XTC_ROLE_TC_EGRESS,
};

#define XTC_PROG_MAX_MAPS 16

struct xtc_prog_seen {
	__u32 id;
	enum xtc_role role;
	bool ours;			/* our name and our mark */
	__u32 config_map_id;		/* the xtc_config it uses: its generation */
	char name[16];
	int n_maps;
	__u32 map_ids[XTC_PROG_MAX_MAPS];
	char map_names[XTC_PROG_MAX_MAPS][16];
	bool has_slot;			/* XDP: slot is the counter slot it was loaded with */
	__u32 slot;
};

/* The id that marks the maps of the state directory at this path. */
__u64 xtc_owner_id(const char *state_dir);

/* Marks maps as ours: magic, schema, state id and this xtc's build id in xtc_config. */
int xtc_owner_stamp(int config_fd, __u64 state_id);

/* The build id of the BPF code that the programs on these maps run (0: unknown). */
__u64 xtc_owner_build(int config_fd);

/* Whether the xtc_config behind fd carries the mark of state_id. */
bool xtc_owner_marked(int config_fd, __u64 state_id);

/* Looks at a program by id: its role, and whether it is ours. */
int xtc_prog_inspect(__u32 id, __u64 state_id, struct xtc_prog_seen *ps);

/* The id of the program behind fd, 0 if none. */
__u32 xtc_prog_id(int fd);

/* A new fd of the map a program uses under that name, or a negative errno. */
int xtc_prog_map_fd(const struct xtc_prog_seen *ps, const char *name);

#endif
