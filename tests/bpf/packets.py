"""Packet builders for the fixtures (scapy)."""
from scapy.all import (ARP, ICMP, IP, UDP, TCP, Dot1AD, Dot1Q, Ether, ICMPv6EchoRequest,
                       IPOption, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw)

MAC = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
PAYLOAD = Raw(b"x" * 16)


def eth():
    return Ether(**MAC)


def tcp4(src="10.1.2.3", dst="192.168.1.10", sport=40000, dport=80, **ip):
    return eth() / IP(src=src, dst=dst, **ip) / TCP(sport=sport, dport=dport) / PAYLOAD


def udp4(src="10.1.2.3", dst="192.168.1.10", sport=40000, dport=53):
    return eth() / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / PAYLOAD


def icmp4(src="10.1.2.3", dst="192.168.1.10"):
    return eth() / IP(src=src, dst=dst) / ICMP() / PAYLOAD


def tcp6(src="2001:db8:1::3", dst="2001:db8:2::10", sport=40000, dport=80, ext=()):
    p = IPv6(src=src, dst=dst)
    for h in ext:
        p = p / h
    return eth() / p / TCP(sport=sport, dport=dport) / PAYLOAD


def udp6(src="2001:db8:1::3", dst="2001:db8:2::10", sport=40000, dport=53):
    return eth() / IPv6(src=src, dst=dst) / UDP(sport=sport, dport=dport) / PAYLOAD


def icmp6(src="2001:db8:1::3", dst="2001:db8:2::10"):
    return eth() / IPv6(src=src, dst=dst) / ICMPv6EchoRequest() / PAYLOAD


def vlan(pkt, tags=(100,)):
    """Re-wraps an Ethernet packet with 802.1ad (outer) and 802.1Q tags."""
    inner = pkt[Ether].payload
    p = eth()
    for i, t in enumerate(tags):
        p = p / (Dot1AD(vlan=t) if i == 0 and len(tags) > 1 else Dot1Q(vlan=t))
    return p / inner


def with_ip_options(pkt):
    pkt[IP].options = [IPOption(b"\x01\x01\x01\x00"), IPOption(b"\x01\x01\x01\x00")]
    return pkt


def frag4(first, src="10.1.2.3", dst="192.168.1.10", dport=80):
    if first:
        return eth() / IP(src=src, dst=dst, flags="MF", frag=0) / TCP(sport=40000, dport=dport) / PAYLOAD
    return eth() / IP(src=src, dst=dst, proto=6, frag=8) / Raw(b"y" * 24)


def frag6(first, src="2001:db8:1::3", dst="2001:db8:2::10", dport=80):
    if first:
        return eth() / IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(m=1, offset=0, nh=6) / \
            TCP(sport=40000, dport=dport) / PAYLOAD
    return eth() / IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(m=0, offset=8, nh=6) / Raw(b"y" * 24)


def ext6_chain(n, dport=80):
    """n extension headers (cycling through HBH, dest-opts, routing) before TCP."""
    kinds = [IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, IPv6ExtHdrDestOpt]
    hdrs = [IPv6ExtHdrHopByHop()] + [kinds[i % 3]() for i in range(n - 1)] if n else []
    return tcp6(dport=dport, ext=hdrs)


def arp():
    return Ether(src=MAC["src"], dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.1.2.3", pdst="10.1.2.4")


def raw_bytes(pkt):
    return bytes(pkt)
