// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Where the host delivers addresses, through libnl-route-3; see hostroutes.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include "hostroutes.h"
#include "log.h"
#include "nlutil.h"

struct item {
	struct xtc_ipmap_entry e;
	size_t seq;		/* discovery order, so "first wins" survives sorting */
};

struct item_vec {
	struct item *it;
	size_t n, cap;
};

/* Is the prefix c/plen wholly inside net/net_plen? */
static bool inside(const struct xtc_cidr *c, const __u8 *net, unsigned int net_plen)
{
	unsigned int full = net_plen / 8, rest = net_plen % 8;

	if (c->plen < net_plen)
		return false;
	if (memcmp(c->addr, net, full))
		return false;
	return !rest || !((c->addr[full] ^ net[full]) & (__u8)(0xff << (8 - rest)));
}

/*
 * Prefixes a packet can never be redirected towards by address: link-local
 * and loopback addresses are only meaningful per link, and multicast has no
 * single owner.  IPv4-mapped IPv6 is dropped because the map stores IPv4 as
 * ::ffff:a.b.c.d, so such a route would shadow real IPv4 entries.
 */
static bool unwanted(const struct xtc_cidr *c)
{
	static const __u8 v4_ll[] = { 169, 254 }, v4_mc[] = { 224 }, v4_lo[] = { 127 };
	static const __u8 v6_ll[] = { 0xfe, 0x80 }, v6_mc[] = { 0xff };
	static const __u8 v6_lo[16] = { [15] = 1 };
	static const __u8 v6_mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (c->family == XTC_FAMILY_V4)
		return inside(c, v4_ll, 16) || inside(c, v4_mc, 4) || inside(c, v4_lo, 8);
	return inside(c, v6_ll, 10) || inside(c, v6_mc, 8) || inside(c, v6_lo, 128) ||
	       inside(c, v6_mapped, 96);
}

/* Fills c from a libnl address; false for anything that is not a plain v4/v6 prefix. */
static bool to_cidr(struct nl_addr *a, unsigned int plen, struct xtc_cidr *c)
{
	unsigned int len, i;

	if (!a)
		return false;
	len = nl_addr_get_len(a);
	memset(c, 0, sizeof(*c));
	if (nl_addr_get_family(a) == AF_INET && len == 4 && plen <= 32)
		c->family = XTC_FAMILY_V4;
	else if (nl_addr_get_family(a) == AF_INET6 && len == 16 && plen <= 128)
		c->family = XTC_FAMILY_V6;
	else
		return false;
	memcpy(c->addr, nl_addr_get_binary_addr(a), len);
	c->plen = (__u8)plen;
	/* Keys are compared byte for byte, so stray host bits would split one prefix in two. */
	for (i = 0; i < len; i++) {
		if (plen >= (i + 1) * 8)
			continue;
		c->addr[i] &= plen > i * 8 ? (__u8)(0xff << (8 - (plen - i * 8))) : 0;
	}
	return true;
}

static bool is_loopback(struct nl_cache *links, int ifindex)
{
	struct rtnl_link *link;
	bool lo;

	link = rtnl_link_get(links, ifindex);
	/* A device newer than the link dump is not lo: lo exists with the namespace. */
	if (!link)
		return false;
	lo = rtnl_link_get_flags(link) & IFF_LOOPBACK;
	rtnl_link_put(link);
	return lo;
}

static int push(struct item_vec *v, const struct xtc_cidr *c, int ifindex, __u32 origin)
{
	struct item *it;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;

		it = realloc(v->it, cap * sizeof(*it));
		if (!it)
			return -ENOMEM;
		v->it = it;
		v->cap = cap;
	}
	it = &v->it[v->n];
	memset(it, 0, sizeof(*it));
	it->e.prefix = *c;
	it->e.ifindex = (__u32)ifindex;
	it->e.origin = origin;
	it->seq = v->n++;
	return 0;
}

static int collect_addrs(struct nl_cache *addrs, struct nl_cache *links, struct item_vec *v)
{
	struct nl_object *o;
	struct xtc_cidr c;
	int err;

	for (o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		int ifindex = rtnl_addr_get_ifindex(a);
		struct nl_addr *local = rtnl_addr_get_local(a);

		if (ifindex <= 0 || !local)
			continue;
		if (!to_cidr(local, nl_addr_get_len(local) * 8, &c) || unwanted(&c))
			continue;
		if (is_loopback(links, ifindex))
			continue;
		err = push(v, &c, ifindex, XTC_IPMAP_ADDRESS);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Connected means "delivered on a device without a gateway".  Scope cannot
 * be the test: the kernel gives IPv6 global prefix routes scope universe.
 */
static int collect_routes(struct nl_cache *routes, struct nl_cache *links, struct item_vec *v)
{
	struct nl_object *o;
	struct xtc_cidr c;
	int err;

	for (o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		struct rtnl_nexthop *nh;
		struct nl_addr *dst;
		int ifindex;

		if (rtnl_route_get_table(r) != RT_TABLE_MAIN ||
		    rtnl_route_get_type(r) != RTN_UNICAST ||
		    rtnl_route_get_nnexthops(r) != 1)
			continue;
		nh = rtnl_route_nexthop_n(r, 0);
		if (!nh || rtnl_route_nh_get_gateway(nh) || rtnl_route_nh_get_via(nh))
			continue;
		ifindex = rtnl_route_nh_get_ifindex(nh);
		dst = rtnl_route_get_dst(r);
		if (ifindex <= 0 || !dst || nl_addr_get_prefixlen(dst) == 0)
			continue;
		if (!to_cidr(dst, nl_addr_get_prefixlen(dst), &c) || unwanted(&c))
			continue;
		if (is_loopback(links, ifindex))
			continue;
		err = push(v, &c, ifindex, XTC_IPMAP_ROUTE);
		if (err)
			return err;
	}
	return 0;
}

static int cidr_cmp(const struct xtc_cidr *a, const struct xtc_cidr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int item_cmp(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	int r = cidr_cmp(&a->e.prefix, &b->e.prefix);

	if (r)
		return r;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void format_cidr(const struct xtc_cidr *c, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family == XTC_FAMILY_V4 ? AF_INET : AF_INET6, c->addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, "%s/%u", ip, c->plen);
}

/*
 * Sorted output makes the result stable across runs regardless of dump
 * order; a prefix claimed by two devices keeps the earlier claim, and
 * addresses are collected before routes so a local address wins.
 */
static int dedup(struct item_vec *v, struct xtc_ipmap_entry **out, size_t *n)
{
	struct xtc_ipmap_entry *res;
	size_t i, k = 0;

	res = malloc((v->n ? v->n : 1) * sizeof(*res));
	if (!res)
		return -ENOMEM;
	qsort(v->it, v->n, sizeof(*v->it), item_cmp);
	for (i = 0; i < v->n; i++) {
		const struct xtc_ipmap_entry *e = &v->it[i].e;

		if (k && !cidr_cmp(&res[k - 1].prefix, &e->prefix)) {
			if (res[k - 1].ifindex != e->ifindex) {
				char buf[INET6_ADDRSTRLEN + 8];

				format_cidr(&e->prefix, buf, sizeof(buf));
				pr_debug("hostroutes: %s on ifindex %u and %u, keeping %u\n", buf,
					 res[k - 1].ifindex, e->ifindex, res[k - 1].ifindex);
			}
			continue;
		}
		res[k++] = *e;
	}
	*out = res;
	*n = k;
	return 0;
}

int xtc_host_routes(struct xtc_ipmap_entry **out, size_t *n)
{
	struct nl_cache *links = NULL, *addrs = NULL, *routes = NULL;
	struct item_vec v = { 0 };
	struct nl_sock *sk = NULL;
	int err;

	*out = NULL;
	*n = 0;
	err = xtc_nl_route_open(&sk, "hostroutes");
	if (err) {
		pr_warn("cannot open rtnetlink: %s\n", strerror(-err));
		return err;
	}
	err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
	if (err) {
		pr_warn("hostroutes: cannot dump links: %s\n", nl_geterror(err));
		err = xtc_nl_errno(err);
		goto out;
	}
	err = rtnl_addr_alloc_cache(sk, &addrs);
	if (err) {
		pr_warn("hostroutes: cannot dump addresses: %s\n", nl_geterror(err));
		err = xtc_nl_errno(err);
		goto out;
	}
	err = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes);
	if (err) {
		pr_warn("hostroutes: cannot dump routes: %s\n", nl_geterror(err));
		err = xtc_nl_errno(err);
		goto out;
	}
	err = collect_addrs(addrs, links, &v);
	if (!err)
		err = collect_routes(routes, links, &v);
	if (!err)
		err = dedup(&v, out, n);
	if (err == -ENOMEM)
		pr_warn("hostroutes: out of memory\n");
	else if (!err)
		pr_debug("hostroutes: %zu prefixes from %zu candidates\n", *n, v.n);
out:
	free(v.it);
	nl_cache_free(routes);
	nl_cache_free(addrs);
	nl_cache_free(links);
	nl_socket_free(sk);
	return err;
}
