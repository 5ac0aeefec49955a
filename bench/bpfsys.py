"""The few bpf(2) commands the benchmarks need, through ctypes: no compiler,
no extra process per measurement.  x86-64 layouts of union bpf_attr."""
import ctypes
import os
import struct

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
SYS_BPF = 321

BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM = 1, 2
BPF_PROG_LOAD, BPF_OBJ_GET, BPF_PROG_TEST_RUN = 5, 7, 10
BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD = 13, 15
BPF_MAP_UPDATE_BATCH = 26

PROG_TYPE_SCHED_CLS, PROG_TYPE_XDP = 3, 6

XDP_DROP, XDP_PASS = 1, 2
TC_ACT_OK, TC_ACT_SHOT, TC_ACT_REDIRECT = 0, 2, 7


def _bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), 256)
    r = _libc.syscall(SYS_BPF, cmd, buf, ctypes.c_uint(256))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"bpf({cmd}): {os.strerror(e)}")
    return r, buf


def _addr(b):
    """Address of a ctypes buffer (keep a reference to b while it is used)."""
    return ctypes.addressof(b)


def obj_get(path):
    p = ctypes.create_string_buffer(path.encode())
    fd, _ = _bpf(BPF_OBJ_GET, struct.pack("=QII", _addr(p), 0, 0))
    return fd


def prog_fd_by_id(prog_id):
    fd, _ = _bpf(BPF_PROG_GET_FD_BY_ID, struct.pack("=III", prog_id, 0, 0))
    return fd


def prog_name(fd):
    """The program's name (struct bpf_prog_info.name, offset 64)."""
    info = ctypes.create_string_buffer(256)
    _bpf(BPF_OBJ_GET_INFO_BY_FD, struct.pack("=IIQ", fd, 256, _addr(info)))
    return info.raw[64:80].split(b"\0")[0].decode()


def load_trivial(prog_type, retval, name):
    """A program that only returns retval: `r0 = retval; exit`."""
    insns = ctypes.create_string_buffer(struct.pack("=BBhi", 0xb7, 0, 0, retval) +
                                        struct.pack("=BBhi", 0x95, 0, 0, 0), 16)
    lic = ctypes.create_string_buffer(b"GPL")
    attr = struct.pack("=IIQQIIQII16s", prog_type, 2, _addr(insns), _addr(lic), 0, 0, 0, 0, 0,
                       name.encode()[:15])
    fd, _ = _bpf(BPF_PROG_LOAD, attr)
    return fd


SKB_CTX_SIZE, SKB_CTX_IFINDEX = 192, 40   # sizeof(struct __sk_buff), offsetof(ifindex)
CLONE_NEWNET = 0x40000000


def test_run(fd, data, repeat, ifindex=0):
    """BPF_PROG_TEST_RUN: (retval, kernel's average ns per run).  ifindex: a TC
    program sees the packet on that device (of the caller's network namespace)."""
    din = ctypes.create_string_buffer(bytes(data), len(data))
    dout = ctypes.create_string_buffer(len(data) + 512)
    ctx = bytearray(SKB_CTX_SIZE)
    struct.pack_into("=I", ctx, SKB_CTX_IFINDEX, ifindex)
    cin = ctypes.create_string_buffer(bytes(ctx), len(ctx))
    attr = struct.pack("=IIIIQQIIIIQQIII", fd, 0, len(data), len(dout), _addr(din), _addr(dout),
                       repeat, 0, len(cin) if ifindex else 0, 0, _addr(cin) if ifindex else 0,
                       0, 0, 0, 0)
    _, buf = _bpf(BPF_PROG_TEST_RUN, attr)
    _, retval, _, _, _, _, _, duration = struct.unpack_from("=IIIIQQII", buf.raw)
    return retval, duration


class in_netns:
    """with in_netns(name): this thread in network namespace name, then back."""

    def __init__(self, name):
        self.path = f"/run/netns/{name}"

    def __enter__(self):
        self.back = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        self._set(self.path)
        return self

    def __exit__(self, *exc):
        try:
            if _libc.setns(self.back, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(self.back)

    @staticmethod
    def _set(path):
        fd = os.open(path, os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), f"setns {path}")
        finally:
            os.close(fd)


def possible_cpus():
    n = 0
    for part in open("/sys/devices/system/cpu/possible").read().strip().split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def map_update_batch(fd, keys, values, key_size, value_size, chunk=4096):
    """Writes keys[i] -> values[i] (bytes each) with BPF_MAP_UPDATE_BATCH."""
    for i in range(0, len(keys), chunk):
        k = b"".join(keys[i:i + chunk])
        v = b"".join(values[i:i + chunk])
        n = len(k) // key_size
        assert len(v) == n * value_size
        kb = ctypes.create_string_buffer(k, len(k))
        vb = ctypes.create_string_buffer(v, len(v))
        _bpf(BPF_MAP_UPDATE_BATCH, struct.pack("=QQQQIIQQ", 0, 0, _addr(kb), _addr(vb), n, fd, 0, 0))


def map_lookup(fd, key, value_size):
    kb = ctypes.create_string_buffer(key, len(key))
    vb = ctypes.create_string_buffer(value_size)
    _bpf(BPF_MAP_LOOKUP_ELEM, struct.pack("=IIQQQ", fd, 0, _addr(kb), _addr(vb), 0))
    return vb.raw


BPF_OBJ_PIN = 6
BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1


def obj_pin(fd, path):
    p = ctypes.create_string_buffer(path.encode())
    _bpf(BPF_OBJ_PIN, struct.pack("=QII", _addr(p), fd, 0))


def load_xdp_redirect(ifindex, name="xb_redirect", random_source=False):
    """`return bpf_redirect(ifindex, 0)`: the core of a traffic generator.  With
    random_source, an Ethernet + IPv4 + UDP frame first gets a random source address
    in 10/8 and a random source port (the IPv4 checksum is left stale: receivers
    under test run in XDP, before anything checks it)."""
    code = b""
    if random_source:
        i = lambda op, regs, off, imm: struct.pack("=BBhi", op, regs, off, imm)  # noqa: E731
        code = (i(0xbf, 0x16, 0, 0) +      # r6 = r1 (ctx)
                i(0x85, 0, 0, 7) +         # call bpf_get_prandom_u32
                i(0x61, 0x62, 0, 0) +      # r2 = ctx->data
                i(0x61, 0x63, 4, 0) +      # r3 = ctx->data_end
                i(0xbf, 0x24, 0, 0) +      # r4 = r2
                i(0x07, 0x04, 0, 36) +     # r4 += 36 (through the UDP source port)
                i(0x2d, 0x34, 4, 0) +      # if r4 > r3 goto +4
                i(0x63, 0x02, 26, 0) +     # *(u32 *)(r2 + 26) = r0: IPv4 source
                i(0x72, 0x02, 26, 10) +    # *(u8 *)(r2 + 26) = 10
                i(0x77, 0x00, 0, 16) +     # r0 >>= 16
                i(0x6b, 0x02, 34, 0))      # *(u16 *)(r2 + 34) = r0: UDP source port
    code += (struct.pack("=BBhi", 0xb7, 1, 0, ifindex) +    # r1 = ifindex
             struct.pack("=BBhi", 0xb7, 2, 0, 0) +          # r2 = 0
             struct.pack("=BBhi", 0x85, 0, 0, 23) +         # call bpf_redirect
             struct.pack("=BBhi", 0x95, 0, 0, 0))           # exit
    insns = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(b"GPL")
    attr = struct.pack("=IIQQIIQII16s", PROG_TYPE_XDP, len(code) // 8, _addr(insns), _addr(lic),
                       0, 0, 0, 0, 0, name.encode()[:15])
    fd, _ = _bpf(BPF_PROG_LOAD, attr)
    return fd


def test_run_live(fd, data, repeat, batch_size=64):
    """BPF_PROG_TEST_RUN in live-frames mode: every run's verdict is carried
    out for real (here: the frame is sent).  Returns the kernel's duration."""
    din = ctypes.create_string_buffer(bytes(data), len(data))
    attr = struct.pack("=IIIIQQIIIIQQIII", fd, 0, len(data), 0, _addr(din), 0,
                       repeat, 0, 0, 0, 0, 0, BPF_F_TEST_XDP_LIVE_FRAMES, 0, batch_size)
    _, buf = _bpf(BPF_PROG_TEST_RUN, attr)
    return struct.unpack_from("=IIIIQQII", buf.raw)[7]
