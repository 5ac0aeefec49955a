# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""xtc daemon: the reconciler on host events.  An interface that appears and
matches an [interface PATTERN] gets our programs and enforces the rules without
anyone running apply; one that goes is forgotten; a named optional interface is
taken when it comes.  SIGHUP re-reads the file (a broken one is refused and
what runs stays), SIGTERM leaves the datapath, --unload-on-exit takes it down.
One daemon per state directory; apply and unload refuse to race it."""
import json
import os
import signal
import subprocess
import time

import pytest

from lib import xtc_cli as X


class Daemon:
    def __init__(self, cfg, *args, env=None):
        self.path = f"{cfg}.daemon.log"
        with open(self.path, "w") as out:
            self.p = subprocess.Popen([str(X.XTC), "-c", str(cfg), "daemon", *args],
                                      stdout=out, stderr=subprocess.STDOUT, env=env)
        X.eventually(lambda: "daemon: ready" in self.log() or self.p.poll() is not None,
                     what="the daemon is ready")

    def log(self):
        """What the daemon said so far."""
        with open(self.path) as f:
            return f.read()

    def send(self, sig):
        self.p.send_signal(sig)

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.p.wait(timeout=20)


@pytest.fixture
def daemons():
    running = []
    yield running
    for d in running:
        if d.p.poll() is None:
            d.p.kill()
            d.p.wait()


def verdict(cfg, iface, packet):
    r = X.xtc(cfg, "explain", "--json", iface, packet)
    out = json.loads(r.stdout)
    return out.get("verdict") if r.returncode == 0 else None


def managed(cfg):
    st = json.loads(X.xtc(cfg, "status", "--json").stdout)
    return {i["interface"] for i in st.get("interfaces", [])}


def files(env, tag, extra_rule=None):
    rules = [("web", {"proto": "tcp", "dst_port": "8080", "action": "drop"})]
    if extra_rule:
        rules.append(extra_rule)
    return env.config({f"{tag}*": {"xdp": "off", "tc_ingress": "on"},
                       f"{tag}named": {"optional": "yes", "xdp": "off", "tc_ingress": "on"}},
                      rules)


def test_daemon_follows_interfaces_and_signals(env, daemons):
    tag = f"xd{os.getpid() % 1000}"
    cfg = files(env, tag)
    d = Daemon(cfg)
    daemons.append(d)
    assert d.p.poll() is None, d.log()
    pkt = "tcp 10.1.1.1:4000 -> 10.2.2.2:8080"

    # A matching veth appears: attached and enforcing, nobody ran apply.
    a = env.pair(name=f"{tag}a")
    X.eventually(lambda: verdict(cfg, a.name, pkt) == "drop", what=f"{a.name} enforces")
    assert verdict(cfg, a.name, "tcp 10.1.1.1:4000 -> 10.2.2.2:8081") == "pass"

    # The named optional one, when it comes.
    n = env.pair(name=f"{tag}named")
    X.eventually(lambda: n.name in managed(cfg), what="the optional interface is managed")

    # apply and unload refuse to race the daemon, and name it.
    for cmd in (["apply"], ["unload", "--all"]):
        r = X.xtc(cfg, *cmd)
        assert r.returncode == X.EXIT_RUNTIME, r
        assert f"xtc daemon (pid {d.p.pid})" in r.stderr and "kill -HUP" in r.stderr, r.stderr
    # A second daemon for the same state refuses to start.
    r = subprocess.run([str(X.XTC), "-c", str(cfg), "daemon"], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == X.EXIT_RUNTIME and f"pid {d.p.pid}" in r.stderr, r

    # Gone from the host: forgotten, its TCX link pins too (they would keep the link).
    ifindex = int(open(f"/sys/class/net/{a.name}/ifindex").read())
    links = os.path.join(env.state, "links")
    assert [f for f in os.listdir(links) if f.startswith(f"tcx_{ifindex}_")]
    env.mod.net.remove(a)
    X.eventually(lambda: a.name not in managed(cfg), what=f"{a.name} forgotten")
    assert not [f for f in os.listdir(links) if f.startswith(f"tcx_{ifindex}_")], \
        os.listdir(links)
    # status tells who manages the state and what it did.
    st = json.loads(X.xtc(cfg, "status", "--json").stdout)
    dm = st["daemon"]
    assert dm["pid"] == d.p.pid and dm["events"]["link"] > 0, dm
    assert dm["reconciles"] >= 3 and dm["repairs"] >= 2 and dm["failures"] == 0, dm
    assert "last_reload_ok" not in dm and "last_error" not in dm, dm

    # SIGHUP with a broken file: refused, the rules keep working.
    good = open(cfg).read()
    with open(cfg, "a") as f:
        f.write("\n[rule broken]\naction = maybe\n")
    d.send(signal.SIGHUP)
    X.eventually(lambda: "has errors: kept what runs now" in d.log(), what="the refusal")
    assert verdict(cfg, n.name, pkt) == "drop"
    dm = json.loads(X.xtc(cfg, "status", "--json").stdout)["daemon"]
    assert dm["last_reload_ok"] is False and "has errors" in dm["last_error"], dm
    # SIGHUP with a good change: applied.
    with open(cfg, "w") as f:
        f.write(good.replace("dst_port = 8080", "dst_port = 8081"))
    d.send(signal.SIGHUP)
    X.eventually(lambda: verdict(cfg, n.name, "tcp 10.1.1.1:4000 -> 10.2.2.2:8081") == "drop",
                 what="the new rule")
    assert verdict(cfg, n.name, pkt) == "pass"
    dm = json.loads(X.xtc(cfg, "status", "--json").stdout)["daemon"]
    assert dm["last_reload_ok"] is True and "last_error" not in dm, dm

    # SIGTERM: exit 0, and the datapath stays.
    assert d.stop() == 0, d.log()
    assert verdict(cfg, n.name, "tcp 10.1.1.1:4000 -> 10.2.2.2:8081") == "drop"
    assert X.ok(X.xtc(cfg, "status")).returncode == 0


def test_sighup_says_shadowed_rules_once(env, daemons):
    """The shadowed-rules check of a reload runs beside the reconcile (it only warns):
    the new rules are enforced and the warning is said, once.  A link event re-reads
    the daemon's copy of the file, whose warnings were said already: not again."""
    tag = f"xw{os.getpid() % 1000}"
    cfg = files(env, tag)
    d = Daemon(cfg)
    daemons.append(d)
    a = env.pair(name=f"{tag}a")
    pkt = "tcp 10.1.1.1:4000 -> 10.2.2.2:8080"
    X.eventually(lambda: verdict(cfg, a.name, pkt) == "drop", what=f"{a.name} enforces")
    shadowed = files(env, tag, ("late-web", {"proto": "tcp", "dst_port": "8080",
                                             "action": "pass"}))
    os.replace(shadowed, cfg)
    d.send(signal.SIGHUP)
    say = "[rule late-web] can never match: [rule web]"
    X.eventually(lambda: say in d.log(), what="the shadow warning")
    assert verdict(cfg, a.name, pkt) == "drop"
    st = json.loads(X.xtc(cfg, "status", "--json").stdout)["daemon"]
    assert st["last_reload_ok"] is True, st
    # A link event: the copy is read again, its warning not said again.
    b = env.pair(name=f"{tag}b")
    X.eventually(lambda: verdict(cfg, b.name, pkt) == "drop", what=f"{b.name} enforces")
    assert d.log().count(say) == 1, d.log()


def test_daemon_unload_on_exit(env, daemons):
    tag = f"xu{os.getpid() % 1000}"
    a = env.pair(name=f"{tag}a")
    cfg = files(env, tag)
    d = Daemon(cfg, "--unload-on-exit")
    daemons.append(d)
    X.eventually(lambda: a.name in managed(cfg), what=f"{a.name} managed")
    assert d.stop(signal.SIGINT) == 0, d.log()
    assert not os.path.exists(env.state), env.bpffs.listing()
    X.eventually(lambda: X.bare(a.name), what=f"{a.name} bare")


def test_daemon_refuses_a_broken_file_at_start(env):
    cfg = env.config(None, [("bad", {"action": "maybe"})])
    r = subprocess.run([str(X.XTC), "-c", str(cfg), "daemon"], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == X.EXIT_USAGE and "bad value 'maybe'" in r.stderr, r
    assert not os.path.exists(env.state)


def test_netlink_overflow_falls_back_to_a_full_look(env, daemons):
    """A receive buffer made small on purpose overflows under a burst of 2,000 address
    changes (ENOBUFS): the daemon counts it and looks at the host in full, so the
    IP-to-ifindex map ends with every address."""
    tag = f"xn{os.getpid() % 1000}"
    a = env.pair(address=False, name=f"{tag}a")
    cfg = env.config({f"{tag}*": {"xdp": "off", "tc_ingress": "on"}},
                     [("r", {"proto": "udp", "dst_port": "9", "action": "drop"})])
    d = Daemon(cfg, env=dict(os.environ, XTC_NETLINK_RCVBUF="4096"))
    daemons.append(d)
    batch = "".join(f"address add 10.77.{i // 250}.{i % 250 + 1}/32 dev {a.name}\n"
                    for i in range(2000))
    subprocess.run(["ip", "-batch", "-"], input=batch, text=True, check=True)

    def all_there():
        out = json.loads(X.xtc(cfg, "ipmap", "--json").stdout)
        return sum(1 for e in out["ipmap"] if e["prefix"].startswith("10.77.")) == 2000
    X.eventually(all_there, timeout=30, what="every address in the IP-to-ifindex map")
    dm = json.loads(X.xtc(cfg, "status", "--json").stdout)["daemon"]
    assert dm["events"]["overflow"] > 0, dm
    assert d.stop() == 0


def test_systemd_notify_protocol(env, daemons, tmp_path):
    """Type=notify against a real NOTIFY_SOCKET (a datagram socket this test listens
    on): READY=1 after the first converge, STATUS=, WATCHDOG=1 at half of
    WATCHDOG_USEC, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 at SIGTERM."""
    import socket

    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    got = []

    def wait_for(word):
        while not any(word in m for m in got):
            got.append(sock.recv(4096).decode())
        return got

    tag = f"xs{os.getpid() % 1000}"
    cfg = env.config({f"{tag}*": {"xdp": "off", "tc_ingress": "on"}},
                     [("r", {"proto": "udp", "dst_port": "9", "action": "drop"})])
    d = Daemon(cfg, env=dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="200000"))
    daemons.append(d)
    try:
        wait_for("READY=1")
        first = [m for m in got if "READY=1" in m or "STATUS=" in m]
        assert any("STATUS=converged" in m for m in got), got
        assert first, got
        del got[:]
        wait_for("WATCHDOG=1")
        del got[:]
        d.send(signal.SIGHUP)
        wait_for("READY=1")
        assert [m for m in got if "RELOADING=1" in m], got
        assert got.index(next(m for m in got if "RELOADING=1" in m)) < \
            got.index(next(m for m in got if "READY=1" in m)), got
        del got[:]
        d.send(signal.SIGTERM)
        wait_for("STOPPING=1")
        assert d.stop() == 0
    finally:
        sock.close()


def test_resync_repairs_what_no_event_reports(env, daemons):
    """Damage by hand makes no netlink event: the periodic resync (resync_interval =
    1s here) repairs each kind in turn (a pin removed, a TCX link detached, a clsact
    deleted), and status counts the repairs."""
    from lib.netns import sh

    tag = f"xr{os.getpid() % 1000}"
    a = env.pair(name=f"{tag}a")
    b = env.pair(name=f"{tag}b")
    cfg = env.config({f"{tag}a": {"xdp": "off", "tc_ingress": "on"},
                      f"{tag}b": {"xdp": "off", "tc_ingress": "on"}},
                     [("r", {"proto": "udp", "dst_port": "9", "action": "drop"})],
                     glob={"resync_interval": "1s"})
    cls = env.config({f"{tag}a": {"xdp": "off", "tc_ingress": "on"},
                      f"{tag}b": {"xdp": "off", "tc_ingress": "on"}},
                     [("r", {"proto": "udp", "dst_port": "9", "action": "drop"})],
                     glob={"resync_interval": "1s", "tc_attach": "cls_bpf"})
    d = Daemon(cfg)
    daemons.append(d)
    X.eventually(lambda: {a.name, b.name} <= managed(cfg), what="both managed")

    def healed():
        return X.xtc(cfg, "status").returncode == 0

    pin = os.path.join(env.state, "maps", "xtc_rule_info")
    os.unlink(pin)
    assert X.xtc(cfg, "status").returncode == X.EXIT_DIFF
    X.eventually(lambda: os.path.exists(pin) and healed(), what="the pin is back")
    link = X.tcx_links(b.name, egress=False)
    sh(["bpftool", "link", "detach", "id", str(link[0])])
    assert X.xtc(cfg, "status").returncode == X.EXIT_DIFF
    X.eventually(lambda: X.tcx_progs(b.name, egress=False) and healed(),
                 what="the link is back")
    dm = json.loads(X.xtc(cfg, "status", "--json").stdout)["daemon"]
    assert dm["repairs"] >= 2, dm
    assert d.stop() == 0

    # cls_bpf: a clsact deleted by hand is made again.
    d = Daemon(cls)
    daemons.append(d)
    X.eventually(lambda: X.cls_bpf_ids(a.name) and healed(), what="moved to cls_bpf")
    sh(["tc", "qdisc", "del", "dev", a.name, "clsact"])
    X.eventually(lambda: X.cls_bpf_ids(a.name) and healed(), what="the clsact is back")
    assert d.stop() == 0


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_file_and_endpoint(env, daemons, tmp_path):
    """metrics_file (a textfile collector's file, written atomically after every
    reconcile) and metrics_listen (GET /metrics): every counter of `xtc stats`
    plus the daemon's reconcile histogram, events, repairs and managed interfaces;
    both parse as Prometheus text."""
    import urllib.request
    from prometheus_client.parser import text_string_to_metric_families

    tag = f"xm{os.getpid() % 1000}"
    a = env.pair(name=f"{tag}a")
    port = free_port()
    prom = tmp_path / "xtc.prom"
    cfg = env.config({f"{tag}*": {"xdp": "off", "tc_ingress": "on"}},
                     [("r", {"proto": "udp", "dst_port": "9", "action": "drop"})],
                     glob={"metrics_file": str(prom), "metrics_listen": f"127.0.0.1:{port}"})
    d = Daemon(cfg)
    daemons.append(d)
    assert d.p.poll() is None, d.log()

    def families(text):
        return {f.name: f for f in text_string_to_metric_families(text)}

    X.eventually(lambda: prom.exists(), what="the metrics file")
    b = env.pair(name=f"{tag}b")
    X.eventually(lambda: b.name in managed(cfg), what=f"{b.name} managed")

    def filed():
        fam = families(prom.read_text())
        return fam if fam["xtc_daemon_managed_interfaces"].samples[0].value == 2 else None
    fam = X.eventually(filed, what="the file follows")
    hist = fam["xtc_daemon_reconcile_duration_seconds"]
    count = [s for s in hist.samples if s.name.endswith("_count")][0].value
    assert count >= 2, hist.samples
    assert fam["xtc_up"].samples[0].value == 1
    assert [s for s in fam["xtc_rule_packets"].samples if s.labels.get("rule") == "r"]
    events = {s.labels["kind"]: s.value for s in fam["xtc_daemon_events"].samples
              if s.name == "xtc_daemon_events_total"}
    assert events["link"] > 0, events
    assert fam["xtc_daemon_repairs"].samples[0].value >= 1

    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    served = families(body.decode())
    assert set(fam) <= set(served), set(fam) - set(served)
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
        raise AssertionError("/other answered")
    except urllib.error.HTTPError as e:
        assert e.code == 404
    assert d.stop() == 0
