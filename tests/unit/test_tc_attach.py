"""userspace/kernel/tc_attach.c against a real kernel, through tests/unit/tc_attach_drv.c.

Each test gets a fresh namespace with a veth pair and its own bpffs instance
(`ip netns exec` remounts /sys, so /sys/fs/bpf would not be visible in it).
The driver and a trivial TC program are built here, so no Makefile is needed."""
import json
import os
import re
import shutil
import subprocess
import time

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
        self.stderr = ""

    def call(self, *args, ok=True):
        r = self.ns.run(self.drv, *map(str, args), check=False)
        self.stderr = r.stderr
        assert (r.returncode == 0) == ok, f"{args}: rc {r.returncode}\n{r.stdout}{r.stderr}"
        return json.loads(r.stdout) if r.stdout else None

    @staticmethod
    def opts(pin=None, prio=None, replace=None):
        return ([f"pin={pin}"] if pin else []) + ([f"prio={prio}"] if prio else []) + \
            ([f"replace={replace}"] if replace else [])

    def attach(self, kind, dev, hook, prog=None, pin=None, prio=None, replace=None, ok=True):
        return self.call("attach", kind, dev, hook, prog or self.obj,
                         *self.opts(pin, prio, replace), ok=ok)

    def replace(self, kind, dev, hook, old_id, prog=None, pin=None, prio=None, ok=True):
        return self.call("replace", kind, dev, hook, prog or self.obj, old_id,
                         *self.opts(pin, prio), ok=ok)

    def detach(self, kind, dev, hook, expect=0, pin=None, remove=True, prio=None):
        return self.call("detach", kind, dev, hook, "remove" if remove else "keep", expect,
                         *self.opts(pin, prio))

    def query(self, dev, hook, our_id=0, prio=None):
        q = self.call("query", dev, hook, our_id, *self.opts(prio=prio))
        q.pop("slot")
        return q

    def slot(self, dev, hook, prio=None):
        return self.call("query", dev, hook, 0, *self.opts(prio=prio))["slot"]

    def observe(self, dev, hook, pin=None, prio=None):
        return self.call("observe", dev, hook, *self.opts(pin, prio))

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

    def filters_at(self, dev, hook, prio):
        """tc's lines for the filters (not the classifier header) at one prio."""
        return [line for line in self.tc("filter", "show", "dev", dev, hook).splitlines()
                if f"pref {prio} " in line and (" handle " in line or " fh " in line)]

    def foreign_filter(self, dev, hook, prio=1, handle=None):
        """Someone else's non-BPF filter; this kernel may lack matchall.  Returns its kind."""
        specs = [("matchall", ["handle", str(handle or 1), "matchall", "action", "pass"])]
        if handle is None:
            specs.append(("u32", ["protocol", "all", "u32", "match", "u32", "0", "0"]))
        for kind, spec in specs:
            if self.ns.run("tc", "filter", "add", "dev", dev, hook, "prio", str(prio), *spec,
                           check=False).returncode == 0:
                return kind
        pytest.skip("this kernel has no matchall" +
                    ("" if handle is None else " (and u32 handles cannot be ours)"))

    def foreign_bpf_filter(self, dev, hook, prio=2, handle=1):
        self.tc("filter", "add", "dev", dev, hook, "prio", str(prio), "handle", str(handle),
                "bpf", "da", "obj", self.obj, "sec", "tc")
        [line] = self.filters_at(dev, hook, prio)
        return int(re.search(r" id (\d+)", line).group(1))


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

    # A new program is refused while the caller does not name ours as replaceable,
    a = e.attach("cls", "xv0", "ingress", ok=False)
    assert (a["rc"], a["created_qdisc"]) == (-16, False)  # EBUSY
    assert e.query("xv0", "ingress", prog)["prog_id"] == prog
    # and replaces ours in place when it does.
    new = e.attach("cls", "xv0", "ingress", replace=prog)["prog_id"]
    assert len(e.bpf_filters("xv0", "ingress")) == 1
    assert e.query("xv0", "ingress", new)["prog_id"] == new

    e.detach("cls", "xv0", "ingress", expect=new, remove=True)
    assert e.bpf_filters("xv0", "ingress") == []
    assert not e.has_clsact("xv0")
    assert e.query("xv0", "ingress", new) == {"rc": 0, "kind": "none", "prog_id": 0,
                                              "prio": 0, "handle": 0, "n_others": 0}
    # Nothing left to detach is not an error.
    assert e.detach("cls", "xv0", "ingress", expect=new, remove=True)["left_foreign"] is False


def test_cls_detach_keeps_clsact_on_request_and_for_our_other_hook(env):
    e = env
    ing = e.attach("cls", "xv0", "ingress")["prog_id"]
    eg = e.attach("cls", "xv0", "egress")["prog_id"]
    e.detach("cls", "xv0", "ingress", expect=ing, remove=True)
    assert e.has_clsact("xv0"), "our egress filter still needs it"
    assert len(e.bpf_filters("xv0", "egress")) == 1
    e.detach("cls", "xv0", "egress", expect=eg, remove=False)
    assert e.has_clsact("xv0")
    e.detach("cls", "xv0", "egress", expect=eg, remove=True)
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

    e.detach("cls", "xv0", hook, expect=a["prog_id"], remove=True)
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
    e.detach("cls", "xv0", "ingress", expect=ours, remove=True)
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


# ---- our cls_bpf slot: never someone else's filter ---------------------------------

def foreign_in_slot(e, kind, prio=XTC_CLS_PRIO):
    """Someone else's filter in our slot (u32: at our prio, which it then holds whole, as
    its handles cannot be ours).  Returns what the message says of it, its program id, its
    handle in the slot and the tail of the `tc filter del` that removes it."""
    e.tc("qdisc", "add", "dev", "xv0", "clsact")
    if kind == "bpf":
        prog = e.foreign_bpf_filter("xv0", "ingress", prio=prio, handle=XTC_CLS_HANDLE)
        return f"a bpf filter running program 'p' (id {prog})", prog, XTC_CLS_HANDLE, \
            f"prio {prio} handle 0x7874 bpf)"
    if kind == "u32":
        e.tc("filter", "add", "dev", "xv0", "ingress", "prio", str(prio), "protocol", "all",
             "u32", "match", "u32", "0", "0")
        return "a u32 classifier, which takes the whole prio", 0, 0, f"prio {prio})"
    if e.foreign_filter("xv0", "ingress", prio=prio, handle=XTC_CLS_HANDLE) != "matchall":
        pytest.skip("no matchall in this kernel")
    return f"a matchall filter (handle {XTC_CLS_HANDLE:#x})", 0, XTC_CLS_HANDLE, \
        f"prio {prio} handle 0x7874 matchall)"


@pytest.mark.parametrize("kind", ["bpf", "matchall", "u32"])
def test_cls_refuses_a_foreign_filter_in_our_slot_and_leaves_it(env, kind):
    e = env
    holder, foreign, handle, del_tail = foreign_in_slot(e, kind)
    before = e.filters_at("xv0", "ingress", XTC_CLS_PRIO)
    assert before

    a = e.attach("cls", "xv0", "ingress", ok=False)
    assert (a["rc"], a["created_qdisc"]) == (-16, False)  # EBUSY
    msg = e.stderr
    assert "xv0: TC ingress: " in msg and f"prio {XTC_CLS_PRIO} (0x7874) handle 0x7874" in msg
    assert f"taken by {holder}, which is not xtc's" in msg, msg
    assert "choose another tc_prio, or remove that filter (tc filter del dev xv0 ingress " \
           + del_tail in msg, msg
    assert e.filters_at("xv0", "ingress", XTC_CLS_PRIO) == before

    # Query names the holder, so a caller can tell it is not its own.
    slot = e.slot("xv0", "ingress")
    assert (slot["taken"], slot["kind"], slot["prio"], slot["handle"], slot["prog_id"]) == \
        (True, kind, XTC_CLS_PRIO, handle, foreign)
    assert slot["prog_name"] == ("p" if kind == "bpf" else "")
    q = e.query("xv0", "ingress", foreign or 1)
    assert q["kind"] == ("cls" if kind == "bpf" else "none")

    # Naming another program as ours to replace changes nothing either.
    ours = e.attach("cls", "xv0", "ingress", prio=100)["prog_id"]
    a = e.attach("cls", "xv0", "ingress", replace=ours, ok=False)
    assert a["rc"] == -16
    assert e.replace("cls", "xv0", "ingress", ours, ok=False)["rc"] == -16
    assert e.filters_at("xv0", "ingress", XTC_CLS_PRIO) == before

    # Detach with an id that is not the holder's leaves it, and the clsact too.
    for expect in (ours, 0):
        d = e.detach("cls", "xv0", "ingress", expect=expect, remove=True)
        assert d == {"rc": 0, "left_foreign": True}
        assert f"leaving {holder} at prio {XTC_CLS_PRIO} alone" in e.stderr, e.stderr
        assert e.filters_at("xv0", "ingress", XTC_CLS_PRIO) == before
    assert e.has_clsact("xv0")
    # Ours at prio 100 went nowhere: it is another slot.
    assert e.query("xv0", "ingress", ours, prio=100)["kind"] == "cls"


def test_cls_foreign_bpf_filters_at_our_prio(env):
    """Another handle at our prio is room beside it; another protocol there is not."""
    e = env
    e.tc("qdisc", "add", "dev", "xv0", "clsact")
    beside = e.foreign_bpf_filter("xv0", "ingress", prio=XTC_CLS_PRIO, handle=1)
    ours = e.attach("cls", "xv0", "ingress")["prog_id"]
    q = e.query("xv0", "ingress", ours)
    assert (q["kind"], q["n_others"]) == ("cls", 1)
    e.detach("cls", "xv0", "ingress", expect=ours)
    assert [int(i) for i in re.findall(r" id (\d+)", e.tc("filter", "show", "dev", "xv0",
                                                         "ingress"))] == [beside]

    e.tc("filter", "del", "dev", "xv0", "ingress", "prio", str(XTC_CLS_PRIO))
    e.tc("filter", "add", "dev", "xv0", "ingress", "prio", str(XTC_CLS_PRIO), "handle", "1",
         "protocol", "ip", "bpf", "da", "obj", e.obj, "sec", "tc")
    before = e.tc("filter", "show", "dev", "xv0", "ingress")
    assert e.attach("cls", "xv0", "ingress", ok=False)["rc"] == -16
    assert "taken by a bpf classifier, which takes the whole prio" in e.stderr, e.stderr
    assert e.tc("filter", "show", "dev", "xv0", "ingress") == before


def test_cls_prio_of_our_choice_coexists_with_a_foreign_filter_in_the_default_slot(env):
    e = env
    _, foreign, _, _ = foreign_in_slot(e, "bpf")
    ours = e.attach("cls", "xv0", "ingress", prio=100)["prog_id"]
    [line] = e.filters_at("xv0", "ingress", 100)
    assert "handle 0x7874" in line and f" id {ours} " in line
    q = e.query("xv0", "ingress", ours, prio=100)
    assert (q["kind"], q["prio"], q["handle"], q["n_others"]) == ("cls", 100, XTC_CLS_HANDLE, 1)
    # At the default prio, ours is not what is there.
    assert e.query("xv0", "ingress", ours)["kind"] == "none"
    e.detach("cls", "xv0", "ingress", expect=ours, prio=100, remove=True)
    assert e.filters_at("xv0", "ingress", 100) == []
    assert e.slot("xv0", "ingress")["prog_id"] == foreign
    assert e.has_clsact("xv0")


class Watch:
    """`tc monitor` and a `tc filter show` loop in the namespace, while a test acts."""

    def __init__(self, e, tmp):
        self.e, self.mon_out, self.dump_out = e, tmp / "monitor", tmp / "dumps"
        ns = ["ip", "netns", "exec", e.ns.name]
        self.mon = subprocess.Popen(ns + ["stdbuf", "-oL", "tc", "monitor"],
                                    stdout=open(self.mon_out, "w"), stderr=subprocess.STDOUT)
        # The monitor is listening once it reports a change, which may take a few.
        deadline, n = time.monotonic() + 10, 0
        while "xv1" not in self.mon_out.read_text():
            assert time.monotonic() < deadline, "tc monitor reports nothing"
            e.tc("qdisc", "add" if n % 2 == 0 else "del", "dev", "xv1", "clsact")
            n += 1
            time.sleep(0.1)
        self.dump = subprocess.Popen(ns + ["sh", "-c", "while :; do tc filter show dev xv0 "
                                           "ingress; echo ---; done"],
                                     stdout=open(self.dump_out, "w"), stderr=subprocess.DEVNULL)

    def stop(self):
        """(monitor lines, the dumps that finished)"""
        for p in (self.dump, self.mon):
            p.kill()
            p.wait()
        return (self.mon_out.read_text().splitlines(),
                self.dump_out.read_text().split("---\n")[:-1])


def test_cls_replace_keeps_the_slot_without_a_gap(env, tmp_path):
    e = env
    old = e.attach("cls", "xv0", "ingress")["prog_id"]
    [line] = e.filters_at("xv0", "ingress", XTC_CLS_PRIO)
    assert "handle 0x7874" in line
    w = Watch(e, tmp_path)
    ids = [old]
    try:
        for i in range(6):
            # Both ways in: the strict replace, and attach naming ours.
            if i % 2:
                new = e.attach("cls", "xv0", "ingress", replace=ids[-1])["prog_id"]
            else:
                new = e.replace("cls", "xv0", "ingress", ids[-1])["prog_id"]
            assert new not in ids
            [line] = e.filters_at("xv0", "ingress", XTC_CLS_PRIO)
            assert "handle 0x7874" in line and f" id {new} " in line, line
            ids.append(new)
            time.sleep(0.1)
        # Replacing with what is there is a no-op.
        assert e.replace("cls", "xv0", "ingress", ids[-2], prog=f"id:{new}")["prog_id"] == new
        time.sleep(0.3)
    finally:
        events, dumps = w.stop()
    filter_events = [ev for ev in events if "filter" in ev and "xv0" in ev]
    assert not [ev for ev in filter_events if "deleted" in ev], filter_events
    assert len([ev for ev in filter_events if "replaced" in ev]) == 6, filter_events
    assert len(dumps) > 10
    for dump in dumps:
        assert f"pref {XTC_CLS_PRIO} bpf chain 0 handle 0x7874" in dump, dump
    assert e.query("xv0", "ingress", new)["prio"] == XTC_CLS_PRIO


def test_cls_watch_sees_a_gap_when_there_is_one(env, tmp_path):
    """The check above can fail: delete and add again shows in the monitor."""
    e = env
    old = e.attach("cls", "xv0", "ingress")["prog_id"]
    w = Watch(e, tmp_path)
    try:
        e.detach("cls", "xv0", "ingress", expect=old, remove=False)
        e.attach("cls", "xv0", "ingress")
        time.sleep(0.3)
    finally:
        events, _ = w.stop()
    assert [ev for ev in events if "deleted" in ev and "filter" in ev], events


def test_cls_replace_of_an_empty_slot_is_refused(env):
    e = env
    e.tc("qdisc", "add", "dev", "xv0", "clsact")
    assert e.replace("cls", "xv0", "ingress", 1, ok=False)["rc"] == -2  # ENOENT
    assert e.filters_at("xv0", "ingress", XTC_CLS_PRIO) == []


def test_tcx_replace_swaps_the_program_on_the_same_link(tcx_env):
    e = tcx_env
    pin = e.pin("ingress")
    foreign = e.attach("tcx", "xv0", "ingress", pin=e.pin("foreign"))["prog_id"]
    old = e.attach("tcx", "xv0", "ingress", pin=pin)["prog_id"]
    o = e.observe("xv0", "ingress", pin=pin)
    [link] = links_of(old)
    assert (o["link_id"], o["link_prog_id"]) == (link, old)
    assert [(p["id"], p["name"]) for p in o["tcx"]] == [(foreign, "p"), (old, "p")]
    assert o["tcx"][1]["link_id"] == link and o["tcx"][0]["link_id"] not in (0, link)
    rev = o["tcx_revision"]

    new = e.replace("tcx", "xv0", "ingress", old, pin=pin)["prog_id"]
    assert new != old
    o = e.observe("xv0", "ingress", pin=pin)
    assert (o["link_id"], o["link_prog_id"]) == (link, new)
    assert [p["id"] for p in o["tcx"]] == [foreign, new]
    assert links_of(new) == [link] and links_of(old) == []
    assert o["tcx_revision"] != rev

    # The old id no longer matches: refused, nothing changes.
    assert e.replace("tcx", "xv0", "ingress", old, pin=pin, ok=False)["rc"] == -16
    assert e.attach("tcx", "xv0", "ingress", pin=pin, replace=old, ok=False)["rc"] == -16
    assert e.observe("xv0", "ingress", pin=pin)["link_prog_id"] == new
    # Swapping to what is there is a no-op; no link is a refusal.
    e.replace("tcx", "xv0", "ingress", old, prog=f"id:{new}", pin=pin)
    assert e.replace("tcx", "xv0", "ingress", new, pin=e.pin("none"), ok=False)["rc"] == -2
    e.detach("tcx", "xv0", "ingress", pin=pin)
    e.detach("tcx", "xv0", "ingress", pin=e.pin("foreign"))
    assert e.observe("xv0", "ingress")["tcx"] == []
