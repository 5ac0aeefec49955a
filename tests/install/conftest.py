# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Fixtures for the install and packaging tests.

They drive the top-level Makefile (make install, make uninstall, make deb)
into temporary trees: nothing is installed on this machine, and the .deb is
only unpacked into scratch roots with their own dpkg database.
"""
import pathlib

import pytest

from instlib import BUILD, make, make_var, run


@pytest.fixture(scope="session")
def xtc_bin():
    """build/xtc, built as `make` builds it."""
    make("build/xtc")
    return BUILD / "xtc"


@pytest.fixture(scope="session")
def version():
    return make_var("XTC_VERSION")


@pytest.fixture(scope="session")
def staged(tmp_path_factory, xtc_bin):
    """A fresh `make install DESTDIR=<tmp> PREFIX=/usr/local`, shared read-only."""
    dest = tmp_path_factory.mktemp("staged")
    make("install", f"DESTDIR={dest}", "PREFIX=/usr/local")
    return dest


@pytest.fixture(scope="session")
def deb(version):
    """build/xtc_<version>_<arch>.deb from `make deb`."""
    make("deb")
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    path = BUILD / f"xtc_{version}_{arch}.deb"
    assert path.is_file(), f"make deb did not write {path}"
    return path


@pytest.fixture
def unit_root(tmp_path):
    """Makes a --root for systemd-analyze: the host's own units (targets such as
    multi-user.target and network-online.target) copied under ROOT/lib, and the
    one system binary a unit names (xtc-daemon's ExecReload=/bin/kill, of procps)."""
    def populate(root):
        dst = pathlib.Path(root) / "lib/systemd/system"
        dst.mkdir(parents=True, exist_ok=True)
        run(["cp", "-an", "/lib/systemd/system/.", dst])
        (pathlib.Path(root) / "bin").mkdir(exist_ok=True)
        run(["cp", "-n", "/bin/kill", pathlib.Path(root) / "bin/kill"])
        return root
    return populate
