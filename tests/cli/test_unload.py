# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""unload removes xtc, and only xtc."""
import os

import pytest

from lib import xtc_cli as X
from lib.netns import sh

FULL = {"tc_ingress": "on", "tc_egress": "on"}


def u32_filter(dev, direction="ingress"):
    """Someone else's classifier: a catch-all u32 filter (no action modules needed)."""
    sh(["tc", "filter", "add", "dev", dev, direction, "prio", "1", "u32", "match", "u32", "0", "0"])


def test_unload_one_interface(env):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: FULL, b.name: FULL}, [("icmp", {"proto": "icmp", "action": "pass"})])
    X.ok(env.xtc(cfg, "apply"))
    ids = X.prog_ids(X.status_json(cfg))
    a_view = X.kernel_view(a.name)
    b_xdp = ids[b.name][0]

    r = X.ok(env.xtc(cfg, "unload", b.name))
    assert f"{b.name}: xtc removed" in r.stdout
    assert a.name not in r.stdout
    assert X.bare(b.name), X.kernel_view(b.name)
    assert X.kernel_view(a.name) == a_view
    status = X.status_json(cfg)
    assert [i["interface"] for i in status["interfaces"]] == [a.name]
    assert X.prog_ids(status)[a.name] == ids[a.name]
    assert not [f for f in env.bpffs.state_listing() if f"_{b.ifindex}_" in f]
    X.eventually(lambda: b_xdp not in X.our_progs(env.bpffs.path), what="b's XDP program freed")
    # Unloading the last interface by name removes the state as well.
    r = X.ok(env.xtc(cfg, "unload", a.name))
    assert "pins removed" in r.stdout
    assert not os.path.exists(env.state)
    assert X.bare(a.name)


def test_unload_all_removes_everything(env):
    a, b = env.pair(), env.pair()
    listing = env.bpffs.listing()
    cfg = env.config({a.name: FULL, b.name: {"tc_ingress": "on"}},
                     [("icmp", {"proto": "icmp", "action": "pass"})])
    X.ok(env.xtc(cfg, "apply"))
    progs = X.our_progs(env.bpffs.path)
    assert len(progs) == 4

    r = X.ok(env.xtc(cfg, "unload", "--all"))
    assert f"{a.name}: xtc removed" in r.stdout and f"{b.name}: xtc removed" in r.stdout
    assert f"pins removed from {env.state}" in r.stdout
    assert not os.path.exists(env.state)
    assert env.bpffs.listing() == listing
    assert X.bare(a.name) and X.bare(b.name)
    X.eventually(lambda: not set(progs) & set(X.xtc_progs()), what="our programs freed")
    # Again: nothing loaded is fine for --all.
    r = X.ok(env.xtc(cfg, "unload", "--all"))
    assert "not loaded" in r.stdout


def test_unload_keeps_foreign_clsact_it_did_not_create(env):
    a = env.pair()
    sh(["tc", "qdisc", "add", "dev", a.name, "clsact"])
    u32_filter(a.name)
    foreign = X.tc_filters(a.name)
    cfg = env.config({a.name: FULL}, glob={"tc_attach": "cls_bpf"})
    X.ok(env.xtc(cfg, "apply"))
    st = X.iface_status(X.status_json(cfg), a.name)
    assert st["tc_ingress"]["kind"] == "cls_bpf" and st["tc_egress"]["kind"] == "cls_bpf"
    assert X.cls_bpf_ids(a.name) == [st["tc_ingress"]["program_id"]]
    assert X.cls_bpf_ids(a.name, egress=True) == [st["tc_egress"]["program_id"]]

    X.ok(env.xtc(cfg, "unload", "--all"))
    assert X.has_clsact(a.name)
    assert X.tc_filters(a.name) == foreign
    assert X.tc_filters(a.name, egress=True) == ""
    assert X.xdp_prog(a.name) is None


@pytest.mark.parametrize("how", ["by-name", "all"])
def test_unload_keeps_its_clsact_when_someone_added_a_filter(env, how):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: FULL, b.name: {}}, glob={"tc_attach": "cls_bpf"})
    X.ok(env.xtc(cfg, "apply"))
    assert X.has_clsact(a.name)             # created by xtc
    u32_filter(a.name, "egress")
    foreign = X.tc_filters(a.name, egress=True)
    foreign = "\n".join(l for l in foreign.splitlines() if " bpf " not in l and "xtc_" not in l)

    X.ok(env.xtc(cfg, "unload", *([a.name] if how == "by-name" else ["--all"])))
    assert X.has_clsact(a.name)
    assert X.cls_bpf_ids(a.name) == [] and X.cls_bpf_ids(a.name, egress=True) == []
    assert X.tc_filters(a.name, egress=True).rstrip("\n") == foreign.rstrip("\n")
    assert X.xdp_prog(a.name) is None


def test_unload_removes_the_clsact_it_created(env):
    a = env.pair()
    cfg = env.config({a.name: FULL}, glob={"tc_attach": "cls_bpf"})
    X.ok(env.xtc(cfg, "apply"))
    assert X.has_clsact(a.name)
    X.ok(env.xtc(cfg, "unload", a.name))
    assert X.bare(a.name), X.kernel_view(a.name)


def test_other_xdp_program_on_another_interface_is_untouched(env):
    a, c = env.pair(), env.pair()
    prog = env.xdp_filter(c)
    cfg = env.config({a.name: FULL})
    X.ok(env.xtc(cfg, "apply"))
    assert X.xdp_prog(c.name) == prog
    X.ok(env.xtc(cfg, "unload", a.name))
    assert X.xdp_prog(c.name) == prog
    X.ok(env.xtc(cfg, "apply"))
    X.ok(env.xtc(cfg, "unload", "--all"))
    assert X.xdp_prog(c.name) == prog
    assert X.bare(a.name)


def test_unload_unknown_interface_exits_1(env):
    a = env.pair()
    # Nothing loaded at all.
    r = env.xtc(env.base, "unload", a.name)
    assert r.returncode == X.EXIT_RUNTIME, r
    assert "not loaded" in r.stdout + r.stderr
    assert not os.path.exists(env.state)
    # Loaded, but not on the named interface.
    cfg = env.config({a.name: FULL})
    X.ok(env.xtc(cfg, "apply"))
    view = X.kernel_view(a.name)
    r = env.xtc(cfg, "unload", "nosuchxc0")
    assert r.returncode == X.EXIT_RUNTIME, r
    assert "nosuchxc0: not managed by xtc" in r.stderr
    assert X.kernel_view(a.name) == view
    assert os.path.exists(env.state)


def test_unload_known_and_unknown_interface_reports_the_unknown(env):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: FULL, b.name: {}})
    X.ok(env.xtc(cfg, "apply"))
    r = env.xtc(cfg, "unload", a.name, "nosuchxc0")
    assert X.bare(a.name)                   # the known one is removed ...
    assert X.xdp_prog(b.name) is not None   # ... and only it
    assert r.returncode == X.EXIT_RUNTIME, r    # ... but the request was not fully met
    assert "nosuchxc0" in r.stderr


def test_unload_all_after_a_managed_interface_vanished(env):
    """Deleting an interface makes the file invalid ("no interface ... on this
    host"); unload --all and status must still find the state under the file's
    bpffs instead of quietly looking at /sys/fs/bpf."""
    a, gone = env.pair(), env.pair()
    cfg = env.config({a.name: FULL, gone.name: {}})
    X.ok(env.xtc(cfg, "apply"))
    env.mod.net.remove(gone)
    env.pairs.remove(gone)

    r = X.xtc_private_sysfs_bpf(cfg, "status")
    assert "/sys/fs/bpf" not in r.stdout + r.stderr, r
    r = X.xtc_private_sysfs_bpf(cfg, "unload", "--all")
    assert r.returncode == 0, r
    assert not os.path.exists(env.state), (r.stdout, r.stderr)
    assert X.bare(a.name), X.kernel_view(a.name)
