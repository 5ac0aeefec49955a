"""client -> router -> pod, three namespaces of our own.

  client ns: c0 10.77.1.2/24 --- r1 10.77.1.1/24 :router ns: r2 10.77.2.1/24 --- p0 10.77.2.2/24 :pod ns
  client ns: c9 ----------------------------------------------------------- p9 :pod ns

The second pair joins client and pod with no router at all; Topo.direct(True)
routes the two addresses over it (host routes beat the /24s), so the same
server answers a path with no forwarding of any kind: the ceiling for every
method that forwards.

Routing happens in the router namespace (forwarding is a per-namespace sysctl
there; the host's sysctls are never touched).  xtc runs inside the router
namespace too (`ip netns exec` keeps our bpffs mount visible).  p0 gets r1's
MAC address: a plain bpf_redirect() keeps the client's Ethernet header, and
the pod only accepts frames addressed to its own MAC; routing and the other
modes are unaffected by that."""
import os

from common import bpffs, del_netns, mac, netns, sh, veth, xtc

CLIENT, ROUTER_C, ROUTER_P, POD = "10.77.1.2", "10.77.1.1", "10.77.2.1", "10.77.2.2"

NFT_RULES = 1000


class Topo:
    def __init__(self, ctx, tag):
        self.c, self.r, self.p = netns(f"xbc{tag}"), netns(f"xbr{tag}"), netns(f"xbp{tag}")
        veth(self.c, "c0", self.r, "r1")
        veth(self.r, "r2", self.p, "p0")
        veth(self.c, "c9", self.p, "p9")
        sh(["ip", "link", "set", "p0", "down"], ns=self.p)
        sh(["ip", "link", "set", "p0", "address", mac(self.r, "r1")], ns=self.p)
        sh(["ip", "link", "set", "p0", "up"], ns=self.p)
        for ns, dev, addr in ((self.c, "c0", CLIENT), (self.r, "r1", ROUTER_C),
                              (self.r, "r2", ROUTER_P), (self.p, "p0", POD)):
            sh(["ip", "addr", "add", f"{addr}/24", "dev", dev], ns=ns)
        sh(["ip", "route", "add", "10.77.2.0/24", "via", ROUTER_C], ns=self.c)
        sh(["ip", "route", "add", "default", "via", ROUTER_P], ns=self.p)
        self.fs = bpffs(ctx["dir"])
        self.dir = ctx["dir"]
        self.cfg = os.path.join(ctx["dir"], f"redirect-{tag}.ini")
        self.nft_file = os.path.join(ctx["dir"], f"nft-{tag}.nft")
        self.xtc_loaded = False
        self.nft_loaded = False
        self.forwarding(True)
        self.ping()

    def gro(self, on):
        """GRO on r1, the router's XDP side: lets the veth build GRO packets again."""
        sh(["ethtool", "-K", "r1", "gro", "on" if on else "off"], ns=self.r)

    def direct(self, on):
        """Client and pod talk over c9 -- p9, past the router, or not."""
        op = "replace" if on else "del"
        sh(["ip", "route", op, f"{POD}/32", "dev", "c9"], ns=self.c, check=on)
        sh(["ip", "route", op, f"{CLIENT}/32", "dev", "p9"], ns=self.p, check=on)

    def forwarding(self, on):
        sh(["sysctl", "-qw", f"net.ipv4.conf.all.forwarding={int(on)}"], ns=self.r)

    def ping(self):
        """Fills the neighbour tables; True when the pod answers."""
        return sh(["ping", "-c", "2", "-i", "0.2", "-W", "1", POD], ns=self.c,
                  check=False).returncode == 0

    # ---- the netfilter work of a real node -------------------------------
    def nft_on(self):
        """conntrack and a kube-proxy-sized forward chain the flows walk to the end."""
        with open(self.nft_file, "w") as f:
            f.write("table inet xtcbench {\n chain benchfwd {\n"
                    "  type filter hook forward priority 0; policy drop;\n"
                    "  ct state invalid drop\n")
            for i in range(NFT_RULES):
                f.write(f"  ip daddr 10.96.{i // 250}.{i % 250 + 1} tcp dport {8000 + i % 100} "
                        "accept\n")
            f.write("  ip saddr 10.77.0.0/16 ip daddr 10.77.0.0/16 accept\n }\n}\n")
        sh(["nft", "-f", self.nft_file], ns=self.r)
        self.nft_loaded = True

    def nft_off(self):
        if self.nft_loaded:
            sh(["nft", "delete", "table", "inet", "xtcbench"], ns=self.r, check=False)
            self.nft_loaded = False

    # ---- xtc --------------------------------------------------------------
    def xtc_on(self, mode, xdp=True, extra_rules=""):
        """xdp: True / False write xdp = on / off; None leaves the default (auto)."""
        with open(self.cfg, "w") as f:
            x = "" if xdp is None else f"xdp = {'on' if xdp else 'off'}\n"
            f.write(f"[global]\nbpffs = {self.fs}\n"
                    f"[interface r1]\n{x}[interface r2]\n{x}"
                    f"[rule to-pod]\ninterface = r1\ndst = {POD}\naction = redirect\n"
                    f"redirect = {mode}\ntarget = r2\nreverse = yes\n{extra_rules}")
        xtc(self.r, self.cfg, "apply")
        self.xtc_loaded = True

    def xtc_off(self):
        self.gro(False)
        if self.xtc_loaded:
            xtc(self.r, self.cfg, "unload", "--all", check=False)
            self.xtc_loaded = False

    def close(self):
        self.xtc_off()
        self.nft_off()
        for ns in (self.c, self.r, self.p):
            del_netns(ns)
