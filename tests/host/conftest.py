"""Fixtures of the host suite: one topology and one private bpffs per test
module, and for every test an xtc with no state at its start and none left
at its end (the finalizers run however the test ends)."""
import os
import shutil
import subprocess
import time

import pytest

from hostenv import MODES, XTC, Bpffs, Topo, Xtc, have_tools
from traffic import Traffic


@pytest.fixture(scope="session")
def host_ok():
    if os.geteuid() != 0:
        pytest.skip("the host suite needs root (network namespaces, BPF)")
    missing = have_tools("ip", "tc", "bpftool", "ping", "sysctl", "mount")
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    if not os.access(XTC, os.X_OK):
        pytest.fail(f"{XTC} not built: run make")


@pytest.fixture(scope="session", autouse=True)
def xtc_binary(host_ok, tmp_path_factory):
    """One copy of build/xtc for the whole run: a rebuild in the middle of the
    run (other work in the same tree) cannot swap the binary under a test.
    The BPF objects are compiled into it, so the copy is complete."""
    copy = tmp_path_factory.mktemp("bin") / "xtc"
    for _ in range(50):
        try:
            shutil.copy2(XTC, copy)
            if subprocess.run([str(copy), "version"], capture_output=True).returncode == 0:
                break
        except OSError:
            pass
        time.sleep(0.2)         # being relinked right now
    else:
        pytest.fail(f"cannot copy {XTC}")
    Xtc.binary = str(copy)
    return str(copy)


@pytest.fixture(scope="module")
def topo(host_ok):
    t = Topo()
    yield t
    t.close()


@pytest.fixture(scope="module")
def bpffs(host_ok):
    b = Bpffs()
    yield b
    b.close()


@pytest.fixture(scope="module")
def xtc_module(bpffs, topo, tmp_path_factory):
    x = Xtc(bpffs, str(tmp_path_factory.mktemp("xtc-host")))
    yield x
    # Before the topology goes: unload first, then the interfaces are deleted.
    x.unload(check=False)


@pytest.fixture
def xtc(xtc_module):
    """xtc with a clean slate: fresh state means fresh counters for every test."""
    xtc_module.unload(check=False)
    assert not os.path.exists(xtc_module.bpffs.state), "state left over before the test"
    yield xtc_module
    res = xtc_module.unload(check=False)
    assert res.returncode == 0, f"xtc unload --all failed: {res.stdout}{res.stderr}"


@pytest.fixture(scope="module", params=MODES)
def mode(request):
    """The XDP setting a module's traffic tests run under, each in turn."""
    return request.param


@pytest.fixture
def traffic(topo):
    t = Traffic(topo)
    yield t
    t.close()
