# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The verdict cache after an apply killed between writing its entries and moving the
cache's generation forward: the next apply finds the entries as the file wants them,
and must still retire what the datapath cached before (the digests left dirty say that
a run was cut short)."""
import json
import os

from lib import xtc_cli as X

SEND = ("import socket,sys\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        "s.bind(('',40009))\n"
        "for _ in range(int(sys.argv[2])): s.sendto(b'x',(sys.argv[1],9))\n")


def send(pair, n):
    """n datagrams of one flow (a fixed source port), always from CPU 0: the cache is per
    CPU, and veth receives on the sender's CPU, so the second send meets the first's."""
    pair.ns.run("taskset", "-c", "0", "/usr/bin/python3", "-c", SEND, pair.host_ip, str(n))


def tc_counter(cfg, dev, field):
    st = json.loads(X.ok(X.xtc(cfg, "stats", "--json")).stdout)
    return sum(i.get(field, 0) for i in st["interfaces"]
               if i["interface"] == dev and i["hook"] == "tc_ingress")


def test_killed_apply_leaves_no_stale_verdict(env):
    a = env.pair()
    rule = {"interface": a.name, "proto": "udp", "dst_port": "9"}
    drop = env.config({a.name: {}}, [("drop-9", dict(rule, action="drop"))],
                      glob={"xdp": None})
    keep = env.config({a.name: {}}, [("pass-9", dict(rule, action="pass"))],
                      glob={"xdp": None})
    X.ok(env.xtc(drop, "apply"))
    send(a, 3)
    assert tc_counter(drop, a.name, "dropped") == 3
    # Killed (as kill -9) once the new entries are written, before the generation moves.
    r = X.xtc(keep, "apply", env=dict(os.environ, XTC_FAILPOINT="rules_delete"))
    assert r.returncode == -9, r
    X.ok(env.xtc(keep, "apply"))
    send(a, 3)
    assert tc_counter(keep, a.name, "dropped") == 3, "a cached drop outlived the rule"
    st = json.loads(X.ok(X.xtc(keep, "stats", "--json")).stdout)
    assert X.rule_packets(st, "pass-9") == 3
