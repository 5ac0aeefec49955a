#!/bin/sh
# Installs the Debian packages xtc needs to build, test, run the demo and the
# VM suite.  Fast when everything is present: dpkg is asked first.
set -e
PKGS="make gcc clang llvm pkg-config libbpf-dev libxdp-dev libnl-3-dev libnl-route-3-dev
libinih-dev libelf-dev zlib1g-dev bpftool xdp-tools iproute2 iputils-ping ethtool
python3 python3-scapy python3-pytest qemu-system-x86 linux-image-amd64 busybox-static
kmod cpio gzip
iperf3 sockperf qperf nftables python3-matplotlib"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
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
