# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Crash safety: an apply or unload that dies (SIGKILL) or fails at any step that
changes the kernel leaves a state that the next plain run repairs.

The steps are not listed here: `xtc -v` logs every failpoint it passes
(util/failpoint.h), so each scenario first runs once to enumerate them, and then
once per failpoint and mode.  After each: a plain apply exits 0, status finds no
problem and a dry run has nothing to do (the kernel matches the file); then
`unload --all` exits 0 and leaves no program, link, filter or pin of ours."""
import os
import re

import pytest

from lib import xtc_cli as X

POINT = re.compile(r"failpoint (\w+) #(\d+)")


def points(r):
    X.ok(r)
    found = sorted({(m.group(1), int(m.group(2))) for m in POINT.finditer(r.stderr)})
    assert found, r.stderr
    return found


def with_failpoint(env, cfg, point, mode, *args, binary=None):
    name, n = point
    spec = f"{name}:{n}" + (":fail" if mode == "fail" else "")
    r = env.xtc(cfg, *args, env=dict(os.environ, XTC_FAILPOINT=spec), binary=binary)
    if mode == "die":
        assert r.returncode == -9, f"{spec}: not killed: {r}"
    else:
        assert r.returncode == X.EXIT_RUNTIME, f"{spec}: {r}"
        assert f"failpoint {name} #{n}: failing" in r.stderr
    return r


def assert_converged(env, cfg, what, binary=None):
    r = env.xtc(cfg, "apply", binary=binary)
    assert r.returncode == 0, f"{what}: the next apply failed:\n{r.stdout}{r.stderr}"
    st = env.xtc(cfg, "status", binary=binary)
    assert st.returncode == 0, f"{what}: status after repair:\n{st.stdout}"
    # The IP map follows the host's addresses, which other processes may change meanwhile.
    dry = env.xtc(cfg, "apply", "--dry-run", binary=binary)
    left = [l for l in dry.stdout.splitlines()[1:] if not l.startswith("~ ipmap:")]
    assert dry.returncode in (0, 3) and not left, f"{what}: {dry.stdout}"


def assert_clean(env, pairs, what):
    r = env.xtc(env.base, "unload", "--all")
    assert r.returncode == 0, f"{what}: unload --all:\n{r.stdout}{r.stderr}"
    assert not os.path.exists(env.state), f"{what}: pins left: {env.bpffs.listing()}"
    for p in pairs:
        X.eventually(lambda: X.bare(p.name), what=f"{what}: {p.name} bare "
                     f"({X.kernel_view(p.name)})")
    # Programs go once nothing holds them (freed after an RCU grace period).
    X.eventually(lambda: not X.marked_progs(env.state),
                 what=f"{what}: no program of ours is left")


def files(env, a, b, kind):
    glob = {"tc_attach": kind}
    first = env.config({a.name: {"tc_ingress": "on"},
                        b.name: {"xdp": "off", "tc_egress": "on"}},
                       [("icmp", {"interface": a.name, "proto": "icmp", "action": "pass"}),
                        ("web", {"proto": "tcp", "dst_port": "8000-8080", "action": "drop"}),
                        ("dns", {"interface": b.name, "direction": "egress", "proto": "udp",
                                 "dst_port": "53", "action": "pass"})], glob=glob)
    second = env.config({a.name: {"tc_ingress": "on", "tc_egress": "on", "xdp_mode": "native"}},
                        [("icmp", {"interface": a.name, "proto": "icmp", "action": "drop"}),
                         ("ssh", {"proto": "tcp", "dst_port": "22", "action": "pass"})],
                        glob=glob)
    return first, second


# (name, setup file, run): what state a scenario starts from and what it runs.
SCENARIOS = ["create", "change", "unload"]


@pytest.mark.parametrize("kind", ["tcx", "cls_bpf"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_failpoint_converges(env, scenario, kind):
    a, b = env.pair(), env.pair()
    first, second = files(env, a, b, kind)
    setup = {"create": None, "change": first, "unload": first}[scenario]
    target = {"create": first, "change": second, "unload": first}[scenario]
    run = ("unload", "--all") if scenario == "unload" else ("apply",)
    run_cfg = env.base if scenario == "unload" else target

    if setup:
        X.ok(env.xtc(setup, "apply"))
    trace = env.xtc(run_cfg, "-v", *run)
    found = points(trace)
    assert_clean(env, [a, b], "the tracing run")
    names = {n for n, _ in found}
    expect = {"unload": {"K_detach", "xdp_detach", "iface_record", "iface_forget"},
              "create": {"state_pin", "rules_info", "rules_entries", "rules_masks",
                         "rules_digests", "rules_ipmap", "iface_record", "xdp_attach",
                         "K_attach"},
              "change": {"rules_info", "rules_entries", "rules_delete", "iface_record",
                         "xdp_detach", "xdp_attach", "K_attach", "K_detach",
                         "iface_forget"}}[scenario]
    expect = {n.replace("K_", f"{kind}_") for n in expect}
    assert expect <= names, f"failpoints seen: {sorted(names)}\n{trace.stdout}"

    # Every step dies in turn.  Failing (and rolling back) is one code path per kind of
    # step, so it is tried at each kind's first occurrence; cls_bpf adds only TC steps.
    if kind == "cls_bpf":
        found = [p for p in found if p[0].startswith("cls_bpf_") or p[0] == "iface_record"]
    failures = []
    for point in found:
        for mode in ("die", "fail") if point[1] == 1 else ("die",):
            what = f"{scenario}/{kind}: {point[0]}:{point[1]} ({mode})"
            if setup:
                X.ok(env.xtc(setup, "apply"))
            with_failpoint(env, run_cfg, point, mode, *run)
            try:
                assert_converged(env, target, what)
                assert_clean(env, [a, b], what)
            except AssertionError as e:
                failures.append(str(e))
                env.xtc(env.base, "unload", "--all")
    assert not failures, f"{len(failures)} failure(s):\n" + "\n\n".join(failures)
