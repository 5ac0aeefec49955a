# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Named sets at scale, and the limits check shares with apply's rule compiler.

Check must refuse, from the file alone, everything the compiler would: more
match shapes than the classifier's tuple spaces, rules that expand to too many
entries.  At the 64/65-shape boundary the same file also goes through
xtc-testrun, which compiles and loads the rules exactly as apply does."""
import ipaddress
import os
import pathlib
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD = pathlib.Path(os.environ.get("XTC_BUILD") or ROOT / "build")
XTC = pathlib.Path(os.environ.get("XTC_BIN", BUILD / "xtc")).absolute()
TESTRUN = BUILD / "xtc-testrun"


def check(path, *args, timeout=30):
    assert XTC.exists(), f"{XTC} is missing: run make"
    return subprocess.run([str(XTC), "-c", str(path), "check", *args], capture_output=True,
                          text=True, timeout=timeout)


def v4_hosts(n, base="10.0.0.0"):
    start = int(ipaddress.IPv4Address(base))
    return [str(ipaddress.IPv4Address(start + i)) for i in range(n)]


def line_of(path, header):
    return path.read_text().splitlines().index(header) + 1


def set_section(name, entries):
    return f"[set {name}]\n" + "".join(f"{e}\n" for e in entries)


def test_5000_prefix_set_is_one_section_and_fast(tmp_path):
    """5,000 prefixes of both families: one section, three rules, checked in well under 2 s."""
    v4 = [f"{ipaddress.IPv4Address(0x0A000000 + (i << 8))}/24" for i in range(4000)]
    v6 = [f"2001:db8:{i:x}::/48" for i in range(1000)]
    path = tmp_path / "big-set.ini"
    path.write_text(set_section("blocked", v4 + v6) + set_section("web", ["80", "443"]) +
                    "[rule drop-blocked]\nsrc = @blocked\naction = drop\n"
                    "[rule web-to-blocked]\ndirection = egress\ndst = @blocked\nproto = tcp\n"
                    "dst_port = @web\naction = drop\n"
                    "[rule log-blocked]\ndirection = egress\nsrc = @blocked\naction = pass\n")
    t0 = time.monotonic()
    r = check(path)
    secs = time.monotonic() - t0
    assert r.stderr == ""
    assert r.returncode == 0
    assert r.stdout == f"{path}: OK: 0 interface(s), 3 rule(s)\n"
    assert secs < 2.0, f"{secs:.2f} s"


def test_rule_over_a_million_entries(tmp_path):
    path = tmp_path / "cross.ini"
    path.write_text(set_section("a", v4_hosts(1001, "10.0.0.0")) +
                    set_section("b", v4_hosts(1000, "10.128.0.0")) +
                    "[rule ok]\nsrc = @a\ndst = 192.0.2.1\naction = drop\n"
                    "[rule cross]\nsrc = @a\ndst = @b\naction = drop\n")
    r = check(path)
    assert r.returncode == 2
    assert r.stderr == (f"xtc: {path}:{line_of(path, '[rule cross]')}: [rule cross] expands to 1001000 classifier entries "
                        f"(set elements and port-range blocks multiplied out); xtc allows "
                        f"1000000 per rule: split it, or use smaller sets\n")


def test_port_blocks_count_too(tmp_path):
    """1000 hosts times 1001 ports: each odd port is a block of its own."""
    path = tmp_path / "ports.ini"
    ports = [str(p) for p in range(1, 2003, 2)]
    path.write_text(set_section("hosts", v4_hosts(1000)) + set_section("odd", ports) +
                    "[rule many]\ndst = @hosts\nproto = udp\ndst_port = @odd\naction = drop\n")
    r = check(path)
    assert r.returncode == 2
    assert "[rule many] expands to 1001000 classifier entries" in r.stderr


def test_all_rules_over_16m_entries(tmp_path):
    path = tmp_path / "total.ini"
    rules = "".join(f"[rule r{i}]\nsrc = @a\ndst = @b\nproto = {100 + i}\naction = drop\n"
                    for i in range(17))
    path.write_text(set_section("a", v4_hosts(1000, "10.0.0.0")) +
                    set_section("b", v4_hosts(1000, "10.128.0.0")) + rules)
    r = check(path)
    assert r.returncode == 2
    assert r.stderr == (f"xtc: {path}:{line_of(path, '[rule r16]')}: [rule r16] brings the classifier over 16777216 "
                        f"entries, the most xtc loads: remove rules or set elements\n")


def shapes_config(n):
    """One rule whose set has n prefix lengths: n shapes from a single rule."""
    entries = [f"fd00::/{8 + i}" for i in range(n)]
    return (set_section("lengths", entries) +
            "[interface a0]\n[rule lengths]\ndst = @lengths\nproto = udp\naction = drop\n")


@pytest.fixture(scope="module")
def fixture_ns():
    if os.geteuid() != 0:
        pytest.skip("needs root for BPF_PROG_TEST_RUN")
    if not TESTRUN.exists():
        pytest.fail(f"{TESTRUN} is missing: run make")
    ns = f"xtcsets{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "-n", ns, "link", "add", "a0", "type", "veth", "peer", "name", "a1"],
                   check=True)
    yield ns
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def in_ns(ns, *cmd):
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("n,ok", [(64, True), (65, False)])
def test_shape_limit_agrees_with_the_compiler(tmp_path, fixture_ns, n, ok):
    """64 shapes: check passes and the compiler loads them; 65: check refuses."""
    path = tmp_path / f"shapes{n}.ini"
    path.write_text(shapes_config(n))
    pkts = tmp_path / "none.txt"
    pkts.write_text("")
    r = in_ns(fixture_ns, str(XTC), "-c", str(path), "check")
    if ok:
        assert r.stderr == "" and r.returncode == 0, r
        t = in_ns(fixture_ns, str(TESTRUN), str(path), str(pkts))
        assert t.returncode == 0, t.stderr
        return
    assert r.returncode == 2
    assert r.stderr == (f"xtc: {path}:{n + 3}: [rule lengths] needs a 65th distinct match "
                        f"shape; xtc supports 64 (rules that constrain the same fields with the "
                        f"same prefix lengths and port blocks share one)\n")


def test_mirror_shapes_count(tmp_path):
    """reverse = yes mirrors need shapes of their own: counted like any rule."""
    rules = "".join(f"[rule r{i}]\ninterface = lo\ndst = fd00::/{8 + i}\nproto = udp\n"
                    f"action = redirect\nredirect = neigh\ntarget = lo\nreverse = yes\n"
                    for i in range(33))
    path = tmp_path / "mirrors.ini"
    path.write_text("[interface lo]\n" + rules)
    r = check(path)
    assert r.returncode == 2
    # The compiler takes the file's 33 rules first, then their mirrors: the 32nd mirror
    # needs the 65th shape.
    assert r.stderr == (f"xtc: {path}:{line_of(path, '[rule r31]')}: the reverse = yes mirror "
                        f"of [rule r31] needs a 65th distinct match "
                        f"shape; xtc supports 64 (rules that constrain the same fields with the "
                        f"same prefix lengths and port blocks share one)\n")


def test_statics_over_the_ip_map(tmp_path):
    path = tmp_path / "statics.ini"
    hosts = v4_hosts(16385, "10.0.0.0")
    path.write_text("[static]\n" + "".join(f"{h} = lo\n" for h in hosts))
    r = check(path)
    assert r.returncode == 2
    assert r.stderr == (f"xtc: {path}:16386: [static] entry 16385: the IP-to-ifindex map holds "
                        f"16384 prefixes, the host's addresses and routes included\n")
