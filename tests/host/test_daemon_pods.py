# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The daemon on a living host, with real traffic: a pod that appears after
the daemon started is reachable through xtc (redirect peer, target = auto,
reverse = yes) without anyone running apply; re-created with the same IP on a
new veth (a new ifindex), it is reachable again; a broken SIGHUP keeps the
rules working; SIGTERM leaves the datapath forwarding, and a new daemon takes
over without a gap.  The host does not forward the pod's replies (forwarding
is off on its veth), so every completed exchange went through xtc."""
import signal
import subprocess
import time

import pytest

from hostenv import sh
from lib.netns import Netns
from lib.nsock import tcp_exchange
from traffic import rule

PORT = 7201


class Pod:
    """A namespace with a veth whose host end (name) matches the daemon's pattern."""

    def __init__(self, topo, name, n):
        self.topo, self.name = topo, name
        b = topo.b
        self.host_ip, self.ip = f"10.{b}.{n}.1", f"10.{b}.{n}.2"
        self.ns = Netns("xtcD")
        sh(["ip", "link", "add", name, "type", "veth", "peer", "name", "p0",
            "netns", self.ns.name])
        sh(["sysctl", "-qw", f"net.ipv4.conf.{name}.forwarding=0"])
        sh(["ip", "addr", "add", f"{self.host_ip}/24", "dev", name])
        sh(["ip", "link", "set", name, "up"])
        self.ns.run("ip", "addr", "add", f"{self.ip}/24", "dev", "p0")
        self.ns.run("ip", "link", "set", "p0", "up")
        self.ns.run("ip", "route", "add", "default", "via", self.host_ip)
        self.ns.run("ping", "-c1", "-W2", self.host_ip, check=False)

    def close(self):
        sh(["ip", "link", "del", self.name], check=False)
        self.ns.close()


class Daemon:
    def __init__(self, xtc, cfg):
        self.log = f"{cfg}.daemon.log"
        with open(self.log, "w") as out:
            self.p = subprocess.Popen([xtc.binary, "-c", cfg, "daemon"], stdout=out,
                                      stderr=subprocess.STDOUT)
        self.wait_for("daemon: ready")

    def said(self):
        with open(self.log) as f:
            return f.read()

    def wait_for(self, text, timeout=15):
        deadline = time.monotonic() + timeout
        while text not in self.said():
            assert self.p.poll() is None, self.said()
            assert time.monotonic() < deadline, f"no {text!r}:\n{self.said()}"
            time.sleep(0.05)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        return self.p.wait(timeout=20)


@pytest.fixture
def running(xtc):
    """Daemons and pods of a test, stopped and removed before xtc unloads."""
    things = []
    yield things
    for t in reversed(things):
        if isinstance(t, Daemon):
            if t.p.poll() is None:
                t.p.kill()
                t.p.wait()
        else:
            t.close()


def reachable(topo, pod, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        ok, detail = tcp_exchange(pod.ns.name, pod.ip, topo.ns["client"], PORT, timeout=1.0)
        if ok or time.monotonic() > deadline:
            return ok, detail
        time.sleep(0.1)


def test_pods_come_and_go_under_the_daemon(xtc, topo, running):
    pat = f"xd{topo.id}"
    text = (xtc.global_section(xdp_mode="skb") +
            f"\n[interface {topo.xc}]\nxdp = off\n\n[interface {pat}*]\nxdp = off\n"
            "tc_ingress = on\n\n" +
            rule("to-pods", interface=topo.xc, dst=f"10.{topo.b}.60.0/24", proto="tcp",
                 dst_port=PORT, action="redirect", redirect="peer", target="auto",
                 reverse="yes"))
    cfg = xtc.write(text)
    d = Daemon(xtc, cfg)
    running.append(d)

    # 2. A pod created after the daemon started: reachable, nobody ran apply.
    pod = Pod(topo, f"{pat}a", 60)
    running.append(pod)
    ok, detail = reachable(topo, pod)
    assert ok, f"the new pod is not reachable through xtc: {detail}\n{d.said()}"
    first = topo.ifindex(pod.name)

    # 3. Deleted and re-created with the same IP on a new veth.
    pod.close()
    pod = Pod(topo, f"{pat}b", 60)
    running.append(pod)
    assert topo.ifindex(pod.name) != first
    ok, detail = reachable(topo, pod)
    assert ok, f"the re-created pod is not reachable: {detail}\n{d.said()}"
    st = xtc.stats()
    assert xtc.rule_packets(st, "to-pods~reverse") >= 2, "the replies did not go through xtc"

    # 4. SIGHUP with a broken file: refused, the rules keep working.
    with open(cfg, "a") as f:
        f.write("\n[rule broken]\naction = maybe\n")
    d.p.send_signal(signal.SIGHUP)
    d.wait_for("has errors: kept what runs now")
    ok, detail = reachable(topo, pod, timeout=3)
    assert ok, detail

    # 5. SIGTERM leaves the datapath forwarding; a new daemon takes over.
    with open(cfg, "w") as f:
        f.write(text)
    assert d.stop() == 0, d.said()
    ok, detail = reachable(topo, pod, timeout=3)
    assert ok, f"the datapath stopped with the daemon: {detail}"
    d2 = Daemon(xtc, cfg)
    running.append(d2)
    assert "no changes" in d2.said() or "+ " not in d2.said().split("daemon: ready")[0], \
        d2.said()
    ok, detail = reachable(topo, pod, timeout=3)
    assert ok, detail
    assert d2.stop() == 0
    # Without xtc the pod is not reachable: the exchanges above went through xtc.
    xtc.unload()
    ok, detail = tcp_exchange(pod.ns.name, pod.ip, topo.ns["client"], PORT, timeout=1.5)
    assert not ok, "reachable without xtc: the test proves nothing"
