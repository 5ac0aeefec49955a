# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""xtc check --json and --strict: one JSON document on stdout, the exit codes of text mode."""
import json
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
XTC = pathlib.Path(os.environ.get("XTC_BIN", ROOT / "build" / "xtc")).absolute()

WARNS = ("[interface lo]\n[rule all]\nproto = tcp\naction = drop\n"
         "[rule web]\nproto = tcp\ndst_port = 80\naction = pass\n")


def check(path, *args):
    assert XTC.exists(), f"{XTC} is missing: run make"
    return subprocess.run([str(XTC), "-c", str(path), "check", *args], capture_output=True,
                          text=True, timeout=30)


def write(tmp_path, text):
    path = tmp_path / "x.ini"
    path.write_text(text)
    return path


def test_valid(tmp_path):
    path = write(tmp_path, "[interface lo]\n[rule a]\nproto = udp\naction = drop\n")
    r = check(path, "--json")
    assert r.returncode == 0
    assert r.stderr == ""
    assert json.loads(r.stdout) == {"schema": 1, "config": str(path), "valid": True,
                                    "interface_count": 1, "rule_count": 1, "problems": []}


def test_invalid_lists_every_problem_and_the_first_error(tmp_path):
    path = write(tmp_path, "[global]\nxdp_mode = fast\n[rule a]\nproto = tcp\n")
    r = check(path, "--json")
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    first = {"severity": "error", "file": str(path), "line": 2,
             "message": "bad value 'fast' for xdp_mode: use native or skb"}
    assert doc == {
        "schema": 1, "config": str(path), "valid": False, "interface_count": 0, "rule_count": 0,
        "problems": [first, {"severity": "error", "file": str(path), "line": 3,
                             "message": "[rule a] has no action: add action = pass, drop or "
                                        "redirect"}],
        "error": {"message": first["message"], "file": str(path), "line": 2},
    }
    # The same lines as in text mode stay on stderr.
    assert r.stderr.splitlines()[0] == f"xtc: {path}:2: {first['message']}"


def test_error_without_a_line(tmp_path):
    path = tmp_path / "missing.ini"
    r = check(path, "--json")
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert doc["valid"] is False
    # A problem always has a line, 0 when it is about the whole file; the error omits it.
    assert doc["problems"] == [{"severity": "error", "file": str(path), "line": 0,
                                "message": "cannot read: No such file or directory"}]
    assert doc["error"] == {"message": "cannot read: No such file or directory",
                            "file": str(path)}


def test_warnings_pass_unless_strict(tmp_path):
    path = write(tmp_path, WARNS)
    warning = {"severity": "warning", "file": str(path), "line": 5,
               "message": f"[rule web] can never match: [rule all] at {path}:2 matches every "
                          f"packet it would"}
    r = check(path, "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"schema": 1, "config": str(path), "valid": True,
                                    "interface_count": 1, "rule_count": 2,
                                    "problems": [warning]}
    r = check(path, "--json", "--strict")
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert doc["valid"] is False and doc["problems"] == [warning]
    assert doc["error"] == {"message": warning["message"], "file": str(path), "line": 5}


def test_text_mode_counts_warnings(tmp_path):
    path = write(tmp_path, WARNS)
    r = check(path)
    assert r.returncode == 0
    assert r.stdout == f"{path}: OK: 1 interface(s), 2 rule(s), 1 warning(s)\n"
    assert r.stderr.startswith(f"xtc: {path}:5: warning: [rule web] can never match")
    r = check(path, "--strict")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.splitlines()[-1] == (f"xtc: {path}: 1 warning(s), which --strict makes "
                                         f"errors")


def test_every_stderr_line_is_marked(tmp_path):
    path = write(tmp_path, "[rule a]\nsrc = 10.0.0.1/8\nbogus = 1\n" + WARNS)
    r = check(path)
    assert r.returncode == 2
    assert r.stderr and all(l.startswith("xtc: ") for l in r.stderr.splitlines())
