# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Helpers for tests that drive the xtc binary against the real kernel.

Everything here looks at the kernel directly (ip, tc, bpftool, the bpf
syscall) so that a test can check what xtc claims against what is there.
Nothing here touches an interface or a bpffs that the caller did not create.
"""
import contextlib
import ctypes
import json
import os
import pathlib
import platform
import re
import shlex
import socket
import struct
import subprocess
import tempfile
import time

from lib.netns import Netns, sh, unique

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
XTC = pathlib.Path(os.environ.get("XTC_BIN", REPO / "build" / "xtc")).absolute()

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, EXIT_DIFF = 0, 1, 2, 3

# This tree built again for upgrade tests: other BPF code on the same maps, counter
# structs one field longer (maps of another layout), or the rule records' maps as xtc made
# them before they were mmapable.
VARIANTS = {
    "code": "BPF_DEFINES=-DXTC_TEST_VARIANT=1",
    "layout": "XTC_DEFINES=-DXTC_TEST_LAYOUT=1",
    "unmapped": "BPF_DEFINES=-DXTC_TEST_UNMAPPED=1",
}


def variant_binary(kind):
    """Builds (incrementally, under build/variants/) and returns that variant's xtc."""
    out = REPO / "build" / "variants" / kind
    r = subprocess.run(["make", "-C", str(REPO), "--no-print-directory", f"BUILD={out}",
                        VARIANTS[kind], f"{out}/xtc"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return out / "xtc"


# ---- running xtc ------------------------------------------------------------

def xtc(config, *args, verbose=False, timeout=60, env=None, binary=None):
    """Runs `xtc -c CONFIG [-v|-vv] ARGS...` (verbose: False, True or 2)."""
    v = ["-vv"] if verbose == 2 else ["-v"] if verbose else []
    cmd = [str(binary or XTC), "-c", str(config)] + v + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def xtc_private_sysfs_bpf(config, *args, timeout=60):
    """Runs xtc in a private mount namespace with an empty bpffs on /sys/fs/bpf.

    For commands given a config that xtc may fail to parse: it then falls back to
    /sys/fs/bpf, which may hold another run's state that a test must not touch.
    The network namespace stays the root one."""
    cmd = "exec " + " ".join(shlex.quote(str(a)) for a in [XTC, "-c", config] + list(args))
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                           f"mount -t bpf bpf /sys/fs/bpf && {cmd}"],
                          capture_output=True, text=True, timeout=timeout)


def xtc_popen(config, *args, stdout=subprocess.PIPE, line_buffered=False):
    """Starts xtc without waiting; line_buffered makes stdout visible as it is written."""
    cmd = [str(XTC), "-c", str(config)] + [str(a) for a in args]
    if line_buffered:
        cmd = ["stdbuf", "-oL", "-eL"] + cmd
    return subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True)


def ok(r):
    """Asserts exit 0, with the output in the message when it is not."""
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


def write_config(path, bpffs, ifaces=None, rules=None, glob=None, statics=None):
    """Writes an INI file.  ifaces: {name: {key: value}}; rules: [(name, {key: value})]."""
    # max_rules keeps the array maps small: bpftool dumps them in milliseconds.  The
    # suite is about XDP and TC together, on veths, where xdp = auto would choose TC alone.
    g = {"bpffs": bpffs, "xdp": "on", "xdp_mode": "skb", "max_rules": 256}
    g.update(glob or {})
    lines = ["[global]"] + [f"{k} = {v}" for k, v in g.items() if v is not None]
    for name, keys in (ifaces or {}).items():
        lines += ["", f"[interface {name}]"] + [f"{k} = {v}" for k, v in keys.items()]
    for name, keys in rules or []:
        lines += ["", f"[rule {name}]"] + [f"{k} = {v}" for k, v in keys.items()]
    if statics:
        lines += ["", "[static]"] + [f"{k} = {v}" for k, v in statics.items()]
    pathlib.Path(path).write_text("\n".join(lines) + "\n")
    return path


def version():
    """xtc's own version, as `xtc version --json` reports it."""
    return json.loads(ok(xtc("/dev/null", "version", "--json")).stdout)["version"]


def status_json(config):
    r = ok(xtc(config, "status", "--json"))
    return json.loads(r.stdout)


def stats_json(config):
    r = ok(xtc(config, "stats", "--json"))
    return json.loads(r.stdout)


def iface_status(status, name):
    for i in status["interfaces"]:
        if i["interface"] == name:
            return i
    return None


def prog_ids(status):
    """{iface: (xdp id, tc ingress id, tc egress id)} from status --json."""
    out = {}
    for i in status["interfaces"]:
        out[i["interface"]] = tuple(i[h].get("program_id") for h in ("xdp", "tc_ingress", "tc_egress"))
    return out


def rule_packets(stats, rule):
    for r in stats["rules"]:
        if r["rule"] == rule:
            return r["packets"]
    raise KeyError(f"rule {rule} not in stats: {stats['rules']}")


# ---- bpffs ------------------------------------------------------------------

class BpfFs:
    """A private bpffs instance on a fresh temporary directory."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="xtc-cli-bpffs-")
        sh(["mount", "-t", "bpf", "bpf", self.path])
        self.state = os.path.join(self.path, "xtc")

    def listing(self):
        """Every path under the mount, relative to it (the bpf preload entries included)."""
        out = []
        for root, dirs, files in os.walk(self.path):
            for n in dirs + files:
                out.append(os.path.relpath(os.path.join(root, n), self.path))
        return sorted(out)

    def state_listing(self):
        return [p for p in self.listing() if p == "xtc" or p.startswith("xtc/")]

    def close(self):
        sh(["umount", "-l", self.path], check=False)
        with contextlib.suppress(OSError):
            os.rmdir(self.path)


# ---- interfaces -------------------------------------------------------------

class Pair:
    """One veth pair: `name` in the root namespace, `peer` in the test namespace."""

    def __init__(self, ns, name, peer, host_ip, peer_ip):
        self.ns, self.name, self.peer = ns, name, peer
        self.host_ip, self.peer_ip = host_ip, peer_ip

    @property
    def ifindex(self):
        return socket.if_nametoindex(self.name)

    def ping(self, count=3):
        """Pings the host side from the namespace; returns the number of replies."""
        r = self.ns.run("ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", "1",
                        self.host_ip, check=False)
        m = re.search(r"(\d+) received", r.stdout)
        return int(m.group(1)) if m else 0


class Net:
    """A namespace and any number of veth pairs into it, all removed by close()."""

    def __init__(self):
        self.ns = Netns("xcns")
        self.pairs = []
        # 10.x.y.0/24 with x picked at random keeps clear of other test runs.
        self.octet = 200 + int.from_bytes(os.urandom(1), "big") % 50
        self.subnet = int.from_bytes(os.urandom(1), "big") % 200

    def pair(self, address=True, name=None):
        """name: the root-namespace end's name (default: a fresh xcli... name)."""
        name = name or unique("xcli")
        peer = "p" + unique("x")
        sh(["ip", "link", "add", name, "type", "veth", "peer", "name", peer,
            "netns", self.ns.name])
        p = Pair(self.ns, name, peer, None, None)
        self.pairs.append(p)
        # No IPv6 on either end: no router solicitations or MLD to skew counters.
        pathlib.Path(f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6").write_text("1")
        self.ns.run("sysctl", "-qw", f"net.ipv6.conf.{peer}.disable_ipv6=1")
        if address:
            net = f"10.{self.octet}.{(self.subnet + len(self.pairs)) % 256}"
            p.host_ip, p.peer_ip = f"{net}.1", f"{net}.2"
            sh(["ip", "addr", "add", f"{p.host_ip}/24", "dev", name])
            self.ns.run("ip", "addr", "add", f"{p.peer_ip}/24", "dev", peer)
        sh(["ip", "link", "set", name, "up"])
        self.ns.run("ip", "link", "set", peer, "up")
        return p

    def remove(self, p):
        sh(["ip", "link", "del", p.name], check=False)
        if p in self.pairs:
            self.pairs.remove(p)

    def close(self):
        for p in list(self.pairs):
            self.remove(p)
        self.ns.close()


# ---- what the kernel has ----------------------------------------------------

def xdp_prog(ifname):
    """(id, name) of the XDP program attached to ifname, or None."""
    info = json.loads(sh(["ip", "-j", "link", "show", "dev", ifname]).stdout)[0]
    prog = info.get("xdp", {}).get("prog")
    if not prog:
        return None
    return prog["id"], prog.get("name", "")


_BPF_PROG_QUERY = 16
_BPF_TCX = {False: 46, True: 47}      # BPF_TCX_INGRESS, BPF_TCX_EGRESS
_SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine(), 321)
_libc = ctypes.CDLL(None, use_errno=True)


def tcx_progs(ifname, egress=False):
    """Program ids on the interface's TCX hook, in run order (BPF_PROG_QUERY)."""
    ids = (ctypes.c_uint32 * 64)()
    attr = ctypes.create_string_buffer(128)
    struct.pack_into("IIIIQI", attr, 0, socket.if_nametoindex(ifname), _BPF_TCX[egress], 0, 0,
                     ctypes.addressof(ids), 64)
    if _libc.syscall(_SYS_BPF, _BPF_PROG_QUERY, attr, 128) < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    cnt = struct.unpack_from("I", attr, 24)[0]
    return list(ids[:cnt])


def tcx_links(ifname, egress=False):
    """Link ids on the interface's TCX hook, in run order (BPF_PROG_QUERY's link_ids)."""
    ids = (ctypes.c_uint32 * 64)()
    links = (ctypes.c_uint32 * 64)()
    attr = ctypes.create_string_buffer(128)
    struct.pack_into("IIIIQI", attr, 0, socket.if_nametoindex(ifname), _BPF_TCX[egress], 0, 0,
                     ctypes.addressof(ids), 64)
    struct.pack_into("Q", attr, 40, ctypes.addressof(links))
    if _libc.syscall(_SYS_BPF, _BPF_PROG_QUERY, attr, 128) < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    cnt = struct.unpack_from("I", attr, 24)[0]
    return list(links[:cnt])


def qdiscs(ifname):
    return json.loads(sh(["tc", "-j", "qdisc", "show", "dev", ifname]).stdout)


def has_clsact(ifname):
    return any(q.get("kind") == "clsact" for q in qdiscs(ifname))


def tc_filters(ifname, egress=False):
    """tc's text listing of the filters on a clsact hook ('' without clsact)."""
    if not has_clsact(ifname):
        return ""
    return sh(["tc", "filter", "show", "dev", ifname, "egress" if egress else "ingress"]).stdout


def cls_bpf_ids(ifname, egress=False):
    return [int(i) for i in re.findall(r"\bbpf\b.* id (\d+)", tc_filters(ifname, egress))]


def kernel_view(ifname):
    """Everything attached to an interface at the XDP and TC hooks."""
    return {
        "xdp": xdp_prog(ifname),
        "tcx_ingress": tcx_progs(ifname, False),
        "tcx_egress": tcx_progs(ifname, True),
        "clsact": has_clsact(ifname),
        "tc_ingress": tc_filters(ifname, False),
        "tc_egress": tc_filters(ifname, True),
    }


def bare(ifname):
    """True when nothing at all is attached to the interface's XDP and TC hooks."""
    v = kernel_view(ifname)
    return v["xdp"] is None and not v["tcx_ingress"] and not v["tcx_egress"] and not v["clsact"]


def bpf_progs():
    return json.loads(sh(["bpftool", "-j", "prog", "show"]).stdout)


def xtc_progs():
    """{id: prog} of every loaded program whose name starts with xtc_."""
    return {p["id"]: p for p in bpf_progs() if p.get("name", "").startswith("xtc_")}


def state_id(state_dir):
    """The mark xtc puts in xtc_config: FNV-1a (64 bits) of the state directory's path."""
    h = 0xcbf29ce484222325
    for byte in str(state_dir).encode():
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def marked_progs(state_dir):
    """{id: name} of every loaded xtc program, pinned or not, whose xtc_config carries
    the mark of this state directory: what xtc itself recognises as its own."""
    want = state_id(state_dir)
    configs = {m["id"] for m in json.loads(sh(["bpftool", "-j", "map", "show"]).stdout)
               if m.get("name") == "xtc_config"}
    marked = set()
    for mid in configs:
        r = sh(["bpftool", "-j", "map", "dump", "id", str(mid)], check=False)
        if r.returncode == 0 and any(e.get("formatted", {}).get("value", {}).get("state_id")
                                     == want for e in json.loads(r.stdout)):
            marked.add(mid)
    return {pid: p["name"] for pid, p in xtc_progs().items()
            if marked & set(p.get("map_ids", []))}


def state_map_id(bpffs, name="xtc_rules"):
    path = os.path.join(bpffs, "xtc", "maps", name)
    return json.loads(sh(["bpftool", "-j", "map", "show", "pinned", path]).stdout)["id"]


def our_progs(bpffs):
    """{id: name} of the xtc programs that use the maps pinned under this bpffs."""
    mid = state_map_id(bpffs)
    return {i: p["name"] for i, p in xtc_progs().items() if mid in p.get("map_ids", [])}


def dump_maps(bpffs, names=("xtc_rules", "xtc_masks", "xtc_config", "xtc_ifaces",
                            "xtc_ipmap", "xtc_rule_info", "xtc_rule_sets", "xtc_rule_digest"),
              live_only=False):
    """The contents of the state's maps (not the counters), for before/after comparisons.

    live_only keeps only the copy of xtc_masks that xtc_config.active points at:
    the other copy is scratch space for the next update.  It also leaves out which
    copy that is and the list's generation: the loader moves both forward after
    every change to the classifier, an undone one included, so that the datapath's
    verdict cache forgets what it saw meanwhile (include/xtc_vcache.bpf.h)."""
    out, raw = {}, {}
    for n in names:
        path = os.path.join(bpffs, "xtc", "maps", n)
        raw[n] = json.loads(sh(["bpftool", "-j", "map", "dump", "pinned", path]).stdout)
        out[n] = sorted(json.dumps(e, sort_keys=True) for e in raw[n])
    if live_only and "xtc_masks" in raw and "xtc_config" in raw:
        active = raw["xtc_config"][0]["formatted"]["value"]["active"]
        out["xtc_masks"] = [json.dumps(dict(e["formatted"]["value"], gen=None), sort_keys=True)
                            for e in raw["xtc_masks"] if e["formatted"]["key"] == active]
        out["xtc_config"] = [json.dumps(dict(e["formatted"]["value"], active=None), sort_keys=True)
                             for e in raw["xtc_config"]]
    return out


def host_routing():
    """What xtc's IP-to-ifindex map is built from; other test runs may change it."""
    return (sh(["ip", "-o", "addr", "show"]).stdout, sh(["ip", "route", "show", "table", "main"]).stdout,
            sh(["ip", "-6", "route", "show", "table", "main"]).stdout)


def eventually(fn, timeout=10.0, what="condition"):
    """Polls fn until it returns a true value; for kernel objects freed after an RCU period."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            assert v, f"{what} did not become true"
            return v
        time.sleep(0.05)


def flock_waiters(path):
    """Pids blocked in flock() on the inode of path, from /proc/locks."""
    st = os.stat(path)
    dev_ino = f":{st.st_ino}"
    pids = set()
    for line in pathlib.Path("/proc/locks").read_text().splitlines():
        f = line.split()
        if "->" in f and "FLOCK" in f:
            i = f.index("FLOCK")
            if f[i + 3].isdigit() and f[i + 4].endswith(dev_ino):
                pids.add(int(f[i + 3]))
    return pids


def wait_blocked(proc, path):
    """Waits (ordering, not time) until proc sleeps in flock() on path."""
    while proc.pid not in flock_waiters(path):
        assert proc.poll() is None, (
            f"xtc finished (exit {proc.returncode}) instead of waiting for the lock:\n"
            f"{proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.01)


# ---- Prometheus text exposition ---------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_prometheus(text):
    """Parses text exposition format 0.0.4 strictly enough for a test.

    Returns {family: {"type": t, "samples": [(labels dict, value)]}}; raises
    AssertionError on a sample without a preceding # TYPE for its family, a
    family whose samples are interleaved with another's, a second # TYPE for a
    family, or a malformed line."""
    fams, cur, closed = {}, None, set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] == "TYPE":
                assert len(parts) == 4, f"line {n}: bad TYPE line {line!r}"
                name, typ = parts[2], parts[3]
                assert typ in ("counter", "gauge", "histogram", "summary", "untyped"), line
                assert name not in fams, f"line {n}: second TYPE line for {name}"
                if cur:
                    closed.add(cur)
                fams[name] = {"type": typ, "samples": []}
                cur = name
            continue
        m = _SAMPLE.match(line)
        assert m, f"line {n}: not a sample: {line!r}"
        name, labels, value = m.group(1), m.group(3), m.group(4)
        fam = name
        if fam not in fams:
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and name[: -len(suffix)] in fams:
                    fam = name[: -len(suffix)]
        assert fam in fams, f"line {n}: sample {name} has no # TYPE line before it"
        assert fam == cur and fam not in closed, f"line {n}: family {fam} is interleaved"
        lab = {}
        if labels:
            pos = 0
            while pos < len(labels):
                lm = _LABEL.match(labels, pos)
                assert lm, f"line {n}: bad labels {labels!r}"
                assert lm.group(1) not in lab, f"line {n}: label {lm.group(1)} twice"
                lab[lm.group(1)] = lm.group(2)
                pos = lm.end()
        fams[fam]["samples"].append((lab, float(value)))
    return fams
