"""VM coexistence tests: xtc beside xdp-filter, xdp-loader programs and xdpdump
under libxdp's dispatcher (issue 4, VM part).

The host kernel refuses freplace, so this boots Debian's kernel under qemu
once for the whole module per kernel (tests/vm/run-vm.sh; vmhost.KERNELS:
/boot's, and Debian trixie's fetched by fetch-kernel.sh) and runs every case
in one guest process (tests/vm/guest_coexist.py, started by
guest-coexist.sh).  The guest prints one "CASE <name> PASS|FAIL <reason>"
line per case; each case here is one pytest test per kernel
(test_coexist[<kernel>-<case>]), so a failure names its kernel and case and
shows its evidence.  Skips only when qemu or that kernel is absent (trixie's:
the archive unreachable and nothing cached); if the VM or the build breaks,
every case of that kernel fails.
"""
import importlib.util
import os
import re
import subprocess

import pytest

from vmhost import TRIXIE, kernel_params, vm_kernel

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("XTC_VM_BUILD") or os.path.join(REPO, "build", "vm")
TIMEOUT = int(os.environ.get("XTC_VM_TIMEOUT", "600"))
XTC = os.path.join(REPO, "build", "xtc")


def _guest_cases():
    """The case names, from the guest script itself (it runs them in this order)."""
    spec = importlib.util.spec_from_file_location("guest_coexist",
                                                  os.path.join(HERE, "guest_coexist.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return [name for name, _ in mod.CASES] + ["all_cleaned_up"]


CASES = _guest_cases()
CASE_LINE = re.compile(r"^CASE (\S+) (PASS|FAIL)(?: (.*))?$")


def _compile(src, obj_name):
    """BPF objects for the guest, built here (the guest is too slow to compile)."""
    os.makedirs(BUILD, exist_ok=True)
    obj = os.path.join(BUILD, obj_name)
    tmp = f"{obj}.{os.getpid()}.tmp"
    subprocess.run(
        ["clang", "-g", "-O2", "-target", "bpf", "-Wall", "-Wextra", "-Werror",
         "-I/usr/include/x86_64-linux-gnu", "-c", os.path.join(HERE, src), "-o", tmp],
        check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    os.replace(tmp, obj)  # atomic: a concurrent run never sees half a file


class Run:
    def __init__(self, kernel):
        self.kernel = kernel     # vmhost.VMKernel
        self.error = None        # why there are no results at all
        self.rc = None
        self.output = ""         # run-vm.sh's output (guest log included)
        self.results = {}        # case -> (PASS|FAIL, reason)
        self.evidence = {}       # case -> its block of the guest log
        self.summary = None

    def parse(self, log):
        block = []
        for line in log.splitlines():
            if line.startswith("=== CASE "):
                block = []
            block.append(line)
            m = CASE_LINE.match(line)
            if m:
                self.results[m.group(1)] = (m.group(2), m.group(3) or "")
                self.evidence[m.group(1)] = "\n".join(block)
                block = []
            elif line.startswith("COEXIST SUMMARY"):
                self.summary = line


@pytest.fixture(scope="module", params=kernel_params())
def kernel(request):
    """One kernel the VM boots (the test ids name it)."""
    return vm_kernel(request.param, BUILD)


@pytest.fixture(scope="module")
def coexist_run(kernel, tmp_path_factory):
    """One boot of KERNEL running every case."""
    run = Run(kernel)
    if kernel.error:
        run.error = kernel.error
        return run
    try:
        if not os.access(XTC, os.X_OK):
            raise RuntimeError(f"{XTC} missing: build it first (make)")
        _compile("xdp_coex.bpf.c", "xdp_coex.o")
        _compile("xdp_pass.bpf.c", "xdp_pass.o")
        _compile("xdp_meta.bpf.c", "xdp_meta.o")
        out = tmp_path_factory.mktemp(f"vm-coexist-{kernel.kernel}") / "out"
        proc = subprocess.run(
            [os.path.join(HERE, "run-vm.sh"), os.path.join(HERE, "guest-coexist.sh"), str(out)],
            cwd=REPO, env=kernel.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=TIMEOUT + 120)
        run.rc, run.output = proc.returncode, proc.stdout
        print(proc.stdout)
        log = out / "guest.log"
        run.parse(log.read_text() if log.exists() else "")
        if not run.results:
            run.error = (f"the VM run on {kernel} produced no CASE lines "
                         f"(run-vm.sh exited {run.rc}):\n" + proc.stdout[-4000:])
    except subprocess.CalledProcessError as ex:
        run.error = f"building the guest's BPF objects failed: {ex}\n{ex.output}"
    except subprocess.TimeoutExpired:
        run.error = f"the VM run on {kernel} did not finish within {TIMEOUT + 120}s"
    except Exception as ex:  # every case must fail, not error out or skip
        run.error = f"the VM run on {kernel} failed: {type(ex).__name__}: {ex}"
    return run


@pytest.mark.parametrize("case", CASES)
def test_coexist(coexist_run, case):
    run = coexist_run
    if run.error:
        pytest.fail(run.error, pytrace=False)
    if case not in run.results:
        pytest.fail(f"no CASE line for {case} on {run.kernel}: the guest script stopped early "
                    f"(run-vm.sh exited {run.rc}); end of its output:\n{run.output[-3000:]}",
                    pytrace=False)
    status, reason = run.results[case]
    if status != "PASS":
        pytest.fail(f"{case} on {run.kernel}: {reason}\n---- evidence from the guest ----\n"
                    f"{run.evidence.get(case, '')}", pytrace=False)


def test_kernel_refusal_shown(coexist_run):
    """Debian trixie's 6.12 must show the refusal of packet-data changes in dispatcher
    slots (that is why xtc has a build without the handoff); 6.1 must not have it."""
    run = coexist_run
    if run.error:
        pytest.fail(run.error, pytrace=False)
    said = re.search(r"PACKET-DATA CHECK: this kernel \((\S+)\) (REFUSES|accepts)", run.output)
    assert said, f"no PACKET-DATA CHECK line on {run.kernel}"
    if run.kernel.kernel == TRIXIE and said.group(2) == "accepts":
        pytest.skip(f"{said.group(1)} does not have the check (it accepts packet-data changes "
                    "in dispatcher slots): the build without the handoff went untested here")
    assert said.group(2) == ("REFUSES" if run.kernel.kernel == TRIXIE else "accepts"), \
        said.group(0)


def test_coexist_run_complete(coexist_run):
    """The guest ran every case, and only those, to the end."""
    run = coexist_run
    if run.error:
        pytest.fail(run.error, pytrace=False)
    assert run.summary is not None, f"no COEXIST SUMMARY line:\n{run.output[-3000:]}"
    assert list(run.results) == CASES, f"cases run {list(run.results)}, expected {CASES}"
    failed = [c for c, (s, _) in run.results.items() if s != "PASS"]
    assert run.rc == (1 if failed else 0), f"run-vm.sh exited {run.rc}; failed: {failed}"
