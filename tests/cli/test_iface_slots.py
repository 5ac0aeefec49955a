# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Per-interface counters live in slots of a per-CPU array that the plan assigns
(docs/datapath.md, "Interface counters by slot").  What a user sees: each interface
counts its own packets, an interface that comes in starts at zero even where another
one counted before, and a record lost by hand costs no counts."""
import json
import os

from lib import xtc_cli as X
from lib.netns import sh


def drop_icmp(names):
    """A rule per interface that drops pings to the host end (XDP on each)."""
    return [(f"icmp-{n}", {"interface": n, "proto": "icmp", "action": "drop"}) for n in names]


def counted(cfg):
    """{(interface, hook): dropped} from xtc stats."""
    return {(i["interface"], i["hook"]): i["dropped"] for i in X.stats_json(cfg)["interfaces"]}


def ping_dropped(p, count):
    assert p.ping(count) == 0, f"pings to {p.name} were not dropped"


def test_each_interface_counts_in_its_own_slot(env):
    a, b, c = env.pair(), env.pair(), env.pair()
    ab = env.config({a.name: {}, b.name: {}}, drop_icmp([a.name, b.name]))
    X.ok(env.xtc(ab, "apply"))
    ping_dropped(a, 3)
    ping_dropped(b, 2)
    got = counted(ab)
    assert got[(a.name, "xdp")] == 3 and got[(b.name, "xdp")] == 2, got

    # a leaves as c comes: c does not take a's slot in the same apply, and starts at zero.
    bc = env.config({b.name: {}, c.name: {}}, drop_icmp([b.name, c.name]))
    X.ok(env.xtc(bc, "apply"))
    got = counted(bc)
    assert got[(c.name, "xdp")] == 0 and got[(b.name, "xdp")] == 2, got
    assert (a.name, "xdp") not in got, got
    ping_dropped(c, 1)

    # a comes back into the slot it counted 3 in: zero again, and then its own counts.
    abc = env.config({a.name: {}, b.name: {}, c.name: {}}, drop_icmp([a.name, b.name, c.name]))
    X.ok(env.xtc(abc, "apply"))
    got = counted(abc)
    assert got[(a.name, "xdp")] == 0 and got[(c.name, "xdp")] == 1, got
    ping_dropped(a, 2)
    got = counted(abc)
    assert (got[(a.name, "xdp")], got[(b.name, "xdp")], got[(c.name, "xdp")]) == (2, 2, 1), got
    assert "no changes" in X.ok(env.xtc(abc, "apply")).stdout


def test_a_lost_record_keeps_the_slot_of_the_running_program(env):
    """The record deleted by hand: the plan takes the slot back from the XDP program's
    read-only data, keeps the program, and the counters go on where they were."""
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: {}, b.name: {}}, drop_icmp([a.name, b.name]))
    X.ok(env.xtc(cfg, "apply"))
    ping_dropped(a, 2)
    before = X.prog_ids(X.status_json(cfg))[a.name]
    ifindex = int(open(f"/sys/class/net/{a.name}/ifindex").read())
    key = [str(x) for x in ifindex.to_bytes(4, "little")]
    sh(["bpftool", "map", "delete", "pinned",
        os.path.join(env.bpffs.state, "maps", "xtc_ifaces"), "key"] + key)
    r = X.ok(env.xtc(cfg, "apply"))
    assert "record what is attached" in r.stdout and "replace" not in r.stdout, r.stdout
    assert X.prog_ids(X.status_json(cfg))[a.name] == before     # not attached again
    ping_dropped(a, 1)
    got = counted(cfg)
    assert got[(a.name, "xdp")] == 3 and got[(b.name, "xdp")] == 0, got


def test_counters_of_the_schema_3_hash_move_into_the_slots(env):
    """Up to schema 3 the interface counters were a per-CPU hash by (ifindex, hook).
    Such a map pinned in place of ours is another layout: apply moves the state to this
    one, and each entry's counts land in the slot its interface gets."""
    a, b = env.pair(), env.pair()
    cfg = env.config({a.name: {}, b.name: {}}, drop_icmp([a.name, b.name]))
    X.ok(env.xtc(cfg, "apply"))
    pin = os.path.join(env.bpffs.state, "maps", "xtc_iface_stats")
    os.unlink(pin)
    sh(["bpftool", "map", "create", pin, "type", "percpu_hash", "key", "8", "value", "64",
        "entries", "3072", "name", "xtc_iface_stats"])
    old = {(a.name, 0): 7, (b.name, 0): 11, (a.name, 1): 5}   # (interface, hook): dropped
    held = {}
    for (name, hook), dropped in old.items():
        ifindex = int(open(f"/sys/class/net/{name}/ifindex").read())
        key = [str(x) for x in ifindex.to_bytes(4, "little") + hook.to_bytes(4, "little")]
        # seen and dropped; the other counters zero.
        value = [0] * 64
        value[0:8] = list(dropped.to_bytes(8, "little"))
        value[56:64] = list(dropped.to_bytes(8, "little"))
        sh(["bpftool", "map", "update", "pinned", pin, "key"] + key +
           ["value"] + [str(x) for x in value])
        # bpftool writes the value on every CPU: what the old map holds, summed.
        per_cpu = json.loads(sh(["bpftool", "-j", "map", "lookup", "pinned", pin, "key"] +
                                key).stdout)["values"]
        held[(name, hook)] = sum(int.from_bytes(bytes(int(x, 0) for x in v["value"][56:64]),
                                                "little") for v in per_cpu)
        assert held[(name, hook)] >= dropped
    r = X.ok(env.xtc(cfg, "apply"))
    assert "another layout" in r.stdout and "counters carry over" in r.stdout, r.stdout
    got = counted(cfg)
    assert got[(a.name, "xdp")] == held[(a.name, 0)] and \
        got[(b.name, "xdp")] == held[(b.name, 0)], (got, held)
    ping_dropped(a, 2)
    assert counted(cfg)[(a.name, "xdp")] == held[(a.name, 0)] + 2
    assert "no changes" in X.ok(env.xtc(cfg, "apply")).stdout
