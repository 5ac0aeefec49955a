# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""apply is all or nothing: when one interface cannot be attached, the others
are left exactly as they were.

xdp-filter attached without the libxdp dispatcher (which this kernel cannot
run) cannot get company: xtc must refuse rather than replace it."""
import json
import os

from lib import xtc_cli as X
from lib.netns import sh


def assert_refusal(r, blocked, prog):
    assert r.returncode == X.EXIT_RUNTIME, r
    err = r.stderr
    assert blocked.name in err
    assert "already has XDP program" in err and prog[1] in err and str(prog[0]) in err
    assert "without the libxdp dispatcher" in err
    assert "Unload it first" in err
    assert "rolled back" in err


def test_fresh_state_second_interface_blocked(env):
    a, b = env.pair(), env.pair()
    prog = env.xdp_filter(b)
    listing = env.bpffs.listing()
    cfg = env.config({a.name: {"tc_ingress": "on", "tc_egress": "on"}, b.name: {}},
                     [("icmp", {"proto": "icmp", "action": "drop"})])

    r = env.xtc(cfg, "apply")
    assert_refusal(r, b, prog)
    assert f"{a.name}: XDP attached" in r.stdout          # a got that far

    # a was attached first and must have been rolled back completely.
    assert X.bare(a.name), X.kernel_view(a.name)
    assert a.ping(2) == 2                       # and the drop rule is not in force
    # No pins left behind, nothing else created in the bpffs.
    assert not os.path.exists(env.state)
    assert env.bpffs.listing() == listing
    # xdp-filter still there, the same program.
    assert X.xdp_prog(b.name) == prog
    assert X.tcx_progs(b.name) == [] and not X.has_clsact(b.name)
    # status agrees that nothing is loaded.
    assert env.xtc(env.base, "status").returncode == X.EXIT_DIFF


def ifaces_map(env):
    """xtc_ifaces as {name: value} from bpftool's BTF view."""
    path = os.path.join(env.state, "maps", "xtc_ifaces")
    return {e["formatted"]["value"]["name"]: dict(e["formatted"]["value"])
            for e in json.loads(sh(["bpftool", "-j", "map", "dump", "pinned", path]).stdout)}


def everything(env, cfg, a):
    return {
        "status": X.status_json(cfg),
        "kernel": X.kernel_view(a.name),
        "maps": X.dump_maps(env.bpffs.path, live_only=True),
        "progs": X.our_progs(env.bpffs.path),
        "pins": env.bpffs.state_listing(),
        "rules": [(r["rule"], r["action"]) for r in X.stats_json(cfg)["rules"]],
    }


def assert_same(before, after):
    for k in before:
        if k == "maps":
            for m in before[k]:
                assert after[k][m] == before[k][m], f"map {m} changed"
        else:
            assert after[k] == before[k], f"{k} changed"


def existing_state(env, a):
    old = env.config({a.name: {"tc_ingress": "on"}},
                     [("icmp", {"interface": a.name, "proto": "icmp", "action": "pass"})])
    X.ok(env.xtc(old, "apply"))
    assert a.ping(2) == 2
    return old


def test_existing_state_second_interface_blocked(env):
    a, b = env.pair(), env.pair()
    prog = env.xdp_filter(b)
    old = existing_state(env, a)
    before = everything(env, old, a)

    # Changes on a too (a new TC hook, other rules), so there is something to roll back.
    new = env.config({a.name: {"tc_ingress": "on", "tc_egress": "on"}, b.name: {}},
                     [("icmp", {"interface": a.name, "proto": "icmp", "action": "drop"}),
                      ("dns", {"proto": "udp", "dst_port": "53", "action": "drop"})])
    r = env.xtc(new, "apply")
    assert_refusal(r, b, prog)
    assert f"{a.name}: TC egress attached" in r.stdout     # it did get that far

    # a exactly as before: same programs, same ids, same rules, same pins.
    assert_same(before, everything(env, old, a))
    assert a.ping(2) == 2                                  # the old rule (pass) is in force
    assert X.xdp_prog(b.name) == prog
    assert X.tcx_progs(b.name) == [] and not X.has_clsact(b.name)


def test_existing_state_rollback_restores_xdp_settings(env):
    """A changed XDP priority means a new XDP program on a; after the rollback a
    runs our program again with the old settings and the state says so."""
    a, b = env.pair(), env.pair()
    prog = env.xdp_filter(b)
    old = existing_state(env, a)
    before = everything(env, old, a)
    old_if = ifaces_map(env)[a.name]

    new = env.config({a.name: {"tc_ingress": "on", "xdp_priority": 40}, b.name: {}},
                     [("icmp", {"interface": a.name, "proto": "icmp", "action": "drop"})])
    r = env.xtc(new, "apply")
    assert_refusal(r, b, prog)

    after = everything(env, old, a)
    xdp = after["kernel"]["xdp"]
    assert xdp is not None and xdp[1] == "xtc_xdp"
    now_if = ifaces_map(env)[a.name]
    # The state must record the program that is attached now, or status calls it
    # "not attached", every later apply fails with EEXIST and unload leaves it behind.
    assert now_if["xdp_prog_id"] == xdp[0], (
        f"xtc_ifaces records XDP program {now_if['xdp_prog_id']}, the kernel runs {xdp[0]}")
    assert dict(now_if, xdp_prog_id=0) == dict(old_if, xdp_prog_id=0)
    assert X.iface_status(after["status"], a.name)["xdp"]["program_id"] == xdp[0]
    for d in (before, after):
        d["kernel"]["xdp"] = None
        d["status"] = None
        d["progs"] = sorted(d["progs"].values())
        d["maps"].pop("xtc_ifaces")
    assert_same(before, after)
    assert a.ping(2) == 2
    assert X.xdp_prog(b.name) == prog
    # Nothing left to do for the old file but what the host's routes changed.
    r = X.ok(env.xtc(old, "apply"))
    assert all("ip-to-ifindex" in l.lower() for l in r.stdout.splitlines()
               if l != "no changes"), r.stdout
    X.ok(env.xtc(old, "unload", "--all"))
    assert X.bare(a.name), X.kernel_view(a.name)
