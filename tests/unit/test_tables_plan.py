# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The rule-table plan is a pure function: no root, no BPF.  tables_plan_drv loads a
first config into a simulated kernel, plans every further one against it with
xtc_tables_plan() and carries each plan out on the simulation; the result must be the
config compiled from nothing.  Rule sets here overlap a lot (a key produced by several
rules), and are edited one rule at a time: a changed match, action or set, a rule added
or removed, an earlier rule inserted (which moves every later priority)."""
import json
import os
import random
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DRV = os.path.join(os.environ.get("XTC_BUILD") or os.path.join(ROOT, "build"), "tables_plan_drv")

# Few prefix lengths and port blocks: every mix stays within the 64 match shapes.
PREFIXES = ["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16", "2001:db8::/32", "@nets", "@more"]
PORTS = ["80", "80-95", "443", "@web"]
SETS = ("[set nets]\n10.0.0.0/8\n172.16.0.0/16\n2001:db9::/32\n"
        "[set more]\n10.1.0.0/16\n2001:db8::/32\n"
        "[set web]\n80\n443\n8000-8015\n")
V6 = {"2001:db8::/32"}


def fams(v):
    if v == "@nets" or v == "@more":
        return {4, 6}
    return {6} if v in V6 else {4}


def random_rule(rnd):
    while True:
        kv = {}
        for side in ("src", "dst"):
            if rnd.random() < 0.5:
                kv[side] = rnd.choice(PREFIXES)
        f = {4, 6}
        for side in ("src", "dst"):
            if side in kv:
                f &= fams(kv[side])
        if f:
            break
    proto = rnd.choice([None, "tcp", "udp"])
    if proto:
        kv["proto"] = proto
        for side in ("src_port", "dst_port"):
            if rnd.random() < 0.4:
                kv[side] = rnd.choice(PORTS)
    kv["action"] = rnd.choice(["drop", "pass"])
    return kv


def text(rules, sets):
    return "[global]\nmax_rules = 256\n" + sets + "".join(
        f"[rule {n}]\n" + "".join(f"{k} = {v}\n" for k, v in kv.items()) for n, kv in rules)


def run(steps):
    assert os.access(DRV, os.X_OK), f"{DRV} missing: run `make`"
    with tempfile.TemporaryDirectory(prefix="xtc-plan-") as d:
        paths = []
        for i, t in enumerate(steps):
            paths.append(os.path.join(d, f"s{i}.ini"))
            with open(paths[-1], "w") as f:
                f.write(t)
        r = subprocess.run([DRV] + paths, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == len(steps), r.stdout
    return out


def test_shared_keys_change_hands():
    a = {"dst": "10.0.0.0/8", "proto": "tcp", "dst_port": "80", "action": "drop"}
    b = dict(a, action="pass")
    steps = [text([("a", a), ("b", b)], ""), text([("a", dict(a, action="pass")), ("b", b)], ""),
             text([("b", b)], ""), text([("a", a), ("b", b)], "")]
    out = run(steps)
    assert all(s["ok"] and s["overlay_ok"] for s in out), out
    assert [s["full"] for s in out[1:]] == [False] * 3, out
    # Each step writes the one shared key: a's new action, then b's, then a's again.
    assert [(s["added"], s["changed"], s["removed"]) for s in out[1:]] == [(0, 1, 0)] * 3, out


@pytest.mark.parametrize("seed", range(20))
def test_random_edits(seed):
    rnd = random.Random(seed)
    rules = [(f"r{i}", random_rule(rnd)) for i in range(30)]
    sets = SETS
    steps = [text(rules, sets)]
    n = len(rules)
    for _ in range(12):
        op = rnd.choice(["match", "action", "add", "remove", "insert-first", "set"])
        i = rnd.randrange(len(rules))
        if op == "match":
            rules[i] = (rules[i][0], random_rule(rnd))
        elif op == "action":
            kv = rules[i][1]
            rules[i] = (rules[i][0], dict(kv, action="pass" if kv["action"] == "drop" else "drop"))
        elif op == "add":
            rules.append((f"r{n}", random_rule(rnd)))
            n += 1
        elif op == "remove" and len(rules) > 5:
            rules.pop(i)
        elif op == "insert-first":
            rules.insert(0, (f"r{n}", random_rule(rnd)))
            n += 1
        else:
            sets = sets.replace("443\n", "") if "443\n" in sets else sets.replace("80\n", "80\n443\n")
        steps.append(text(rules, sets))
    out = run(steps)
    assert all(s["ok"] for s in out), out
    # A re-apply's records: only those that differ are kept, and they say the same.
    assert all(s["overlay_ok"] for s in out), out
