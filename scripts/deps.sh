#!/bin/sh
# Installs the Debian packages xtc needs to build, test, run the demo and the
# VM suite, and to package it (make deb, make install and their tests).  Fast
# when everything is present: dpkg is asked first.
#   strace                     crash-point sweeps and ../shared/tools/check-build-deps
#   mandoc                     mandoc -Tlint on docs/man/ (tests/install)
#   lintian                    checks the .deb of `make deb` (tests/install)
#   dpkg-dev                   dpkg-shlibdeps for `make deb`
#   systemd                    systemd-analyze verify on packaging/systemd (tests/install)
#   procps                     /bin/kill, which xtc-daemon.service reloads with (tests/install)
#   python3-prometheus-client  parses `xtc stats --prometheus` in the CLI tests
#   python3-yaml               parses deploy/kubernetes/ (tests/install)
#   libmicrohttpd-dev          the daemon's HTTP /metrics endpoint (metrics_listen)
#   libsystemd-dev             sd_notify for `xtc daemon` (Type=notify, the watchdog)
#   libclang-rt-14-dev         libFuzzer and the sanitizer runtimes for `make fuzz`
#                              (clang 14 only recommends it)
#   xz-utils                   the VM initramfs of Debian trixie's kernel, whose modules
#                              are .ko.xz (tests/vm/fetch-kernel.sh, mkinitramfs.sh)
set -e
PKGS="make gcc clang llvm pkg-config libbpf-dev libxdp-dev libnl-3-dev libnl-route-3-dev
libelf-dev zlib1g-dev bpftool xdp-tools iproute2 iputils-ping ethtool
python3 python3-scapy python3-pytest qemu-system-x86 linux-image-amd64 busybox-static
kmod cpio gzip xz-utils procps
iperf3 sockperf qperf nftables python3-matplotlib
strace mandoc lintian dpkg-dev systemd python3-prometheus-client libsystemd-dev python3-yaml
libmicrohttpd-dev
libclang-rt-14-dev"

# One dpkg-query for all of them: the check costs a few milliseconds.
installed=" $(dpkg-query -W -f='${Package} ${Status}\n' $PKGS 2>/dev/null |
	awk '/ ok installed$/ { printf "%s ", $1 }')"
missing=""
for p in $PKGS; do
	case "$installed" in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: must run as root to install packages (try: sudo make deps)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
