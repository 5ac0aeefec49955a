# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""kill -9 at random instants of a 50k-rule apply, 50 times: every time, the next
plain apply exits 0 with the kernel matching the file, and `unload --all` leaves
nothing of ours.  (tests/cli/test_crash_safety.py kills at each step in turn;
this catches what lies between the steps.)"""
import os
import random
import subprocess
import sys
import time

from lib import xtc_cli as X

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import rulegen  # noqa: E402

KILLS = 50
RULES = 50_000


def test_random_kills_during_a_big_apply(env, tmp_path):
    a, b = env.pair(), env.pair()
    cfg = str(tmp_path / "big.ini")
    ifaces = {a.name: {"xdp_mode": "skb", "tc_ingress": "on", "tc_egress": "on"},
              b.name: {"xdp": "off", "tc_ingress": "on"}}
    pre = "".join(f"[interface {n}]\n" + "".join(f"{k} = {v}\n" for k, v in kv.items())
                  for n, kv in ifaces.items())
    rulegen.write_config(cfg, RULES, env.bpffs.path, pre=pre)
    # The same rules with every other one's action flipped: an apply that rewrites half.
    changed = str(tmp_path / "changed.ini")
    rulegen.write_config(changed, RULES, env.bpffs.path, pre=pre,
                         override=lambda i, kv: dict(kv, action="pass") if i % 2 else kv)

    # How long an apply from nothing takes here, to spread the kills over it.
    t0 = time.monotonic()
    X.ok(env.xtc(cfg, "apply", timeout=120))
    span = time.monotonic() - t0
    X.ok(env.xtc(env.base, "unload", "--all"))

    rng = random.Random(int(os.environ.get("XTC_KILL_SEED", "1")))
    failures = []
    for i in range(KILLS):
        # Half the kills hit an apply from nothing, half one that changes a loaded state.
        target = changed if i % 2 else cfg
        if i % 2:
            X.ok(env.xtc(cfg, "apply", timeout=120))
        at = rng.uniform(0, span * 1.1)
        p = X.xtc_popen(target, "apply", stdout=subprocess.DEVNULL)
        time.sleep(at)
        p.kill()
        p.wait()
        what = f"kill {i} at {at:.3f} s of {span:.3f} s ({'change' if i % 2 else 'create'})"
        r = env.xtc(target, "apply", timeout=120)
        st = env.xtc(target, "status")
        if r.returncode != 0 or st.returncode != 0:
            failures.append(f"{what}: apply {r.returncode}: {r.stderr[-600:]}\n"
                            f"status {st.returncode}: {st.stdout[-1200:]}")
        u = env.xtc(env.base, "unload", "--all")
        if u.returncode != 0 or os.path.exists(env.state):
            failures.append(f"{what}: unload {u.returncode}: {u.stderr[-600:]}")
        for p_ in (a, b):
            try:
                X.eventually(lambda: X.bare(p_.name), what=f"{what}: {p_.name} bare")
            except AssertionError as e:
                failures.append(str(e))
    assert not failures, f"{len(failures)} of {KILLS}:\n" + "\n".join(failures)
