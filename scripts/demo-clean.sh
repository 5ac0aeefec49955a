#!/bin/bash
# Removes what scripts/demo.sh built (`make demo-clean`): xtc unloaded from the
# demo interfaces, the demo namespaces and veths, the demo's own bpffs and
# /run/xtc-demo.  Safe to run when nothing (or only part) of it exists.
# Needs root.  XTC is the xtc binary (default: build/xtc in this repository).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
XTC=${XTC:-$ROOT/build/xtc}
CONF=$ROOT/configs/demo.ini
RUN=/run/xtc-demo
BPFFS=$RUN/bpffs
NAMESPACES="xtc-demo-client xtc-demo-pod1 xtc-demo-pod2"
HOST_VETHS="xd-client xd-pod1 xd-pod2"
rc=0

if [ "$(id -u)" != 0 ]; then
	echo "demo-clean: must run as root" >&2
	exit 1
fi

mounted() { grep -qs " $BPFFS bpf " /proc/mounts; }

# 1. Unload xtc.  xtc reads the bpffs from configs/demo.ini only when the file
#    validates, which needs all three demo interfaces; otherwise it would fall
#    back to /sys/fs/bpf, which may belong to a real xtc on this host.  So
#    unload only when the file checks out; without the interfaces there is
#    nothing attached to unload anyway, and step 3 drops the pins.
if mounted && [ -d "$BPFFS/xtc" ]; then
	if [ ! -x "$XTC" ]; then
		echo "demo-clean: $XTC not built; skipping xtc unload (deleting the interfaces detaches xtc)"
	elif "$XTC" -c "$CONF" check >/dev/null 2>&1; then
		echo "+ xtc -c configs/demo.ini unload --all"
		"$XTC" -c "$CONF" unload --all || { echo "demo-clean: xtc unload failed" >&2; rc=1; }
	else
		echo "demo-clean: the demo topology is incomplete; skipping xtc unload" \
			"(deleting the interfaces detaches xtc)"
	fi
fi

# 2. The topology.  Deleting a host-side veth deletes its peer in the
#    namespace at once; deleting a namespace would delete its veth pair only
#    later, in the kernel's background cleanup, and a quick re-run of demo.sh
#    could then still find the old xd-* interface.  So the veths go first.
for dev in $HOST_VETHS; do
	if ip link show dev "$dev" >/dev/null 2>&1; then
		echo "+ ip link del $dev"
		ip link del "$dev" || rc=1
	fi
done
for ns in $NAMESPACES; do
	[ -e "/run/netns/$ns" ] || continue
	# Stop anything the demo left running inside (a server, after Ctrl-C).
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	# shellcheck disable=SC2086 # one pid per word
	[ -z "$pids" ] || kill $pids 2>/dev/null || true
	echo "+ ip netns del $ns"
	ip netns del "$ns" || rc=1
done

# 3. The demo's bpffs and run directory.
if mounted; then
	echo "+ umount $BPFFS"
	umount "$BPFFS" || rc=1
fi
if mounted; then
	echo "demo-clean: $BPFFS is still mounted; leaving $RUN" >&2
	rc=1
elif [ -d "$RUN" ]; then
	echo "+ rm -rf $RUN"
	rm -rf "$RUN" || rc=1
fi

[ "$rc" = 0 ] && echo "demo-clean: done" || echo "demo-clean: some steps failed" >&2
exit "$rc"
