# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""apply with the newer parts of the config language: named sets in the plan and
in `xtc rules`, warnings shown by apply, and `apply --strict` refusing them."""
import json
import os

from lib import xtc_cli as X
from lib.netns import sh


def set_config(env, a, members, extra=""):
    path = os.path.join(env.mod.tmp, f"sets-{len(members)}-{abs(hash(tuple(members)))}.ini")
    lines = [f"[global]\nbpffs = {env.bpffs.path}\nxdp = on\nxdp_mode = skb\nmax_rules = 256\n",
             f"[interface {a.name}]\n",
             "[set blocked]\n" + "".join(f"{m}\n" for m in members),
             "[rule blk]\nsrc = @blocked\nproto = udp\naction = drop\n", extra]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


def test_sets_in_rules_and_in_the_plan(env):
    a = env.pair()
    three = ["10.61.0.0/16", "10.62.1.0/24", "fd00:61::/32"]
    X.ok(env.xtc(set_config(env, a, three), "apply"))
    rules = json.loads(X.ok(env.xtc(env.base, "rules", "--json")).stdout)["rules"]
    assert [(r["rule"], r["src"], r["src_set_size"], r["proto"]) for r in rules] == \
        [("blk", "@blocked", 3, "udp")]
    # What the set holds, as the kernel holds it: no file needed.
    assert rules[0]["src_set_entries"] == three
    text = X.ok(env.xtc(env.base, "rules")).stdout
    assert "    src_set_entries:\n      - 10.61.0.0/16\n      - 10.62.1.0/24\n" in text, text

    # The same elements in another order: nothing to do.
    r = env.xtc(set_config(env, a, three[::-1]), "apply", "--dry-run")
    assert r.returncode == 0 or all(l.startswith("~ ipmap") for l in r.stdout.splitlines()[1:]), r

    # One more element: the plan says the set grew.
    four = set_config(env, a, three + ["10.63.0.0/16"])
    r = env.xtc(four, "apply", "--dry-run")
    assert r.returncode == X.EXIT_DIFF, r
    assert "~ rule blk: @blocked 3 -> 4 entries" in r.stdout.splitlines(), r.stdout
    X.ok(env.xtc(four, "apply"))

    # The same size, another element: the plan still sees it.
    other = set_config(env, a, three + ["10.64.0.0/16"])
    r = env.xtc(other, "apply", "--dry-run")
    assert r.returncode == X.EXIT_DIFF, r
    assert "~ rule blk: @blocked entries changed" in r.stdout.splitlines(), r.stdout
    X.ok(env.xtc(other, "apply"))
    rules = json.loads(X.ok(env.xtc(env.base, "rules", "--json")).stdout)["rules"]
    assert rules[0]["src_set_entries"] == three + ["10.64.0.0/16"]
    # Sets no rule uses any more are dropped from the kernel, the others kept once.
    elems = json.loads(sh(["bpftool", "-j", "map", "dump", "pinned",
                           f"{env.state}/maps/xtc_set_elems"]).stdout)
    assert len(elems) == 4, elems
    r = env.xtc(other, "apply", "--dry-run")
    assert (r.returncode, r.stdout) == (0, "no changes\n") or \
        all(l.startswith("~ ipmap") for l in r.stdout.splitlines()[1:]), r.stdout


def test_apply_shows_warnings_and_strict_refuses_them(env):
    a = env.pair()
    shadowed = "[rule narrow]\nsrc = 10.61.5.0/24\nproto = udp\ndst_port = 53\naction = pass\n"
    cfg = set_config(env, a, ["10.61.0.0/16"], extra=shadowed)
    line = open(cfg).read().splitlines().index("[rule narrow]") + 1

    strict = env.xtc(cfg, "apply", "--strict")
    assert strict.returncode == X.EXIT_USAGE, strict
    assert f"xtc: {cfg}:{line}: warning: [rule narrow] can never match" in strict.stderr
    assert "--strict" in strict.stderr
    assert not os.path.exists(env.state) and X.bare(a.name)
    j = env.xtc(cfg, "apply", "--strict", "--json")
    assert j.returncode == X.EXIT_USAGE
    err = json.loads(j.stdout)["error"]
    assert (err["file"], err["line"]) == (cfg, line) and "can never match" in err["message"]
    assert not os.path.exists(env.state)

    # Without --strict the warning is shown and the file applied.
    r = X.ok(env.xtc(cfg, "apply"))
    assert f"xtc: {cfg}:{line}: warning: [rule narrow] can never match" in r.stderr
    assert "+ rule narrow" in r.stdout
    assert X.xdp_prog(a.name) is not None
