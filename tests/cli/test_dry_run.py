# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""`xtc apply --dry-run` prints the plan and changes nothing; it exits 3 when
there is something to do and 0 when there is not, like `git diff --exit-code`."""
import fcntl
import json
import os

from lib import xtc_cli as X

HEADER = "dry run: apply would make these changes (nothing was changed):"


def plan_lines(out):
    """The plan part of apply's output, without what depends on the host's routes."""
    keep = []
    for line in out.splitlines():
        if line == HEADER or "ip-to-ifindex" in line.lower() or line.startswith("~ ipmap"):
            continue
        if " attached (" in line or line.endswith(": xtc removed"):
            continue                    # what apply reports after doing it
        keep.append(line)
    return keep


def snapshot(env, pairs):
    return {
        "kernel": {p.name: X.kernel_view(p.name) for p in pairs},
        "bpffs": env.bpffs.listing(),
        "inodes": {f: os.stat(os.path.join(env.bpffs.path, f)).st_ino
                   for f in env.bpffs.state_listing()},
        "maps": X.dump_maps(env.bpffs.path) if os.path.exists(env.state) else None,
        "progs": X.our_progs(env.bpffs.path) if os.path.exists(env.state) else None,
    }


def test_dry_run_on_fresh_state_changes_nothing(env):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: {"tc_ingress": "on", "tc_egress": "on"},
                      b.name: {"xdp": "off", "tc_ingress": "on"}},
                     [("icmp", {"interface": a.name, "proto": "icmp", "action": "drop"}),
                      ("web", {"proto": "tcp", "dst_port": "80", "action": "pass"})])
    before = snapshot(env, [a, b])
    assert X.bare(a.name) and X.bare(b.name)

    r = env.xtc(cfg, "apply", "--dry-run")
    assert r.returncode == X.EXIT_DIFF, r
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0] == HEADER
    for want in (f"+ state {env.state} (load the XDP and TC programs and pin them)",
                 f"+ xdp {a.name} (skb mode, priority 30)",
                 f"+ tc_ingress {a.name} (tcx)",
                 f"+ tc_egress {a.name} (tcx)",
                 f"+ tc_ingress {b.name} (tcx)",
                 "+ rule icmp", "+ rule web",
                 "~ classifier: 2 entries added, 0 changed, 0 removed; new match shapes"):
        assert want in lines, r.stdout
    assert not any(l.startswith(f"+ xdp {b.name}") for l in lines)

    assert snapshot(env, [a, b]) == before
    assert not os.path.exists(env.state)
    assert X.bare(a.name) and X.bare(b.name)

    # The real apply does what the dry run announced.
    r2 = X.ok(env.xtc(cfg, "apply"))
    assert plan_lines(r2.stdout) == plan_lines(r.stdout)
    assert X.xdp_prog(a.name) is not None and X.xdp_prog(b.name) is None


def test_dry_run_on_existing_state_with_changed_file_changes_nothing(env):
    a, b = env.pair(), env.pair()
    old = env.config({a.name: {"tc_ingress": "on"}, b.name: {}},
                     [("icmp", {"interface": a.name, "proto": "icmp", "action": "pass"}),
                      ("web", {"proto": "tcp", "dst_port": "80", "action": "pass"})])
    X.ok(env.xtc(old, "apply"))
    status = X.status_json(old)
    a_xdp = X.iface_status(status, a.name)["xdp"]["program_id"]
    b_xdp = X.iface_status(status, b.name)["xdp"]["program_id"]
    before = snapshot(env, [a, b])
    stats = X.stats_json(old)

    new = env.config({a.name: {"tc_ingress": "on", "tc_egress": "on", "xdp_priority": 40}},
                     [("icmp", {"interface": a.name, "proto": "icmp", "action": "drop"}),
                      ("dns", {"proto": "udp", "dst_port": "53", "action": "pass"})])
    r = env.xtc(new, "apply", "--dry-run")
    assert r.returncode == X.EXIT_DIFF, r
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0] == HEADER
    # This kernel runs one XDP program without libxdp's dispatcher, where the priority
    # orders nothing: the change is recorded, and nothing is re-attached.
    for want in (f"~ xdp {a.name}: priority 30 -> 40 (a single program: recorded, nothing "
                 "re-attached)",
                 f"+ tc_egress {a.name} (tcx)",
                 f"- xdp {b.name} (id {b_xdp})",
                 f"- interface {b.name} (not in the file)",
                 "- rule web", "+ rule dns", "~ rule icmp: action pass -> drop"):
        assert want in lines, r.stdout
    assert not [l for l in lines if a_xdp and f"id {a_xdp}" in l], r.stdout
    assert not [l for l in lines if "disrupts traffic" in l], r.stdout
    assert any(l.startswith("~ classifier: ") and "1 changed" in l for l in lines), r.stdout
    assert not any(l.startswith("+ state") for l in lines)

    assert snapshot(env, [a, b]) == before
    assert X.status_json(old) == status
    assert X.stats_json(old)["rules"] == stats["rules"]

    r2 = X.ok(env.xtc(new, "apply"))
    assert plan_lines(r2.stdout) == plan_lines(r.stdout)


def test_dry_run_with_nothing_to_do_says_no_changes(env):
    a = env.pair()
    cfg = env.config({a.name: {}})
    X.ok(env.xtc(cfg, "apply"))
    before = snapshot(env, [a])
    for _ in range(3):
        r = env.xtc(cfg, "apply", "--dry-run")
        if r.stdout == "no changes\n":
            break
        # Another run on this host changed its addresses: the map would follow.
        assert r.returncode == X.EXIT_DIFF, r
        assert all(l.startswith("~ ipmap") for l in r.stdout.splitlines()[1:]), r.stdout
        X.ok(env.xtc(cfg, "apply"))
        before = snapshot(env, [a])
    assert r.stdout == "no changes\n" and r.returncode == 0
    assert snapshot(env, [a]) == before


def test_dry_run_takes_no_lock(env):
    a = env.pair()
    cfg = env.config({a.name: {}})
    X.ok(env.xtc(cfg, "apply"))
    changed = env.config({a.name: {"tc_ingress": "on"}})
    fd = os.open(env.state, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # Would hang (and hit the timeout) if the dry run waited for the lock.
        r = env.xtc(changed, "apply", "--dry-run", timeout=30)
    finally:
        os.close(fd)
    assert r.returncode == X.EXIT_DIFF, r
    assert f"+ tc_ingress {a.name} (tcx)" in r.stdout
    assert X.tcx_progs(a.name) == []


def test_dry_run_names_a_changed_setting(env):
    """A [global] setting the datapath reads is named in the plan, with both values."""
    a = env.pair()
    X.ok(env.xtc(env.config({a.name: {}}), "apply"))
    drop = env.config({a.name: {}}, glob={"redirect_fallback": "drop"})
    r = env.xtc(drop, "apply", "--dry-run")
    assert r.returncode == X.EXIT_DIFF, r
    assert "~ setting redirect_fallback: pass -> drop" in r.stdout.splitlines(), r.stdout
    doc = json.loads(env.xtc(drop, "apply", "--dry-run", "--json").stdout)
    assert {"op": "~", "object": "setting", "setting": "redirect_fallback",
            "detail": "pass -> drop", "disruptive": False} in doc["changes"]


def test_default_tc_hooks_follow_each_interfaces_rules(env):
    """Without tc_ingress/tc_egress keys each interface gets the TC hooks its rules need:
    egress for an egress rule on it, ingress where XDP is off and an ingress rule applies
    to it (its own, or one on every interface).  Rules on one interface ask nothing of the
    others, whatever their order in the file."""
    a, b, c, d = env.pair(), env.pair(), env.pair(), env.pair()
    ifaces = {a.name: {}, b.name: {"xdp": "off"}, c.name: {"xdp": "off"}, d.name: {}}
    mk = lambda rules: env.config(ifaces, rules)  # noqa: E731
    own = [("d-out", {"interface": d.name, "direction": "egress", "proto": "udp",
                      "action": "drop"}),
           ("b-in", {"interface": b.name, "proto": "icmp", "action": "drop"}),
           ("a-out", {"interface": a.name, "direction": "egress", "proto": "tcp",
                      "action": "drop"})]
    r = env.xtc(mk(own), "apply", "--dry-run")
    assert r.returncode == X.EXIT_DIFF, r
    hooks = {ln for ln in r.stdout.splitlines() if ln.startswith("+ tc_")}
    assert hooks == {f"+ tc_egress {a.name} (tcx)", f"+ tc_ingress {b.name} (tcx)",
                     f"+ tc_egress {d.name} (tcx)"}, r.stdout
    # An ingress rule on every interface: TC ingress where XDP is off (b and c).
    r = env.xtc(mk(own + [("all-in", {"proto": "tcp", "dst_port": "23", "action": "drop"})]),
                "apply", "--dry-run")
    hooks = {ln for ln in r.stdout.splitlines() if ln.startswith("+ tc_")}
    assert hooks == {f"+ tc_egress {a.name} (tcx)", f"+ tc_ingress {b.name} (tcx)",
                     f"+ tc_ingress {c.name} (tcx)", f"+ tc_egress {d.name} (tcx)"}, r.stdout
