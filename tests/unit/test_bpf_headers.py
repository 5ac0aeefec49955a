# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The BPF objects compile from kernel UAPI, libbpf and libxdp headers alone.

A glibc header in a -target bpf compile drags in gnu/stubs-32.h, which only
libc6-dev-i386 ships: the build then fails on a fresh machine.  clang -M with
the Makefile's own flags lists every header a BPF object opens.
"""
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent.parent


def make_var(name):
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(REPO), f"print-{name}"],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


def allowed_prefixes():
    arch = make_var("ARCH_INC")
    return [
        "/usr/include/linux/",
        "/usr/include/asm-generic/",
        arch + "/asm/",             # Debian keeps the arch's asm/ here
        "/usr/include/bpf/",        # libbpf's BPF-side headers
        "/usr/include/xdp/",        # libxdp's BPF-side headers (XDP_RUN_CONFIG)
        str(REPO) + "/",
    ]


def headers_of(src, cflags):
    r = subprocess.run(["clang"] + cflags.split() + ["-M", str(src)], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, f"clang -M {src} failed:\n{r.stderr}"
    deps = r.stdout.replace("\\\n", " ").split(":", 1)[1].split()
    return [os.path.normpath(os.path.join(REPO, d)) for d in deps]


def outside(paths, prefixes):
    return [p for p in paths if not any(p.startswith(a) for a in prefixes)]


SRCS = make_var("BPF_SRCS").split()


@pytest.mark.parametrize("src", SRCS)
def test_bpf_object_uses_no_libc_header(src):
    bad = outside(headers_of(REPO / src, make_var("BPF_CFLAGS")), allowed_prefixes())
    assert not bad, (f"{src} opens headers outside the kernel UAPI, libbpf and libxdp "
                     f"(glibc under -target bpf needs libc6-dev-i386):\n  " + "\n  ".join(bad))


def test_the_check_can_fail(tmp_path):
    """linux/icmp.h is the header that once pulled sys/socket.h in."""
    src = tmp_path / "bad.bpf.c"
    src.write_text("#include <linux/bpf.h>\n#include <linux/icmp.h>\n")
    r = subprocess.run(["clang"] + make_var("BPF_CFLAGS").split() + ["-M", str(src)],
                       cwd=REPO, capture_output=True, text=True)
    # Without libc6-dev-i386 clang itself fails; with it, the glibc path shows up.
    assert r.returncode != 0 or outside(
        [os.path.normpath(d) for d in r.stdout.replace("\\\n", " ").split(":", 1)[1].split()],
        allowed_prefixes())
