"""BPF_PROG_TEST_RUN fixtures: every case through the real XDP and TC objects."""
import ipaddress

import pytest

from cases import CASES, truncation_packets, cfg, rule
from packets import tcp4, tcp6
from testrun import (ACT_REDIRECT, DROP, META_MAGIC, META_VERSION, MODE, PASS, REDIRECT,
                     TC_ACT_REDIRECT, XDP_PASS, check_refused, verdict)

HOOKS = ("xdp", "tc_ingress")


def check(fx, res, pkt, expect, hook):
    cls, rule_name, target = expect
    got_cls, got_target = verdict(res)
    assert got_cls == cls, res
    if rule_name is None:
        assert res["rules"] == {}, res
    else:
        assert res["rules"] == {rule_name: [1, len(bytes(pkt))]}, res
    st = res["iface"]
    assert st.get("seen") == 1, res
    if cls == DROP:
        assert st.get("dropped") == 1, res
    if rule_name is None:
        assert st.get("no_match", 0) + st.get("parse_errors", 0) == 1, res
    if cls == REDIRECT:
        if hook == "xdp":
            m = res["meta"]
            assert m["len"] == 20 and m["magic"] == META_MAGIC and m["version"] == META_VERSION
            assert m["action"] == ACT_REDIRECT and m["target_ifindex"] == fx.ifindex[target]
            assert m["origin_ifindex"] == fx.ifindex["a0"]
            assert st == {"seen": 1, "handoffs_sent": 1}, res
        else:
            assert st == {"seen": 1, "redirects_ok": 1}, res
    elif hook == "xdp":
        # adjust_meta is called for redirect verdicts only.
        assert res["meta"] is None, res


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_case(fx, case, hook):
    config, pkts = CASES[case]
    results = fx.run(config, [(hook, ifn, p) for p, ifn, _ in pkts])
    assert len(results) == len(pkts)
    for (p, _, expect), res in zip(pkts, results):
        check(fx, res, p, expect, hook)


@pytest.mark.parametrize("hook", HOOKS)
def test_redirect_modes_in_metadata(fx, hook):
    config, pkts = CASES["redirect_modes_fixed_target"]
    results = fx.run(config, [(hook, ifn, p) for p, ifn, _ in pkts])
    if hook == "xdp":
        assert [r["meta"]["mode"] for r in results] == [MODE["plain"], MODE["neigh"], MODE["peer"]]
        assert all(r["retval"] == XDP_PASS for r in results)
    else:
        assert all(r["retval"] == TC_ACT_REDIRECT for r in results)


@pytest.mark.parametrize("hook", HOOKS)
def test_truncation_at_every_boundary(fx, hook):
    trunc = truncation_packets()
    results = fx.run(cfg(rule("all", action="drop")), [f"{hook} {fx.ifindex['a0']} {b.hex()}" for _, b in trunc])
    assert len(results) == len(trunc)
    checked = 0
    for (name, frame), res in zip(trunc, results):
        if hook == "tc_ingress" and "error" in res:
            check_refused(res, frame)
            continue
        checked += 1
        assert verdict(res)[0] == PASS, (name, res)
        assert res["rules"] == {}, (name, res)
        assert res["iface"] == {"seen": 1, "parse_errors": 1}, (name, res)
    assert checked >= len(trunc) // 2


@pytest.mark.parametrize("fallback,expect", [("pass", PASS), ("drop", DROP)])
@pytest.mark.parametrize("hook", HOOKS)
def test_auto_target_unresolved_falls_back(fx, hook, fallback, expect):
    config = cfg(rule("auto", action="redirect", redirect="neigh", target="auto"),
                 extra=f"[global]\nredirect_fallback = {fallback}\n[static]\n10.9.0.0/16 = t0\n")
    res = fx.run(config, [(hook, "a0", tcp4(dst="192.168.1.1")), (hook, "a0", tcp6())])
    for r in res:
        assert verdict(r)[0] == expect, r
        assert r["rules"] == {"auto": [1, r["rules"]["auto"][1]]}
        assert r["iface"].get("redirects_failed") == 1, r
        assert r["meta"] is None, r


@pytest.mark.parametrize("fallback,expect", [("pass", PASS), ("drop", DROP)])
def test_tc_target_gone_falls_back(fx, fallback, expect):
    fx.ns.run("ip", "link", "add", "gone0", "type", "veth", "peer", "name", "gone1")
    config = cfg(rule("to-gone", action="redirect", redirect="plain", target="gone0"),
                 extra=f"[global]\nredirect_fallback = {fallback}\n")
    ifi = fx.ifindex["a0"]
    pkt = bytes(tcp4()).hex()
    res = fx.run(config, [f"tc_ingress {ifi} {pkt}", "!ip link del gone0", f"tc_ingress {ifi} {pkt}"])
    assert verdict(res[0])[0] == REDIRECT and res[0]["iface"]["redirects_ok"] == 1
    assert verdict(res[1])[0] == expect, res[1]
    assert res[1]["iface"].get("redirects_failed") == 1, res[1]
    assert res[1]["rules"] == {"to-gone": [1, len(bytes(tcp4()))]}


def test_egress_rules_only_at_egress(fx):
    config = cfg(rule("out", interface="a0", direction="egress", proto="tcp", action="drop"),
                 rule("in", interface="a0", proto="udp", action="drop"))
    from packets import udp4
    res = fx.run(config, [("tc_egress", "a0", tcp4()), ("tc_egress", "a0", udp4()),
                          ("tc_ingress", "a0", tcp4()), ("xdp", "a0", tcp4()),
                          ("xdp", "a0", udp4())])
    assert [verdict(r)[0] for r in res] == [DROP, PASS, PASS, PASS, DROP]
    assert res[0]["rules"] == {"out": [1, len(bytes(tcp4()))]}
    assert res[1]["rules"] == {} and res[2]["rules"] == {} and res[3]["rules"] == {}


def test_many_mask_shapes(fx):
    """Forty rules of different shapes; each packet must hit exactly its own rule."""
    rules, pkts = [], []
    for i in range(40):
        plen = 8 + (i % 25)
        # The network of 10.i.0.0/plen: host bits in a prefix are an error.
        net = ipaddress.ip_network(f"10.{i}.0.0/{min(plen, 16)}", strict=False)
        rules.append(rule(f"r{i}", src=str(net),
                          proto="tcp", dst_port=f"{1000 + i * 10}-{1000 + i * 10 + (i % 7)}",
                          action="drop" if i % 2 else "pass"))
        pkts.append((tcp4(src=f"10.{i}.0.9", dport=1000 + i * 10), i))
    res = fx.run(cfg(*rules), [("xdp", "a0", p) for p, _ in pkts] + [("xdp", "a0", tcp6())])
    for (p, i), r in zip(pkts, res):
        assert list(r["rules"]) == [f"r{i}"], r
        assert verdict(r)[0] == (DROP if i % 2 else PASS)
    assert res[-1]["rules"] == {}
