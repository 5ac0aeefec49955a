"""A minimal XDP traffic generator, the way xdp-trafficgen works: a program
that returns bpf_redirect(DEV) run with BPF_PROG_TEST_RUN in live-frames
mode, so every run transmits one frame out of DEV.  (Debian's xdp-trafficgen
1.3.1 does not load on Linux 6.18: its object refers to the removed
xdp_redirect_map_err tracepoint.)

  trafficgen.py DEV DST_MAC DST_IP DST_PORT SECONDS [flood]  -> JSON {sent, secs}
Runs in the namespace of DEV (ip netns exec).  With "flood" every frame gets a
random source address (in 10/8) and source port before it leaves: each one is
a new flow, as in a flood of spoofed sources."""
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpfsys  # noqa: E402


def checksum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF


def udp_frame(dst_mac, src_mac, src_ip, dst_ip, sport, dport, payload=18):
    ip = lambda a: bytes(int(x) for x in a.split("."))  # noqa: E731
    udp = struct.pack("!HHHH", sport, dport, 8 + payload, 0) + b"\0" * payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, ip(src_ip), ip(dst_ip))
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))  # noqa: E731
    return mac(dst_mac) + mac(src_mac) + b"\x08\x00" + hdr + udp


def main():
    dev, dst_mac, dst_ip, dport, secs = sys.argv[1:6]
    ifindex = int(open(f"/sys/class/net/{dev}/ifindex").read())
    src_mac = open(f"/sys/class/net/{dev}/address").read().strip()
    frame = udp_frame(dst_mac, src_mac, "10.99.0.1", dst_ip, 40000, int(dport))
    flood = len(sys.argv) > 6 and sys.argv[6] == "flood"
    fd = bpfsys.load_xdp_redirect(ifindex, random_source=flood)
    # Calibrate, then send for about SECONDS in chunks; all of it is counted.
    n, t0 = 50000, time.perf_counter()
    bpfsys.test_run_live(fd, frame, n)
    sent = n
    chunk = max(50000, int(n / (time.perf_counter() - t0) * 0.2))
    while time.perf_counter() - t0 < float(secs):
        bpfsys.test_run_live(fd, frame, chunk)
        sent += chunk
    print(json.dumps({"sent": sent, "secs": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
