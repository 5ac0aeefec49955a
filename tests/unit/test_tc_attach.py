"""userspace/kernel/tc_attach.c against a real kernel, through tests/unit/tc_attach_drv.c.

Each test gets a fresh namespace with a veth pair and its own bpffs instance
(`ip netns exec` remounts /sys, so /sys/fs/bpf would not be visible in it).
The driver and a trivial TC program are built here, so no Makefile is needed."""
import json
import os
import shutil

import pytest

from lib.netns import Netns, sh

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROG_SRC = """\
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc") int p(struct __sk_buff *s) { return 0; }
char LICENSE[] SEC("license") = "GPL";
"""
XTC_CLS_PRIO = 0x7874
XTC_CLS_HANDLE = 0x7874

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """The driver and the object of a program that passes everything."""
    for tool in ("gcc", "clang", "pkg-config", "tc", "bpftool"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} not installed")
    out = tmp_path_factory.mktemp("tc_attach")
    src = out / "p.bpf.c"
    src.write_text(PROG_SRC)
    arch_inc = "/usr/include/" + sh(["gcc", "-dumpmachine"]).stdout.strip()
    sh(["clang", "-g", "-O2", "-target", "bpf", f"-I{arch_inc}", "-c", str(src),
        "-o", str(out / "p.o")])
    drv = os.path.join(os.environ.get("XTC_BUILD") or os.path.join(ROOT, "build"),
                       "tc_attach_drv")
    assert os.access(drv, os.X_OK), f"{drv} missing: run `make`"
    os.symlink(drv, out / "drv")
    return out


class Env:
    def __init__(self, build, ns, pins):
        self.obj = str(build / "p.o")
        self.drv = str(build / "drv")
        self.ns = ns
        self.pins = pins

    def call(self, *args, ok=True):
        r = self.ns.run(self.drv, *map(str, args), check=False)
        assert (r.returncode == 0) == ok, f"{args}: rc {r.returncode}\n{r.stdout}{r.stderr}"
        return json.loads(r.stdout) if r.stdout else None

    def attach(self, kind, dev, hook, prog=None, pin="-", ok=True):
        return self.call("attach", kind, dev, hook, prog or self.obj, pin, ok=ok)

    def detach(self, kind, dev, hook, pin="-", remove=True):
        return self.call("detach", kind, dev, hook, pin, "remove" if remove else "keep")

    def query(self, dev, hook, our_id=0):
        return self.call("query", dev, hook, our_id)

    def tcx(self):
        return self.call("tcx-available")["tcx"]

    def pin(self, name):
        return os.path.join(self.pins, name)

    def tc(self, *args, check=True):
        return self.ns.run("tc", *args, check=check).stdout

    def has_clsact(self, dev):
        return "clsact" in self.tc("qdisc", "show", "dev", dev)

    def bpf_filters(self, dev, hook):
        return [line for line in self.tc("filter", "show", "dev", dev, hook).splitlines()
                if " bpf " in line and " handle " in line]

    def foreign_filter(self, dev, hook):
        """Someone else's non-BPF filter at prio 1; this kernel may lack matchall."""
        for spec in (["handle", "1", "matchall", "action", "pass"],
                     ["protocol", "all", "u32", "match", "u32", "0", "0"]):
            if self.ns.run("tc", "filter", "add", "dev", dev, hook, "prio", "1", *spec,
                           check=False).returncode == 0:
                return
        pytest.fail("cannot add a matchall or u32 filter")

    def foreign_bpf_filter(self, dev, hook, prio=2):
        self.tc("filter", "add", "dev", dev, hook, "prio", str(prio), "handle", "1",
                "bpf", "da", "obj", self.obj, "sec", "tc")


def links_of(prog_id):
    """Ids of the BPF links (in any namespace) that hold prog_id."""
    links = json.loads(sh(["bpftool", "-j", "link", "show"]).stdout or "[]")
    return [link["id"] for link in links if link.get("prog_id") == prog_id]


@pytest.fixture
def env(build, tmp_path):
    pins = tmp_path / "bpffs"
    pins.mkdir()
    sh([f"{ROOT}/scripts/mount-bpffs.sh", str(pins)])
    ns = Netns("xtcta")
    try:
        ns.run("ip", "link", "add", "xv0", "type", "veth", "peer", "name", "xv1")
        ns.run("ip", "link", "set", "xv0", "up")
        ns.run("ip", "link", "set", "xv1", "up")
        yield Env(build, ns, str(pins))
    finally:
        ns.close()
        sh(["umount", str(pins)], check=False)


@pytest.fixture
def tcx_env(env):
    if not env.tcx():
        pytest.skip("kernel without TCX")
    return env


def test_tcx_attach_query_reattach_detach(tcx_env):
    e = tcx_env
    pin = e.pin("ingress")
    a = e.attach("tcx", "xv0", "ingress", pin=pin)
    prog = a["prog_id"]
    assert a["created_qdisc"] is False
    assert os.path.exists(pin)
    q = e.query("xv0", "ingress", prog)
    assert (q["kind"], q["prog_id"], q["n_others"]) == ("tcx", prog, 0)
    assert e.query("xv0", "egress", prog)["kind"] == "none"
    [link] = links_of(prog)

    # The same program again: nothing changes.
    e.attach("tcx", "xv0", "ingress", prog=f"id:{prog}", pin=pin)
    assert links_of(prog) == [link]
    assert e.query("xv0", "ingress", prog)["n_others"] == 0

    # A new program: the same link now runs it, and the old one is gone.
    new = e.attach("tcx", "xv0", "ingress", pin=pin)["prog_id"]
    assert new != prog
    assert links_of(new) == [link]
    q = e.query("xv0", "ingress", new)
    assert (q["kind"], q["prog_id"], q["n_others"]) == ("tcx", new, 0)

    e.detach("tcx", "xv0", "ingress", pin=pin)
    assert not os.path.exists(pin)
    assert links_of(new) == []
    q = e.query("xv0", "ingress", new)
    assert (q["kind"], q["n_others"]) == ("none", 0)
    assert not e.has_clsact("xv0")
    # A missing pin is nothing to do.
    e.detach("tcx", "xv0", "ingress", pin=pin)


def test_tcx_pin_of_another_hook_is_refused(tcx_env):
    e = tcx_env
    pin = e.pin("egress")
    prog = e.attach("tcx", "xv0", "egress", pin=pin)["prog_id"]
    assert e.attach("tcx", "xv0", "ingress", pin=pin, ok=False)["rc"] == -17  # EEXIST
    assert e.query("xv0", "ingress", prog)["kind"] == "none"
    e.detach("tcx", "xv0", "egress", pin=pin)
    assert links_of(prog) == []


def test_cls_attach_query_detach_removes_clsact(env):
    e = env
    assert not e.has_clsact("xv0")
    a = e.attach("cls", "xv0", "ingress")
    prog = a["prog_id"]
    assert a["created_qdisc"] is True
    assert e.has_clsact("xv0")
    q = e.query("xv0", "ingress", prog)
    assert q == {"rc": 0, "kind": "cls", "prog_id": prog, "prio": XTC_CLS_PRIO,
                 "handle": XTC_CLS_HANDLE, "n_others": 0}
    assert f"pref {XTC_CLS_PRIO} " in e.bpf_filters("xv0", "ingress")[0]
    assert e.query("xv0", "egress", prog)["kind"] == "none"

    # The same program again: the clsact existed, and still one filter.
    a = e.attach("cls", "xv0", "ingress", prog=f"id:{prog}")
    assert a["created_qdisc"] is False
    assert len(e.bpf_filters("xv0", "ingress")) == 1
    assert e.query("xv0", "ingress", prog)["prog_id"] == prog

    # A new program replaces ours in place.
    new = e.attach("cls", "xv0", "ingress")["prog_id"]
    assert len(e.bpf_filters("xv0", "ingress")) == 1
    assert e.query("xv0", "ingress", new)["prog_id"] == new

    e.detach("cls", "xv0", "ingress", remove=True)
    assert e.bpf_filters("xv0", "ingress") == []
    assert not e.has_clsact("xv0")
    assert e.query("xv0", "ingress", new) == {"rc": 0, "kind": "none", "prog_id": 0,
                                              "prio": 0, "handle": 0, "n_others": 0}
    # Nothing left to detach is not an error.
    e.detach("cls", "xv0", "ingress", remove=True)


def test_cls_detach_keeps_clsact_on_request_and_for_our_other_hook(env):
    e = env
    e.attach("cls", "xv0", "ingress")
    e.attach("cls", "xv0", "egress")
    e.detach("cls", "xv0", "ingress", remove=True)
    assert e.has_clsact("xv0"), "our egress filter still needs it"
    assert len(e.bpf_filters("xv0", "egress")) == 1
    e.detach("cls", "xv0", "egress", remove=False)
    assert e.has_clsact("xv0")
    e.detach("cls", "xv0", "egress", remove=True)
    assert not e.has_clsact("xv0")


@pytest.mark.parametrize("hook", ["ingress", "egress"])
def test_foreign_filter_survives_and_keeps_clsact(env, hook):
    e = env
    e.tc("qdisc", "add", "dev", "xv0", "clsact")
    e.foreign_filter("xv0", "ingress")
    before = e.tc("filter", "show", "dev", "xv0", "ingress")

    a = e.attach("cls", "xv0", hook)
    assert a["created_qdisc"] is False
    q = e.query("xv0", hook, a["prog_id"])
    assert q["kind"] == "cls"
    assert q["n_others"] == (1 if hook == "ingress" else 0)

    e.detach("cls", "xv0", hook, remove=True)
    assert e.has_clsact("xv0")
    assert e.tc("filter", "show", "dev", "xv0", "ingress") == before
    assert e.query("xv0", hook, a["prog_id"])["kind"] == "none"


def test_foreign_programs_are_counted(env):
    e = env
    e.tc("qdisc", "add", "dev", "xv0", "clsact")
    e.foreign_bpf_filter("xv0", "ingress")
    tcx = e.tcx()
    if tcx:
        e.attach("tcx", "xv0", "ingress", pin=e.pin("foreign"))
    foreign = 1 + tcx

    assert e.query("xv0", "ingress")["n_others"] == foreign
    ours = e.attach("cls", "xv0", "ingress")["prog_id"]
    q = e.query("xv0", "ingress", ours)
    assert (q["kind"], q["prog_id"], q["n_others"]) == ("cls", ours, foreign)
    e.detach("cls", "xv0", "ingress", remove=True)
    assert e.has_clsact("xv0")
    assert len(e.bpf_filters("xv0", "ingress")) == 1

    if tcx:
        pin = e.pin("ours")
        ours = e.attach("tcx", "xv0", "ingress", pin=pin)["prog_id"]
        q = e.query("xv0", "ingress", ours)
        assert (q["kind"], q["prog_id"], q["n_others"]) == ("tcx", ours, foreign)
        e.detach("tcx", "xv0", "ingress", pin=pin)
        q = e.query("xv0", "ingress", ours)
        assert (q["kind"], q["n_others"]) == ("none", foreign)


def test_cls_refuses_plain_ingress_qdisc(env):
    """It would take an "egress" filter onto its ingress hook."""
    e = env
    e.tc("qdisc", "add", "dev", "xv0", "ingress")
    e.foreign_bpf_filter("xv0", "ingress")
    before = e.tc("filter", "show", "dev", "xv0", "ingress")
    for hook in ("egress", "ingress"):
        a = e.attach("cls", "xv0", hook, ok=False)
        assert (a["rc"], a["created_qdisc"]) == (-17, False)  # EEXIST
        e.detach("cls", "xv0", hook, remove=True)
    assert e.query("xv0", "egress") == {"rc": 0, "kind": "none", "prog_id": 0, "prio": 0,
                                        "handle": 0, "n_others": 0}
    assert e.query("xv0", "ingress")["n_others"] == 1
    assert "qdisc ingress" in e.tc("qdisc", "show", "dev", "xv0")
    assert e.tc("filter", "show", "dev", "xv0", "ingress") == before


def test_tcx_stale_pin_of_a_deleted_device_is_replaced(tcx_env):
    e = tcx_env
    pin = e.pin("ingress")
    old = e.attach("tcx", "xv0", "ingress", pin=pin)["prog_id"]
    e.ns.run("ip", "link", "del", "xv0")
    e.ns.run("ip", "link", "add", "xv0", "type", "veth", "peer", "name", "xv1")
    new = e.attach("tcx", "xv0", "ingress", prog=f"id:{old}", pin=pin)["prog_id"]
    assert new == old
    q = e.query("xv0", "ingress", old)
    assert (q["kind"], q["prog_id"], q["n_others"]) == ("tcx", old, 0)
    e.detach("tcx", "xv0", "ingress", pin=pin)
    assert links_of(old) == []
