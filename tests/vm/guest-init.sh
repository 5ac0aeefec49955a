#!/bin/sh
# xtc VM stage 2: PID 1 inside the guest, right after switch_root into the
# host's root filesystem (read-only 9p; /tmp and /run are fresh tmpfs).
# Started by the initramfs /init (tests/vm/mkinitramfs.sh) because run-vm.sh
# names it with xtc.init= on the kernel command line.  It sets the guest up,
# runs the script named by xtc.script= as root in a clean environment with
# cwd = the repository, writes its output to guest.log and its exit code to
# rc in the results share, and powers off.  Not meant to be run on a host.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
out=/run/xtc-out

say() { echo "xtc-guest: $*" >/dev/console; }
halt_now() {
	sync
	/bin/busybox poweroff -f
	echo o >/proc/sysrq-trigger
	exit 1 # PID 1 exiting panics the kernel; panic=-1 + -no-reboot ends qemu
}
[ "$$" = 1 ] || { echo "guest-init.sh: runs only as PID 1 in the xtc VM" >&2; exit 2; }

script='' repo='' build='' modroot=''
# /proc/cmdline is one line of space-separated words.
# shellcheck disable=SC2013
for w in $(cat /proc/cmdline); do
	case $w in
	xtc.script=*) script=${w#xtc.script=} ;;
	xtc.repo=*) repo=${w#xtc.repo=} ;;
	xtc.build=*) build=${w#xtc.build=} ;;
	xtc.modroot=*) modroot=${w#xtc.modroot=} ;;
	esac
done

mount -t bpf bpf /sys/fs/bpf || say "mount bpffs failed"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
hostname xtc-vm 2>/dev/null
# A kernel from a tree (run-vm.sh with XTC_VM_KTREE): the host has no
# /lib/modules/<it>, and its root is read-only, so the tree's lib/modules
# goes over /lib/modules (only the running kernel's modules matter here).
if [ -n "$modroot" ]; then
	mount --bind "$modroot/lib/modules" /lib/modules ||
		say "binding $modroot/lib/modules on /lib/modules failed"
	[ -f "/lib/modules/$(uname -r)/modules.dep" ] || say "no modules for $(uname -r) in $modroot"
fi
ip link set lo up || say "lo up failed"
# Module autoload does not happen by itself in this guest.
modprobe -a veth sch_ingress cls_bpf || say "modprobe veth sch_ingress cls_bpf failed"

if [ -z "$script" ] || [ ! -f "$script" ]; then
	say "no guest script (xtc.script=$script)"
	echo "xtc-guest: guest script '$script' not found in the VM" >"$out/guest.log"
	echo 127 >"$out/rc"
	halt_now
fi
run=/bin/sh
[ -x "$script" ] && run=

cd "${repo:-/}" || say "cd $repo failed"
say "running $script"
# $run is empty (execute the script) or /bin/sh: unquoted on purpose.
# shellcheck disable=SC2086
env -i PATH="$PATH" HOME=/root USER=root LOGNAME=root SHELL=/bin/sh \
	TERM=dumb LANG=C.UTF-8 XTC_VM=1 XTC_REPO="$repo" XTC_VM_BUILD="$build" \
	XTC_OUT="$out" $run "$script" >"$out/guest.log" 2>&1 </dev/null
rc=$?
echo "$rc" >"$out/rc"
say "script exited with $rc"
halt_now
