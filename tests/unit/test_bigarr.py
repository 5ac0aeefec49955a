# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""util/bigarr.h, the arrays the config reader grows to millions of elements:
no root, no BPF.  Growing keeps every element, and freeing gives the memory
back to the system (what keeps a 1M-rule apply's peak down, docs/control-plane.md)."""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DRV = os.path.join(os.environ.get("XTC_BUILD") or os.path.join(ROOT, "build"), "bigarr_drv")


def grow(n):
    r = subprocess.run([DRV, str(n)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_small_arrays_keep_their_elements():
    for n in (0, 1, 2, 8191, 8192, 8193):
        got = grow(n)
        assert got["kept"], (n, got)
        assert got["cap_bytes"] >= n * 8, (n, got)


def test_a_big_array_moves_without_loss_and_is_given_back():
    n = 8 << 20     # 64 MiB of 8-byte elements, grown one at a time through many moves
    got = grow(n)
    assert got["kept"], got
    assert got["cap_bytes"] == 64 << 20, got     # doubling lands exactly on a power of two
    grown = got["rss_peak_kib"] - got["rss_before_kib"]
    assert grown >= 60 << 10, got                 # the elements were really touched
    # realloc() on the heap would keep the old copies (and the array) resident.
    assert got["rss_after_kib"] - got["rss_before_kib"] < 4 << 10, got
