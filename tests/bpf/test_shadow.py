"""Shadowed-rule warnings against the datapath: every rule that `xtc check` says can
never match gets packets from all over its match space, and the real classifier must
give none of them to it.  Random rule sets with a few prefixes, ports, sets, protocols
and interfaces, so that rules often cover each other."""
import ipaddress
import random
import re

import pytest
from scapy.all import IP, Ether, IPv6, Raw

from cases import SETS, cfg, rule
from packets import MAC, tcp4, tcp6, udp4, udp6
from testrun import TESTRUN, Fixture

XTC = TESTRUN.replace("xtc-testrun", "xtc")

PREFIXES = ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.168.1.0/24", "0.0.0.0/0",
            "2001:db8::/32", "2001:db8:1::/48", "::/0", "@blocked", "@pods"]
PORTS = ["80", "80-95", "0-65535", "443", "@web"]
SET_ELEMS = {
    "@blocked": ["10.0.0.0/8", "192.168.1.0/24", "2001:db8:1::/48"],
    "@pods": ["192.168.1.0/28", "2001:db8:2::/64"],
    "@web": ["80", "443", "8000-8080"],
}


def random_rule(rnd, i):
    kv = {}
    if rnd.random() < 0.3:
        kv["interface"] = rnd.choice(["a0", "a1"])
    for side in ("src", "dst"):
        if rnd.random() < 0.5:
            kv[side] = rnd.choice(PREFIXES)
    proto = rnd.choice([None, "tcp", "udp", "47"])
    if proto:
        kv["proto"] = proto
    if proto in ("tcp", "udp"):
        for side in ("src_port", "dst_port"):
            if rnd.random() < 0.4:
                kv[side] = rnd.choice(PORTS)
    kv["action"] = rnd.choice(["drop", "pass"])
    return (f"r{i}", kv)


def families(v):
    elems = SET_ELEMS.get(v, [v])
    return {ipaddress.ip_network(e).version for e in elems}


def valid(kv):
    """Rules that check would refuse (src and dst with no family in common) are left out."""
    fams = {4, 6}
    for side in ("src", "dst"):
        if side in kv:
            fams &= families(kv[side])
    return bool(fams)


def sample_addr(rnd, v, fam):
    nets = [ipaddress.ip_network(e) for e in SET_ELEMS.get(v, [v])] if v else \
        [ipaddress.ip_network("0.0.0.0/0" if fam == 4 else "::/0")]
    nets = [n for n in nets if n.version == fam]
    n = rnd.choice(nets)
    return str(n.network_address + rnd.randrange(n.num_addresses))


def sample_port(rnd, v):
    if not v:
        return rnd.randrange(65536)
    lo, _, hi = rnd.choice(SET_ELEMS.get(v, [v])).partition("-")
    return rnd.randint(int(lo), int(hi or lo))


def sample_packet(rnd, kv):
    """A packet that rule kv matches, anywhere in its match space."""
    fams = {4, 6}
    for side in ("src", "dst"):
        if side in kv:
            fams &= families(kv[side])
    fam = rnd.choice(sorted(fams))
    src, dst = sample_addr(rnd, kv.get("src"), fam), sample_addr(rnd, kv.get("dst"), fam)
    proto = kv.get("proto") or rnd.choice(["tcp", "udp", "47"])
    sport, dport = sample_port(rnd, kv.get("src_port")), sample_port(rnd, kv.get("dst_port"))
    if proto == "47":
        l3 = IP(src=src, dst=dst, proto=47) if fam == 4 else IPv6(src=src, dst=dst, nh=47)
        pkt = Ether(**MAC) / l3 / Raw(b"g" * 16)
    else:
        make = {("tcp", 4): tcp4, ("tcp", 6): tcp6, ("udp", 4): udp4, ("udp", 6): udp6}
        pkt = make[(proto, fam)](src=src, dst=dst, sport=sport, dport=dport)
    return kv.get("interface") or rnd.choice(["a0", "a1"]), pkt


@pytest.fixture(scope="module")
def fx():
    f = Fixture()
    yield f
    f.close()


SHADOW = re.compile(r"\[rule (\S+)\] can never match: \[rule (\S+)\] at ")


@pytest.mark.parametrize("seed", range(6))
def test_shadowed_rules_never_match(fx, tmp_path, seed):
    rnd = random.Random(seed)
    rules = [r for r in (random_rule(rnd, i) for i in range(30)) if valid(r[1])]
    config = cfg(*(rule(name, **kv) for name, kv in rules), extra=SETS)
    path = tmp_path / "shadow.ini"
    path.write_text(config)
    r = fx.ns.run(XTC, "-c", str(path), "check", check=False)
    assert r.returncode == 0, r.stderr
    shadowed = dict(SHADOW.findall(r.stderr))
    assert shadowed, "no shadowed rules: the generator should make some"
    pkts = []
    for name, kv in rules:
        if name in shadowed:
            pkts += [("xdp",) + sample_packet(rnd, kv) for _ in range(25)]
    res = fx.run(config, pkts)
    assert len(res) == len(pkts)
    for (_, ifname, pkt), got in zip(pkts, res):
        hit = set(got["rules"]) & set(shadowed)
        assert not hit, (f"{hit} matched {ifname} {pkt.summary()}, but check says "
                         f"{ {h: shadowed[h] for h in hit} } covers it")


def test_generator_finds_unshadowed_matches(fx):
    """The sampler is sound: a rule nobody covers does get its own packets."""
    config = cfg(rule("only", src="@blocked", proto="tcp", dst_port="@web", action="drop"),
                 extra=SETS)
    rnd = random.Random(7)
    kv = {"src": "@blocked", "proto": "tcp", "dst_port": "@web"}
    pkts = [("xdp",) + sample_packet(rnd, kv) for _ in range(30)]
    res = fx.run(config, pkts)
    assert all(list(r["rules"]) == ["only"] for r in res), res
