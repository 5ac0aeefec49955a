# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""[interface PATTERN] and optional = yes under apply: a pattern manages every
interface it matches (a named section wins, then the first pattern in the file),
and an optional interface that is missing is no error: its rules wait for it and
are loaded by the first apply that finds it."""
import json
import os

from lib import xtc_cli as X


def status(cfg):
    return json.loads(X.ok(X.xtc(cfg, "status", "--json")).stdout)


def rule_names(env, cfg):
    out = json.loads(X.ok(env.xtc(cfg, "rules", "--json")).stdout)
    return sorted(r["rule"] for r in out["rules"])


def test_pattern_takes_what_it_matches_and_named_sections_win(env):
    tag = f"xp{os.getpid() % 1000}"
    a, b = env.pair(name=f"{tag}a0"), env.pair(name=f"{tag}a1")
    named = env.pair(name=f"{tag}b0")
    other = env.pair()
    cfg = env.config({f"{tag}a*": {"xdp": "off", "tc_ingress": "on"},
                      f"{tag}?0": {"xdp": "on", "tc_ingress": "on", "xdp_mode": "skb"},
                      named.name: {"xdp": "off", "tc_ingress": "off", "tc_egress": "on"}},
                     [("web", {"proto": "tcp", "dst_port": "80", "action": "drop"})])
    r = X.ok(env.xtc(cfg, "apply"))
    st = status(cfg)
    names = {i["interface"] for i in st["interfaces"]}
    assert names == {a.name, b.name, named.name}, (names, r.stdout)
    assert other.name not in names
    # a0 matches both patterns: the first in the file (no XDP) wins.
    assert X.xdp_prog(a.name) is None and X.iface_status(st, a.name)["tc_ingress"]["attached"]
    assert X.iface_status(st, b.name)["tc_ingress"]["attached"] is True
    # b0 matches the second pattern, but its own section says egress only.
    assert X.xdp_prog(named.name) is None
    assert X.iface_status(st, named.name)["tc_egress"]["attached"] is True
    assert X.iface_status(st, named.name)["tc_ingress"]["attached"] is False
    # A new match is taken by the next apply; a gone one is forgotten.
    c = env.pair(name=f"{tag}a2")
    env.mod.net.remove(b)
    r = X.ok(env.xtc(cfg, "apply"))
    names = {i["interface"] for i in status(cfg)["interfaces"]}
    assert names == {a.name, c.name, named.name}, (names, r.stdout)


def test_optional_interface_waits_with_its_rules(env):
    name = f"xo{os.getpid() % 10000}"
    cfg = env.config({name: {"optional": "yes", "xdp": "off", "tc_ingress": "on"}},
                     [("on-it", {"interface": name, "proto": "udp", "action": "drop"}),
                      ("any", {"proto": "tcp", "dst_port": "22", "action": "pass"})])
    r = X.ok(env.xtc(cfg, "check"))
    assert r.stderr == "", r.stderr
    X.ok(env.xtc(cfg, "apply"))
    assert rule_names(env, cfg) == ["any"]
    p = env.pair(name=name)
    r = X.ok(env.xtc(cfg, "apply"))
    assert f"+ rule on-it" in r.stdout, r.stdout
    assert rule_names(env, cfg) == ["any", "on-it"]
    assert X.iface_status(status(cfg), p.name)["tc_ingress"]["attached"] is True


def test_rule_on_a_pattern_is_one_rule_per_interface(env):
    tag = f"xq{os.getpid() % 1000}"
    a, b = env.pair(name=f"{tag}a"), env.pair(name=f"{tag}b")
    other = env.pair()
    cfg = env.config({f"{tag}*": {"xdp": "off", "tc_ingress": "on"},
                      other.name: {"xdp": "off", "tc_ingress": "on"}},
                     [("web", {"interface": f"{tag}*", "proto": "tcp", "dst_port": "80",
                               "action": "drop"})])
    X.ok(env.xtc(cfg, "apply"))
    assert rule_names(env, cfg) == [f"web@{a.name}", f"web@{b.name}"]
    pkt = "tcp 10.1.1.1:4000 -> 10.2.2.2:80"
    for p, want in ((a, "drop"), (b, "drop"), (other, "pass")):
        out = json.loads(X.ok(env.xtc(cfg, "explain", "--json", p.name, pkt)).stdout)
        assert out["verdict"] == want, (p.name, out)
