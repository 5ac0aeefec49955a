"""Steady UDP flows with sequence numbers, for the hitless-reload test.

  udpflow.py send DST PPS PORT...   sends to each port in turn until SIGTERM;
                                    prints {port: sent}
  udpflow.py recv ADDR PORT...      counts distinct sequence numbers per port
                                    until SIGTERM; prints {port: received}"""
import json
import selectors
import signal
import socket
import struct
import sys
import time

stop = False


def on_term(*_):
    global stop
    stop = True


def send(dst, pps, ports):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = {p: 0 for p in ports}
    seq, t0, batch = 0, time.perf_counter(), 10
    while not stop:
        for _ in range(batch):
            p = ports[seq % len(ports)]
            s.sendto(struct.pack("!Q", seq) + b"x" * 56, (dst, p))
            sent[p] += 1
            seq += 1
        ahead = seq / pps - (time.perf_counter() - t0)
        if ahead > 0:
            time.sleep(ahead)
    print(json.dumps(sent))


def recv(addr, ports):
    sel = selectors.DefaultSelector()
    got = {}
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind((addr, p))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, p)
        got[p] = set()
    print("ready", flush=True)
    while not stop:
        for key, _ in sel.select(0.2):
            while True:
                try:
                    d = key.fileobj.recv(2048)
                except BlockingIOError:
                    break
                got[key.data].add(struct.unpack("!Q", d[:8])[0])
    print(json.dumps({p: len(v) for p, v in got.items()}))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    mode, addr = sys.argv[1], sys.argv[2]
    if mode == "send":
        send(addr, float(sys.argv[3]), [int(p) for p in sys.argv[4:]])
    else:
        recv(addr, [int(p) for p in sys.argv[3:]])
