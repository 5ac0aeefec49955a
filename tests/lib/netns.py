"""Throwaway network namespaces and veth pairs for tests.

Every name carries a per-run suffix so parallel or leftover runs never collide,
and everything is removed on exit, even when the test fails."""
import subprocess
import uuid


def sh(cmd, check=True, ns=None, **kw):
    if ns:
        cmd = ["ip", "netns", "exec", ns] + list(cmd)
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def unique(prefix):
    """A short unique name; interface names must stay under 16 bytes."""
    return f"{prefix}{uuid.uuid4().hex[:6]}"


class Netns:
    def __init__(self, prefix="xtcns"):
        self.name = unique(prefix)
        sh(["ip", "netns", "add", self.name])
        self.run("ip", "link", "set", "lo", "up")

    def run(self, *cmd, check=True, **kw):
        return sh(cmd, check=check, ns=self.name, **kw)

    def ifindex(self, dev):
        return int(self.run("cat", f"/sys/class/net/{dev}/ifindex").stdout)

    def close(self):
        sh(["ip", "netns", "del", self.name], check=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
