"""Named sets in the datapath beyond the corpus: the reverse = yes mirror of a rule with
sets swaps them, and a large set still matches every element."""
import ipaddress

import pytest

from cases import cfg, rule
from packets import tcp4, tcp6, udp4
from testrun import DROP, PASS, REDIRECT, verdict

HOOKS = ("xdp", "tc_ingress")


@pytest.mark.parametrize("hook", HOOKS)
def test_reverse_mirror_swaps_sets(fx, hook):
    sets = ("[set clients]\n10.1.0.0/16\n2001:db8:1::/48\n"
            "[set pods]\n192.168.1.0/24\n2001:db8:2::/64\n"
            "[set svc]\n80\n8443\n")
    config = cfg(rule("fwd", interface="a0", src="@clients", dst="@pods", proto="tcp",
                      dst_port="@svc", action="redirect", redirect="neigh", target="t0",
                      reverse="yes"),
                 extra="[interface t0]\n" + sets)
    pkts = [
        # The return path: from a pod's service port back to a client, arriving on t0.
        (hook, "t0", tcp4(src="192.168.1.5", dst="10.1.2.3", sport=8443, dport=40000)),
        (hook, "t0", tcp6(src="2001:db8:2::5", dst="2001:db8:1::3", sport=80, dport=40000)),
        # Not the return path: wrong port, wrong side, or only on a0.
        (hook, "t0", tcp4(src="192.168.1.5", dst="10.1.2.3", sport=22, dport=40000)),
        (hook, "t0", tcp4(src="10.1.2.3", dst="192.168.1.5", sport=40000, dport=80)),
        (hook, "a1", tcp4(src="192.168.1.5", dst="10.1.2.3", sport=80, dport=40000)),
        # The forward rule itself.
        (hook, "a0", tcp4(src="10.1.2.3", dst="192.168.1.5", sport=40000, dport=8443)),
    ]
    res = fx.run(config, pkts)
    assert [verdict(r)[0] for r in res] == [REDIRECT, REDIRECT, PASS, PASS, PASS, REDIRECT]
    assert [list(r["rules"]) for r in res] == [["fwd~reverse"], ["fwd~reverse"], [], [], [],
                                               ["fwd"]]
    if hook == "xdp":
        assert res[0]["meta"]["target_ifindex"] == fx.ifindex["a0"]
        assert res[5]["meta"]["target_ifindex"] == fx.ifindex["t0"]


def test_every_element_of_a_large_set(fx):
    """2,000 /32s and 500 /64s in one set: each element (and nothing beside them) matches."""
    v4 = [ipaddress.IPv4Address("172.16.0.0") + 2 * i for i in range(2000)]
    v6 = [ipaddress.IPv6Network(f"2001:db8:{i:x}::/64") for i in range(500)]
    config = cfg(rule("big", src="@big", action="drop"),
                 extra="[set big]\n" + "".join(f"{a}\n" for a in v4) +
                       "".join(f"{n}\n" for n in v6))
    pkts = [("xdp", "a0", tcp4(src=str(a))) for a in v4[::97]]
    pkts += [("xdp", "a0", tcp6(src=str(n[7]))) for n in v6[::41]]
    pkts += [("xdp", "a0", tcp4(src=str(a + 1))) for a in v4[::97]]
    pkts += [("xdp", "a0", udp4(src="172.16.15.160"))]
    res = fx.run(config, pkts)
    n_in = len(v4[::97]) + len(v6[::41])
    assert [verdict(r)[0] for r in res[:n_in]] == [DROP] * n_in
    assert [verdict(r)[0] for r in res[n_in:]] == [PASS] * (len(res) - n_in)
    assert all(r["rules"] == {"big": [1, r["rules"]["big"][1]]} for r in res[:n_in])
