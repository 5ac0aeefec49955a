// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What tcx.c and cls_bpf.c share about one hook; see tc_hook.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "log.h"
#include "tc_hook.h"

void xtc_tc_ifname(__u32 ifindex, char *buf, size_t len)
{
	char name[IF_NAMESIZE];

	if (if_indextoname(ifindex, name))
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "if%u", ifindex);
}

const char *xtc_tc_label(struct xtc_tc_label *l, const struct xtc_tc_hook *h)
{
	char ifname[IF_NAMESIZE + 8];

	xtc_tc_ifname(h->ifindex, ifname, sizeof(ifname));
	snprintf(l->s, sizeof(l->s), "%s: TC %s", ifname, h->egress ? "egress" : "ingress");
	return l->s;
}

__u32 xtc_tc_hook_prio(const struct xtc_tc_hook *h)
{
	return h->prio ? h->prio : XTC_CLS_PRIO;
}

int xtc_tc_prog_id(int prog_fd, const char *where, __u32 *id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int err;

	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
	if (err) {
		pr_warn("%s: cannot identify the program: %s\n", where, strerror(-err));
		return err;
	}
	*id = info.id;
	return 0;
}

void xtc_tc_prog_name(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info;
	__u32 info_len = sizeof(info);
	int fd;

	name[0] = 0;
	fd = id ? bpf_prog_get_fd_by_id(id) : -1;
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		snprintf(name, len, "%.*s", (int)sizeof(info.name), info.name);
	close(fd);
}
