"""The XDP build without the TC handoff (xtc_xdp_nh), as kernels that refuse
packet-data changes in dispatcher slots run it: XDP drops and passes, TC
ingress (told by XTC_IF_XDP_NO_HANDOFF) redirects.  Every case of the corpus
goes through XDP and then, when XDP passes it, through TC ingress; together they
must give the case's verdict and count its rule exactly once, as the build with
the handoff does."""
import os

import pytest

from cases import CASES, cfg, rule
from packets import tcp4, udp4
from testrun import DROP, PASS, REDIRECT, Fixture, XDP_PASS, verdict

IF_XDP, IF_TC_INGRESS, IF_XDP_NO_HANDOFF = 0x01, 0x02, 0x20


@pytest.fixture(scope="module")
def nh():
    os.environ["XTC_TESTRUN_NO_HANDOFF"] = "1"
    f = Fixture()
    try:
        yield f
    finally:
        del os.environ["XTC_TESTRUN_NO_HANDOFF"]
        f.close()


@pytest.fixture(params=["idx", "hash"])
def lookup(request):
    """Where TC finds the record: its copy in xtc_iface_idx, or the hash alone."""
    return request.param


def records(fx, flags, lookup):
    return [f"%iface {i} {flags} {lookup}" for i in fx.ifindex.values()]


def through_both(fx, config, pkts, lookup, flags=IF_XDP | IF_TC_INGRESS | IF_XDP_NO_HANDOFF):
    """(xdp result, tc result) per packet: every packet is run through both hooks."""
    lines = records(fx, flags, lookup)
    for ifn, p in pkts:
        lines += [("xdp", ifn, p), ("tc_ingress", ifn, p)]
    res = fx.run(config, lines)
    assert len(res) == 2 * len(pkts), res
    return list(zip(res[0::2], res[1::2]))


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_split_between_xdp_and_tc(nh, case, lookup):
    config, pkts = CASES[case]
    pairs = through_both(nh, config, [(ifn, p) for p, ifn, _ in pkts], lookup)
    for (p, _, (cls, rule_name, _target)), (x, t) in zip(pkts, pairs):
        assert x.get("meta") is None, x        # never moves the metadata pointer
        assert x["retval"] in (1, 2), x        # XDP_DROP or XDP_PASS
        xcls = verdict(x)[0]
        if xcls == DROP:
            got, counted = DROP, x["rules"]
        else:
            got, counted = verdict(t)[0], {**x["rules"], **t["rules"]}
            # A rule seen by both hooks would be counted twice.
            assert not (set(x["rules"]) & set(t["rules"])), (x, t)
        assert got == cls, (x, t)
        if rule_name is None:
            assert counted == {}, (x, t)
        else:
            assert counted == {rule_name: [1, len(bytes(p))]}, (x, t)
        if cls == REDIRECT:
            # XDP left it to TC, uncounted; TC redirected and counted it.
            assert x["rules"] == {} and x["iface"] == {"seen": 1}, x
            assert t["iface"] == {"seen": 1, "redirects_ok": 1}, t
        elif xcls == PASS and cls == PASS:
            # XDP owned the pass: TC counts nothing for it.
            assert t["rules"] == {} and "no_match" not in t["iface"], t


def test_tc_trusts_xdp_without_the_flag(nh, lookup):
    """The record without XTC_IF_XDP_NO_HANDOFF: TC leaves everything to XDP, so a
    no-handoff XDP there would lose redirects; apply never writes that pairing."""
    config = cfg(rule("fwd", proto="udp", action="redirect", redirect="plain", target="t0"))
    (x, t), = through_both(nh, config, [("a0", udp4())], lookup, flags=IF_XDP | IF_TC_INGRESS)
    assert x["retval"] == XDP_PASS and x.get("meta") is None and x["rules"] == {}
    assert verdict(t)[0] == PASS and t["rules"] == {}, t


def test_tc_alone_without_xdp_record(nh, lookup):
    """No XDP on the interface: TC classifies and counts everything itself."""
    config = cfg(rule("p", proto="tcp", action="pass"), rule("d", proto="udp", action="drop"))
    (_, t1), (_, t2) = through_both(nh, config, [("a0", tcp4()), ("a0", udp4())], lookup,
                                    flags=IF_TC_INGRESS)
    assert verdict(t1)[0] == PASS and t1["rules"] == {"p": [1, len(bytes(tcp4()))]}
    assert verdict(t2)[0] == DROP and t2["rules"] == {"d": [1, len(bytes(udp4()))]}
