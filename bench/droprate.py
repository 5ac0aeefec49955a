"""5. XDP drop rate: packets/s dropped on the receiving end of a veth.

One generator for every method (trafficgen.py: XDP live frames redirected
out of g0, pinned to CPU 0; the veth delivers them to g1's NAPI, which runs
on the same CPU, so the rate is that of generator + receiver together).
Methods on g1: xtc with one drop rule (native XDP), xdp-filter with the same
port, an nftables drop rule in the netdev ingress hook (no XDP; GRO on so
that the veth takes XDP frames), and a bare XDP_DROP program as the ceiling.
Drops are read from the veth's own counters (xdp_drops) or the nft rule's
counter.  xtc and xdp-filter also run under a flood: every frame has a random
source address and port, so every frame is a new flow for xtc's verdict
cache (its worst case; a repeated flow is its best)."""
import json
import os
import sys

import bpfsys
from common import bpffs, log, mac, netns, ratio, sh, summary, veth, xtc
from xdpfilter import XdpFilter

HERE = os.path.dirname(os.path.abspath(__file__))
DPORT = 9
# ", flood": the same, with a random source address and port on every frame.
METHODS = ["XDP_DROP floor", "xtc", "xdp-filter", "nftables ingress", "xtc, flood",
           "xdp-filter, flood"]


def xdp_drops(ns, dev):
    out = sh(["ethtool", "-S", dev], ns=ns).stdout
    return sum(int(ln.split(":")[1]) for ln in out.splitlines() if ln.strip().startswith("rx_queue_")
               and ln.split(":")[0].strip().endswith("_xdp_drops"))


def nft_count(ns):
    j = json.loads(sh(["nft", "-j", "list", "table", "netdev", "xtcbench"], ns=ns).stdout)
    for item in j["nftables"]:
        for e in item.get("rule", {}).get("expr", []):
            if "counter" in e:
                return e["counter"]["packets"]
    return 0


def run(ctx):
    reps, secs = ctx["reps"], ctx["drop_secs"]
    ns = netns("xbdr")
    fs = bpffs(ctx["dir"])
    veth(ns, "g0", ns, "g1")
    sh(["ip", "addr", "add", "10.99.0.2/24", "dev", "g1"], ns=ns)
    sh(["ethtool", "-K", "g1", "gro", "on"], ns=ns)
    dst_mac = mac(ns, "g1")
    cfg = os.path.join(ctx["dir"], "droprate.ini")
    with open(cfg, "w") as f:
        f.write(f"[global]\nbpffs = {fs}\nxdp = on\n[interface g1]\n"
                f"[rule drop-discard]\nproto = udp\ndst_port = {DPORT}\naction = drop\n")
    nft_file = os.path.join(ctx["dir"], "droprate.nft")
    with open(nft_file, "w") as f:
        f.write("table netdev xtcbench {\n chain ing {\n"
                "  type filter hook ingress device g1 priority 0; policy accept;\n"
                f"  udp dport {DPORT} counter drop\n }}\n}}\n")
    floor_pin = os.path.join(fs, "xdp_drop_floor")
    fd = bpfsys.load_trivial(bpfsys.PROG_TYPE_XDP, bpfsys.XDP_DROP, "xdp_drop_floor")
    bpfsys.obj_pin(fd, floor_pin)
    os.close(fd)

    state = {"filt": None}

    def setup(m):
        m = m.split(",")[0]
        if m == "XDP_DROP floor":
            sh(["ip", "link", "set", "dev", "g1", "xdpdrv", "pinned", floor_pin], ns=ns)
        elif m == "xtc":
            xtc(ns, cfg, "apply")
        elif m == "xdp-filter":
            state["filt"] = XdpFilter(ns, "g1", fs)
            state["filt"].tool("port", str(DPORT))
        else:
            sh(["nft", "-f", nft_file], ns=ns)

    def teardown(m):
        m = m.split(",")[0]
        if m == "XDP_DROP floor":
            sh(["ip", "link", "set", "dev", "g1", "xdpdrv", "off"], ns=ns, check=False)
        elif m == "xtc":
            xtc(ns, cfg, "unload", "--all", check=False)
        elif m == "xdp-filter" and state["filt"]:
            state["filt"].close()
            state["filt"] = None
        elif m == "nftables ingress":
            sh(["nft", "delete", "table", "netdev", "xtcbench"], ns=ns, check=False)

    def count(m):
        return nft_count(ns) if m == "nftables ingress" else xdp_drops(ns, "g1")

    samples = {m: {"dropped_mpps": [], "sent_mpps": []} for m in METHODS}
    try:
        for rep in range(reps):
            for m in METHODS:
                setup(m)
                try:
                    before = count(m)
                    r = sh(["taskset", "-c", "0", sys.executable, os.path.join(HERE, "trafficgen.py"),
                            "g0", dst_mac, "10.99.0.2", str(DPORT), str(secs)] +
                           (["flood"] if m.endswith(", flood") else []), ns=ns,
                           timeout=secs + 60)
                    after = count(m)
                finally:
                    teardown(m)
                g = json.loads(r.stdout)
                samples[m]["dropped_mpps"].append((after - before) / g["secs"] / 1e6)
                samples[m]["sent_mpps"].append(g["sent"] / g["secs"] / 1e6)
            log(f"droprate: repetition {rep + 1}/{reps}: " + ", ".join(
                f"{m} {samples[m]['dropped_mpps'][-1]:.2f} Mpps" for m in METHODS))
    finally:
        for m in METHODS:
            teardown(m)
        sh(["ip", "netns", "del", ns], check=False)
    res = {"reps": reps, "secs": secs, "methods": {}}
    for m in METHODS:
        res["methods"][m] = {k: summary(v) for k, v in samples[m].items()}
    d = {m: res["methods"][m]["dropped_mpps"] for m in METHODS}
    res["xtc_vs_xdp_filter"] = ratio(d["xtc"], d["xdp-filter"])
    res["xtc_vs_nft"] = ratio(d["xtc"], d["nftables ingress"])
    res["xtc_vs_floor"] = ratio(d["xtc"], d["XDP_DROP floor"])
    res["xtc_flood_vs_xdp_filter_flood"] = ratio(d["xtc, flood"], d["xdp-filter, flood"])
    res["xtc_flood_vs_floor"] = ratio(d["xtc, flood"], d["XDP_DROP floor"])
    res["generator"] = "bench/trafficgen.py (XDP live frames; xdp-trafficgen 1.3.1 fails on this kernel)"
    return res
