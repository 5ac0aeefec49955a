"""xtc's life on an interface: hitless re-apply under traffic, unload that
leaves nothing of xtc and everything of others, and the refusal to share an
interface with an XDP program attached without the libxdp dispatcher."""
import ipaddress
import os
import socket
import subprocess
import threading
import time

import pytest

from hostenv import (MODES, bpftool_json, has_clsact, make_config, sh, tc_filters,
                     xdp_attached)
from lib import nsock, xtc_cli
from traffic import rule

REAPPLIES = 20


# ---- hitless re-apply ------------------------------------------------------

class Stream:
    """Datagrams from the client at a steady pace, round robin over targets,
    each with its own sequence numbers, until stop()."""

    def __init__(self, topo, token, targets, interval=0.002):
        self.targets = targets                  # [(addr, port)]
        self.interval = interval
        self.token = token
        self.sent = {t: [] for t in targets}
        self.socks = {fam: nsock.socket_in(topo.ns["client"], fam, socket.SOCK_DGRAM)
                      for fam in (socket.AF_INET, socket.AF_INET6)}
        self._stop = threading.Event()
        self.error = None
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        seq = 0
        try:
            while not self._stop.is_set():
                for addr, port in self.targets:
                    p = b"%s:stream:%d:%d" % (self.token, port, seq)
                    self.socks[nsock.family_of(addr)].sendto(p, (addr, port))
                    self.sent[(addr, port)].append(p)
                seq += 1
                time.sleep(self.interval)
        except OSError as e:
            self.error = e

    def start(self):
        self._t.start()

    def stop(self):
        self._stop.set()
        self._t.join(5)
        for s in self.socks.values():
            s.close()


def reapply_rules(topo, i, shift=False):
    """Iteration i of the changing rule set.  Unchanged in every iteration:
    the stream rules (first unless shift puts a varying number of rules in
    front of them; first, their ids and counters stay), the guards that
    would drop the streams if a stream rule were missing for a moment, and the
    egress rule that keeps TC egress on xp2.  Everything in between changes:
    entries in the streams' own match shape, new shapes that come and go, a
    rule whose action flips."""
    v4, v6 = topo.v4, topo.v6
    text = ""
    if shift:
        # Rules in front of the stream rules: every re-apply moves their
        # positions (ids and priorities) up or down.
        for k in range(i % 4):
            text += rule(f"front-{i}-{k}", interface=topo.xc, dst=v4["pod2"], proto="tcp",
                         dst_port=9000 + k, action="drop")
    text += rule("stream-redirect", interface=topo.xc, dst=v4["pod1"], proto="udp",
                dst_port=6100, action="redirect", redirect="neigh", target=topo.xp1)
    text += rule("stream-pass", interface=topo.xc, dst=v4["pod2"], proto="udp", dst_port=6101,
                 action="pass")
    text += rule("stream-v6", interface=topo.xc, dst=v6["pod1"], proto="udp", dst_port=6102,
                 action="redirect", redirect="peer", target=topo.xp1)
    text += rule(f"var-a-{i}", interface=topo.xc, dst=v4["pod1"], proto="udp",
                 dst_port=6200 + i, action="drop")
    if i % 2:
        client24 = ipaddress.ip_network(f"{v4['client']}/24", strict=False)
        text += rule(f"var-b-{i}", interface=topo.xc, src=str(client24), proto="tcp",
                     dst_port=f"{8000 + i}-{8100 + i}", action="drop")
    if i % 3 == 0:
        text += rule("var-c", interface=topo.xc, dst=v6["pod2"], proto="udp", dst_port=6300,
                     action="redirect", redirect="neigh", target=topo.xp2)
    text += rule("var-d", interface=topo.xc, dst=v4["pod2"], proto="udp", dst_port=6400,
                 action="drop" if i % 2 else "pass")
    text += rule("guard4", interface=topo.xc, dst=topo.net16, proto="udp",
                 dst_port="6100-6199", action="drop")
    text += rule("guard6", interface=topo.xc, dst=topo.net6, proto="udp",
                 dst_port="6100-6199", action="drop")
    text += rule("eg-const", interface=topo.xp2, direction="egress", proto="udp",
                 dst_port=6500, action="drop")
    return text


def hitless(xtc, topo, traffic, mode, shift):
    if not topo.v6_forwarding:
        pytest.skip("no per-interface IPv6 forwarding (force_forwarding) on this kernel")
    # The moving variant uses a smaller rule table: the same update path, faster applies.
    gk = {"max_rules": 1024 if shift else None}
    xtc.apply(make_config(xtc, topo, mode, reapply_rules(topo, 0, shift), global_kw=gk))
    ids = xtc.prog_ids(xtc.status())
    want = {(topo.xc, "tc_ingress"), (topo.xp2, "tc_egress")}
    if mode != "off":
        want |= {(d, "xdp") for d in (topo.xc, topo.xp1, topo.xp2)}
    assert set(ids) == want, f"attachments after the first apply: {ids}"

    targets = [(topo.v4["pod1"], 6100), (topo.v4["pod2"], 6101), (topo.v6["pod1"], 6102)]
    sinks = {t: nsock.UdpSink(topo.ns["pod1" if t[0] in (topo.v4["pod1"], topo.v6["pod1"])
                                       else "pod2"], *t) for t in targets}
    got = {t: [] for t in targets}
    stream = Stream(topo, traffic.token, targets)
    try:
        stream.start()
        time.sleep(0.1)
        for i in range(1, REAPPLIES + 1):
            res = xtc.apply(make_config(xtc, topo, mode, reapply_rules(topo, i, shift),
                                        global_kw=gk))
            assert "no changes" not in res.stdout, f"iteration {i} changed nothing"
            now = xtc.prog_ids(xtc.status())
            assert now == ids, f"program ids changed at re-apply {i}: {ids} -> {now}"
            for t, s in sinks.items():
                got[t] += s.take()
        time.sleep(0.1)
        stream.stop()
        assert stream.error is None, f"sending failed: {stream.error}"
        for t, s in sinks.items():
            got[t] += s.wait(len(stream.sent[t]) - len(got[t]), timeout=3)
            lost = set(stream.sent[t]) - set(got[t])
            assert len(stream.sent[t]) > 200, "the stream was too short to mean anything"
            assert not lost, f"{len(lost)} of {len(stream.sent[t])} datagrams to {t} lost " \
                f"during {REAPPLIES} re-applies ({mode})"
    finally:
        stream.stop()
        for s in sinks.values():
            s.close()

    if shift:
        return      # counters follow positions, which moved: nothing to compare
    st = xtc.stats()
    assert xtc.rule_packets(st, "stream-redirect") == len(stream.sent[targets[0]])
    assert xtc.rule_packets(st, "stream-pass") == len(stream.sent[targets[1]])
    assert xtc.rule_packets(st, "stream-v6") == len(stream.sent[targets[2]])
    # The last rule set is the one in force.
    last = 6200 + REAPPLIES
    sink = traffic.sink("pod1", last)
    traffic.send("pod1", last, 5)
    traffic.barrier("pod1")
    assert sink.take() == []
    assert xtc.rule_packets(xtc.stats(), f"var-a-{REAPPLIES}") == 5


def test_reapply_switches_mode(xtc, topo, traffic):
    """Re-applying with another XDP mode (no unload in between) moves XDP to
    that mode, leaves nothing of the old one, and the rules keep working."""
    rules = rule("sw-drop", interface=topo.xc, dst=topo.v4["pod1"], proto="udp",
                 dst_port=6701, action="drop")
    sink = traffic.sink("pod1", 6701)
    sent_total = 0
    for mode in ("native", "skb", "off", "native", "off", "skb"):
        xtc.apply(make_config(xtc, topo, mode, rules))
        want = {"native": "xdp", "skb": "xdpgeneric", "off": None}[mode]
        for d in (topo.xc, topo.xp1, topo.xp2):
            kind, pid = xdp_attached(d)
            assert kind == want, f"{d} after switching to {mode}: XDP attached as {kind}"
        ids = xtc.prog_ids(xtc.status())
        assert ((topo.xc, "tc_ingress") in ids) == (mode == "off"), ids
        traffic.send("pod1", 6701, 5)
        sent_total += 5
        traffic.barrier("pod1")
        assert sink.take() == [], f"drop rule not in force after switching to {mode}"
    assert xtc.rule_packets(xtc.stats(), "sw-drop") == sent_total


@pytest.mark.parametrize("mode", MODES)
def test_hitless_reapply(xtc, topo, traffic, mode):
    """Rules after the stream rules change; the stream rules keep their places."""
    hitless(xtc, topo, traffic, mode, shift=False)


@pytest.mark.parametrize("mode", MODES)
def test_hitless_reapply_rules_move(xtc, topo, traffic, mode):
    """Rules are also added and removed in front of the (unchanged) stream
    rules, so their positions and priorities move at every re-apply."""
    hitless(xtc, topo, traffic, mode, shift=True)


# ---- unload -----------------------------------------------------------------

def foreign_filter(dev, hook):
    """Someone else's non-BPF filter at prio 1 (this kernel has no matchall/gact)."""
    for spec in (["matchall", "action", "pass"], ["u32", "match", "u32", "0", "0"]):
        res = sh(["tc", "filter", "add", "dev", dev, hook, "prio", "1", "protocol", "all", *spec],
                 check=False)
        if res.returncode == 0:
            return spec[0]
    pytest.fail(f"cannot add a foreign filter on {dev} {hook}")


def bpf_filter_lines(dev, hook):
    """cls_bpf filters (tc also prints a header line per prio, without a handle)."""
    return [ln for ln in tc_filters(dev, hook).splitlines() if " bpf " in ln and " handle " in ln]


def net_attachments(dev):
    """Everything bpftool sees on dev: XDP, TCX and cls_bpf programs (ids)."""
    out = bpftool_json("net", "show", "dev", dev)
    ids = []
    for entry in out:
        for kind in ("xdp", "tc"):
            ids += [p.get("id") for p in entry.get(kind, [])]
    return ids


@pytest.mark.parametrize("tc_attach,mode", [("cls_bpf", "native"), ("cls_bpf", "skb"),
                                            ("cls_bpf", "off"), ("tcx", "native")])
def test_unload_leaves_nothing(xtc, topo, tc_attach, mode):
    devs = (topo.xc, topo.xp1, topo.xp2)
    sh(["tc", "qdisc", "add", "dev", topo.xc, "clsact"])
    try:
        kind = foreign_filter(topo.xc, "ingress")
        foreign_before = [ln for ln in tc_filters(topo.xc, "ingress").splitlines()
                          if kind in ln]
        rules = (rule("r-in", interface=topo.xc, dst=topo.v4["pod1"], proto="tcp",
                      dst_port=80, action="redirect", redirect="neigh", target=topo.xp1,
                      reverse="yes")
                 + rule("r-eg", interface=topo.xp1, direction="egress", proto="udp",
                        dst_port=53, action="drop")
                 + rule("r-drop", dst=topo.v4["pod2"], proto="udp", action="drop"))
        xtc.apply(make_config(xtc, topo, mode, rules, global_kw={"tc_attach": tc_attach}))
        status = xtc.status()
        ids = xtc.prog_ids(status)
        for key in ((topo.xc, "tc_ingress"), (topo.xp1, "tc_ingress"), (topo.xp1, "tc_egress")):
            assert key in ids, f"{key} not attached: {status}"
        for ifc in status["interfaces"]:
            for hook in ("tc_ingress", "tc_egress"):
                if ifc[hook].get("attached"):
                    assert ifc[hook]["kind"] == tc_attach
        assert (mode == "off") == all((d, "xdp") not in ids for d in devs)
        prog_ids = set(ids.values())
        map_ids = set()
        for pid in prog_ids:
            map_ids |= set(bpftool_json("prog", "show", "id", str(pid)).get("map_ids", []))
        assert map_ids, "no maps found behind our programs"

        res = xtc.unload()
        assert res.returncode == 0

        # Someone else's qdisc and filter are still there.
        assert has_clsact(topo.xc), "unload removed a clsact qdisc that carries a foreign filter"
        foreign_after = [ln for ln in tc_filters(topo.xc, "ingress").splitlines() if kind in ln]
        assert foreign_after == foreign_before
        # Nothing of ours on the interfaces.
        for d in devs:
            assert xdp_attached(d) == (None, None), f"XDP left on {d}"
            for hook in ("ingress", "egress"):
                assert bpf_filter_lines(d, hook) == [], f"cls_bpf filter left on {d} {hook}"
            assert net_attachments(d) == [], f"bpftool net shows programs on {d}"
        for d in (topo.xp1, topo.xp2):
            assert not has_clsact(d), f"the clsact xtc created on {d} is still there"
        # No program, link, map or pin of ours anywhere.
        assert not os.path.exists(xtc.bpffs.state), "state directory left in bpffs"
        leftovers = [os.path.join(r, f) for r, ds, fs in os.walk(xtc.bpffs.dir)
                     for f in fs + ds if "xtc" in f]
        assert leftovers == []
        links = [ln for ln in bpftool_json("link", "show") if ln.get("prog_id") in prog_ids]
        assert links == [], f"BPF links left: {links}"
        # Program and map ids are freed asynchronously after the last reference.
        deadline = time.monotonic() + 5
        while True:
            progs = [p for p in bpftool_json("prog", "show")
                     if p["id"] in prog_ids or map_ids & set(p.get("map_ids", []))]
            maps = [m for m in bpftool_json("map", "show") if m["id"] in map_ids]
            if (not progs and not maps) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert progs == [], f"xtc programs still loaded: {progs}"
        assert maps == [], f"xtc maps still alive: {maps}"
        assert xtc.run("status", check=False).returncode != 0, "status still finds xtc"
    finally:
        sh(["tc", "qdisc", "del", "dev", topo.xc, "clsact"], check=False)


TC_PASS_SRC = """\
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc") int foreign_pass(struct __sk_buff *s) { return 0; }
char LICENSE[] SEC("license") = "GPL";
"""


@pytest.fixture(scope="module")
def foreign_bpf_obj(tmp_path_factory):
    """Someone else's TC program: a BPF object that passes everything."""
    if subprocess.run(["which", "clang", "gcc"], capture_output=True).returncode:
        pytest.skip("clang or gcc not installed: cannot build a foreign BPF filter")
    d = tmp_path_factory.mktemp("foreign")
    (d / "p.bpf.c").write_text(TC_PASS_SRC)
    arch = sh(["gcc", "-dumpmachine"]).stdout.strip()
    sh(["clang", "-g", "-O2", "-target", "bpf", f"-I/usr/include/{arch}", "-c",
        str(d / "p.bpf.c"), "-o", str(d / "p.o")])
    return str(d / "p.o")


def test_unload_keeps_foreign_filters_on_xtc_clsact(xtc, topo, foreign_bpf_obj):
    """The clsact qdiscs are xtc's own (it created them, tc_attach = cls_bpf),
    but others added filters to them afterwards: unload removes xtc's filters
    only, and the qdiscs stay because they carry someone else's filters."""
    rules = (rule("in", interface=topo.xp1, dst=topo.v4["client"], proto="udp",
                  dst_port=6801, action="redirect", redirect="neigh", target=topo.xc)
             + rule("eg", interface=topo.xp1, direction="egress", proto="udp",
                    dst_port=6802, action="drop"))
    try:
        xtc.apply(make_config(xtc, topo, "native", rules, global_kw={"tc_attach": "cls_bpf"}))
        assert not has_clsact(topo.xp2)
        assert has_clsact(topo.xp1), "xtc did not create a clsact for cls_bpf"
        kind = foreign_filter(topo.xp1, "egress")
        sh(["tc", "filter", "add", "dev", topo.xp1, "ingress", "prio", "2", "handle", "1",
            "bpf", "da", "obj", foreign_bpf_obj, "sec", "tc"])
        foreign_eg = [ln for ln in tc_filters(topo.xp1, "egress").splitlines() if kind in ln]
        foreign_in = [ln for ln in tc_filters(topo.xp1, "ingress").splitlines()
                      if "foreign_pass" in ln]
        assert foreign_eg and foreign_in
        xtc.unload()
        assert has_clsact(topo.xp1), "unload deleted a clsact that carries others' filters"
        assert [ln for ln in tc_filters(topo.xp1, "egress").splitlines()
                if kind in ln] == foreign_eg
        assert bpf_filter_lines(topo.xp1, "ingress") == foreign_in, \
            "unload removed someone else's BPF filter, or left its own"
        assert bpf_filter_lines(topo.xp1, "egress") == []
        assert xdp_attached(topo.xp1) == (None, None)
    finally:
        sh(["tc", "qdisc", "del", "dev", topo.xp1, "clsact"], check=False)


# ---- single-program fallback -------------------------------------------------

class XdpFilter:
    """xdp-filter on one interface.  It pins under the first bpffs it finds,
    /sys/fs/bpf; a private mount namespace with our bpffs on /sys/fs/bpf keeps
    its pins out of the machine's bpffs."""

    def __init__(self, bpffs_dir, dev):
        self.bpffs_dir = bpffs_dir
        self.dev = dev
        self.loaded = False

    def run(self, *args):
        cmd = f"mount --bind {self.bpffs_dir} /sys/fs/bpf && exec xdp-filter \"$@\""
        return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", cmd,
                               "sh", *args], capture_output=True, text=True, timeout=60)

    def load(self, mode):
        res = self.run("load", "-m", mode, self.dev)
        assert res.returncode == 0, f"xdp-filter load: {res.stdout}{res.stderr}"
        self.loaded = True

    def unload(self):
        if self.loaded:
            self.run("unload", self.dev)
            self.loaded = False
        # Whatever happened above, our interface carries no XDP afterwards.
        for kind in ("xdp", "xdpgeneric"):
            sh(["ip", "link", "set", "dev", self.dev, kind, "off"], check=False)


@pytest.fixture
def xdp_filter(xtc, topo):
    if subprocess.run(["which", "xdp-filter", "unshare"], capture_output=True).returncode:
        pytest.skip("xdp-filter (xdp-tools) or unshare not installed")
    f = XdpFilter(xtc.bpffs.dir, topo.xc)
    yield f
    f.unload()


def snapshot(topo):
    """What the kernel shows of XDP and TC on our interfaces."""
    out = {}
    for d in (topo.xc, topo.xp1, topo.xp2):
        out[d] = {
            "xdp": xdp_attached(d),
            "net": sorted(map(str, net_attachments(d))),
            "tc_in": bpf_filter_lines(d, "ingress"),
            "tc_eg": bpf_filter_lines(d, "egress"),
            "clsact": has_clsact(d),
        }
    return out


def fallback_config(xtc, topo, mode):
    # xp1 comes first, so that apply has attached something before it meets xc.
    rules = (rule("to-pod1", interface=topo.xc, dst=topo.v4["pod1"], proto="udp",
                  dst_port=6601, action="redirect", redirect="neigh", target=topo.xp1)
             + rule("eg", interface=topo.xp1, direction="egress", proto="udp", dst_port=6602,
                    action="drop"))
    return make_config(xtc, topo, mode, rules, ifaces=(topo.xp1, topo.xc))


def assert_refused(res, topo, filter_id):
    msg = res.stdout + res.stderr
    assert res.returncode != 0, f"apply did not refuse:\n{msg}"
    assert f"{topo.xc}: XDP: the interface already has XDP program" in msg, msg
    assert f"(id {filter_id}) attached without the libxdp dispatcher" in msg, msg
    assert "xdp-loader unload" in msg, msg
    assert "rolled back" in msg, msg


@pytest.mark.parametrize("mode", ["native", "skb"])
def test_single_program_refused_fresh(xtc, topo, xdp_filter, mode):
    """No xtc state yet: the failed apply leaves no state, no program, nothing."""
    xdp_filter.load(mode)
    filt = xdp_attached(topo.xc)
    if "xdp_dispatcher" in " ".join(sh(["bpftool", "prog", "show", "id",
                                        str(filt[1])]).stdout.split()):
        pytest.skip("the libxdp dispatcher works here: xdp-filter is not a single program")
    before = snapshot(topo)
    res = xtc.apply(fallback_config(xtc, topo, mode), check=False)
    assert_refused(res, topo, filt[1])
    assert snapshot(topo) == before, "the refused apply changed the interfaces"
    assert not os.path.exists(xtc.bpffs.state), "the refused apply left state behind"


@pytest.mark.parametrize("mode", ["native", "skb"])
def test_single_program_refused_keeps_state(xtc, topo, xdp_filter, traffic, mode):
    """With xtc already running elsewhere, the refused apply keeps the old rules,
    programs and counters."""
    old_rules = rule("old-drop", interface=topo.xp1, direction="egress", proto="udp",
                     dst_port=6603, action="drop")
    xtc.apply(make_config(xtc, topo, mode, old_rules, ifaces=(topo.xp1,)))
    sink = traffic.sink("pod1", 6603)
    traffic.send("pod1", 6603, 5)
    traffic.barrier("pod1")
    assert sink.take() == []
    status_before, stats_before = xtc.status(), xtc.stats()

    xdp_filter.load(mode)
    filt = xdp_attached(topo.xc)
    before = snapshot(topo)
    res = xtc.apply(fallback_config(xtc, topo, mode), check=False)
    assert_refused(res, topo, filt[1])
    assert snapshot(topo) == before, "the refused apply changed the interfaces"
    assert xtc.status() == status_before
    assert xtc.stats()["rules"] == stats_before["rules"]
    traffic.send("pod1", 6603, 5)
    traffic.barrier("pod1")
    assert sink.take() == [], "the old rules are no longer in force"
    assert xtc.rule_packets(xtc.stats(), "old-drop") == 10


def test_xdp_off_coexists_with_xdp_filter(xtc, topo, xdp_filter, traffic):
    """With xdp = off, xtc does not need XDP on the interface: it goes on TC
    beside xdp-filter and leaves it alone."""
    xdp_filter.load("skb")
    filt = xdp_attached(topo.xc)
    xtc.apply(make_config(xtc, topo, "off", rule(
        "d", interface=topo.xc, dst=topo.v4["pod1"], proto="udp", dst_port=6604, action="drop")))
    assert xdp_attached(topo.xc) == filt
    sink = traffic.sink("pod1", 6604)
    traffic.send("pod1", 6604, 5)
    traffic.barrier("pod1")
    assert sink.take() == []
    xtc.unload()
    assert xdp_attached(topo.xc) == filt, "unload touched xdp-filter's program"


# ---- upgrade in place ------------------------------------------------------

@pytest.fixture(scope="module")
def variant_binaries():
    """This tree built again, once per kind of upgrade (lib/xtc_cli.py VARIANTS)."""
    return lambda kind: str(xtc_cli.variant_binary(kind))


def pinned_map_ids(xtc):
    """{map name: id} of the pinned maps."""
    d = os.path.join(xtc.bpffs.state, "maps")
    return {n: bpftool_json("map", "show", "pinned", os.path.join(d, n))["id"]
            for n in sorted(os.listdir(d))}


@pytest.mark.parametrize("kind", sorted(xtc_cli.VARIANTS))
@pytest.mark.parametrize("mode", ["skb", "off"])
def test_upgrade_in_place_loses_nothing(xtc, topo, traffic, variant_binaries, mode, kind):
    """An xtc with other BPF code applied over a running one replaces every program of
    ours in place (TCX link update, XDP_FLAGS_REPLACE): new program ids, counters that
    keep counting, and not one datagram of a steady flow lost.  With the same map layout
    every map is kept; with another one, the maps that changed are made anew, and their
    counters carry over by rule name (and the others stay)."""
    variant_binary = variant_binaries(kind)
    if not topo.v6_forwarding:
        pytest.skip("no per-interface IPv6 forwarding (force_forwarding) on this kernel")
    text = make_config(xtc, topo, mode, reapply_rules(topo, 0))
    xtc.apply(text)
    before = xtc.prog_ids(xtc.status())
    maps_before = pinned_map_ids(xtc)
    old_version = sh([xtc.binary, "version"]).stdout
    targets = [(topo.v4["pod1"], 6100), (topo.v4["pod2"], 6101), (topo.v6["pod1"], 6102)]
    sinks = {t: nsock.UdpSink(topo.ns["pod1" if t[0] in (topo.v4["pod1"], topo.v6["pod1"])
                                       else "pod2"], *t) for t in targets}
    got = {t: [] for t in targets}
    stream = Stream(topo, traffic.token, targets)
    old_binary = xtc.binary
    try:
        stream.start()
        time.sleep(0.3)
        mid = xtc.stats()
        xtc.binary = variant_binary
        res = xtc.apply(text)
        assert "upgrade" in res.stdout, res.stdout
        assert "disrupts" not in res.stdout, res.stdout
        time.sleep(0.3)
        stream.stop()
        assert stream.error is None, f"sending failed: {stream.error}"
        for t, s in sinks.items():
            got[t] += s.wait(len(stream.sent[t]), timeout=3)
            lost = set(stream.sent[t]) - set(got[t])
            assert len(stream.sent[t]) > 100, "the stream was too short to mean anything"
            assert not lost, f"{len(lost)} of {len(stream.sent[t])} to {t} lost ({mode})"
        after = xtc.prog_ids(xtc.status())
        assert set(after) == set(before), (before, after)
        assert all(after[k] != before[k] for k in before), (before, after)
        assert sh([variant_binary, "version"]).stdout != old_version
        maps_after = pinned_map_ids(xtc)
        assert set(maps_after) == set(maps_before)
        remade = {n for n in maps_before if maps_after[n] != maps_before[n]}
        assert remade == ({"xtc_rule_stats", "xtc_iface_stats"} if kind == "layout"
                          else set()), (maps_before, maps_after)
        if kind == "layout":
            assert "counters carry over" in res.stdout, res.stdout
            gone = sh(["bpftool", "map", "show", "id", str(maps_before["xtc_rule_stats"])],
                      check=False)
            assert gone.returncode != 0, "the old counters map outlived the upgrade"
        end = xtc.stats()
        for name in ("stream-redirect", "stream-pass", "stream-v6"):
            assert xtc.rule_packets(end, name) >= xtc.rule_packets(mid, name) > 0, name
        sent = len(stream.sent[targets[0]])
        counted = xtc.rule_packets(end, "stream-redirect")
        # A layout change adds what the old programs counted last into per-CPU values that
        # the new ones may bump in the same instant: at most a count or two goes missing.
        assert sent - (2 if kind == "layout" else 0) <= counted <= sent, (counted, sent)
        assert "no changes" in xtc.apply(text).stdout
    finally:
        xtc.binary = old_binary
        stream.stop()
        for s in sinks.values():
            s.close()
