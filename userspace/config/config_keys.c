// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading values out of the raw model for the validators: keys of a section,
 * booleans and enums, section labels, and interface lookups on the host
 * (one per distinct name).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config_raw.h"
#include "config_values.h"
#include "netdev.h"

void cfg_bad_value(struct ctx *c, const struct raw_kv *kv, const char *accepted)
{
	if (!*kv->val)
		cfg_problem(c, kv->line, "missing value for %s: %s", kv->key, accepted);
	else
		cfg_problem(c, kv->line, "bad value '" QS "' for %s: %s", kv->val, kv->key,
			accepted);
}

/* Values xtc knows but refuses: the reason beats "use native or skb". */
static const struct {
	const char *key, *val, *why;
} refused_values[] = {
	{ "xdp_mode", "offload", "it runs XDP on the NIC itself, which needs a NIC that "
	  "executes BPF and a program built for it; use native or skb" },
};

/* Each get_* parses one value, reports it when bad and says whether it was good. */
bool cfg_get_enum(struct ctx *c, const struct raw_kv *kv, const char *const *names, int *out)
{
	char err[XTC_ERR_LEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(refused_values); i++) {
		if (!strcmp(kv->key, refused_values[i].key) &&
		    !strcasecmp(kv->val, refused_values[i].val)) {
			cfg_problem(c, kv->line, "%s = %s is not supported: %s", kv->key,
				    refused_values[i].val, refused_values[i].why);
			return false;
		}
	}
	if (!xtc_parse_enum(kv->val, names, out, err, sizeof(err)))
		return true;
	cfg_bad_value(c, kv, err);
	return false;
}

bool cfg_get_bool(struct ctx *c, const struct raw_kv *kv, bool *out)
{
	char err[XTC_ERR_LEN];

	if (!xtc_parse_bool(kv->val, out, err, sizeof(err)))
		return true;
	cfg_bad_value(c, kv, err);
	return false;
}

bool cfg_get_uint(struct ctx *c, const struct raw_kv *kv, __u64 min, __u64 max, __u32 *out)
{
	char err[XTC_ERR_LEN];
	__u64 v;

	if (xtc_parse_uint(kv->val, min, max, &v, err, sizeof(err))) {
		cfg_bad_value(c, kv, err);
		return false;
	}
	*out = (__u32)v;
	return true;
}

void cfg_sec_label(const struct raw_sec *s, char *buf, size_t len)
{
	snprintf(buf, len, "[%s%s" QS "]", cfg_sec_names[s->kind], *s->name ? " " : "",
		 s->name);
}

/*
 * Finds each of keys (NULL-terminated) in s: found[i] is its first
 * occurrence or NULL.  Key names are matched in any case and then spelled as
 * in keys, so that messages name them one way.  Unknown and repeated keys
 * are reported.
 */
void cfg_collect(struct ctx *c, struct raw_sec *s, const char *const *keys,
		 const struct raw_kv **found)
{
	char label[96], list[256];
	size_t used = 0;
	int i, k, n;

	for (n = 0; keys[n]; n++)
		found[n] = NULL;
	for (i = 0; i < s->n_kv; i++) {
		struct raw_kv *kv = &s->kv[i];
		size_t slot = ((uintptr_t)kv->key >> 3) % ARRAY_SIZE(c->key_memo);

		/* Pairs that spell a key alike share its text (config_read.c): looked up once. */
		if (c->key_memo[slot].keys == keys && c->key_memo[slot].key == kv->key) {
			k = c->key_memo[slot].k;
		} else {
			/* keys[] are lower case: the first letter rules most of them out cheaply. */
			for (k = 0; k < n && ((kv->key[0] | 0x20) != keys[k][0] ||
					      strcasecmp(kv->key, keys[k])); k++)
				;
			c->key_memo[slot].keys = keys;
			c->key_memo[slot].key = kv->key;
			c->key_memo[slot].k = k;
		}
		if (k < n && !found[k]) {
			kv->key = keys[k];
			found[k] = kv;
			continue;
		}
		/* Only problems need the label and the list: most sections have none. */
		cfg_sec_label(s, label, sizeof(label));
		if (k < n) {
			cfg_problem(c, kv->line, "duplicate key '%s' in %s: first set at line %d",
				keys[k], label, found[k]->line);
			continue;
		}
		for (k = 0, used = 0; k < n; k++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 k == 0 ? "" : k == n - 1 ? " or " : ", ", keys[k]);
		cfg_problem(c, kv->line, "unknown key '" QS "' in %s: use %s", kv->key, label,
			    list);
	}
}

/* Cached: a rule file names the same few interfaces over and over. */
int cfg_host_lookup(struct ctx *c, const char *name, struct xtc_netdev_info *info)
{
	struct host *h;
	int i;

	for (i = 0; i < c->n_hosts; i++) {
		if (!strcmp(c->hosts[i].name, name)) {
			*info = c->hosts[i].info;
			return c->hosts[i].err;
		}
	}
	if (GROW(c->hosts, c->n_hosts))
		return -ENOMEM;
	h = &c->hosts[c->n_hosts++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->err = xtc_netdev_get(name, &h->info);
	*info = h->info;
	return h->err;
}

/*
 * Looks name up on the host; whose says whose interface it is and fix what to
 * do about a missing one.  Returns false (reported) when it is not there.
 */
bool cfg_host_iface(struct ctx *c, int line, const char *whose, const char *name,
		    const char *fix, struct xtc_netdev_info *info)
{
	int err = cfg_host_lookup(c, name, info);

	if (err == -ENODEV)
		cfg_problem(c, line, "%s: no interface '%s' on this host: %s", whose, name, fix);
	else if (err == -ENOMEM)
		c->err = err;
	else if (err)
		cfg_problem(c, line, "%s: cannot look up interface '%s': %s", whose, name,
			strerror(-err));
	return !err;
}
