# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""apply: idempotency, rule changes written in place, interfaces leaving the file."""
import os

import pytest

from lib import xtc_cli as X
from lib.netns import sh


def snapshot(env, pairs, cfg):
    return {
        "ids": X.prog_ids(X.status_json(cfg)),
        "progs": X.our_progs(env.bpffs.path),
        "kernel": {p.name: X.kernel_view(p.name) for p in pairs},
        "maps": X.dump_maps(env.bpffs.path),
        "pins": {f: os.stat(os.path.join(env.bpffs.path, f)).st_ino
                 for f in env.bpffs.state_listing()},
    }


def apply_again(env, cfg, pairs, tries=5):
    """Applies cfg a second time while the host's routes hold still.

    xtc's IP-to-ifindex map mirrors the host's addresses and routes, and other
    test runs on this host may change those at any moment; a round in which
    they changed proves nothing, so it is repeated."""
    for _ in range(tries):
        routes = X.host_routing()
        X.ok(env.xtc(cfg, "apply"))
        before = snapshot(env, pairs, cfg)
        progs = set(X.xtc_progs())
        r = env.xtc(cfg, "apply")
        after = snapshot(env, pairs, cfg)
        if X.host_routing() == routes:
            return r, before, after, progs
    pytest.skip("the host's addresses kept changing under the test")


@pytest.mark.parametrize("tc_attach", ["auto", "cls_bpf"])
def test_second_apply_is_no_changes(env, tc_attach):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: {"tc_ingress": "on", "tc_egress": "on"},
                      b.name: {"xdp_priority": 50, "tc_ingress": "on"}},
                     [("icmp", {"interface": a.name, "proto": "icmp", "action": "pass"}),
                      ("web", {"proto": "tcp", "dst_port": "80-90", "action": "drop"}),
                      ("fwd", {"interface": b.name, "dst": "10.9.9.0/24", "action": "redirect",
                               "redirect": "neigh", "target": "auto"})],
                     glob={"tc_attach": tc_attach}, statics={"10.9.9.0/24": a.name})
    first = X.ok(env.xtc(cfg, "apply"))
    assert "+ state " in first.stdout

    r, before, after, progs = apply_again(env, cfg, [a, b])
    assert r.returncode == 0, r
    assert r.stdout == "no changes\n"
    assert r.stderr == ""
    assert after == before
    ids = before["ids"]
    assert all(ids[n][0] and ids[n][1] for n in (a.name, b.name)), ids
    # No new xtc program of ours appeared anywhere.
    new = {i: p for i, p in X.xtc_progs().items() if i not in progs}
    mid = X.state_map_id(env.bpffs.path)
    assert not [p for p in new.values() if mid in p.get("map_ids", [])], new
    # Exactly one XDP program per interface and the two TC programs.
    assert sorted(before["progs"].values()) == ["xtc_tc_egress", "xtc_tc_ingress",
                                                "xtc_xdp", "xtc_xdp"]


def test_changed_rules_are_written_in_place(env):
    a = env.pair()
    icmp = {"interface": a.name, "proto": "icmp"}
    pass_cfg = env.config({a.name: {"tc_ingress": "on"}},
                          [("icmp-in", dict(icmp, action="pass"))])
    X.ok(env.xtc(pass_cfg, "apply"))
    ids = X.prog_ids(X.status_json(pass_cfg))
    progs = X.our_progs(env.bpffs.path)
    assert a.ping(3) == 3
    assert X.rule_packets(X.stats_json(pass_cfg), "icmp-in") == 3

    drop_cfg = env.config({a.name: {"tc_ingress": "on"}},
                          [("icmp-in", dict(icmp, action="drop")),
                           ("dns", {"proto": "udp", "dst_port": "53", "action": "pass"})])
    r = X.ok(env.xtc(drop_cfg, "apply"))
    assert not [l for l in r.stdout.splitlines() if "attach" in l or "detach" in l
                or l.startswith(("+ xdp", "- xdp", "~ xdp", "+ tc_", "- tc_", "~ tc_"))], r.stdout
    # The plan names each rule change, as the file names the rule.
    lines = r.stdout.splitlines()
    assert "~ rule icmp-in: action pass -> drop" in lines, r.stdout
    assert "+ rule dns" in lines, r.stdout
    assert any(l.startswith("~ classifier: ") and "entries added" in l for l in lines), r.stdout
    assert X.prog_ids(X.status_json(drop_cfg)) == ids
    assert X.our_progs(env.bpffs.path) == progs

    def xdp_dropped():
        st = X.stats_json(drop_cfg)
        return sum(i["dropped"] for i in st["interfaces"]
                   if i["interface"] == a.name and i["hook"] == "xdp")

    dropped = xdp_dropped()
    assert a.ping(3) == 0
    stats = X.stats_json(drop_cfg)
    rule = [x for x in stats["rules"] if x["rule"] == "icmp-in"][0]
    assert rule["action"] == "drop"
    assert rule["packets"] >= 3
    assert xdp_dropped() == dropped + 3
    assert X.rule_packets(stats, "dns") == 0

    X.ok(env.xtc(pass_cfg, "apply"))
    assert a.ping(3) == 3
    assert X.prog_ids(X.status_json(pass_cfg)) == ids
    assert X.our_progs(env.bpffs.path) == progs


def test_interface_removed_from_file_loses_only_our_programs(env):
    a, b = env.pair(), env.pair()
    # Someone else's classifier on b, in a clsact qdisc beside our TCX programs.
    sh(["tc", "qdisc", "add", "dev", b.name, "clsact"])
    sh(["tc", "filter", "add", "dev", b.name, "ingress", "prio", "1", "u32",
        "match", "u32", "0", "0"])
    foreign = X.tc_filters(b.name)
    both = env.config({a.name: {"tc_ingress": "on"}, b.name: {"tc_ingress": "on", "tc_egress": "on"}},
                      [("icmp", {"proto": "icmp", "action": "pass"})])
    X.ok(env.xtc(both, "apply"))
    status = X.status_json(both)
    ids = X.prog_ids(status)
    b_xdp = ids[b.name][0]
    a_view = X.kernel_view(a.name)
    assert X.tcx_progs(b.name) and X.xdp_prog(b.name)

    only_a = env.config({a.name: {"tc_ingress": "on"}},
                        [("icmp", {"proto": "icmp", "action": "pass"})])
    r = X.ok(env.xtc(only_a, "apply"))
    lines = r.stdout.splitlines()
    for want in (f"- xdp {b.name} (id {b_xdp})", f"- tc_ingress {b.name} (tcx)",
                 f"- tc_egress {b.name} (tcx)",
                 f"- interface {b.name} (not in the file)", f"{b.name}: xtc removed"):
        assert want in lines, r.stdout
    assert not [l for l in lines if a.name in l], r.stdout

    # b: ours gone, the other classifier untouched.
    assert X.xdp_prog(b.name) is None
    assert X.tcx_progs(b.name) == [] and X.tcx_progs(b.name, egress=True) == []
    assert X.has_clsact(b.name) and X.tc_filters(b.name) == foreign
    # a: exactly as before, same program ids.
    assert X.kernel_view(a.name) == a_view
    after = X.status_json(only_a)
    assert [i["interface"] for i in after["interfaces"]] == [a.name]
    assert X.prog_ids(after)[a.name] == ids[a.name]
    X.eventually(lambda: b_xdp not in X.our_progs(env.bpffs.path),
                 what=f"b's XDP program {b_xdp} is freed")
    assert r.stderr == ""
