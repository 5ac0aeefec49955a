# shellcheck shell=sh
# Helpers shared by the xtc VM harness scripts (sourced, not run).

# xtc_vm_kver: the kernel the VM boots.  $XTC_VM_KVER if set, otherwise the
# newest $XTC_VM_KTREE/boot/vmlinuz-<version> that has
# $XTC_VM_KTREE/lib/modules/<version>/modules.dep.  XTC_VM_KTREE unset or
# empty means the host's /boot and /lib/modules (the host's own kernel has
# modules but no /boot/vmlinuz, so it is skipped); otherwise it is a kernel
# tree as tests/vm/fetch-kernel.sh makes.
xtc_vm_kver() {
	if [ -n "${XTC_VM_KVER:-}" ]; then
		echo "$XTC_VM_KVER"
		return 0
	fi
	for f in "${XTC_VM_KTREE:-}"/boot/vmlinuz-*; do
		[ -r "$f" ] || continue
		v=${f#"${XTC_VM_KTREE:-}"/boot/vmlinuz-}
		[ -f "${XTC_VM_KTREE:-}/lib/modules/$v/modules.dep" ] && echo "$v"
	done | sort -V | tail -n 1
}

# xtc_vm_kernel: sets ktree (XTC_VM_KTREE made absolute and exported, or
# empty), kver and kernel (the image to boot), or dies saying what is missing.
xtc_vm_kernel() {
	ktree=
	if [ -n "${XTC_VM_KTREE:-}" ]; then
		[ -d "$XTC_VM_KTREE" ] || xtc_vm_die "XTC_VM_KTREE=$XTC_VM_KTREE is not a directory"
		ktree=$(cd "$XTC_VM_KTREE" && pwd -P)
		XTC_VM_KTREE=$ktree
		export XTC_VM_KTREE
	fi
	kver=$(xtc_vm_kver)
	if [ -z "$ktree" ]; then
		[ -n "$kver" ] || xtc_vm_die "no Debian kernel: need /boot/vmlinuz-<v> and /lib/modules/<v> (package linux-image-amd64)"
	else
		[ -n "$kver" ] || xtc_vm_die "no kernel in $ktree: need boot/vmlinuz-<v> and lib/modules/<v>/modules.dep (tests/vm/fetch-kernel.sh makes such trees)"
		[ -f "$ktree/lib/modules/$kver/modules.dep" ] || xtc_vm_die "$ktree has no lib/modules/$kver/modules.dep"
	fi
	# shellcheck disable=SC2034 # the caller's
	kernel=$ktree/boot/vmlinuz-$kver
}

xtc_vm_die() {
	echo "${0##*/}: $*" >&2
	exit "${XTC_VM_DIE_RC:-1}"
}
