"""VM smoke test: libxdp's dispatcher runs two XDP programs side by side.

The host kernel refuses freplace programs, so this boots Debian's kernel under
qemu (tests/vm/run-vm.sh) and runs tests/vm/guest-smoke.sh inside, once per
kernel (vmhost.KERNELS: /boot's, and Debian trixie's fetched by
fetch-kernel.sh).  Skips only when qemu or that kernel is absent (trixie's:
the archive unreachable and nothing cached); any harness breakage fails.
"""
import os
import subprocess

import pytest

from vmhost import kernel_params, vm_kernel

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("XTC_VM_BUILD") or os.path.join(REPO, "build", "vm")
TIMEOUT = int(os.environ.get("XTC_VM_TIMEOUT", "600"))


def _compile_smoke_obj():
    os.makedirs(BUILD, exist_ok=True)
    obj = os.path.join(BUILD, "xdp_pass.o")
    tmp = f"{obj}.{os.getpid()}.tmp"
    arch_inc = "/usr/include/x86_64-linux-gnu"
    subprocess.run(
        ["clang", "-g", "-O2", "-target", "bpf", "-Wall", "-Wextra", "-Werror",
         "-I" + arch_inc, "-c", os.path.join(HERE, "xdp_pass.bpf.c"), "-o", tmp],
        check=True)
    os.replace(tmp, obj)  # atomic: a concurrent run never sees half a file
    return obj


@pytest.fixture(scope="module", params=kernel_params())
def kernel(request):
    """One kernel the VM boots (the test id names it)."""
    return vm_kernel(request.param, BUILD)


def test_dispatcher_smoke_in_vm(kernel, tmp_path):
    if kernel.error:
        pytest.fail(kernel.error, pytrace=False)
    # The guest is too slow to compile: build the second XDP program here.
    _compile_smoke_obj()

    out = tmp_path / "vm-out"
    proc = subprocess.run(
        [os.path.join(HERE, "run-vm.sh"), os.path.join(HERE, "guest-smoke.sh"), str(out)],
        cwd=REPO, env=kernel.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=TIMEOUT + 120)
    print(proc.stdout)
    assert proc.returncode == 0, f"run-vm.sh on {kernel} exited {proc.returncode}:\n{proc.stdout}"

    assert (out / "rc").read_text().strip() == "0"
    log = (out / "guest.log").read_text()
    lines = log.splitlines()
    disp = [l for l in lines if l.split()[1:2] == ["xdp_dispatcher"]]
    assert disp and disp[0].split()[0] == "xtcsm0", log
    slots = [l.split() for l in lines if l.lstrip().startswith("=>")]
    assert sorted(s[2] for s in slots) == ["xdpfilt_alw_all", "xtc_smoke_pass"], log
    assert "SMOKE: dispatcher programs on xtcsm0: xdpfilt_alw_all xtc_smoke_pass" in lines, log
    assert "3 packets transmitted, 3 received, 0% packet loss" in log, log
    assert any(l.startswith("SMOKE OK:") for l in lines), log
    assert "SMOKE FAIL" not in log, log
