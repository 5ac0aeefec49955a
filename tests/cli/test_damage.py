# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Damage done by hand: status names it (exit 3) and the next apply repairs it,
without disturbing what is not xtc's.  unload finds xtc's programs in the kernel
with or without their pins."""
import json
import os
import shutil

import pytest

from lib import xtc_cli as X
from lib.netns import sh

PINS = ["maps/xtc_rules", "maps/xtc_masks", "maps/xtc_config", "maps/xtc_ifaces",
        "maps/xtc_ipmap", "maps/xtc_rule_stats", "maps/xtc_iface_stats",
        "maps/xtc_rule_info", "maps/xtc_rule_sets", "maps/xtc_set_elems",
        "maps/xtc_rule_digest", "maps/xtc_vcache", "maps/xtc_iface_idx", "progs/tc_ingress",
        "progs/tc_egress"]


@pytest.fixture
def loaded(env):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: {"tc_ingress": "on"},
                      b.name: {"xdp": "off", "tc_egress": "on"}},
                     [("icmp", {"interface": a.name, "proto": "icmp", "action": "pass"}),
                      ("web", {"proto": "tcp", "dst_port": "80", "action": "drop"}),
                      ("dns", {"interface": b.name, "direction": "egress", "proto": "udp",
                               "dst_port": "53", "action": "pass"})])
    X.ok(env.xtc(cfg, "apply"))
    return env, cfg, a, b


def problems(cfg):
    r = X.xtc(cfg, "status", "--json")
    st = json.loads(r.stdout)
    return r.returncode, [(p["problem"], p.get("interface")) for p in st["problems"]]


def assert_repaired(env, cfg):
    X.ok(env.xtc(cfg, "apply"))
    assert problems(cfg) == (0, [])
    dry = env.xtc(cfg, "apply", "--dry-run")
    left = [l for l in dry.stdout.splitlines()[1:] if not l.startswith("~ ipmap:")]
    assert not left, dry.stdout


@pytest.mark.parametrize("pin", PINS)
def test_each_pin_deleted_is_named_and_repaired(loaded, pin):
    env, cfg, a, b = loaded
    xdp = X.xdp_prog(a.name)
    os.unlink(os.path.join(env.state, pin))
    rc, found = problems(cfg)
    if pin in ("maps/xtc_rule_digest", "maps/xtc_vcache"):
        # Optional: re-applies compare in full once (digests), programs loaded meanwhile
        # have a verdict cache of their own (vcache); then it is made again.
        assert rc == 0, found
    else:
        assert rc == X.EXIT_DIFF and ("pin_missing", None) in found, found
    assert_repaired(env, cfg)
    assert os.path.exists(os.path.join(env.state, pin))
    # Repairing the state never re-attached XDP.
    assert X.xdp_prog(a.name) == xdp
    X.ok(env.xtc(env.base, "unload", "--all"))
    X.eventually(lambda: X.bare(a.name) and X.bare(b.name), what="bare after unload")


def index_elements(env):
    """{element: value} of xtc_iface_idx that are not empty."""
    path = os.path.join(env.state, "maps", "xtc_iface_idx")
    dump = [e["formatted"] for e in
            json.loads(sh(["bpftool", "-j", "map", "dump", "pinned", path]).stdout)]
    return {e["key"]: e["value"] for e in dump if e["value"]}


def records(env):
    """{ifindex: flags} of xtc_ifaces."""
    path = os.path.join(env.state, "maps", "xtc_ifaces")
    dump = [e["formatted"] for e in
            json.loads(sh(["bpftool", "-j", "map", "dump", "pinned", path]).stdout)]
    return {e["key"]: e["value"]["flags"] for e in dump}


def test_index_of_the_records_written_by_hand_is_named_and_repaired(loaded):
    """TC's copy of the records' flags (xtc_iface_idx): an element with other flags,
    one that names an interface without a record, one that is gone; each is named
    by status and written again by apply from the records."""
    env, cfg, a, b = loaded
    recs = records(env)
    want = {i % 4096: f << 32 | i for i, f in recs.items()}
    assert index_elements(env) == want
    ia, ib = (int(open(f"/sys/class/net/{p.name}/ifindex").read()) for p in (a, b))
    path = os.path.join(env.state, "maps", "xtc_iface_idx")

    def put(key, value):
        sh(["bpftool", "map", "update", "pinned", path, "key"] +
           [str(x) for x in key.to_bytes(4, "little")] + ["value"] +
           [str(x) for x in value.to_bytes(8, "little")])

    put(ia % 4096, ia)                        # a's element without a's flags
    put(ib % 4096, 0)                         # b's element gone
    free = next(k for k in range(4096) if k not in want)
    put(free, 1 << 32 | (4096 * 20 + free))   # an interface nobody recorded
    rc, found = problems(cfg)
    assert rc == X.EXIT_DIFF and ("iface_index_stale", None) in found, found
    dry = env.xtc(cfg, "apply", "--dry-run").stdout
    assert "3 element(s) disagree" in dry, dry
    assert_repaired(env, cfg)
    assert index_elements(env) == want


def test_link_detached_by_hand_is_attached_again(loaded):
    env, cfg, a, b = loaded
    link = X.tcx_links(b.name, egress=True)
    sh(["bpftool", "link", "detach", "id", str(link[0])])
    assert problems(cfg) == (X.EXIT_DIFF, [("tc_egress_detached", b.name)])
    assert_repaired(env, cfg)
    assert X.tcx_progs(b.name, egress=True)


def test_clsact_deleted_by_hand_is_made_again(env):
    a = env.pair()
    cfg = env.config({a.name: {"xdp": "off", "tc_ingress": "on"}},
                     [("web", {"proto": "tcp", "dst_port": "80", "action": "drop"})],
                     glob={"tc_attach": "cls_bpf"})
    X.ok(env.xtc(cfg, "apply"))
    sh(["tc", "qdisc", "del", "dev", a.name, "clsact"])
    rc, found = problems(cfg)
    assert rc == X.EXIT_DIFF and ("tc_ingress_detached", a.name) in found, found
    assert_repaired(env, cfg)
    assert X.cls_bpf_ids(a.name)
    X.ok(env.xtc(env.base, "unload", "--all"))
    assert X.bare(a.name), X.kernel_view(a.name)


def test_xdp_replaced_by_someone_else_is_named_and_left_alone(loaded):
    env, cfg, a, b = loaded
    sh(["ip", "link", "set", "dev", a.name, "xdpgeneric", "off"])
    theirs = env.xdp_filter(a)
    rc, found = problems(cfg)
    assert rc == X.EXIT_DIFF and ("xdp_replaced", a.name) in found, found
    r = env.xtc(cfg, "apply")
    assert r.returncode == X.EXIT_RUNTIME and theirs[1] in r.stderr, r
    assert X.xdp_prog(a.name) == theirs            # never replaced
    env.xdp_filter_on.remove(a)
    sh(["xdp-filter", "unload", a.name], env=dict(os.environ, LIBXDP_BPFFS=env.bpffs.path))
    assert_repaired(env, cfg)


def test_unload_finds_our_programs_without_any_pin(loaded):
    """The whole state directory removed by hand: the TCX links go with their pins; XDP
    stays attached, and unload still finds it by its mark."""
    env, cfg, a, b = loaded
    xdp = X.xdp_prog(a.name)
    shutil.rmtree(env.state)
    assert X.xdp_prog(a.name) == xdp
    rc, found = problems(cfg)
    assert rc == X.EXIT_DIFF and ("program_unrecorded", a.name) in found, found
    X.ok(env.xtc(env.base, "unload", "--all"))
    X.eventually(lambda: X.bare(a.name) and X.bare(b.name), what="bare after unload")


def test_apply_takes_the_maps_back_from_running_programs(loaded):
    """The whole state directory removed by hand: apply pins again the maps that the
    attached XDP program still holds, so counters continue."""
    env, cfg, a, b = loaded
    xdp = X.xdp_prog(a.name)
    rules_map = X.state_map_id(env.bpffs.path)
    shutil.rmtree(env.state)
    r = X.ok(env.xtc(cfg, "apply"))
    assert "taken from program" in r.stdout, r.stdout
    assert X.state_map_id(env.bpffs.path) == rules_map
    assert X.xdp_prog(a.name) == xdp
    assert problems(cfg) == (0, [])
