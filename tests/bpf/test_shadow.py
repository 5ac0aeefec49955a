"""Shadowed-rule warnings against the datapath: every rule that `xtc check` says can
never match gets packets from all over its match space, and the real classifier must
give none of them to it.  Random rule sets with a few prefixes, ports, sets, protocols
and interfaces, so that rules often cover each other; and random rule sets made of
rules cut into pieces (halves of a prefix, of a family, of a port range, the elements
of a set), so that several earlier rules together cover a later one, now and then
with a gap left open."""
import ipaddress
import random
import re

import pytest
from scapy.all import IP, Ether, IPv6, IPv6ExtHdrFragment, Raw

from cases import SETS, cfg, rule
from packets import MAC, icmp4, icmp6, tcp4, tcp6, udp4, udp6
from testrun import TESTRUN

XTC = TESTRUN.replace("xtc-testrun", "xtc")

PREFIXES = ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.168.1.0/24", "0.0.0.0/0",
            "2001:db8::/32", "2001:db8:1::/48", "::/0", "@blocked", "@pods"]
PORTS = ["80", "80-95", "0-65535", "443", "@web"]
SET_ELEMS = {
    "@blocked": ["10.0.0.0/8", "192.168.1.0/24", "2001:db8:1::/48"],
    "@pods": ["192.168.1.0/28", "2001:db8:2::/64"],
    "@web": ["80", "443", "8000-8080"],
    "@low-halves": ["10.0.0.0/9", "2001:db8::/33"],
    "@high-halves": ["10.128.0.0/9", "2001:db8:8000::/33"],
    "@low-ports": ["0-127", "256-511"],
    "@high-ports": ["128-255", "512-65535"],
}
UNION_SETS = "".join(f"[set {name[1:]}]\n" + "".join(f"{e}\n" for e in SET_ELEMS[name])
                     for name in ("@low-halves", "@high-halves", "@low-ports", "@high-ports"))


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


def elems(v):
    return SET_ELEMS.get(v, [v]) if v else []


def port_range(e):
    lo, _, hi = e.partition("-")
    return int(lo), int(hi or lo)


def seams(rules):
    """The edges of every rule's prefixes and port ranges, and the values just past
    them: where pieces meet, and so where a union that leaves a gap leaves it."""
    addrs, ports = set(), set()
    for _, kv in rules:
        for side in ("src", "dst"):
            for e in elems(kv.get(side)):
                n = ipaddress.ip_network(e)
                lo, hi = int(n.network_address), int(n.broadcast_address)
                addrs |= {(n.version, a) for a in (lo - 1, lo, hi, hi + 1)}
        for side in ("src_port", "dst_port"):
            for e in elems(kv.get(side)):
                lo, hi = port_range(e)
                ports |= {lo - 1, lo, hi, hi + 1}
    return sorted(addrs), sorted(ports)


def sample_addr(rnd, v, fam, seam=()):
    nets = [ipaddress.ip_network(e) for e in elems(v)] if v else \
        [ipaddress.ip_network("0.0.0.0/0" if fam == 4 else "::/0")]
    nets = [n for n in nets if n.version == fam]
    at = [a for f, a in seam if f == fam and any(
        int(n.network_address) <= a <= int(n.broadcast_address) for n in nets)]
    if at and rnd.random() < 0.5:
        return str(ipaddress.IPv6Address(rnd.choice(at)) if fam == 6 else
                   ipaddress.IPv4Address(rnd.choice(at)))
    n = rnd.choice(nets)
    # The edges too: a union that misses one address misses it at a seam.
    k = rnd.choice([0, n.num_addresses - 1, rnd.randrange(n.num_addresses)])
    return str(n.network_address + k)


def sample_port(rnd, v, seam=()):
    ranges = [port_range(e) for e in elems(v)] or [(0, 65535)]
    at = [p for p in seam if any(lo <= p <= hi for lo, hi in ranges)]
    if at and rnd.random() < 0.5:
        return rnd.choice(at)
    lo, hi = rnd.choice(ranges)
    return rnd.choice([lo, hi, rnd.randint(lo, hi)])


PROTO_NUM = {"tcp": 6, "udp": 17, "47": 47}


def sample_packet(rnd, kv, seam=((), ())):
    """A packet that rule kv matches, anywhere in its match space, often at one of
    the seams: with no proto any protocol, ICMP too; with no ports a non-first
    fragment now and then, which has none."""
    fams = {4, 6}
    for side in ("src", "dst"):
        if side in kv:
            fams &= families(kv[side])
    fam = rnd.choice(sorted(fams))
    src = sample_addr(rnd, kv.get("src"), fam, seam[0])
    dst = sample_addr(rnd, kv.get("dst"), fam, seam[0])
    proto = kv.get("proto") or rnd.choice(["tcp", "udp", "47", "icmp"])
    sport = sample_port(rnd, kv.get("src_port"), seam[1])
    dport = sample_port(rnd, kv.get("dst_port"), seam[1])
    ports = "src_port" in kv or "dst_port" in kv
    if proto == "icmp":
        pkt = icmp4(src=src, dst=dst) if fam == 4 else icmp6(src=src, dst=dst)
    elif not ports and rnd.random() < 0.25:
        nh = PROTO_NUM[proto]
        l3 = IP(src=src, dst=dst, proto=nh, frag=8) if fam == 4 else \
            IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(m=0, offset=8, nh=nh)
        pkt = Ether(**MAC) / l3 / Raw(b"f" * 24)
    elif proto == "47":
        l3 = IP(src=src, dst=dst, proto=47) if fam == 4 else IPv6(src=src, dst=dst, nh=47)
        pkt = Ether(**MAC) / l3 / Raw(b"g" * 16)
    else:
        make = {("tcp", 4): tcp4, ("tcp", 6): tcp6, ("udp", 4): udp4, ("udp", 6): udp6}
        pkt = make[(proto, fam)](src=src, dst=dst, sport=sport, dport=dport)
    iface = kv.get("interface")
    return iface if iface not in (None, "*") else rnd.choice(["a0", "a1"]), pkt


SHADOW = re.compile(r"\[rule (\S+)\] can never match: (.*) (?:matches|together match) "
                    r"every packet it would")
NAMED = re.compile(r"\[rule (\S+)\] at \S+:\d+")
MORE = re.compile(r" and (\d+) more$")


def shadowed_rules(fx, tmp_path, rules, config):
    """{shadowed rule: [the earlier rules the warning names]}, checking the names."""
    path = tmp_path / "shadow.ini"
    path.write_text(config)
    r = fx.ns.run(XTC, "-c", str(path), "check", check=False)
    if r.returncode and "distinct match shape" in r.stderr:
        return None         # too many shapes for the classifier: make another
    assert r.returncode == 0, r.stderr
    order = [name for name, _ in rules]
    shadowed = {}
    for name, by in SHADOW.findall(r.stderr):
        named = NAMED.findall(by)
        more = MORE.search(by)
        # Up to four named in full, else three and "and N more" (N >= 2).
        assert 1 <= len(named) <= 4 and (not more or (len(named) == 3 and
                                                      int(more.group(1)) >= 2)), by
        assert all(order.index(n) < order.index(name) for n in named), by
        assert named == sorted(named, key=order.index), by
        shadowed[name] = named + [None] * int(more.group(1) if more else 0)
    return shadowed


def assert_never_match(fx, rnd, rules, config, shadowed, per_rule=25):
    pkts, seam = [], seams(rules)
    for name, kv in rules:
        if name in shadowed:
            pkts += [("xdp",) + sample_packet(rnd, kv, seam) for _ in range(per_rule)]
    res = fx.run(config, pkts)
    assert len(res) == len(pkts)
    for (_, ifname, pkt), got in zip(pkts, res):
        hit = set(got["rules"]) & set(shadowed)
        assert not hit, (f"{hit} matched {ifname} {pkt.summary()}, but check says "
                         f"{ {h: shadowed[h] for h in hit} } covers it")


@pytest.mark.parametrize("seed", range(6))
def test_shadowed_rules_never_match(fx, tmp_path, seed):
    rnd = random.Random(seed)
    rules = [r for r in (random_rule(rnd, i) for i in range(30)) if valid(r[1])]
    config = cfg(*(rule(name, **kv) for name, kv in rules), extra=SETS)
    shadowed = shadowed_rules(fx, tmp_path, rules, config)
    assert shadowed, "no shadowed rules: the generator should make some"
    assert_never_match(fx, rnd, rules, config, shadowed)


# ---- unions ----------------------------------------------------------------

U_PREFIXES = [None, "10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9", "2001:db8::/32",
              "2001:db8::/33", "0.0.0.0/0", "::/0", "@low-halves", "@high-halves",
              "192.168.1.0/24"]
U_PORTS = [None, "0-65535", "0-1023", "1024-65535", "80-95", "@low-ports", "@high-ports"]
# Port cuts on block edges keep the rules within the classifier's 64 match shapes.
PORT_CUTS = [79, 87, 95, 127, 255, 511, 1023, 4095, 32767]


def prefix_pieces(rnd, v):
    """Values that together make the address side v (None: every address)."""
    if v is None:
        return rnd.choice([["0.0.0.0/1", "128.0.0.0/1", "::/0"],
                           ["0.0.0.0/0", "::/1", "8000::/1"], ["0.0.0.0/0", "::/0"]])
    if v.startswith("@"):
        return list(SET_ELEMS[v])
    net = ipaddress.ip_network(v)
    cut = min(rnd.choice([1, 1, 2]), net.max_prefixlen - net.prefixlen)
    pieces = [str(n) for n in net.subnets(cut)]
    if v in ("10.0.0.0/8", "2001:db8::/32") and rnd.random() < 0.4:
        pieces = ["@low-halves", "@high-halves"]      # sets of both families
    return pieces


def port_pieces(rnd, v):
    """Values that together make the port side v (None: every port)."""
    if v and v.startswith("@"):
        return list(SET_ELEMS[v])
    if v in ("0-65535", None) and rnd.random() < 0.3:
        return ["@low-ports", "@high-ports"]
    lo, _, hi = (v or "0-65535").partition("-")
    lo, hi = int(lo), int(hi or lo)
    if lo == hi:
        return [str(lo)]
    inside = [c for c in PORT_CUTS if lo <= c < hi] or [lo]
    cuts = sorted(rnd.sample(inside, min(rnd.choice([1, 2]), len(inside))))
    edges = [lo] + [c + 1 for c in cuts] + [hi + 1]
    return [f"{a}-{b - 1}" if b - 1 > a else str(a) for a, b in zip(edges, edges[1:])]


def union_group(rnd):
    """A rule, and pieces that together cover it: the rule cut along one field, each
    piece maybe wider in another (no proto, no ports, interface = *, no address),
    now and then one narrower (a gap; the rule may still be covered, or not)."""
    target = {}
    if rnd.random() < 0.4:
        target["interface"] = rnd.choice(["a0", "*"])
    for side in ("src", "dst"):
        v = rnd.choice(U_PREFIXES)
        if v:
            target[side] = v
    proto = rnd.choice([None, "tcp", "udp", "47"])
    if proto:
        target["proto"] = proto
    cuts = ["src", "dst"]
    if proto in ("tcp", "udp"):
        side = rnd.choice(["src_port", "dst_port"])
        v = rnd.choice(U_PORTS)
        if v:
            target[side] = v
        cuts.append(side)
    cut = rnd.choice(cuts)
    values = port_pieces(rnd, target.get(cut)) if "port" in cut else \
        prefix_pieces(rnd, target.get(cut))
    pieces = []
    for v in values:
        kv = dict(target, **{cut: v})
        widen = rnd.choice([None, "interface", "proto", "ports", "other"])
        if widen == "interface" and "interface" in kv:
            kv["interface"] = "*"
        elif widen in ("proto", "ports") and "port" not in cut:
            kv.pop("src_port", None)
            kv.pop("dst_port", None)
            if widen == "proto":
                kv.pop("proto", None)
        elif widen == "other" and "port" not in cut:
            kv.pop("dst" if cut == "src" else "src", None)
        pieces.append(kv)
    if rnd.random() < 0.4:
        kv = rnd.choice(pieces)
        lo, _, hi = kv.get(cut, "@").partition("-")
        edge = bool(lo.isdigit() and hi and int(lo) < int(hi))
        gap = rnd.choice(["drop", "narrow"] + ["edge"] * 2 * edge)
        if gap == "drop" and len(pieces) > 1:
            pieces.remove(kv)
        elif gap == "edge":
            kv[cut] = rnd.choice([f"{lo}-{int(hi) - 1}", f"{int(lo) + 1}-{hi}"])   # a port short
        elif "proto" not in kv:
            kv["proto"] = rnd.choice(["tcp", "47"])
        elif kv["proto"] in ("tcp", "udp") and "dst_port" not in kv:
            kv["dst_port"] = "0-65535"                 # first fragments only
        else:
            kv["interface"] = "a1"
    # The covered rule itself, sometimes narrower than what was cut.
    if rnd.random() < 0.3 and target.get("proto") in ("tcp", "udp") and "dst_port" not in target:
        target["dst_port"] = rnd.choice(["53", "80-95", "1023"])
    for kv in pieces + [target]:
        kv["action"] = rnd.choice(["drop", "pass"])
    return pieces, target


def union_rules(rnd):
    """Groups of pieces and the rule they cover, in random places among random rules:
    the pieces of a group before its rule."""
    seq = [kv for _, kv in (random_rule(rnd, i) for i in range(6))]
    for kv in seq:
        # Rules of every address would cover most groups alone.
        if "src" not in kv and "dst" not in kv:
            kv["dst"] = rnd.choice(["192.168.1.0/24", "10.1.0.0/16", "2001:db8:1::/48"])
    for _ in range(7):
        pieces, target = union_group(rnd)
        at = []
        for kv in pieces:
            i = rnd.randint(0, len(seq))
            seq.insert(i, kv)
            at = [j + (j >= i) for j in at] + [i]
        seq.insert(rnd.randint(max(at) + 1, len(seq)), target)
    return [(f"u{i}", kv) for i, kv in enumerate(seq) if valid(kv)]


def union_case(fx, tmp_path, rnd):
    """A generated rule set with unions that the classifier can hold, what check says
    shadows what, and its config."""
    for _ in range(20):
        rules = union_rules(rnd)
        config = cfg(*(rule(name, **kv) for name, kv in rules), extra=SETS + UNION_SETS)
        shadowed = shadowed_rules(fx, tmp_path, rules, config)
        if shadowed is not None:
            return rules, config, shadowed
    pytest.fail("every rule set needed more match shapes than the classifier has")


@pytest.mark.parametrize("seed", range(12))
def test_union_shadowed_rules_never_match(fx, tmp_path, seed):
    rnd = random.Random(1000 + seed)
    rules, config, shadowed = union_case(fx, tmp_path, rnd)
    assert any(len(by) > 1 for by in shadowed.values()), \
        f"no rule covered by a union: the generator should make some {shadowed}"
    assert_never_match(fx, rnd, rules, config, shadowed, per_rule=40)


def test_generator_finds_unshadowed_matches(fx):
    """The sampler is sound: a rule nobody covers does get its own packets."""
    config = cfg(rule("only", src="@blocked", proto="tcp", dst_port="@web", action="drop"),
                 extra=SETS)
    rnd = random.Random(7)
    kv = {"src": "@blocked", "proto": "tcp", "dst_port": "@web"}
    pkts = [("xdp",) + sample_packet(rnd, kv) for _ in range(30)]
    res = fx.run(config, pkts)
    assert all(list(r["rules"]) == ["only"] for r in res), res


# ---- exactness ---------------------------------------------------------------
#
# The packets above show that check never names a rule the classifier would give
# packets to.  That it misses none is shown against a slow model written here
# from the classifier's rules: each rule as boxes (family, ports read, proto, src
# and dst port, src and dst address), every earlier rule in scope taken out of
# the later one's, no cleverness.

def model_boxes(kv):
    proto = kv.get("proto")
    assert proto in (None, "tcp", "udp", "47"), "icmp would need the family it implies"
    p = None if proto is None else {"tcp": 6, "udp": 17}.get(proto) or int(proto)
    ports = "src_port" in kv or "dst_port" in kv

    def addrs(v):
        nets = [ipaddress.ip_network(e) for e in elems(v)] or \
            [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
        return [(n.version, int(n.network_address), int(n.broadcast_address)) for n in nets]

    def ports_of(v):
        return [port_range(e) for e in elems(v)] or [(0, 65535)]

    return [[(sf, sf), (int(ports), 1), (p, p) if p else (0, 255), sp, dp, (slo, shi), (dlo, dhi)]
            for sf, slo, shi in addrs(kv.get("src")) for df, dlo, dhi in addrs(kv.get("dst"))
            if sf == df
            for sp in ports_of(kv.get("src_port")) for dp in ports_of(kv.get("dst_port"))]


def box_minus(r, a):
    if any(r[d][0] > a[d][1] or a[d][0] > r[d][1] for d in range(len(r))):
        return [r]
    out, r = [], list(r)
    for d in range(len(r)):
        if r[d][0] < a[d][0]:
            out.append(r[:d] + [(r[d][0], a[d][0] - 1)] + r[d + 1:])
            r[d] = (a[d][0], r[d][1])
        if r[d][1] > a[d][1]:
            out.append(r[:d] + [(a[d][1] + 1, r[d][1])] + r[d + 1:])
            r[d] = (r[d][0], a[d][1])
    return out


# Ports are read from TCP and UDP only: no packet has them with another protocol.
NO_SUCH_PACKETS = [[(4, 6), (1, 1), protos, (0, 65535), (0, 65535), (0, 2**128 - 1),
                    (0, 2**128 - 1)] for protos in ((0, 5), (7, 16), (18, 255))]


def model_shadowed(rules):
    found = set()
    for i, (name, b) in enumerate(rules):
        left = model_boxes(b)
        for a in NO_SUCH_PACKETS + [a for _, kv in rules[:i]
                                    if kv.get("interface", "*") in ("*", b.get("interface", "*"))
                                    for a in model_boxes(kv)]:
            left = [x for r in left for x in box_minus(r, a)]
        if not left:
            found.add(name)
    return found


@pytest.mark.parametrize("seed", range(40))
def test_warnings_are_exact(fx, tmp_path, seed):
    rnd = random.Random(2000 + seed)
    if seed % 4:
        rules, _, shadowed = union_case(fx, tmp_path, rnd)
    else:
        rules = [r for r in (random_rule(rnd, i) for i in range(30)) if valid(r[1])]
        shadowed = shadowed_rules(fx, tmp_path, rules, cfg(*(rule(name, **kv)
                                                              for name, kv in rules), extra=SETS))
    assert set(shadowed) == model_shadowed(rules)
