# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""make deb: the package's fields, contents, lintian, and a round trip.

The round trip installs the .deb with `dpkg --root` into a scratch root with
its own dpkg database.  --force-script-chrootless runs the maintainer scripts
on this host with DPKG_ROOT set, as dpkg does for chrootless installs, so
they must touch nothing outside that root: deb-systemd-helper enables the
unit inside it, and systemctl and deb-systemd-invoke are not run.
"""
import gzip
import os
import pathlib
import re

import pytest

from instlib import REPO, run

LIBS = ["libxdp1", "libbpf1", "libnl-3-200", "libnl-route-3-200",
        "libelf1", "zlib1g", "libc6"]
# Libraries whose symbols file dates everything xtc uses from their first
# version: dpkg-shlibdeps rightly names them without one.
UNVERSIONED = ["libsystemd0"]
FILES = [
    "./etc/xtc/xtc.ini",
    "./lib/systemd/system/xtc-daemon.service",
    "./lib/systemd/system/xtc.service",
    "./usr/sbin/xtc",
    "./usr/share/bash-completion/completions/xtc",
    "./usr/share/doc/xtc/changelog.gz",
    "./usr/share/doc/xtc/copyright",
    "./usr/share/doc/xtc/xtc.ini.example",
    "./usr/share/man/man5/xtc.ini.5.gz",
    "./usr/share/man/man8/xtc.8.gz",
]
ENABLED = "etc/systemd/system/multi-user.target.wants/xtc.service"


def field(deb, name):
    return run(["dpkg-deb", "-f", deb, name]).stdout.strip()


def test_lintian_reports_no_errors(deb):
    r = run(["lintian", "--no-tag-display-limit", deb], check=False)
    errors = [line for line in r.stdout.splitlines() if line.startswith("E:")]
    assert not errors, r.stdout
    assert r.returncode == 0, r.stdout + r.stderr


def test_control_fields(deb, version):
    assert field(deb, "Package") == "xtc"
    assert field(deb, "Version") == version
    assert field(deb, "Architecture") == run(["dpkg", "--print-architecture"]).stdout.strip()
    assert field(deb, "Section") == "net"
    assert field(deb, "Priority") == "optional"
    assert re.fullmatch(r".+ <[^@\s]+@[^@\s]+>", field(deb, "Maintainer"))
    assert field(deb, "Description").startswith("XDP and TC packet control")
    assert int(field(deb, "Installed-Size")) > 0


def test_depends_name_every_library_with_a_version(deb):
    depends = {d.split()[0]: d for d in field(deb, "Depends").split(", ")}
    for lib in LIBS:
        assert lib in depends, (lib, depends)
        assert re.fullmatch(rf"{re.escape(lib)} \(>= \S+\)", depends[lib]), depends[lib]
    for lib in UNVERSIONED:
        assert lib in depends, (lib, depends)


def test_depends_cover_what_the_binary_links(tmp_path, deb):
    run(["dpkg", "-x", deb, tmp_path])
    depends = {d.split()[0] for d in field(deb, "Depends").split(", ")}
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]",
                        run(["readelf", "-d", tmp_path / "usr/sbin/xtc"]).stdout)
    assert needed
    ldd = run(["ldd", tmp_path / "usr/sbin/xtc"]).stdout
    for soname in needed:
        path = re.search(rf"^\s*{re.escape(soname)} => (\S+)", ldd, re.M).group(1)
        assert package_of(path) in depends, (soname, path, depends)


def package_of(path):
    """The package that ships PATH, as dpkg knows it (usrmerge: /lib or /usr/lib)."""
    real = os.path.realpath(path)
    for p in [path, real] + [re.sub(r"^/usr/", "/", q) for q in (path, real)] + \
            ["/usr" + q for q in (path, real) if not q.startswith("/usr/")]:
        r = run(["dpkg", "-S", p], check=False)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    raise AssertionError(f"no package ships {path}")


def test_conffiles_and_contents(deb):
    conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
    assert conffiles == ["/etc/xtc/xtc.ini"]
    listing = run(["dpkg-deb", "-c", deb]).stdout.splitlines()
    files = sorted(line.split()[-1] for line in listing if not line.startswith("d"))
    assert files == FILES
    assert all(line.split()[1] == "root/root" for line in listing), listing
    modes = {line.split()[-1]: line.split()[0] for line in listing}
    assert modes["./usr/sbin/xtc"] == "-rwxr-xr-x"
    assert {modes[f] for f in FILES if f != "./usr/sbin/xtc"} == {"-rw-r--r--"}
    scripts = run(["dpkg-deb", "-I", deb]).stdout
    for script in ["postinst", "prerm", "postrm", "md5sums"]:
        assert re.search(rf"\s{script}\b", scripts), script


def test_unpacked_files(tmp_path, deb, version):
    run(["dpkg", "-x", deb, tmp_path])
    r = run([tmp_path / "usr/sbin/xtc", "version"])
    assert r.stdout.splitlines()[0] == f"xtc {version}"
    assert run([tmp_path / "usr/sbin/xtc", "--help"]).stdout.startswith("Usage: xtc")
    assert "not stripped" not in run(["file", "-L", tmp_path / "usr/sbin/xtc"]).stdout
    unit = (tmp_path / "lib/systemd/system/xtc.service").read_text().splitlines()
    assert "ExecStart=/usr/sbin/xtc apply" in unit
    for src, page in [("docs/man/xtc.8", "man8/xtc.8.gz"), ("docs/man/xtc.ini.5", "man5/xtc.ini.5.gz")]:
        got = gzip.decompress((tmp_path / "usr/share/man" / page).read_bytes())
        assert got == (REPO / src).read_bytes(), page
    assert (tmp_path / "etc/xtc/xtc.ini").read_bytes() == (REPO / "configs/xtc.ini").read_bytes()
    copyright_ = (tmp_path / "usr/share/doc/xtc/copyright").read_text()
    assert "License: GPL-2.0 or BSD-2-Clause" in copyright_
    changelog = gzip.decompress((tmp_path / "usr/share/doc/xtc/changelog.gz").read_bytes())
    assert changelog.decode().startswith(f"xtc ({version}) ")


@pytest.fixture
def scratch_root(tmp_path):
    root = tmp_path / "root"
    admin = root / "var/lib/dpkg"
    for d in ["info", "updates", "triggers"]:
        (admin / d).mkdir(parents=True)
    for f in ["status", "available"]:
        (admin / f).write_text("")
    return root


def dpkg(root, *args):
    return run(["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
                *args])


def host_state():
    """What the maintainer scripts could have changed on this host."""
    paths = [pathlib.Path("/") / ENABLED, pathlib.Path("/etc/systemd/system/xtc.service"),
             pathlib.Path("/var/lib/systemd/deb-systemd-helper-enabled/xtc.service.dsh-also"),
             pathlib.Path("/var/lib/systemd/deb-systemd-helper-masked/xtc.service")]
    return {str(p): os.path.lexists(p) for p in paths}


def test_install_remove_purge_round_trip(scratch_root, deb, version):
    root, before = scratch_root, host_state()

    dpkg(root, "-i", deb)
    status = run(["dpkg-query", f"--root={root}", "-W", "-f=${Status} ${Version}", "xtc"]).stdout
    assert status == f"install ok installed {version}"
    r = run([root / "usr/sbin/xtc", "version"])
    assert r.stdout.splitlines()[0] == f"xtc {version}"
    # postinst enabled the unit (inside the root), and started nothing.
    assert os.readlink(root / ENABLED) == "/lib/systemd/system/xtc.service"
    assert host_state() == before

    ini = root / "etc/xtc/xtc.ini"
    mine = ini.read_text() + "; the operator's edit\n"
    ini.write_text(mine)
    dpkg(root, "-r", "xtc")
    # Removed: everything but the conffile; the unit is masked, as debhelper does.
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if (p.is_file() or p.is_symlink()) and "var/lib" not in str(p))
    assert left == ["etc/systemd/system/multi-user.target.wants/xtc.service",
                    "etc/systemd/system/xtc.service", "etc/xtc/xtc.ini"]
    assert os.readlink(root / "etc/systemd/system/xtc.service") == "/dev/null"
    assert ini.read_text() == mine

    dpkg(root, "-P", "xtc")
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if (p.is_file() or p.is_symlink()) and "var/lib/dpkg" not in str(p))
    assert left == []
    assert run(["dpkg-query", f"--root={root}", "-W", "xtc"], check=False).returncode != 0
    assert host_state() == before
