# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Re-apply by rule digests (maps/xtc_rule_digest): a re-apply reads the digests, not
the rules hash, unless they cannot be trusted; then it compares every entry once and
leaves digests that can be.  `-v` says which way the plan went."""
import json
import os
import struct

from lib import xtc_cli as X
from lib.netns import sh

FULL = "comparing every entry"


def configs(env, a):
    icmp = {"interface": a.name, "proto": "icmp"}
    both = {"proto": "icmp", "action": "pass"}
    mk = lambda act: env.config({a.name: {"tc_ingress": "on"}},  # noqa: E731
                                [("icmp-a", dict(icmp, action=act)), ("icmp-all", both),
                                 ("dns", {"proto": "udp", "dst_port": "53", "action": "drop"})])
    return mk("pass"), mk("drop")


def header(env):
    """The digest map's header: (magic, entries in the rules hash, flags)."""
    out = sh(["bpftool", "-j", "map", "lookup", "pinned",
              os.path.join(env.state, "maps", "xtc_rule_digest"), "key", "0", "0", "0", "0"])
    v = bytes(int(x, 16) for x in json.loads(out.stdout)["value"])
    return struct.unpack("<QII", v)


def test_reapply_uses_digests(env):
    a = env.pair()
    ok, drop = configs(env, a)
    X.ok(env.xtc(ok, "apply"))
    assert a.ping(2) == 2
    r = X.ok(env.xtc(drop, "apply", verbose=True))
    assert FULL not in r.stderr, r.stderr
    assert "~ classifier: 0 entries added, 1 changed, 0 removed" in r.stdout, r.stdout
    assert a.ping(2) == 0
    magic, n, flags = header(env)
    assert (magic, flags) == (0x7874634400000001, 0)
    r = X.ok(env.xtc(ok, "apply", verbose=True))
    assert FULL not in r.stderr and a.ping(2) == 2


def test_state_without_digests_compares_once(env):
    """A state made before the digest map: the first apply compares in full and adds it."""
    a = env.pair()
    ok, drop = configs(env, a)
    X.ok(env.xtc(ok, "apply"))
    os.unlink(os.path.join(env.state, "maps", "xtc_rule_digest"))
    st = X.status_json(ok)
    assert not [p for p in st.get("problems", []) if "xtc_rule_digest" in p["message"]], st
    r = X.ok(env.xtc(drop, "apply", verbose=True))
    assert FULL in r.stderr, r.stderr
    assert a.ping(2) == 0
    assert os.path.exists(os.path.join(env.state, "maps", "xtc_rule_digest"))
    assert header(env)[2] == 0
    r = X.ok(env.xtc(ok, "apply", verbose=True))
    assert FULL not in r.stderr, r.stderr
    assert a.ping(2) == 2


def test_dirty_digests_compare_in_full(env):
    """A header left dirty (an apply killed half-way) is not trusted: one full compare."""
    a = env.pair()
    ok, drop = configs(env, a)
    X.ok(env.xtc(ok, "apply"))
    magic, n, _ = header(env)
    value = [f"0x{b:02x}" for b in struct.pack("<QII", magic, n, 1)]
    sh(["bpftool", "map", "update", "pinned", os.path.join(env.state, "maps", "xtc_rule_digest"),
        "key", "0", "0", "0", "0", "value"] + value)
    r = X.ok(env.xtc(drop, "apply", verbose=True))
    assert FULL in r.stderr, r.stderr
    assert a.ping(2) == 0
    assert header(env) == (magic, n, 0)
    r = X.ok(env.xtc(ok, "apply", verbose=True))
    assert FULL not in r.stderr and a.ping(2) == 2
