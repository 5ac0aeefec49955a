# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""cls_bpf: xtc's filter sits at prio tc_prio, handle 0x7874, and xtc never replaces
nor deletes a filter there that is not its own."""
import json
import re
import shutil

import pytest

from lib import xtc_cli as X
from lib.netns import sh

PROG_SRC = """\
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc") int theirs(struct __sk_buff *s) { return 0; }
char LICENSE[] SEC("license") = "GPL";
"""
PRIO = 0x7874
TC_IN = {"xdp": "off", "tc_ingress": "on"}


@pytest.fixture(scope="module")
def their_obj(tmp_path_factory):
    """Someone else's TC program: it passes everything."""
    if not shutil.which("clang"):
        pytest.skip("clang not installed")
    out = tmp_path_factory.mktemp("theirs")
    (out / "theirs.bpf.c").write_text(PROG_SRC)
    arch_inc = "/usr/include/" + sh(["gcc", "-dumpmachine"]).stdout.strip()
    sh(["clang", "-g", "-O2", "-target", "bpf", f"-I{arch_inc}", "-c",
        str(out / "theirs.bpf.c"), "-o", str(out / "theirs.o")])
    return str(out / "theirs.o")


def bpf_filter_at(dev, prio, how="add", obj=None):
    """Puts their program at prio, handle 0x7874; returns its program id."""
    if not X.has_clsact(dev):
        sh(["tc", "qdisc", "add", "dev", dev, "clsact"])
    sh(["tc", "filter", how, "dev", dev, "ingress", "prio", str(prio), "handle", "0x7874",
        "bpf", "da", "obj", obj, "sec", "tc"])
    return filter_ids(dev)[prio]


def tc_unchanged(r):
    """An apply that changed no TC hook (the host's routes may change under the test)."""
    assert "tc_ingress" not in r.stdout and "tc_egress" not in r.stdout, r.stdout


def filter_ids(dev):
    """{prio: program id} of the cls_bpf filters on dev's ingress."""
    return {int(p): int(i) for p, i in
            re.findall(r"pref (\d+) bpf .* id (\d+)", X.tc_filters(dev))}


def test_foreign_filter_in_our_slot_fails_apply_and_changes_nothing(env, their_obj):
    a = env.pair()
    theirs = bpf_filter_at(a.name, PRIO, obj=their_obj)
    before = X.kernel_view(a.name)
    cfg = env.config({a.name: {"tc_ingress": "on"}}, glob={"tc_attach": "cls_bpf"})

    r = env.xtc(cfg, "apply")
    assert r.returncode == X.EXIT_RUNTIME, r
    assert f"{a.name}: TC ingress: the cls_bpf slot prio {PRIO} (0x7874) handle 0x7874 is " \
           f"taken by a bpf filter running program 'theirs' (id {theirs}), which is not " \
           "xtc's" in r.stderr, r.stderr
    assert "choose another tc_prio, or remove that filter (tc filter del dev " \
           f"{a.name} ingress prio {PRIO} handle 0x7874 bpf)" in r.stderr
    assert "rolled back" not in r.stderr    # refused by the plan, before any change
    assert X.kernel_view(a.name) == before
    assert filter_ids(a.name) == {PRIO: theirs}

    # Another prio: both filters, each in its own place.
    cfg = env.config({a.name: {"tc_ingress": "on"}},
                     glob={"tc_attach": "cls_bpf", "tc_prio": 100})
    X.ok(env.xtc(cfg, "apply"))
    st = X.iface_status(X.status_json(cfg), a.name)["tc_ingress"]
    assert (st["kind"], st["prio"], st["handle"]) == ("cls_bpf", 100, 0x7874)
    assert filter_ids(a.name) == {PRIO: theirs, 100: st["program_id"]}
    assert re.search(r"pref 100 bpf chain 0 handle 0x7874 xtc_tc_ingress", X.tc_filters(a.name))
    assert "      prio: 0x64\n      handle: 0x7874\n" in X.ok(env.xtc(cfg, "status")).stdout
    tc_unchanged(X.ok(env.xtc(cfg, "apply")))

    X.ok(env.xtc(cfg, "unload", "--all"))
    assert filter_ids(a.name) == {PRIO: theirs}
    assert X.xdp_prog(a.name) is None


def test_per_interface_tc_prio_overrides_global(env):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: TC_IN, b.name: dict(TC_IN, tc_prio="0x200")},
                     glob={"tc_attach": "cls_bpf", "tc_prio": 300})
    X.ok(env.xtc(cfg, "apply"))
    status = X.status_json(cfg)
    assert X.iface_status(status, a.name)["tc_ingress"]["prio"] == 300
    assert X.iface_status(status, b.name)["tc_ingress"]["prio"] == 0x200
    assert list(filter_ids(a.name)) == [300] and list(filter_ids(b.name)) == [0x200]


def test_tc_prio_change_moves_our_filter(env, their_obj):
    a = env.pair()
    cfg = env.config({a.name: TC_IN}, glob={"tc_attach": "cls_bpf"})
    X.ok(env.xtc(cfg, "apply"))
    ours = filter_ids(a.name)[PRIO]
    moved = env.config({a.name: dict(TC_IN, tc_prio=100)}, glob={"tc_attach": "cls_bpf"})
    r = X.ok(env.xtc(moved, "apply"))
    assert f"~ tc_ingress {a.name}: cls_bpf prio 0x7874 -> 0x64" in r.stdout, r.stdout
    assert filter_ids(a.name) == {100: ours}
    tc_unchanged(X.ok(env.xtc(moved, "apply")))
    X.ok(env.xtc(cfg, "apply"))
    assert filter_ids(a.name) == {PRIO: ours}

    # A foreign filter where ours would move to: refused, and ours stays where it was.
    theirs = bpf_filter_at(a.name, 100, obj=their_obj)
    r = env.xtc(moved, "apply")
    assert r.returncode == X.EXIT_RUNTIME, r
    assert f"prio 100 (0x64) handle 0x7874 is taken by a bpf filter running program " \
           f"'theirs' (id {theirs})" in r.stderr, r.stderr
    assert filter_ids(a.name) == {PRIO: ours, 100: theirs}
    st = X.iface_status(X.status_json(cfg), a.name)["tc_ingress"]
    assert (st["attached"], st["prio"], st["program_id"]) == (True, PRIO, ours)


def test_foreign_program_that_took_our_slot_is_neither_ours_nor_deleted(env, their_obj):
    """It used to read as attached ("no changes"), and unload deleted it."""
    a = env.pair()
    cfg = env.config({a.name: TC_IN}, glob={"tc_attach": "cls_bpf"})
    X.ok(env.xtc(cfg, "apply"))
    assert X.has_clsact(a.name)                 # xtc's own
    theirs = bpf_filter_at(a.name, PRIO, how="replace", obj=their_obj)

    r = env.xtc(cfg, "status", "--json")
    assert r.returncode == X.EXIT_DIFF, r
    st = json.loads(r.stdout)
    assert X.iface_status(st, a.name)["tc_ingress"]["attached"] is False
    [problem] = st["problems"]
    assert problem["problem"] == "tc_ingress_detached"
    assert f"its place, prio {PRIO} (0x7874) handle 0x7874, holds a bpf filter running " \
           f"program 'theirs' (id {theirs}); remove that filter or choose another tc_prio" \
           in problem["message"], problem

    r = X.ok(env.xtc(cfg, "unload", "--all"))
    assert f"leaving a bpf filter running program 'theirs' (id {theirs}) at prio {PRIO} " \
           "alone" in r.stderr, r.stderr
    assert filter_ids(a.name) == {PRIO: theirs}
    assert X.has_clsact(a.name), "their filter still needs the clsact xtc created"

    r = env.xtc(cfg, "apply")
    assert r.returncode == X.EXIT_RUNTIME, r
    assert f"program 'theirs' (id {theirs}), which is not xtc's" in r.stderr, r.stderr
    assert filter_ids(a.name) == {PRIO: theirs}
