# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The daemon's patched reload as a pure function of files: tests/unit/config_patch_drv.c
edits a file and an include file at random, patches the model, and checks that what
must be patched is patched, the rest refused, that a patched model equals a full load
of the edited files (lines included), and that the carried compile equals a compile of
every rule.  It runs as an unprivileged user: nothing here may need the kernel."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DRV = REPO / "build" / "config_patch_drv"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_patches_equal_full_loads_as_nobody(seed):
    assert DRV.exists(), "build first: make all"
    work = tempfile.mkdtemp(prefix="xtc-patch-")
    try:
        os.chmod(work, 0o777)
        r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            str(DRV), work, str(seed), "150"],
                           capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(work)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "FAIL" not in r.stdout
    last = r.stdout.strip().splitlines()[-1].split()
    patched, whole, carried = int(last[1]), int(last[3]), int(last[6])
    # Both ways taken often, and every patch of ports or notes carried its compile.
    assert patched >= 40 and whole >= 40 and carried >= patched // 2, last
