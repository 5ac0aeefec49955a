# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""An upgrade to maps of another layout that dies (SIGKILL) or fails at any step
converges on the next run of the new xtc, as any apply does (test_crash_safety.py):
the old maps are replaced, never taken back from the old programs that still hold
them, and the counters of the rules that exist on both sides carry over."""
import pytest

from lib import xtc_cli as X
from test_crash_safety import assert_clean, assert_converged, points, with_failpoint


@pytest.fixture(scope="module")
def layout_xtc():
    return X.variant_binary("layout")


def test_every_failpoint_of_a_layout_upgrade_converges(env, layout_xtc):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: {"tc_ingress": "on", "tc_egress": "on"},
                      b.name: {"xdp": "off", "tc_egress": "on"}},
                     [("icmp", {"interface": a.name, "proto": "icmp", "action": "pass"}),
                      ("web", {"proto": "tcp", "dst_port": "8000-8080", "action": "drop"})])

    def new(*args, **kw):
        return env.xtc(cfg, *args, binary=layout_xtc, **kw)

    X.ok(env.xtc(cfg, "apply"))
    st = new("status")
    assert st.returncode == X.EXIT_DIFF and "pin_foreign" in st.stdout, st.stdout
    assert "moves it to this version's layout" in st.stdout, st.stdout
    trace = new("-v", "apply")
    found = points(trace)
    assert "counters carry over" in trace.stdout, trace.stdout
    names = {n for n, _ in found}
    assert {"state_carry", "state_pin", "tcx_attach", "xdp_attach",
            "state_stamp"} <= names, sorted(names)
    assert X.ok(new("apply")).stdout.strip() == "no changes"
    assert_clean(env, [a, b], "the tracing run")

    failures = []
    for point in found:
        for mode in ("die", "fail") if point[1] == 1 else ("die",):
            what = f"layout upgrade: {point[0]}:{point[1]} ({mode})"
            X.ok(env.xtc(cfg, "apply"))
            with_failpoint(env, cfg, point, mode, "apply", binary=layout_xtc)
            try:
                assert_converged(env, cfg, what, binary=layout_xtc)
                assert_clean(env, [a, b], what)
            except AssertionError as e:
                failures.append(str(e))
                env.xtc(env.base, "unload", "--all")
    assert not failures, f"{len(failures)} failure(s):\n" + "\n\n".join(failures)
