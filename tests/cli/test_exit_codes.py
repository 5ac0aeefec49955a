# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The exit status contract: 0 success, 1 kernel/runtime failure, 2 usage or
config error, 3 differences (apply --dry-run has changes, status finds the
kernel off what was applied); a usage or config error never touches the kernel."""
import json
import os
import re
import tempfile

import pytest

from lib import xtc_cli as X
from lib.netns import sh

USAGE_ERRORS = [
    ([], "Usage:"),
    (["bogus"], "unknown command 'bogus'"),
    (["-x", "status"], "xtc: unknown option '-x'"),
    (["apply", "--bogus"], "xtc: unknown option '--bogus'"),
    (["apply", "--prometheus"], "xtc: apply: --prometheus is not an option of apply"),
    (["status", "--prometheus"], "xtc: status: --prometheus is not an option of status"),
    (["status", "--all"], "xtc: status: --all is not an option of status"),
    (["check", "extra"], "xtc: check: unexpected argument 'extra'"),
    (["stats", "--json", "--prometheus"], "exclude each other"),
    (["stats", "--prometheus", "--json"], "exclude each other"),
    (["stats", "-o", "/tmp/x.prom"], "add --prometheus"),
    (["unload"], "give --all or interface names, one of them"),
    (["unload", "--all", "lo"], "not both"),
    (["--config"], "option --config needs FILE"),
]


@pytest.mark.parametrize("args,message", USAGE_ERRORS,
                         ids=[" ".join(a) or "no-command" for a, _ in USAGE_ERRORS])
def test_usage_error_exits_2(env, args, message):
    p = env.pair()
    cfg = env.config({p.name: {"tc_ingress": "on"}})
    X.ok(env.xtc(cfg, "apply"))
    before = X.kernel_view(p.name), env.bpffs.listing(), X.dump_maps(env.bpffs.path)
    r = X.xtc(cfg, *args)
    assert r.returncode == X.EXIT_USAGE, r
    assert message in r.stderr
    if "--json" in args:    # the failure is reported on stdout too, as JSON
        assert json.loads(r.stdout)["error"]["message"], r.stdout
    else:
        assert r.stdout == ""
    assert (X.kernel_view(p.name), env.bpffs.listing(), X.dump_maps(env.bpffs.path)) == before


def test_help_and_version_exit_0(env):
    r = X.xtc(env.base, "-h")
    assert r.returncode == 0 and "Usage: xtc" in r.stdout and r.stderr == ""
    for cmd in ("check", "apply", "status", "stats", "unload", "version"):
        assert f"  {cmd} " in r.stdout
    r = X.xtc(env.base, "version")
    assert r.returncode == 0 and r.stdout.startswith("xtc ")


INVALID = {
    "unknown-key": "[global]\nbpffs = {bpffs}\nbogus = 1\n[interface {ifname}]\n",
    "bad-value": "[global]\nbpffs = {bpffs}\nxdp_mode = turbo\n[interface {ifname}]\n",
    "missing-iface": "[global]\nbpffs = {bpffs}\n[interface {ifname}]\n[interface nosuchxc0]\n",
    "rule-no-action": "[global]\nbpffs = {bpffs}\n[interface {ifname}]\n[rule r]\nproto = tcp\n",
}


@pytest.mark.parametrize("kind", sorted(INVALID))
def test_invalid_config_fresh_exits_2_and_touches_nothing(env, kind):
    p = env.pair()
    cfg = os.path.join(env.mod.tmp, f"invalid-{kind}.ini")
    with open(cfg, "w") as f:
        f.write(INVALID[kind].format(bpffs=env.bpffs.path, ifname=p.name))
    listing = env.bpffs.listing()
    for args in (["check"], ["apply"], ["apply", "--dry-run"]):
        r = X.xtc(cfg, *args)
        assert r.returncode == X.EXIT_USAGE, (args, r)
        assert cfg in r.stderr, r.stderr
        assert r.stdout == ""
        assert env.bpffs.listing() == listing
        assert X.bare(p.name), X.kernel_view(p.name)


@pytest.mark.parametrize("kind", sorted(INVALID))
def test_invalid_config_on_existing_state_exits_2_and_touches_nothing(env, kind):
    p = env.pair()
    good = env.config({p.name: {"tc_ingress": "on"}},
                      [("icmp", {"interface": p.name, "proto": "icmp", "action": "pass"})])
    X.ok(env.xtc(good, "apply"))
    before = (X.kernel_view(p.name), env.bpffs.listing(), X.dump_maps(env.bpffs.path),
              X.status_json(good))
    cfg = os.path.join(env.mod.tmp, f"invalid-{kind}.ini")
    with open(cfg, "w") as f:
        f.write(INVALID[kind].format(bpffs=env.bpffs.path, ifname=p.name))
    r = X.xtc(cfg, "apply")
    assert r.returncode == X.EXIT_USAGE, r
    assert r.stdout == ""
    after = (X.kernel_view(p.name), env.bpffs.listing(), X.dump_maps(env.bpffs.path),
             X.status_json(good))
    assert after == before


def test_missing_config_file_exits_2(env):
    missing = os.path.join(env.mod.tmp, "does-not-exist.ini")
    listing = env.bpffs.listing()
    for args in (["check"], ["apply"], ["apply", "--dry-run"]):
        r = X.xtc(missing, *args)
        assert r.returncode == X.EXIT_USAGE, (args, r)
        assert missing in r.stderr and "No such file" in r.stderr
        assert r.stdout == ""
    assert env.bpffs.listing() == listing


def test_missing_config_file_is_a_config_error_for_every_command(env):
    """The file names the bpffs; without it status, stats and unload cannot know
    their state either, and a missing file is a config error (2) like for apply."""
    missing = os.path.join(env.mod.tmp, "does-not-exist.ini")
    wrong = []
    for cmd in (["status"], ["stats"], ["unload", "--all"], ["unload", "eth0"]):
        # A private /sys/fs/bpf: if xtc fell back to it, it cannot reach real state.
        r = X.xtc_private_sysfs_bpf(missing, *cmd)
        assert missing in r.stderr and "No such file" in r.stderr, r
        assert r.stdout == ""
        if r.returncode != X.EXIT_USAGE:
            wrong.append((" ".join(cmd), r.returncode))
    assert not wrong, f"exit status for a missing config file is not 2: {wrong}"


def test_status_when_nothing_loaded_exits_3_and_says_so(env):
    """Not loaded is a state the kernel is in, reported on stdout like any problem."""
    r = X.xtc(env.base, "status")
    assert r.returncode == X.EXIT_DIFF, r
    assert "loaded: no" in r.stdout.splitlines()
    assert "problem: not_loaded" in r.stdout
    assert env.bpffs.path in r.stdout and "xtc apply" in r.stdout   # where, and what to do
    assert r.stderr == ""
    j = X.xtc(env.base, "status", "--json")
    assert j.returncode == X.EXIT_DIFF, j
    doc = json.loads(j.stdout)
    assert doc["loaded"] is False and doc["interfaces"] == []
    assert [p["problem"] for p in doc["problems"]] == ["not_loaded"]
    assert not os.path.exists(env.state)


@pytest.mark.parametrize("cmd", [["stats"], ["stats", "--json"], ["stats", "--prometheus"]])
def test_stats_when_nothing_loaded_says_so_and_exits_0(env, cmd):
    """Counters of nothing are empty, not an error: a textfile collector keeps
    getting xtc_up 0 instead of a stale file."""
    r = X.xtc(env.base, *cmd)
    assert r.returncode == 0, r
    assert "not loaded" in r.stderr and env.bpffs.path in r.stderr and "xtc apply" in r.stderr
    if "--json" in cmd:
        doc = json.loads(r.stdout)
        assert doc["loaded"] is False and doc["rules"] == [] and doc["interfaces"] == []
    elif "--prometheus" in cmd:
        assert "xtc_up 0" in r.stdout.splitlines()
    else:
        assert "loaded: no" in r.stdout.splitlines()
    assert not os.path.exists(env.state)


@pytest.fixture
def not_bpffs():
    d = tempfile.mkdtemp(prefix="xtc-cli-notbpf-")
    yield d
    sh(["rm", "-rf", d])


@pytest.mark.parametrize("cmd", [["apply"], ["apply", "--dry-run"], ["status"], ["stats"],
                                 ["unload", "--all"]])
def test_bpffs_that_is_not_bpf_exits_1_with_mount_hint(env, not_bpffs, cmd):
    p = env.pair()
    cfg = X.write_config(os.path.join(env.mod.tmp, "notbpf.ini"), not_bpffs, {p.name: {}})
    r = X.xtc(cfg, *cmd)
    assert r.returncode == X.EXIT_RUNTIME, r
    assert "not a bpf filesystem" in r.stderr
    assert f"mount -t bpf bpf {not_bpffs}" in r.stderr
    assert os.listdir(not_bpffs) == []
    assert X.bare(p.name)


def test_bpffs_that_does_not_exist_exits_1_with_mount_hint(env, not_bpffs):
    p = env.pair()
    gone = os.path.join(not_bpffs, "nothing-here")
    cfg = X.write_config(os.path.join(env.mod.tmp, "nobpf.ini"), gone, {p.name: {}})
    r = X.xtc(cfg, "apply")
    assert r.returncode == X.EXIT_RUNTIME, r
    assert f"mount -t bpf bpf {gone}" in r.stderr
    assert not os.path.exists(gone)
    assert X.bare(p.name)


def test_check_valid_exits_0_and_touches_nothing(env):
    p = env.pair()
    cfg = env.config({p.name: {}}, [("r", {"proto": "tcp", "dst_port": 80, "action": "drop"})])
    r = X.xtc(cfg, "check")
    assert r.returncode == 0, r
    assert "OK: 1 interface(s), 1 rule(s)" in r.stdout
    assert not os.path.exists(env.state)
    assert X.bare(p.name)


def test_verbose_shows_library_messages(env):
    p = env.pair()
    cfg = env.config({p.name: {"tc_ingress": "on"}})
    quiet = X.ok(env.xtc(cfg, "apply"))
    assert "libbpf:" not in quiet.stderr and "libxdp:" not in quiet.stderr, quiet.stderr
    X.ok(env.xtc(env.base, "unload", "--all"))
    debug = X.ok(env.xtc(cfg, "apply", verbose=True))
    assert "xtc: timing:" in debug.stderr, debug.stderr[:2000]
    assert "libbpf:" not in debug.stderr and "libxdp:" not in debug.stderr, debug.stderr
    X.ok(env.xtc(env.base, "unload", "--all"))
    loud = X.ok(env.xtc(cfg, "apply", verbose=2))
    assert "xtc: libbpf: " in loud.stderr, loud.stderr[:2000]
    assert "xtc: libxdp: " in loud.stderr, loud.stderr[:2000]
    # Every line of the log is marked as xtc's, the libraries' too.
    assert all(l.startswith("xtc: ") for l in loud.stderr.splitlines()), loud.stderr[:2000]
    # Debug output goes to stderr; stdout is the same report either way.
    def norm(out):
        return [re.sub(r"id \d+", "id N", l) for l in out.splitlines() if l.startswith(p.name)]
    assert norm(loud.stdout) == norm(quiet.stdout)
    # Read-only commands stay quiet without -v as well.
    for cmd in (["status"], ["stats"], ["apply", "--dry-run"]):
        r = X.ok(env.xtc(cfg, *cmd))
        assert "libbpf:" not in r.stderr and "libxdp:" not in r.stderr, (cmd, r.stderr)
