"""Traffic for the host suite: UDP through real sockets, whole frames through
AF_PACKET, all from the test process (see lib/nsock.py).  Frames are built
with scapy, which is only imported here."""
import os
import struct

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
from scapy.packet import Raw

from lib import nsock

TTL = 64                # what the client sends with; the host's forwarding makes it 63
BARRIER_PORT = 6999     # never matched by a rule: the host forwards it to the pods


def rule(name, **kw):
    """One [rule NAME] section; keyword order is kept, None values left out."""
    lines = [f"[rule {name}]"] + [f"{k} = {v}" for k, v in kw.items() if v is not None]
    return "\n".join(lines) + "\n\n"


class Frame:
    """What the sniffer needs to know of an Ethernet frame (tags included)."""

    def __init__(self, data):
        self.data = data
        self.dst_mac = data[0:6].hex(":")
        self.src_mac = data[6:12].hex(":")
        self.vlans = []
        off, etype = 12, struct.unpack("!H", data[12:14])[0]
        while etype in (0x8100, 0x88A8) and len(data) >= off + 6:
            self.vlans.append(struct.unpack("!H", data[off + 2:off + 4])[0] & 0xFFF)
            off += 4
            etype = struct.unpack("!H", data[off:off + 2])[0]
        self.etype = etype
        l3 = off + 2
        self.ttl = self.proto = self.dport = None
        if etype == 0x0800 and len(data) >= l3 + 20:
            ihl = (data[l3] & 0xF) * 4
            self.ttl, self.proto = data[l3 + 8], data[l3 + 9]
            l4 = l3 + ihl
        elif etype == 0x86DD and len(data) >= l3 + 40:
            self.ttl, self.proto = data[l3 + 7], data[l3 + 6]
            l4 = l3 + 40
        else:
            return
        if self.proto == 17 and len(data) >= l4 + 8:
            self.dport = struct.unpack("!H", data[l4 + 2:l4 + 4])[0]
            self.payload = data[l4 + 8:]


class Traffic:
    """Per test: opens sockets on demand and closes all of them at the end."""

    def __init__(self, topo):
        self.topo = topo
        self.token = os.urandom(4).hex().encode()
        self._open = []

    def close(self):
        for s in self._open:
            s.close()
        self._open = []

    def _keep(self, s):
        self._open.append(s)
        return s

    def addr(self, where, v6=False):
        return (self.topo.v6 if v6 else self.topo.v4)[where]

    def sink(self, where, port, v6=False):
        """A UDP socket on the pod's (or client's) address."""
        return self._keep(nsock.UdpSink(self.topo.ns[where], self.addr(where, v6), port))

    def sniffer(self, where, ifname=None):
        """Frames arriving on p0 of a pod (or any interface of a namespace)."""
        ns = self.topo.ns.get(where) if where else None
        return self._keep(nsock.Sniffer(ns, ifname or ("c0" if where == "client" else "p0")))

    def payloads(self, label, n):
        return [b"%s:%s:%d" % (self.token, label.encode(), i) for i in range(n)]

    def send(self, dst, port, n, v6=False, label=None, ttl=TTL):
        """n datagrams from the client's socket to `dst` (a name in topo.v4/v6
        or an address); returns the payloads."""
        addr = dst if ("." in dst or ":" in dst) else self.addr(dst, v6)
        p = self.payloads(label or f"{addr}/{port}", n)
        nsock.udp_send(self.topo.ns["client"], addr, port, p, ttl=ttl)
        return p

    def barrier(self, where="pod1", v6=False, timeout=3.0):
        """Sends a datagram the host simply forwards, and waits for it: packets
        sent before it on the same path have had their chance to arrive."""
        s = self.sink(where, BARRIER_PORT, v6)
        p = self.send(where, BARRIER_PORT, 1, v6=v6, label="barrier")[0]
        ok = s.wait_for(p, timeout)
        s.close()
        self._open.remove(s)
        assert ok, f"barrier datagram to {where} never arrived: the forwarding path is broken"

    # -- whole frames -----------------------------------------------------

    def frame(self, dst, port, label, i=0, v6=False, vlans=(), sport=40000):
        """A client frame for the host (xc), optionally VLAN-tagged: vlans is a
        list of (tpid, vid), outermost first."""
        t = self.topo
        l2 = Ether(src=t.mac["client"], dst=t.mac["xc"])
        for tpid, vid in vlans:
            l2 = l2 / (Dot1AD(vlan=vid) if tpid == 0x88A8 else Dot1Q(vlan=vid))
        addr = dst if ("." in dst or ":" in dst) else self.addr(dst, v6)
        l3 = IPv6(src=t.v6["client"], dst=addr, hlim=TTL) if v6 else \
            IP(src=t.v4["client"], dst=addr, ttl=TTL)
        pkt = l2 / l3 / UDP(sport=sport + i, dport=port) / Raw(b"%s:%s:%d" % (
            self.token, label.encode(), i))
        return bytes(pkt)

    def send_frames(self, frames):
        tx = self._keep(nsock.RawSender(self.topo.ns["client"], "c0"))
        for f in frames:
            tx.send(f)


def udp_frames(sniffer, port, count, timeout=3.0):
    """Frames carrying UDP to `port` seen by `sniffer`, as Frame objects."""
    hits = sniffer.wait(lambda d: Frame(d).dport == port, count, timeout)
    return [Frame(d) for d in hits]
