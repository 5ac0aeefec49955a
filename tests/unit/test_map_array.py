# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The array writer (userspace/kernel/map_array.c) that a first apply writes
rule records and digests with: as memory through windows of an mmapable map,
or in batches.  Every slot written must hold its value and no other slot may
change, whatever the map, the value size, the order or the count."""
import json
import os
import subprocess

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (BPF maps)")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DRV = os.path.join(os.environ.get("XTC_BUILD") or os.path.join(ROOT, "build"), "map_array_drv")


def write(kind, max_entries, size, expect, order, n):
    r = subprocess.run([DRV, kind, str(max_entries), str(size), str(expect), order, str(n)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("kind", ["mmapable", "plain"])
@pytest.mark.parametrize("order", ["up", "down", "stride"])
def test_every_slot_holds_what_was_written(kind, order):
    # 128-byte records as xtc_rule_info, across many 2 MiB windows; and 16-byte digests.
    for size, max_entries, n in ((128, 70000, 65536), (16, 200003, 200000)):
        got = write(kind, max_entries, size, 1 << 20, order, n)
        assert got["ok"], (size, got)
        assert got["e2big"], got     # a slot beyond the map is refused, not written


def test_few_writes_and_the_map_end():
    # A hint below the threshold takes batches; a write count that is not a batch multiple.
    got = write("mmapable", 5000, 128, 10, "up", 4097)
    assert got["ok"], got
    # The last slot of a map whose size is not a multiple of the window or the page.
    got = write("mmapable", 33333, 24, 1 << 20, "up", 33333)
    assert got["ok"], got
