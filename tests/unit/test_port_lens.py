# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Port ranges held whole, or cut into fewer prefix lengths (model/port_lens.h): no root,
no BPF. port_lens_drv compiles a config as apply does and reports the ranges held whole,
the lengths chosen, the match shapes with and without the cut, the entries, and whether
every rule's expansions still match exactly its ports, each once. The cut's tests hold no
range whole (--spans 0), as when more ranges than the classifier's shapes allow are used."""
import ipaddress
import json
import os
import random
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DRV = os.path.join(os.environ.get("XTC_BUILD") or os.path.join(ROOT, "build"), "port_lens_drv")
BUDGET = 8192   # XTC_PORT_CUT_BUDGET


def compile_rules(rules, sets="", spans=None, glob=""):
    with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as f:
        f.write("[global]\nbpffs = /sys/fs/bpf\n" + glob + sets)
        for i, kv in enumerate(rules):
            f.write(f"[rule r{i}]\n" + "".join(f"{k} = {v}\n" for k, v in kv.items()))
            f.write("action = drop\n")
    try:
        args = [DRV] + (["--spans", str(spans)] if spans is not None else []) + [f.name]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)
    finally:
        os.unlink(f.name)


MIX = [  # the ranges of bench/rulegen.py's mix, one rule each, and exact ports beside them
    dict(dst="192.0.2.20", proto="tcp", dst_port="30000-32767"),
    dict(dst="192.0.2.21", proto="udp", src_port="1024-65535"),
    dict(dst="2001:db8::1", proto="udp", dst_port="5000-5099"),
    dict(dst="192.0.2.22", proto="tcp", dst_port="80"),
]


def test_a_few_ranges_collapse_to_few_shapes():
    got = compile_rules(MIX, spans=0)
    assert got["exact"]
    # 30000-32767 is 5 prefix lengths and 5000-5099 another 5: cut into single ports,
    # they share the shape of port 80; 1024-65535 (6 lengths) becomes /6 blocks.
    assert got["dport"] == [0, 16] and got["sport"] == [0, 6, 16], got
    assert got["shapes_uncut"] == 16 and got["shapes"] == 3, got
    assert 0 < got["entries_expanded"] - got["entries_uncut"] <= BUDGET, got


def test_the_budget_bounds_the_entries_many_rules_cost():
    # Cutting each of these 100 ranges into single ports would cost 276,300 entries.
    got = compile_rules([dict(dst=f"10.0.{i // 250}.{i % 250}", proto="tcp",
                              dst_port="30000-32767") for i in range(100)], spans=0)
    assert got["exact"]
    assert got["entries_expanded"] - got["entries_uncut"] <= BUDGET, got
    assert 16 in got["dport"] and got["shapes"] < got["shapes_uncut"], got


def test_past_the_budget_nothing_is_cut():
    # Every merge of two of 1024-65535's six lengths costs at least 8,200 entries here.
    got = compile_rules([dict(dst=f"10.{1 + i // 62500}.{i // 250 % 250}.{i % 250}",
                              proto="udp", src_port="1024-65535") for i in range(8200)],
                        spans=0)
    assert got["exact"]
    assert got["sport"] == [0, 1, 2, 3, 4, 5, 6, 16], got
    assert got["entries_expanded"] == got["entries_uncut"], got
    assert got["shapes"] == got["shapes_uncut"], got


SETS = "[set ports]\n80\n8000-8191\n40000-40999\n"


def random_rules(rnd, trial, ranges):
    """Up to 12 rules with a share `ranges` of random port ranges, a tenth of the set,
    a fifth of single ports. A range on one side only: two would pass the 64 shapes that
    check counts."""
    rules = []
    for i in range(rnd.randint(1, 12)):
        kv = dict(proto=rnd.choice(["tcp", "udp"]))
        if rnd.random() < 0.6:
            kv["dst"] = f"10.{trial}.{i}.0/{rnd.choice([24, 32])}".replace(".0/32", ".1/32")
        side = rnd.choice(("src_port", "dst_port"))
        x = rnd.random()
        if x < ranges:
            lo = rnd.randrange(65536)
            kv[side] = f"{lo}-{rnd.randrange(lo, 65536)}"
        elif x < ranges + 0.1:
            kv[side] = "@ports"
        elif x < ranges + 0.3:
            kv[side] = str(rnd.randrange(65536))
        rules.append(kv)
    return rules


def test_random_ranges_and_sets_stay_exact_within_budget():
    rnd = random.Random(7)
    for trial in range(25):
        rules = random_rules(rnd, trial, 0.4)
        got = compile_rules(rules, SETS, spans=0)
        assert got["exact"], (trial, rules, got)
        assert got["entries_expanded"] - got["entries_uncut"] <= BUDGET, (trial, got)
        assert got["shapes"] <= got["shapes_uncut"], (trial, got)


def test_both_ports_ranged_multiply_and_stay_within_budget():
    # 6 x 5 blocks: a cut of either side multiplies by the other's blocks.
    got = compile_rules([dict(dst="192.0.2.30", proto="tcp", src_port="1024-65535",
                              dst_port="30000-32767")], spans=0)
    assert got["exact"]
    assert got["shapes_uncut"] == 30 and got["shapes"] < 30, got
    assert got["entries_expanded"] - got["entries_uncut"] <= BUDGET, got


# ---- ranges held whole -------------------------------------------------------------

def test_ranges_of_many_blocks_are_held_whole_one_entry_each():
    got = compile_rules(MIX)
    assert got["exact"]
    assert got["dport_whole"] == [[5000, 5099], [30000, 32767]], got
    assert got["sport_whole"] == [[1024, 65535]], got
    # One entry per rule, and one shape per (addresses, protocol, span): 4, not 16.
    assert got["entries_expanded"] == 4 and got["shapes"] == 4, got
    assert got["entries_uncut"] == 18, got   # as prefix blocks, for contrast


def test_twenty_thousand_rules_of_a_range_take_twenty_thousand_entries():
    rules = [dict(dst=f"10.{i // 62500}.{i // 250 % 250}.{i % 250}", proto="tcp",
                  dst_port="30000-32767") for i in range(20000)]
    got = compile_rules(rules)
    assert got["dport_whole"] == [[30000, 32767]], got
    assert got["entries_expanded"] == 20000 and got["shapes"] == 1, got
    assert got["entries_uncut"] == 100000, got
    assert got["exact"]


def test_a_set_of_ranges_holds_each_element_whole():
    got = compile_rules([dict(dst="192.0.2.1", proto="tcp", dst_port="@ports")], SETS)
    assert got["exact"]
    # 8000-8191 is 2 blocks (/10, /9) and 40000-40999 7: both are held whole, 80 is a port.
    assert got["dport_whole"] == [[8000, 8191], [40000, 40999]], got
    assert got["entries_expanded"] == 3, got


def test_the_ranges_that_save_most_are_held_whole_the_rest_are_cut():
    # 20 distinct ranges on the same field: the 16 used by most rules are held whole.
    rules = []
    for k in range(20):
        for i in range(1 if k >= 16 else 3):
            rules.append(dict(dst=f"10.{k}.0.{i + 1}", proto="udp",
                              dst_port=f"{1001 + 100 * k}-{1098 + 100 * k}"))
    got = compile_rules(rules)
    assert got["exact"], got
    assert len(got["dport_whole"]) == 16, got
    assert all(lo < 2600 for lo, _ in got["dport_whole"]), got


def test_spans_that_need_too_many_shapes_are_fewer():
    # 16 ranges x 5 address lengths = 80 shapes held whole, past the 64 the classifier
    # has: the compile holds fewer whole and still needs at most 64.
    rules = [dict(dst=f"10.{5 * k + j}.0.0/{plen}".replace(".0.0/32", ".0.1/32"), proto="tcp",
                  dst_port=f"{1001 + 100 * k}-{1098 + 100 * k}")
             for k in range(16) for j, plen in enumerate((16, 20, 24, 28, 32))]
    got = compile_rules(rules)
    assert got["exact"], got
    assert got["shapes"] <= 64 and 0 < len(got["dport_whole"]) < 16, got


def test_random_ranges_held_whole_stay_exact():
    rnd = random.Random(11)
    for trial in range(25):
        rules = random_rules(rnd, trial, 0.5)
        got = compile_rules(rules, SETS)
        assert got["exact"], (trial, rules, got)
        assert got["shapes"] <= 64, (trial, got)
        assert got["entries_expanded"] <= got["entries_uncut"] + BUDGET, (trial, got)


def test_shapes_are_counted_exactly_when_kinds_of_rule_repeat():
    # 50 kinds of rule (25 destination lengths, with and without a protocol), 8 rules of
    # each, interleaved: the count looks at each kind once and must still find all 50.
    kinds = [(plen, proto) for plen in range(8, 33) for proto in (None, "udp")]
    rules = []
    for i in range(8):
        for k, (plen, proto) in enumerate(kinds):
            net = ipaddress.ip_network(f"{10 + k}.{i}.7.128/{plen}", strict=False)
            kv = dict(dst=str(net))
            if proto:
                kv["proto"] = proto
            rules.append(kv)
    got = compile_rules(rules)
    assert got["shapes_uncut"] == 50 and got["shapes"] == 50, got
