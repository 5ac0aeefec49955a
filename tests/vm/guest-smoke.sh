#!/bin/sh
# Guest side of the VM smoke test; runs INSIDE the VM:
#   tests/vm/run-vm.sh tests/vm/guest-smoke.sh
# Needs $XTC_VM_BUILD/xdp_pass.o compiled on the host from
# tests/vm/xdp_pass.bpf.c (tests/vm/test_vm_smoke.py does it).
#
# Puts xdp-filter and xtc_smoke_pass side by side on one veth through libxdp's
# dispatcher, checks `xdp-loader status` lists both under xdp_dispatcher, sends
# a few pings through them (xdp-filter must count them), unloads.  Prints "SMOKE OK" and exits 0, or
# "SMOKE FAIL: reason" and exits 1.
set -u
obj=${XTC_SMOKE_OBJ:-${XTC_VM_BUILD:-build/vm}/xdp_pass.o}
dev=xtcsm0
peer=xtcsm1
ns=xtcsmoke

fail() {
	echo "SMOKE FAIL: $*"
	exit 1
}
run() {
	echo "+ $*"
	"$@" || fail "command failed: $*"
}

[ "${XTC_VM:-}" = 1 ] || fail "not inside the xtc VM (use tests/vm/run-vm.sh $0)"
[ -r "$obj" ] || fail "$obj missing: compile tests/vm/xdp_pass.bpf.c on the host first"

run ip netns add "$ns"
run ip link add "$dev" type veth peer name "$peer" netns "$ns"
run ip addr add 10.199.0.1/24 dev "$dev"
run ip link set "$dev" up
run ip -n "$ns" addr add 10.199.0.2/24 dev "$peer"
run ip -n "$ns" link set "$peer" up

run xdp-filter load "$dev"
run xdp-loader load "$dev" "$obj"

status=$(xdp-loader status "$dev") || fail "xdp-loader status failed"
echo "$status"
# The programs attached to the dispatcher are the " =>" lines after the
# xdp_dispatcher line: " =>  PRIO  NAME  ID  TAG  ACTIONS".
progs=$(echo "$status" | awk '
	$1 == dev && $2 == "xdp_dispatcher" { in_d = 1; next }
	in_d && $1 == "=>" { print $3; next }
	{ in_d = 0 }' dev="$dev" | sort | paste -sd ' ' -)
echo "SMOKE: dispatcher programs on $dev: $progs"
case " $progs " in *" xdpfilt_alw_all "*) ;; *) fail "xdpfilt_alw_all not under xdp_dispatcher" ;; esac
case " $progs " in *" xtc_smoke_pass "*) ;; *) fail "xtc_smoke_pass not under xdp_dispatcher" ;; esac

# Traffic into $dev runs through the dispatcher; xdp-filter counts what it passed.
run ip netns exec "$ns" ping -q -c 3 -i 0.2 -w 20 10.199.0.1
passed=$(xdp-filter status | awk '$1 == "XDP_PASS" { print $2; exit }')
echo "SMOKE: xdp-filter passed ${passed:-?} packets"
[ "${passed:-0}" -gt 0 ] 2>/dev/null || fail "xdp-filter saw no packets through the dispatcher"

run xdp-loader unload --all "$dev"
status=$(xdp-loader status "$dev") || fail "xdp-loader status failed"
case $status in *xdp_dispatcher*) echo "$status"; fail "dispatcher still attached after unload" ;; esac
echo "SMOKE OK: xdpfilt_alw_all and xtc_smoke_pass coexisted under xdp_dispatcher on $dev"
exit 0
