"""7. The daemon: how fast it follows the host, and what it costs when idle.

Runs `xtc daemon` in a namespace of our own with our own bpffs and reads its
output as it comes (a reader thread stamps every line; the daemon writes
each line as it happens): a veth's latency is from `ip link add` returning
to the daemon's line that the TC program is attached; an address's is to the
"rules:" line that ends the apply whose plan had an "~ ipmap" line (the map is
written by then).  SIGHUP is timed at 100k rules, one rule changed, to the
"rules:" line after the "~ classifier" one: signal to map written; the daemon's line
before says whether it patched the rule in place or read the file whole.  Idle CPU
is the daemon's utime + stime over a quiet interval; RSS is VmRSS with 1k
rules."""
import os
import queue
import signal
import subprocess
import threading
import time

import json
import sys

import rulegen
from common import XTC, bpffs, log, netns, sh, spawn, stop, summary

HERE = os.path.dirname(os.path.abspath(__file__))

PAT = "bd"


class Daemon:
    def __init__(self, ns, cfg):
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, XTC, "-c", cfg, "daemon"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  start_new_session=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.wait(lambda ln: "daemon: ready" in ln, timeout=120)
        self.pid = int(sh(["pgrep", "-P", str(self.p.pid)]).stdout.split()[0]) \
            if self._wrapped() else self.p.pid

    def _wrapped(self):
        return sh(["pgrep", "-P", str(self.p.pid)], check=False).returncode == 0

    def _read(self):
        for ln in self.p.stdout:
            self.lines.put((time.perf_counter(), ln))

    def wait(self, pred, timeout=10.0):
        """The time of the first line that satisfies pred, or None."""
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            try:
                t, ln = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if pred(ln):
                return t

    def drain(self):
        while not self.lines.empty():
            self.lines.get_nowait()

    def stop(self):
        try:
            os.killpg(self.p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.p.wait(timeout=30)


def pct(vals, p):
    v = sorted(vals)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else None


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1]) / 1024
    return None


def config(path, fs, n_rules, port=7):
    """n_rules generated rules, a pattern for our veths and, in the main file (big files
    put their rules in include files), one rule whose port a SIGHUP changes."""
    pre = (f"[interface {PAT}*]\nxdp = off\ntc_ingress = on\n"
           f"[rule hup-probe]\nproto = tcp\ndst_port = {port}\naction = drop\n")
    rulegen.write_config(path, n_rules, fs, pre=pre)


def link_pair(ns, outer, other_ns, inner, outer_ip, inner_ip):
    """A veth between ns (outer, OUTER_IP/24) and other_ns (inner), routed both ways."""
    sh(["ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", other_ns],
       ns=ns)
    sh(["ip", "addr", "add", f"{outer_ip}/24", "dev", outer], ns=ns)
    sh(["ip", "link", "set", outer, "up"], ns=ns)
    sh(["ip", "addr", "add", f"{inner_ip}/24", "dev", inner], ns=other_ns)
    sh(["ip", "link", "set", inner, "up"], ns=other_ns)
    sh(["ip", "link", "set", "lo", "up"], ns=other_ns)
    sh(["ip", "route", "add", "default", "via", outer_ip], ns=other_ns)


def baseline(ns, fs, pid):
    """What must come back after churn: pins, TCX links of ours, records, open fds, RSS."""
    state = os.path.join(fs, "xtc")
    pins = sum(len(files) for _, _, files in os.walk(state))
    # TCX links in the whole system (bpftool 7.1 prints the type as 11): only ours change.
    links = sh(["bpftool", "-j", "link", "show"], check=False).stdout
    n_links = sum(1 for ln in (json.loads(links) if links.strip() else [])
                  if str(ln.get("type")) in ("tcx", "11"))
    recs = sh(["bpftool", "-j", "map", "dump", "pinned", os.path.join(state, "maps",
                                                                      "xtc_ifaces")],
              check=False).stdout
    return {"pins": pins, "tcx_links": n_links,
            "records": len(json.loads(recs)) if recs.strip().startswith("[") else None,
            "fds": len(os.listdir(f"/proc/{pid}/fd")), "rss_mib": rss_mib(pid)}


def churn(ctx, ns, fs, secs):
    """Pods at 10 a second, each deleted a second later, while two steady UDP flows
    go through xtc (redirect peer, target = auto) to two pods that stay."""
    cl, p1, p2 = netns("xbdc"), netns("xbdp"), netns("xbdp")
    procs, made = [], []
    try:
        link_pair(ns, "bcl", cl, "eth0", "10.98.0.1", "10.98.0.2")
        link_pair(ns, f"{PAT}s1", p1, "eth0", "10.98.1.1", "10.98.1.2")
        link_pair(ns, f"{PAT}s2", p2, "eth0", "10.98.2.1", "10.98.2.2")
        cfg = os.path.join(ctx["dir"], "daemon-churn.ini")
        rulegen.write_config(cfg, 10, fs, pre=(
            f"[interface bcl]\nxdp = off\n[interface {PAT}*]\nxdp = off\ntc_ingress = on\n"
            "[rule steady]\ninterface = bcl\ndst = 10.98.0.0/16\nproto = udp\n"
            "action = redirect\nredirect = peer\ntarget = auto\n"))
        d = Daemon(ns, cfg)
        try:
            time.sleep(1)
            recvs = [spawn([sys.executable, os.path.join(HERE, "udpflow.py"), "recv", ip,
                            "7300"], ns=p) for p, ip in ((p1, "10.98.1.2"), (p2, "10.98.2.2"))]
            procs += recvs
            for r in recvs:
                r.stdout.readline()
            sends = [spawn([sys.executable, os.path.join(HERE, "udpflow.py"), "send", ip,
                            "1000", "7300"], ns=cl) for ip in ("10.98.1.2", "10.98.2.2")]
            procs += sends
            time.sleep(2)
            d.drain()
            time.sleep(TRIM_WAIT)
            before = baseline(ns, fs, d.pid)
            # A pod is its veth here: made and deleted in one `ip -batch` line each,
            # so that 10 a second is the rate, not what ip costs.
            t0, i = time.perf_counter(), 0
            while time.perf_counter() - t0 < secs:
                cmds = f"link add {PAT}c{i} type veth peer name pq{i}\nlink set {PAT}c{i} up\n"
                made.append(f"{PAT}c{i}")
                if len(made) > 10:
                    cmds += f"link del {made.pop(0)}\n"
                sh(["ip", "-batch", "-"], ns=ns, input=cmds, check=False)
                i += 1
                time.sleep(max(0.0, t0 + i * 0.1 - time.perf_counter()))
            sh(["ip", "-batch", "-"], ns=ns, check=False,
               input="".join(f"link del {n}\n" for n in made))
            made = []
            time.sleep(1)
            sent = [json.loads(stop(s)[0].strip().splitlines()[-1])["7300"] for s in sends]
            time.sleep(0.3)
            got = [json.loads(stop(r)[0].strip().splitlines()[-1])["7300"] for r in recvs]
            time.sleep(TRIM_WAIT)
            after = baseline(ns, fs, d.pid)
        finally:
            d.stop()
            sh(["ip", "netns", "exec", ns, XTC, "-c", cfg, "unload", "--all"], check=False)
        return {"seconds": secs, "pods": i, "sent": sent, "received": got,
                "lost": [a - b for a, b in zip(sent, got)], "before": before, "after": after}
    finally:
        for p in procs:
            stop(p)
        for n in (cl, p1, p2):
            sh(["ip", "netns", "del", n], check=False)


TRIM_WAIT = 3       # the daemon gives memory back after 2 s of quiet


def run(ctx):
    quick = ctx.get("quick")
    n_seq, n_burst = (50, 100) if quick else (200, 200)
    idle_s = 10 if quick else 60
    ns = netns("xbd")
    fs = bpffs(ctx["dir"])
    res = {"quick": bool(quick)}
    cfg = os.path.join(ctx["dir"], "daemon-1k.ini")
    config(cfg, fs, 1000)
    d = Daemon(ns, cfg)
    try:
        # Interfaces one after another: link add to attached.
        lat = []
        for i in range(n_seq):
            name = f"{PAT}{i}"
            t0 = time.perf_counter()
            sh(["ip", "link", "add", name, "type", "veth", "peer", "name", f"pe{i}"], ns=ns)
            t = d.wait(lambda ln, n=name: ln.startswith(f"{n}: TC ingress attached"))
            lat.append((t - t0) * 1000 if t else None)
        missed = sum(1 for x in lat if x is None)
        lat = [x for x in lat if x is not None]
        res["veth_attach_ms"] = {"n": n_seq, "missed": missed, "p50": pct(lat, 50),
                                 "p99": pct(lat, 99), "max": max(lat) if lat else None}
        log(f"daemon: veth to attached p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms")
        # A burst: all at once.
        d.drain()
        batch = "".join(f"link add {PAT}x{i} type veth peer name px{i}\n" for i in range(n_burst))
        t0 = time.perf_counter()
        sh(["ip", "-batch", "-"], ns=ns, input=batch)
        seen, last = 0, None
        while seen < n_burst:
            t = d.wait(lambda ln: ln.startswith(f"{PAT}x") and "TC ingress attached" in ln,
                       timeout=30)
            if t is None:
                break
            seen, last = seen + 1, t
        res["burst"] = {"n": n_burst, "attached": seen,
                        "converged_s": (last - t0) if last and seen == n_burst else None}
        log(f"daemon: burst of {n_burst}: {seen} attached in "
            f"{(last - t0) if last else float('nan'):.2f} s")
        # Addresses: to the ipmap line of the reconcile.
        alat = []
        for i in range(50):
            d.drain()
            t0 = time.perf_counter()
            sh(["ip", "addr", "add", f"10.99.{i}.1/24", "dev", f"{PAT}0"], ns=ns)
            t = d.wait(lambda ln: ln.startswith("~ ipmap"))
            t = t and d.wait(lambda ln: ln.startswith("rules: "))
            alat.append((t - t0) * 1000 if t else None)
        missed = sum(1 for x in alat if x is None)
        alat = [x for x in alat if x is not None]
        res["address_ipmap_ms"] = {"n": 50, "missed": missed, "p50": pct(alat, 50),
                                   "p99": pct(alat, 99)}
        log(f"daemon: address to ipmap p99 {pct(alat, 99):.1f} ms")
        # Idle.
        time.sleep(1)
        c0, t0 = cpu_s(d.pid), time.perf_counter()
        time.sleep(idle_s)
        res["idle"] = {"seconds": idle_s,
                       "cpu_pct": 100 * (cpu_s(d.pid) - c0) / (time.perf_counter() - t0),
                       "rss_mib_1k_rules": rss_mib(d.pid)}
        log(f"daemon: idle {res['idle']['cpu_pct']:.2f}% of a core, "
            f"{res['idle']['rss_mib_1k_rules']:.1f} MiB with 1k rules")
    finally:
        d.stop()
        sh(["ip", "netns", "exec", ns, XTC, "-c", cfg, "unload", "--all"], check=False)
    res["churn"] = churn(ctx, ns, fs, 20 if quick else 300)
    c = res["churn"]
    log(f"daemon: churn {c['pods']} pods in {c['seconds']} s: lost {c['lost']}, "
        f"before {c['before']}, after {c['after']}")
    # SIGHUP, one rule changed, at 100k rules.
    big = os.path.join(ctx["dir"], "daemon-100k.ini")
    config(big, fs, 100_000)
    d = Daemon(ns, big)
    try:
        hup, patched = [], 0
        for i in range(3 if quick else 5):
            config(big, fs, 100_000, port=8000 + i)
            d.drain()
            seen = []
            t0 = time.perf_counter()
            os.kill(d.pid, signal.SIGHUP)
            t = d.wait(lambda ln: seen.append(ln) or ln.startswith("~ classifier"), timeout=60)
            t = t and d.wait(lambda ln: ln.startswith("rules: "), timeout=60)
            if t:
                hup.append((t - t0) * 1000)
            # The daemon says whether it patched the rule or read the file whole.
            patched += any("changed in place" in ln for ln in seen)
        res["sighup_one_rule_100k_ms"] = summary(hup) if hup else None
        res["sighup_patched"] = {"patched": patched, "reloads": 3 if quick else 5}
        log(f"daemon: SIGHUP, one rule of 100k changed: {res['sighup_one_rule_100k_ms']}, "
            f"{patched} patched")
    finally:
        d.stop()
        sh(["ip", "netns", "exec", ns, XTC, "-c", big, "unload", "--all"], check=False)
        sh(["ip", "netns", "del", ns], check=False)
    return res
