"""Debian's xdp-filter as the baseline, loaded by its own tool.

xdp-filter pins its maps under <bpffs>/xdp-filter of the first bpf
filesystem it finds (it ignores LIBXDP_BPFFS for them), so it runs in a
mount namespace of its own (ip netns exec gives one) with our bpffs bound on
/sys/fs/bpf: nothing lands in anybody else's bpffs."""
import ipaddress
import os
import shlex
import struct

import bpfsys
from common import sh, xdp_prog_id

MAP_FLAG_DST, MAP_FLAG_TCP, MAP_FLAG_UDP = 1 << 1, 1 << 2, 1 << 3
FILTER_IPV4_MAX = 10000     # filter_ipv4 max_entries in Debian's objects


class XdpFilter:
    def __init__(self, ns, dev, bpffs, mode="native"):
        self.ns, self.dev, self.bpffs = ns, dev, bpffs
        self.tool("load", "-m", mode, "-f", "tcp,udp,ipv4,ipv6", dev)
        self.prog_id = xdp_prog_id(ns, dev)
        self.ncpu = bpfsys.possible_cpus()
        self._maps = {}

    def tool(self, *args):
        cmd = " ".join(shlex.quote(a) for a in ("xdp-filter",) + args)
        return sh(["sh", "-c", f"mount --bind {shlex.quote(self.bpffs)} /sys/fs/bpf && {cmd}"],
                  ns=self.ns)

    def map_fd(self, name):
        if name not in self._maps:
            self._maps[name] = bpfsys.obj_get(os.path.join(self.bpffs, "xdp-filter", name))
        return self._maps[name]

    def prog_name(self):
        fd = bpfsys.prog_fd_by_id(self.prog_id)
        try:
            return bpfsys.prog_name(fd)
        finally:
            os.close(fd)

    def add_ports(self, ports):
        """Destination ports, TCP and UDP (what `xdp-filter port P` writes)."""
        v = struct.pack("=Q", MAP_FLAG_DST | MAP_FLAG_TCP | MAP_FLAG_UDP) * self.ncpu
        keys = [struct.pack("=I", struct.unpack("<H", struct.pack(">H", p))[0]) for p in ports]
        bpfsys.map_update_batch(self.map_fd("filter_ports"), keys, [v] * len(keys), 4, 8 * self.ncpu)

    def add_addrs(self, addrs):
        """Destination addresses (what `xdp-filter ip A` writes), IPv4 and IPv6."""
        v = struct.pack("=Q", MAP_FLAG_DST) * self.ncpu
        v4 = [ipaddress.ip_address(a).packed for a in addrs if ":" not in a]
        v6 = [ipaddress.ip_address(a).packed for a in addrs if ":" in a]
        if v4:
            bpfsys.map_update_batch(self.map_fd("filter_ipv4"), v4, [v] * len(v4), 4, 8 * self.ncpu)
        if v6:
            bpfsys.map_update_batch(self.map_fd("filter_ipv6"), v6, [v] * len(v6), 16, 8 * self.ncpu)

    def close(self):
        for fd in self._maps.values():
            os.close(fd)
        self._maps = {}
        self.tool("unload", self.dev)
