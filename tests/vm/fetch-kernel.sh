#!/bin/sh
# Usage: tests/vm/fetch-kernel.sh [--offline]
#
# Fetches the kernel of Debian trixie (what linux-image-amd64 depends on in
# trixie + trixie-security today) for the VM suite, WITHOUT installing it:
# the .deb is downloaded with apt into build/vm/apt/ (its own sources, lists,
# cache, empty dpkg status and config; the host's apt setup is neither used
# nor changed), extracted into build/vm/kernels/<ver>/ (boot/vmlinuz-<ver>,
# usr/lib/modules/<ver>, lib -> usr/lib, depmod done), and the tree's path
# is printed.  Boot it with XTC_VM_KTREE=<that path> tests/vm/run-vm.sh ...
#
# The tree is the cache: within XTC_VM_KERNEL_MAXAGE seconds (default 86400)
# of the last check against the archive, or with --offline, the cached tree
# is printed without touching the network.  If the archive cannot be reached,
# the cached tree is used (with a warning).  Trees are built in a temporary
# directory and renamed into place, so a killed run never leaves a half tree.
#
# Exit status: 0 tree printed; 77 no kernel available (the archive is
# unreachable, or --offline, and nothing is cached; one line on stderr says
# why); 2 usage/setup error; 1 any other failure.  Environment: XTC_VM_BUILD
# (default build/vm), XTC_VM_KERNEL_MAXAGE, XTC_VM_OFFLINE=1 (= --offline).
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
suite=trixie
mirror=http://deb.debian.org/debian
secmirror=http://deb.debian.org/debian-security
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
meta=linux-image-amd64
RC_UNAVAILABLE=77

me=${0##*/}
die() { echo "$me: $*" >&2; exit 1; }
setup_die() { echo "$me: $*" >&2; exit 2; }
say() { echo "$me: $*" >&2; }

offline=${XTC_VM_OFFLINE:-0}
case $# in
0) ;;
1) [ "$1" = --offline ] || setup_die "usage: $me [--offline]"; offline=1 ;;
*) setup_die "usage: $me [--offline]" ;;
esac
maxage=${XTC_VM_KERNEL_MAXAGE:-86400}
case $maxage in '' | *[!0-9]*) setup_die "XTC_VM_KERNEL_MAXAGE must be a number of seconds" ;; esac

for tool in apt-get apt-cache dpkg-deb depmod flock; do
	command -v "$tool" >/dev/null 2>&1 || setup_die "$tool missing"
done
[ -r "$keyring" ] || setup_die "$keyring missing (package debian-archive-keyring)"

build=${XTC_VM_BUILD:-$repo/build/vm}
mkdir -p "$build"
build=$(cd "$build" && pwd -P)
apt=$build/apt
kdir=$build/kernels
current=$kdir/$suite.current # the version last resolved; its mtime = last check
mkdir -p "$apt/etc/apt.conf.d" "$apt/etc/preferences.d" "$apt/etc/sources.list.d" \
	"$apt/etc/trusted.gpg.d" "$apt/state/lists/partial" "$apt/cache/archives/partial" \
	"$apt/log" "$apt/dl" "$kdir"

# One fetch at a time per build directory (the pytest modules may race).
exec 9>"$apt/lock"
flock 9

# Our own apt: APT_CONFIG is read before anything else, and moving Dir::Etc
# means /etc/apt (apt.conf.d with its update hooks, sources, preferences,
# keys) is never read; state, lists, cache and the dpkg status are ours too.
# Only the host's HTTP proxy setting is carried over.
proxy=
eval "$(apt-config shell proxy Acquire::http::Proxy 2>/dev/null)" || proxy=
cat >"$apt/apt.conf" <<EOF
Dir::Etc "$apt/etc/";
Dir::State "$apt/state/";
Dir::State::status "$apt/state/status";
Dir::Cache "$apt/cache/";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Dir::Log "$apt/log/";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::http::Timeout "30";
Acquire::Retries "2";
EOF
[ -z "$proxy" ] || printf 'Acquire::http::Proxy "%s";\n' "$proxy" >>"$apt/apt.conf"
cat >"$apt/etc/sources.list" <<EOF
deb [signed-by=$keyring] $mirror $suite main
deb [signed-by=$keyring] $secmirror $suite-security main
EOF
: >>"$apt/state/status"
APT_CONFIG=$apt/apt.conf
export APT_CONFIG

# Leftovers of killed runs (.partial.<ver>.<pid> whose pid is gone).
for p in "$kdir"/.partial.*; do
	[ -d "$p" ] || continue
	kill -0 "${p##*.}" 2>/dev/null || rm -rf "$p"
done

tree_ok() { # VER: a complete tree?
	[ -r "$kdir/$1/boot/vmlinuz-$1" ] && [ -f "$kdir/$1/lib/modules/$1/modules.dep" ]
}
cached=$(cat "$current" 2>/dev/null || true)
[ -n "$cached" ] && tree_ok "$cached" || cached=

# Fresh enough, or not allowed to ask: the cache answers.
if [ -n "$cached" ]; then
	age=$(($(date +%s) - $(stat -c %Y "$current")))
	if [ "$offline" = 1 ] || [ "$age" -lt "$maxage" ]; then
		echo "$kdir/$cached"
		exit 0
	fi
elif [ "$offline" = 1 ]; then
	echo "$me: offline and no $suite kernel cached in $kdir" >&2
	exit "$RC_UNAVAILABLE"
fi

# WHY: the archive could not be used; fall back on the cache, or give up.
unavailable() {
	if [ -n "$cached" ]; then
		say "$1; using the cached $cached"
		echo "$kdir/$cached"
		exit 0
	fi
	echo "$me: $1, and no $suite kernel is cached in $kdir" >&2
	exit "$RC_UNAVAILABLE"
}
apterr() { # apt's first error line in LOG, squeezed
	grep -E '^(E|W):' "$1" | head -n 1 | tr -s ' \t' '  ' | cut -c1-300
}

log=$apt/log/fetch.log
say "asking $mirror for $suite's $meta"
if ! timeout 300 apt-get -q update --error-on=any >"$log" 2>&1; then
	unavailable "cannot reach the Debian archive (apt-get update failed: $(apterr "$log"))"
fi
dep=$(apt-cache depends "$meta" 2>>"$log" |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
[ -n "$dep" ] || die "$meta in $suite does not depend on a linux-image-<ver> (see $log)"
ver=${dep#linux-image-}
case $ver in *[!A-Za-z0-9.+_~-]*) die "unexpected kernel version '$ver'" ;; esac

if ! tree_ok "$ver"; then
	say "downloading $dep"
	rm -f "$apt/dl/"*.deb
	if ! (cd "$apt/dl" && timeout 900 apt-get -q download "$dep") >>"$log" 2>&1; then
		unavailable "downloading $dep failed ($(apterr "$log"))"
	fi
	set -- "$apt/dl/${dep}_"*.deb
	[ -f "$1" ] || die "apt-get download left no ${dep}_*.deb (see $log)"
	deb=$1

	part=$kdir/.partial.$ver.$$
	trap 'rm -rf "$part"' EXIT
	trap 'exit 130' INT TERM HUP
	rm -rf "$part"
	mkdir "$part"
	say "extracting into $kdir/$ver"
	dpkg-deb -x "$deb" "$part" || die "dpkg-deb -x $deb failed"
	# Debian trixie ships the modules in /usr/lib (merged /usr).
	[ -e "$part/lib" ] || ln -s usr/lib "$part/lib"
	[ -r "$part/boot/vmlinuz-$ver" ] || die "$deb has no boot/vmlinuz-$ver"
	[ -d "$part/lib/modules/$ver" ] || die "$deb has no modules for $ver"
	depmod -b "$part" "$ver" || die "depmod for $ver failed"
	rm -rf "${kdir:?}/$ver" # incomplete (we hold the lock): not a tree
	mv -T "$part" "$kdir/$ver" || die "cannot move $part to $kdir/$ver"
	trap - EXIT
	rm -f "$deb"
fi
printf '%s\n' "$ver" >"$current.tmp"
mv -f "$current.tmp" "$current" # also marks the time of this check

# Older trees of this suite are superseded.
for d in "$kdir"/*; do
	v=${d##*/}
	if [ "$v" = "$ver" ] || [ ! -f "$d/boot/vmlinuz-$v" ]; then continue; fi
	say "removing the superseded $v"
	rm -rf "$d"
done
echo "$kdir/$ver"
