"""What the VM tests check and prepare on the host before booting a guest.

The VM tests run once per kernel (KERNELS): the newest Debian kernel in /boot
(bookworm's 6.1 here) and Debian trixie's current kernel, which
tests/vm/fetch-kernel.sh downloads and extracts into build/vm/kernels/ (never
installed; cached).  A test module makes one module-scoped fixture over
kernel_params() and calls vm_kernel() in it: that skips (no qemu, no kernel,
trixie's archive unreachable with nothing cached) or says how to boot it.
"""
import functools
import glob
import os
import re
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FETCH = os.path.join(HERE, "fetch-kernel.sh")
FETCH_UNAVAILABLE = 77   # fetch-kernel.sh: no kernel to be had (skip, not fail)
FETCH_TIMEOUT = 1800

BOOT = "boot"            # the newest Debian kernel in /boot
TRIXIE = "trixie"        # Debian trixie's linux-image-amd64, fetched
KERNELS = (BOOT, TRIXIE)


def _vkey(ver):
    """Sorts like sort -V does for Debian kernel versions."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", ver)]


def debian_kernels():
    """Installed kernels whose modules are there too (the guest loads them over 9p)."""
    kernels = []
    for path in glob.glob("/boot/vmlinuz-*"):
        ver = path[len("/boot/vmlinuz-"):]
        if os.path.isfile(os.path.join("/lib/modules", ver, "modules.dep")):
            kernels.append(ver)
    return sorted(kernels, key=_vkey)


def qemu_skip_reason():
    if shutil.which("qemu-system-x86_64") is None:
        return "qemu-system-x86_64 not installed (package qemu-system-x86)"
    return None


def skip_reason():
    """Why the VM suite cannot run on /boot's kernel on this machine, or None."""
    reason = qemu_skip_reason()
    if reason:
        return reason
    if not debian_kernels():
        return ("no Debian kernel: need /boot/vmlinuz-<v> with /lib/modules/<v> "
                "(package linux-image-amd64)")
    return None


def kernel_id(kernel):
    """The test id of a kernel: /boot's version (what run-vm.sh boots by
    default), or "trixie" (its version is known only once fetched)."""
    if kernel == BOOT:
        if os.environ.get("XTC_VM_KVER"):
            return os.environ["XTC_VM_KVER"]
        vers = debian_kernels()
        return vers[-1] if vers else BOOT
    return kernel


def kernel_params():
    """pytest params over KERNELS, ids from kernel_id()."""
    return [pytest.param(k, id=kernel_id(k)) for k in KERNELS]


@functools.lru_cache(maxsize=None)
def fetch_trixie(build):
    """(tree, None) when fetch-kernel.sh printed a tree, (None, why) when it
    says no kernel can be had (exit 77).  Raises RuntimeError when it broke.
    Once per pytest process: the modules share the answer."""
    env = dict(os.environ, XTC_VM_BUILD=build)
    try:
        proc = subprocess.run([FETCH], env=env, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=FETCH_TIMEOUT)
    except subprocess.TimeoutExpired as ex:
        raise RuntimeError(f"{FETCH} did not finish within {FETCH_TIMEOUT}s") from ex
    err = proc.stderr.strip().splitlines()
    if proc.returncode == FETCH_UNAVAILABLE:
        return None, (err[-1] if err else "fetch-kernel.sh: no trixie kernel available")
    tree = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not tree:
        raise RuntimeError(f"{FETCH} exited {proc.returncode}:\n{proc.stderr}")
    for line in err:                      # e.g. "using the cached ..."
        print(line)
    return tree[-1], None


class VMKernel:
    """How run-vm.sh boots one kernel: its environment and a label; or, in
    error, why it cannot (the tests then fail with it, they do not skip)."""

    def __init__(self, kernel, env, label, error=None):
        self.kernel = kernel     # BOOT or TRIXIE
        self.env = env           # os.environ for run-vm.sh
        self.label = label       # e.g. "6.12.118+deb13-amd64 (trixie)"
        self.error = error

    def __str__(self):
        return self.label


def vm_kernel(kernel, build):
    """A VMKernel for KERNELS' KERNEL, or pytest.skip with the reason."""
    reason = qemu_skip_reason()
    if reason:
        print("SKIP:", reason)
        pytest.skip(reason)
    env = dict(os.environ, XTC_VM_BUILD=build)
    if kernel == BOOT:
        reason = skip_reason()
        if reason:
            print("SKIP:", reason)
            pytest.skip(reason)
        env.pop("XTC_VM_KTREE", None)
        return VMKernel(kernel, env, kernel_id(BOOT) + " (/boot)")
    assert kernel == TRIXIE, kernel
    try:
        tree, reason = fetch_trixie(build)
    except RuntimeError as ex:
        return VMKernel(kernel, None, TRIXIE, error=f"fetching trixie's kernel failed: {ex}")
    if reason:
        print("SKIP:", reason)
        pytest.skip(reason)
    env.pop("XTC_VM_KVER", None)   # run-vm.sh takes it from the tree
    env["XTC_VM_KTREE"] = tree
    return VMKernel(kernel, env, os.path.basename(tree) + " (trixie)")
