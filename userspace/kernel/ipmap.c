// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "ipmap.h"

const char *xtc_ipmap_origin_name(__u32 origin)
{
	static const char *const names[] = {
		[XTC_IPMAP_ADDRESS] = "address",
		[XTC_IPMAP_ROUTE] = "route",
		[XTC_IPMAP_STATIC] = "static",
	};

	return origin < sizeof(names) / sizeof(names[0]) && names[origin] ? names[origin] : "?";
}

void xtc_ipmap_key(const struct xtc_cidr *c, struct xtc_ipmap_key *k)
{
	memset(k, 0, sizeof(*k));
	if (c->family == XTC_FAMILY_V4) {
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		memcpy(&k->addr[12], c->addr, 4);
		k->prefixlen = c->plen + 96;
	} else {
		memcpy(k->addr, c->addr, 16);
		k->prefixlen = c->plen;
	}
}

static bool wanted(const struct xtc_ipmap_entry *e, size_t n, const struct xtc_ipmap_key *k)
{
	struct xtc_ipmap_key ek;
	size_t i;

	for (i = 0; i < n; i++) {
		xtc_ipmap_key(&e[i].prefix, &ek);
		if (!memcmp(&ek, k, sizeof(ek)))
			return true;
	}
	return false;
}

int xtc_ipmap_sync(const struct xtc_maps *m, const struct xtc_ipmap_entry *e, size_t n,
		   bool dry_run, size_t *changes)
{
	int fd = m->fd[XTC_MAP_IPMAP];
	struct xtc_ipmap_key k, next, *stale = NULL;
	struct xtc_ipmap_val v;
	size_t i, n_stale = 0, cap = 0;
	int err = 0;

	*changes = 0;
	/* Collect stale keys first: deleting while walking an LPM trie restarts the walk. */
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &k, &next)) {
		k = next;
		if (wanted(e, n, &k))
			continue;
		if (n_stale == cap) {
			struct xtc_ipmap_key *p;

			cap = cap ? cap * 2 : 64;
			p = realloc(stale, cap * sizeof(*p));
			if (!p) {
				err = -ENOMEM;
				goto out;
			}
			stale = p;
		}
		stale[n_stale++] = k;
	}
	err = 0;
	for (i = 0; i < n; i++) {
		struct xtc_ipmap_val want = { .ifindex = e[i].ifindex, .flags = e[i].origin };

		xtc_ipmap_key(&e[i].prefix, &k);
		if (!bpf_map_lookup_elem(fd, &k, &v) && !memcmp(&v, &want, sizeof(v)))
			continue;
		(*changes)++;
		if (!dry_run && bpf_map_update_elem(fd, &k, &want, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	*changes += n_stale;
	for (i = 0; i < n_stale && !dry_run; i++) {
		if (bpf_map_delete_elem(fd, &stale[i]) && errno != ENOENT) {
			err = -errno;
			goto out;
		}
	}
out:
	free(stale);
	return err;
}
