#!/bin/bash
# The xtc daemon demo (`make demo-daemon`): pods come and go, xtc follows.
#
#   namespace xtc-dd-client  eth0 10.211.0.2  <->  xdd-client 10.211.0.1 (host)
#   namespace xtc-dd-podN    eth0 10.245.0.2  <->  xdd-podN   10.245.0.1 (host)
#
# It starts `xtc daemon` with configs/demo-daemon.ini, then creates a pod (a
# namespace and a veth that [interface xdd-pod*] matches): a TCP request from
# the client reaches it through xtc's redirect-peer rule, with no apply run by
# hand.  The pod is deleted and made again with the same address on a new
# veth (a new ifindex), and it is reachable again.  SIGTERM stops the daemon
# and the datapath keeps working.  Every result is checked: it exits non-zero
# when anything does not work.  It cleans up after itself.
#
# Needs root.  XTC is the xtc binary (default: build/xtc in this repository).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
XTC=${XTC:-$ROOT/build/xtc}
CONF=$ROOT/configs/demo-daemon.ini
PY=/usr/bin/python3
RUN=/run/xtc-demo-daemon
BPFFS=$RUN/bpffs
POD_IP=10.245.0.2
daemon_pid=

say() { printf '   %s\n' "$*"; }
header() { printf '\n== %s ==\n' "$*"; }
fail() {
	echo "demo-daemon: FAILED: $*" >&2
	exit 1
}
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	if grep -qs " $BPFFS bpf " /proc/mounts; then
		"$XTC" -c "$CONF" unload --all >/dev/null 2>&1 || true
	fi
	for l in $(ip -o link show | awk -F': ' '{ print $2 }' | grep '^xdd-' | cut -d@ -f1); do
		ip link del "$l" 2>/dev/null || true
	done
	for ns in $(ip netns list | awk '{ print $1 }' | grep '^xtc-dd-'); do
		ip netns del "$ns" 2>/dev/null || true
	done
	grep -qs " $BPFFS bpf " /proc/mounts && umount "$BPFFS"
	rm -rf "$RUN"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "must run as root"
[ -x "$XTC" ] || fail "$XTC not found: run make first (or set XTC)"
cleanup

# make_ns NS HOST_DEV HOST_IP NS_IP: a namespace whose eth0 is the peer of HOST_DEV.
make_ns() {
	local ns=$1 dev=$2 hip=$3 nip=$4
	ip netns add "$ns"
	ip link add "$dev" type veth peer name eth0 netns "$ns"
	sysctl -q -w "net.ipv6.conf.$dev.disable_ipv6=1" 2>/dev/null || true
	# The host does not forward from the pods: their replies only go through xtc.
	sysctl -q -w "net.ipv4.conf.$dev.forwarding=0"
	ip addr add "$hip/24" dev "$dev"
	ip link set "$dev" up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$nip/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$hip"
}

# request POD: a TCP request from the client to a one-shot server in POD.
request() {
	local pod=$1 i
	ip netns exec "$pod" "$PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1); s.settimeout(5)
c, _ = s.accept(); c.sendall(b"hello from " + sys.argv[1].encode() + b": " + c.recv(100))
' "$pod" &
	local server=$!
	for i in $(seq 50); do
		ip netns exec "$pod" ss -ltn 2>/dev/null | grep -q ':8080 ' && break
		sleep 0.05
	done
	ip netns exec xtc-dd-client "$PY" -c '
import socket, sys
for attempt in range(40):
    try:
        s = socket.create_connection((sys.argv[1], 8080), timeout=0.5)
        s.sendall(b"ping"); print("   client got: " + s.recv(100).decode()); break
    except OSError:
        import time; time.sleep(0.1)
else:
    sys.exit(1)
' "$POD_IP" || { kill "$server" 2>/dev/null; return 1; }
	wait "$server"
}

header "1. The host and a client; the daemon starts"
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS"
make_ns xtc-dd-client xdd-client 10.211.0.1 10.211.0.2
sysctl -q -w net.ipv4.conf.xdd-client.forwarding=1
"$XTC" -c "$CONF" daemon > "$RUN/daemon.log" 2>&1 &
daemon_pid=$!
for i in $(seq 100); do grep -q "daemon: ready" "$RUN/daemon.log" && break; sleep 0.1; done
grep -q "daemon: ready" "$RUN/daemon.log" || fail "the daemon did not start: $(cat "$RUN/daemon.log")"
say "xtc daemon running, pid $daemon_pid"

header "2. A pod appears: reachable through xtc, nobody ran apply"
make_ns xtc-dd-pod1 xdd-pod1 10.245.0.1 "$POD_IP"
request xtc-dd-pod1 || fail "pod1 not reachable"

header "3. The pod goes; a new one comes with the same address on a new veth"
ip link del xdd-pod1
ip netns del xtc-dd-pod1
make_ns xtc-dd-pod2 xdd-pod2 10.245.0.1 "$POD_IP"
say "xdd-pod2 has ifindex $(cat /sys/class/net/xdd-pod2/ifindex)"
request xtc-dd-pod2 || fail "pod2 not reachable"

header "4. What the daemon did"
sed 's/^/   | /' "$RUN/daemon.log"
echo "+ xtc status (the daemon part)"
"$XTC" -c "$CONF" status | sed -n '/^daemon:/,/^kernel:/p' | sed '$d'

header "5. SIGTERM: the daemon stops, the datapath stays"
kill "$daemon_pid"
wait "$daemon_pid" || fail "the daemon exited non-zero"
daemon_pid=
request xtc-dd-pod2 || fail "the datapath stopped with the daemon"

printf '\ndemo-daemon: OK\n'
