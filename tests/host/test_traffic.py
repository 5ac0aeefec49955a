"""Verdicts on real traffic: the client sends through the host (where xtc
runs) to the pods, and each case checks what arrives and `xtc stats`.

Every case runs three times: XDP in native mode, XDP in skb (generic) mode,
and xdp = off, where TC classifies alone.  The expectations do not depend on
the mode, which is the point: the verdicts must be the same.

Whether a packet was redirected or merely forwarded by the host is told
apart by what forwarding would have changed: the TTL (the client sends 64,
the host's forwarding makes it 63) and, for plain redirects, the whole frame."""
import uuid

import pytest

from hostenv import MODES, link_exists, make_config, sh
from lib.nsock import tcp_bulk, tcp_exchange
from traffic import TTL, Traffic, rule, udp_frames

N = 20


def apply(xtc, topo, mode, rules, **kw):
    return xtc.apply(make_config(xtc, topo, mode, rules, **kw))


def test_drop(xtc, topo, mode, traffic):
    apply(xtc, topo, mode, rule("drop-udp", interface=topo.xc, dst=topo.v4["pod1"], proto="udp",
                                dst_port=6001, action="drop"))
    sink = traffic.sink("pod1", 6001)
    traffic.send("pod1", 6001, N)
    traffic.barrier("pod1")
    assert sink.take() == [], "dropped datagrams arrived"
    st = xtc.stats()
    assert xtc.rule_packets(st, "drop-udp") == N
    assert xtc.iface_counter(st, topo.xc, "dropped") == N


def test_pass(xtc, topo, mode, traffic):
    """pass wins over a later drop (first match), and the later drop still works."""
    apply(xtc, topo, mode,
          rule("pass-6002", interface=topo.xc, dst=topo.v4["pod1"], proto="udp", dst_port=6002,
               action="pass")
          + rule("drop-pod1-udp", interface=topo.xc, dst=topo.v4["pod1"], proto="udp",
                 dst_port="6000-6010", action="drop"))
    ok, dropped = traffic.sink("pod1", 6002), traffic.sink("pod1", 6003)
    sent = traffic.send("pod1", 6002, N)
    traffic.send("pod1", 6003, N)
    assert sorted(ok.wait(N)) == sorted(sent)
    traffic.barrier("pod1")
    assert dropped.take() == []
    st = xtc.stats()
    assert xtc.rule_packets(st, "pass-6002") == N
    assert xtc.rule_packets(st, "drop-pod1-udp") == N
    assert xtc.iface_counter(st, topo.xc, "dropped") == N


def test_redirect_plain(xtc, topo, mode, traffic):
    """The frame arrives on the target byte for byte as the client sent it."""
    apply(xtc, topo, mode, rule("to-pod2-plain", interface=topo.xc, dst=topo.v4["pod2"],
                                proto="udp", dst_port=6004, action="redirect",
                                redirect="plain", target=topo.xp2))
    sniff = traffic.sniffer("pod2")
    frames = [traffic.frame("pod2", 6004, "plain", i) for i in range(N)]
    traffic.send_frames(frames)
    got = [f.data for f in udp_frames(sniff, 6004, N)]
    assert sorted(got) == sorted(frames), "redirect = plain changed the frames (or lost some)"
    st = xtc.stats()
    assert xtc.rule_packets(st, "to-pod2-plain") == N
    assert xtc.iface_counter(st, topo.xc, "redirects_ok") == N
    assert xtc.iface_counter(st, topo.xc, "redirects_failed") == 0


def test_redirect_neigh(xtc, topo, mode, traffic):
    """L2 addresses come from the neighbour table: the pod's MAC as destination,
    the target's as source; the TTL is untouched (no forwarding)."""
    apply(xtc, topo, mode, rule("to-pod1-neigh", interface=topo.xc, dst=topo.v4["pod1"],
                                proto="udp", dst_port=6005, action="redirect",
                                redirect="neigh", target=topo.xp1))
    sink, sniff = traffic.sink("pod1", 6005), traffic.sniffer("pod1")
    sent = traffic.send("pod1", 6005, N)
    assert sorted(sink.wait(N)) == sorted(sent)
    frames = udp_frames(sniff, 6005, N)
    assert len(frames) == N
    assert topo.neigh_lladdr(topo.xp1, topo.v4["pod1"]) == topo.mac["pod1"]
    for f in frames:
        assert (f.dst_mac, f.src_mac) == (topo.mac["pod1"], topo.mac["xp1"])
        assert f.ttl == TTL, "TTL decremented: the host forwarded instead of redirecting"
    st = xtc.stats()
    assert xtc.rule_packets(st, "to-pod1-neigh") == N
    assert xtc.iface_counter(st, topo.xc, "redirects_ok") == N


def test_redirect_peer(xtc, topo, mode, traffic):
    """The packet lands straight in the pod namespace: delivered to the pod's
    socket without passing the host-side veth's transmit path, frame unchanged."""
    apply(xtc, topo, mode, rule("to-pod1-peer", interface=topo.xc, dst=topo.v4["pod1"],
                                proto="udp", dst_port=6006, action="redirect",
                                redirect="peer", target=topo.xp1))
    sink, sniff = traffic.sink("pod1", 6006), traffic.sniffer("pod1")
    tx_before = topo.tx_packets(topo.xp1)
    sent = traffic.send("pod1", 6006, N)
    assert sorted(sink.wait(N)) == sorted(sent)
    assert topo.tx_packets(topo.xp1) - tx_before < N, "the packets went out of the host veth"
    for f in udp_frames(sniff, 6006, N):
        assert f.ttl == TTL and f.dst_mac == topo.mac["xc"], "not the frame the client sent"
    st = xtc.stats()
    assert xtc.rule_packets(st, "to-pod1-peer") == N
    assert xtc.iface_counter(st, topo.xc, "redirects_ok") == N


@pytest.mark.parametrize("reverse", ["yes", "no"])
def test_reverse_tcp(xtc, topo, mode, traffic, reverse):
    """A TCP exchange client -> pod1 completes only with the mirror rule: the
    host does not forward the pod's replies."""
    port = 7001 if reverse == "yes" else 7002
    apply(xtc, topo, mode, rule("web", interface=topo.xc, dst=topo.v4["pod1"], proto="tcp",
                                dst_port=port, action="redirect", redirect="neigh",
                                target=topo.xp1, reverse=reverse))
    ok, detail = tcp_exchange(topo.ns["pod1"], topo.v4["pod1"], topo.ns["client"], port,
                              timeout=1.5 if reverse == "no" else 3.0)
    st = xtc.stats()
    if reverse == "yes":
        assert ok, f"TCP exchange through the redirect and its mirror failed: {detail}"
        assert xtc.rule_packets(st, "web") >= 3         # SYN, ACK, data, FIN ...
        assert xtc.rule_packets(st, "web~reverse") >= 2  # SYN-ACK, data ...
    else:
        assert not ok, "the exchange completed without reverse = yes: the test proves nothing"
        assert xtc.rule_packets(st, "web") >= 1


def test_bulk_tcp_through_redirect(xtc, topo, mode, traffic):
    """Megabytes of TCP through a redirect and its mirror: large GSO/GRO
    packets carry most of their bytes outside the linear area, and TC must
    still parse them (no parse errors) rather than let them fall through."""
    port = 7003
    apply(xtc, topo, mode, rule("bulk", interface=topo.xc, dst=topo.v4["pod1"], proto="tcp",
                                dst_port=port, action="redirect", redirect="neigh",
                                target=topo.xp1, reverse="yes"))
    ok, detail = tcp_bulk(topo.ns["pod1"], topo.v4["pod1"], topo.ns["client"], port, 8 << 20)
    st = xtc.stats()
    assert ok, f"bulk TCP through the redirect failed: {detail}"
    for dev in (topo.xc, topo.xp1):
        assert xtc.iface_counter(st, dev, "parse_errors") == 0, (dev, st["interfaces"])
    assert xtc.rule_packets(st, "bulk") > 0 and xtc.rule_packets(st, "bulk~reverse") > 0


def test_ipv6_drop_pass(xtc, topo, mode, traffic):
    if not topo.v6_forwarding:
        pytest.skip("no net.ipv6.conf.IF.force_forwarding: IPv6 forwarding would need "
                    "the host-wide switch")
    apply(xtc, topo, mode,
          rule("v6-drop", interface=topo.xc, dst=topo.v6["pod1"], proto="udp", dst_port=6011,
               action="drop")
          + rule("v6-pass", interface=topo.xc, dst=f"{topo.v6['pod1']}/128", proto="udp",
                 dst_port=6012, action="pass"))
    d, p = traffic.sink("pod1", 6011, v6=True), traffic.sink("pod1", 6012, v6=True)
    traffic.send("pod1", 6011, N, v6=True)
    sent = traffic.send("pod1", 6012, N, v6=True)
    assert sorted(p.wait(N)) == sorted(sent)
    traffic.barrier("pod1", v6=True)
    assert d.take() == []
    st = xtc.stats()
    assert xtc.rule_packets(st, "v6-drop") == N
    assert xtc.rule_packets(st, "v6-pass") == N
    assert xtc.iface_counter(st, topo.xc, "dropped") == N


def test_ipv6_redirect_neigh(xtc, topo, mode, traffic):
    apply(xtc, topo, mode, rule("v6-neigh", interface=topo.xc, dst=topo.v6["pod1"],
                                proto="udp", dst_port=6013, action="redirect",
                                redirect="neigh", target=topo.xp1))
    sink, sniff = traffic.sink("pod1", 6013, v6=True), traffic.sniffer("pod1")
    sent = traffic.send("pod1", 6013, N, v6=True)
    assert sorted(sink.wait(N)) == sorted(sent)
    assert topo.neigh_lladdr(topo.xp1, topo.v6["pod1"]) == topo.mac["pod1"]
    for f in udp_frames(sniff, 6013, N):
        assert (f.dst_mac, f.src_mac) == (topo.mac["pod1"], topo.mac["xp1"])
        assert f.ttl == TTL, "hop limit decremented: forwarded, not redirected"
    assert xtc.rule_packets(xtc.stats(), "v6-neigh") == N


def test_ipv6_redirect_peer(xtc, topo, mode, traffic):
    apply(xtc, topo, mode, rule("v6-peer", interface=topo.xc, dst=topo.v6["pod1"],
                                proto="udp", dst_port=6014, action="redirect",
                                redirect="peer", target=topo.xp1))
    sink = traffic.sink("pod1", 6014, v6=True)
    sent = traffic.send("pod1", 6014, N, v6=True)
    assert sorted(sink.wait(N)) == sorted(sent)
    assert xtc.rule_packets(xtc.stats(), "v6-peer") == N


VLANS = {
    "802.1Q": [(0x8100, 100)],
    "QinQ": [(0x88A8, 200), (0x8100, 100)],
}


@pytest.mark.parametrize("tags", sorted(VLANS))
def test_vlan(xtc, topo, mode, traffic, tags):
    """Tagged frames are classified by their IP header behind the tags: dropped,
    passed, or redirected plain with the tags intact."""
    vl = VLANS[tags]
    apply(xtc, topo, mode,
          rule("vlan-drop", interface=topo.xc, dst=topo.v4["pod1"], proto="udp", dst_port=6021,
               action="drop")
          + rule("vlan-plain", interface=topo.xc, dst=topo.v4["pod2"], proto="udp",
                 dst_port=6022, action="redirect", redirect="plain", target=topo.xp2)
          + rule("vlan-pass", interface=topo.xc, dst=topo.v4["pod1"], proto="udp",
                 dst_port=6023, action="pass"))
    sniff1, sniff2 = traffic.sniffer("pod1"), traffic.sniffer("pod2")
    drop = [traffic.frame("pod1", 6021, "vdrop", i, vlans=vl) for i in range(N)]
    plain = [traffic.frame("pod2", 6022, "vplain", i, vlans=vl) for i in range(N)]
    passed = [traffic.frame("pod1", 6023, "vpass", i, vlans=vl) for i in range(N)]
    traffic.send_frames(drop + plain + passed)
    got = [f.data for f in udp_frames(sniff2, 6022, N)]
    assert sorted(got) == sorted(plain), "tagged frames not redirected unchanged"
    traffic.barrier("pod1")
    assert udp_frames(sniff1, 6021, 1, timeout=0) == []
    st = xtc.stats()
    assert xtc.rule_packets(st, "vlan-drop") == N
    assert xtc.rule_packets(st, "vlan-plain") == N
    assert xtc.rule_packets(st, "vlan-pass") == N
    assert xtc.iface_counter(st, topo.xc, "dropped") == N
    assert xtc.iface_counter(st, topo.xc, "redirects_ok") == N


def test_auto_connected_routes(xtc, topo, mode, traffic):
    """One rule, target = auto: each destination goes out of the interface
    whose connected route covers it, IPv4 and IPv6."""
    apply(xtc, topo, mode,
          rule("auto4", interface=topo.xc, dst=topo.net16, proto="udp", dst_port=6031,
               action="redirect", redirect="neigh", target="auto")
          + rule("auto6", interface=topo.xc, dst=topo.net6, proto="udp", dst_port=6031,
                 action="redirect", redirect="neigh", target="auto"))
    for pod, dev in (("pod1", "xp1"), ("pod2", "xp2")):
        for v6 in (False, True):
            sink, sniff = traffic.sink(pod, 6031, v6=v6), traffic.sniffer(pod)
            sent = traffic.send(pod, 6031, N, v6=v6)
            assert sorted(sink.wait(N)) == sorted(sent), f"{pod} v6={v6}"
            for f in udp_frames(sniff, 6031, N):
                assert (f.dst_mac, f.src_mac) == (topo.mac[pod], topo.mac[dev])
                assert f.ttl == TTL
            sniff.close()
            sink.close()
    st = xtc.stats()
    assert xtc.rule_packets(st, "auto4") == 2 * N
    assert xtc.rule_packets(st, "auto6") == 2 * N
    assert xtc.iface_counter(st, topo.xc, "redirects_ok") == 4 * N
    assert xtc.iface_counter(st, topo.xc, "redirects_failed") == 0


def test_auto_address(xtc, topo, mode, traffic):
    """target = auto for a host address of xp2 (no route of its own): out of xp2.
    Without the redirect the host would keep the packet (it is its own address)."""
    dst = topo.v4["xp2_only"]
    apply(xtc, topo, mode, rule("auto-addr", interface=topo.xc, dst=dst, proto="udp",
                                dst_port=6033, action="redirect", redirect="plain",
                                target="auto"))
    sniff = traffic.sniffer("pod2")
    frames = [traffic.frame(dst, 6033, "auto-addr", i) for i in range(N)]
    traffic.send_frames(frames)
    assert sorted(f.data for f in udp_frames(sniff, 6033, N)) == sorted(frames)
    assert xtc.rule_packets(xtc.stats(), "auto-addr") == N


def test_auto_without_entry_falls_back(xtc, topo, mode, traffic):
    """A destination only reachable through a gateway has no auto entry: the
    redirect fails, is counted, and the packet passes (the host forwards it
    to the gateway, pod2, TTL decremented)."""
    dst = topo.v4["gw_routed"]
    apply(xtc, topo, mode, rule("auto-none", interface=topo.xc, dst=f"{dst}/32", proto="udp",
                                dst_port=6034, action="redirect", redirect="neigh",
                                target="auto"))
    sniff = traffic.sniffer("pod2")
    traffic.send(dst, 6034, N)
    frames = udp_frames(sniff, 6034, N)
    assert len(frames) == N
    assert all(f.ttl == TTL - 1 for f in frames), "not forwarded by the host"
    st = xtc.stats()
    assert xtc.rule_packets(st, "auto-none") == N
    assert xtc.iface_counter(st, topo.xc, "redirects_failed") == N
    assert xtc.iface_counter(st, topo.xc, "redirects_ok") == 0


@pytest.fixture
def doomed_veth(topo):
    """A veth pair with fresh names for a test to delete; removed at the end if not."""
    name, peer = f"xf{uuid.uuid4().hex[:8]}", f"xg{uuid.uuid4().hex[:8]}"
    topo.add_veth(name, peer)
    yield name, peer
    if link_exists(name):
        topo.delete_link(name)


@pytest.mark.parametrize("managed", [False, True], ids=["unmanaged", "managed"])
@pytest.mark.parametrize("fallback", ["pass", "drop"])
def test_fallback_target_deleted(xtc, topo, mode, traffic, fallback, managed, doomed_veth):
    """A redirect to an interface that is then deleted falls back to
    redirect_fallback, and counts redirects_failed.  The target may itself be
    managed by xtc (a pod's veth with its own [interface] section): then
    status and unload must also cope with its disappearance."""
    xf, xg = doomed_veth
    port = 6041
    ifaces = (topo.xc, topo.xp1, topo.xp2) + ((xf,) if managed else ())
    apply(xtc, topo, mode,
          rule("to-gone", interface=topo.xc, dst=topo.v4["pod1"], proto="udp", dst_port=port,
               action="redirect", redirect="plain", target=xf),
          global_kw={"redirect_fallback": fallback}, ifaces=ifaces)
    sink = traffic.sink("pod1", port)
    before = traffic.sniffer(None, xg)
    traffic.send("pod1", port, 3, label="before")
    assert len(udp_frames(before, port, 3)) == 3, "the redirect did not work to begin with"
    before.close()
    topo.delete_link(xf)

    sent = traffic.send("pod1", port, N, label="after")
    if fallback == "pass":
        assert sorted(sink.wait(N)) == sorted(sent), "fallback = pass did not pass them"
    else:
        traffic.barrier("pod1")
        assert sink.take() == [], "fallback = drop let them through"
    st = xtc.stats()
    assert xtc.rule_packets(st, "to-gone") == 3 + N
    assert xtc.iface_counter(st, topo.xc, "redirects_failed") == N
    assert xtc.iface_counter(st, topo.xc, "dropped") == (N if fallback == "drop" else 0)
    # A managed interface that is gone is a problem status names (exit 3).
    status = xtc.status(problems=["interface_missing"] if managed else ())
    assert {i["interface"] for i in status["interfaces"]} >= {topo.xc, topo.xp1, topo.xp2}
    if managed:
        assert [(p["problem"], p["interface"]) for p in status["problems"]] == \
            [("interface_missing", xf)]
        # The operator removes the gone pod from the file: apply forgets it.
        apply(xtc, topo, mode, rule("to-pod1", interface=topo.xc, dst=topo.v4["pod1"],
                                    proto="udp", dst_port=port, action="drop"))
        names = {i["interface"] for i in xtc.status()["interfaces"]}
        assert names == {topo.xc, topo.xp1, topo.xp2}, names
    # The fixture's unload --all must succeed with the interface gone.


@pytest.mark.parametrize("fallback", ["pass", "drop"])
def test_fallback_auto_target_deleted(xtc, topo, mode, traffic, fallback, doomed_veth):
    """target = auto resolved at apply time to an interface that is deleted
    afterwards: the stale map entry must not swallow the packets silently."""
    xf, xg = doomed_veth
    b, port = topo.b, 6042
    net, dst = f"10.{b}.77.0/24", f"10.{b}.77.5"
    sh(["ip", "addr", "add", f"10.{b}.77.1/24", "dev", xf])
    # A second way there through pod1, so that passing has somewhere to go
    # (never the host's default route) once xf and its connected route are gone.
    sh(["ip", "route", "add", net, "via", topo.v4["pod1"], "dev", topo.xp1, "metric", "500"])
    try:
        apply(xtc, topo, mode,
              rule("to-auto", interface=topo.xc, dst=net, proto="udp", dst_port=port,
                   action="redirect", redirect="plain", target="auto"),
              global_kw={"redirect_fallback": fallback})
        before = traffic.sniffer(None, xg)
        traffic.send(dst, port, 3, label="before")
        assert len(udp_frames(before, port, 3)) == 3, "auto did not resolve to the veth"
        before.close()
        topo.delete_link(xf)

        sniff = traffic.sniffer("pod1")
        traffic.send(dst, port, N, label="after")
        traffic.barrier("pod1")
        got = udp_frames(sniff, port, N if fallback == "pass" else 0, timeout=1)
        if fallback == "pass":
            assert len(got) == N and all(f.ttl == TTL - 1 for f in got), \
                "fallback = pass: not forwarded by the host"
        else:
            assert got == [], "fallback = drop let them through"
        st = xtc.stats()
        assert xtc.rule_packets(st, "to-auto") == 3 + N
        assert xtc.iface_counter(st, topo.xc, "redirects_failed") == N
    finally:
        sh(["ip", "route", "del", net, "via", topo.v4["pod1"], "dev", topo.xp1, "metric", "500"],
           check=False)


def test_egress_redirect(xtc, topo, mode, traffic):
    """An egress redirect on xp1 sends what the host forwards towards pod1 out
    of xp2 instead, frame as it left the host's forwarding."""
    apply(xtc, topo, mode, rule("eg-plain", interface=topo.xp1, direction="egress",
                                dst=topo.v4["pod1"], proto="udp", dst_port=6053,
                                action="redirect", redirect="plain", target=topo.xp2))
    sink, sniff2 = traffic.sink("pod1", 6053), traffic.sniffer("pod2")
    traffic.send("pod1", 6053, N)
    frames = udp_frames(sniff2, 6053, N)
    assert len(frames) == N, "egress redirect did not deliver to xp2's peer"
    for f in frames:
        assert (f.dst_mac, f.src_mac) == (topo.mac["pod1"], topo.mac["xp1"])
        assert f.ttl == TTL - 1
    traffic.barrier("pod1")
    assert sink.take() == [], "redirected packets also reached pod1"
    st = xtc.stats()
    assert xtc.rule_packets(st, "eg-plain") == N
    assert xtc.iface_counter(st, topo.xp1, "redirects_ok") == N


def test_egress(xtc, topo, mode, traffic):
    """Egress rules on the pod-side interface see what the host forwards there."""
    apply(xtc, topo, mode,
          rule("eg-drop", interface=topo.xp1, direction="egress", dst=topo.v4["pod1"],
               proto="udp", dst_port=6051, action="drop")
          + rule("eg-pass", interface=topo.xp1, direction="egress", proto="udp",
                 dst_port=6052, action="pass"))
    d, p = traffic.sink("pod1", 6051), traffic.sink("pod1", 6052)
    traffic.send("pod1", 6051, N)
    sent = traffic.send("pod1", 6052, N)
    assert sorted(p.wait(N)) == sorted(sent)
    traffic.barrier("pod1")
    assert d.take() == []
    st = xtc.stats()
    assert xtc.rule_packets(st, "eg-drop") == N
    assert xtc.rule_packets(st, "eg-pass") == N
    eg = [i for i in st["interfaces"] if i["interface"] == topo.xp1 and i["hook"] == "tc_egress"]
    assert eg and eg[0]["dropped"] == N


def parity_rules(topo):
    v4, v6 = topo.v4, topo.v6
    return (rule("p-drop", interface=topo.xc, dst=v4["pod1"], proto="udp", dst_port=6061,
                 action="drop")
            + rule("p-pass", interface=topo.xc, dst=v4["pod1"], proto="udp", dst_port=6062,
                   action="pass")
            + rule("p-plain", interface=topo.xc, dst=v4["pod2"], proto="udp", dst_port=6063,
                   action="redirect", redirect="plain", target=topo.xp2)
            + rule("p-neigh", interface=topo.xc, dst=v4["pod1"], proto="udp", dst_port=6064,
                   action="redirect", redirect="neigh", target=topo.xp1)
            + rule("p-peer", interface=topo.xc, dst=v4["pod1"], proto="udp", dst_port=6065,
                   action="redirect", redirect="peer", target=topo.xp1)
            + rule("p-v6-drop", interface=topo.xc, dst=v6["pod1"], proto="udp", dst_port=6066,
                   action="drop")
            + rule("p-auto", interface=topo.xc, dst=topo.net16, proto="udp", dst_port=6067,
                   action="redirect", redirect="neigh", target="auto")
            + rule("p-egress", interface=topo.xp1, direction="egress", proto="udp",
                   dst_port=6068, action="drop")
            + rule("p-catchall", dst=topo.net16, proto="udp", dst_port="6069-6079",
                   action="drop"))


def parity_run(xtc, topo, mode):
    """Applies the parity rules in one mode and sends one batch of every kind;
    returns what was observed: arrivals with their TTLs, rule and drop counters."""
    xtc.unload()
    apply(xtc, topo, mode, parity_rules(topo))
    t = Traffic(topo)
    try:
        n = 5
        sn1, sn2 = t.sniffer("pod1"), t.sniffer("pod2")
        seen = {}
        for port, pod, v6 in ((6061, "pod1", False), (6062, "pod1", False),
                              (6064, "pod1", False), (6065, "pod1", False),
                              (6066, "pod1", True), (6067, "pod2", False),
                              (6068, "pod1", False), (6069, "pod1", False)):
            t.send(pod, port, n, v6=v6)
        t.send_frames([t.frame("pod2", 6063, "p-plain", i) for i in range(n)]
                      + [t.frame("pod2", 6063, "p-plain-q", i, vlans=[(0x8100, 7)])
                         for i in range(n)])
        t.barrier("pod1")
        t.barrier("pod2")
        for port in range(6061, 6070):
            frames = udp_frames(sn1, port, 0, timeout=0) + udp_frames(sn2, port, 0, timeout=0)
            seen[port] = sorted((f.ttl, tuple(f.vlans)) for f in frames)
        st = xtc.stats()
        return {
            "arrived": seen,
            "rules": {r["rule"]: r["packets"] for r in st["rules"]},
            "dropped": {d: xtc.iface_counter(st, d, "dropped") for d in (topo.xc, topo.xp1)},
        }
    finally:
        t.close()


def test_verdicts_same_in_every_mode(xtc, topo):
    """One rule set, one batch of traffic, all three modes: identical outcomes
    (and the expected ones)."""
    runs = {m: parity_run(xtc, topo, m) for m in MODES}
    for m in MODES[1:]:
        assert runs[m] == runs[MODES[0]], f"{m} differs from {MODES[0]}"
    r = runs[MODES[0]]
    assert r["arrived"][6061] == [] and r["arrived"][6066] == [] and r["arrived"][6068] == []
    assert r["arrived"][6069] == [], "the catch-all drop did not drop"
    assert r["arrived"][6062] == [(TTL - 1, ())] * 5           # passed: forwarded
    assert r["arrived"][6064] == [(TTL, ())] * 5               # redirected: TTL untouched
    assert r["arrived"][6065] == [(TTL, ())] * 5
    assert r["arrived"][6067] == [(TTL, ())] * 5
    assert r["arrived"][6063] == [(TTL, ())] * 5 + [(TTL, (7,))] * 5
    assert r["rules"] == {"p-drop": 5, "p-pass": 5, "p-plain": 10, "p-neigh": 5, "p-peer": 5,
                          "p-v6-drop": 5, "p-auto": 5, "p-egress": 5, "p-catchall": 5}
    assert r["dropped"] == {topo.xc: 15, topo.xp1: 5}
