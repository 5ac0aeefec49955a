"""Sockets inside network namespaces, opened from the test process itself.

A socket belongs to the namespace it was created in, whatever namespace the
thread is in later.  So instead of running a helper process per packet
(`ip netns exec ... python3 -c ...`, a second or more for each scapy import)
the test switches its own thread into the namespace with setns(2), opens the
socket, and switches back at once; the socket is then used from the root
namespace as usual.  This keeps every traffic check in one process, with
plain timeouts and no output parsing.

Only CLONE_NEWNET is switched: the mount namespace (and so bpffs and /sys)
stays the test's own."""
import contextlib
import ctypes
import os
import select
import socket
import struct
import threading
import time

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40

_libc = ctypes.CDLL(None, use_errno=True)
_setns_lock = threading.Lock()


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def netns(name):
    """Runs the body with this thread in network namespace `name` (None: stay)."""
    if name is None:
        yield
        return
    with _setns_lock:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(f"/run/netns/{name}", os.O_RDONLY)
            try:
                _setns(target)
            finally:
                os.close(target)
            try:
                yield
            finally:
                _setns(home)
        finally:
            os.close(home)


def socket_in(ns, family, type_, proto=0):
    with netns(ns):
        return socket.socket(family, type_, proto)


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


class UdpSink:
    """A UDP socket bound in a namespace that counts what arrives."""

    def __init__(self, ns, addr, port):
        self.sock = socket_in(ns, family_of(addr), socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((addr, port))
        self.sock.setblocking(False)
        self.got = []

    def _read(self, timeout):
        r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
        if not r:
            return False
        while True:
            try:
                self.got.append(self.sock.recv(65535))
            except BlockingIOError:
                return True

    def wait(self, count, timeout=3.0):
        """Reads until `count` datagrams are in or `timeout` passes; returns them."""
        end = time.monotonic() + timeout
        while len(self.got) < count and time.monotonic() < end:
            self._read(end - time.monotonic())
        return self.got

    def wait_for(self, payload, timeout=3.0):
        """Reads until `payload` arrived (True) or `timeout` passes (False)."""
        end = time.monotonic() + timeout
        while payload not in self.got and time.monotonic() < end:
            self._read(end - time.monotonic())
        return payload in self.got

    def take(self):
        self._read(0)
        got, self.got = self.got, []
        return got

    def close(self):
        self.sock.close()


class Sniffer:
    """An AF_PACKET socket on one interface of a namespace: every frame that
    arrives there, with a VLAN tag the stack moved out of the frame put back."""

    def __init__(self, ns, ifname):
        with netns(ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                      socket.htons(ETH_P_ALL))
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            self.sock.bind((ifname, ETH_P_ALL))
        self.sock.setblocking(False)
        self.frames = []

    def _one(self):
        data, anc, _flags, addr = self.sock.recvmsg(65535, socket.CMSG_SPACE(32))
        if addr[2] == PACKET_OUTGOING:
            return
        for level, type_, cdata in anc:
            if level != SOL_PACKET or type_ != PACKET_AUXDATA or len(cdata) < 20:
                continue
            status, _len, _snap, _mac, _net, tci, tpid = struct.unpack("IIIHHHH", cdata[:20])
            if status & TP_STATUS_VLAN_VALID:
                if not status & TP_STATUS_VLAN_TPID_VALID:
                    tpid = 0x8100
                data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
        self.frames.append(data)

    def _read(self, timeout):
        r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
        if not r:
            return
        while True:
            try:
                self._one()
            except BlockingIOError:
                return

    def wait(self, pred, count, timeout=3.0):
        """Frames for which pred(frame) holds, once `count` are in or at `timeout`."""
        end = time.monotonic() + timeout
        self._read(0)
        while True:
            hits = [f for f in self.frames if pred(f)]
            if len(hits) >= count or time.monotonic() >= end:
                return hits
            self._read(end - time.monotonic())

    def close(self):
        self.sock.close()


class RawSender:
    """Sends whole Ethernet frames out of an interface of a namespace."""

    def __init__(self, ns, ifname):
        with netns(ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                      socket.htons(ETH_P_ALL))
            self.sock.bind((ifname, 0))

    def send(self, frame, count=1):
        for _ in range(count):
            self.sock.send(bytes(frame))

    def close(self):
        self.sock.close()


def udp_send(ns, dst, port, payloads, src=None, sport=0, ttl=None):
    """Sends each payload as one datagram from a socket in `ns`; ttl sets the
    IPv4 TTL or the IPv6 hop limit."""
    s = socket_in(ns, family_of(dst), socket.SOCK_DGRAM)
    try:
        if ttl is not None:
            if ":" in dst:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
            else:
                s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        if src or sport:
            s.bind((src or ("::" if ":" in dst else "0.0.0.0"), sport))
        for p in payloads:
            s.sendto(p, (dst, port))
    finally:
        s.close()


def _listener(ns, addr, port, timeout):
    srv = socket_in(ns, family_of(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(1)
    srv.settimeout(timeout)
    return srv


def _stop_listener(srv, thread, timeout):
    try:
        srv.shutdown(socket.SHUT_RDWR)    # wakes a pending accept()
    except OSError:
        pass
    srv.close()
    thread.join(timeout)


def _start(serve, client_ns, fam, timeout):
    """Runs the server loop in a thread; returns it and a client socket."""
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    cli = socket_in(client_ns, fam, socket.SOCK_STREAM)
    cli.settimeout(timeout)
    return t, cli


def tcp_exchange(server_ns, server_addr, client_ns, port, timeout=2.0):
    """A server in server_ns answers one request from a client in client_ns.

    Returns (completed, detail): completed is True when the client connected,
    sent its request and read the whole answer."""
    fam = family_of(server_addr)
    srv = _listener(server_ns, server_addr, port, timeout + 1)
    served = {}

    def serve():
        try:
            conn, peer = srv.accept()
            with conn:
                conn.settimeout(timeout)
                data = conn.recv(100)
                served["request"] = data
                conn.sendall(b"pong:" + data)
        except OSError as e:
            served["error"] = e

    t, cli = _start(serve, client_ns, fam, timeout)
    try:
        cli.connect((server_addr, port))
        cli.sendall(b"ping")
        answer = b""
        while len(answer) < len(b"pong:ping"):
            chunk = cli.recv(100)
            if not chunk:
                break
            answer += chunk
        ok = answer == b"pong:ping"
        return ok, f"answer {answer!r}"
    except OSError as e:
        return False, f"client: {e!r}"
    finally:
        cli.close()
        _stop_listener(srv, t, timeout + 2)


def tcp_bulk(server_ns, server_addr, client_ns, port, size, timeout=10.0):
    """The client sends size bytes; the server answers with the count it read.

    Big writes make GSO/GRO packets whose payload sits outside the skb's
    linear area, which TC programs must classify like any other packet.
    Returns (completed, detail)."""
    fam = family_of(server_addr)
    srv = _listener(server_ns, server_addr, port, timeout)
    got = {}

    def serve():
        try:
            conn, _ = srv.accept()
            with conn:
                conn.settimeout(timeout)
                n = 0
                while n < size:
                    chunk = conn.recv(1 << 16)
                    if not chunk:
                        break
                    n += len(chunk)
                got["n"] = n
                conn.sendall(str(n).encode())
        except OSError as e:
            got["error"] = e

    t, cli = _start(serve, client_ns, fam, timeout)
    try:
        cli.connect((server_addr, port))
        block = b"x" * (1 << 16)
        sent = 0
        while sent < size:
            cli.sendall(block[:min(len(block), size - sent)])
            sent += min(len(block), size - sent)
        answer = cli.recv(100)
        return answer == str(size).encode(), f"answer {answer!r}, server {got}"
    except OSError as e:
        return False, f"client: {e!r}, server {got}"
    finally:
        cli.close()
        _stop_listener(srv, t, timeout)
