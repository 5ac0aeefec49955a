"""The fixture corpus: rule sets, packets and the verdict each must get.

An expectation is (verdict, rule name or None, target interface or None).
Every case runs through both the XDP classifier and the TC classifier."""
from scapy.all import IP, Raw

from packets import (arp, ext6_chain, frag4, frag6, icmp4, icmp6, tcp4, tcp6, udp4, udp6,
                     vlan, with_ip_options)

IFACES = "[interface a0]\n[interface a1]\n"

P, D, R = "pass", "drop", "redirect"


def rule(name, **kv):
    return f"[rule {name}]\n" + "".join(f"{k} = {v}\n" for k, v in kv.items())


def cfg(*rules, extra=""):
    return IFACES + extra + "".join(rules)


def truncated(pkt, n, fix_len=False):
    """The first n bytes; with fix_len the IP length fields agree with the cut."""
    b = bytearray(bytes(pkt)[:n])
    if fix_len and len(b) >= 18 and b[12:14] == b"\x08\x00":
        b[16:18] = (n - 14).to_bytes(2, "big")
    if fix_len and len(b) >= 20 and b[12:14] == b"\x86\xdd":
        b[18:20] = max(0, n - 54).to_bytes(2, "big")
    return bytes(b)


def bad_ihl():
    b = bytearray(bytes(tcp4()))
    b[14] = 0x44          # version 4, IHL 4 (16 bytes): below the minimum
    return bytes(b)


def tot_len(value):
    p = tcp4()
    p[IP].len = value
    return bytes(p)


# Named sets: prefixes of both families in one set, ports and ranges.
SETS = ("[set blocked]\n10.0.0.0/8\n192.168.1.0/24\n2001:db8:1::/48\n"
        "[set pods]\n192.168.1.0/28\n2001:db8:2::/64\n"
        "[set web]\n80\n443\n8000-8080\n")

CASES = {
    "ingress_interface": (cfg(rule("only-a0", interface="a0", action="drop")), [
        (tcp4(), "a0", (D, "only-a0", None)),
        (tcp4(), "a1", (P, None, None)),
    ]),
    "any_interface": (cfg(rule("all", interface="*", proto="udp", action="drop")), [
        (udp4(), "a0", (D, "all", None)),
        (udp4(), "a1", (D, "all", None)),
        (tcp4(), "a1", (P, None, None)),
    ]),
    "src_prefix_v4": (cfg(rule("src8", src="10.0.0.0/8", action="drop")), [
        (tcp4(src="10.200.0.1"), "a0", (D, "src8", None)),
        (tcp4(src="11.0.0.1"), "a0", (P, None, None)),
        (tcp6(), "a0", (P, None, None)),
    ]),
    "dst_prefix_v4": (cfg(rule("dst24", dst="192.168.1.0/24", action="drop")), [
        (udp4(dst="192.168.1.255"), "a0", (D, "dst24", None)),
        (udp4(dst="192.168.2.1"), "a0", (P, None, None)),
    ]),
    "host_prefix_v4": (cfg(rule("h32", src="10.1.2.3/32", dst="192.168.1.10", action="drop")), [
        (tcp4(), "a0", (D, "h32", None)),
        (tcp4(src="10.1.2.4"), "a0", (P, None, None)),
    ]),
    "src_dst_prefix_v6": (cfg(rule("v6", src="2001:db8:1::/48", dst="2001:db8:2::/64", action="drop")), [
        (tcp6(), "a0", (D, "v6", None)),
        (tcp6(src="2001:db8:9::1"), "a0", (P, None, None)),
        (tcp6(dst="2001:db8:2:1::10"), "a0", (P, None, None)),
        (tcp4(), "a0", (P, None, None)),
    ]),
    "proto_tcp_udp_icmp": (cfg(rule("t", proto="tcp", dst_port=1, action="drop"),
                               rule("u", proto="udp", action="drop"),
                               rule("i4", proto="icmp", action="drop"),
                               rule("i6", proto="icmpv6", action="drop"),
                               rule("gre", proto="47", action="drop")), [
        (tcp4(dport=1), "a0", (D, "t", None)),
        (tcp4(dport=2), "a0", (P, None, None)),
        (udp4(), "a0", (D, "u", None)),
        (udp6(), "a0", (D, "u", None)),
        (icmp4(), "a0", (D, "i4", None)),
        (icmp6(), "a0", (D, "i6", None)),
        (tcp4()[IP].__class__(src="10.0.0.1", dst="10.0.0.2", proto=47) / Raw(b"g" * 8), "a0",
         None),  # replaced below with an Ethernet frame
    ]),
    "dst_port_single_and_range": (cfg(rule("p80", proto="tcp", dst_port="80", action="drop"),
                                      rule("hi", proto="tcp", dst_port="8000-8080", action="drop")), [
        (tcp4(dport=80), "a0", (D, "p80", None)),
        (tcp4(dport=79), "a0", (P, None, None)),
        (tcp4(dport=7999), "a0", (P, None, None)),
        (tcp4(dport=8000), "a0", (D, "hi", None)),
        (tcp4(dport=8043), "a0", (D, "hi", None)),
        (tcp4(dport=8080), "a0", (D, "hi", None)),
        (tcp4(dport=8081), "a0", (P, None, None)),
    ]),
    "src_port_range_udp": (cfg(rule("eph", proto="udp", src_port="1024-65535", action="drop")), [
        (udp4(sport=1023), "a0", (P, None, None)),
        (udp4(sport=1024), "a0", (D, "eph", None)),
        (udp4(sport=65535), "a0", (D, "eph", None)),
        (udp6(sport=33333), "a0", (D, "eph", None)),
    ]),
    # Ranges of many blocks are held whole (a space per range, port checked against its
    # span): the same address under two ranges, a port rule inside a range before it, a
    # range on both ports, and packets with no ports at all.
    "ranges_held_whole": (cfg(rule("one", dst="192.168.1.10", proto="tcp", dst_port="8443",
                                   action="pass"),
                              rule("np", dst="192.168.1.10", proto="tcp", dst_port="30000-32767",
                                   action="drop"),
                              rule("alt", dst="192.168.1.10", proto="tcp", dst_port="8001-9999",
                                   action="redirect", redirect="plain", target="t0"),
                              rule("both", proto="udp", src_port="1024-65535",
                                   dst_port="5000-5099", action="drop"),
                              rule("anyt", dst="192.168.1.10", proto="tcp", dst_port="1-65534",
                                   action="pass"),
                              rule("anyu", dst="192.168.1.10", proto="udp", dst_port="1-65534",
                                   action="pass")), [
        (tcp4(dport=29999), "a0", (P, "anyt", None)),
        (tcp4(dport=30000), "a0", (D, "np", None)),
        (tcp4(dport=32767), "a0", (D, "np", None)),
        (tcp4(dport=32768), "a0", (P, "anyt", None)),
        (tcp4(dport=8000), "a0", (P, "anyt", None)),
        (tcp4(dport=8001), "a0", (R, "alt", "t0")),
        (tcp4(dport=8443), "a0", (P, "one", None)),
        (tcp4(dport=9999), "a0", (R, "alt", "t0")),
        (tcp4(dport=10000), "a0", (P, "anyt", None)),
        (tcp4(dst="192.168.1.11", dport=30000), "a0", (P, None, None)),
        (tcp4(dport=65535), "a0", (P, None, None)),
        (udp4(sport=1024, dport=5000), "a0", (D, "both", None)),
        (udp4(sport=1023, dport=5000), "a0", (P, "anyu", None)),
        (udp4(sport=65535, dport=5099), "a0", (D, "both", None)),
        (udp4(sport=40000, dport=5100), "a0", (P, "anyu", None)),
        (udp4(dst="192.168.1.99", sport=40000, dport=5100), "a0", (P, None, None)),
        (icmp4(), "a0", (P, None, None)),
    ]),
    "action_pass_is_counted": (cfg(rule("ok", proto="tcp", action="pass"),
                                   rule("rest", action="drop")), [
        (tcp4(), "a0", (P, "ok", None)),
        (udp4(), "a0", (D, "rest", None)),
    ]),
    "redirect_modes_fixed_target": (cfg(rule("pl", dst_port=1, proto="tcp", action="redirect", redirect="plain", target="t0"),
                                        rule("ne", dst_port=2, proto="tcp", action="redirect", redirect="neigh", target="t1"),
                                        rule("pe", dst_port=3, proto="tcp", action="redirect", redirect="peer", target="p0")), [
        (tcp4(dport=1), "a0", (R, "pl", "t0")),
        (tcp4(dport=2), "a0", (R, "ne", "t1")),
        (tcp4(dport=3), "a0", (R, "pe", "p0")),
    ]),
    "redirect_auto_static": (cfg(rule("auto", action="redirect", redirect="plain", target="auto"),
                                 extra="[static]\n192.168.1.0/24 = t1\n2001:db8:2::/64 = t0\n"), [
        (tcp4(dst="192.168.1.77"), "a0", (R, "auto", "t1")),
        (tcp6(), "a0", (R, "auto", "t0")),
    ]),
    "vlan_and_qinq": (cfg(rule("v", src="10.0.0.0/8", proto="tcp", dst_port=80, action="drop")), [
        (vlan(tcp4(), (100,)), "a0", (D, "v", None)),
        (vlan(tcp4(), (100, 200)), "a0", (D, "v", None)),
        (vlan(tcp4(dport=81), (100, 200)), "a0", (P, None, None)),
        (vlan(tcp6(), (7,)), "a0", (P, None, None)),
    ]),
    "ipv4_options": (cfg(rule("opt", proto="tcp", dst_port=80, action="drop")), [
        (with_ip_options(tcp4()), "a0", (D, "opt", None)),
        (with_ip_options(tcp4(dport=81)), "a0", (P, None, None)),
    ]),
    "fragments_v4": (cfg(rule("ports", proto="tcp", dst_port=80, action="drop"),
                         rule("l3", src="10.0.0.0/8", proto="tcp", action="pass")), [
        (frag4(first=True), "a0", (D, "ports", None)),
        (frag4(first=False), "a0", (P, "l3", None)),
    ]),
    "fragments_v6": (cfg(rule("ports", proto="tcp", dst_port=80, action="drop"),
                         rule("l3", src="2001:db8:1::/48", action="pass")), [
        (frag6(first=True), "a0", (D, "ports", None)),
        (frag6(first=False), "a0", (P, "l3", None)),
    ]),
    "ipv6_extension_headers": (cfg(rule("deep", proto="tcp", dst_port=80, action="drop")), [
        (ext6_chain(1), "a0", (D, "deep", None)),
        (ext6_chain(3), "a0", (D, "deep", None)),
        (ext6_chain(6), "a0", (D, "deep", None)),
        (ext6_chain(7), "a0", (P, None, None)),       # longer than the bound: malformed
    ]),
    "first_match_wins": (cfg(rule("broad-pass", src="10.0.0.0/8", proto="tcp", dst_port=80, action="pass"),
                             rule("narrow-drop", src="10.1.0.0/16", action="drop"),
                             rule("narrow-dup", src="10.1.0.0/16", action="pass")), [
        (tcp4(src="10.1.1.1", dport=80), "a0", (P, "broad-pass", None)),
        (tcp4(src="10.1.1.1", dport=81), "a0", (D, "narrow-drop", None)),
        (udp4(src="10.2.0.1"), "a0", (P, None, None)),
    ]),
    "first_match_reversed": (cfg(rule("narrow-drop", src="10.1.0.0/16", action="drop"),
                                 rule("broad-pass", src="10.0.0.0/8", proto="tcp", dst_port=80, action="pass")), [
        (tcp4(src="10.1.1.1", dport=80), "a0", (D, "narrow-drop", None)),
        (tcp4(src="10.2.1.1", dport=80), "a0", (P, "broad-pass", None)),
    ]),
    "overlapping_port_ranges": (cfg(rule("a", proto="tcp", dst_port="1000-1999", action="drop"),
                                    rule("b", proto="tcp", dst_port="1500-2500", action="pass"),
                                    rule("c", proto="tcp", dst_port="0-65535", action="drop")), [
        (tcp4(dport=1500), "a0", (D, "a", None)),
        (tcp4(dport=2000), "a0", (P, "b", None)),
        (tcp4(dport=2501), "a0", (D, "c", None)),
    ]),
    "set_src_both_families": (cfg(rule("blk", src="@blocked", action="drop"), extra=SETS), [
        (tcp4(src="10.200.0.1"), "a0", (D, "blk", None)),
        (udp4(src="192.168.1.77"), "a0", (D, "blk", None)),
        (tcp4(src="192.168.2.1"), "a0", (P, None, None)),
        (tcp4(src="11.0.0.1"), "a0", (P, None, None)),
        (tcp6(src="2001:db8:1::5"), "a0", (D, "blk", None)),
        (tcp6(src="2001:db8:9::5"), "a0", (P, None, None)),
    ]),
    "set_dst": (cfg(rule("to-pods", dst="@pods", proto="tcp", action="drop"), extra=SETS), [
        (tcp4(dst="192.168.1.10"), "a0", (D, "to-pods", None)),
        (tcp4(dst="192.168.1.16"), "a0", (P, None, None)),
        (udp4(dst="192.168.1.10"), "a0", (P, None, None)),
        (tcp6(dst="2001:db8:2::10"), "a0", (D, "to-pods", None)),
        (tcp6(dst="2001:db8:3::10"), "a0", (P, None, None)),
    ]),
    "set_dst_ports": (cfg(rule("web", proto="tcp", dst_port="@web", action="drop"), extra=SETS), [
        (tcp4(dport=79), "a0", (P, None, None)),
        (tcp4(dport=80), "a0", (D, "web", None)),
        (tcp4(dport=443), "a0", (D, "web", None)),
        (tcp6(dport=444), "a0", (P, None, None)),
        (tcp6(dport=8000), "a0", (D, "web", None)),
        (tcp4(dport=8043), "a0", (D, "web", None)),
        (tcp4(dport=8080), "a0", (D, "web", None)),
        (tcp4(dport=8081), "a0", (P, None, None)),
    ]),
    "set_src_ports": (cfg(rule("from-web", proto="udp", src_port="@web", action="drop"), extra=SETS), [
        (udp4(sport=443), "a0", (D, "from-web", None)),
        (udp6(sport=8080), "a0", (D, "from-web", None)),
        (udp4(sport=442), "a0", (P, None, None)),
        (tcp4(sport=443), "a0", (P, None, None)),
    ]),
    # The cross product, under one rule and one counter; src and dst of different
    # families do not combine.
    "set_cross_product": (cfg(rule("x", src="@blocked", dst="@pods", proto="tcp", dst_port="@web",
                                   action="drop"),
                              rule("after", proto="tcp", action="pass"), extra=SETS), [
        (tcp4(src="10.9.9.9", dst="192.168.1.1", dport=443), "a0", (D, "x", None)),
        (tcp4(src="192.168.1.200", dst="192.168.1.15", dport=8001), "a0", (D, "x", None)),
        (tcp6(src="2001:db8:1::1", dst="2001:db8:2::1", dport=80), "a0", (D, "x", None)),
        (tcp4(src="10.9.9.9", dst="192.168.1.100", dport=443), "a0", (P, "after", None)),
        (tcp4(src="10.9.9.9", dst="192.168.1.1", dport=22), "a0", (P, "after", None)),
        (tcp6(src="2001:db8:1::1", dst="2001:db8:7::1", dport=80), "a0", (P, "after", None)),
        (tcp6(src="2001:db8:5::1", dst="2001:db8:2::1", dport=80), "a0", (P, "after", None)),
    ]),
    "set_empty_matches_nothing": (cfg(rule("none", src="@empty", action="drop"),
                                      extra="[set empty]\n"), [
        (tcp4(), "a0", (P, None, None)),
        (tcp6(), "a0", (P, None, None)),
    ]),
    "malformed": (cfg(rule("all", action="drop")), [
        (bad_ihl(), "a0", (P, None, None)),
        (tot_len(2000), "a0", (P, None, None)),
        (tot_len(10), "a0", (P, None, None)),
        (vlan(tcp4(), (1, 2, 3)), "a0", (P, None, None)),
        (arp(), "a0", (P, None, None)),
        (tcp4(), "a0", (D, "all", None)),
    ]),
}

# Replace the GRE placeholder with a real frame.
_gre = CASES["proto_tcp_udp_icmp"][1]
_gre[-1] = (tcp4().__class__(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
            IP(src="10.0.0.1", dst="10.0.0.2", proto=47) / Raw(b"g" * 8), "a0", (D, "gre", None))


def truncation_packets():
    """Cuts at (and just before) every header boundary, with and without
    length fields that agree with the cut.  All are malformed: pass, no rule."""
    out = []
    for name, pkt, bounds in (
        ("tcp4", tcp4(), [14, 34, 54]),
        ("udp4", udp4(), [14, 34, 42]),
        ("icmp4", icmp4(), [14, 34, 38]),
        ("tcp6", tcp6(), [14, 54, 74]),
        ("vlan", vlan(tcp4()), [18, 38, 58]),
        ("qinq", vlan(tcp4(), (1, 2)), [22, 42, 62]),
        ("ext6", ext6_chain(2), [54, 62, 70]),
    ):
        for b in bounds:
            # Exactly at the first boundary: an EtherType promising a header that is absent.
            for cut in ((b,) if b == bounds[0] else ()) + (b - 1, b - 4):
                if cut < 14:
                    continue
                out.append((f"{name}-{cut}", truncated(pkt, cut)))
                out.append((f"{name}-{cut}-fixed", truncated(pkt, cut, fix_len=True)))
    return out
