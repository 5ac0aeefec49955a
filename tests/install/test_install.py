# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""make install / make uninstall with DESTDIR and PREFIX."""
import os
import stat

from instlib import INSTALLED, REPO, files_under, make, run


def test_install_puts_down_exactly_these_files(staged):
    assert files_under(staged) == INSTALLED
    modes = {f: stat.S_IMODE(os.stat(staged / f).st_mode) for f in INSTALLED}
    assert modes.pop("usr/local/sbin/xtc") == 0o755
    assert set(modes.values()) == {0o644}, modes
    assert (staged / "etc/xtc/xtc.ini").read_text() == (REPO / "configs/xtc.ini").read_text()
    for src, dst in [("docs/man/xtc.8", "usr/local/share/man/man8/xtc.8"),
                     ("docs/man/xtc.ini.5", "usr/local/share/man/man5/xtc.ini.5"),
                     ("configs/xtc.ini.example", "usr/local/share/doc/xtc/xtc.ini.example"),
                     ("packaging/bash-completion/xtc",
                      "usr/local/share/bash-completion/completions/xtc")]:
        assert (staged / dst).read_bytes() == (REPO / src).read_bytes(), dst


def test_unit_runs_the_installed_binary(staged):
    unit = (staged / "usr/local/lib/systemd/system/xtc.service").read_text()
    assert "@" not in unit
    lines = unit.splitlines()
    assert "ExecStart=/usr/local/sbin/xtc apply" in lines
    assert "ExecReload=/usr/local/sbin/xtc apply" in lines
    assert "ExecStop=/usr/local/sbin/xtc unload --all" in lines


def test_installed_binary_runs(staged, version):
    xtc = staged / "usr/local/sbin/xtc"
    r = run([xtc, "version"])
    assert r.stdout.splitlines()[0] == f"xtc {version}"
    r = run([xtc, "--help"])
    assert r.stdout.startswith("Usage: xtc")


def test_installed_config_is_valid_anywhere(staged):
    """Only [global]: `xtc check` accepts it, also with --strict."""
    xtc, ini = staged / "usr/local/sbin/xtc", staged / "etc/xtc/xtc.ini"
    for extra in ([], ["--strict"]):
        r = run([xtc, "-c", ini, "check", *extra], check=False)
        assert r.returncode == 0, r.stdout + r.stderr
    sections = [line for line in ini.read_text().splitlines() if line.startswith("[")]
    assert sections == ["[global]"]


def test_reinstall_keeps_a_modified_config_and_uninstall_leaves_only_it(tmp_path, xtc_bin):
    make("install", f"DESTDIR={tmp_path}", "PREFIX=/usr/local")
    ini = tmp_path / "etc/xtc/xtc.ini"
    mine = ini.read_text() + "\n; the operator's edit\n"
    ini.write_text(mine)
    make("install", f"DESTDIR={tmp_path}", "PREFIX=/usr/local")
    assert ini.read_text() == mine
    assert files_under(tmp_path) == INSTALLED

    make("uninstall", f"DESTDIR={tmp_path}", "PREFIX=/usr/local")
    assert files_under(tmp_path) == ["etc/xtc/xtc.ini"]
    assert ini.read_text() == mine
    # Nothing of ours is left: no xtc directory but /etc/xtc.
    ours = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*xtc*"))
    assert ours == ["etc/xtc", "etc/xtc/xtc.ini"]
    # A second uninstall finds nothing to do, and still keeps the config.
    make("uninstall", f"DESTDIR={tmp_path}", "PREFIX=/usr/local")
    assert files_under(tmp_path) == ["etc/xtc/xtc.ini"]


def test_prefix_and_dirs_are_variables(tmp_path, xtc_bin):
    make("install", f"DESTDIR={tmp_path}", "PREFIX=/opt/xtc", "SYSCONFDIR=/opt/etc",
         "UNITDIR=/lib/systemd/system", "MANDIR=/usr/share/man")
    assert files_under(tmp_path) == [
        "lib/systemd/system/xtc-daemon.service",
        "lib/systemd/system/xtc.service",
        "opt/etc/xtc/xtc.ini",
        "opt/xtc/sbin/xtc",
        "opt/xtc/share/bash-completion/completions/xtc",
        "opt/xtc/share/doc/xtc/xtc.ini.example",
        "usr/share/man/man5/xtc.ini.5",
        "usr/share/man/man8/xtc.8",
    ]
    unit = (tmp_path / "lib/systemd/system/xtc.service").read_text()
    assert "ExecStart=/opt/xtc/sbin/xtc apply" in unit.splitlines()
    unit = (tmp_path / "lib/systemd/system/xtc-daemon.service").read_text()
    assert "ExecStart=/opt/xtc/sbin/xtc daemon" in unit.splitlines()
    make("uninstall", f"DESTDIR={tmp_path}", "PREFIX=/opt/xtc", "SYSCONFDIR=/opt/etc",
         "UNITDIR=/lib/systemd/system", "MANDIR=/usr/share/man")
    assert files_under(tmp_path) == ["opt/etc/xtc/xtc.ini"]
