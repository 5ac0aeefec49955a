# shellcheck shell=sh
# Helpers shared by the xtc VM harness scripts (sourced, not run).

# xtc_vm_kver: the kernel the VM boots.  $XTC_VM_KVER if set, otherwise the
# newest /boot/vmlinuz-<version> that has /lib/modules/<version>/modules.dep
# (the host's own kernel has modules but no /boot/vmlinuz, so it is skipped).
xtc_vm_kver() {
	if [ -n "${XTC_VM_KVER:-}" ]; then
		echo "$XTC_VM_KVER"
		return 0
	fi
	for f in /boot/vmlinuz-*; do
		[ -r "$f" ] || continue
		v=${f#/boot/vmlinuz-}
		[ -f "/lib/modules/$v/modules.dep" ] && echo "$v"
	done | sort -V | tail -n 1
}

xtc_vm_die() {
	echo "${0##*/}: $*" >&2
	exit "${XTC_VM_DIE_RC:-1}"
}
