// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "objs.h"
#include "owner.h"
#include "util.h"
#include "xdp_build.h"
#include "xtc_shared.h"

static const struct {
	const char *name;
	enum xtc_role role;
} roles[] = {
	{ "xtc_xdp", XTC_ROLE_XDP },
	{ "xtc_xdp_nh", XTC_ROLE_XDP },		/* the build without the TC handoff */
	{ "xtc_tc_ingress", XTC_ROLE_TC_INGRESS },
	{ "xtc_tc_egress", XTC_ROLE_TC_EGRESS },
};

__u64 xtc_owner_id(const char *state_dir)
{
	return xtc_fnv1a64(XTC_FNV64_INIT, state_dir, strlen(state_dir));
}

int xtc_owner_stamp(int config_fd, __u64 state_id)
{
	struct xtc_config cfg = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(config_fd, &zero, &cfg))
		return -errno;
	cfg.magic = XTC_OWNER_MAGIC;
	cfg.schema = XTC_STATE_SCHEMA;
	cfg.state_id = state_id;
	cfg.build_id = xtc_objs_build_id();
	if (bpf_map_update_elem(config_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

__u64 xtc_owner_build(int config_fd)
{
	struct xtc_config cfg;
	__u32 zero = 0;

	if (config_fd < 0 || bpf_map_lookup_elem(config_fd, &zero, &cfg))
		return 0;
	return cfg.build_id;
}

bool xtc_owner_marked(int config_fd, __u64 state_id)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), zero = 0;
	struct xtc_config cfg;

	if (config_fd < 0 || bpf_obj_get_info_by_fd(config_fd, &mi, &len) ||
	    mi.value_size != sizeof(cfg) || bpf_map_lookup_elem(config_fd, &zero, &cfg))
		return false;
	return cfg.magic == XTC_OWNER_MAGIC && cfg.state_id == state_id;
}

/* XDP: the counter slot in the instance's .rodata, which the loader set when it loaded it. */
static void read_slot(int fd, const struct bpf_map_info *mi, struct xtc_prog_seen *ps)
{
	size_t nl = strlen(mi->name);
	char val[256];
	__u32 zero = 0;

	if (ps->role != XTC_ROLE_XDP || nl < 7 || strcmp(mi->name + nl - 7, ".rodata") ||
	    mi->value_size > sizeof(val) || bpf_map_lookup_elem(fd, &zero, val))
		return;
	ps->has_slot = !xtc_xdp_rodata_slot(ps->name, val, mi->value_size, &ps->slot);
}

static void read_maps(int prog_fd, __u64 state_id, struct xtc_prog_seen *ps)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), n, i;
	__u32 ids[XTC_PROG_MAX_MAPS];

	info.nr_map_ids = XTC_PROG_MAX_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return;
	n = info.nr_map_ids < XTC_PROG_MAX_MAPS ? info.nr_map_ids : XTC_PROG_MAX_MAPS;
	for (i = 0; i < n; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen)) {
			ps->map_ids[ps->n_maps] = ids[i];
			memcpy(ps->map_names[ps->n_maps], mi.name, sizeof(ps->map_names[0]));
			ps->n_maps++;
			read_slot(fd, &mi, ps);
			if (!strcmp(mi.name, "xtc_config") && xtc_owner_marked(fd, state_id)) {
				ps->ours = true;
				ps->config_map_id = ids[i];
			}
		}
		close(fd);
	}
}

int xtc_prog_inspect(__u32 id, __u64 state_id, struct xtc_prog_seen *ps)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	size_t r;
	int fd, err = 0;

	memset(ps, 0, sizeof(*ps));
	ps->id = id;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	memcpy(ps->name, info.name, sizeof(ps->name));
	ps->name[sizeof(ps->name) - 1] = 0;
	for (r = 0; r < ARRAY_SIZE(roles); r++)
		if (!strcmp(ps->name, roles[r].name))
			ps->role = roles[r].role;
	if (ps->role != XTC_ROLE_NONE)
		read_maps(fd, state_id, ps);
out:
	close(fd);
	return err;
}

int xtc_prog_map_fd(const struct xtc_prog_seen *ps, const char *name)
{
	int i, fd;

	for (i = 0; i < ps->n_maps; i++) {
		if (strncmp(ps->map_names[i], name, sizeof(ps->map_names[i])))
			continue;
		fd = bpf_map_get_fd_by_id(ps->map_ids[i]);
		return fd < 0 ? -errno : fd;
	}
	return -ENOENT;
}

__u32 xtc_prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}
