"""xtc explain's contract in the real objects (BPF_PROG_TEST_RUN): with the
explain block (XDP metadata, TC cb) a program answers in that block, counts
nothing and hands nothing off; the answer agrees with what the same packet
does as live traffic.  Without the block, or with a block whose second word
is wrong (stray bytes), nothing changes: the existing fixtures prove that."""
import pytest

from cases import CASES, cfg, rule
from packets import tcp4, tcp6, udp4
from testrun import (TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT, XDP_DROP, XDP_PASS,
                     check_refused)

EXPLAIN_DONE, EXPLAIN_CHECK, NO_RULE = 0x78746352, 0x78706C01, 0xFFFFFFFF
EV = dict(none=0, parse_err=1, no_match=2, passed=3, drop=4, handoff_sent=5, redirect_ok=6,
          redirect_failed=7)
F_MATCHED, F_DROP, F_REDIRECT, F_FALLBACK, F_HANDOFF = 1, 2, 4, 8, 16
ACT = {"pass": 0, "drop": 1, "redirect": 2}

# The xtc_iface_stats field each event counts in (besides seen).
EVENT_FIELD = {EV["parse_err"]: "parse_errors", EV["no_match"]: "no_match",
               EV["handoff_sent"]: "handoffs_sent", EV["redirect_ok"]: "redirects_ok",
               EV["redirect_failed"]: "redirects_failed"}


def uncounted(res):
    """An explain run: answered, and nothing moved or was created."""
    assert res["explain"]["magic"] == EXPLAIN_DONE and res["explain"]["check"] == EXPLAIN_CHECK, res
    assert res["rules"] == {} and res["iface"] == {}, f"explain counted: {res}"
    assert res["meta"] is None, f"explain wrote the XDP->TC handoff: {res}"
    return res["explain"]


def agrees(ex, live, hook):
    """The explain answer says what the live run did (and counted)."""
    counted = list(live["rules"])
    assert ([ex["rule"]] if ex["rule"] else []) == counted, (ex, live)
    assert (ex["rule_id"] == NO_RULE) == (not counted), (ex, live)
    assert bool(ex["flags"] & F_MATCHED) == bool(counted), (ex, live)
    field = EVENT_FIELD.get(ex["event"])
    want = {"seen": 1}
    if field:
        want[field] = 1
    if ex["flags"] & F_DROP:
        want["dropped"] = 1
    assert live["iface"] == want, (ex, live)
    if hook == "xdp":
        assert live["retval"] in (XDP_PASS, XDP_DROP)
        assert bool(ex["flags"] & F_DROP) == (live["retval"] == XDP_DROP), (ex, live)
        m = live["meta"]
        if ex["flags"] & F_HANDOFF:
            assert ex["event"] == EV["handoff_sent"] and ex["flags"] & F_REDIRECT, ex
            assert m and m["target_ifindex"] == ex["target_ifindex"] and m["mode"] == ex["mode"]
            assert m["rule_id"] == ex["rule_id"], (ex, m)
        else:
            assert m is None and not ex["flags"] & F_REDIRECT, (ex, live)
    else:
        rv = live["retval"]
        assert bool(ex["flags"] & F_DROP) == (rv == TC_ACT_SHOT), (ex, live)
        assert bool(ex["flags"] & F_REDIRECT) == (rv == TC_ACT_REDIRECT), (ex, live)
        assert rv in (TC_ACT_OK, TC_ACT_SHOT, TC_ACT_REDIRECT)
        assert not ex["flags"] & F_HANDOFF


def pairs(fx, config, hook, frames):
    """Each (frame, interface) run with explain first, then live:
    [(explain result, live result)]."""
    lines = []
    for b, ifname in frames:
        ifi = fx.ifindex[ifname]
        lines += [f"{hook}+explain {ifi} {b.hex()}", f"{hook} {ifi} {b.hex()}"]
    res = fx.run(config, lines)
    assert len(res) == len(lines)
    return [(res[i], res[i + 1]) for i in range(0, len(res), 2)]


@pytest.mark.parametrize("hook", ("xdp", "tc_ingress"))
@pytest.mark.parametrize("case", sorted(CASES))
def test_explain_agrees_with_live(fx, case, hook):
    config, pkts = CASES[case]
    frames = [(bytes(p), ifn) for p, ifn, _ in pkts]
    checked = 0
    for (frame, ifn), (e, live), (_, _, expect) in zip(frames, pairs(fx, config, hook, frames),
                                                         pkts):
        if "error" in live:
            check_refused(live, frame)
            assert "error" in e
            continue
        ex = uncounted(e)
        assert e["retval"] == live["retval"], (e, live)
        # The live run counts the packet that the explain run before it did not.
        assert live["iface"].get("seen") == 1, live
        agrees(ex, live, hook)
        if expect[1] is not None:
            assert ex["rule"] == expect[1], (ex, expect)
        if expect[2] is not None:
            assert ex["target_ifindex"] == fx.ifindex[expect[2]], (ex, expect)
        checked += 1
    assert checked


@pytest.mark.parametrize("hook", ("xdp", "tc_ingress"))
def test_explain_redirect_fields(fx, hook):
    config, pkts = CASES["redirect_modes_fixed_target"]
    res = fx.run(config, [(f"{hook}+explain", ifn, p) for p, ifn, _ in pkts])
    got = [(uncounted(r)["rule"], r["explain"]["action"], r["explain"]["mode"],
            r["explain"]["target_ifindex"]) for r in res]
    assert got == [("pl", ACT["redirect"], 0, fx.ifindex["t0"]),
                   ("ne", ACT["redirect"], 1, fx.ifindex["t1"]),
                   ("pe", ACT["redirect"], 2, fx.ifindex["p0"])]
    for r in res:
        want = F_MATCHED | F_REDIRECT | (F_HANDOFF if hook == "xdp" else 0)
        assert r["explain"]["flags"] == want, r
        assert r["explain"]["event"] == EV["handoff_sent" if hook == "xdp" else "redirect_ok"]
        assert r["retval"] == (XDP_PASS if hook == "xdp" else TC_ACT_REDIRECT)


@pytest.mark.parametrize("fallback", ["pass", "drop"])
@pytest.mark.parametrize("hook", ("xdp", "tc_ingress"))
def test_explain_unresolved_auto_falls_back(fx, hook, fallback):
    config = cfg(rule("auto", action="redirect", redirect="neigh", target="auto"),
                 extra=f"[global]\nredirect_fallback = {fallback}\n[static]\n10.9.0.0/16 = t0\n")
    res = fx.run(config, [(f"{hook}+explain", "a0", tcp4(dst="192.168.1.1")),
                          (f"{hook}+explain", "a0", tcp4(dst="10.9.3.3"))])
    ex = uncounted(res[0])
    drop = F_DROP if fallback == "drop" else 0
    assert ex["flags"] == F_MATCHED | F_FALLBACK | drop, ex
    assert ex["event"] == EV["redirect_failed"] and ex["target_ifindex"] == 0
    assert ex["rule"] == "auto" and ex["action"] == ACT["redirect"] and ex["mode"] == 1
    ok = uncounted(res[1])
    assert ok["target_ifindex"] == fx.ifindex["t0"] and ok["flags"] & F_REDIRECT, ok


@pytest.mark.parametrize("fallback", ["pass", "drop"])
@pytest.mark.parametrize("hook", ("xdp", "tc_ingress"))
def test_explain_target_gone(fx, hook, fallback):
    """A fixed target deleted after apply: TC falls back, and XDP's answer says
    what TC ingress will do with the handoff (the same bpf_check_mtu test)."""
    fx.ns.run("ip", "link", "add", "gone0", "type", "veth", "peer", "name", "gone1")
    gone = fx.ns.ifindex("gone0")
    config = cfg(rule("to-gone", action="redirect", redirect="plain", target="gone0"),
                 extra=f"[global]\nredirect_fallback = {fallback}\n")
    ifi, pkt = fx.ifindex["a0"], bytes(tcp4()).hex()
    res = fx.run(config, [f"{hook}+explain {ifi} {pkt}", "!ip link del gone0",
                          f"{hook}+explain {ifi} {pkt}", f"tc_ingress {ifi} {pkt}"])
    before, after, live_tc = uncounted(res[0]), uncounted(res[1]), res[2]
    assert before["flags"] & F_REDIRECT and before["target_ifindex"] == gone, before
    drop = F_DROP if fallback == "drop" else 0
    assert after["target_ifindex"] == gone
    if hook == "xdp":
        assert after["flags"] == F_MATCHED | F_HANDOFF | F_FALLBACK | drop, after
        assert res[1]["retval"] == XDP_PASS     # XDP itself hands it on; TC falls back
    else:
        assert after["flags"] == F_MATCHED | F_FALLBACK | drop, after
        assert after["event"] == EV["redirect_failed"]
    # What TC ingress really does with that packet now.
    assert live_tc["iface"].get("redirects_failed") == 1
    assert (live_tc["retval"] == TC_ACT_SHOT) == (fallback == "drop")


def test_explain_egress(fx):
    config = cfg(rule("out", interface="a0", direction="egress", proto="tcp", action="drop"),
                 rule("in", interface="a0", proto="udp", action="drop"))
    res = fx.run(config, [("tc_egress+explain", "a0", tcp4()), ("tc_egress+explain", "a0", udp4()),
                          ("tc_ingress+explain", "a0", tcp4()), ("tc_egress", "a0", tcp4())])
    out, other, ingress = (uncounted(r) for r in res[:3])
    assert out["rule"] == "out" and out["flags"] == F_MATCHED | F_DROP
    assert res[0]["retval"] == TC_ACT_SHOT
    assert other["rule"] is None and other["flags"] == 0 and other["event"] == EV["no_match"]
    assert ingress["rule"] is None and res[2]["retval"] == TC_ACT_OK
    assert res[3]["rules"] == {"out": [1, len(bytes(tcp4()))]}
    assert res[3]["iface"].get("seen") == 1


@pytest.mark.parametrize("hook", ("xdp", "tc_ingress", "tc_egress"))
def test_stray_block_is_live_traffic(fx, hook):
    """The magic word alone (the second word wrong) is not a request: counted,
    same verdict as without it."""
    config = cfg(rule("d", proto="udp", action="drop"), rule("p", proto="tcp", action="pass"))
    ifi = fx.ifindex["a0"]
    frames = [bytes(udp4()), bytes(tcp4()), bytes(tcp6(dport=1))]
    lines = []
    for b in frames:
        lines += [f"{hook}+stray {ifi} {b.hex()}", f"{hook} {ifi} {b.hex()}"]
    res = fx.run(config, lines)
    for i in range(0, len(res), 2):
        stray, live = res[i], res[i + 1]
        assert stray["explain"]["magic"] != EXPLAIN_DONE, stray
        assert stray["retval"] == live["retval"], (stray, live)
        assert stray["rules"] == live["rules"], (stray, live)
        assert stray["iface"] == live["iface"], (stray, live)
