# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""xtc_host_routes() against a real, throwaway network namespace."""
import os
import shutil
import subprocess
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKGS = ["libnl-3.0", "libnl-route-3.0", "libbpf", "libxdp"]

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip"),
    reason="needs root and iproute2 for network namespaces")


def run(*args, **kw):
    return subprocess.run(list(args), check=True, text=True, capture_output=True, **kw)


@pytest.fixture(scope="module")
def driver():
    path = os.path.join(os.environ.get("XTC_BUILD") or os.path.join(ROOT, "build"),
                        "hostroutes_drv")
    assert os.access(path, os.X_OK), f"{path} missing: run `make`"
    return path


@pytest.fixture
def netns(request):
    name = "xtchr-" + uuid.uuid4().hex[:10]
    run("ip", "netns", "add", name)
    request.addfinalizer(lambda: subprocess.run(["ip", "netns", "del", name],
                                                capture_output=True))
    return name


def ns(name, *cmd):
    return run("ip", "-n", name, *cmd)


def ifindex(name, dev):
    out = ns(name, "-o", "link", "show", "dev", dev).stdout
    return int(out.split(":", 1)[0])


def host_routes(driver, name):
    res = subprocess.run(["ip", "netns", "exec", name, driver, "-v"],
                         text=True, capture_output=True)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    entries = [tuple(line.split()) for line in lines]
    # Every prefix once: duplicates and conflicts must already be resolved.
    assert len({p for p, _ in entries}) == len(entries), lines
    return {p: int(i) for p, i in entries}, res.stderr


def test_host_routes(driver, netns):
    ns(netns, "link", "set", "lo", "up")
    ns(netns, "link", "add", "hra", "type", "veth", "peer", "name", "hrb")
    ns(netns, "link", "set", "hra", "up")
    ns(netns, "link", "set", "hrb", "up")
    a, b = ifindex(netns, "hra"), ifindex(netns, "hrb")

    ns(netns, "addr", "add", "10.99.1.1/24", "dev", "hra")
    ns(netns, "-6", "addr", "add", "2001:db8:99::1/64", "dev", "hra", "nodad")
    # A /32 address adds no main-table route, so it is the only claim from b.
    ns(netns, "addr", "add", "10.99.9.9/32", "dev", "hrb")

    ns(netns, "route", "add", "10.99.7.5/32", "dev", "hra")
    # A length that is not a whole number of bytes.
    ns(netns, "route", "add", "10.99.64.0/18", "dev", "hrb")
    # Same prefix as b's address, on a: the address was seen first and wins.
    ns(netns, "route", "add", "10.99.9.9/32", "dev", "hra")
    # Must not appear.
    ns(netns, "route", "add", "10.99.50.0/24", "via", "10.99.1.2")
    ns(netns, "route", "add", "default", "via", "10.99.1.254")
    ns(netns, "-6", "route", "add", "2001:db8:50::/64", "via", "2001:db8:99::2")
    ns(netns, "route", "add", "169.254.0.0/16", "dev", "hra")
    ns(netns, "route", "add", "224.0.0.0/4", "dev", "hra")
    ns(netns, "route", "add", "10.99.60.0/24", "dev", "hra", "table", "100")

    got, log = host_routes(driver, netns)
    want = {
        "10.99.1.1/32": a,
        "10.99.1.0/24": a,
        "2001:db8:99::1/128": a,
        "2001:db8:99::/64": a,
        "10.99.7.5/32": a,
        "10.99.9.9/32": b,
        "10.99.64.0/18": b,
    }
    assert got == want, (got, log)
    assert "10.99.9.9/32 on ifindex %d and %d" % (b, a) in log


def test_empty_namespace(driver, netns):
    # Only lo, which is skipped: an empty but successful result.
    ns(netns, "link", "set", "lo", "up")
    got, _ = host_routes(driver, netns)
    assert got == {}
