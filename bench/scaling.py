"""2. Rule scaling: ns/packet against rule count.

- xtc, mixed rules (rulegen: /32s, /24, /16+/28, port ranges, IPv6; 21 match
  shapes as written; the compiler cuts the ranges of the small sizes into fewer,
  docs/datapath.md), at the sizes the control-plane section loads: the
  measurement runs on the programs `xtc apply` attached, with the rules it
  loaded.  The measured packet hits the file's last rule, so the search walks
  every tuple space at every size; the second packet matches nothing.
- The rules xdp-filter can express (destination /32s), for xtc and for
  xdp-filter, up to xdp-filter's filter_ipv4 capacity (10,000 entries).

BPF_PROG_TEST_RUN repeats one packet, so the rule's hash bucket stays in
cache: this measures instruction cost, not the cache misses a large table
causes under real traffic with many flows.

The sizes are measured minutes apart (each when the control section has it
loaded), and this machine drifts more than that: the trivial XDP and TC
programs (the floors of section 1) are measured interleaved with xtc at every
size, and the ratio between sizes is also given with each side divided by its
own floor, which takes the drift out."""
import os

import bpfsys
import packets
import rulegen
from common import (bpffs, log, match_shapes, netns, ratio, sh, summary, veth, xdp_prog_id,
                    xtc)
from xdpfilter import FILTER_IPV4_MAX, XdpFilter


def _over(a, b):
    return a / b if a is not None and b else None


def _measure_many(fds, pkts, reps, repeat):
    """{prog: {packet: summary of ns}}, {prog: {packet: retval}}: every program and
    packet interleaved in each repetition, so that drift hits them alike, in turns
    forwards and backwards."""
    s = {n: {k: [] for k in pkts} for n in fds}
    rv = {n: {} for n in fds}
    for fd in fds.values():  # warm-up: caches, branch predictors, CPU clock
        for p in pkts.values():
            bpfsys.test_run(fd, p, repeat // 4)
    order = list(fds.items())
    for rep in range(reps):
        # Every other repetition backwards: no program always runs first or last.
        for n, fd in (order if rep % 2 == 0 else order[::-1]):
            for k, p in pkts.items():
                r, d = bpfsys.test_run(fd, p, repeat)
                s[n][k].append(d)
                rv[n][k] = r
    return {n: {k: summary(v) for k, v in x.items()} for n, x in s.items()}, rv


def _measure(fd, pkts, reps, repeat):
    """{name: summary of ns} and {name: retval} for each packet, interleaved."""
    s = {k: [] for k in pkts}
    rv = {}
    for p in pkts.values():  # warm-up: caches, branch predictors, CPU clock
        bpfsys.test_run(fd, p, repeat // 4)
    for _ in range(reps):
        for k, p in pkts.items():
            r, d = bpfsys.test_run(fd, p, repeat)
            s[k].append(d)
            rv[k] = r
    return {k: summary(v) for k, v in s.items()}, rv


class Scaling:
    def __init__(self, ctx):
        self.ctx = ctx
        self.res = {"mixed": {}, "dst32": {"xtc": {}, "xdp-filter": {}}}
        self.floors = {}
        # The smallest size's programs, held after its unload (an fd keeps a program and
        # its maps): every larger size runs them in the same loop as its own, so that the
        # ratio of sizes minutes apart is not drift.
        self.smallest = {}

    def on_loaded(self, n, ns, dev, fs, cfg):
        """Called by the control section with n mixed rules loaded."""
        pkts = {"hit last rule": packets.tcp4(*rulegen.TAIL_PACKET),
                "no match": packets.tcp4(*rulegen.MISS_PACKET)}
        if not self.floors:
            self.floors = {
                "XDP floor": bpfsys.load_trivial(bpfsys.PROG_TYPE_XDP, bpfsys.XDP_PASS,
                                                 "floor_xdp"),
                "TC floor": bpfsys.load_trivial(bpfsys.PROG_TYPE_SCHED_CLS, bpfsys.TC_ACT_OK,
                                                "floor_tc")}
        fds = {"xtc XDP": bpfsys.prog_fd_by_id(xdp_prog_id(ns, dev)),
               "xtc TC": bpfsys.obj_get(os.path.join(fs, "xtc", "progs", "tc_ingress"))}
        out = {}
        held = {"smallest " + k: fd for k, fd in self.smallest.items()}
        keep = not self.smallest
        try:
            ns_, rv = _measure_many({**fds, **self.floors, **held}, pkts, self.ctx["reps"],
                                    self.ctx["repeat"])
            for name in list(fds) + list(self.floors) + list(held):
                out[name] = {"ns": ns_[name], "retval": rv[name]}
        finally:
            if keep:
                self.smallest = fds
            else:
                for fd in fds.values():
                    os.close(fd)
        out["match_shapes"] = match_shapes(ns, cfg)
        self.res["mixed"][n] = out
        log(f"scaling: {n:,} mixed rules: xtc XDP "
            f"{out['xtc XDP']['ns']['hit last rule']['median']:.0f} ns (hit), "
            f"{out['xtc XDP']['ns']['no match']['median']:.0f} ns (miss)")

    def run_dst32(self):
        """xtc and xdp-filter with N destination /32 drop rules."""
        ctx = self.ctx
        ns = netns("xbsc")
        fs = bpffs(ctx["dir"])
        veth(ns, "sx0", ns, "sx1")
        veth(ns, "sf0", ns, "sf1")
        cfg = os.path.join(ctx["dir"], "dst32.ini")
        filt = None
        try:
            filt = XdpFilter(ns, "sf1", fs)
            loaded = 0
            for n in ctx["dst32_sizes"]:
                addrs = [f"20.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}" for k in range(n)]
                with open(cfg, "w") as f:
                    f.write(f"[global]\nbpffs = {fs}\nxdp = on\nmax_rules = {max(65536, n + 1)}\n"
                            "[interface sx0]\n")
                    for i, a in enumerate(addrs):
                        f.write(f"[rule d{i}]\ndst = {a}\naction = drop\n")
                xtc(ns, cfg, "apply")
                filt.add_addrs(addrs[loaded:])
                loaded = n
                pkts = {"hit": packets.tcp4(addrs[n // 2], 8443),
                        "no match": packets.tcp4("198.51.100.99", 8443)}
                fds = {"xtc": bpfsys.prog_fd_by_id(xdp_prog_id(ns, "sx0")),
                       "xdp-filter": bpfsys.prog_fd_by_id(filt.prog_id)}
                try:
                    for name, fd in fds.items():
                        s, rv = _measure(fd, pkts, ctx["reps"], ctx["repeat"])
                        self.res["dst32"][name][n] = {"ns": s, "retval": rv}
                finally:
                    for fd in fds.values():
                        os.close(fd)
                r = self.res["dst32"]
                log(f"scaling: {n:,} dst /32 rules: xtc {r['xtc'][n]['ns']['hit']['median']:.0f} ns, "
                    f"xdp-filter {r['xdp-filter'][n]['ns']['hit']['median']:.0f} ns (hit)")
        finally:
            if filt:
                filt.close()
            xtc(ns, cfg, "unload", "--all", check=False)
            sh(["ip", "netns", "del", ns], check=False)

    def result(self):
        m = self.res["mixed"]
        sizes = sorted(m)
        if sizes and sizes[0] != sizes[-1]:
            lo, hi = sizes[0], sizes[-1]
            self.res["ratio_largest_to_smallest"] = {
                "from": lo, "to": hi,
                **{f"{prog}, {pk}": ratio(m[hi][prog]["ns"][pk], m[lo][prog]["ns"][pk])
                   for prog in ("xtc XDP", "xtc TC") for pk in ("hit last rule", "no match")}}
            if all("smallest " + p in m[hi] for p in ("xtc XDP", "xtc TC")):
                self.res["ratio_largest_to_smallest_side_by_side"] = {
                    "from": lo, "to": hi,
                    **{f"{prog}, {pk}": ratio(m[hi][prog]["ns"][pk],
                                              m[hi]["smallest " + prog]["ns"][pk])
                       for prog in ("xtc XDP", "xtc TC") for pk in ("hit last rule", "no match")}}
            floor = {"xtc XDP": "XDP floor", "xtc TC": "TC floor"}
            if all(floor[p] in m[n] for n in (lo, hi) for p in floor):
                self.res["ratio_largest_to_smallest_vs_floor"] = {
                    "from": lo, "to": hi,
                    **{f"{prog}, {pk}": _over(ratio(m[hi][prog]["ns"][pk],
                                                    m[hi][floor[prog]]["ns"][pk]),
                                              ratio(m[lo][prog]["ns"][pk],
                                                    m[lo][floor[prog]]["ns"][pk]))
                       for prog in floor for pk in ("hit last rule", "no match")}}
        for fd in self.smallest.values():
            os.close(fd)
        self.smallest = {}
        d = self.res["dst32"]
        self.res["dst32_ratio"] = {n: ratio(d["xtc"][n]["ns"]["hit"], d["xdp-filter"][n]["ns"]["hit"])
                                   for n in d["xtc"] if n in d["xdp-filter"]}
        self.res["xdp_filter_ipv4_max"] = FILTER_IPV4_MAX
        return self.res
