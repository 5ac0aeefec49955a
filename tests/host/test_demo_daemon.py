# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""`make demo-daemon` (scripts/demo-daemon.sh) works: its every step is checked
by the script itself, which exits non-zero when one fails, and it leaves
nothing behind."""
import os
import subprocess

from hostenv import XTC

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_demo_daemon_runs_and_cleans_up(host_ok):
    r = subprocess.run([os.path.join(REPO, "scripts", "demo-daemon.sh")], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, XTC=str(XTC)))
    assert r.returncode == 0 and "demo-daemon: OK" in r.stdout, r.stdout + r.stderr
    assert "hello from xtc-dd-pod2" in r.stdout
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    assert "xdd-" not in links
    assert not os.path.exists("/run/xtc-demo-daemon")
