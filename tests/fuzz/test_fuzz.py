# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The config fuzzer (make fuzz): a 30-second run over tests/fuzz/corpus ends
with no crash, leak, UB report or broken invariant, and leaves the repository
as it was.  The self-tests prove that each kind of failure does fail
`make fuzz` and is seen here: XTC_FUZZ_SELFTEST makes the harness break a
promise, leak or overflow on every input.

FUZZ_SECONDS overrides the 30 seconds.  Runs as root like the rest."""
import os
import pathlib
import re
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("FUZZ_SECONDS", "30"))

# What libFuzzer and the sanitizers print when something went wrong.
FAILURE_MARKS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "ERROR: libFuzzer",
    "runtime error:",
    "invariant broken",
    "SUMMARY: ",
    "Test unit written to",
)


def make_fuzz(seconds, artifacts, env=None):
    """Runs `make fuzz`; returns (exit code, its output)."""
    r = subprocess.run(["make", "-C", str(REPO), "--no-print-directory", "-j2", "fuzz",
                        f"FUZZ_SECONDS={seconds}", f"FUZZ_ARTIFACTS={artifacts}/"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=seconds + 600, env={**os.environ, **(env or {})})
    return r.returncode, r.stdout


def problems(rc, out):
    """Why a run failed, or [] when it ended well: exit 0, "Done N runs" with
    N > 0, and none of the failure marks."""
    found = [m for m in FAILURE_MARKS if m in out]
    if rc:
        found.append(f"exit code {rc}")
    done = re.search(r"^Done (\d+) runs in \d+ second", out, re.M)
    if not done or int(done.group(1)) == 0:
        found.append("no 'Done N runs' line")
    return found


def repo_status():
    """Every file of the checkout but build/, ignored ones too (a crash file would be)."""
    return subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--ignored", "--",
                           ".", ":!build"], capture_output=True, text=True, check=True).stdout


def test_fuzz_runs_clean(tmp_path):
    before = repo_status()
    rc, out = make_fuzz(SECONDS, tmp_path)
    assert problems(rc, out) == [], out[-4000:]
    assert list(tmp_path.iterdir()) == []
    assert repo_status() == before, "the run wrote into the repository"


@pytest.mark.parametrize("kind,mark,artifact", [
    ("invariant", "invariant broken: ", "crash-"),
    ("leak", "ERROR: LeakSanitizer: detected memory leaks", "leak-"),
    ("ub", "runtime error: signed integer overflow", "crash-"),
])
def test_failures_fail(tmp_path, kind, mark, artifact):
    rc, out = make_fuzz(SECONDS, tmp_path, {"XTC_FUZZ_SELFTEST": kind})
    assert rc != 0, out[-4000:]
    assert mark in out, out[-4000:]
    assert problems(rc, out), out[-4000:]
    saved = [p.name for p in tmp_path.iterdir()]
    assert len(saved) == 1 and saved[0].startswith(artifact), saved
