"""1. Datapath cost per packet, with BPF_PROG_TEST_RUN.

xtc's XDP and TC programs as `xtc apply` attached them, a bare program
(`return XDP_PASS`, and `return TC_ACT_OK` for TC) as the floor, and Debian's
xdp-filter loaded by its own tool with the same rules: destination ports
(TCP and UDP) and destination addresses.  Every program runs each packet
`repeat` times per measurement; the kernel reports the average ns per run."""
import os

import bpfsys
import packets
from common import (bpffs, log, netns, ratio, sh, summary, veth, xdp_prog_id, xtc)
from xdpfilter import XdpFilter

PORTS = [80, 443]
V4 = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
V6 = ["2001:db8:2::1", "2001:db8:2::2", "2001:db8:2::3"]

# name -> (packet, verdict both filters must give)
PACKETS = {
    "IPv4 TCP (dst port rule)": (packets.tcp4("198.51.100.7", 443), "drop"),
    "IPv6 UDP (dst address rule)": (packets.udp6("2001:db8:2::2", 5353), "drop"),
    "VLAN IPv4 TCP (dst address rule)": (packets.tcp4("192.0.2.2", 8080, vlan=100), "drop"),
    "no rule matches (IPv4 UDP)": (packets.udp4("198.51.100.9", 9999), "pass"),
}
PROGRAMS = ["xtc XDP", "xdp-filter", "XDP floor", "xtc TC", "TC floor"]


def xtc_config(path, fs, dev):
    with open(path, "w") as f:
        f.write(f"[global]\nbpffs = {fs}\nxdp = on\n[interface {dev}]\n")
        for p in PORTS:
            for proto in ("tcp", "udp"):
                f.write(f"[rule port-{proto}-{p}]\nproto = {proto}\ndst_port = {p}\naction = drop\n")
        for i, a in enumerate(V4 + V6):
            f.write(f"[rule addr-{i}]\ndst = {a}\naction = drop\n")


def verdict(prog, retval):
    if prog.startswith("xtc TC") or prog == "TC floor":
        return {bpfsys.TC_ACT_OK: "pass", bpfsys.TC_ACT_SHOT: "drop"}.get(retval, str(retval))
    return {bpfsys.XDP_PASS: "pass", bpfsys.XDP_DROP: "drop"}.get(retval, str(retval))


def run(ctx):
    reps, repeat = ctx["reps"], ctx["repeat"]
    ns = netns("xbdp")
    fs = bpffs(ctx["dir"])
    veth(ns, "dx0", ns, "dx1")
    veth(ns, "df0", ns, "df1")
    cfg = os.path.join(ctx["dir"], "datapath.ini")
    xtc_config(cfg, fs, "dx0")
    xtc(ns, cfg, "apply")
    fds = {}
    filt = None
    try:
        fds["xtc XDP"] = bpfsys.prog_fd_by_id(xdp_prog_id(ns, "dx0"))
        fds["xtc TC"] = bpfsys.obj_get(os.path.join(fs, "xtc", "progs", "tc_ingress"))
        fds["XDP floor"] = bpfsys.load_trivial(bpfsys.PROG_TYPE_XDP, bpfsys.XDP_PASS, "floor_xdp")
        fds["TC floor"] = bpfsys.load_trivial(bpfsys.PROG_TYPE_SCHED_CLS, bpfsys.TC_ACT_OK,
                                              "floor_tc")
        filt = XdpFilter(ns, "df1", fs)
        for p in PORTS:
            filt.tool("port", str(p))
        for a in V4 + V6:
            filt.tool("ip", a)
        fds["xdp-filter"] = bpfsys.prog_fd_by_id(filt.prog_id)
        filt_obj = filt.prog_name()

        samples = {(p, k): [] for p in PROGRAMS for k in PACKETS}
        verdicts = {}
        for p in PROGRAMS:  # warm-up: caches, branch predictors, CPU clock
            for pkt, _ in PACKETS.values():
                bpfsys.test_run(fds[p], pkt, repeat // 4)
        for rep in range(reps):
            for k, (pkt, _) in PACKETS.items():
                for p in PROGRAMS:
                    rv, ns_per = bpfsys.test_run(fds[p], pkt, repeat)
                    samples[(p, k)].append(ns_per)
                    verdicts[(p, k)] = verdict(p, rv)
            log(f"datapath: repetition {rep + 1}/{reps} done")
    finally:
        for fd in fds.values():
            os.close(fd)
        if filt:
            filt.close()
        xtc(ns, cfg, "unload", "--all", check=False)
        sh(["ip", "netns", "del", ns], check=False)

    res = {"repeat": repeat, "reps": reps, "xdp_filter_object": filt_obj,
           "rules_xtc": 2 * len(PORTS) + len(V4) + len(V6),
           "rules_xdp_filter": f"{len(PORTS)} ports (tcp,udp), {len(V4)} IPv4 + {len(V6)} IPv6 "
                               "destination addresses",
           "packets": {}}
    for k, (_, want) in PACKETS.items():
        row = {p: summary(samples[(p, k)]) for p in PROGRAMS}
        res["packets"][k] = {
            "ns": row,
            "verdict": {p: verdicts[(p, k)] for p in PROGRAMS},
            "expected": want,
            "xtc_xdp_vs_xdp_filter": ratio(row["xtc XDP"], row["xdp-filter"]),
            "xtc_xdp_vs_floor": ratio(row["xtc XDP"], row["XDP floor"]),
            "xtc_tc_vs_floor": ratio(row["xtc TC"], row["TC floor"]),
            "xtc_tc_vs_xdp_filter": ratio(row["xtc TC"], row["xdp-filter"]),
        }
    return res
