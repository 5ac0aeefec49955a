"""Test packets for BPF_PROG_TEST_RUN (scapy, from Debian's python3-scapy)."""
from scapy.all import IP, TCP, UDP, Dot1Q, Ether, IPv6, Raw

MAC = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
PAYLOAD = Raw(b"x" * 16)


def tcp4(dst, dport, src="10.1.2.3", sport=40000, vlan=None):
    l3 = IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="A") / PAYLOAD
    eth = Ether(**MAC)
    return bytes(eth / Dot1Q(vlan=vlan) / l3 if vlan else eth / l3)


def udp4(dst, dport, src="10.1.2.3", sport=40000):
    return bytes(Ether(**MAC) / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / PAYLOAD)


def udp6(dst, dport, src="2001:db8:1::3", sport=40000):
    return bytes(Ether(**MAC) / IPv6(src=src, dst=dst) / UDP(sport=sport, dport=dport) / PAYLOAD)
