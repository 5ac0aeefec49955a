# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Commands that change the state are serialised by flock(<bpffs>/xtc).

No test here measures time: "waits" means the process is seen blocked in
flock() on the state directory (/proc/locks) and has neither printed nor
exited until the lock is released."""
import fcntl
import os
import tempfile

import pytest

from lib import xtc_cli as X


class Lock:
    """Holds the state lock the way xtc takes it."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@pytest.fixture
def held():
    locks = []

    def take(path):
        locks.append(Lock(path))
        return locks[-1]
    yield take
    for lk in locks:
        lk.release()


def expected_consistent(env, cfg_ifaces, pairs):
    """The kernel and the pins hold exactly one instance of what cfg_ifaces asks for."""
    status = X.status_json(env.base)
    assert sorted(i["interface"] for i in status["interfaces"]) == sorted(cfg_ifaces)
    tc = set()
    for p in pairs:
        want = cfg_ifaces.get(p.name)
        if want is None:
            assert X.bare(p.name), X.kernel_view(p.name)
            continue
        st = X.iface_status(status, p.name)
        assert st["xdp"]["attached"] and X.xdp_prog(p.name) == (st["xdp"]["program_id"], "xtc_xdp")
        for h, egress in (("tc_ingress", False), ("tc_egress", True)):
            if want.get(h) == "on":
                assert X.tcx_progs(p.name, egress) == [st[h]["program_id"]]
                tc.add(st[h]["program_id"])
            else:
                assert X.tcx_progs(p.name, egress) == []
    links = sorted(f"xtc/links/tcx_{p.ifindex}_{h}" for p in pairs if p.name in cfg_ifaces
                   for h in ("ingress", "egress") if cfg_ifaces[p.name].get(f"tc_{h}") == "on")
    assert env.bpffs.state_listing() == sorted(
        ["xtc", "xtc/links", "xtc/maps", "xtc/progs", "xtc/progs/tc_egress",
         "xtc/progs/tc_ingress"] + links +
        [f"xtc/maps/{m}" for m in ("xtc_config", "xtc_iface_stats", "xtc_ifaces", "xtc_ipmap",
                                   "xtc_masks", "xtc_rule_info", "xtc_rule_sets", "xtc_rule_stats",
                                   "xtc_rules", "xtc_set_elems", "xtc_rule_digest",
                                   "xtc_vcache", "xtc_iface_idx")])
    progs = X.our_progs(env.bpffs.path)
    assert sorted(progs.values()) == sorted(["xtc_tc_ingress", "xtc_tc_egress"] +
                                            ["xtc_xdp"] * len(cfg_ifaces)), progs


def finish(procs):
    return [(p.wait(timeout=60),) + p.communicate() for p in procs]


def test_concurrent_applies_both_succeed(env):
    a, b = env.pair(), env.pair()
    ifaces = {a.name: {"tc_ingress": "on"}, b.name: {"tc_ingress": "on", "tc_egress": "on"}}
    cfg = env.config(ifaces, [("icmp", {"proto": "icmp", "action": "pass"})])
    for _ in range(3):
        procs = [X.xtc_popen(cfg, "apply") for _ in range(2)]
        res = finish(procs)
        for rc, out, err in res:
            assert rc == 0, (rc, out, err)
            assert err == ""
        creators = [out for _, out, _ in res if "+ state " in out]
        assert len(creators) == 1, res
        other = [out for _, out, _ in res if out is not creators[0]][0]
        # The one that waited found the work done (the host's routes aside).
        assert not [l for l in other.splitlines() if "attach" in l or l.startswith("state")], other
        expected_consistent(env, ifaces, [a, b])
        X.ok(env.xtc(env.base, "unload", "--all"))
        assert X.bare(a.name) and X.bare(b.name)


def test_concurrent_applies_of_a_change_both_succeed(env):
    a, b = env.pair(), env.pair()
    X.ok(env.xtc(env.config({a.name: {}}), "apply"))
    ifaces = {a.name: {"tc_egress": "on"}, b.name: {"tc_ingress": "on"}}
    cfg = env.config(ifaces, [("icmp", {"proto": "icmp", "action": "pass"})])
    res = finish([X.xtc_popen(cfg, "apply") for _ in range(2)])
    for rc, out, err in res:
        assert rc == 0 and err == "", (rc, out, err)
    assert sum(f"{b.name}: XDP attached" in out for _, out, _ in res) == 1, res
    expected_consistent(env, ifaces, [a, b])


@pytest.mark.parametrize("state", ["fresh", "existing"])
def test_apply_waits_for_the_lock(env, held, state):
    a = env.pair()
    if state == "existing":
        X.ok(env.xtc(env.config({a.name: {}}), "apply"))
    else:
        os.mkdir(env.state)                 # what a competing apply has made so far
    before = X.kernel_view(a.name)
    ifaces = {a.name: {"tc_ingress": "on"}}
    cfg = env.config(ifaces)
    lock = held(env.state)
    with tempfile.TemporaryFile("w+") as out:
        proc = X.xtc_popen(cfg, "apply", stdout=out, line_buffered=True)
        try:
            X.wait_blocked(proc, env.state)
            # Blocked: not finished, nothing printed, nothing changed.
            assert proc.poll() is None
            out.seek(0)
            assert out.read() == ""
            assert X.kernel_view(a.name) == before
            lock.release()
            rc = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        err = proc.stderr.read()
        out.seek(0)
        text = out.read()
    assert rc == 0, (text, err)
    assert f"{a.name}: TC ingress attached (tcx)" in text
    expected_consistent(env, ifaces, [a])


def test_apply_waiting_while_unload_all_runs(env, held):
    """unload --all removes the state directory that a waiting apply has
    already opened and is waiting to lock; the apply must still succeed."""
    a = env.pair()
    X.ok(env.xtc(env.config({a.name: {}}), "apply"))
    ifaces = {a.name: {"tc_ingress": "on"}}
    cfg = env.config(ifaces)
    lock = held(env.state)
    unload = X.xtc_popen(env.base, "unload", "--all")
    X.wait_blocked(unload, env.state)
    apply = X.xtc_popen(cfg, "apply")
    X.wait_blocked(apply, env.state)
    lock.release()
    (urc, uout, uerr), (arc, aout, aerr) = finish([unload, apply])
    assert urc == 0, (uout, uerr)
    assert arc == 0, (aout, aerr)
    # Whichever ran last decides; the result is one whole state or none at all.
    if os.path.exists(env.state):
        expected_consistent(env, ifaces, [a])
    else:
        assert X.bare(a.name), X.kernel_view(a.name)


def test_concurrent_unload_all_both_succeed(env, held):
    a = env.pair()
    X.ok(env.xtc(env.config({a.name: {"tc_ingress": "on"}}), "apply"))
    lock = held(env.state)
    procs = []
    for _ in range(2):
        procs.append(X.xtc_popen(env.base, "unload", "--all"))
        X.wait_blocked(procs[-1], env.state)
    lock.release()
    res = finish(procs)
    for rc, out, err in res:
        # unload --all with nothing (left) to unload is a success.
        assert rc == 0, (rc, out, err)
    assert not os.path.exists(env.state)
    assert X.bare(a.name), X.kernel_view(a.name)
