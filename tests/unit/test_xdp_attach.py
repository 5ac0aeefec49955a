"""userspace/kernel/xdp_attach.c on the running kernel, through tests/unit/xdp_attach_drv.c.

Each driver call is its own process, so every check after an attach also
proves that the attachment outlives the loader.  What the kernel can do with
libxdp's dispatcher is measured here (xdp-loader's own compatibility check),
not assumed: on a kernel that refuses freplace programs (this project's 6.18
hosts) libxdp falls back to a single program and other programs cannot go
beside ours; where the dispatcher works (the Debian 6.1 VM) they can.

Commands run in the test namespace through `nsenter --net`, not
`ip netns exec`: the latter remounts /sys and so hides bpffs, where libxdp
keeps its lock and the dispatcher's pins and xdp-filter its maps.

Needs root, bpffs, xdp-tools and the skeletons of a build
(`make`; XTC_BUILD picks the build directory, default <repo>/build).
"""
import glob
import json
import os
import re
import shutil
import subprocess

import pytest

from lib.netns import Netns, unique

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("XTC_BUILD") or os.path.join(ROOT, "build")
PKGS = ["libxdp", "libbpf", "libnl-3.0", "libnl-route-3.0"]
SKELS = ["xtc_xdp.skel.h", "xtc_xdp_nh.skel.h", "xtc_tc.skel.h", "xtc_probe.skel.h"]
XDP_PASS = 2
EBUSY = 16
EEXIST = 17

# libxdp's words (xdp-tools 1.3.x) when the kernel refuses its dispatcher.
COMPAT_FAILED = "Compatibility check for dispatcher program failed"


def sh(cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


@pytest.fixture(scope="module")
def drv(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root (BPF and network namespaces)")
    for tool in ("xdp-loader", "xdp-filter", "nsenter", "pkg-config", "gcc"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found: run `make deps`")
    missing = [s for s in SKELS if not os.path.exists(os.path.join(BUILD, s))]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing in {BUILD}: run `make` first "
                    "(or point XTC_BUILD at a build directory)")
    sh([os.path.join(ROOT, "scripts", "mount-bpffs.sh")])
    out = os.path.join(BUILD, "xdp_attach_drv")
    assert os.access(out, os.X_OK), f"{out} missing: run `make`"
    return out


class Veth:
    """A veth pair in a throwaway namespace; commands see bpffs."""

    def __init__(self, drv_path):
        self.drv_path = drv_path
        self.ns = Netns("xtcxa")
        self.a, self.b = unique("xa"), unique("xb")
        self.ns.run("ip", "link", "add", self.a, "type", "veth", "peer", "name", self.b)
        self.ns.run("ip", "link", "set", self.a, "up")
        self.ns.run("ip", "link", "set", self.b, "up")

    def run(self, *cmd, check=False):
        return sh(["nsenter", f"--net=/run/netns/{self.ns.name}"] + list(cmd), check=check)

    def drv(self, *args):
        """(exit code, JSON result or None, stderr)."""
        res = self.run(self.drv_path, *[str(a) for a in args])
        out = res.stdout.strip()
        return res.returncode, json.loads(out) if out else None, res.stderr

    def xdp_link(self, dev):
        """(attach kind from `ip link`: 'xdp', 'xdpgeneric' or None, prog id or None)."""
        out = self.ns.run("ip", "-d", "link", "show", "dev", dev).stdout
        kind = re.search(r"\s(xdp|xdpgeneric|xdpoffload)\s", out)
        prog = re.search(r"prog/xdp id (\d+)", out)
        return (kind.group(1) if kind else None, int(prog.group(1)) if prog else None)

    def close(self):
        # xdp-filter keeps its maps pinned in bpffs until unloaded.
        for dev in (self.a, self.b):
            self.run("xdp-filter", "unload", dev)
        self.ns.close()


@pytest.fixture
def veth(drv):
    v = Veth(drv)
    yield v
    v.close()


@pytest.fixture(scope="module")
def dispatcher_refused(drv):
    """Whether libxdp's own compatibility check fails on this kernel, measured
    by loading a program with xdp-loader on a throwaway veth."""
    v = Veth(drv)
    try:
        # xdp-tools' own pass-all filter: it leaves packet data alone, so
        # only the dispatcher itself is on trial.
        objs = sorted(glob.glob("/usr/lib/*/bpf/xdpfilt_alw_all.o")
                      + glob.glob("/usr/lib/bpf/xdpfilt_alw_all.o")
                      + glob.glob("/usr/local/lib/bpf/xdpfilt_alw_all.o"))
        assert objs, "xdpfilt_alw_all.o not found: install xdp-tools"
        obj = objs[0]
        res = v.run("xdp-loader", "load", "-v", "-m", "skb", v.a, obj)
        log = res.stdout + res.stderr
        assert res.returncode == 0, log
        status = v.run("xdp-loader", "status", v.a).stdout
        refused = COMPAT_FAILED in log
        # The measurement must be self-consistent before anything hangs on it.
        assert refused == ("xdp_dispatcher" not in status), log + status
        return refused
    finally:
        v.run("xdp-loader", "unload", v.a, "--all")
        v.close()


def test_probe_matches_libxdp_compat_check(veth, dispatcher_refused):
    rc, res, err = veth.drv("probe")
    assert rc == 0, err
    assert res["usable"] is (not dispatcher_refused)


@pytest.mark.parametrize("mode,kind", [("skb", "xdpgeneric"), ("native", "xdp")])
def test_attach_query_detach(veth, dispatcher_refused, mode, kind):
    rc, res, err = veth.drv("attach", veth.a, mode, 30)
    assert rc == 0, err
    ours = res["id"]
    assert ours > 0
    assert res["single"] is dispatcher_refused

    rc, info, err = veth.drv("query", veth.a, ours)
    assert rc == 0, err
    assert info["attached"] is True
    assert info["dispatcher"] is (not dispatcher_refused)
    assert info["mode"] == mode
    assert info["our_pos"] == 0
    assert len(info["progs"]) == 1
    prog = info["progs"][0]
    assert (prog["name"], prog["id"], prog["ours"]) == ("xtc_xdp", ours, True)
    assert prog["chain_actions"] & (1 << XDP_PASS)

    # The process that attached is gone: the kernel still holds ours.
    link_kind, link_id = veth.xdp_link(veth.a)
    assert link_kind == kind
    assert link_id == info["main_id"]
    if dispatcher_refused:
        assert link_id == ours

    # Someone else's id is not ours to detach.
    rc, _, err = veth.drv("detach", veth.a, ours + 100000)
    assert rc == 0, err
    assert veth.xdp_link(veth.a)[1] == link_id

    rc, _, err = veth.drv("detach", veth.a, ours)
    assert rc == 0, err
    assert veth.xdp_link(veth.a) == (None, None)
    rc, info, err = veth.drv("query", veth.a, ours)
    assert rc == 0, err
    assert (info["attached"], info["our_pos"], info["progs"]) == (False, -1, [])

    # Already gone is not an error.
    rc, _, err = veth.drv("detach", veth.a, ours)
    assert rc == 0, err


def test_other_program_without_dispatcher(veth, dispatcher_refused):
    res = veth.run("xdp-filter", "load", "-m", "skb", veth.a)
    assert res.returncode == 0, res.stderr
    before = veth.xdp_link(veth.a)
    assert before[1] is not None

    if not dispatcher_refused:
        # The kernel runs one XDP mode per interface at a time.
        rc, res, err = veth.drv("attach", veth.a, "native", 30)
        assert rc == 1 and res == {"err": -EBUSY}, err
        assert f"{veth.a}: XDP: the interface's XDP dispatcher runs in skb mode" in err
    rc, res, err = veth.drv("attach", veth.a, "skb", 30)
    if dispatcher_refused:
        assert rc == 1 and res == {"err": -EBUSY}, err
        assert f"{veth.a}: XDP: the interface already has XDP program xdpfilt_" in err
        assert "without the libxdp dispatcher" in err
        assert f"xdp-loader unload {veth.a} --all" in err
        assert veth.xdp_link(veth.a) == before
        rc, info, err = veth.drv("query", veth.a, 0)
        assert rc == 0, err
        assert info["dispatcher"] is False and info["our_pos"] == -1
        assert info["progs"][0]["name"].startswith("xdpfilt_")
    else:
        # Under the dispatcher both run, and detaching ours leaves the other.
        assert rc == 0, err
        ours = res["id"]
        rc, info, err = veth.drv("query", veth.a, ours)
        assert rc == 0, err
        names = [p["name"] for p in info["progs"]]
        assert info["dispatcher"] is True and len(names) == 2, info
        assert info["progs"][info["our_pos"]]["id"] == ours
        rc, _, err = veth.drv("detach", veth.a, ours)
        assert rc == 0, err
        rc, info, err = veth.drv("query", veth.a, ours)
        assert info["our_pos"] == -1
        assert [p["name"] for p in info["progs"]] == [n for n in names if n != "xtc_xdp"]


def test_second_instance(veth, dispatcher_refused):
    rc, res, err = veth.drv("attach", veth.a, "skb", 30)
    assert rc == 0, err
    first = res["id"]
    rc, res, err = veth.drv("attach", veth.a, "skb", 40)
    if dispatcher_refused:
        # Ours is a single program: the caller must detach it first.
        assert rc == 1 and res == {"err": -EEXIST}, err
        assert veth.xdp_link(veth.a)[1] == first
        return
    assert rc == 0, err
    second = res["id"]
    rc, info, err = veth.drv("query", veth.a, second)
    assert rc == 0, err
    assert [(p["id"], p["prio"]) for p in info["progs"]] == [(first, 30), (second, 40)]
    assert info["our_pos"] == 1
    rc, _, err = veth.drv("detach", veth.a, first)
    assert rc == 0, err
    rc, info, err = veth.drv("query", veth.a, second)
    assert [p["id"] for p in info["progs"]] == [second] and info["our_pos"] == 0


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    shim = tmp_path_factory.mktemp("shim") / "refusal_shim.so"
    cflags = sh(["pkg-config", "--cflags"] + PKGS).stdout.split()
    res = subprocess.run(["gcc", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", *cflags,
                          "-o", str(shim), os.path.join(HERE, "refusal_shim.c")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return shim


def test_packet_data_refusal_falls_back_to_no_handoff(veth, shim):
    """libxdp < 1.5.5 on kernels >= 6.13: the kernel refuses our program in the
    dispatcher because it changes packet data.  No kernel here does that, so a shim
    refuses xtc_xdp the way libbpf reports it (the VM suite shows the real refusal on
    Debian trixie's kernel); xtc must attach its build without the handoff instead."""
    res = sh(["env", f"LD_PRELOAD={shim}", "nsenter", f"--net=/run/netns/{veth.ns.name}",
              veth.drv_path, "attach", veth.a, "skb", "30"], check=False)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["no_handoff"] is True, out
    assert "refuses packet-data changes in dispatcher slots" in res.stderr, res.stderr
    assert veth.xdp_link(veth.a)[1] == out["id"]
    name = veth.ns.run("bpftool", "prog", "show", "id", str(out["id"])).stdout
    assert " name xtc_xdp_nh " in name, name


# What drivers say through extack when they refuse XDP, and the fix xtc must name.
DRIVER_REFUSALS = [
    ("virtio_net: Can't set XDP while host is implementing GRO_HW/CSUM, disable GRO_HW first",
     ["ethtool -K {dev} gro off", "xdp_mode = skb for {dev}"]),
    ("Underlying driver does not support XDP in native mode", ["set xdp_mode = skb for {dev}"]),
    ("virtio_net: Too few free TX rings available", ["ethtool -L {dev} combined",
                                                     "xdp_mode = skb for {dev}"]),
    ("veth: Peer MTU is too large to set XDP", ["xdp_mode = skb for {dev}"]),
]


@pytest.mark.parametrize("kmsg,fixes", DRIVER_REFUSALS, ids=[k.split(":")[0] + ":" + k[-12:]
                                                             for k, _ in DRIVER_REFUSALS])
def test_driver_refusal_names_the_fix(veth, shim, kmsg, fixes):
    """A driver's refusal (its extack message) comes with the fix for that driver."""
    res = sh(["env", f"LD_PRELOAD={shim}", f"XTC_SHIM_KERNEL_MSG={kmsg}", "nsenter",
              f"--net=/run/netns/{veth.ns.name}", veth.drv_path, "attach", veth.a, "native", "30"],
             check=False)
    assert res.returncode != 0
    assert kmsg in res.stderr, res.stderr       # what the kernel said, verbatim
    for fix in fixes:
        assert fix.format(dev=veth.a) in res.stderr, res.stderr
    assert veth.xdp_link(veth.a) == (None, None)
