#!/bin/bash
# The xtc demo (`make demo`): builds a small topology, applies configs/demo.ini
# and sends real traffic through it.
#
#   namespace xtc-demo-client  eth0 10.210.0.2  <->  xd-client 10.210.0.1 (host)
#   namespace xtc-demo-pod1    eth0 10.244.1.2  <->  xd-pod1   10.244.1.1 (host)
#   namespace xtc-demo-pod2    eth0 10.244.2.2  <->  xd-pod2   10.244.2.1 (host)
#
# It shows `xtc status`, `xdp-loader status`, a drop rule (UDP to pod2:9999)
# and a redirect-peer rule carrying a TCP request to a server in pod1 and its
# reply back, with the counters before and after.  Every result is checked, so
# it doubles as a smoke test: it exits non-zero when anything does not work.
# Running it again first removes the previous demo; scripts/demo-clean.sh
# (`make demo-clean`) removes it for good.
#
# Needs root.  XTC is the xtc binary (default: build/xtc in this repository).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
XTC=${XTC:-$ROOT/build/xtc}
CONF=$ROOT/configs/demo.ini
PY=/usr/bin/python3
RUN=/run/xtc-demo
BPFFS=$RUN/bpffs		# must match [global] bpffs in configs/demo.ini
NAMESPACES="xtc-demo-client xtc-demo-pod1 xtc-demo-pod2"
HOST_VETHS="xd-client xd-pod1 xd-pod2"
CLIENT_IP=10.210.0.2
POD1_IP=10.244.1.2
POD2_IP=10.244.2.2

step=0
header() {
	step=$((step + 1))
	printf '\n== %d. %s ==\n' "$step" "$*"
}
say() { printf '   %s\n' "$*"; }
# Shows a command, then runs it.  `xtc` is $XTC -c configs/demo.ini.
run() {
	echo "+ $*"
	"$@"
}
xtc() { "$XTC" -c "$CONF" "$@"; }
in_ns() {
	local ns=$1
	shift
	ip netns exec "xtc-demo-$ns" "$@"
}
# Like run, for a command inside a namespace.
run_ns() {
	echo "+ ip netns exec xtc-demo-$*"
	in_ns "$@"
}
fail() {
	echo >&2
	echo "demo: FAILED: $*" >&2
	exit 1
}
bg_pids=()
cleanup_bg() {
	local p
	for p in "${bg_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
}
trap 'echo "demo: FAILED: line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
trap cleanup_bg EXIT

[ "$(id -u)" = 0 ] || fail "must run as root"
[ -x "$XTC" ] || fail "$XTC not found: run make first (or set XTC)"
[ -x "$PY" ] || fail "$PY not found"
command -v xdp-loader >/dev/null || fail "xdp-loader not found (make deps installs xdp-tools)"

# ---------------------------------------------------------------------------
present=
for ns in $NAMESPACES; do
	[ -e "/run/netns/$ns" ] && present=1
done
for dev in $HOST_VETHS; do
	ip link show dev "$dev" >/dev/null 2>&1 && present=1
done
[ -e "$RUN" ] && present=1
if [ -n "$present" ]; then
	printf '\n== 0. Removing the previous demo ==\n'	# numbered 0: steps keep their numbers
	XTC=$XTC "$ROOT/scripts/demo-clean.sh"
fi

# ---------------------------------------------------------------------------
header "Topology: a client, the host, two pods"
# libxdp keeps its own pins in the host's bpffs; xtc uses the demo's own.
"$ROOT/scripts/mount-bpffs.sh"
mkdir -p "$BPFFS"
run mount -t bpf bpf "$BPFFS"

# make_ns NAME HOST_DEV HOST_IP NS_IP N: a namespace whose eth0 is the peer of
# HOST_DEV in the root namespace.  Fixed MAC addresses and permanent neighbour
# entries on both sides, so that nothing depends on ARP timing.
make_ns() {
	local ns=$1 dev=$2 hip=$3 nip=$4 n=$5
	local hmac=02:78:74:00:0$n:01 nmac=02:78:74:00:0$n:02

	run ip netns add "$ns"
	run ip link add "$dev" address "$hmac" type veth peer name eth0 address "$nmac" netns "$ns"
	# IPv4 only: no IPv6 router solicitations or MLD reports in the counters.
	if [ -d /proc/sys/net/ipv6 ]; then
		sysctl -q -w "net.ipv6.conf.$dev.disable_ipv6=1"
		ip netns exec "$ns" sysctl -q -w net.ipv6.conf.eth0.disable_ipv6=1
	fi
	ip addr add "$hip/24" dev "$dev"
	ip link set "$dev" up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$nip/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$hip"
	ip -n "$ns" neigh replace "$hip" lladdr "$hmac" dev eth0 nud permanent
	ip neigh replace "$nip" lladdr "$nmac" dev "$dev" nud permanent
}
make_ns xtc-demo-client xd-client 10.210.0.1 "$CLIENT_IP" 1
make_ns xtc-demo-pod1 xd-pod1 10.244.1.1 "$POD1_IP" 2
make_ns xtc-demo-pod2 xd-pod2 10.244.2.1 "$POD2_IP" 3
# The host forwards what arrives from the client (only there: the global
# ip_forward stays as it is), so UDP to pod2 gets through unless a rule drops
# it.  The TCP exchange with pod1 does not use this: xtc redirects it, and
# xd-pod1 does not forward, so pod1's replies reach the client only through
# xtc's reverse rule.
sysctl -q -w net.ipv4.conf.xd-client.forwarding=1
echo
for dev in $HOST_VETHS; do
	printf '   %-7s %-10s %s\n' host "$dev" "$(ip -4 -o addr show dev "$dev" | awk '{ print $4 }')"
done
for ns in $NAMESPACES; do
	printf '   %-7s %-10s %s  default via %s\n' "${ns#xtc-demo-}" eth0 \
		"$(ip -n "$ns" -4 -o addr show dev eth0 | awk '{ print $4 }')" \
		"$(ip -n "$ns" route show default | awk '{ print $3 }')"
done

# Helpers that run inside the namespaces (Python: curl or nc may be missing).
cat >"$RUN/udp_recv.py" <<'EOF'
# Counts UDP datagrams per port until it gets b"end" (or 10 s pass).
import select, socket, sys, time
addr, ready, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
socks = {}
for p in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, p))
    socks[s] = p
counts = dict.fromkeys(ports, 0)
open(ready, "w").close()
deadline, end = time.time() + 10, None
while time.time() < (end or deadline):
    for s in select.select(list(socks), [], [], 0.05)[0]:
        data = s.recv(2048)
        counts[socks[s]] += 1
        if data == b"end":
            end = time.time() + 0.3	# let stragglers arrive
print(" ".join("%d=%d" % kv for kv in counts.items()))
EOF
cat >"$RUN/udp_send.py" <<'EOF'
import socket, sys, time
addr, port, n, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(b"end" if last and i == n - 1 else b"datagram %d" % i, (addr, port))
    time.sleep(0.01)
EOF
cat >"$RUN/tcp_server.py" <<'EOF'
# Serves one connection: reads a line, answers it.
import socket, sys
addr, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(1)
s.settimeout(15)
open(ready, "w").close()
c, peer = s.accept()
c.settimeout(5)
req = c.recv(1024).decode().strip()
print("pod1 server: %r from %s:%d" % (req, peer[0], peer[1]), flush=True)
c.sendall(b"hello from pod1 (%s:%d), you are %s\n" % (addr.encode(), port, peer[0].encode()))
c.close()
EOF
cat >"$RUN/tcp_client.py" <<'EOF'
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
try:
    s = socket.create_connection((addr, port), timeout=5)
    s.sendall(b"hello from the client\n")
    reply = b""
    while True:
        d = s.recv(1024)
        if not d:
            break
        reply += d
    print(reply.decode().strip())
except OSError as e:
    print("client: %s:%d: %s" % (addr, port, e), file=sys.stderr)
    sys.exit(1)
EOF
# stats.py FILE rule NAME | stats.py FILE iface NAME HOOK FIELD: one counter
# from `xtc stats --json` (0 when absent).
cat >"$RUN/stats.py" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
if sys.argv[2] == "rule":
    v = [r["packets"] for r in d["rules"] if r["rule"] == sys.argv[3]]
else:
    v = [i[sys.argv[5]] for i in d["interfaces"]
         if i["interface"] == sys.argv[3] and i["hook"] == sys.argv[4]]
print(v[0] if v else 0)
EOF
counter() { "$PY" "$RUN/stats.py" "$@"; }
# wait_for FILE: until a helper says it is ready (at most 5 s).
wait_for() {
	local _
	for _ in $(seq 50); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------------------
header "Configuration: configs/demo.ini"
say "xtc below is $XTC -c configs/demo.ini"
run xtc check
run xtc apply

header "What is attached where"
run xtc status
echo
say "libxdp's view of xd-client.  Where the kernel can run libxdp's dispatcher,"
say "xtc_xdp is listed under xdp_dispatcher; where it cannot (xtc status says"
say "xdp_dispatcher_usable: no), xtc_xdp is attached alone.  Both are fine."
echo "+ xdp-loader status xd-client"
xdp_status=$(xdp-loader status xd-client 2>&1) || fail "xdp-loader status failed: $xdp_status"
echo "$xdp_status"
case $xdp_status in
*xtc_xdp*) ;;
*) fail "xdp-loader does not show xtc_xdp on xd-client" ;;
esac

header "The rules and the IP-to-ifindex map, as the kernel holds them"
run xtc rules
run xtc ipmap

header "What would the datapath do? (xtc explain: the live program, nothing sent or counted)"
# explain_verdict IFACE PACKET: the verdict word of `xtc explain --json`.
explain_verdict() {
	xtc explain --json "$1" "$2" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["verdict"], d.get("rule", "-"), d.get("target", "-"))'
}
run xtc explain xd-client "udp $CLIENT_IP:5000 -> $POD2_IP:9999"
run xtc explain xd-client "tcp $CLIENT_IP:40000 -> $POD1_IP:8080"
v=$(explain_verdict xd-client "udp $CLIENT_IP:5000 -> $POD2_IP:9999")
[ "$v" = "drop drop-udp-9999 -" ] || fail "explain says '$v' for UDP to pod2:9999, expected a drop"
v=$(explain_verdict xd-client "tcp $CLIENT_IP:40000 -> $POD1_IP:8080")
[ "$v" = "redirect web-to-pod1 xd-pod1" ] ||
	fail "explain says '$v' for TCP to pod1:8080, expected a redirect to xd-pod1"
say "OK: explain predicts the drop and the redirect that the traffic below meets"

header "Counters before any traffic"
run xtc stats
xtc stats --json >"$RUN/before.json"
say "(an interface is listed under interfaces once its programs have seen a packet)"

# ---------------------------------------------------------------------------
header "A drop rule: UDP from the client to pod2:9999"
say "pod2 listens on UDP 9999 and 9998.  The client sends 5 datagrams to 9999"
say "(rule drop-udp-9999 drops them in XDP on xd-client), then 3 to 9998 (no"
say "rule matches: the host forwards them to pod2)."
rm -f "$RUN/udp.ready"
in_ns pod2 "$PY" "$RUN/udp_recv.py" "$POD2_IP" "$RUN/udp.ready" 9999 9998 >"$RUN/udp.out" &
udp_pid=$!
bg_pids+=("$udp_pid")
wait_for "$RUN/udp.ready" || fail "the UDP receiver in pod2 did not start"
run_ns client "$PY" "$RUN/udp_send.py" "$POD2_IP" 9999 5
run_ns client "$PY" "$RUN/udp_send.py" "$POD2_IP" 9998 3 end
wait "$udp_pid" || fail "the UDP receiver in pod2 failed"
read -r got_9999 got_9998 <"$RUN/udp.out" || fail "the UDP receiver in pod2 reported nothing"
got_9999=${got_9999#*=}
got_9998=${got_9998#*=}
xtc stats --json >"$RUN/udp.json"
drops=$(($(counter "$RUN/udp.json" rule drop-udp-9999) - $(counter "$RUN/before.json" rule drop-udp-9999)))
say "pod2 received: port 9999: $got_9999 datagrams, port 9998: $got_9998 datagrams"
say "rule drop-udp-9999 counted $drops more packets"
[ "$got_9999" = 0 ] || fail "$got_9999 datagrams to port 9999 reached pod2; the drop rule should stop them"
[ "$got_9998" = 3 ] || fail "pod2 received $got_9998 of 3 datagrams to port 9998, which no rule drops" \
	"(does a firewall on this host drop forwarded packets?)"
[ "$drops" = 5 ] || fail "rule drop-udp-9999 counted $drops packets, expected 5"
say "OK: the 5 datagrams to 9999 were dropped, the 3 to 9998 arrived"

# ---------------------------------------------------------------------------
header "A redirect-peer rule carries TCP to pod1 and the reply back"
say "pod1 runs a TCP server on $POD1_IP:8080.  Rule web-to-pod1 redirects the"
say "client's packets from xd-client straight into pod1 (bpf_redirect_peer);"
say "its mirror web-to-pod1~reverse sends pod1's replies back out of xd-client."
rm -f "$RUN/tcp.ready"
in_ns pod1 "$PY" "$RUN/tcp_server.py" "$POD1_IP" 8080 "$RUN/tcp.ready" >"$RUN/tcp.out" &
tcp_pid=$!
bg_pids+=("$tcp_pid")
wait_for "$RUN/tcp.ready" || fail "the TCP server in pod1 did not start"
echo "+ ip netns exec xtc-demo-client $PY $RUN/tcp_client.py $POD1_IP 8080"
reply=$(in_ns client "$PY" "$RUN/tcp_client.py" "$POD1_IP" 8080) ||
	fail "no reply from pod1's server (see xtc stats below)$(echo; xtc stats)"
wait "$tcp_pid" || fail "the TCP server in pod1 failed"
sed 's/^/   /' "$RUN/tcp.out"
say "client received: $reply"
case $reply in
"hello from pod1"*) ;;
*) fail "unexpected reply from pod1: $reply" ;;
esac

# ---------------------------------------------------------------------------
header "Counters after"
run xtc stats
xtc stats --json >"$RUN/after.json"
delta() { echo $(($(counter "$RUN/after.json" "$@") - $(counter "$RUN/before.json" "$@"))); }
fwd=$(delta rule web-to-pod1)
rev=$(delta rule 'web-to-pod1~reverse')
handoffs=$(delta iface xd-client xdp handoffs_sent)
redir_ok=$(delta iface xd-client tc_ingress redirects_ok)
redir_failed=$(($(delta iface xd-client tc_ingress redirects_failed) +
	$(delta iface xd-pod1 tc_ingress redirects_failed)))
echo
show() { printf '   %-40s +%s%s\n' "$1:" "$2" "${3:+ $3}"; }
show "rule web-to-pod1" "$fwd" "packets (client -> pod1)"
show "rule web-to-pod1~reverse" "$rev" "packets (pod1 -> client)"
show "xd-client xdp handoffs_sent" "$handoffs" "(XDP classified, handed the redirect to TC)"
show "xd-client tc_ingress redirects_ok" "$redir_ok" "(TC carried out the peer redirect)"
show "redirects_failed on xd-client, xd-pod1" "$redir_failed"
[ "$fwd" -gt 0 ] || fail "rule web-to-pod1 counted no packets"
[ "$rev" -gt 0 ] || fail "rule web-to-pod1~reverse counted no packets"
[ "$handoffs" -gt 0 ] || fail "no XDP -> TC handoffs on xd-client"
[ "$redir_ok" -gt 0 ] || fail "no successful redirects on xd-client"
[ "$redir_failed" = 0 ] || fail "$redir_failed redirects failed"

echo
echo "demo: OK.  The demo stays up for a look around, e.g.:"
echo "   ip netns exec xtc-demo-client ping -c1 $POD2_IP"
echo "   $XTC -c $CONF stats"
echo "Remove it with: make demo-clean"
