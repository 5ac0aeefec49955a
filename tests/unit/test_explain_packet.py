# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The PACKET of `xtc explain`: which forms are accepted and how they are
normalized, the frame that is built (checked with scapy), and the refusals,
both through the parser's driver (tests/unit/explain_packet_drv.c) and
through `xtc explain` itself.  A bad packet is a usage error (exit 2) that
is reported before xtc looks at the interface or at its state, so none of
this needs bpffs or an applied config."""
import json
import os
import subprocess

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Ether

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("XTC_BUILD") or os.path.join(ROOT, "build")
DRV = os.path.join(BUILD, "explain_packet_drv")
XTC = os.path.join(BUILD, "xtc")
NO_CONFIG = "/nonexistent/xtc-explain-test.ini"   # never read for a bad packet
MAC = "02:00:00:00:00:01"


@pytest.fixture(scope="module", autouse=True)
def built():
    for p in (DRV, XTC):
        assert os.access(p, os.X_OK), f"{p} missing: run `make`"


def drv(*words):
    r = subprocess.run([DRV, *words], capture_output=True, text=True)
    kind, first, second = r.stdout.rstrip("\n").split("\t")
    assert (r.returncode == 0) == (kind == "ok"), r
    return kind, first, second


def xtc(*args):
    return subprocess.run([XTC, "-c", NO_CONFIG, *args], capture_output=True, text=True)


ACCEPTED = [
    # (words, normalized)
    (["tcp", "10.0.0.1:4000", "->", "10.244.1.5:8080"], "tcp 10.0.0.1:4000 -> 10.244.1.5:8080"),
    (["tcp 10.0.0.1:4000 -> 10.244.1.5:8080"], "tcp 10.0.0.1:4000 -> 10.244.1.5:8080"),
    (["tcp 10.0.0.1:4000->10.244.1.5:8080"], "tcp 10.0.0.1:4000 -> 10.244.1.5:8080"),
    (["tcp", "10.0.0.1:4000", "->10.244.1.5:8080"], "tcp 10.0.0.1:4000 -> 10.244.1.5:8080"),
    (["  udp\t10.0.0.1   ->  10.0.0.2:53 "], "udp 10.0.0.1:0 -> 10.0.0.2:53"),
    (["TCP", "10.0.0.1:1", "->", "10.0.0.2:65535"], "tcp 10.0.0.1:1 -> 10.0.0.2:65535"),
    (["tcp4", "10.0.0.1:0", "->", "10.0.0.2:80"], "tcp 10.0.0.1:0 -> 10.0.0.2:80"),
    (["udp4", "10.0.0.1:7", "->", "10.0.0.2:9"], "udp 10.0.0.1:7 -> 10.0.0.2:9"),
    (["icmp", "10.0.0.1", "->", "10.0.0.2"], "icmp 10.0.0.1 -> 10.0.0.2"),
    (["icmp4", "10.0.0.1", "->", "10.0.0.2"], "icmp 10.0.0.1 -> 10.0.0.2"),
    (["tcp6", "[fd00::1]:80", "->", "[fd00::2]:443"], "tcp6 [fd00::1]:80 -> [fd00::2]:443"),
    (["tcp", "[fd00::1]:80", "->", "[fd00::2]:443"], "tcp6 [fd00::1]:80 -> [fd00::2]:443"),
    (["udp", "fd00::1", "->", "[FD00:0:0::2]:53"], "udp6 [fd00::1]:0 -> [fd00::2]:53"),
    (["udp6", "[fd00::1]", "->", "fd00::2"], "udp6 [fd00::1]:0 -> [fd00::2]:0"),
    (["icmp6", "fd00::1", "->", "[fd00::2]"], "icmp6 fd00::1 -> fd00::2"),
    (["icmpv6", "fd00::1", "->", "fd00::2"], "icmp6 fd00::1 -> fd00::2"),
    (["icmp", "2001:db8::1", "->", "::ffff:10.0.0.1"], "icmp6 2001:db8::1 -> ::ffff:10.0.0.1"),
]


@pytest.mark.parametrize("words,normalized", ACCEPTED, ids=[n for _, n in ACCEPTED])
def test_accepted(words, normalized):
    kind, text, frame = drv(*words)
    assert kind == "ok" and text == normalized
    # The normalized text parses to itself.
    assert drv(text)[1] == normalized


def frame_of(*words):
    kind, _, hexbytes = drv(*words)
    assert kind == "ok"
    return bytes.fromhex(hexbytes)


def same_after_recompute(pkt, *layers):
    """Checksums and lengths as scapy computes them from scratch."""
    fresh = pkt.copy()
    for layer, fields in layers:
        for f in fields:
            setattr(fresh[layer], f, None)
    return bytes(Ether(bytes(fresh))) == bytes(pkt)


def test_frame_tcp4():
    b = frame_of("tcp 10.0.0.1:4000 -> 10.244.1.5:8080")
    p = Ether(b)
    assert p.src == p.dst == MAC and p.type == 0x0800
    assert (p[IP].src, p[IP].dst, p[IP].ttl, p[IP].proto) == ("10.0.0.1", "10.244.1.5", 64, 6)
    assert p[IP].len == len(b) - 14 and p[IP].ihl == 5 and p[IP].frag == 0
    assert (p[TCP].sport, p[TCP].dport, str(p[TCP].flags), p[TCP].dataofs) == (4000, 8080, "S", 5)
    assert same_after_recompute(p, (IP, ("chksum", "len")), (TCP, ("chksum",)))


def test_frame_udp4_and_icmp4():
    p = Ether(frame_of("udp 192.168.1.1:53 -> 192.168.1.2:5353"))
    assert (p[UDP].sport, p[UDP].dport, p[UDP].len) == (53, 5353, 8)
    assert same_after_recompute(p, (IP, ("chksum", "len")), (UDP, ("chksum", "len")))
    p = Ether(frame_of("icmp 192.168.1.1 -> 192.168.1.2"))
    assert (p[ICMP].type, p[ICMP].code) == (8, 0) and p[IP].proto == 1
    assert same_after_recompute(p, (IP, ("chksum",)), (ICMP, ("chksum",)))


def test_frame_ipv6():
    b = frame_of("tcp6 [fd00::1]:1234 -> [fd00:1::2]:80")
    p = Ether(b)
    assert p.type == 0x86DD and p[IPv6].plen == len(b) - 54 and p[IPv6].hlim == 64
    assert (p[IPv6].src, p[IPv6].dst, p[IPv6].nh) == ("fd00::1", "fd00:1::2", 6)
    assert (p[TCP].sport, p[TCP].dport, str(p[TCP].flags)) == (1234, 80, "S")
    assert same_after_recompute(p, (IPv6, ("plen",)), (TCP, ("chksum",)))
    p = Ether(frame_of("udp6 fd00::1 -> [fd00::2]:53"))
    assert p[UDP].dport == 53 and p[UDP].sport == 0
    assert same_after_recompute(p, (UDP, ("chksum", "len")))
    p = Ether(frame_of("icmp6 fd00::1 -> fd00::2"))
    assert p[IPv6].nh == 58 and p.haslayer(ICMPv6EchoRequest)
    assert same_after_recompute(p, (ICMPv6EchoRequest, ("cksum",)))


REJECTED = [
    # (packet as one argument, words the reason must contain)
    ("tcp 10.0.0.1 -> ", "missing destination after '->'"),
    ("tcp 10.0.0.1 10.0.0.2", "no '->'"),
    ("tcp 10.0.0.1:4000 -", "redirection"),
    ("", "no '->'"),
    ("-> 10.0.0.2", "missing protocol"),
    ("tcpx 10.0.0.1 -> 10.0.0.2", "unknown protocol 'tcpx'"),
    ("tcp -> 10.0.0.2:80", "missing source"),
    ("tcp 10.0.0.1 extra -> 10.0.0.2", "unexpected 'extra'"),
    ("tcp 10.0.0.1 -> 10.0.0.2 extra", "unexpected 'extra' after the destination"),
    ("tcp 10.0.0.1 -> 10.0.0.2 -> 10.0.0.3", "second '->'"),
    ("tcp 10.0.0.300:1 -> 10.0.0.2:2", "'10.0.0.300' is not an IPv4 address"),
    ("tcp host.example:1 -> 10.0.0.2:2", "'host.example' is not an IPv4 address"),
    ("tcp 10.0.0 -> 10.0.0.2", "'10.0.0' is not an IPv4 or IPv6 address"),
    ("tcp 10.0.0.1:99999 -> 10.0.0.2:2", "bad port '99999'"),
    ("tcp 10.0.0.1:65536 -> 10.0.0.2:2", "bad port '65536'"),
    ("tcp 10.0.0.1:8x -> 10.0.0.2:2", "bad port '8x'"),
    ("tcp 10.0.0.1:-1 -> 10.0.0.2:2", "bad port '-1'"),
    ("tcp 10.0.0.1: -> 10.0.0.2:2", "missing port after ':' in '10.0.0.1:'"),
    ("tcp [fd00::1]: -> [fd00::2]:2", "missing port after ':' in '[fd00::1]:'"),
    ("tcp 10.0.0.1:1 -> [fd00::2]:2", "source '10.0.0.1:1' is IPv4 but destination '[fd00::2]:2' is IPv6"),
    ("tcp6 10.0.0.1:1 -> 10.0.0.2:2", "'tcp6' is IPv6, but '10.0.0.1:1' is an IPv4 address"),
    ("icmp4 fd00::1 -> fd00::2", "'icmp4' is IPv4, but 'fd00::1' is an IPv6 address"),
    ("icmp 10.0.0.1:5 -> 10.0.0.2", "icmp has no ports: '10.0.0.1:5'"),
    ("icmp6 fd00::1 -> [fd00::2]:7", "icmp6 has no ports: '[fd00::2]:7'"),
    ("tcp [10.0.0.1]:1 -> 10.0.0.2:2", "brackets are for IPv6"),
    ("tcp [fd00::1 -> [fd00::2]:2", "'[fd00::1' has '[' but no ']'"),
    ("tcp [fd00::1]x -> [fd00::2]:2", "unexpected 'x' after ']'"),
    ("tcp6 fd00::zz -> fd00::1", "'fd00::zz' is not an IPv6 address"),
    ("tcp fd00::1:80:1:2:3:4:5:6 -> fd00::2", "is not an IPv6 address (with a port: [ADDR]:PORT)"),
]


@pytest.mark.parametrize("packet,why", REJECTED, ids=[p or "empty" for p, _ in REJECTED])
def test_rejected_by_parser(packet, why):
    kind, text, reason = drv(packet)
    assert kind == "error" and text == packet
    assert why in reason, reason


@pytest.mark.parametrize("packet,why", REJECTED[:12] + REJECTED[-6:])
def test_rejected_by_xtc(packet, why):
    """Exit 2 and `xtc: explain: bad packet '...': reason`, before anything
    else is looked at: the interface does not exist and the config file is
    not there either."""
    # A packet that starts with '-' would be an option: "--" ends them.
    r = xtc("explain", "nosuchif0", *(["--"] if packet.startswith("-") else []), packet)
    assert r.returncode == 2, r
    assert r.stdout == ""
    assert r.stderr.startswith(f"xtc: explain: bad packet '{packet}': "), r.stderr
    assert why in r.stderr


def test_rejected_words_quoted_back_as_given():
    """Several arguments are quoted back joined with spaces, as they were typed."""
    r = xtc("explain", "nosuchif0", "tcp", "10.0.0.1:4000", "->")
    assert r.returncode == 2
    assert r.stderr == ("xtc: explain: bad packet 'tcp 10.0.0.1:4000 ->': missing destination "
                        "after '->'\n")


def test_rejected_json():
    r = xtc("--json", "explain", "nosuchif0", "udp 10.0.0.1:1 -> 10.0.0.300:2")
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert doc["schema"] == 1
    assert doc["error"]["message"] == ("explain: bad packet 'udp 10.0.0.1:1 -> 10.0.0.300:2': "
                                       "'10.0.0.300' is not an IPv4 address")


def test_good_packet_then_the_interface():
    """A good packet gets past the parser: then the interface is what is missing."""
    r = xtc("explain", "nosuchif0", "tcp", "10.0.0.1:4000", "->", "10.244.1.5:8080")
    assert r.returncode == 1, r
    assert r.stderr == "xtc: explain: nosuchif0: no such interface\n"


def test_usage():
    r = xtc("explain", "lo")
    assert r.returncode == 2 and "missing arguments" in r.stderr
    r = xtc("explain", "--prometheus", "lo", "tcp 1.1.1.1 -> 2.2.2.2")
    assert r.returncode == 2 and "not an option of explain" in r.stderr
    r = xtc("help", "explain")
    assert r.returncode == 0 and "[--egress] IFACE PACKET" in r.stdout
