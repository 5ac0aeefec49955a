# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""deploy/kubernetes/: the manifests parse, and every xtc command and flag they run
exists in this xtc's command line, with the privileges docs/deploy.md explains."""
import re
import subprocess

import yaml

from instlib import BUILD, REPO

KDIR = REPO / "deploy" / "kubernetes"


def docs():
    out = []
    for f in sorted(KDIR.glob("*.yaml")):
        out += [d for d in yaml.safe_load_all(f.read_text()) if d]
    return out


def xtc_help(*args):
    r = subprocess.run([str(BUILD / "xtc"), "help", *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def check_command(argv):
    """argv runs xtc: its command exists and takes every flag given."""
    assert argv[0].endswith("/xtc"), argv
    args = argv[1:]
    i, cmd, flags = 0, None, []
    while i < len(args):
        a = args[i]
        if a in ("-c", "--config"):
            i += 2
            continue
        if a.startswith("-"):
            flags.append(a)
        elif cmd is None:
            cmd = a
        i += 1
    assert cmd, argv
    commands = re.findall(r"^  (\w+)", xtc_help(), re.M)
    assert cmd in commands, (cmd, commands)
    usage = xtc_help(cmd)
    for f in flags:
        assert f in usage, (cmd, f, usage)
    return cmd


def test_manifests_parse_and_run_real_commands():
    kinds = {d["kind"]: d for d in docs()}
    assert set(kinds) == {"ConfigMap", "DaemonSet"}
    ds = kinds["DaemonSet"]
    spec = ds["spec"]["template"]["spec"]
    assert spec["hostNetwork"] is True
    (c,) = spec["containers"]
    assert check_command(c["command"]) == "daemon"
    assert check_command(c["readinessProbe"]["exec"]["command"]) == "status"
    check_command(c["livenessProbe"]["exec"]["command"])
    caps = c["securityContext"]["capabilities"]
    assert set(caps["add"]) == {"BPF", "NET_ADMIN", "SYS_ADMIN"} and caps["drop"] == ["ALL"]
    assert not c["securityContext"].get("privileged")
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["bpffs"]["hostPath"]["path"] == "/sys/fs/bpf"
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    assert mounts["bpffs"]["mountPath"] == "/sys/fs/bpf"
    assert mounts["config"]["mountPath"] == "/etc/xtc"
    assert vols["config"]["configMap"]["name"] == kinds["ConfigMap"]["metadata"]["name"]
    assert ds["spec"]["updateStrategy"]["type"] == "RollingUpdate"


def test_the_configmap_is_a_valid_config(tmp_path):
    """The shipped xtc.ini passes check, its patterns matching nothing here."""
    cm = next(d for d in docs() if d["kind"] == "ConfigMap")
    path = tmp_path / "xtc.ini"
    path.write_text(cm["data"]["xtc.ini"])
    r = subprocess.run([str(BUILD / "xtc"), "-c", str(path), "check", "--strict"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_image_recipe_installs_the_deb():
    text = (KDIR / "Containerfile").read_text()
    assert "FROM debian:bookworm" in text and "build/xtc_*_amd64.deb" in text
    assert 'ENTRYPOINT ["/usr/sbin/xtc"]' in text
