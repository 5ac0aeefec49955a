# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""status and stats: JSON that parses, Prometheus text that is valid exposition
and agrees with the JSON, and a status that matches what the kernel has."""
import json

import pytest

from lib import xtc_cli as X
from lib.netns import sh


@pytest.fixture
def loaded(env):
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: {"xdp_priority": 42, "tc_ingress": "on"},
                      b.name: {"xdp": "off", "tc_egress": "on"}},
                     [("icmp-a", {"interface": a.name, "proto": "icmp", "action": "pass"}),
                      ("web", {"proto": "tcp", "dst_port": "80", "action": "drop"}),
                      ("out-dns", {"direction": "egress", "proto": "udp", "dst_port": "53",
                                   "action": "pass"})])
    X.ok(env.xtc(cfg, "apply"))
    return env, cfg, a, b


def test_status_json_matches_the_kernel(loaded):
    env, cfg, a, b = loaded
    r = X.ok(env.xtc(cfg, "status", "--json"))
    assert r.stderr == ""
    st = json.loads(r.stdout)
    assert st["state"] == env.state
    assert st["kernel"] == {"xdp_dispatcher_usable": False, "tcx_available": True}
    assert st["rules"] == 3
    assert sorted(i["name"] for i in st["interfaces"]) == sorted([a.name, b.name])

    sa = X.iface_status(st, a.name)
    assert sa["ifindex"] == a.ifindex
    assert sa["xdp"]["attached"] is True
    assert sa["xdp"]["mode"] == "skb"
    assert "single program" in sa["xdp"]["via"]
    assert (sa["xdp"]["program_id"], "xtc_xdp") == X.xdp_prog(a.name)
    assert [p["ours"] for p in sa["xdp"]["programs"]] == [True]
    assert sa["tc_ingress"]["attached"] is True and sa["tc_ingress"]["kind"] == "tcx"
    assert X.tcx_progs(a.name) == [sa["tc_ingress"]["program_id"]]
    # On by default: the egress rule (interface *) applies to a.
    assert sa["tc_egress"]["attached"] is True
    assert X.tcx_progs(a.name, egress=True) == [sa["tc_egress"]["program_id"]]

    sb = X.iface_status(st, b.name)
    assert sb["xdp"]["attached"] is False and sb["xdp"]["configured"] == "off"
    assert X.xdp_prog(b.name) is None
    assert X.tcx_progs(b.name, egress=True) == [sb["tc_egress"]["program_id"]]
    # On by default: xdp = off and the ingress rule "web" applies to b.
    assert sb["tc_ingress"]["attached"] is True
    assert X.tcx_progs(b.name) == [sb["tc_ingress"]["program_id"]]


def test_status_shows_single_program_and_our_priority(loaded):
    env, cfg, a, _ = loaded
    sa = X.iface_status(X.status_json(cfg), a.name)
    assert "single program" in sa["xdp"]["via"]
    assert sa["xdp"]["priority"] == 42, sa["xdp"]
    assert [p["priority"] for p in sa["xdp"]["programs"] if p["ours"]] == [42]
    text = X.ok(env.xtc(cfg, "status")).stdout
    assert "single program" in text
    assert "priority: 42" in text and "priority: 30" not in text, text


def test_status_follows_the_kernel(loaded):
    env, cfg, a, _ = loaded
    # Someone removes our XDP program behind xtc's back.
    sh(["ip", "link", "set", "dev", a.name, "xdpgeneric", "off"])
    sa = X.iface_status(X.status_json(cfg), a.name)
    assert sa["xdp"]["attached"] is False
    assert "not attached" in sa["xdp"]["configured"]
    # The next apply puts it back.
    r = X.ok(env.xtc(cfg, "apply"))
    assert f"{a.name}: attach XDP (skb mode, priority 42)" in r.stdout
    sa = X.iface_status(X.status_json(cfg), a.name)
    assert sa["xdp"]["attached"] is True
    assert (sa["xdp"]["program_id"], "xtc_xdp") == X.xdp_prog(a.name)


def expected_samples(stats):
    """The Prometheus samples that stats --json says there should be."""
    out = {}
    for r in stats["rules"]:
        labels = frozenset({"rule": r["rule"], "interface": r["interface"],
                            "direction": r["direction"], "action": r["action"]}.items())
        out[("xtc_rule_packets_total", labels)] = r["packets"]
        out[("xtc_rule_bytes_total", labels)] = r["bytes"]
    for i in stats["interfaces"]:
        labels = frozenset({"interface": i["interface"], "hook": i["hook"]}.items())
        for k, v in i.items():
            if k not in ("interface", "hook"):
                out[(f"xtc_iface_{k}_total", labels)] = v
    return out


def test_stats_prometheus_is_valid_and_matches_json(loaded):
    env, cfg, a, b = loaded
    assert a.ping(3) == 3
    for _ in range(5):
        # Counters move with traffic; compare only a snapshot that held still.
        j1 = X.stats_json(cfg)
        r = X.ok(env.xtc(cfg, "stats", "--prometheus"))
        j2 = X.stats_json(cfg)
        if j1 == j2:
            break
    assert j1 == j2, "counters kept moving"
    assert r.stderr == ""
    fams = X.parse_prometheus(r.stdout)
    got = {}
    for name, fam in fams.items():
        assert fam["type"] == "counter"
        for labels, value in fam["samples"]:
            key = (name, frozenset(labels.items()))
            assert key not in got, f"duplicate sample {key}"
            got[key] = value
    assert got == {k: float(v) for k, v in expected_samples(j1).items()}
    assert got[("xtc_rule_packets_total", frozenset({"rule": "icmp-a", "interface": a.name,
                                                     "direction": "ingress",
                                                     "action": "pass"}.items()))] == 3
    assert X.rule_packets(j1, "icmp-a") == 3
    assert X.rule_packets(j1, "web") == 0
    # Every rule appears, including those without traffic and for every interface.
    assert sorted(r["rule"] for r in j1["rules"]) == ["icmp-a", "out-dns", "web"]
    assert {r["interface"] for r in j1["rules"]} == {a.name, "*"}


def test_stats_text_agrees_with_json(loaded):
    env, cfg, a, _ = loaded
    assert a.ping(2) == 2
    j = X.stats_json(cfg)
    text = X.ok(env.xtc(cfg, "stats")).stdout
    assert "rules:" in text and "interfaces:" in text
    block = text[text.index("rule: icmp-a"):]
    assert f"packets: {X.rule_packets(j, 'icmp-a')}" in block.split("- rule:")[0]


def test_parse_prometheus_rejects_bad_exposition():
    """The checker itself: it must catch what the test relies on it to catch."""
    good = "# TYPE a_total counter\na_total{x=\"1\"} 1\n# TYPE b_total counter\nb_total 2\n"
    assert set(X.parse_prometheus(good)) == {"a_total", "b_total"}
    for bad in ("a_total 1\n",                                       # no TYPE
                "# TYPE a_total counter\n# TYPE b_total counter\nb_total 1\na_total 1\n",
                "# TYPE a_total counter\na_total 1\n# TYPE b_total counter\nb_total 1\n"
                "a_total 2\n",                                       # interleaved
                "# TYPE a_total counter\na_total{x=1} 1\n"):          # bad label
        with pytest.raises(AssertionError):
            X.parse_prometheus(bad)
