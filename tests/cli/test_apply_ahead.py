# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A first apply loads the state's BPF objects on a thread while the rules
compile (engine/ahead.c), with the rules hash sized from the rules' entries
before merging.  The objects are used only when that size is what the
compiled entries need (room for them, not twice that); otherwise they are
loaded again, and the pinned hash has the size a plain load would give it
(4 x max_rules, or twice the entries)."""
import json

from lib import xtc_cli as X
from lib.netns import sh

TAKEN = "state: the objects were loaded while the rules compiled"
AGAIN = "state: the objects loaded ahead do not fit"


def rules_hash_max(env):
    m = json.loads(sh(["bpftool", "-j", "map", "show", "pinned",
                       f"{env.state}/maps/xtc_rules"]).stdout)
    return m["max_entries"]


def config(env, a, ports):
    """A rule per port, each to the 8 addresses of one set: 8 entries a rule before merging."""
    path = env.config({a.name: {}}, glob={"max_rules": 16})
    with open(path, "a") as f:
        f.write("[set eight]\n" + "".join(f"10.9.0.{i}\n" for i in range(1, 9)))
        for i, port in enumerate(ports):
            f.write(f"[rule r{i}]\ndst = @eight\nproto = tcp\ndst_port = {port}\n"
                    "action = drop\n")
    return path


def test_objects_loaded_ahead_are_used_when_the_hash_size_fits(env):
    a = env.pair()
    cfg = config(env, a, range(1000, 1016))
    r = X.ok(env.xtc(cfg, "apply", "--json", verbose=True))
    assert json.loads(r.stdout)["classifier_entries"] == 128, r.stdout
    assert TAKEN in r.stderr and AGAIN not in r.stderr, r.stderr
    assert rules_hash_max(env) == 256       # twice the 128 entries: more than 4 x 16 rules
    X.ok(env.xtc(cfg, "status"))
    assert X.ok(env.xtc(cfg, "apply")).stdout == "no changes\n"


def test_objects_loaded_ahead_are_made_again_when_merging_shrank_the_rules(env):
    a = env.pair()
    # Sixteen rules of one match: 128 entries before merging, 8 after.
    cfg = config(env, a, [1000] * 16)
    r = X.ok(env.xtc(cfg, "apply", "--json", verbose=True))
    assert json.loads(r.stdout)["classifier_entries"] == 8, r.stdout
    assert AGAIN in r.stderr and TAKEN not in r.stderr, r.stderr
    assert rules_hash_max(env) == 64        # 4 x max_rules, as without loading ahead
    X.ok(env.xtc(cfg, "status"))
    assert X.ok(env.xtc(cfg, "apply")).stdout == "no changes\n"


def test_a_dry_run_loads_nothing_ahead(env):
    a = env.pair()
    cfg = config(env, a, range(1000, 1016))
    r = env.xtc(cfg, "apply", "--dry-run", verbose=True)
    assert r.returncode == X.EXIT_DIFF, r
    assert TAKEN not in r.stderr and AGAIN not in r.stderr, r.stderr
