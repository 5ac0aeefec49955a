# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Golden tests for `xtc check`.

invalid/NN-name.ini must fail with exit code 2 and exactly the stderr lines
in invalid/NN-name.expected; valid/NN-name.ini must pass with exit code 0 and
the stdout in valid/NN-name.expected; warn/NN-name.ini must pass with
warnings: its .expected holds the stderr lines and then the stdout line, and
with --strict the same file fails.  {FILE} in an expected file stands for the
path given to -c and {DIR} for its directory (include files are there), so
the files do not depend on where the checkout is.  Include files of a case
live in a directory beside it, NN-name.d/, which the *.ini globs skip.

Run as root with /usr/bin/python3 -m pytest; XTC_BIN picks the binary
(default: build/xtc in the repository).
"""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
XTC = pathlib.Path(os.environ.get("XTC_BIN", REPO / "build" / "xtc")).absolute()
INVALID = sorted((HERE / "invalid").glob("*.ini"))
VALID = sorted((HERE / "valid").glob("*.ini"))
WARN = sorted((HERE / "warn").glob("*.ini"))
NOBODY = 65534


def xtc_check(path, *args, **kw):
    if not XTC.exists():
        pytest.fail(f"{XTC} is missing: run make (or set XTC_BIN)")
    return subprocess.run([str(XTC), "-c", str(path), "check", *args], capture_output=True,
                          text=True, timeout=30, **kw)


def placeholder(text, path):
    path = pathlib.Path(path)
    return text.replace(str(path), "{FILE}").replace(str(path.parent), "{DIR}")


def test_enough_cases():
    assert len(INVALID) >= 30
    assert len(WARN) >= 5
    for ini in INVALID + VALID + WARN:
        assert ini.with_suffix(".expected").exists(), f"{ini.name} has no .expected"


@pytest.mark.parametrize("ini", INVALID, ids=lambda p: p.stem)
def test_invalid(ini):
    r = xtc_check(ini)
    assert placeholder(r.stderr, ini) == ini.with_suffix(".expected").read_text()
    assert r.returncode == 2
    assert r.stdout == ""


@pytest.mark.parametrize("ini", VALID, ids=lambda p: p.stem)
def test_valid(ini):
    r = xtc_check(ini)
    assert r.stderr == ""
    assert r.returncode == 0
    assert placeholder(r.stdout, ini) == ini.with_suffix(".expected").read_text()


@pytest.mark.parametrize("ini", WARN, ids=lambda p: p.stem)
def test_warnings(ini):
    expected = ini.with_suffix(".expected").read_text()
    *warnings, ok_line = expected.splitlines(keepends=True)
    assert warnings and all(": warning: " in w for w in warnings), expected
    assert ok_line.endswith(f", {len(warnings)} warning(s)\n")
    r = xtc_check(ini)
    assert placeholder(r.stderr + r.stdout, ini) == expected
    assert r.returncode == 0
    strict = xtc_check(ini, "--strict")
    assert placeholder(strict.stderr, ini) == "".join(warnings) + \
        f"xtc: {{FILE}}: {len(warnings)} warning(s), which --strict makes errors\n"
    assert strict.returncode == 2
    assert strict.stdout == ""


def test_path_as_given():
    """Messages name the file the way the user wrote it, relative or not."""
    rel = "invalid/21-bad-proto.ini"
    r = xtc_check(rel, cwd=HERE)
    assert r.returncode == 2
    assert r.stderr.splitlines()[0].startswith("xtc: " + rel + ":3: bad value 'tcpp' for proto")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.ini"
    r = xtc_check(path)
    assert r.returncode == 2
    assert r.stderr == f"xtc: {path}: cannot read: No such file or directory\n"


def test_directory(tmp_path):
    r = xtc_check(tmp_path)
    assert r.returncode == 2
    assert r.stderr == f"xtc: {tmp_path}: is a directory; give the path of an INI file\n"


def test_unreadable():
    # Root reads anything: drop to nobody, in a directory nobody can enter.
    d = tempfile.mkdtemp(prefix="xtc-cfg-")
    try:
        os.chmod(d, 0o755)
        path = pathlib.Path(d) / "secret.ini"
        path.write_text("[global]\n")
        os.chmod(path, 0o000)
        kw = {"user": NOBODY, "group": NOBODY} if os.geteuid() == 0 else {}
        try:
            r = xtc_check(path, **kw)
        except PermissionError:
            pytest.skip(f"{XTC} cannot be run as uid {NOBODY}")
        if r.returncode == 126 or "exec" in r.stderr:
            pytest.skip(f"{XTC} cannot be run as uid {NOBODY}")
        assert r.returncode == 2
        assert r.stderr == f"xtc: {path}: cannot read: Permission denied\n"
    finally:
        shutil.rmtree(d)


def test_crlf_and_bom(tmp_path):
    """Files saved on Windows, with CRLF line ends and a UTF-8 BOM, read the same."""
    src = HERE / "valid" / "04-every-key.ini"
    path = tmp_path / "crlf.ini"
    path.write_bytes(b"\xef\xbb\xbf" + src.read_bytes().replace(b"\n", b"\r\n"))
    r = xtc_check(path)
    assert r.stderr == ""
    assert r.returncode == 0


def test_long_lines(tmp_path):
    """Lines longer than 200 bytes (stock inih's buffer) are read whole, not split."""
    path = tmp_path / "long.ini"
    path.write_text("[rule web]\naction = pass ; " + "x" * 500 + "\n;" + "y" * 500 + "\n"
                    "proto = tcp\n")
    r = xtc_check(path)
    assert r.stderr == ""
    assert r.returncode == 0


def test_nul_byte(tmp_path):
    path = tmp_path / "nul.ini"
    path.write_bytes(b"[global]\nxdp_mode = s\x00kb\n")
    r = xtc_check(path)
    assert r.returncode == 2
    assert r.stderr == f"xtc: {path}:2: syntax error: the line holds a NUL byte; give a text file\n"


def test_example_config():
    """The documented example is valid apart from interfaces this host lacks."""
    example = REPO / "configs" / "xtc.ini.example"
    r = xtc_check(example)
    problems = [l for l in r.stderr.splitlines() if "on this host" not in l]
    assert problems == []
    assert r.returncode in (0, 2)


def config_key_tables():
    """{section: [keys]} from the key tables in userspace/config/config*.c, as the man page's
    sync test reads them."""
    tables = {}
    for src in sorted((REPO / "userspace" / "config").glob("config*.c")):
        for name, body in re.findall(r"static const char \*const (\w+)_keys\[[^\]]*\] = "
                                     r"\{([^}]*)\}", src.read_text()):
            tables[name] = re.findall(r'"([^"]+)"', body)
    return tables


def test_example_documents_every_key():
    tables = config_key_tables()
    assert sorted(tables) == ["global", "iface", "rule"]
    text = (REPO / "configs" / "xtc.ini.example").read_text()
    for name, keys in tables.items():
        for key in keys:
            assert re.search(rf"^{key} = ", text, re.M), f"{name} key {key} not in the example"
    for section in ("global", "interface eth0", "set ", "rule ", "static"):
        assert f"[{section}" in text


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


def test_example_config_is_clean_where_its_interfaces_exist():
    """With its interfaces there, the example passes without a problem or a warning."""
    ns, pods = f"xtcex{os.getpid()}", f"xtcexp{os.getpid()}"
    try:
        try:
            ip("netns", "add", ns)
            ip("netns", "add", pods)
            ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p")
            ip("-n", ns, "link", "add", "veth-pod7", "type", "veth", "peer", "name", "p7",
               "netns", pods)
            ip("-n", ns, "link", "add", "veth-pod9", "type", "veth", "peer", "name", "p9")
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            pytest.skip(f"cannot create the example's interfaces: {e}")
        example = REPO / "configs" / "xtc.ini.example"
        r = subprocess.run(["ip", "netns", "exec", ns, str(XTC), "-c", str(example), "check",
                            "--strict"], capture_output=True, text=True, timeout=30)
        assert r.stderr == ""
        assert r.returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "netns", "del", pods], capture_output=True)


def test_peer_into_other_namespace():
    """redirect = peer passes for a veth whose peer sits in another namespace."""
    ns, a, b = f"xtccfg{os.getpid()}", "xtccfgt0", "xtccfgt1"
    try:
        try:
            ip("netns", "add", ns)
            ip("link", "add", a, "type", "veth", "peer", "name", b)
            ip("link", "set", b, "netns", ns)
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            pytest.skip(f"cannot create a veth pair in a namespace: {e}")
        with tempfile.NamedTemporaryFile("w", suffix=".ini") as f:
            f.write(f"[rule to-pod]\ndst = 10.244.1.0/24\naction = redirect\n"
                    f"redirect = peer\ntarget = {a}\n")
            f.flush()
            r = xtc_check(f.name)
        assert r.stderr == ""
        assert r.returncode == 0
    finally:
        subprocess.run(["ip", "link", "del", a], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_peer_in_same_namespace():
    a, b = "xtccfgt2", "xtccfgt3"
    try:
        try:
            ip("link", "add", a, "type", "veth", "peer", "name", b)
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            pytest.skip(f"cannot create a veth pair: {e}")
        with tempfile.NamedTemporaryFile("w", suffix=".ini") as f:
            f.write(f"[rule to-pod]\naction = redirect\nredirect = peer\ntarget = {a}\n")
            f.flush()
            r = xtc_check(f.name)
            assert r.returncode == 2
            assert r.stderr == (f"xtc: {f.name}:4: redirect = peer needs a veth target whose peer is in "
                                f"another network namespace, but the peer of '{a}' is in "
                                f"this one\n")
    finally:
        subprocess.run(["ip", "link", "del", a], capture_output=True)
