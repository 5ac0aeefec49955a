"""Drives build/xtc-testrun: a config and scapy packets in, one result per packet out."""
import json
import os
import tempfile

from lib.netns import Netns

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTRUN = os.environ.get("XTC_TESTRUN", os.path.join(ROOT, "build", "xtc-testrun"))

XDP_DROP, XDP_PASS = 1, 2
TC_ACT_OK, TC_ACT_SHOT, TC_ACT_REDIRECT = 0, 2, 7
META_MAGIC, META_VERSION = 0x7874634D, 1
ACT_REDIRECT = 2
MODE = {"plain": 0, "neigh": 1, "peer": 2}

# Verdict classes shared by both hooks, for comparing XDP with TC.
PASS, DROP, REDIRECT = "pass", "drop", "redirect"


class Fixture:
    """A namespace with lo and veth pairs a0/a1 (rules) and t0/t1 (targets), and
    p0 whose peer lives in a second namespace (a valid peer-mode target)."""

    def __init__(self):
        self.ns = Netns("xtcfx")
        self.pod = Netns("xtcpod")
        for a, b in (("a0", "a1"), ("t0", "t1")):
            self.ns.run("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            self.ns.run("ip", "link", "set", a, "up")
            self.ns.run("ip", "link", "set", b, "up")
        self.ns.run("ip", "link", "add", "p0", "type", "veth", "peer", "name", "p1",
                    "netns", self.pod.name)
        self.ns.run("ip", "link", "set", "p0", "up")
        self.ifindex = {d: self.ns.ifindex(d) for d in ("lo", "a0", "a1", "t0", "t1", "p0")}

    def run(self, config, packets, extra_lines=()):
        """packets: (hook, ifname, scapy packet) or a raw line string.
        Returns one dict per packet, in order."""
        with tempfile.TemporaryDirectory(prefix="xtc-fx-") as d:
            cfg = os.path.join(d, "fx.ini")
            pk = os.path.join(d, "pkts.txt")
            with open(cfg, "w") as f:
                f.write(config)
            with open(pk, "w") as f:
                for p in packets:
                    if isinstance(p, str):
                        f.write(p + "\n")
                        continue
                    hook, ifname, pkt = p
                    f.write(f"{hook} {self.ifindex[ifname]} {bytes(pkt).hex()}\n")
            r = self.ns.run(TESTRUN, cfg, pk, check=False)
        if r.returncode != 0:
            raise AssertionError(f"xtc-testrun failed ({r.returncode}):\n{r.stderr}{r.stdout}")
        res = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
        # Each packet ran again from the verdict cache; it must have answered the same.
        bad = [x for x in res if x.get("cache_diff")]
        assert not bad, f"the verdict cache answered differently: {bad}"
        return res

    def close(self):
        self.ns.close()
        self.pod.close()


def verdict(res):
    """Reduces a result to (class, target or None) for either hook."""
    rv = res["retval"]
    if res["hook"] == "xdp":
        if rv == XDP_DROP:
            return DROP, None
        assert rv == XDP_PASS, res
        m = res["meta"]
        if m and m.get("magic") == META_MAGIC:
            return REDIRECT, m["target_ifindex"]
        return PASS, None
    if rv == TC_ACT_SHOT:
        return DROP, None
    if rv == TC_ACT_REDIRECT:
        return REDIRECT, None
    assert rv == TC_ACT_OK, res
    return PASS, None


def tc_test_run_refuses(frame):
    """BPF_PROG_TEST_RUN for TC (this kernel) rejects, with EINVAL, a frame whose
    EtherType promises IPv4 or IPv6 but that is shorter than that header.
    Real TC hooks do see such frames; only the test interface refuses them."""
    etype = frame[12:14]
    return (etype == b"\x08\x00" and len(frame) < 34) or (etype == b"\x86\xdd" and len(frame) < 54)


def check_refused(res, frame):
    """A TC result that is an error must be exactly the kernel's documented refusal."""
    assert res.get("error") == "Invalid argument" and tc_test_run_refuses(frame), (frame.hex(), res)
