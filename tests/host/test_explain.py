"""`xtc explain` against the truth: for each action, in each mode (XDP
native, XDP skb, xdp = off), explain a packet, check that the answer is the
expected one and that explaining counted nothing, then send the real packet
or flow and check that what happens agrees with the answer.

One apply per mode carries every case, so the module stays quick: the
explains first (with the counters read before and after), then the
traffic, then the counters once more: every rule counted exactly the real
packets, so nothing of the explains.

Text and JSON output come from the same code: every explain runs in both
forms (the packet once as separate words, once as one argument) and the
two must say the same."""
import json
import os
import uuid

import pytest

from hostenv import MODES, link_exists, make_config, sh
from lib.nsock import tcp_exchange
from traffic import TTL, rule, udp_frames

N = 5
SPORT = 40000
XDP_MODES = [m for m in MODES if m != "off"]     # the cases that need an XDP program           # explain's source port; the rules match any


@pytest.fixture
def doomed_veth(topo):
    """A redirect target that the test deletes; removed at the end if it is not."""
    tag = uuid.uuid4().hex[:8]
    name, peer = f"xf{tag}", f"xg{tag}"
    topo.add_veth(name, peer)
    yield name, peer
    if link_exists(name):
        topo.delete_link(name)


def rules(topo, gone):
    v4, xc, xp1 = topo.v4, topo.xc, topo.xp1
    return (rule("x-pass", interface=xc, dst=v4["pod1"], proto="udp", dst_port=6101,
                 action="pass")
            + rule("x-drop", interface=xc, dst=v4["pod1"], proto="udp", dst_port=6102,
                   action="drop")
            + rule("x-plain", interface=xc, dst=v4["pod2"], proto="udp", dst_port=6103,
                   action="redirect", redirect="plain", target=topo.xp2)
            + rule("x-neigh", interface=xc, dst=v4["pod1"], proto="udp", dst_port=6104,
                   action="redirect", redirect="neigh", target=xp1)
            + rule("x-peer", interface=xc, dst=v4["pod1"], proto="udp", dst_port=6105,
                   action="redirect", redirect="peer", target=xp1)
            + rule("x-auto", interface=xc, dst=topo.net16, proto="udp", dst_port=6106,
                   action="redirect", redirect="neigh", target="auto")
            + rule("x-gone", interface=xc, dst=v4["pod1"], proto="udp", dst_port=6107,
                   action="redirect", redirect="plain", target=gone)
            + rule("x-v6-drop", interface=xc, dst=topo.v6["pod1"], proto="udp",
                   dst_port=6111, action="drop")
            + rule("x-web", interface=xc, dst=v4["pod1"], proto="tcp", dst_port=7101,
                   action="redirect", redirect="neigh", target=xp1, reverse="yes")
            + rule("x-eg-drop", interface=xp1, direction="egress", dst=v4["pod1"], proto="udp",
                   dst_port=6108, action="drop"))


def text_fields(out):
    """`key: value` lines into a dict, numbers and yes/no as JSON has them."""
    d = {}
    for line in out.splitlines():
        k, _, v = line.partition(": ")
        d[k] = {"yes": True, "no": False}.get(v, int(v) if v.isdigit() else v)
    return d


class Explainer:
    def __init__(self, xtc, topo, mode):
        self.xtc, self.topo, self.mode = xtc, topo, mode
        self.ids = xtc.prog_ids(xtc.status())
        self.runs = 0

    def run(self, iface, packet, egress=False, env=None):
        """Explains in text (packet as words) and JSON (one argument); returns the JSON."""
        opt = ["--egress"] if egress else []
        t = sh([self.xtc.binary, "-c", self.xtc.base_config, "explain", *opt, iface,
                *packet.split()], check=False, env=env)
        j = sh([self.xtc.binary, "-c", self.xtc.base_config, "--json", "explain", *opt, iface,
                packet], check=False, env=env)
        self.runs += 1
        assert t.returncode == 0, f"explain {iface} {packet}: exit {t.returncode}\n{t.stderr}"
        assert j.returncode == 0, f"explain --json {iface} {packet}: exit {j.returncode}\n{j.stderr}"
        doc = json.loads(j.stdout)
        assert doc.pop("schema") == 1
        assert text_fields(t.stdout) == doc, (t.stdout, doc)
        return doc

    def hook(self, iface, egress):
        if egress:
            return "tc_egress"
        return "tc_ingress" if self.mode == "off" else "xdp"

    def expect(self, iface, packet, verdict, rule=None, action=None, redirect=None,
               target=None, target_ifindex=None, fallback=False, egress=False):
        doc = self.run(iface, packet, egress)
        hook = self.hook(iface, egress)
        want = {"interface": iface, "ifindex": self.topo.ifindex(iface), "packet": packet,
                "hook": hook, "program_id": self.ids[(iface, hook)], "live_program": True,
                "verdict": verdict, "matched": rule is not None, "fallback": fallback,
                "counted": False}
        if rule:
            want.update(rule=rule, action=action)
        if redirect:
            want["redirect"] = redirect
        if target:
            want.update(target=target, target_ifindex=target_ifindex or self.topo.ifindex(target))
        assert doc == want, f"explain {iface} {packet}"
        return doc


def counters(xtc):
    st = xtc.stats()
    return ({r["rule"]: (r["packets"], r["bytes"]) for r in st["rules"]},
            {(i["interface"], i["hook"]): {k: v for k, v in i.items()
                                           if k not in ("interface", "hook")}
             for i in st["interfaces"]})


def assert_nothing_counted(before, after, runs):
    """Rule counters exactly as they were; per-interface ones too, except what
    the links' own background (neighbour discovery) may add to seen and
    no_match, which stays far below one per explain."""
    assert after[0] == before[0], "explain moved rule counters"
    for key, a in after[1].items():
        b = before[1].get(key, dict.fromkeys(a, 0))
        for field, v in a.items():
            if field in ("seen", "no_match"):
                assert v - b[field] <= 3 < runs, (key, field, b[field], v)
            else:
                assert v == b[field], f"explain moved {key} {field}: {b[field]} -> {v}"


def from_explain(frame):
    """A TCP or UDP frame from explain's source port (real traffic here uses
    ephemeral ports, and these sniffers close before it starts)."""
    etype = frame[12:14]
    if etype == b"\x08\x00" and len(frame) >= 34 and frame[23] in (6, 17):
        l4 = 14 + (frame[14] & 0xF) * 4
    elif etype == b"\x86\xdd" and len(frame) >= 54 and frame[20] in (6, 17):
        l4 = 54
    else:
        return False
    return frame[l4:l4 + 2] == SPORT.to_bytes(2, "big") or \
        frame[l4 + 2:l4 + 4] == SPORT.to_bytes(2, "big")


def test_explain_agrees_with_traffic(xtc, topo, mode, traffic, doomed_veth):
    v4, v6, xc, xp1, xp2 = topo.v4, topo.v6, topo.xc, topo.xp1, topo.xp2
    gone, gone_peer = doomed_veth
    gone_ifindex = topo.ifindex(gone)
    xtc.apply(make_config(xtc, topo, mode, rules(topo, gone)))
    ex = Explainer(xtc, topo, mode)
    cl = f"{v4['client']}:{SPORT}"

    def udp(dst, port, v6=False):
        if v6:
            return f"udp6 [{topo.v6['client']}]:{SPORT} -> [{dst}]:{port}"
        return f"udp {cl} -> {dst}:{port}"

    # A redirect in a test run only records its target: nothing may arrive anywhere.
    watch = [traffic.sniffer("pod1"), traffic.sniffer("pod2"), traffic.sniffer(None, gone_peer),
             traffic.sniffer("client")]
    before = counters(xtc)
    ex.expect(xc, udp(v4["pod1"], 6101), "pass", "x-pass", "pass")
    ex.expect(xc, udp(v4["pod1"], 6102), "drop", "x-drop", "drop")
    ex.expect(xc, udp(v4["pod2"], 6103), "redirect", "x-plain", "redirect", "plain", xp2)
    ex.expect(xc, udp(v4["pod1"], 6104), "redirect", "x-neigh", "redirect", "neigh", xp1)
    ex.expect(xc, udp(v4["pod1"], 6105), "redirect", "x-peer", "redirect", "peer", xp1)
    # target = auto: resolved from the connected route; unresolved (a gateway route) falls back.
    ex.expect(xc, udp(v4["pod2"], 6106), "redirect", "x-auto", "redirect", "neigh", xp2)
    ex.expect(xc, udp(v4["gw_routed"], 6106), "pass", "x-auto", "redirect", "neigh",
              fallback=True)
    ex.expect(xc, udp(v4["pod1"], 6107), "redirect", "x-gone", "redirect", "plain", gone)
    ex.expect(xc, udp(v6["pod1"], 6111, v6=True), "drop", "x-v6-drop", "drop")
    ex.expect(xc, udp(v4["pod1"], 6109), "pass")                      # no rule
    ex.expect(xc, f"tcp {cl} -> {v4['pod1']}:7101", "redirect", "x-web", "redirect", "neigh",
              xp1)
    ex.expect(xp1, f"tcp {v4['pod1']}:7101 -> {cl}", "redirect", "x-web~reverse", "redirect",
              "neigh", xc)
    ex.expect(xp1, udp(v4["pod1"], 6108), "drop", "x-eg-drop", "drop", egress=True)
    ex.expect(xp1, udp(v4["pod1"], 6101), "pass", egress=True)        # no egress rule
    ex.expect(xc, f"icmp {v4['client']} -> {v4['pod1']}", "pass")
    if mode != "off":
        # A dispatcher slot cannot be test-run: the copy gives the same answer.
        env = dict(os.environ, XTC_EXPLAIN_FORCE_COPY="1")
        doc = ex.run(xc, udp(v4["pod1"], 6102), env=env)
        assert doc["live_program"] is False and doc["program_id"] == ex.ids[(xc, "xdp")]
        assert (doc["verdict"], doc["rule"]) == ("drop", "x-drop")
        r = sh([xtc.binary, "-c", xtc.base_config, "explain", xc, udp(v4["pod2"], 6103)],
               env=env)
        assert f"ran a copy of XDP program id {ex.ids[(xc, 'xdp')]} on the same maps" in r.stderr
        assert "live_program: no\nverdict: redirect\n" in r.stdout

    # No program of ours at the hook: exit 1, and say what to do.
    for args, why in ((["lo"], "lo: no xtc program on ingress (the interface is not in the "
                               "applied file; run xtc apply)"),
                      (["--egress", xc], f"{xc}: no xtc program on egress (tc_egress is off")):
        r = xtc.run("explain", *args, udp(v4["pod1"], 6101), check=False)
        assert r.returncode == 1 and r.stdout == "", r
        assert r.stderr.startswith(f"xtc: explain: {why}"), r.stderr
    r = xtc.run("--json", "explain", "lo", udp(v4["pod1"], 6101), check=False)
    assert r.returncode == 1
    assert "no xtc program on ingress" in json.loads(r.stdout)["error"]["message"]

    assert_nothing_counted(before, counters(xtc), ex.runs)
    for w in watch:
        assert w.wait(from_explain, 0, timeout=0.2) == [], "an explained packet was sent"
        w.close()

    # ---- the real packets ----
    # pass and no rule: forwarded by the host (TTL - 1).
    for port in (6101, 6109):
        sink, sniff = traffic.sink("pod1", port), traffic.sniffer("pod1")
        sent = traffic.send("pod1", port, N)
        assert sorted(sink.wait(N)) == sorted(sent), f"udp {port}: did not pass"
        assert {f.ttl for f in udp_frames(sniff, port, N)} == {TTL - 1}
        sniff.close()
    # drop, at ingress (both families) and at egress.
    drops = [traffic.sink("pod1", 6102), traffic.sink("pod1", 6108)]
    traffic.send("pod1", 6102, N)
    traffic.send("pod1", 6108, N)
    if topo.v6_forwarding:
        drops.append(traffic.sink("pod1", 6111, v6=True))
        traffic.send("pod1", 6111, N, v6=True)
        traffic.barrier("pod1", v6=True)
    traffic.barrier("pod1")
    assert [s.take() for s in drops] == [[]] * len(drops), "dropped packets arrived"
    # plain: the client's frame arrives at pod2 byte for byte.
    sniff2 = traffic.sniffer("pod2")
    frames = [traffic.frame("pod2", 6103, "plain", i) for i in range(N)]
    traffic.send_frames(frames)
    assert sorted(f.data for f in udp_frames(sniff2, 6103, N)) == sorted(frames)
    # neigh and peer to pod1, auto to pod2: delivered, TTL untouched (not forwarded).
    for where, port in (("pod1", 6104), ("pod1", 6105), ("pod2", 6106)):
        sink, sniff = traffic.sink(where, port), traffic.sniffer(where)
        sent = traffic.send(where, port, N)
        assert sorted(sink.wait(N)) == sorted(sent), f"udp {port}: not delivered"
        assert {f.ttl for f in udp_frames(sniff, port, N)} == {TTL}, f"udp {port}: forwarded"
        sniff.close()
    # auto without an entry: falls back to pass, so the host forwards to the gateway.
    traffic.send(v4["gw_routed"], 6106, N)
    ttls = sorted(f.ttl for f in udp_frames(sniff2, 6106, 2 * N))
    assert ttls == [TTL - 1] * N + [TTL] * N, "auto: N redirected to pod2, N forwarded"
    # reverse = yes: a TCP exchange through the redirect and its mirror.
    ok, detail = tcp_exchange(topo.ns["pod1"], v4["pod1"], topo.ns["client"], 7101, timeout=3.0)
    assert ok, f"TCP through x-web and x-web~reverse failed: {detail}"
    # The target goes away: explain now says fallback (pass), and so it goes.
    gsniff = traffic.sniffer(None, gone_peer)
    traffic.send("pod1", 6107, N, label="gone-before")
    assert len(udp_frames(gsniff, 6107, N)) == N, "x-gone did not redirect to begin with"
    topo.delete_link(gone)
    ex.expect(xc, udp(v4["pod1"], 6107), "pass", "x-gone", "redirect", "plain",
              target=f"#{gone_ifindex}", target_ifindex=gone_ifindex, fallback=True)
    sink, sniff = traffic.sink("pod1", 6107), traffic.sniffer("pod1")
    sent = traffic.send("pod1", 6107, N, label="gone-after")
    assert sorted(sink.wait(N)) == sorted(sent), "fallback = pass did not pass them"
    assert {f.ttl for f in udp_frames(sniff, 6107, N)} == {TTL - 1}

    # Every rule counted the real packets, exactly: none of the explains.
    rules_now = counters(xtc)[0]
    want = {"x-pass": N, "x-drop": N, "x-plain": N, "x-neigh": N, "x-peer": N, "x-auto": 2 * N,
            "x-gone": 2 * N, "x-eg-drop": N, "x-v6-drop": N if topo.v6_forwarding else 0}
    assert {r: rules_now[r][0] for r in want} == want
    assert rules_now["x-web"][0] >= 3 and rules_now["x-web~reverse"][0] >= 2


@pytest.mark.parametrize("mode", XDP_MODES)
def test_explain_handoff_without_tc_ingress(xtc, topo, mode, traffic):
    """tc_ingress = off beside an XDP redirect: XDP hands the packet to a TC
    ingress program that is not there, so it passes.  explain says so."""
    xtc.apply(make_config(xtc, topo, mode, rule("h-neigh", interface=topo.xc,
                                                dst=topo.v4["pod1"], proto="udp", dst_port=6122,
                                                action="redirect", redirect="neigh",
                                                target=topo.xp1),
                          iface_kw={topo.xc: {"tc_ingress": "off"}}))
    packet = f"udp {topo.v4['client']}:{SPORT} -> {topo.v4['pod1']}:6122"
    r = xtc.run("explain", topo.xc, packet)
    assert "TC ingress program is not attached, so the packet passes" in r.stderr
    Explainer(xtc, topo, mode).expect(topo.xc, packet, "pass", "h-neigh", "redirect", "neigh",
                                      topo.xp1)
    sink, sniff = traffic.sink("pod1", 6122), traffic.sniffer("pod1")
    sent = traffic.send("pod1", 6122, N)
    assert sorted(sink.wait(N)) == sorted(sent)
    assert {f.ttl for f in udp_frames(sniff, 6122, N)} == {TTL - 1}, "not forwarded: redirected?"


@pytest.mark.parametrize("mode", XDP_MODES)
def test_explain_xdp_detached(xtc, topo, mode, traffic):
    """XDP is on in the applied file, but someone detached the program: TC
    ingress then trusts XDP and lets everything pass unclassified.  explain
    runs TC ingress, says so, and the real packet indeed passes."""
    xtc.apply(make_config(xtc, topo, mode, rule("d-drop", interface=topo.xc, dst=topo.v4["pod1"],
                                                proto="udp", dst_port=6121, action="drop"),
                          iface_kw={topo.xc: {"tc_ingress": "on"}}))
    packet = f"udp {topo.v4['client']}:{SPORT} -> {topo.v4['pod1']}:6121"
    ex = Explainer(xtc, topo, mode)
    ex.expect(topo.xc, packet, "drop", "d-drop", "drop")
    sh(["ip", "link", "set", "dev", topo.xc, "xdp" if mode == "native" else "xdpgeneric", "off"])
    r = xtc.run("explain", topo.xc, packet)
    assert "XDP is on for it in the applied file but xtc's XDP program is not attached" in r.stderr
    doc = ex.run(topo.xc, packet)
    assert (doc["hook"], doc["verdict"], doc["matched"]) == ("tc_ingress", "pass", False), doc
    assert doc["program_id"] == ex.ids[(topo.xc, "tc_ingress")]
    sink = traffic.sink("pod1", 6121)
    sent = traffic.send("pod1", 6121, N)
    assert sorted(sink.wait(N)) == sorted(sent), "explain said pass, but they did not arrive"
