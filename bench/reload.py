"""6. Hitless reload: steady UDP flows through xtc while `xtc apply` loads
100 changed rule sets.

The router namespace has forwarding switched off, so a packet reaches the
pod only if xtc redirects it (peer mode).  The two steady flows' rules never
change: one sits before, one after 1,000 rules that change in every
generation (new addresses and ports, and destination prefix lengths that
come and go, so the list of tuple spaces is rebuilt and swapped too).
A third flow, whose rule is removed in every odd generation, shows that
the test does see lost packets when a rule is really missing.
Lost = sent - distinct sequence numbers received; the pod's UDP receive
buffer errors are reported beside it so that a socket overflow is not
mistaken for a reload gap."""
import json
import os
import sys
import time

from common import XTC, log, sh, spawn, stop, timed_rss
from topo import POD, Topo

HERE = os.path.dirname(os.path.abspath(__file__))
PORTS = [7001, 7002]
TOGGLED = 7003  # control flow: its rule exists in even generations only
VARY = 1000


def write_generation(path, fs, g):
    def vary(i):
        plen = 32 if i % 10 else 16 + (g + i) % 12     # 10% of rules: shifting prefix lengths
        a = 198 << 24 | 18 << 16 | ((i * 7 + g * 13) & 0x1FFFF)
        a &= ~((1 << (32 - plen)) - 1) & 0xFFFFFFFF
        addr = f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}/{plen}"
        port = 1024 + (i * 31 + g * 17) % 60000
        return (f"[rule v{i}]\ninterface = r1\ndst = {addr}\nproto = udp\ndst_port = {port}\n"
                "action = drop\n")
    steady = ("[rule steady-{p}]\ninterface = r1\ndst = " + POD +
              "\nproto = udp\ndst_port = {p}\naction = redirect\nredirect = peer\ntarget = r2\n")
    with open(path, "w") as f:
        f.write(f"[global]\nbpffs = {fs}\n[interface r1]\n[interface r2]\n")
        f.write("".join(vary(i) for i in range(VARY // 2)))
        f.write(steady.format(p=PORTS[0]))
        f.write("".join(vary(i) for i in range(VARY // 2, VARY)))
        f.write(steady.format(p=PORTS[1]))
        if g % 2 == 0:
            f.write(steady.format(p=TOGGLED).replace("steady-", "toggled-"))


def udp_errors(ns):
    lines = [ln.split() for ln in sh(["cat", "/proc/net/snmp"], ns=ns).stdout.splitlines()
             if ln.startswith("Udp:")]
    d = dict(zip(lines[0][1:], lines[1][1:]))
    return int(d.get("RcvbufErrors", 0)) + int(d.get("InErrors", 0))


def run(ctx):
    gens, pps = ctx["reload_generations"], ctx["reload_pps"]
    t = Topo(ctx, "rl")
    procs = []
    try:
        t.forwarding(False)
        write_generation(t.cfg, t.fs, 0)
        sh([XTC, "-c", t.cfg, "apply"], ns=t.r)
        t.xtc_loaded = True
        recv = spawn([sys.executable, os.path.join(HERE, "udpflow.py"), "recv", POD] +
                     [str(p) for p in PORTS + [TOGGLED]], ns=t.p)
        procs.append(recv)
        recv.stdout.readline()  # "ready"
        err0 = udp_errors(t.p)
        send = spawn([sys.executable, os.path.join(HERE, "udpflow.py"), "send", POD, str(pps)] +
                     [str(p) for p in PORTS + [TOGGLED]], ns=t.c)
        procs.append(send)
        time.sleep(0.5)
        walls, summaries = [], []
        t0 = time.perf_counter()
        for g in range(1, gens + 1):
            write_generation(t.cfg, t.fs, g)
            w, _, r = timed_rss([XTC, "-c", t.cfg, "apply"], ns=t.r)
            walls.append(w)
            summaries.append([ln for ln in r.stdout.splitlines() if ln.startswith("rules:")][:1])
        reload_s = time.perf_counter() - t0
        time.sleep(0.5)
        sent = json.loads(stop(send)[0].strip().splitlines()[-1])
        time.sleep(0.3)
        got = json.loads(stop(recv)[0].strip().splitlines()[-1])
        errs = udp_errors(t.p) - err0
    finally:
        for p in procs:
            stop(p)
        t.close()
    flows = {}
    for p in PORTS:
        s, r = sent[str(p)], got[str(p)]
        flows[f"udp/{p}"] = {"sent": s, "received": r, "lost": s - r}
    toggled = {"sent": sent[str(TOGGLED)], "received": got[str(TOGGLED)],
               "lost": sent[str(TOGGLED)] - got[str(TOGGLED)]}
    log(f"reload: {gens} applies in {reload_s:.1f} s; lost " +
        ", ".join(f"{k}: {v['lost']}" for k, v in flows.items()))
    return {"generations": gens, "pps": pps, "reload_s": reload_s, "flows": flows,
            "lost_total": sum(v["lost"] for v in flows.values()),
            "pod_udp_errors": errs, "apply_s": {"median": sorted(walls)[len(walls) // 2],
                                               "min": min(walls), "max": max(walls),
                                               "n": len(walls)},
            "example_change": summaries[len(summaries) // 2][0] if summaries else "",
            "varying_rules": VARY, "toggled_flow": toggled}
