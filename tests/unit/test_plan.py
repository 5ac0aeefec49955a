# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The plan is a pure function: tests/unit/plan_drv.c drives it on made-up
observations (healthy, each kind of damage, half-applied) and checks the steps.
It runs as an unprivileged user, so a plan that touched the kernel would fail."""
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DRV = REPO / "build" / "plan_drv"


def test_plan_cases_as_nobody():
    assert DRV.exists(), "build first: make all"
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        str(DRV)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    oks = [l for l in r.stdout.splitlines() if l.startswith("ok ")]
    assert len(oks) >= 10, r.stdout
    assert "FAIL" not in r.stdout
