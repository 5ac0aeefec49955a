"""Re-applying over loaded rules (observe -> plan -> write, as `xtc apply` does), with
rules that share classifier entries: a key several rules produce holds the value of
the earliest, so changing or removing that one must hand the key to the next, and
adding an earlier one must take it over.  After every step xtc-testrun compares the
rules hash with the whole rule set compiled from nothing ("consistent"), and packets
show that the classifier gives each to the right rule."""
import os
import random
import tempfile

import pytest

from cases import SETS, cfg, rule
from packets import tcp4, udp4
from test_shadow import random_rule, valid
from testrun import DROP, PASS, verdict

A = dict(dst="10.0.0.0/8", proto="tcp", dst_port="80", action="drop")
B = dict(dst="10.0.0.0/8", proto="tcp", dst_port="80", action="pass")    # A's keys exactly
C = dict(dst="10.0.0.0/8", proto="tcp", dst_port="80-83", action="drop")  # a superset
PKT = tcp4(dst="10.1.2.3", dport=80)


def run_steps(fx, steps, packets):
    """Loads steps[0], then re-applies each further one; returns (reloads, results per step)."""
    with tempfile.TemporaryDirectory(prefix="xtc-reapply-") as d:
        lines = []
        for i, text in enumerate(steps):
            if i:
                path = os.path.join(d, f"step{i}.ini")
                with open(path, "w") as f:
                    f.write(text)
                lines.append(f"@{path}")
            lines += [("xdp", "a0", p) for p in packets]
        res = fx.run(steps[0], lines)
    reloads = [r for r in res if r.get("reload")]
    pkts = [r for r in res if not r.get("reload")]
    per = [pkts[i * len(packets):(i + 1) * len(packets)] for i in range(len(steps))]
    return reloads, per


def who(res):
    """The verdict class and the one rule whose counter moved, or None."""
    assert len(res["rules"]) <= 1, res
    return verdict(res)[0], next(iter(res["rules"]), None)


def test_shared_key_changes_hands(fx):
    steps = [
        cfg(rule("a", **A), rule("b", **B)),                  # a wins the shared key
        cfg(rule("a", **dict(A, action="pass")), rule("b", **B)),  # a changes: still a's
        cfg(rule("b", **B)),                                  # a gone: the key is b's
        cfg(rule("c", **C), rule("b", **B)),                  # an earlier c takes it over
        cfg(rule("c", **dict(C, dst_port="81-83")), rule("b", **B)),  # c lets go of port 80
        cfg(rule("b", **dict(B, dst_port="81"))),             # nobody has port 80 any more
    ]
    reloads, per = run_steps(fx, steps, [PKT])
    assert len(reloads) == len(steps) - 1
    for r in reloads:
        assert r["consistent"], reloads
        assert not r["full"], reloads   # no set, few changes: the digests did it
    assert [who(p[0]) for p in per] == [(DROP, "a"), (PASS, "a"), (PASS, "b"), (DROP, "c"),
                                        (PASS, "b"), (PASS, None)]
    # Only the touched key is written: a's new action, then the key handed from a to b
    # (changed, not deleted and added), then c's range, cut into single ports in b's shape
    # (model/port_lens.h): port 80 handed from b to c, and 81 to 83 new.
    counts = [(r["added"], r["changed"], r["removed"]) for r in reloads]
    assert counts[:3] == [(0, 1, 0), (0, 1, 0), (3, 1, 0)], reloads


def test_renumbered_rules_move_with_their_keys(fx):
    """Inserting a rule in front moves every later rule's priority: all are rewritten."""
    base = [rule(f"r{i}", dst=f"10.0.{i}.0/24", action="drop") for i in range(20)]
    steps = [cfg(*base), cfg(rule("first", dst="10.0.3.0/24", action="pass"), *base),
             cfg(*base[:5], *base[6:])]
    reloads, per = run_steps(fx, steps, [tcp4(dst="10.0.3.1"), tcp4(dst="10.0.5.1")])
    assert all(r["consistent"] for r in reloads), reloads
    assert [who(p) for p in per[0]] == [(DROP, "r3"), (DROP, "r5")]
    assert [who(p) for p in per[1]] == [(PASS, "first"), (DROP, "r5")]
    assert [who(p) for p in per[2]] == [(DROP, "r3"), (PASS, None)]


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_stay_consistent(fx, seed):
    """Random rule sets that overlap a lot, edited one rule at a time."""
    rnd = random.Random(seed)
    rules = []
    while len(rules) < 25:
        name, kv = random_rule(rnd, len(rules))
        if valid(kv):
            rules.append((name, kv))
    steps = [cfg(*(rule(n, **kv) for n, kv in rules), extra=SETS)]
    n_next = len(rules)
    for _ in range(8):
        op = rnd.choice(["change", "remove", "add", "action"])
        i = rnd.randrange(len(rules))
        if op == "remove" and len(rules) > 3:
            rules.pop(i)
        elif op == "action":
            n, kv = rules[i]
            rules[i] = (n, dict(kv, action="pass" if kv["action"] == "drop" else "drop"))
        else:
            while True:
                _, kv = random_rule(rnd, n_next)
                if valid(kv):
                    break
            if op == "add":
                rules.insert(i, (f"r{n_next}", kv))
                n_next += 1
            else:
                rules[i] = (rules[i][0], kv)
        steps.append(cfg(*(rule(n, **kv) for n, kv in rules), extra=SETS))
    pkts = [tcp4(dst="10.1.2.3", dport=80), udp4(dst="192.168.1.5", dport=443),
            tcp4(src="10.9.9.9", dst="192.168.1.200", dport=8080)]
    reloads, per = run_steps(fx, steps, pkts)
    assert len(reloads) == len(steps) - 1
    assert all(r["consistent"] for r in reloads), reloads
    # The same packets against each step loaded from nothing: the same rule every time.
    for text, got in zip(steps, per):
        fresh = fx.run(text, [("xdp", "a0", p) for p in pkts])
        assert [who(x) for x in got] == [who(x) for x in fresh], text


def test_set_rule_changes_without_a_full_compare(fx):
    """A rule with a [set] whose set the file still has is rebuilt from its record."""
    web = dict(dst="@blocked", proto="tcp", dst_port="80", action="drop")
    steps = [cfg(rule("w", **web), rule("b", **B), extra=SETS),
             cfg(rule("w", **dict(web, action="pass")), rule("b", **B), extra=SETS),
             cfg(rule("b", **B), extra=SETS)]
    reloads, per = run_steps(fx, steps, [PKT, tcp4(dst="192.168.1.7", dport=80)])
    assert all(r["consistent"] and not r["full"] for r in reloads), reloads
    assert [who(p) for p in per[0]] == [(DROP, "w"), (DROP, "w")]
    assert [who(p) for p in per[1]] == [(PASS, "w"), (PASS, "w")]
    assert [who(p) for p in per[2]] == [(PASS, "b"), (PASS, None)]
