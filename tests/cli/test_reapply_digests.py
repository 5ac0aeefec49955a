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
    assert (magic, flags) == (0x7874634400000002, 0)
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


def slots_read(stderr):
    """From -vv: how many rule records observe read ("timing: observe N rule slots")."""
    for ln in stderr.splitlines():
        if "timing: observe " in ln and " rule slots" in ln:
            return int(ln.split("timing: observe ")[1].split()[0])
    raise AssertionError(stderr)


def kernel_rules(env, cfg):
    return sorted(r["rule"] for r in
                  json.loads(X.ok(env.xtc(cfg, "rules", "--json")).stdout)["rules"])


def test_observe_reads_only_used_slots(env):
    """Trusted digests bound the rule records read: ids are reused lowest first, so with
    four rules of the test's 256 slots observe reads four.  Shrinking leaves the kept
    rule at its id (the bound stays), a new rule takes the lowest free id, and the
    kernel's rules and verdicts are right at every step."""
    a = env.pair()
    mk = lambda rules: env.config(  # noqa: E731
        {a.name: {"tc_ingress": "on"}}, [(n, {"proto": "udp", "dst_port": str(1000 + i),
                                              "action": "drop"}) for i, n in rules] +
        [("icmp", {"interface": a.name, "proto": "icmp", "action": "drop"})])
    X.ok(env.xtc(mk([(0, "r0"), (1, "r1"), (2, "r2")]), "apply"))
    assert a.ping(1) == 0
    r = X.ok(env.xtc(mk([(0, "r0"), (1, "r1"), (2, "r2")]), "apply", verbose=2))
    assert slots_read(r.stderr) == 4, r.stderr
    only_icmp = mk([])
    r = X.ok(env.xtc(only_icmp, "apply", verbose=2))
    assert slots_read(r.stderr) == 4, r.stderr       # icmp holds id 3
    assert kernel_rules(env, only_icmp) == ["icmp"] and a.ping(1) == 0
    r = X.ok(env.xtc(mk([(5, "new")]), "apply", verbose=2))
    assert slots_read(r.stderr) == 4, r.stderr
    assert kernel_rules(env, only_icmp) == ["icmp", "new"] and a.ping(1) == 0
    # Without icmp, only "new" (id 0) is left: one slot is read next time.
    X.ok(env.xtc(env.config({a.name: {"tc_ingress": "on"}},
                            [("new", {"proto": "udp", "dst_port": "1005", "action": "drop"})]),
                 "apply"))
    assert a.ping(1) == 1
    r = X.ok(env.xtc(only_icmp, "apply", verbose=2))
    assert slots_read(r.stderr) == 1, r.stderr
    assert kernel_rules(env, only_icmp) == ["icmp"] and a.ping(1) == 0


def test_older_digest_format_compares_in_full(env):
    """A header of format 1 (an older xtc, whose rules without entries had zero digests)
    is not trusted: every record is read and the hash compared once, then format 2."""
    a = env.pair()
    ok, drop = configs(env, a)
    X.ok(env.xtc(ok, "apply"))
    _, n, flags = header(env)
    value = [f"0x{b:02x}" for b in struct.pack("<QII", 0x7874634400000001, n, flags)]
    sh(["bpftool", "map", "update", "pinned", os.path.join(env.state, "maps", "xtc_rule_digest"),
        "key", "0", "0", "0", "0", "value"] + value)
    r = X.ok(env.xtc(drop, "apply", verbose=2))
    assert FULL in r.stderr, r.stderr
    assert slots_read(r.stderr) == 256, r.stderr
    assert a.ping(2) == 0
    assert header(env)[0] == 0x7874634400000002
    r = X.ok(env.xtc(ok, "apply", verbose=2))
    assert FULL not in r.stderr and a.ping(2) == 2
    assert slots_read(r.stderr) == 3, r.stderr
