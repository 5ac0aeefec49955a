"""The host suite's world: a topology of namespaces around the root namespace,
a private bpffs, and `xtc` driven through its command line.

    client ns           root ns (xtc attaches here)          pod1 ns / pod2 ns
    c0 10.B.1.2 ---veth--- xc<id> 10.B.1.1
                           xp1<id> 10.B.2.1 ---veth--- p0 10.B.2.2   (pod1)
                           xp2<id> 10.B.3.1 ---veth--- p0 10.B.3.2   (pod2)
                                   10.B.9.1/32 (an address only)
                           10.B.200.0/24 via pod2 (a gateway route)

IPv6 mirrors it as fd00:B:N::/64.  B is a second octet no route of the host
uses, picked per topology.  Only xc forwards (per-interface sysctls on
interfaces we created; the host's global forwarding switches are never
touched), so replies from the pods are not routed back by the host: only a
reverse = yes mirror brings them back.  (This kernel has neither VLAN nor
dummy devices, so VLAN-tagged traffic is sent as raw tagged frames.)

Every name carries a per-topology random suffix; everything created is
recorded as it is created and removed in reverse order by close(), which
removes only what this object made."""
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import uuid

from lib.netns import Netns

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("XTC_BUILD") or os.path.join(ROOT, "build")
XTC = os.path.join(BUILD, "xtc")
MODES = ("native", "skb", "off")


def sh(cmd, check=True, env=None, timeout=60):
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: exit {res.returncode}\n{res.stdout}{res.stderr}")
    return res


def read_sys(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def link_exists(name):
    return sh(["ip", "link", "show", "dev", name], check=False).returncode == 0


def pick_octet():
    """A B for 10.B.0.0/16 and fd00:B::/32 that no address or route of the host uses."""
    used = sh(["ip", "-4", "route", "show", "table", "all"]).stdout + \
        sh(["ip", "-4", "addr"]).stdout
    used6 = sh(["ip", "-6", "route", "show", "table", "all"]).stdout + \
        sh(["ip", "-6", "addr"]).stdout
    for _ in range(200):
        b = random.randint(200, 249)
        if re.search(rf"\b10\.{b}\.", used) or re.search(rf"\bfd00:{b:x}:", used6):
            continue
        return b
    raise AssertionError("no free 10.2xx.0.0/16 test range")


class Topo:
    def __init__(self):
        self._undo = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    # -- building ---------------------------------------------------------

    def _root_link(self, name, *spec):
        sh(["ip", "link", "add", name, *spec])
        self._undo.append(("link", name))
        # No DAD: addresses are usable at once, and nothing else is on these links.
        sh(["sysctl", "-qw", f"net.ipv6.conf.{name}.accept_dad=0"])

    def _ns(self, prefix):
        ns = Netns(prefix)
        self._undo.append(("netns", ns))
        for key in ("all", "default"):
            ns.run("sysctl", "-qw", f"net.ipv6.conf.{key}.accept_dad=0")
        return ns

    def _build(self):
        self.id = uuid.uuid4().hex[:6]
        self.b = pick_octet()
        b, h = self.b, f"{self.b:x}"
        self.xc, self.xp1, self.xp2 = f"xc{self.id}", f"xp1{self.id}", f"xp2{self.id}"
        self.client = self._ns("xtcC")
        self.pod1 = self._ns("xtcP")
        self.pod2 = self._ns("xtcP")
        self.ns = {"client": self.client.name, "pod1": self.pod1.name, "pod2": self.pod2.name}

        self.v4 = {
            "client": f"10.{b}.1.2", "xc": f"10.{b}.1.1",
            "pod1": f"10.{b}.2.2", "xp1": f"10.{b}.2.1",
            "pod2": f"10.{b}.3.2", "xp2": f"10.{b}.3.1",
            "xp2_only": f"10.{b}.9.1",        # an address of xp2 without a route of its own
            "gw_routed": f"10.{b}.200.1",     # routed via pod2 as gateway: no auto entry
        }
        self.v6 = {
            "client": f"fd00:{h}:1::2", "xc": f"fd00:{h}:1::1",
            "pod1": f"fd00:{h}:2::2", "xp1": f"fd00:{h}:2::1",
            "pod2": f"fd00:{h}:3::2", "xp2": f"fd00:{h}:3::1",
        }
        self.net16 = f"10.{b}.0.0/16"
        self.net6 = f"fd00:{h}::/32"

        for dev, ns, inner, n in ((self.xc, self.client, "c0", 1), (self.xp1, self.pod1, "p0", 2),
                                  (self.xp2, self.pod2, "p0", 3)):
            self._root_link(dev, "type", "veth", "peer", "name", inner, "netns", ns.name)
            sh(["ip", "addr", "add", f"10.{b}.{n}.1/24", "dev", dev])
            sh(["ip", "-6", "addr", "add", f"fd00:{h}:{n}::1/64", "dev", dev, "nodad"])
            sh(["ip", "link", "set", dev, "up"])
            ns.run("ip", "addr", "add", f"10.{b}.{n}.2/24", "dev", inner)
            ns.run("ip", "-6", "addr", "add", f"fd00:{h}:{n}::2/64", "dev", inner, "nodad")
            ns.run("ip", "link", "set", inner, "up")
            ns.run("ip", "route", "add", "default", "via", f"10.{b}.{n}.1")
            ns.run("ip", "-6", "route", "add", "default", "via", f"fd00:{h}:{n}::1")
        sh(["ip", "addr", "add", f"{self.v4['xp2_only']}/32", "dev", self.xp2])
        # Routed through a gateway, so not a connected route: no target = auto entry.
        sh(["ip", "route", "add", f"10.{b}.200.0/24", "via", self.v4["pod2"], "dev", self.xp2])

        # Forwarding from the client side only, on our own interfaces.
        sh(["sysctl", "-qw", f"net.ipv4.conf.{self.xc}.forwarding=1"])
        self.v6_forwarding = os.path.exists(f"/proc/sys/net/ipv6/conf/{self.xc}/force_forwarding")
        if self.v6_forwarding:
            sh(["sysctl", "-qw", f"net.ipv6.conf.{self.xc}.force_forwarding=1"])

        self.mac = {
            "xc": read_sys(f"/sys/class/net/{self.xc}/address"),
            "xp1": read_sys(f"/sys/class/net/{self.xp1}/address"),
            "xp2": read_sys(f"/sys/class/net/{self.xp2}/address"),
            "client": self.client.run("cat", "/sys/class/net/c0/address").stdout.strip(),
            "pod1": self.pod1.run("cat", "/sys/class/net/p0/address").stdout.strip(),
            "pod2": self.pod2.run("cat", "/sys/class/net/p0/address").stdout.strip(),
        }
        self.warm_up()

    def warm_up(self):
        """Fills the neighbour tables on every link, both families."""
        for ns, gw4, gw6 in ((self.client, self.v4["xc"], self.v6["xc"]),
                             (self.pod1, self.v4["xp1"], self.v6["xp1"]),
                             (self.pod2, self.v4["xp2"], self.v6["xp2"])):
            ns.run("ping", "-c1", "-W2", gw4)
            ns.run("ping", "-6", "-c1", "-W2", gw6)

    def ifindex(self, dev):
        return int(read_sys(f"/sys/class/net/{dev}/ifindex"))

    def neigh_lladdr(self, dev, addr):
        """The host's neighbour table entry for addr on dev (None if absent)."""
        out = sh(["ip", "-j", "neigh", "show", "dev", dev, "to", addr]).stdout
        entries = [e for e in json.loads(out or "[]") if e.get("lladdr")]
        return entries[0]["lladdr"] if entries else None

    def tx_packets(self, dev):
        return int(read_sys(f"/sys/class/net/{dev}/statistics/tx_packets") or 0)

    def add_veth(self, name, peer):
        """A veth pair in the root namespace, removed by close() unless gone before."""
        self._root_link(name, "type", "veth", "peer", "name", peer)
        sh(["ip", "link", "set", name, "up"])
        sh(["ip", "link", "set", peer, "up"])

    def delete_link(self, name):
        sh(["ip", "link", "del", "dev", name])

    # -- teardown ---------------------------------------------------------

    def close(self):
        while self._undo:
            kind, what = self._undo.pop()
            if kind == "link":
                # Only ours: the name carries our random suffix.
                if link_exists(what):
                    sh(["ip", "link", "del", "dev", what], check=False)
            elif kind == "netns":
                what.close()


class Bpffs:
    """A private bpf filesystem instance on a fresh directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="xtc-host-bpffs-")
        res = sh(["mount", "-t", "bpf", "bpf", self.dir], check=False)
        if res.returncode != 0:
            os.rmdir(self.dir)
            raise AssertionError(f"cannot mount bpffs on {self.dir}: {res.stderr}")
        self.state = os.path.join(self.dir, "xtc")

    def close(self):
        sh(["umount", self.dir], check=False)
        try:
            os.rmdir(self.dir)
        except OSError:
            pass


class Xtc:
    """xtc's command line with configs written under workdir; all state in bpffs."""

    def __init__(self, bpffs, workdir):
        self.bpffs = bpffs
        self.workdir = workdir
        self.n = 0
        # Always valid, whatever the interfaces: unload must never fall back
        # to the default /sys/fs/bpf because a config names a deleted device.
        self.base_config = self.write(self.global_section())

    def global_section(self, **kw):
        lines = ["[global]", f"bpffs = {self.bpffs.dir}"]
        lines += [f"{k} = {v}" for k, v in kw.items() if v is not None]
        return "\n".join(lines) + "\n"

    def write(self, text):
        self.n += 1
        path = os.path.join(self.workdir, f"xtc-{self.n:03d}.ini")
        with open(path, "w") as f:
            f.write(text)
        self.last_config = path
        return path

    binary = XTC            # conftest points this at a per-session copy

    def run(self, *args, config=None, check=True):
        return sh([self.binary, "-c", config or self.base_config, *args], check=check)

    def apply(self, text, check=True):
        path = self.write(text)
        res = self.run("apply", config=path, check=False)
        if check and res.returncode != 0:
            raise AssertionError(f"xtc apply failed (exit {res.returncode})\n--- config\n{text}"
                                 f"--- output\n{res.stdout}{res.stderr}")
        return res

    def stats(self):
        return json.loads(self.run("stats", "--json").stdout)

    def status(self, problems=()):
        """status --json; exit 3 (problems listed) is allowed for the problems named."""
        res = self.run("status", "--json", check=False)
        doc = json.loads(res.stdout)
        found = sorted({p["problem"] for p in doc["problems"]})
        assert res.returncode == (3 if found else 0), res
        assert set(found) <= set(problems), f"unexpected status problems: {doc['problems']}"
        return doc

    def unload(self, check=True):
        return self.run("unload", "--all", check=check)

    # -- reading the counters -------------------------------------------

    def rule_packets(self, stats, rule):
        hits = [r for r in stats["rules"] if r["rule"] == rule]
        assert hits, f"rule {rule} not in xtc stats: {stats['rules']}"
        return hits[0]["packets"]

    def iface_counter(self, stats, dev, field):
        """A per-interface counter summed over the hooks (xdp, tc_ingress, tc_egress)."""
        return sum(i[field] for i in stats["interfaces"] if i["interface"] == dev)

    def prog_ids(self, status):
        """{(iface, hook): program id} of everything attached, from xtc status."""
        out = {}
        for ifc in status["interfaces"]:
            for hook in ("xdp", "tc_ingress", "tc_egress"):
                h = ifc.get(hook) or {}
                if h.get("attached"):
                    out[(ifc["interface"], hook)] = h["program_id"]
        return out


def make_config(xtc, topo, mode, rules, global_kw=None, iface_kw=None, ifaces=None):
    """An INI for one of the suite's modes: native / skb set xdp_mode, off sets xdp = off
    on every interface.  rules is the text of the [rule ...] sections."""
    gk = dict(global_kw or {})
    # On veths xdp = auto chooses TC alone: the native and skb modes are about XDP.
    gk.setdefault("xdp", "on")
    gk.setdefault("xdp_mode", "skb" if mode == "skb" else "native")
    text = xtc.global_section(**gk) + "\n"
    for dev in ifaces or (topo.xc, topo.xp1, topo.xp2):
        text += f"[interface {dev}]\n"
        if mode == "off":
            text += "xdp = off\n"
        for k, v in ((iface_kw or {}).get(dev) or {}).items():
            text += f"{k} = {v}\n"
        text += "\n"
    return text + rules


def xdp_attached(dev):
    """(kind, prog id) from `ip -d link`: kind is xdp, xdpgeneric or None."""
    out = sh(["ip", "-d", "link", "show", "dev", dev]).stdout
    kind = re.search(r"\s(xdp|xdpgeneric|xdpoffload)\s", out)
    prog = re.search(r"prog/xdp id (\d+)", out)
    return (kind.group(1) if kind else None, int(prog.group(1)) if prog else None)


def tc_filters(dev, hook):
    return sh(["tc", "filter", "show", "dev", dev, hook], check=False).stdout


def has_clsact(dev):
    return "qdisc clsact" in sh(["tc", "qdisc", "show", "dev", dev]).stdout


def bpftool_json(*args):
    out = sh(["bpftool", "-j", *args]).stdout
    return json.loads(out) if out.strip() else []


def have_tools(*tools):
    return [t for t in tools if shutil.which(t) is None]
