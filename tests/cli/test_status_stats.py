# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""status and stats: JSON that parses and a status that matches what the kernel
has, with every difference listed as a problem (tests/cli/test_prometheus.py has
the Prometheus format)."""
import json
import os

import pytest

from lib import xtc_cli as X
from lib.netns import sh


@pytest.fixture
def loaded(env):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: {"xdp_priority": 42, "tc_ingress": "on"},
                      b.name: {"xdp": "off", "tc_egress": "on"}},
                     [("icmp-a", {"interface": a.name, "proto": "icmp", "action": "pass"}),
                      ("web", {"proto": "tcp", "dst_port": "80", "action": "drop"}),
                      ("out-dns", {"direction": "egress", "proto": "udp", "dst_port": "53",
                                   "action": "pass"})])
    X.ok(env.xtc(cfg, "apply"))
    return env, cfg, a, b


def test_status_json_matches_the_kernel(loaded):
    env, cfg, a, b = loaded
    r = X.ok(env.xtc(cfg, "status", "--json"))
    assert r.stderr == ""
    st = json.loads(r.stdout)
    assert st["state"] == env.state
    assert st["kernel"] == {"xdp_dispatcher_usable": False, "tcx_available": True}
    assert st["rule_count"] == 3
    assert st["loaded"] is True and st["problem_count"] == 0 and st["problems"] == []
    assert st["last_apply_timestamp_seconds"] > 1.7e9
    assert sorted(i["interface"] for i in st["interfaces"]) == sorted([a.name, b.name])
    # Per interface: its own rules and those on every interface.
    assert {i["interface"]: i["rule_count"] for i in st["interfaces"]} == \
        {a.name: 3, b.name: 2}

    sa = X.iface_status(st, a.name)
    assert sa["ifindex"] == a.ifindex
    assert sa["xdp"]["attached"] is True
    assert sa["xdp"]["mode"] == "skb"
    assert sa["xdp"]["via"] == "single"      # this kernel refuses libxdp's dispatcher
    assert (sa["xdp"]["program_id"], "xtc_xdp") == X.xdp_prog(a.name)
    assert [p["ours"] for p in sa["xdp"]["programs"]] == [True]
    assert sa["tc_ingress"]["attached"] is True and sa["tc_ingress"]["kind"] == "tcx"
    assert X.tcx_progs(a.name) == [sa["tc_ingress"]["program_id"]]
    # On by default: the egress rule (interface *) applies to a.
    assert sa["tc_egress"]["attached"] is True
    assert X.tcx_progs(a.name, egress=True) == [sa["tc_egress"]["program_id"]]

    sb = X.iface_status(st, b.name)
    assert sb["xdp"]["attached"] is False and sb["xdp"]["configured"] is False
    assert X.xdp_prog(b.name) is None
    assert X.tcx_progs(b.name, egress=True) == [sb["tc_egress"]["program_id"]]
    # On by default: xdp = off and the ingress rule "web" applies to b.
    assert sb["tc_ingress"]["attached"] is True
    assert X.tcx_progs(b.name) == [sb["tc_ingress"]["program_id"]]


def test_status_shows_single_program_and_our_priority(loaded):
    env, cfg, a, _ = loaded
    sa = X.iface_status(X.status_json(cfg), a.name)
    assert sa["xdp"]["via"] == "single"
    assert sa["xdp"]["priority"] == 42, sa["xdp"]
    assert [p["priority"] for p in sa["xdp"]["programs"] if p["ours"]] == [42]
    text = X.ok(env.xtc(cfg, "status")).stdout
    assert "via: single" in text
    assert "priority: 42" in text and "priority: 30" not in text, text
    # With TCX, tc and bpftool 7.1's `bpftool net` show nothing: status says where to look.
    assert "bpftool link" in text


def test_status_follows_the_kernel(loaded):
    env, cfg, a, _ = loaded
    # Someone removes our XDP program behind xtc's back.
    sh(["ip", "link", "set", "dev", a.name, "xdpgeneric", "off"])
    r = env.xtc(cfg, "status", "--json")
    assert r.returncode == X.EXIT_DIFF, r           # the kernel differs from what was applied
    assert r.stderr == ""                           # problems are output, not log lines
    st = json.loads(r.stdout)
    sa = X.iface_status(st, a.name)
    assert sa["xdp"]["attached"] is False and sa["xdp"]["configured"] is True
    assert [(p["problem"], p["interface"]) for p in st["problems"]] == [("xdp_detached", a.name)]
    assert st["problem_count"] == 1 and "xtc apply" in st["problems"][0]["message"]
    text = env.xtc(cfg, "status")
    assert text.returncode == X.EXIT_DIFF and "problem: xdp_detached" in text.stdout
    # The next apply puts it back.
    r = X.ok(env.xtc(cfg, "apply"))
    assert f"+ xdp {a.name} (skb mode, priority 42)" in r.stdout
    sa = X.iface_status(X.status_json(cfg), a.name)
    assert sa["xdp"]["attached"] is True
    assert (sa["xdp"]["program_id"], "xtc_xdp") == X.xdp_prog(a.name)


def test_status_names_a_missing_interface_and_a_detached_tc_hook(loaded):
    env, cfg, a, b = loaded
    sb = X.iface_status(X.status_json(cfg), b.name)
    link = X.tcx_links(b.name, egress=True)
    assert link, "no TCX link on b's egress"
    sh(["bpftool", "link", "detach", "id", str(link[0])])
    sh(["ip", "link", "del", a.name])
    r = env.xtc(cfg, "status", "--json")
    assert r.returncode == X.EXIT_DIFF, r
    st = json.loads(r.stdout)
    got = sorted((p["problem"], p["interface"]) for p in st["problems"])
    assert got == sorted([("interface_missing", a.name), ("tc_egress_detached", b.name)]), got
    assert X.iface_status(st, a.name)["present"] is False
    assert X.iface_status(st, b.name)["tc_egress"]["attached"] is False
    assert sb["tc_egress"]["attached"] is True


def test_status_names_a_missing_pin_and_apply_makes_it_anew(loaded):
    """xtc_rule_info is the loader's alone (no program holds it): apply makes it anew,
    without touching what is attached."""
    env, cfg, a, b = loaded
    xdp = X.xdp_prog(a.name)
    os.unlink(os.path.join(env.state, "maps", "xtc_rule_info"))
    r = env.xtc(cfg, "status", "--json")
    assert r.returncode == X.EXIT_DIFF, r
    st = json.loads(r.stdout)
    assert st["loaded"] is False
    pins = [p for p in st["problems"] if p["problem"] == "pin_missing"]
    assert len(pins) == 1 and "maps/xtc_rule_info" in pins[0]["message"], st["problems"]
    assert "run xtc apply, which makes it anew" in pins[0]["message"]
    # What can still be read is still shown.
    assert X.iface_status(st, a.name)["xdp"]["attached"] is True
    r = X.ok(env.xtc(cfg, "apply"))
    assert "+ state maps/xtc_rule_info (was gone: made anew)" in r.stdout, r.stdout
    assert X.ok(env.xtc(cfg, "status")).returncode == 0
    assert X.xdp_prog(a.name) == xdp
    assert "no changes" in X.ok(env.xtc(cfg, "apply")).stdout
    rules = json.loads(X.ok(env.xtc(cfg, "rules", "--json")).stdout)
    assert sorted(r["rule"] for r in rules["rules"]) == ["icmp-a", "out-dns", "web"]


def test_status_names_a_map_of_another_version(loaded):
    """A pin of another layout: status names it, and apply (its advice) moves the state
    to this layout, replacing our programs in place."""
    env, cfg, a, b = loaded
    path = os.path.join(env.state, "maps", "xtc_config")
    os.unlink(path)
    sh(["bpftool", "map", "create", path, "type", "array", "key", "4", "value", "8",
        "entries", "1", "name", "xtc_config"])
    r = env.xtc(cfg, "status", "--json")
    assert r.returncode == X.EXIT_DIFF, r
    st = json.loads(r.stdout)
    foreign = [p for p in st["problems"] if p["problem"] == "pin_foreign"]
    assert len(foreign) == 1 and "maps/xtc_config" in foreign[0]["message"], st["problems"]
    assert "another version" in foreign[0]["message"]
    assert "run xtc apply, which moves it to this version's layout" in foreign[0]["message"]
    for cmd in (["rules"], ["ipmap"]):
        r = env.xtc(cfg, *cmd)
        assert r.returncode == X.EXIT_RUNTIME and "incomplete" in r.stderr, r
    xdp = X.xdp_prog(a.name)
    r = X.ok(env.xtc(cfg, "apply"))
    assert "+ state maps/xtc_config (another layout: made anew in this xtc's)" in r.stdout
    assert X.xdp_prog(a.name)[0] != xdp[0], "XDP still runs on the old xtc_config"
    assert X.ok(env.xtc(cfg, "status")).returncode == 0
    assert "no changes" in X.ok(env.xtc(cfg, "apply")).stdout
    X.ok(env.xtc(cfg, "unload", "--all"))
    assert not os.path.exists(env.state)
    X.eventually(lambda: X.bare(a.name) and X.bare(b.name), what="a and b are bare")
    X.ok(env.xtc(cfg, "apply"))
    assert X.ok(env.xtc(cfg, "status")).returncode == 0


def test_without_the_interfaces_map_unload_finds_our_programs(loaded):
    env, cfg, a, b = loaded
    os.unlink(os.path.join(env.state, "maps", "xtc_ifaces"))
    st = json.loads(env.xtc(cfg, "status", "--json").stdout)
    pins = [p for p in st["problems"] if p["problem"] == "pin_missing"]
    assert "maps/xtc_ifaces" in pins[0]["message"]
    assert "takes it back from the running programs" in pins[0]["message"]
    X.ok(env.xtc(cfg, "unload", "--all"))
    assert not os.path.exists(env.state)
    X.eventually(lambda: X.bare(a.name) and X.bare(b.name), what="a and b are bare")


def test_every_command_refuses_a_relative_bpffs_as_check_does(tmp_path):
    """One reader, one rule: status and unload must not follow the working directory."""
    cfg = tmp_path / "rel.ini"
    cfg.write_text("[global]\nbpffs = sys/fs/bpf\n")
    for cmd in (["check"], ["status"], ["stats"], ["unload", "--all"]):
        r = X.xtc(cfg, *cmd)
        assert r.returncode == X.EXIT_USAGE, (cmd, r)
        assert f"{cfg}:2: bad value 'sys/fs/bpf' for bpffs: use the absolute path" in r.stderr, \
            (cmd, r.stderr)
