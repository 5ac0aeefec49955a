"""1. Datapath cost per packet, with BPF_PROG_TEST_RUN.

xtc's XDP and TC programs as `xtc apply` attached them, a bare program
(`return XDP_PASS`, and `return TC_ACT_OK` for TC) as the floor, and Debian's
xdp-filter loaded by its own tool with the same rules: destination ports
(TCP and UDP) and destination addresses.  Every program runs each packet
`repeat` times per measurement; the kernel reports the average ns per run.

A repeated packet is always in xtc's verdict cache (include/xtc_vcache.bpf.h):
that is the best case, a flow seen before.  The worst case, every packet a
new flow as in a flood of random sources, is measured on the same rules with
an xtc built with -DXTC_VCACHE_COLD ("cold"): it does all of the cache's
work (hash, slot, compare, the replacement draw) and never takes a hit.

The same programs also run the realistic mix of bench/rulegen.py (10 rules +
its tail rule: 21 match shapes as written, fewer once the compiler cuts their
port ranges, docs/datapath.md), against xdp-filter on the same packets."""
import os

import bpfsys
import packets
import rulegen
from common import (bpffs, log, match_shapes, netns, open_ns_file, ratio, sh, summary, veth,
                    xdp_prog_id, xtc)
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
MIX_PACKETS = {"hit last rule": packets.tcp4(*rulegen.TAIL_PACKET),
               "no match": packets.tcp4(*rulegen.MISS_PACKET)}
PROGRAMS = ["xtc XDP", "xtc XDP cold", "xdp-filter", "XDP floor", "xtc TC", "xtc TC cold",
            "TC floor"]


def xtc_config(path, fs, dev):
    with open(path, "w") as f:
        f.write(f"[global]\nbpffs = {fs}\nxdp = on\n[interface {dev}]\n"
                f"[interface {dev}t]\nxdp = off\ntc_ingress = on\n")
        for p in PORTS:
            for proto in ("tcp", "udp"):
                f.write(f"[rule port-{proto}-{p}]\nproto = {proto}\ndst_port = {p}\naction = drop\n")
        for i, a in enumerate(V4 + V6):
            f.write(f"[rule addr-{i}]\ndst = {a}\naction = drop\n")


def verdict(prog, retval):
    if prog.startswith("xtc TC") or prog == "TC floor":
        return {bpfsys.TC_ACT_OK: "pass", bpfsys.TC_ACT_SHOT: "drop"}.get(retval, str(retval))
    return {bpfsys.XDP_PASS: "pass", bpfsys.XDP_DROP: "drop"}.get(retval, str(retval))


# The mix's shapes as its rules are written (xtc_tss_count_shapes, the 64-shape check).
MIX_SHAPES_UNCUT = 21


def _xtc_instance(ctx, ns, dev, binary, write):
    """xtc applied with its own bpffs on dev (XDP) and on dev + "t" (TC alone, where TC
    classifies: on dev, XDP did); (config, XDP fd, TC fd, ifindex of dev + "t")."""
    veth(ns, dev, ns, dev + "p")
    veth(ns, dev + "t", ns, dev + "tp")
    fs = bpffs(ctx["dir"])
    cfg = os.path.join(ctx["dir"], f"datapath-{dev}.ini")
    write(cfg, fs, dev)
    xtc(ns, cfg, "apply", binary=binary)
    return (cfg, binary, bpfsys.prog_fd_by_id(xdp_prog_id(ns, dev)),
            bpfsys.obj_get(os.path.join(fs, "xtc", "progs", "tc_ingress")),
            int(open_ns_file(ns, f"/sys/class/net/{dev}t/ifindex")))


def _mix_config(cfg, fs, dev):
    rulegen.write_config(cfg, 10, fs, ifaces=[(dev, {}), (dev + "t", {"xdp": "off",
                                                                        "tc_ingress": "on"})],
                         extra=rulegen.TAIL_RULE)


def run(ctx):
    reps, repeat = ctx["reps"], ctx["repeat"]
    cold = ctx.get("xtc_cold")
    ns = netns("xbdp")
    fs = bpffs(ctx["dir"])
    veth(ns, "df0", ns, "df1")
    fds, mix_fds, applied = {}, {}, []
    mix_shapes = None
    # TC runs on the device it is attached to, as live packets do: its record is there.
    ifindex, mix_ifindex = {}, {}
    filt = None
    try:
        # (program suffix, binary) x (section-1 rules, mixed rules)
        for suffix, binary in [("", None)] + ([(" cold", cold)] if cold else []):
            tag = "c" if suffix else "w"
            for kind, write, into, where in (("s", xtc_config, fds, ifindex),
                                             ("m", _mix_config, mix_fds, mix_ifindex)):
                cfg, b, xfd, tfd, idx = _xtc_instance(ctx, ns, f"d{tag}{kind}0", binary, write)
                applied.append((cfg, b))
                if kind == "m" and not suffix:
                    mix_shapes = match_shapes(ns, cfg)
                into["xtc XDP" + suffix], into["xtc TC" + suffix] = xfd, tfd
                where["xtc TC" + suffix] = where["TC floor"] = idx
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
        mix_fds["xdp-filter"], mix_fds["XDP floor"] = fds["xdp-filter"], fds["XDP floor"]
        mix_fds["TC floor"] = fds["TC floor"]
        progs = [p for p in PROGRAMS if p in fds]
        runs = [(p, k, fds[p], pkt, ifindex.get(p, 0)) for k, (pkt, _) in PACKETS.items()
                for p in progs]
        runs += [(p, "mix: " + k, mix_fds[p], pkt, mix_ifindex.get(p, 0))
                 for k, pkt in MIX_PACKETS.items() for p in progs]

        samples = {(p, k): [] for p, k, _, _, _ in runs}
        verdicts = {}
        with bpfsys.in_netns(ns):
            for _, _, fd, pkt, idx in runs:  # warm-up: caches, branch predictors, CPU clock
                bpfsys.test_run(fd, pkt, repeat // 4, idx)
            for rep in range(reps):
                for p, k, fd, pkt, idx in runs:
                    rv, ns_per = bpfsys.test_run(fd, pkt, repeat, idx)
                    samples[(p, k)].append(ns_per)
                    verdicts[(p, k)] = verdict(p, rv)
                log(f"datapath: repetition {rep + 1}/{reps} done")
    finally:
        for fd in set(fds.values()) | set(mix_fds.values()):
            os.close(fd)
        if filt:
            filt.close()
        for cfg, binary in applied:
            xtc(ns, cfg, "unload", "--all", check=False, binary=binary)
        sh(["ip", "netns", "del", ns], check=False)

    res = {"repeat": repeat, "reps": reps, "xdp_filter_object": filt_obj,
           "rules_xtc": 2 * len(PORTS) + len(V4) + len(V6),
           "rules_xdp_filter": f"{len(PORTS)} ports (tcp,udp), {len(V4)} IPv4 + {len(V6)} IPv6 "
                               "destination addresses",
           "packets": {}}
    def entry(k):
        row = {p: summary(samples[(p, k)]) for p in progs}
        return {
            "ns": row,
            "verdict": {p: verdicts[(p, k)] for p in progs},
            "xtc_xdp_vs_xdp_filter": ratio(row["xtc XDP"], row["xdp-filter"]),
            "xtc_xdp_cold_vs_xdp_filter": ratio(row.get("xtc XDP cold"), row["xdp-filter"]),
            "xtc_xdp_vs_floor": ratio(row["xtc XDP"], row["XDP floor"]),
            "xtc_tc_vs_floor": ratio(row["xtc TC"], row["TC floor"]),
            "xtc_tc_cold_vs_floor": ratio(row.get("xtc TC cold"), row["TC floor"]),
            "xtc_tc_vs_xdp_filter": ratio(row["xtc TC"], row["xdp-filter"]),
        }

    for k, (_, want) in PACKETS.items():
        res["packets"][k] = dict(entry(k), expected=want)
    res["mix"] = {"rules": f"bench/rulegen.py: 10 rules + its tail rule ({mix_shapes} match "
                           f"shapes, {MIX_SHAPES_UNCUT} before port ranges are cut)",
                  "shapes": mix_shapes,
                  "packets": {k: entry("mix: " + k) for k in MIX_PACKETS}}
    res["cold"] = bool(cold)
    return res
