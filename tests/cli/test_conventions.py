# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Command-line conventions an operator brings from ip, bpftool and xdp-loader:
help everywhere, versions, options after the command, `xtc:` on every message,
the rules and the IP-to-ifindex map as the kernel holds them, and refusals
that come with their fix."""
import json
import os
import re
import socket
import subprocess

import pytest

from lib import xtc_cli as X
from lib.netns import sh, unique

COMMANDS = ["check", "apply", "status", "stats", "rules", "ipmap", "explain", "unload", "daemon",
            "version", "help"]


def run(*args):
    return subprocess.run([str(X.XTC), *map(str, args)], capture_output=True, text=True,
                          timeout=30)


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["help"]], ids=" ".join)
def test_help_prints_usage_on_stdout_and_exits_0(args):
    r = run(*args)
    assert r.returncode == 0 and r.stderr == "", r
    assert r.stdout.startswith("Usage: xtc [OPTIONS] COMMAND")
    for cmd in COMMANDS:
        assert re.search(rf"^  {cmd}\b", r.stdout, re.M), cmd
    assert "Exit status" in r.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_command_help_two_ways(cmd):
    a, b = run("help", cmd), run(cmd, "--help")
    assert a.returncode == 0 and b.returncode == 0 and a.stderr == b.stderr == "", (a, b)
    assert a.stdout == b.stdout
    assert a.stdout.startswith("Usage: xtc [-c FILE] [-v] " + cmd)
    assert "Global options:" in a.stdout


def test_help_for_an_unknown_command():
    r = run("help", "bogus")
    assert r.returncode == X.EXIT_USAGE and r.stdout == ""
    assert r.stderr == "xtc: help: unknown command 'bogus'; xtc help lists them\n"


@pytest.mark.parametrize("args", [["version"], ["--version"], ["-V"], ["status", "--version"]],
                         ids=" ".join)
def test_version_names_xtc_libbpf_libxdp_and_the_bpf_build(args):
    r = run(*args)
    assert r.returncode == 0 and r.stderr == "", r
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"xtc \d+\.\d+\.\d+", lines[0]), lines
    assert re.fullmatch(r"libbpf \d+\.\d+(\.\d+)?", lines[1]), lines
    assert re.fullmatch(r"libxdp \d+\.\d+\.\d+", lines[2]), lines
    assert re.fullmatch(r"bpf objects [0-9a-f]{16}", lines[3]), lines
    assert lines[4] == "kernel " + os.uname().release
    j = json.loads(run("version", "--json").stdout)
    assert (j["version"], j["bpf_build_id"]) == (lines[0].split()[1], lines[3].split()[2])


def test_version_tells_bpf_builds_apart(tmp_path):
    """The build id is of the BPF objects inside the binary, not a constant."""
    a = run("version", "--json")
    # The same binary agrees with itself; a binary whose embedded objects differ does not.
    assert json.loads(a.stdout)["bpf_build_id"] == json.loads(run("version", "--json").stdout)["bpf_build_id"]
    data = X.XTC.read_bytes()
    patched = bytearray(data)
    # Every embedded BPF object (e_machine 247): each file that includes a
    # skeleton holds its own copy.
    bpf_elf = b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x01\x00\xf7\x00"
    at = [i for i in range(len(data)) if data.startswith(bpf_elf, i)]
    assert len(at) >= 3
    for i in at:
        patched[i + 0x30] ^= 0xff           # a byte of its section header fields
    other = tmp_path / "xtc"
    other.write_bytes(bytes(patched))
    other.chmod(0o755)
    b = subprocess.run([str(other), "version", "--json"], capture_output=True, text=True)
    assert b.returncode == 0, b
    assert json.loads(b.stdout)["bpf_build_id"] != json.loads(a.stdout)["bpf_build_id"]


def test_options_after_the_command(env):
    a = env.pair()
    cfg = env.config({a.name: {}}, [("icmp", {"proto": "icmp", "action": "pass"})])
    X.ok(env.xtc(cfg, "apply"))
    before = subprocess.run([str(X.XTC), "-c", str(cfg), "--json", "status"],
                            capture_output=True, text=True)
    after = subprocess.run([str(X.XTC), "status", "-c", str(cfg), "--json"],
                           capture_output=True, text=True)
    mixed = subprocess.run([str(X.XTC), "-j", "status", f"--config={cfg}"],
                           capture_output=True, text=True)
    assert before.returncode == after.returncode == mixed.returncode == 0
    assert json.loads(before.stdout) == json.loads(after.stdout) == json.loads(mixed.stdout)
    # `--` ends the options: what follows is an argument, even when it looks like one.
    r = subprocess.run([str(X.XTC), "-c", str(cfg), "unload", "--", "--all"],
                       capture_output=True, text=True)
    assert r.returncode == X.EXIT_RUNTIME and "--all: not managed by xtc" in r.stderr, r


def test_every_message_starts_with_xtc(env, tmp_path):
    """Never argv[0]'s path: errors read the same whoever runs xtc from where."""
    a = env.pair()
    bad = tmp_path / "bad.ini"
    bad.write_text("[global]\nbpffs = /nowhere\n[rule r]\naction = dorp\n")
    cases = [run("-x"), run("status", "--bogus"), run("-c", bad, "check"),
             run("-c", bad, "apply"), run("-c", tmp_path / "missing.ini", "status"),
             run("unload")]
    cfg = env.config({a.name: {}})
    cases.append(env.xtc(cfg, "unload", "nonexistent0"))
    cases.append(env.xtc(cfg, "apply", verbose=True))
    for r in cases:
        assert r.stderr, r
        for line in r.stderr.splitlines():
            assert line.startswith("xtc: "), (r.args, line)
            assert str(X.XTC) not in line


def test_rules_lists_what_the_kernel_holds_without_the_file(env):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: {"tc_ingress": "on"}, b.name: {}},
                     [("icmp-in", {"interface": a.name, "proto": "icmp", "action": "pass"}),
                      ("web", {"proto": "tcp", "src": "10.1.0.0/16", "dst_port": "80-90",
                               "action": "drop"}),
                      ("v6", {"dst": "fd00:1::/64", "proto": "udp", "src_port": 53,
                              "action": "drop"}),
                      ("fwd", {"interface": a.name, "dst": "10.9.9.0/24", "action": "redirect",
                               "redirect": "neigh", "target": b.name, "reverse": "yes"})])
    X.ok(env.xtc(cfg, "apply"))
    assert a.ping(2) == 2
    # Only [global] bpffs: what is enforced, read from the kernel.
    r = X.ok(env.xtc(env.base, "rules", "--json"))
    rules = json.loads(r.stdout)["rules"]
    assert [x["rule"] for x in rules] == ["icmp-in", "web", "v6", "fwd", "fwd~reverse"]
    by = {x["rule"]: x for x in rules}
    assert [x["position"] for x in rules] == [1, 2, 3, 4, 5]
    assert by["icmp-in"] == {"rule": "icmp-in", "position": 1, "generated": False,
                             "interface": a.name, "direction": "ingress", "proto": "icmp",
                             "action": "pass", "packets": 2, "bytes": by["icmp-in"]["bytes"]}
    assert by["icmp-in"]["bytes"] >= 2 * 84
    assert {k: by["web"][k] for k in ("interface", "src", "proto", "dst_port", "action")} == \
        {"interface": "*", "src": "10.1.0.0/16", "proto": "tcp", "dst_port": "80-90",
         "action": "drop"}
    assert "dst" not in by["web"] and "src_port" not in by["web"]
    assert (by["v6"]["dst"], by["v6"]["src_port"]) == ("fd00:1::/64", "53")
    assert {k: by["fwd"][k] for k in ("dst", "action", "redirect", "target")} == \
        {"dst": "10.9.9.0/24", "action": "redirect", "redirect": "neigh", "target": b.name}
    assert by["fwd~reverse"]["generated"] is True and by["fwd~reverse"]["target"] == a.name
    text = X.ok(env.xtc(env.base, "rules")).stdout
    assert "  - rule: web\n    position: 2\n" in text and "    dst_port: 80-90\n" in text


def test_ipmap_lists_each_entry_with_its_origin(env):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: {}}, statics={"10.250.7.0/24": b.name, "fd00:77::/48": a.name})
    X.ok(env.xtc(cfg, "apply"))
    entries = json.loads(X.ok(env.xtc(env.base, "ipmap", "--json")).stdout)["ipmap"]
    got = {(e["prefix"], e["interface"], e["origin"]) for e in entries}
    assert (f"{a.host_ip}/32", a.name, "address") in got
    assert (f"{a.host_ip.rsplit('.', 1)[0]}.0/24", a.name, "route") in got
    assert ("10.250.7.0/24", b.name, "static") in got
    assert ("fd00:77::/48", a.name, "static") in got
    assert all(e["ifindex"] == socket.if_nametoindex(e["interface"]) for e in entries
               if not e["interface"].startswith("#"))
    assert "origin: static" in X.ok(env.xtc(env.base, "ipmap")).stdout


def test_cls_bpf_prio_and_handle_in_hex_as_tc_prints_them(env):
    a = env.pair()
    cfg = env.config({a.name: {"xdp": "off", "tc_ingress": "on"}}, glob={"tc_attach": "cls_bpf"})
    X.ok(env.xtc(cfg, "apply"))
    text = X.ok(env.xtc(cfg, "status")).stdout
    assert "      prio: 0x7874\n      handle: 0x7874\n" in text, text
    tc = sh(["tc", "filter", "show", "dev", a.name, "ingress"]).stdout
    assert "pref 30836" in tc and "handle 0x7874" in tc          # what tc shows for the same
    j = X.iface_status(X.status_json(cfg), a.name)["tc_ingress"]
    assert (j["prio"], j["handle"]) == (0x7874, 0x7874)          # numbers stay numbers


def test_native_xdp_refused_by_the_driver_names_the_fix(env):
    """A bridge has no native XDP: the kernel says so, xtc says set xdp_mode = skb."""
    br = unique("xbr")
    sh(["ip", "link", "add", br, "type", "bridge"])
    try:
        sh(["ip", "link", "set", br, "up"])
        cfg = env.config({br: {"xdp_mode": "native"}})
        r = env.xtc(cfg, "apply")
        assert r.returncode == X.EXIT_RUNTIME, r
        assert f"set xdp_mode = skb for {br}" in r.stderr, r.stderr
        assert "does not support XDP in native mode" in r.stderr      # the kernel's words
        assert X.xdp_prog(br) is None
    finally:
        sh(["ip", "link", "del", br], check=False)
