"""Rule files for the benchmarks: realistic mixes, written programmatically.

Rule i uses template i % 10, so every file of 10 rules or more has the same
set of match shapes (tuple spaces) whatever its size: the scaling numbers then
show what the rule count costs, not what extra shapes cost.  Addresses come
from the rule index, so every rule is distinct (the compiler would merge
duplicates)."""
import ipaddress
import os

NTEMPLATES = 10


def _v4(base, k):
    a = (base + k) & 0xFFFFFFFF
    return f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"


def _v6(prefix, k, shift=0):
    return str(ipaddress.IPv6Address(prefix + (k << shift)))


V4 = lambda a, b, c, d: (a << 24) | (b << 16) | (c << 8) | d  # noqa: E731
V6_BASE = int(ipaddress.IPv6Address("2001:db8::"))


def rule_body(i, action="drop"):
    """The key = value lines of rule i (no section header)."""
    t, k = i % NTEMPLATES, i // NTEMPLATES
    if t == 0:    # service VIP:port, distinct /32 (the bulk of a kube-proxy table)
        kv = dict(dst=_v4(V4(20, 0, 0, 0), k), proto="tcp", dst_port=str(80 + k % 4))
    elif t == 1:  # UDP VIP:port
        kv = dict(dst=_v4(V4(21, 0, 0, 0), k), proto="udp", dst_port="53")
    elif t == 2:  # host, any protocol
        kv = dict(dst=_v4(V4(22, 0, 0, 0), k))
    elif t == 3:  # /24 destination network
        kv = dict(dst=f"{_v4(V4(24, 0, 0, 0), k << 8)}/24")
    elif t == 4:  # mixed prefix lengths: src /16 and dst /28
        kv = dict(src=f"{_v4(V4(100, 0, 0, 0), (k % 64) << 16)}/16",
                  dst=f"{_v4(V4(40, 0, 0, 0), k << 4)}/28")
    elif t == 5:  # NodePort range on a /32
        kv = dict(dst=_v4(V4(50, 0, 0, 0), k), proto="tcp", dst_port="30000-32767")
    elif t == 6:  # ephemeral source ports to a /32
        kv = dict(dst=_v4(V4(60, 0, 0, 0), k), proto="udp", src_port="1024-65535")
    elif t == 7:  # IPv6 VIP:port, /128
        kv = dict(dst=_v6(V6_BASE + (7 << 96), k), proto="tcp", dst_port="443")
    elif t == 8:  # IPv6 /64 network
        kv = dict(dst=f"{_v6(V6_BASE + (8 << 96), k, 64)}/64")
    else:         # IPv6 /48 source to a /128, UDP port range
        kv = dict(src=f"{_v6(V6_BASE + (9 << 96), k % 65536, 80)}/48",
                  dst=_v6(V6_BASE + (10 << 96), k), proto="udp", dst_port="5000-5099")
    kv["action"] = action
    return kv


def write_rules(f, n, prefix="r", action="drop", start=0, override=None):
    """Appends n [rule] sections; override(i, kv) may change a rule's keys."""
    for i in range(start, start + n):
        kv = rule_body(i, action)
        if override:
            kv = override(i, kv)
        f.write(f"[rule {prefix}{i}]\n")
        f.write("".join(f"{key} = {val}\n" for key, val in kv.items()))


# Rules per file: xtc reads files of at most 64 MiB, so 1M rules (72 MB) go into include files.
CHUNK = 200_000


def write_config(path, n, bpffs, ifaces=(), glob=None, extra="", prefix="r", override=None,
                 pre=""):
    """A complete file: [global], interfaces, `pre` sections, n generated rules, `extra`.

    Beyond CHUNK rules, the rules and `extra` go into PATH.d/part-NNNN.ini, read through
    `include` in sorted order after the main file, so the rule order is the same."""
    # XDP on, as the control-plane figures were first measured (xdp = auto is TC alone on veths).
    g = {"bpffs": bpffs, "xdp": "on", "max_rules": max(65536, n + 1024)}
    g.update(glob or {})
    parts = []
    if n > CHUNK:
        d = f"{path}.d"
        os.makedirs(d, exist_ok=True)
        for old in os.listdir(d):
            os.unlink(os.path.join(d, old))
        parts = [(os.path.join(d, f"part-{k:04d}.ini"), start, min(CHUNK, n - start))
                 for k, start in enumerate(range(0, n, CHUNK))]
        g["include"] = os.path.join(d, "*.ini")
    with open(path, "w") as f:
        f.write("[global]\n" + "".join(f"{k} = {v}\n" for k, v in g.items()))
        for name, opts in ifaces:
            f.write(f"[interface {name}]\n" + "".join(f"{k} = {v}\n" for k, v in opts.items()))
        f.write(pre)
        if not parts:
            write_rules(f, n, prefix=prefix, override=override)
            f.write(extra)
    for i, (part, start, count) in enumerate(parts):
        with open(part, "w") as f:
            write_rules(f, count, prefix=prefix, start=start, override=override)
            if i == len(parts) - 1:
                f.write(extra)


# The last rule of every generated file, and the packet that hits it.  Being
# last, it is beaten by every shape's best rule, so the search walks every
# tuple space at every size: the same work at 10 rules as at 1M.
TAIL_RULE = "[rule tail]\ndst = 23.0.0.1\nproto = tcp\ndst_port = 8443\naction = drop\n"
TAIL_PACKET = ("23.0.0.1", 8443)
MISS_PACKET = ("198.51.100.99", 8443)
