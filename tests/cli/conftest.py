# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Fixtures for the CLI tests.

Each test module gets its own bpffs mount and network namespace; each test
creates the veth pairs it needs through `env.pair()` and gets them removed,
after `xtc unload --all`, when it ends, pass or fail.  xtc always runs in the
root namespace with a config whose [global] bpffs is the module's mount, so
nothing here can reach another run's state under /sys/fs/bpf.
"""
import itertools
import os
import shutil

import pytest

from lib import xtc_cli as X
from lib.netns import sh


class Module:
    def __init__(self, tmpdir):
        self.tmp = tmpdir
        self.bpffs = X.BpfFs()
        self.net = X.Net()
        # Only [global]: valid whatever interfaces exist, so teardown can rely on it.
        self.base = X.write_config(os.path.join(tmpdir, "base.ini"), self.bpffs.path)

    def close(self):
        X.xtc(self.base, "unload", "--all")
        self.net.close()
        self.bpffs.close()


class Env:
    """What a test uses: configs, pairs, foreign programs; cleaned up after it."""

    _n = itertools.count()

    def __init__(self, mod):
        self.mod = mod
        self.bpffs = mod.bpffs
        self.base = mod.base
        self.pairs = []
        self.xdp_filter_on = []

    @property
    def state(self):
        return self.bpffs.state

    def pair(self, address=True, name=None):
        p = self.mod.net.pair(address, name)
        self.pairs.append(p)
        return p

    def config(self, ifaces=None, rules=None, glob=None, statics=None):
        path = os.path.join(self.mod.tmp, f"c{next(self._n)}.ini")
        return X.write_config(path, self.bpffs.path, ifaces, rules, glob, statics)

    def xtc(self, config, *args, **kw):
        return X.xtc(config, *args, **kw)

    def xdp_filter(self, p):
        """Loads xdp-filter (a single, non-dispatcher program) on p in skb mode."""
        env = dict(os.environ, LIBXDP_BPFFS=self.bpffs.path)
        r = sh(["xdp-filter", "load", "-m", "skb", p.name], check=False, env=env)
        assert r.returncode == 0, r.stderr
        self.xdp_filter_on.append(p)
        prog = X.xdp_prog(p.name)
        assert prog and prog[1].startswith("xdpfilt"), prog
        return prog

    def close(self):
        r = X.xtc(self.base, "unload", "--all")
        env = dict(os.environ, LIBXDP_BPFFS=self.bpffs.path)
        for p in self.xdp_filter_on:
            sh(["xdp-filter", "unload", p.name], check=False, env=env)
        for p in self.pairs:
            self.mod.net.remove(p)
        # A test that failed half-way must not leave state for the next one.
        shutil.rmtree(self.bpffs.state, ignore_errors=True)
        return r


@pytest.fixture(scope="module")
def module_env(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if not X.XTC.exists():
        pytest.fail(f"{X.XTC} is missing: run make (or set XTC_BIN)")
    mod = Module(str(tmp_path_factory.mktemp("cli")))
    yield mod
    mod.close()


@pytest.fixture
def env(module_env):
    e = Env(module_env)
    yield e
    r = e.close()
    assert r.returncode == 0, f"teardown: unload --all failed:\n{r.stdout}{r.stderr}"
