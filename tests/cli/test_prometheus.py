# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""`xtc stats --prometheus`: node_exporter's textfile format, read back with the
Prometheus project's own parser (python3-prometheus-client), with hostile
interface names, agreeing with `stats --json`, and written atomically by -o."""
import json
import os
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lib import xtc_cli as X


def parse(text):
    """{(sample name, frozenset(labels)): value}, with every family's HELP and TYPE."""
    seen_help = {l.split()[2] for l in text.splitlines() if l.startswith("# HELP ")}
    seen_type = {l.split()[2]: l.split()[3] for l in text.splitlines() if l.startswith("# TYPE ")}
    out = {}
    for fam in text_string_to_metric_families(text):
        for smp in fam.samples:
            key = (smp.name, frozenset(smp.labels.items()))
            assert key not in out, f"duplicate sample {key}"
            out[key] = smp.value
            family = smp.name if smp.name in seen_type else fam.name
            assert family in seen_type, f"{smp.name}: no # TYPE line"
            assert family in seen_help, f"{smp.name}: no # HELP line"
    assert set(seen_help) == set(seen_type), (seen_help, seen_type)
    return out, seen_type


def expected(stats):
    """The samples that stats --json says there should be (interface -> device)."""
    out = {}
    for r in stats["rules"]:
        labels = {"rule": r["rule"], "device": r["interface"], "direction": r["direction"],
                  "action": r["action"]}
        if r["interface"] == "*":       # every interface: no device to name
            del labels["device"]
        labels = frozenset(labels.items())
        out[("xtc_rule_packets_total", labels)] = r["packets"]
        out[("xtc_rule_bytes_total", labels)] = r["bytes"]
    for i in stats["interfaces"]:
        labels = frozenset({"device": i["interface"], "hook": i["hook"]}.items())
        for k, v in i.items():
            if k not in ("interface", "hook", "ifindex"):
                out[(f"xtc_iface_{k}_total", labels)] = v
    return out


@pytest.fixture
def hostile(env):
    """A veth pair whose names hold the characters label values must escape."""
    tag = os.urandom(3).hex()
    # Names may hold any byte but '/', ':', blanks and NUL: a quote and a backslash.
    return env.pair(name=f'xq{tag}"'), env.pair(name=f"xb{tag}\\")


def test_prometheus_with_hostile_names_parses_and_matches_json(env, hostile):
    a, b = hostile
    cfg = env.config({a.name: {"tc_ingress": "on"}, b.name: {"xdp": "off", "tc_egress": "on"}},
                     [("icmp-a", {"interface": a.name, "proto": "icmp", "action": "pass"}),
                      ("web", {"proto": "tcp", "dst_port": "80", "action": "drop"})])
    X.ok(env.xtc(cfg, "apply"))
    for _ in range(5):
        j1 = X.stats_json(cfg)
        r = X.ok(env.xtc(cfg, "stats", "--prometheus"))
        j2 = X.stats_json(cfg)
        if j1 == j2:
            break
    assert j1 == j2, "counters kept moving"
    assert r.stderr == ""
    # The escapes are what the format asks for, byte for byte.
    assert 'device="' + a.name.replace('"', '\\"') + '"' in r.stdout
    assert 'device="' + b.name.replace("\\", "\\\\") + '"' in r.stdout
    got, types = parse(r.stdout)
    assert set(got) >= set(expected(j1))
    for key, value in expected(j1).items():
        assert got[key] == value, key
    assert {dict(k[1]).get("device") for k in got if dict(k[1]).get("device")} == \
        {a.name, b.name}
    # The rule for every interface has no device label, not device="*".
    assert got[("xtc_rule_packets_total", frozenset({"rule": "web", "direction": "ingress",
                                                     "action": "drop"}.items()))] == 0
    # xtc itself: up, the version, when it was last applied.
    assert got[("xtc_up", frozenset())] == 1 and types["xtc_up"] == "gauge"
    assert got[("xtc_build_info", frozenset({"version": X.version()}.items()))] == 1
    assert got[("xtc_last_apply_timestamp_seconds", frozenset())] == \
        X.status_json(cfg)["last_apply_timestamp_seconds"]
    assert all(t == "counter" for n, t in types.items() if n.endswith("_total"))


def test_prometheus_when_not_loaded_says_xtc_up_0(env, tmp_path):
    out = tmp_path / "xtc.prom"
    r = env.xtc(env.base, "stats", "--prometheus", "-o", out)
    assert r.returncode == 0, r
    got, _ = parse(out.read_text())
    assert got[("xtc_up", frozenset())] == 0
    assert not [k for k in got if k[0].startswith("xtc_rule_")]


def test_output_file_is_replaced_atomically(env, tmp_path):
    """-o writes a temporary file and renames it: a reader sees the old file or the
    new one, never a part, and no temporary file is left behind."""
    a = env.pair()
    cfg = env.config({a.name: {}}, [("icmp", {"proto": "icmp", "action": "pass"})])
    X.ok(env.xtc(cfg, "apply"))
    out = tmp_path / "xtc.prom"
    out.write_text("old\n")
    old_inode = out.stat().st_ino
    r = X.ok(env.xtc(cfg, "stats", "--prometheus", "-o", out))
    assert r.stdout == ""
    assert out.stat().st_ino != old_inode          # renamed over, not rewritten in place
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert os.listdir(tmp_path) == ["xtc.prom"]
    got, _ = parse(out.read_text())
    assert got[("xtc_up", frozenset())] == 1
    # A directory that cannot take the file: exit 1, the old file untouched elsewhere.
    bad = tmp_path / "missing-dir" / "xtc.prom"
    r = env.xtc(cfg, "stats", "--prometheus", "-o", bad)
    assert r.returncode == X.EXIT_RUNTIME and "cannot" in r.stderr, r
    assert os.listdir(tmp_path) == ["xtc.prom"]


KILL_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* Dies where XTC_KILL_AT says: at fflush (what stdio wrote of a big output is in the
 * file already), at fsync, or at rename. */
static void maybe_die(const char *at)
{
	const char *want = getenv("XTC_KILL_AT");

	if (want && !strcmp(want, at))
		raise(SIGKILL);
}
int fflush(FILE *f)
{
	int (*real)(FILE *) = dlsym(RTLD_NEXT, "fflush");

	if (f && f != stdout && f != stderr)
		maybe_die("fflush");
	return real(f);
}
int fsync(int fd)
{
	int (*real)(int) = dlsym(RTLD_NEXT, "fsync");

	maybe_die("fsync");
	return real(fd);
}
int rename(const char *a, const char *b)
{
	int (*real)(const char *, const char *) = dlsym(RTLD_NEXT, "rename");

	maybe_die("rename");
	return real(a, b);
}
"""


def test_output_file_killed_midway_is_never_partial(env, tmp_path):
    """Killed while writing, before its fsync or before its rename, -o leaves the
    previous complete file.  (A preloaded shim kills it: no ptrace, so this also runs
    under strace-based tools.)"""
    shim_c = tmp_path / "kill.c"
    shim_c.write_text(KILL_SHIM)
    shim = tmp_path / "kill.so"
    r = subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(shim), str(shim_c)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    a = env.pair()
    cfg = env.config({a.name: {}}, [("icmp", {"proto": "icmp", "action": "pass"})])
    X.ok(env.xtc(cfg, "apply"))
    out_dir = tmp_path / "prom"
    out_dir.mkdir()
    out = out_dir / "xtc.prom"
    X.ok(env.xtc(cfg, "stats", "--prometheus", "-o", out))
    good = out.read_text()
    for at in ("fflush", "fsync", "rename"):
        r = subprocess.run([str(X.XTC), "-c", str(cfg), "stats", "--prometheus", "-o", str(out)],
                           capture_output=True, text=True,
                           env=dict(os.environ, LD_PRELOAD=str(shim), XTC_KILL_AT=at))
        assert r.returncode == -9, (at, r)          # it really died there
        assert out.read_text() == good, at
    # A killed writer leaves its temporary file: named so that the textfile collector,
    # which reads *.prom only, never reads it.
    left = [f for f in os.listdir(out_dir) if f != "xtc.prom"]
    assert len(left) == 3 and not [f for f in left if f.endswith(".prom")], left


def test_prometheus_without_bpffs_still_says_xtc_up_0(env, tmp_path):
    """No bpffs mounted where the file says: exit 1, and the scrape still learns xtc is down."""
    notbpf = tmp_path / "notbpf"
    notbpf.mkdir()
    cfg = X.write_config(tmp_path / "c.ini", str(notbpf))
    out = tmp_path / "xtc.prom"
    out.write_text("# HELP xtc_up stale\n# TYPE xtc_up gauge\nxtc_up 1\n")
    r = env.xtc(cfg, "stats", "--prometheus", "-o", out)
    assert r.returncode == X.EXIT_RUNTIME and "not a bpf filesystem" in r.stderr, r
    got, _ = parse(out.read_text())
    assert got[("xtc_up", frozenset())] == 0
    r = env.xtc(cfg, "stats", "--prometheus")
    assert r.returncode == X.EXIT_RUNTIME and "xtc_up 0" in r.stdout.splitlines()
