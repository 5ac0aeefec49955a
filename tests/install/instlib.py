# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Helpers of the install and packaging tests: running make and commands."""
import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD = REPO / "build"

# What `make install` puts down, relative to DESTDIR, with PREFIX=/usr/local.
INSTALLED = [
    "etc/xtc/xtc.ini",
    "usr/local/lib/systemd/system/xtc-daemon.service",
    "usr/local/lib/systemd/system/xtc.service",
    "usr/local/sbin/xtc",
    "usr/local/share/bash-completion/completions/xtc",
    "usr/local/share/doc/xtc/xtc.ini.example",
    "usr/local/share/man/man5/xtc.ini.5",
    "usr/local/share/man/man8/xtc.8",
]


def run(cmd, check=True, **kw):
    """Runs CMD (a list) and returns the CompletedProcess; text output."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 600)
    r = subprocess.run([str(c) for c in cmd], **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))}: exit {r.returncode}\n"
                             f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    return r


def make(*args, check=True):
    return run(["make", "-C", REPO, "--no-print-directory", *args], check=check)


def make_var(name):
    return make("-s", f"print-{name}").stdout.strip()


def files_under(root):
    """Every file and symlink under ROOT, as sorted paths relative to it."""
    root = pathlib.Path(root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() or p.is_symlink())
