#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Usage: tests/vm/run-vm.sh SCRIPT [OUTDIR]
#
# Boots the newest Debian kernel in /boot (or in $XTC_VM_KTREE) under qemu
# (TCG) with the host's / shared read-only over 9p, runs SCRIPT inside as
# root (cwd = repository root, bpffs mounted, lo up, veth/sch_ingress/cls_bpf
# modprobed), powers off, and exits with SCRIPT's exit code.  OUTDIR (default
# build/vm/out, recreated each run) is shared writable; the guest sees it as
# $XTC_OUT.  Afterwards it holds guest.log (SCRIPT's stdout+stderr, also
# printed here), rc (its exit code), console.log (kernel/serial console) and
# whatever SCRIPT wrote to $XTC_OUT.  SCRIPT must be visible in the guest: inside the repository, or
# anywhere in / except /tmp, /run, /proc, /sys and /dev.
#
# Exit status: SCRIPT's, or 2 usage/setup error, 3 VM failed (no result),
# 4 timeout.  Environment: XTC_VM_TIMEOUT (seconds, default 600),
# XTC_VM_BUILD (initramfs cache, default build/vm), XTC_VM_KVER (kernel),
# XTC_VM_KTREE (a kernel tree from tests/vm/fetch-kernel.sh: boot its
# kernel, the guest's /lib/modules is the tree's), XTC_VM_MEM (MiB, default
# 2048), XTC_VM_SMP (default 2).
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
. "$here/vm-lib.sh"
XTC_VM_DIE_RC=2

usage() {
	sed -n '3,21s/^# \{0,1\}//p' "$0" >&2
	exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
case $1 in -h | --help) usage ;; esac

[ -f "$1" ] || xtc_vm_die "no such script: $1"
script=$(cd "$(dirname "$1")" && pwd -P)/${1##*/}
outdir=${2:-$repo/build/vm/out}
build=${XTC_VM_BUILD:-$repo/build/vm}
tmo=${XTC_VM_TIMEOUT:-600}
mem=${XTC_VM_MEM:-2048}
smp=${XTC_VM_SMP:-2}
qemu="qemu-system-x86_64"

command -v "$qemu" >/dev/null 2>&1 || xtc_vm_die "$qemu not found (package qemu-system-x86)"
command -v timeout >/dev/null 2>&1 || xtc_vm_die "timeout not found (coreutils)"
case $tmo in '' | *[!0-9]*) xtc_vm_die "XTC_VM_TIMEOUT must be a number of seconds" ;; esac
xtc_vm_kernel # sets ktree, kver, kernel
[ -r "$kernel" ] || xtc_vm_die "$kernel not readable"

mkdir -p "$build"
build=$(cd "$build" && pwd -P)

# The paths go on the kernel command line: no blanks.
for p in "$repo" "$script" "$build" "$ktree"; do
	case $p in *[[:space:]]*) xtc_vm_die "path with blanks not supported: '$p'" ;; esac
done
# /tmp /run are fresh tmpfs in the guest and /proc /sys /dev its own; the
# repository is shared on its own, so files in it are always visible.
case $script in
"$repo"/*) ;;
/tmp/* | /run/* | /proc/* | /sys/* | /dev/*)
	xtc_vm_die "$script is invisible in the guest: put it in the repository or /var/tmp" ;;
esac
case $ktree in
'' | "$repo"/*) ;;
/tmp/* | /run/* | /proc/* | /sys/* | /dev/*)
	xtc_vm_die "XTC_VM_KTREE=$ktree is invisible in the guest: put it in the repository or /var/tmp" ;;
esac

# Fresh OUTDIR, but never wipe a directory this script did not create.
if [ -d "$outdir" ] && [ -n "$(ls -A "$outdir")" ] && [ ! -f "$outdir/.xtc-vm-out" ]; then
	xtc_vm_die "$outdir is not empty and not a previous run-vm.sh output: refusing to wipe it"
fi
rm -rf "$outdir"
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd -P)
: >"$outdir/.xtc-vm-out"

initrd=$(XTC_VM_KVER=$kver XTC_VM_KTREE=$ktree "$here/mkinitramfs.sh" "$build") ||
	xtc_vm_die "building the initramfs failed"

# qemu option values escape ',' as ',,'.
qesc() { printf '%s' "$1" | sed 's/,/,,/g'; }
fs9p='security_model=none,multidevs=remap'
console=$outdir/console.log
# A kernel from a tree: the guest binds the tree's modules on /lib/modules.
modroot=${ktree:+ xtc.modroot=$ktree}

echo "run-vm: $kver${ktree:+ (from $ktree)}, $script (timeout ${tmo}s, output in $outdir)" >&2
set +e
timeout -k 10 "$tmo" "$qemu" -accel tcg -nographic -no-reboot -m "$mem" -smp "$smp" -nic none \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 quiet xtc.init=$here/guest-init.sh xtc.script=$script xtc.repo=$repo xtc.build=$build$modroot" \
	-fsdev "local,id=hostroot,path=/,readonly=on,$fs9p" \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev "local,id=xtcrepo,path=$(qesc "$repo"),readonly=on,$fs9p" \
	-device virtio-9p-pci,fsdev=xtcrepo,mount_tag=xtcrepo \
	-fsdev "local,id=xtcout,path=$(qesc "$outdir"),$fs9p" \
	-device virtio-9p-pci,fsdev=xtcout,mount_tag=xtcout \
	</dev/null >"$console" 2>&1
qrc=$?
set -e

if [ -f "$outdir/guest.log" ]; then
	echo "==== guest log ($outdir/guest.log) ===="
	cat "$outdir/guest.log"
	echo "==== end of guest log ===="
fi
rc=$(cat "$outdir/rc" 2>/dev/null || true)
case $rc in
[0-9] | [0-9][0-9] | [0-9][0-9][0-9])
	echo "run-vm: guest script exited with $rc" >&2
	exit "$rc"
	;;
esac
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "run-vm: TIMEOUT: the VM did not finish within ${tmo}s (XTC_VM_TIMEOUT); console:" >&2
	tail -n 30 "$console" >&2
	exit 4
fi
echo "run-vm: VM FAILED: it did not boot, or died before the guest script finished (no rc; qemu exit status $qrc); console:" >&2
tail -n 30 "$console" >&2
exit 3
