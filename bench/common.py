"""What every benchmark section shares: commands, namespaces, our own bpffs,
repetition statistics and cleanup that runs even when a section fails.

Everything the benchmarks create has a per-run unique name, and is
registered here so that cleanup() removes exactly that and nothing else."""
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
XTC = os.path.join(BUILD, "xtc")
RUN_ID = uuid.uuid4().hex[:5]

_netns, _mounts, _procs, _dirs = [], [], [], []
_cleanups = []


def log(msg):
    print(f"  [{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(cmd, ns=None, check=True, timeout=600, **kw):
    """Runs cmd (a list), optionally inside a network namespace."""
    if ns:
        cmd = ["ip", "netns", "exec", ns] + list(cmd)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}{r.stdout}")
    return r


def spawn(cmd, ns=None, **kw):
    """A background process we own; cleanup() ends it by pid."""
    if ns:
        cmd = ["ip", "netns", "exec", ns] + list(cmd)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, **kw)
    _procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=5):
    """Ends a process we spawned, by its own process group (never by name)."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
    if p in _procs:
        _procs.remove(p)
    return out, err


def timed_rss(cmd, ns=None, check=True):
    """Runs cmd; (wall seconds, peak RSS of exactly this process in KiB, result).
    ip netns exec execs the command in place, so the rusage is the command's."""
    if ns:
        cmd = ["ip", "netns", "exec", ns] + list(cmd)
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read().decode(errors="replace"), fe.read().decode(errors="replace")
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{err[-2000:]}{out[-2000:]}")
    res = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    res.rusage = ru
    return wall, ru.ru_maxrss, res


def proc_cpu_s(pid):
    """utime + stime of a live process, in seconds."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def unique(prefix):
    """Short unique names: interface names must stay under 16 bytes."""
    return f"{prefix}{RUN_ID}{uuid.uuid4().hex[:3]}"


def netns(prefix="xb"):
    name = unique(prefix)
    sh(["ip", "netns", "add", name])
    _netns.append(name)
    sh(["ip", "link", "set", "lo", "up"], ns=name)
    return name


def del_netns(name):
    sh(["ip", "netns", "del", name], check=False)
    if name in _netns:
        _netns.remove(name)


def workdir():
    d = tempfile.mkdtemp(prefix="xtcbench-")
    _dirs.append(d)
    return d


def bpffs(parent):
    """Our own bpf filesystem instance under one of our temp dirs."""
    d = os.path.join(parent, f"bpffs{len(_mounts)}")
    os.makedirs(d)
    sh(["mount", "-t", "bpf", "bpf", d])
    _mounts.append(d)
    return d


def at_cleanup(fn):
    _cleanups.append(fn)


def cleanup():
    for p in list(_procs):
        stop(p, signal.SIGKILL, timeout=2)
    while _cleanups:
        try:
            _cleanups.pop()()
        except Exception as e:  # cleanup goes on whatever fails
            log(f"cleanup: {e}")
    for n in list(_netns):
        del_netns(n)
    for m in reversed(_mounts):
        sh(["umount", m], check=False)
    _mounts.clear()
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)
    _dirs.clear()


def summary(values):
    """Median, min, max and count of a list of numbers (None when empty)."""
    v = [x for x in values if x is not None]
    if not v:
        return None
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def ratio(a, b):
    """a/b from two summaries, medians; None when either is missing."""
    if not a or not b or not b["median"]:
        return None
    return a["median"] / b["median"]


def xtc(ns, cfg, *args, check=True, binary=None):
    return sh([binary or XTC, "-c", cfg] + list(args), ns=ns, check=check)


def build_variant(name, bpf_defines):
    """xtc built again with BPF_DEFINES (a bench aid such as -DXTC_VCACHE_COLD) in a
    directory of this run; returns the binary, whose BPF objects are built in."""
    out = os.path.join(workdir(), name)
    sh(["make", "-C", ROOT, "--no-print-directory", f"BUILD={out}", f"BPF_DEFINES={bpf_defines}",
        os.path.join(out, "xtc")], timeout=900)
    return os.path.join(out, "xtc")


def build_tool(name):
    """bench/NAME.c built with libbpf into this run's directory; returns the binary."""
    out = os.path.join(workdir(), name)
    sh(["cc", "-O2", "-Wall", "-o", out, os.path.join(ROOT, "bench", name + ".c"), "-lbpf"])
    return out


def match_shapes(ns, cfg):
    """The match shapes of the rules `xtc apply` loaded from cfg, as `xtc status` says."""
    st = xtc(ns, cfg, "status").stdout
    got = [ln.split(":", 1)[1].strip() for ln in st.splitlines() if ln.startswith("match_shapes:")]
    return int(got[0]) if got else None


def xdp_prog_id(ns, dev):
    j = json.loads(sh(["ip", "-d", "-j", "link", "show", dev], ns=ns).stdout)
    x = j[0].get("xdp")
    return x["prog"]["id"] if x and "prog" in x else None


def veth(ns_a, a, ns_b, b):
    """A veth pair a (in ns_a) <-> b (in ns_b), both up."""
    sh(["ip", "link", "add", a, "netns", ns_a, "type", "veth", "peer", "name", b, "netns", ns_b])
    sh(["ip", "link", "set", a, "up"], ns=ns_a)
    sh(["ip", "link", "set", b, "up"], ns=ns_b)


def mac(ns, dev):
    return open_ns_file(ns, f"/sys/class/net/{dev}/address").strip()


def open_ns_file(ns, path):
    return sh(["cat", path], ns=ns).stdout


def cpu_times():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    f = open("/proc/stat").readline().split()[1:]
    v = [int(x) for x in f]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def machine():
    model = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {"cpu": model, "cores": os.cpu_count(), "kernel": os.uname().release,
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def tool_version(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        s = (r.stdout or r.stderr).strip().splitlines()
        return s[0] if s else "?"
    except Exception:
        return "?"


def num(x, digits=3):
    """Compact number formatting for tables."""
    if x is None:
        return "n/a"
    if isinstance(x, int) or (abs(x) >= 100 and float(x).is_integer()):
        return f"{int(round(x)):,}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def fmt(s, unit="", digits=3):
    """'median (min-max)' of a summary."""
    if not s:
        return "n/a"
    return f"{num(s['median'], digits)}{unit} ({num(s['min'], digits)}-{num(s['max'], digits)})"


def fmt_ratio(r):
    return "n/a" if r is None else f"{r:.2f}x"

