#!/usr/bin/python3
"""Guest side of the VM coexistence test; runs INSIDE the VM as one process:
    tests/vm/run-vm.sh tests/vm/guest-coexist.sh
(guest-coexist.sh only execs this file with /usr/bin/python3.)

xtc's XDP program beside xdp-filter, programs loaded with xdp-loader and
xdpdump, all under libxdp's dispatcher on one interface per case.  Every case
gets a fresh veth pair (root side under test, far side in the netns xcons),
prints its evidence (commands and their output, xdp-loader status, xtc status
--json), then exactly one line
    CASE <name> PASS
    CASE <name> FAIL <reason>
and cleans up.  The last line is "COEXIST SUMMARY passed=N failed=M"; the exit
status is 0 only when every case passed.  tests/vm/test_vm_coexist.py boots
the VM once and turns each CASE line into one pytest test.

Needs on the host, before the boot: `make` (build/xtc), and in $XTC_VM_BUILD
xdp_coex.o and xdp_pass.o compiled from tests/vm/xdp_coex.bpf.c and
xdp_pass.bpf.c (the pytest file does it).  Traffic is ping and bash's /dev/udp from the netns; no scapy
(too slow under TCG) and no timings: waits only poll for a counter to move.
Optional arguments: case names to run (default: all).
"""
import json
import os
import socket
import select
import signal
import struct
import subprocess
import sys
import time
import traceback

REPO = os.environ.get("XTC_REPO") or os.getcwd()
XTC = os.path.join(REPO, "build", "xtc")
VM_BUILD = os.environ.get("XTC_VM_BUILD") or os.path.join(REPO, "build", "vm")
OBJ = os.path.join(VM_BUILD, "xdp_coex.o")
LEGACY_OBJ = os.path.join(VM_BUILD, "xdp_pass.o")    # tests/vm/xdp_pass.bpf.c
META_OBJ = os.path.join(VM_BUILD, "xdp_meta.o")      # tests/vm/xdp_meta.bpf.c
NS = "xcons"
WORK = "/tmp/xco"
CMD_TIMEOUT = 120          # seconds; only a guard against a hung command
POLL_TRIES = 200           # x 0.05 s: how long a counter may take to move
DISPATCHER_MAX = 10        # libxdp's MAX_DISPATCHER_ACTIONS
PINGS = 3
UDP = 4


class Fail(Exception):
    pass


# Our XDP program's name: xtc_xdp, or xtc_xdp_nh (no TC handoff) where the kernel
# refuses packet-data changes in dispatcher slots.  The first case finds out which.
OURS = "xtc_xdp"
REFUSES = [None]


def say(*a):
    print(*a, flush=True)


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def sh(args, ok=True, timeout=CMD_TIMEOUT, show=True):
    """Runs args; ok=True: must exit 0, False: must fail, None: either."""
    if show:
        say("+ " + " ".join(args))
    try:
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail(f"command hung (> {timeout}s): {' '.join(args)}")
    if show:
        for line in (p.stdout + p.stderr).rstrip("\n").splitlines():
            say("    " + line)
        if p.returncode:
            say(f"    [exit {p.returncode}]")
    if ok is True and p.returncode:
        raise Fail(f"`{' '.join(args)}` exited {p.returncode}: "
                   f"{(p.stderr or p.stdout).strip()[-300:]}")
    if ok is False and not p.returncode:
        raise Fail(f"`{' '.join(args)}` succeeded but must fail")
    return p


def wait_until(cond, what):
    """Polls cond() until true; the datapath runs in softirq, after the sender returns."""
    for _ in range(POLL_TRIES):
        if cond():
            return
        time.sleep(0.05)
    raise Fail(f"timed out waiting for {what}")


# ---- what the tools report ------------------------------------------------

def loader_status(iface, show=True):
    """xdp-loader status IFACE -> {'dispatcher': id or None, 'mode', 'progs': [...]}.

    Lines: "IFACE  xdp_dispatcher  MODE  ID  TAG" then one
    " =>  PRIO  NAME  ID  TAG  ACTIONS" per program, in run order.
    """
    out = sh(["xdp-loader", "status", iface], show=show).stdout
    res = {"dispatcher": None, "mode": None, "progs": [], "single": None, "text": out}
    in_disp = False
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0] == iface:
            in_disp = f[1] == "xdp_dispatcher"
            if in_disp:
                res["dispatcher"], res["mode"] = int(f[3]), f[2]
            elif f[1] != "<No":
                res["single"] = {"name": f[1], "mode": f[2], "id": int(f[3])}
            continue
        if in_disp and f and f[0] == "=>":
            acts = set(",".join(f[5:]).replace(",", " ").split()) if len(f) > 5 else set()
            res["progs"].append({"prio": int(f[1]), "name": f[2], "id": int(f[3]),
                                 "chain": acts})
        elif f and f[0] != "=>":
            in_disp = False
    return res


def names(ls):
    return [p["name"] for p in ls["progs"]]


def xtc(ini, *args, ok=True):
    return sh([XTC, "-c", ini] + list(args), ok=ok)


def xtc_status(ini, show=True):
    p = sh([XTC, "-c", ini, "status", "--json"], ok=None, show=show)
    if p.returncode not in (0, 3):     # 3: a problem is listed, or xtc is not loaded
        return None
    return json.loads(p.stdout)


def xtc_xdp(ini, iface):
    st = xtc_status(ini)
    check(st is not None, "xtc status --json failed")
    for i in st["interfaces"]:
        if i["interface"] == iface:
            return i["xdp"]
    raise Fail(f"xtc status does not list {iface}")


def xtc_rule(ini, rule):
    p = sh([XTC, "-c", ini, "stats", "--json"], show=False)
    for r in json.loads(p.stdout)["rules"]:
        if r["rule"] == rule:
            say(f"    = xtc stats: rule {rule}: {r['packets']} packets")
            return r["packets"]
    raise Fail(f"xtc stats has no rule {rule}")


def u64(hexbytes):
    return int.from_bytes(bytes(int(b, 16) for b in hexbytes[:8]), "little")


BSS = {}


def xco_count(pid):
    """xco_seen of the trivial program with this id (its own .bss map)."""
    if pid not in BSS:
        info = json.loads(sh(["bpftool", "prog", "show", "id", str(pid), "-j"],
                             show=False).stdout)
        for mid in info.get("map_ids", []):
            m = json.loads(sh(["bpftool", "map", "show", "id", str(mid), "-j"],
                              show=False).stdout)
            if m.get("name", "").endswith(".bss"):
                BSS[pid] = mid
        check(pid in BSS, f"program {pid} has no .bss map (not an xco program?)")
    d = json.loads(sh(["bpftool", "map", "dump", "id", str(BSS[pid]), "-j"], show=False).stdout)
    n = u64(d[0]["value"])
    say(f"    = program {pid}: xco_seen {n}")
    return n


XDPF_STATS = "/sys/fs/bpf/xdp-filter/xdp_stats_map"


def xdpf_counts():
    """xdp-filter's aggregate (pass, drop) packet counters: what `xdp-filter status`
    prints, read straight from its pinned per-CPU stats map (key = XDP action;
    value = rx_packets, rx_bytes), because xdp-filter status is slow under TCG."""
    d = json.loads(sh(["bpftool", "map", "dump", "pinned", XDPF_STATS, "-j"], show=False).stdout)
    per = {}
    for ent in d:
        key = u64(ent["key"] + ["0x00"] * 4)
        per[key] = sum(u64(v["value"]) for v in ent["values"])
    say(f"    = xdp-filter: XDP_PASS {per.get(2, 0)}, XDP_DROP {per.get(1, 0)} packets")
    return per.get(2, 0), per.get(1, 0)


# ---- one interface per case -----------------------------------------------

class Env:
    def __init__(self, n, name):
        self.name = name
        self.n = n
        self.iface = f"xco{n}"
        self.peer = f"xco{n}p"
        self.local = f"10.77.{n}.1"
        self.ini = os.path.join(WORK, f"{name}.ini")
        self.xdpf = False
        self.procs = []
        self.seen_ids = set()

    @staticmethod
    def create_all(n):
        """All veth pairs at once (two ip -batch runs: each command costs under TCG).

        Static neighbours and no IPv6: the only frames are the ones a case sends, so
        every counter (xdp-filter counts ARP too) moves only by what the case sent."""
        root, far = [], []
        for i in range(1, n + 1):
            mac = lambda end: f"02:00:4d:00:{i:02x}:{end:02x}"
            root += [f"link add xco{i} address {mac(1)} type veth peer name xco{i}p "
                     f"address {mac(2)} netns {NS}",
                     f"addr add 10.77.{i}.1/24 dev xco{i}",
                     f"link set xco{i} up",
                     f"neigh replace 10.77.{i}.2 lladdr {mac(2)} dev xco{i} nud permanent"]
            far += [f"addr add 10.77.{i}.2/24 dev xco{i}p",
                    f"link set xco{i}p up",
                    f"neigh replace 10.77.{i}.1 lladdr {mac(1)} dev xco{i}p nud permanent"]
        for args, cmds in ((["ip", "-batch", "-"], root),
                           (["ip", "-n", NS, "-batch", "-"], far)):
            say("+ " + " ".join(args) + f"  ({len(cmds)} commands)")
            p = subprocess.run(args, input="\n".join(cmds) + "\n", text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=CMD_TIMEOUT)
            check(p.returncode == 0, f"{' '.join(args)} failed: {p.stdout.strip()}")

    def setup(self):
        say(f"# {self.iface} {self.local}/24 <-> {self.peer} 10.77.{self.n}.2/24 in netns {NS}")

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        sh([XTC, "-c", self.ini, "unload", "--all"], ok=None)
        if self.xdpf:
            sh(["xdp-filter", "unload", self.iface], ok=None)
        sh(["ip", "link", "del", self.iface], ok=None)   # takes every XDP program with it

    def write_ini(self, prio=None, where="interface", extra="", mode=None):
        g = f"xdp_priority = {prio}\n" if prio is not None and where == "global" else ""
        i = f"xdp_priority = {prio}\n" if prio is not None and where == "interface" else ""
        i += f"xdp_mode = {mode}\n" if mode else ""
        # Veths: xdp = auto would run TC alone there, and this suite is about XDP.
        text = (f"[global]\nxdp = on\n{g}\n[interface {self.iface}]\n{i}\n"
                "[rule see-icmp]\nproto = icmp\naction = pass\n\n"
                "[rule see-udp7777]\nproto = udp\ndst_port = 7777\naction = pass\n\n"
                "[rule drop-udp9999]\nproto = udp\ndst_port = 9999\naction = drop\n"
                + extra)
        with open(self.ini, "w") as f:
            f.write(text)
        say(f"# {self.ini}:\n" + "".join("    " + l + "\n" for l in text.splitlines()))

    def apply(self, prio=None, where="interface", extra="", mode=None):
        self.write_ini(prio, where, extra, mode)
        return xtc(self.ini, "apply")

    def xdp_filter(self, port_rule=True, mode=None):
        sh(["xdp-filter", "load"] + (["-m", mode] if mode else []) + [self.iface])
        self.xdpf = True
        if port_rule:
            sh(["xdp-filter", "port", "-p", "udp", "7777"])

    def load(self, prog="xco_pass", prio=None, actions=None):
        """xdp-loader load; returns the new program's id (ids are never reused)."""
        args = ["xdp-loader", "load", "-n", prog]
        if prio is not None:
            args += ["-P", str(prio)]
        if actions:
            args += ["-A", actions]
        sh(args + [self.iface, OBJ])
        progs = loader_status(self.iface, show=False)["progs"]
        new = [p for p in progs if p["id"] not in self.seen_ids and p["name"] == prog]
        self.seen_ids |= {p["id"] for p in progs}
        check(len(new) == 1, f"xdp-loader load {prog}: expected one new {prog}, got {new}")
        return new[0]["id"]

    def ping(self, n=PINGS, ok=True):
        args = ["ip", "netns", "exec", NS, "ping", "-q", "-n", "-c", str(n), "-i", "0.2",
                "-W", "1" if not ok else "5", self.local]
        p = sh(args, ok=None)
        got = f"{n} packets transmitted, {n} received" in p.stdout
        lost = f"{n} packets transmitted, 0 received" in p.stdout
        summary = [l for l in p.stdout.splitlines() if "packets transmitted" in l]
        check(got if ok else lost,
              f"ping {self.local} x{n}: expected {'all replies' if ok else 'no reply'}, got "
              f"{summary[0] if summary else (p.stdout + p.stderr).strip()!r}")

    def udp(self, port, n=UDP):
        sh(["ip", "netns", "exec", NS, "bash", "-c",
            f"for i in $(seq {n}); do echo xco >/dev/udp/{self.local}/{port}; done"])

    def agree(self, order=None, xtc_prio=None):
        """xdp-loader status and xtc status list the same programs, in the same
        run order, with the same priorities and chain-call actions."""
        ls = loader_status(self.iface)
        xd = xtc_xdp(self.ini, self.iface)
        say("    xtc status xdp: " + json.dumps(xd))
        check(ls["dispatcher"] is not None,
              f"xdp-loader status shows no xdp_dispatcher on {self.iface}")
        check(xd["attached"], "xtc status: xdp not attached")
        check(xd["via"] == "dispatcher", f"xtc status via: {xd['via']}")
        check(xd["mode"] == ls["mode"], f"xtc status mode {xd['mode']} vs {ls['mode']}")
        lp = [(p["name"], p["id"], p["prio"], sorted(p["chain"])) for p in ls["progs"]]
        xp = [(p["name"], p["program_id"], p["priority"], sorted(p["chain_call_actions"]))
              for p in xd["programs"]]
        check(lp == xp, f"programs differ: xdp-loader {lp} vs xtc status {xp}")
        check(xd["programs_total"] == len(lp),
              f"programs_total {xd['programs_total']} vs {len(lp)} in xdp-loader status")
        ids = [p[1] for p in lp]
        check(xd["program_id"] in ids, f"our id {xd['program_id']} not in xdp-loader ids {ids}")
        pos = ids.index(xd["program_id"])
        check(xd["position"] == pos + 1,
              f"xtc position {xd['position']} vs {pos + 1} in xdp-loader status")
        check(xd["priority"] == lp[pos][2],
              f"xtc priority {xd['priority']} vs {lp[pos][2]} in xdp-loader status")
        check(lp[pos][0] == OURS, f"xdp-loader names our program {lp[pos][0]}, expected {OURS}")
        check([p["ours"] for p in xd["programs"]] == [i == pos for i in range(len(lp))],
              "xtc status marks the wrong program as ours")
        if order is not None:
            check([p[0] for p in lp] == order,
                  f"run order {[p[0] for p in lp]}, expected {order}")
        if xtc_prio is not None:
            check(xd["priority"] == xtc_prio, f"xtc priority {xd['priority']}, INI {xtc_prio}")
        prios = [p[2] for p in lp]
        check(prios == sorted(prios), f"dispatcher order not by priority: {prios}")
        return ls, xd


# ---- cases -----------------------------------------------------------------

HANDOFF_OFF = "off (kernel refuses packet-data changes in dispatcher slots)"


def case_kernel_packet_data_check(e):
    """Does this kernel refuse, in a dispatcher slot, a program that changes packet data
    (bpf_xdp_adjust_meta) when libxdp's stub does not?  Kernels >= 6.13 and late 6.12 do,
    with libxdp < 1.5.5.  Two xdp-loader loads that differ only in that (xco_pass, then
    xco_meta) show the kernel's answer, and xtc -vv shows the verifier's words; xtc must
    then run the matching build of its XDP program and say so, and the other cases
    expect that build."""
    global OURS
    sh(["xdp-loader", "load", "-n", "xco_pass", e.iface, OBJ])
    check(names(loader_status(e.iface)) == ["xco_pass"], "xco_pass not in the dispatcher")
    sh(["xdp-loader", "unload", "--all", e.iface])
    p = sh(["xdp-loader", "load", "-n", "xco_meta", e.iface, META_OBJ], ok=None)
    refused = p.returncode != 0
    REFUSES[0] = refused
    OURS = "xtc_xdp_nh" if refused else "xtc_xdp"
    say(f"PACKET-DATA CHECK: this kernel ({os.uname().release}) "
        f"{'REFUSES' if refused else 'accepts'} packet-data changes in dispatcher slots")
    if refused:
        check(loader_status(e.iface)["progs"] == [], "the refused program is attached")
    else:
        check(names(loader_status(e.iface)) == ["xco_meta"], "xco_meta not in the dispatcher")
        sh(["xdp-loader", "unload", "--all", e.iface])
    e.write_ini()
    say(f"+ {XTC} -c {e.ini} -vv apply   (only the lines about packet data shown)")
    p = sh([XTC, "-c", e.ini, "-vv", "apply"], show=False)
    for line in (p.stdout + p.stderr).splitlines():
        if "packet data" in line or "packet-data" in line or "XDP attached" in line:
            say("    " + line)
    verifier = "Extension program changes packet data" in p.stdout + p.stderr
    check(verifier == refused, f"the verifier {'did not say' if refused else 'said'} "
          "'Extension program changes packet data' to xtc")
    said = "refuses packet-data changes in dispatcher slots" in p.stdout + p.stderr
    check(said == refused, f"apply {'does not say' if refused else 'says'} that the kernel "
          "refuses packet-data changes")
    xd = xtc_xdp(e.ini, e.iface)
    check(xd["attached"] and xd["via"] == "dispatcher", f"xtc not under the dispatcher: {xd}")
    want = HANDOFF_OFF if refused else "on"
    check(xd.get("handoff") == want, f"xtc status handoff: {xd.get('handoff')!r}, expected {want!r}")
    e.agree(order=[OURS], xtc_prio=30)


def iface_counter(ini, dev, hook, field):
    p = sh([XTC, "-c", ini, "stats", "--json"], show=False)
    n = sum(i.get(field, 0) for i in json.loads(p.stdout)["interfaces"]
            if i["interface"] == dev and i["hook"] == hook)
    say(f"    = xtc stats: {dev} {hook} {field}: {n}")
    return n


def rx_packets(ns, dev):
    p = sh(["ip", "-n", ns, "-s", "-j", "link", "show", dev], show=False)
    n = json.loads(p.stdout)[0]["stats64"]["rx"]["packets"]
    say(f"    = {dev} in {ns}: rx {n} packets")
    return n


def case_redirect_and_drop_beside_xdpfilter(e):
    """Beside xdp-filter: xtc drops in XDP (counted on the XDP hook), and a redirect rule
    reaches its target through TC ingress, from XDP's metadata handoff where the kernel
    takes it, and from TC's own classification where it does not (handoff off).  The
    redirect rule counts each packet once either way."""
    tgt, tgtp = f"xco{e.n}r", f"xco{e.n}rp"
    sh(["ip", "link", "add", tgt, "type", "veth", "peer", "name", tgtp, "netns", NS])
    try:
        sh(["ip", "link", "set", tgt, "up"])
        sh(["ip", "-n", NS, "link", "set", tgtp, "up"])
        e.xdp_filter(port_rule=False)
        e.apply(20, extra=(f"\n[rule fwd-udp5555]\ninterface = {e.iface}\nproto = udp\n"
                           f"dst_port = 5555\naction = redirect\nredirect = plain\n"
                           f"target = {tgt}\n"))
        _, xd = e.agree(order=["xdpfilt_alw_all", OURS], xtc_prio=20)
        check(xd["handoff"] == (HANDOFF_OFF if REFUSES[0] else "on"), f"handoff {xd['handoff']}")
        d0 = iface_counter(e.ini, e.iface, "xdp", "dropped")
        r0 = xtc_rule(e.ini, "drop-udp9999")
        e.udp(9999)
        wait_until(lambda: xtc_rule(e.ini, "drop-udp9999") == r0 + UDP, "xtc to drop udp/9999")
        check(iface_counter(e.ini, e.iface, "xdp", "dropped") == d0 + UDP,
              "the drops were not counted on the XDP hook")
        rx0, f0 = rx_packets(NS, tgtp), xtc_rule(e.ini, "fwd-udp5555")
        ok0 = iface_counter(e.ini, e.iface, "tc_ingress", "redirects_ok")
        hs0 = iface_counter(e.ini, e.iface, "xdp", "handoffs_sent")
        e.udp(5555)
        wait_until(lambda: rx_packets(NS, tgtp) >= rx0 + UDP,
                   f"the redirected datagrams to arrive on {tgtp}")
        check(xtc_rule(e.ini, "fwd-udp5555") == f0 + UDP,
              "the redirect rule did not count each packet exactly once")
        check(iface_counter(e.ini, e.iface, "tc_ingress", "redirects_ok") == ok0 + UDP,
              "TC ingress did not carry out the redirects")
        sent = iface_counter(e.ini, e.iface, "xdp", "handoffs_sent") - hs0
        check(sent == (0 if REFUSES[0] else UDP),
              f"XDP handed off {sent} redirects (handoff {xd['handoff']})")
        p0, _ = xdpf_counts()
        e.ping()
        wait_until(lambda: xdpf_counts()[0] >= p0 + PINGS, "xdp-filter to pass the pings")
    finally:
        sh(["ip", "link", "del", tgt], ok=None)

def case_xtc_alone_default_prio(e):
    """xtc alone: under xdp_dispatcher at the default priority 30, counts pings."""
    e.apply()
    st = xtc_status(e.ini)
    check(st["kernel"]["xdp_dispatcher_usable"] is True,
          "xtc status: xdp_dispatcher_usable is not true in the 6.1 guest")
    ls, xd = e.agree(order=[OURS], xtc_prio=30)
    check(xd["position"] == 1 and xd["programs_total"] == 1, "xtc not alone at position 1")
    c0 = xtc_rule(e.ini, "see-icmp")
    e.ping()
    wait_until(lambda: xtc_rule(e.ini, "see-icmp") == c0 + PINGS, "xtc to count the pings")


def case_xdpfilter_drop_before_xtc(e):
    """xdp-filter (prio 10) drops udp/7777 before xtc (30): xtc never sees it."""
    e.xdp_filter()
    e.apply(30)
    e.agree(order=["xdpfilt_alw_all", OURS], xtc_prio=30)
    ls = loader_status(e.iface, show=False)
    check(ls["progs"][0]["prio"] == 10, f"xdp-filter priority {ls['progs'][0]['prio']} != 10")
    u0, (p0, d0) = xtc_rule(e.ini, "see-udp7777"), xdpf_counts()
    e.udp(7777)
    wait_until(lambda: xdpf_counts() == (p0, d0 + UDP), "xdp-filter to drop the udp/7777 packets")
    u1 = xtc_rule(e.ini, "see-udp7777")
    check(u1 == u0, f"xtc saw {u1 - u0} udp/7777 packets that xdp-filter dropped before it")
    sh(["xdp-filter", "status"])    # evidence: the port rule's hit counter
    c0 = xtc_rule(e.ini, "see-icmp")
    e.ping()
    wait_until(lambda: xtc_rule(e.ini, "see-icmp") == c0 + PINGS,
               "xtc to count the pings xdp-filter passed")


def case_xdpfilter_drop_after_xtc(e):
    """xtc ([global] prio 5) before xdp-filter (10): xtc sees udp/7777, xdp-filter still
    drops it; what xtc drops (udp/9999) never reaches xdp-filter."""
    e.xdp_filter()
    e.apply(5, where="global")
    e.agree(order=[OURS, "xdpfilt_alw_all"], xtc_prio=5)
    u0, (p0, d0) = xtc_rule(e.ini, "see-udp7777"), xdpf_counts()
    e.udp(7777)
    wait_until(lambda: xdpf_counts() == (p0, d0 + UDP), "xdp-filter to drop the udp/7777 packets")
    u1 = xtc_rule(e.ini, "see-udp7777")
    check(u1 == u0 + UDP, f"xtc saw {u1 - u0} of {UDP} udp/7777 packets running before xdp-filter")
    x0, (p0, d0) = xtc_rule(e.ini, "drop-udp9999"), xdpf_counts()
    e.udp(9999)
    wait_until(lambda: xtc_rule(e.ini, "drop-udp9999") == x0 + UDP, "xtc to drop udp/9999")
    p1, d1 = xdpf_counts()
    check((p1, d1) == (p0, d0),
          f"xdp-filter saw packets that xtc dropped before it: pass +{p1 - p0}, drop +{d1 - d0}")


def case_loader_drop_before_xtc(e):
    """xdp-loader program dropping IPv4 at prio 10, xtc at 30: xtc never sees the pings."""
    did = e.load("xco_drop", prio=10)
    e.apply(30)
    e.agree(order=["xco_drop", OURS], xtc_prio=30)
    c0, k0 = xtc_rule(e.ini, "see-icmp"), xco_count(did)
    e.ping(ok=False)
    wait_until(lambda: xco_count(did) == k0 + PINGS, "xco_drop to drop the pings")
    c1 = xtc_rule(e.ini, "see-icmp")
    check(c1 == c0, f"xtc saw {c1 - c0} pings dropped by a program before it")


def case_loader_drop_after_xtc(e):
    """xdp-loader program dropping IPv4 at prio 50, xtc at 30: xtc sees every ping first."""
    e.apply(30)
    did = e.load("xco_drop", prio=50)
    e.agree(order=[OURS, "xco_drop"], xtc_prio=30)
    c0, k0 = xtc_rule(e.ini, "see-icmp"), xco_count(did)
    e.ping(ok=False)
    wait_until(lambda: xco_count(did) == k0 + PINGS, "xco_drop to drop the pings")
    c1 = xtc_rule(e.ini, "see-icmp")
    check(c1 == c0 + PINGS, f"xtc saw {c1 - c0} of {PINGS} pings running before the dropper")


def case_xtc_chain_pass_and_drop(e):
    """xtc (20) chain-calls on XDP_PASS: xco_pass (40) after it sees what xtc passes and
    nothing of what xtc drops."""
    e.apply(20)
    pid = e.load("xco_pass", prio=40)
    ls, xd = e.agree(order=[OURS, "xco_pass"], xtc_prio=20)
    check(xd["programs"][0]["chain_call_actions"] == ["XDP_PASS"],
          f"xtc chain-call actions {xd['programs'][0]['chain_call_actions']}, want XDP_PASS")
    c0, k0 = xtc_rule(e.ini, "see-icmp"), xco_count(pid)
    e.ping()
    wait_until(lambda: xco_count(pid) == k0 + PINGS, "xco_pass (after xtc) to see the pings")
    check(xtc_rule(e.ini, "see-icmp") == c0 + PINGS, "xtc did not count the pings")
    x0, k0 = xtc_rule(e.ini, "drop-udp9999"), xco_count(pid)
    e.udp(9999)
    wait_until(lambda: xtc_rule(e.ini, "drop-udp9999") == x0 + UDP, "xtc to drop udp/9999")
    k1 = xco_count(pid)
    check(k1 == k0, f"xco_pass after xtc saw {k1 - k0} packets that xtc dropped")


def case_chain_call_pass_disabled(e):
    """A program before xtc returns XDP_PASS without chain-call on XDP_PASS: the dispatcher
    stops there (ping works) and xtc never runs."""
    pid = e.load("xco_pass", prio=10, actions="XDP_DROP")
    e.apply(30)
    ls, xd = e.agree(order=["xco_pass", OURS], xtc_prio=30)
    check(ls["progs"][0]["chain"] == {"XDP_DROP"},
          f"xco_pass chain-call actions {ls['progs'][0]['chain']}, want only XDP_DROP")
    c0, k0 = xtc_rule(e.ini, "see-icmp"), xco_count(pid)
    e.ping()
    wait_until(lambda: xco_count(pid) == k0 + PINGS, "xco_pass to see the pings")
    c1 = xtc_rule(e.ini, "see-icmp")
    check(c1 == c0, f"xtc saw {c1 - c0} pings although the program before it does not "
          "chain-call on XDP_PASS")


def case_chain_call_drop_enabled(e):
    """A program before xtc returns XDP_DROP with chain-call on XDP_DROP: the dispatcher goes
    on to xtc, which passes, so the pings get through and xtc counts them."""
    did = e.load("xco_drop", prio=10, actions="XDP_PASS,XDP_DROP")
    e.apply(30)
    ls, xd = e.agree(order=["xco_drop", OURS], xtc_prio=30)
    check(ls["progs"][0]["chain"] == {"XDP_PASS", "XDP_DROP"},
          f"xco_drop chain-call actions {ls['progs'][0]['chain']}")
    c0, k0 = xtc_rule(e.ini, "see-icmp"), xco_count(did)
    e.ping()
    wait_until(lambda: xtc_rule(e.ini, "see-icmp") == c0 + PINGS,
               "xtc to count pings chain-called past XDP_DROP")
    check(xco_count(did) == k0 + PINGS, "xco_drop did not see the pings")


def three():
    return ["xdpfilt_alw_all", OURS, "xco_pass"]


def three_progs_work(e, pid):
    """xdp-filter (10), xtc (20), xco_pass (40): all three see the pings; re-apply no-op."""
    e.agree(order=three(), xtc_prio=20)
    c0, k0, (p0, d0) = xtc_rule(e.ini, "see-icmp"), xco_count(pid), xdpf_counts()
    e.ping()
    wait_until(lambda: xco_count(pid) == k0 + PINGS, "xco_pass (last) to see the pings")
    check(xtc_rule(e.ini, "see-icmp") == c0 + PINGS, "xtc did not count the pings")
    check(xdpf_counts() == (p0 + PINGS, d0), "xdp-filter did not pass exactly the pings")
    out = xtc(e.ini, "apply").stdout
    check(out.strip() == "no changes", f"re-apply after the others loaded: {out.strip()!r}")
    e.agree(order=three(), xtc_prio=20)


def case_load_order_xtc_first(e):
    """Load order xtc, xdp-filter, xdp-loader: run order still by priority."""
    e.apply(20)
    e.xdp_filter()
    pid = e.load("xco_pass", prio=40)
    three_progs_work(e, pid)


def case_load_order_xtc_middle(e):
    """Load order xdp-filter, xtc, xdp-loader."""
    e.xdp_filter()
    e.apply(20)
    pid = e.load("xco_pass", prio=40)
    three_progs_work(e, pid)


def case_load_order_xtc_last(e):
    """Load order xdp-loader, xdp-filter, xtc."""
    pid = e.load("xco_pass", prio=40)
    e.xdp_filter()
    e.apply(20)
    three_progs_work(e, pid)


def case_reapply_idempotent(e):
    """Re-apply under the dispatcher: "no changes", same ids everywhere; a rule change is
    written in place (same program, same dispatcher)."""
    e.xdp_filter()
    e.load("xco_pass", prio=40)
    e.apply(20)
    ls0, xd0 = e.agree(order=three(), xtc_prio=20)
    out = xtc(e.ini, "apply").stdout
    check(out.strip() == "no changes", f"second apply printed {out.strip()!r}")
    ls1, xd1 = e.agree(order=three(), xtc_prio=20)
    check((ls1["dispatcher"], ls1["progs"]) == (ls0["dispatcher"], ls0["progs"]),
          "xdp-loader status changed after a no-op apply")
    check(xd1["program_id"] == xd0["program_id"], "our program id changed")
    e.apply(20, extra="\n[rule see-udp5555]\nproto = udp\ndst_port = 5555\naction = pass\n")
    ls2, xd2 = e.agree(order=three(), xtc_prio=20)
    check((ls2["dispatcher"], ls2["progs"]) == (ls0["dispatcher"], ls0["progs"]),
          "a rule change rebuilt the dispatcher or changed program ids")
    n0 = xtc_rule(e.ini, "see-udp5555")
    e.udp(5555)
    wait_until(lambda: xtc_rule(e.ini, "see-udp5555") == n0 + UDP, "the new rule to count")
    out = xtc(e.ini, "apply").stdout
    check(out.strip() == "no changes", f"apply after the rule change printed {out.strip()!r}")


def case_reprio_moves_xtc(e):
    """Changing xdp_priority in the INI moves xtc in the run order and leaves the others."""
    e.xdp_filter()
    pid = e.load("xco_pass", prio=40)
    e.apply(20)
    ls0, _ = e.agree(order=three(), xtc_prio=20)
    e.apply(50)
    ls1, xd = e.agree(order=["xdpfilt_alw_all", "xco_pass", OURS], xtc_prio=50)
    check(xd["position"] == 3, f"xtc position {xd['position']} after moving to prio 50")
    others = lambda ls: [(p["name"], p["id"], p["prio"]) for p in ls["progs"]
                         if p["name"] != OURS]
    check(others(ls1) == others(ls0), "the other programs changed when xtc moved")
    x0, k0 = xtc_rule(e.ini, "drop-udp9999"), xco_count(pid)
    e.udp(9999)
    wait_until(lambda: xtc_rule(e.ini, "drop-udp9999") == x0 + UDP, "xtc to drop udp/9999")
    check(xco_count(pid) == k0 + UDP, "xco_pass (now before xtc) did not see udp/9999")
    out = xtc(e.ini, "apply").stdout
    check(out.strip() == "no changes", f"re-apply at the new priority printed {out.strip()!r}")


def case_reprio_hitless(e):
    """A priority change under the dispatcher loses nothing: xtc's new instance joins
    before the old one leaves (libxdp swaps the dispatcher atomically), so every
    datagram of a flow sent meanwhile arrives and is classified by xtc (while both
    instances run, a datagram can be counted twice: never zero times)."""
    e.load("xco_pass", prio=40)
    e.apply(20)
    e.agree(xtc_prio=20)
    c0 = xtc_rule(e.ini, "see-udp7777")
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Read only at the end: room for every datagram, or the socket drops what xtc passed.
    rx.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)
    rx.bind((e.local, 7777))
    rx.settimeout(3)
    n = 600
    sender = subprocess.Popen(
        ["ip", "netns", "exec", NS, sys.executable, "-c",
         "import socket, time\n"
         "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
         f"for i in range({n}):\n"
         f"    s.sendto(b'%d' % i, ('{e.local}', 7777))\n"
         "    time.sleep(0.004)\n"])
    e.procs.append(sender)
    time.sleep(0.5)
    e.apply(50)
    _, xd = e.agree(xtc_prio=50)
    check(sender.wait(timeout=CMD_TIMEOUT) == 0, "the sender failed")
    got = set()
    try:
        while len(got) < n:
            got.add(int(rx.recv(64)))
    except socket.timeout:
        pass
    rx.close()
    check(len(got) == n, f"{n - len(got)} of {n} datagrams lost across the priority change")
    wait_until(lambda: xtc_rule(e.ini, "see-udp7777") >= c0 + n,
               f"xtc to count each of the {n} datagrams")


def case_unload_xtc_keeps_others(e):
    """xtc unload IFACE removes only xtc; xdp-filter and xco_pass stay attached and work."""
    e.xdp_filter()
    pid = e.load("xco_pass", prio=40)
    e.apply(20)
    ls0, _ = e.agree(order=three(), xtc_prio=20)
    xtc(e.ini, "unload", e.iface)
    ls1 = loader_status(e.iface)
    keep = [p for p in ls0["progs"] if p["name"] != OURS]
    check(ls1["dispatcher"] is not None and ls1["progs"] == keep,
          f"after xtc unload: {ls1['progs']}, expected {keep}")
    st = xtc_status(e.ini)
    check(st is None or all(i["interface"] != e.iface for i in st["interfaces"]),
          "xtc status still lists the interface")
    k0, (p0, d0) = xco_count(pid), xdpf_counts()
    e.ping()
    wait_until(lambda: xco_count(pid) == k0 + PINGS, "xco_pass to see the pings")
    check(xdpf_counts() == (p0 + PINGS, d0), "xdp-filter did not pass exactly the pings")
    e.udp(7777)
    wait_until(lambda: xdpf_counts() == (p0 + PINGS, d0 + UDP),
               "xdp-filter to still drop udp/7777")


def case_unload_others_keeps_xtc(e):
    """Unloading xdp-filter and the xdp-loader program leaves xtc attached and counting."""
    e.xdp_filter()
    pid = e.load("xco_pass", prio=40)
    e.apply(20)
    _, xd0 = e.agree(order=three(), xtc_prio=20)
    sh(["xdp-filter", "unload", e.iface])
    e.xdpf = False
    e.agree(order=[OURS, "xco_pass"], xtc_prio=20)
    sh(["xdp-loader", "unload", e.iface, "--id", str(pid)])
    ls, xd = e.agree(order=[OURS], xtc_prio=20)
    check(xd["program_id"] == xd0["program_id"], "our program id changed")
    c0 = xtc_rule(e.ini, "see-icmp")
    e.ping()
    wait_until(lambda: xtc_rule(e.ini, "see-icmp") == c0 + PINGS, "xtc to count the pings")
    out = xtc(e.ini, "apply").stdout
    check(out.strip() == "no changes", f"re-apply after the others left printed {out.strip()!r}")


def pcapng_packets(path):
    """Enhanced/simple packet blocks in a pcapng file (or records in a pcap file)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) >= 24 and data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        n, off = 0, 24
        while off + 16 <= len(data):
            n += 1
            off += 16 + struct.unpack_from("<I", data, off + 8)[0]
        return n
    check(len(data) >= 12 and data[:4] == b"\x0a\x0d\x0d\x0a", f"{path} is not pcap/pcapng")
    bo = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    n, off = 0, 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from(bo + "II", data, off)
        if blen < 12:
            break
        n += btype in (3, 6)
        off += blen
    return n


def case_xdpdump_while_xtc(e):
    """xdpdump captures while xtc runs (beside xdp-filter): xtc keeps counting, a no-op
    apply works meanwhile, and after xdpdump stops everything is still attached."""
    e.xdp_filter()
    e.apply(20)
    ls0, xd0 = e.agree(order=["xdpfilt_alw_all", OURS], xtc_prio=20)
    # By default xdpdump traces the dispatcher; -p xtc_xdp puts its fentry on our program.
    for extra, func in (([], "xdp_dispatcher"), (["-p", OURS], OURS)):
        pcap = os.path.join(WORK, f"{e.name}{len(extra)}.pcapng")
        args = ["xdpdump", "-i", e.iface, "-w", pcap] + extra
        say("+ " + " ".join(args) + " &")
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        e.procs.append(p)
        out = b""
        # It prints "listening on ..." once every probe is attached: wait for that line.
        for _ in range(POLL_TRIES * 2):
            if b"\n" in out.partition(b"listening on")[2] or p.poll() is not None:
                break
            r, _, _ = select.select([p.stdout], [], [], 0.05)
            if r:
                out += os.read(p.stdout.fileno(), 4096)
        say("    " + out.decode(errors="replace").strip())
        check(b"listening on" in out, f"xdpdump {' '.join(extra)} did not start: {out!r}")
        check(f"func {func}".encode() in out, f"xdpdump {' '.join(extra)} does not trace {func}")
        c0 = xtc_rule(e.ini, "see-icmp")
        e.ping()
        wait_until(lambda: xtc_rule(e.ini, "see-icmp") == c0 + PINGS,
                   "xtc to count the pings while xdpdump runs")
        res = xtc(e.ini, "apply").stdout
        check(res.strip() == "no changes", f"apply while xdpdump runs printed {res.strip()!r}")
        p.send_signal(signal.SIGINT)
        try:
            rest, _ = p.communicate(timeout=CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Fail("xdpdump did not stop on SIGINT")
        say("    " + rest.decode(errors="replace").strip().replace("\n", "\n    "))
        check(p.returncode == 0, f"xdpdump exited {p.returncode}")
        n = pcapng_packets(pcap)
        say(f"    {pcap}: {n} packets")
        check(n >= PINGS, f"xdpdump {' '.join(extra)} captured {n} packets, expected >= {PINGS}")
    ls1, xd1 = e.agree(order=["xdpfilt_alw_all", OURS], xtc_prio=20)
    check(ls1["progs"] == ls0["progs"] and xd1["program_id"] == xd0["program_id"],
          "programs changed while xdpdump ran")
    c0 = xtc_rule(e.ini, "see-icmp")
    e.ping()
    wait_until(lambda: xtc_rule(e.ini, "see-icmp") == c0 + PINGS,
               "xtc to count the pings after xdpdump stopped")


def fill(e, n):
    """n xco_pass programs at priority 41, loaded by one xdp-loader call (one
    dispatcher rebuild instead of n); returns their ids in run order."""
    sh(["xdp-loader", "load", "-n", "xco_pass", "-P", "41", e.iface] + [OBJ] * n)
    progs = loader_status(e.iface)["progs"]
    new = [p["id"] for p in progs if p["id"] not in e.seen_ids and p["name"] == "xco_pass"]
    e.seen_ids |= {p["id"] for p in progs}
    check(len(new) == n and all(p["prio"] == 41 for p in progs if p["id"] in new),
          f"xdp-loader load of {n} programs: got {len(new)} new at priority 41")
    return new


def case_eleventh_loader_prog(e):
    """xtc + 9 xdp-loader programs fill the dispatcher: a 10th xdp-loader load fails and
    leaves all ten attached, xtc still counting."""
    e.apply(20)
    ids = fill(e, DISPATCHER_MAX - 1)
    ls0, _ = e.agree(xtc_prio=20)
    check(len(ls0["progs"]) == DISPATCHER_MAX, f"{len(ls0['progs'])} programs, expected 10")
    p = sh(["xdp-loader", "load", "-n", "xco_pass", "-P", "80", e.iface, OBJ], ok=False)
    say(f"    (xdp-loader refused the 11th program with exit {p.returncode})")
    ls1, _ = e.agree(xtc_prio=20)
    check(ls1["progs"] == ls0["progs"], "the refused load changed the dispatcher's programs")
    c0, k0 = xtc_rule(e.ini, "see-icmp"), xco_count(ids[-1])
    e.ping()
    wait_until(lambda: xco_count(ids[-1]) == k0 + PINGS, "the last program to see the pings")
    check(xtc_rule(e.ini, "see-icmp") == c0 + PINGS, "xtc did not count the pings")


def case_eleventh_is_xtc(e):
    """10 xdp-loader programs fill the dispatcher: xtc apply exits 1 naming the interface and
    the limit, changes nothing; after one is unloaded, apply works."""
    ids = fill(e, DISPATCHER_MAX)
    ls0 = loader_status(e.iface)
    e.write_ini(20)
    p = xtc(e.ini, "apply", ok=None)
    check(p.returncode == 1, f"xtc apply exited {p.returncode}, expected 1")
    err = p.stderr
    check(e.iface in err and "10 programs" in err and "dispatcher" in err,
          f"the error does not name {e.iface} and the limit of 10: {err.strip()!r}")
    check("Argument list too long" not in err.split("\n")[0],
          f"first error line is libxdp's bare errno: {err.splitlines()[0]!r}")
    ls1 = loader_status(e.iface)
    check(ls1["progs"] == ls0["progs"] and ls1["dispatcher"] == ls0["dispatcher"],
          "the refused apply changed the dispatcher")
    st = xtc_status(e.ini)
    check(st is None or all(i["interface"] != e.iface for i in st["interfaces"]),
          "xtc status lists the interface after a refused apply")
    sh(["xdp-loader", "unload", e.iface, "--id", str(ids[0])])
    xtc(e.ini, "apply")
    ls, xd = e.agree(xtc_prio=20)
    check(xd["position"] == 1 and xd["programs_total"] == DISPATCHER_MAX,
          f"xtc at position {xd['position']} of {xd['programs_total']}, expected 1 of 10")


def case_full_dispatcher_reprio(e):
    """On a full dispatcher (xtc + 9), a priority change re-attaches xtc (out, then in)."""
    e.apply(20)
    fill(e, DISPATCHER_MAX - 1)
    e.agree(xtc_prio=20)
    e.apply(50)
    ls, xd = e.agree(xtc_prio=50)
    check(xd["programs_total"] == DISPATCHER_MAX and xd["position"] == DISPATCHER_MAX,
          f"xtc at position {xd['position']} of {xd['programs_total']}, expected 10 of 10")
    c0 = xtc_rule(e.ini, "see-icmp")
    e.ping()
    wait_until(lambda: xtc_rule(e.ini, "see-icmp") == c0 + PINGS, "xtc to count the pings")


def case_status_agrees_mixed(e):
    """Four programs with mixed priorities and chain-call actions: xtc status and
    xdp-loader status agree on every program's position, priority and actions."""
    e.xdp_filter(port_rule=False)
    e.load("xco_pass", prio=25, actions="XDP_PASS,XDP_DROP,XDP_TX")
    e.load("xco_pass", prio=35, actions="XDP_ABORTED")
    e.apply(30)
    ls, xd = e.agree(order=["xdpfilt_alw_all", "xco_pass", OURS, "xco_pass"], xtc_prio=30)
    check(xd["position"] == 3, f"xtc position {xd['position']}, expected 3")
    check([p["priority"] for p in xd["programs"]] == [10, 25, 30, 35],
          f"priorities {[p['priority'] for p in xd['programs']]}")


def case_removed_by_others_reattached(e):
    """Someone unloads xtc's program with xdp-loader: xtc status says it is not attached,
    and the next apply puts it back beside xdp-filter."""
    e.xdp_filter(port_rule=False)
    e.apply(20)
    _, xd0 = e.agree(order=["xdpfilt_alw_all", OURS], xtc_prio=20)
    sh(["xdp-loader", "unload", e.iface, "--id", str(xd0["program_id"])])
    ls = loader_status(e.iface)
    check(names(ls) == ["xdpfilt_alw_all"], f"after unloading xtc's id: {names(ls)}")
    xd = xtc_xdp(e.ini, e.iface)
    check(not xd["attached"], f"xtc status still says attached: {xd}")
    out = xtc(e.ini, "apply").stdout
    check("XDP attached" in out, f"apply did not re-attach: {out.strip()!r}")
    ls1, xd1 = e.agree(order=["xdpfilt_alw_all", OURS], xtc_prio=20)
    check(ls1["progs"][0] == ls["progs"][0], "xdp-filter changed when xtc came back")
    c0 = xtc_rule(e.ini, "see-icmp")
    e.ping()
    wait_until(lambda: xtc_rule(e.ini, "see-icmp") == c0 + PINGS, "xtc to count the pings")


def case_mode_mismatch_refused(e):
    """A dispatcher in skb mode (xdp-filter -m skb): xtc asking for native mode is refused
    with an explanation and nothing changes; with xdp_mode = skb it joins."""
    e.xdp_filter(port_rule=False, mode="skb")
    ls0 = loader_status(e.iface)
    check(ls0["mode"] == "skb", f"xdp-filter -m skb: dispatcher mode {ls0['mode']}")
    e.write_ini(20)
    p = xtc(e.ini, "apply", ok=None)
    check(p.returncode == 1, f"native apply on an skb dispatcher exited {p.returncode}, want 1")
    check(e.iface in p.stderr and "skb mode" in p.stderr,
          f"the refusal does not explain the mode: {p.stderr.strip()!r}")
    ls1 = loader_status(e.iface)
    check((ls1["dispatcher"], ls1["progs"]) == (ls0["dispatcher"], ls0["progs"]),
          "the refused apply changed the dispatcher")
    e.apply(20, mode="skb")
    ls, xd = e.agree(order=["xdpfilt_alw_all", OURS], xtc_prio=20)
    check(xd["mode"] == "skb", f"xtc status mode {xd['mode']}")
    c0 = xtc_rule(e.ini, "see-icmp")
    e.ping()
    wait_until(lambda: xtc_rule(e.ini, "see-icmp") == c0 + PINGS, "xtc (skb) to count pings")


def case_legacy_prog_refused(e):
    """A program attached without the dispatcher (ip link set xdpdrv): xtc apply refuses
    to replace it, explains, and leaves it attached."""
    sh(["ip", "link", "set", "dev", e.iface, "xdpdrv", "obj", LEGACY_OBJ, "sec", "xdp"])
    ls0 = loader_status(e.iface)
    check(ls0["dispatcher"] is None and ls0["single"] is not None,
          f"expected a single program without dispatcher: {ls0}")
    e.write_ini(20)
    p = xtc(e.ini, "apply", ok=None)
    check(p.returncode == 1, f"apply beside a non-dispatcher program exited {p.returncode}")
    check(e.iface in p.stderr and "without the libxdp dispatcher" in p.stderr,
          f"the refusal does not explain: {p.stderr.strip()!r}")
    ls1 = loader_status(e.iface)
    check(ls1["single"] == ls0["single"], f"the other program changed: {ls1['single']}")
    st = xtc_status(e.ini)
    check(st is None or all(i["interface"] != e.iface for i in st["interfaces"]),
          "xtc status lists the interface after a refused apply")


def case_rollback_leaves_others(e):
    """One apply for two interfaces: the first gets xtc beside xdp-filter, the second's
    dispatcher is full, so apply fails and rolls back: xtc leaves the first interface
    again and xdp-filter stays as it was."""
    b = Env(SPARE[0], e.name + "_b")
    b.ini = e.ini         # one INI, one xtc state for both interfaces
    try:
        e.xdp_filter(port_rule=False)
        ls0 = loader_status(e.iface)
        fill(b, DISPATCHER_MAX)
        lb0 = loader_status(b.iface, show=False)
        e.write_ini(20, extra=f"\n[interface {b.iface}]\nxdp_priority = 20\n")
        p = xtc(e.ini, "apply", ok=None)
        check(p.returncode == 1, f"apply exited {p.returncode}, expected 1")
        check(f"{e.iface}: XDP attached" in p.stdout,
              f"{e.iface} was not attached before {b.iface} failed: the rollback went untested")
        check(f"{b.iface}: XDP: the interface's libxdp dispatcher already runs 10" in p.stderr,
              f"no explanation for {b.iface}: {p.stderr.strip()!r}")
        ls1 = loader_status(e.iface)
        check(ls1["progs"] == ls0["progs"], f"{e.iface} after the rollback: {ls1['progs']}, "
              f"expected {ls0['progs']}")
        lb1 = loader_status(b.iface, show=False)
        check(lb1 == lb0, f"{b.iface} changed by the failed apply")
        st = xtc_status(e.ini)
        check(st is not None and st["loaded"] is False and st["interfaces"] == []
              and [p["problem"] for p in st["problems"]] == ["not_loaded"],
              "xtc state left after a rolled-back first apply")
        p0, _ = xdpf_counts()
        e.ping()
        wait_until(lambda: xdpf_counts()[0] == p0 + PINGS, "xdp-filter to pass the pings")
    finally:
        b.cleanup()


def case_explain_in_a_dispatcher_slot(e):
    """xtc explain under the dispatcher: the slot (an extension program) cannot be
    test-run, so explain runs a copy of it on the same maps and says so; the answer
    agrees with real traffic and counts nothing."""
    e.apply(20)
    e.xdp_filter(port_rule=False)
    e.agree(order=["xdpfilt_alw_all", OURS], xtc_prio=20)
    answers = {}
    for port, want in ((9999, ("drop", "drop-udp9999")), (7777, ("pass", "see-udp7777"))):
        c0 = xtc_rule(e.ini, want[1])
        p = sh([XTC, "-c", e.ini, "explain", "--json", e.iface,
                f"udp 10.77.{e.n}.2:4000 -> {e.local}:{port}"])
        d = json.loads(p.stdout)
        answers[port] = d
        check((d["hook"], d["verdict"], d.get("rule")) == ("xdp",) + want,
              f"explain for udp/{port}: {d}")
        check(d["live_program"] is False and d["counted"] is False,
              f"explain should run a copy of the dispatcher slot: {d}")
        check("dispatcher slot cannot be test-run" in p.stderr,
              f"explain does not say it ran a copy: {p.stderr.strip()!r}")
        check(xtc_rule(e.ini, want[1]) == c0, f"explain counted a packet in {want[1]}")
        e.udp(port)
        wait_until(lambda: xtc_rule(e.ini, want[1]) == c0 + UDP,
                   f"real udp/{port} to meet rule {want[1]} as explain said")


CASES = [
    ("kernel_packet_data_check", case_kernel_packet_data_check),
    ("xtc_alone_default_prio", case_xtc_alone_default_prio),
    ("xdpfilter_drop_before_xtc", case_xdpfilter_drop_before_xtc),
    ("xdpfilter_drop_after_xtc", case_xdpfilter_drop_after_xtc),
    ("redirect_and_drop_beside_xdpfilter", case_redirect_and_drop_beside_xdpfilter),
    ("loader_drop_before_xtc", case_loader_drop_before_xtc),
    ("loader_drop_after_xtc", case_loader_drop_after_xtc),
    ("xtc_chain_pass_and_drop", case_xtc_chain_pass_and_drop),
    ("chain_call_pass_disabled", case_chain_call_pass_disabled),
    ("chain_call_drop_enabled", case_chain_call_drop_enabled),
    ("load_order_xtc_first", case_load_order_xtc_first),
    ("load_order_xtc_middle", case_load_order_xtc_middle),
    ("load_order_xtc_last", case_load_order_xtc_last),
    ("reapply_idempotent", case_reapply_idempotent),
    ("reprio_moves_xtc", case_reprio_moves_xtc),
    ("reprio_hitless", case_reprio_hitless),
    ("unload_xtc_keeps_others", case_unload_xtc_keeps_others),
    ("unload_others_keeps_xtc", case_unload_others_keeps_xtc),
    ("xdpdump_while_xtc", case_xdpdump_while_xtc),
    ("eleventh_loader_prog", case_eleventh_loader_prog),
    ("eleventh_is_xtc", case_eleventh_is_xtc),
    ("full_dispatcher_reprio", case_full_dispatcher_reprio),
    ("status_agrees_mixed", case_status_agrees_mixed),
    ("removed_by_others_reattached", case_removed_by_others_reattached),
    ("mode_mismatch_refused", case_mode_mismatch_refused),
    ("legacy_prog_refused", case_legacy_prog_refused),
    ("rollback_leaves_others", case_rollback_leaves_others),
    ("explain_in_a_dispatcher_slot", case_explain_in_a_dispatcher_slot),
]
SPARE = [0]        # index of the spare veth pair, for cases that need two interfaces


def final_clean():
    """After every case cleaned up: no xtc state, no XDP program on any interface."""
    p = sh([XTC, "status"], ok=None)
    check(p.returncode != 0 and not os.path.exists("/sys/fs/bpf/xtc"),
          "xtc state left behind after the cases")
    out = sh(["xdp-loader", "status"]).stdout
    left = [l for l in out.splitlines() if l.split()[:1] and l.split()[0].startswith("xco")
            and "<No XDP program loaded!>" not in l]
    check(not left, f"XDP programs left behind: {left}")
    check(not any("=>" in l or "xdp_dispatcher" in l for l in out.splitlines()),
          "XDP programs left behind")


def main(argv):
    if os.environ.get("XTC_VM") != "1":
        say("COEXIST FAIL: not inside the xtc VM (use tests/vm/run-vm.sh tests/vm/guest-coexist.sh)")
        return 2
    want = set(argv[1:])
    unknown = want - {n for n, _ in CASES}
    if unknown:
        say(f"COEXIST FAIL: unknown cases {sorted(unknown)}")
        return 2
    for path in (XTC, OBJ, LEGACY_OBJ, META_OBJ):
        if not os.access(path, os.R_OK):
            say(f"COEXIST FAIL: {path} missing (build on the host: make; compile "
                "tests/vm/xdp_coex.bpf.c and xdp_pass.bpf.c into $XTC_VM_BUILD)")
            return 1
    os.makedirs(WORK, exist_ok=True)
    sh(["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"])
    sh(["ip", "netns", "add", NS])
    sh(["ip", "netns", "exec", NS, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"])
    sh([XTC, "version"], ok=None)
    results = []
    cases = [(n, f) for n, f in CASES if not want or n in want]
    if not want:
        cases.append(("all_cleaned_up", None))
    SPARE[0] = len(cases) + 1
    Env.create_all(len(cases) + 1)
    for idx, (name, fn) in enumerate(cases, 1):
        say(f"\n=== CASE {name}: {(fn.__doc__ if fn else final_clean.__doc__).strip()}")
        e = Env(idx, name)
        reason = None
        try:
            if fn is None:
                final_clean()
            else:
                e.setup()
                fn(e)
        except Fail as ex:
            reason = str(ex)
        except Exception as ex:  # a bug here must still end in a FAIL line
            traceback.print_exc(file=sys.stdout)
            reason = f"{type(ex).__name__}: {ex}"
        finally:
            if fn is not None:
                try:
                    e.cleanup()
                except Exception as ex:
                    say(f"    cleanup error: {ex}")
        line = " ".join(f"CASE {name} {'PASS' if reason is None else 'FAIL ' + reason}"
                        .split("\n"))
        say(line)
        results.append(reason is None)
    passed = sum(results)
    say(f"\nCOEXIST SUMMARY passed={passed} failed={len(results) - passed}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
