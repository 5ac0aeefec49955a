# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A re-apply expands only the rules whose records changed and takes every other
rule's digest from the kernel (engine/plan.c, kernel_memo()).  Each case applies a
file, then an edited one, and compares every map with what the full compare makes
from the same start (the digest header marked dirty, as a killed run leaves it):
both must leave the kernel exactly alike.  `-v` says which way each plan went."""
import json
import os
import struct

import pytest

from lib import xtc_cli as X
from lib.netns import sh

CARRIED = "whose records changed: the rest as the kernel has them"
FULL = "comparing every entry"

BASE = [
    ("web", {"dst": "192.0.2.10", "proto": "tcp", "dst_port": "80", "action": "drop"}),
    ("dns", {"dst": "192.0.2.53", "proto": "udp", "dst_port": "53", "action": "pass"}),
    ("net24", {"dst": "198.51.100.0/24", "action": "drop"}),
    ("pair", {"src": "10.9.0.0/16", "dst": "203.0.113.16/28", "action": "drop"}),
    ("range", {"dst": "192.0.2.20", "proto": "tcp", "dst_port": "30000-30100",
               "action": "drop"}),
    ("eph", {"dst": "192.0.2.21", "proto": "udp", "src_port": "1024-65535",
             "action": "pass"}),
    ("v6", {"dst": "2001:db8::/64", "action": "drop"}),
    ("v6vip", {"dst": "2001:db8:1::5", "proto": "tcp", "dst_port": "443", "action": "drop"}),
    # The same key as web, later: web wins it; the merge must follow edits to web.
    ("web-again", {"dst": "192.0.2.10", "proto": "tcp", "dst_port": "80", "action": "pass"}),
    ("icmp", {"proto": "icmp", "action": "pass"}),
]


def edit(rules, name, **kv):
    return [(n, dict(k, **kv) if n == name else k) for n, k in rules]


CASES = {
    # name: (edited rules, whether the records-carried compile applies)
    "one port": (edit(BASE, "web", dst_port="8080"), True),
    "one action": (edit(BASE, "net24", action="pass"), True),
    "the merged key's winner moves": (edit(BASE, "web", dst_port="81"), True),
    # A range of several blocks is held whole in a space of its own (model/port_lens.h):
    # its rule's other fields change in that space ...
    "a ranged rule's action": (edit(BASE, "range", action="pass"), True),
    "a ranged rule's address": (edit(BASE, "range", dst="192.0.2.22"), True),
    # ... but a range that moves is another space, and every range is chosen anew.
    "a range moves": (edit(BASE, "range", dst_port="30001-30099"), False),
    "a range widens": (edit(BASE, "range", dst_port="1024-65535"), False),
    "a new shape": (edit(BASE, "net24", dst="198.51.100.0/25"), False),
    "two rules swap": (BASE[:2][::-1] + BASE[2:], False),
    "a rule goes": (BASE[:3] + BASE[4:], False),
    "a rule comes": (BASE + [("new", {"dst": "192.0.2.99", "action": "drop"})], False),
    # The new name gets the slot the old one leaves: a record that changed hands.
    "a rule renamed": ([("dns2" if n == "dns" else n, k) for n, k in BASE], True),
    "unchanged": (BASE, True),
}


def dirty_header(env):
    path = os.path.join(env.state, "maps", "xtc_rule_digest")
    v = bytes(int(x, 16) for x in json.loads(sh(["bpftool", "-j", "map", "lookup", "pinned",
                                                 path, "key", "0", "0", "0", "0"]).stdout)["value"])
    magic, n, _ = struct.unpack("<QII", v)
    value = [f"0x{b:02x}" for b in struct.pack("<QII", magic, n, 1)]
    sh(["bpftool", "map", "update", "pinned", path, "key", "0", "0", "0", "0", "value"] + value)


def kernel(env):
    """The classifier and the rule records, without the time of the last apply (the
    interface records name programs, which the unload in between replaces)."""
    maps = X.dump_maps(env.bpffs.path, ("xtc_rules", "xtc_masks", "xtc_config", "xtc_rule_info",
                                        "xtc_rule_sets", "xtc_rule_digest"), live_only=True)
    maps["xtc_config"] = [json.dumps(dict(json.loads(c), applied_at=None), sort_keys=True)
                          for c in maps["xtc_config"]]
    return maps


@pytest.mark.parametrize("case", list(CASES))
def test_carried_compile_leaves_what_the_full_compare_does(env, case):
    a = env.pair()
    ifaces = {a.name: {"tc_ingress": "on"}}
    first = env.config(ifaces, BASE)
    rules, carried = CASES[case]
    second = env.config(ifaces, rules)

    X.ok(env.xtc(first, "apply"))
    r = X.ok(env.xtc(second, "apply", verbose=True))
    assert (CARRIED in r.stderr) == carried, r.stderr
    assert FULL not in r.stderr, r.stderr
    got = kernel(env)
    said = r.stdout

    X.ok(env.xtc(first, "unload", "--all"))
    X.ok(env.xtc(first, "apply"))
    dirty_header(env)
    r = X.ok(env.xtc(second, "apply", verbose=True))
    assert FULL in r.stderr, r.stderr
    want = kernel(env)
    assert got == want
    # The same rule changes for people, whichever way the entries were found.
    assert [ln for ln in said.splitlines() if ln.startswith(("+ rule", "- rule", "~ rule"))] == \
        [ln for ln in r.stdout.splitlines() if ln.startswith(("+ rule", "- rule", "~ rule"))]
