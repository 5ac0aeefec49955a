# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The verdict cache (include/xtc_vcache.bpf.h): a flow's verdict is remembered per CPU
under the classifier's generation, and must never outlive an apply that changed the
entries.  Every fixture test already runs each packet a second time from the cache
(testrun.py checks both answers agree); here the cache is shown to answer at all (a
poisoned slot changes the verdict), to be forgotten by an apply that changes rules in
any way (added, changed, removed, from shapes that stay or go), to survive an apply that
changes nothing, and to stay right under a flood of new flows, during which it stops
looking at all but for every 16th packet, until a flow hits again."""
import os
import random
import tempfile

import pytest

from cases import cfg, rule
from packets import tcp4, udp4, udp6
from testrun import DROP, PASS, verdict

HOOKS = ["xdp", "tc_ingress", "tc_egress"]
WEB = dict(dst="10.0.0.0/8", proto="tcp", dst_port="80", action="pass")
PKT = tcp4(dst="10.1.2.3", dport=80)


def lines_for(fx, d, steps):
    """steps: packets (hook, iface, pkt), raw lines, or ("@", config text)."""
    out = []
    for i, s in enumerate(steps):
        if isinstance(s, tuple) and s[0] == "@":
            path = os.path.join(d, f"step{i}.ini")
            with open(path, "w") as f:
                f.write(s[1])
            out.append(f"@{path}")
        else:
            out.append(s)
    return out


def run(fx, first, steps):
    with tempfile.TemporaryDirectory(prefix="xtc-vcache-") as d:
        return fx.run(first, lines_for(fx, d, steps))


def outcome(res):
    return [r["vcache"] if "vcache" in r else (verdict(r)[0], next(iter(r["rules"]), None))
            for r in res if not r.get("reload")]


@pytest.mark.parametrize("hook", HOOKS)
def test_cached_verdict_answers_and_apply_forgets_it(fx, hook):
    web = dict(WEB, interface="a0", direction="egress") if hook == "tc_egress" else WEB
    base = cfg(rule("web", **web))
    steps = [
        (hook, "a0", PKT),
        f"%vcache {hook}",              # the flow is there
        f"%vcache {hook} drop",         # poisoned: only the cache can say drop now
        (hook, "a0", PKT),
        ("@", base),                    # nothing changes: the cache stays
        (hook, "a0", PKT),
        ("@", cfg(rule("other", dst="192.0.2.1", action="drop"), rule("web", **web))),
        f"%vcache {hook}",              # a new generation: nothing live
        (hook, "a0", PKT),              # searched again: web
    ]
    got = outcome(run(fx, base, steps))
    assert got == [(PASS, "web"), 1, 1, (DROP, "web"), (DROP, "web"), 0, (PASS, "web")]


# Each step changes the rule set in a different way; the packet's cached verdict
# (poisoned to drop) must give way to what the new rules say.
CHANGES = [
    ("action changed", cfg(rule("web", **dict(WEB, action="drop"))), (DROP, "web")),
    ("rule removed, shape stays", cfg(rule("x", **dict(WEB, dst="11.0.0.0/8"))), (PASS, None)),
    ("rule removed, shape goes", cfg(rule("x", dst="11.0.0.1", action="drop")), (PASS, None)),
    ("earlier rule added", cfg(rule("first", dst="10.1.2.3", action="pass"),
                               rule("web", **WEB)), (PASS, "first")),
    ("port moved away", cfg(rule("web", **dict(WEB, dst_port="81"))), (PASS, None)),
]


@pytest.mark.parametrize("name,after,want", CHANGES, ids=[c[0] for c in CHANGES])
def test_stale_verdict_never_survives_an_apply(fx, name, after, want):
    base = cfg(rule("web", **WEB))
    steps = [("xdp", "a0", PKT), "%vcache xdp drop", ("xdp", "a0", PKT), ("@", after),
             ("xdp", "a0", PKT), ("tc_ingress", "a0", PKT)]
    got = outcome(run(fx, base, steps))
    assert got[0] == (PASS, "web") and got[1] == 1 and got[2] == (DROP, "web")
    assert got[3:] == [want, want]


def test_flood_of_new_flows_keeps_verdicts_right(fx):
    """More flows than slots, several hitting each slot: every answer is the search's
    (testrun.py compares each packet's cached run with its first)."""
    rnd = random.Random(11)
    rules = [rule("v4", dst="10.0.0.0/8", proto="udp", dst_port="53", action="drop"),
             rule("v6", dst="2001:db8:2::/48", proto="udp", action="drop")]
    pkts, want = [], []
    for i in range(600):
        src = f"172.{rnd.randrange(16, 32)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
        sport, port = rnd.randrange(1024, 65536), rnd.choice([53, 54])
        if i % 3:
            pkts.append(("xdp", "a0", udp4(src=src, dst="10.9.8.7", sport=sport, dport=port)))
            want.append((DROP, "v4") if port == 53 else (PASS, None))
        else:
            pkts.append(("xdp", "a0", udp6(src=f"2001:db8:9::{i:x}", sport=sport, dport=port)))
            want.append((DROP, "v6"))
    assert outcome(fx.run(cfg(*rules), pkts)) == want


def test_flood_stops_looking_until_a_flow_hits_again(fx):
    """Packets run once each ("%single"): 600 new flows make a streak of misses, after
    which only every 16th packet looks at the cache (and may fill a slot).  One flow
    repeated then finds its slot again, and the cache answers every packet."""
    rnd = random.Random(5)
    pkts = ["%single"]
    for _ in range(600):
        src = f"172.{rnd.randrange(16, 32)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
        pkts.append(("xdp", "a0", udp4(src=src, dst="10.9.8.7", sport=rnd.randrange(1024, 65536))))
    pkts.append("%vcache xdp")
    pkts += [("xdp", "a0", PKT)] * 64 + ["%vcache xdp drop", ("xdp", "a0", PKT)]
    got = outcome(fx.run(cfg(rule("dns", dst="10.0.0.0/8", proto="udp", action="drop"),
                             rule("web", **WEB)), pkts))
    assert got[:600] == [(DROP, "dns")] * 600
    # Without the streak rule about 450 of the 1024 slots would hold these flows.
    assert 64 <= got[600] < 200, got[600]
    assert got[601:665] == [(PASS, "web")] * 64
    assert got[666] == (DROP, "web")    # answered from the (poisoned) cache
