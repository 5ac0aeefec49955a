#!/bin/sh
# mkdeb.sh ROOT VERSION OUT: turns the tree `make install` staged in ROOT
# (PREFIX=/usr, UNITDIR=/lib/systemd/system) into the Debian package OUT, as
# debhelper would: binary stripped, man pages and changelog gzipped,
# copyright, DEBIAN/{control,conffiles,md5sums} and the maintainer scripts
# for xtc.service.  ROOT must be DIR/debian/xtc: dpkg-shlibdeps computes
# Depends from DIR/debian/control.  Called by `make deb`; MAINTAINER and
# SOURCE_DATE_EPOCH come from the environment.
set -eu
root=$1 version=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
: "${MAINTAINER:?MAINTAINER is not set}"
[ -x "$root/usr/sbin/xtc" ] || { echo "mkdeb: no $root/usr/sbin/xtc; run make install DESTDIR=... first" >&2; exit 1; }
case $root in */debian/xtc) ;; *) echo "mkdeb: ROOT must end in debian/xtc" >&2; exit 1 ;; esac
top=$(cd "${root%/debian/xtc}" && pwd)
root=$top/debian/xtc
arch=$(dpkg --print-architecture)
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
doc=$root/usr/share/doc/xtc

# What dh_strip does; the BPF objects live in .rodata and stay.
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/sbin/xtc"
# What dh_installman and dh_compress do.
find "$root/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +
# A native package (no Debian revision): its changelog is changelog.gz.
install -d -m 0755 "$doc"
install -m 0644 "$here/copyright" "$doc/copyright"
sed -e "s|@VERSION@|$version|g" -e "s|@MAINTAINER@|$MAINTAINER|g" \
	-e "s|@DATE@|$(date -u -R -d "@$SOURCE_DATE_EPOCH")|g" "$here/changelog.in" | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

install -d -m 0755 "$root/DEBIAN"
for s in postinst prerm postrm; do
	install -m 0755 "$here/$s" "$root/DEBIAN/$s"
done
# dpkg keeps an operator's edits of a conffile across upgrades and asks.
find "$root/etc" -type f | sed "s|^$root||" | sort >"$root/DEBIAN/conffiles"
chmod 0644 "$root/DEBIAN/conffiles"

# Depends: dpkg-shlibdeps on xtc, and on the libbpf it loads: libbpf opens
# the BPF ELF objects built into xtc with libelf (and zlib), so those are
# named as well (they are libbpf1's own Depends too).
printf 'Source: xtc\n\nPackage: xtc\nArchitecture: any\n' >"$top/debian/control"
libbpf=$(ldd "$root/usr/sbin/xtc" | awk '$1 ~ /^libbpf\.so/ { print $3 }')
[ -n "$libbpf" ] || { echo "mkdeb: xtc does not link libbpf?" >&2; exit 1; }
# (dpkg-shlibdeps warns that a system library is not in our package tree: it
# only reads its NEEDED entries here.)
depends=$(cd "$top" && dpkg-shlibdeps -O -e"debian/xtc/usr/sbin/xtc" -e"$libbpf" 2>"$top/shlibdeps.err" |
	sed -n 's/^shlibs:Depends=//p') || { cat "$top/shlibdeps.err" >&2; exit 1; }
grep -v "binaries to analyze should already be installed" "$top/shlibdeps.err" >&2 || true
[ -n "$depends" ] || { echo "mkdeb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

find "$root" -path "$root/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
find "$root" -path "$root/DEBIAN" -prune -o -type f -exec chmod go-w {} +
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$MAINTAINER|" \
	-e "s|@INSTALLED_SIZE@|$size|" -e "s|@DEPENDS@|$depends|" "$here/control.in" >"$root/DEBIAN/control"
# md5sums leaves the conffiles out, as dh_md5sums does: dpkg tracks those.
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\.||' | sort |
	grep -vxF -f DEBIAN/conffiles | sed 's|^/||' | xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "  DEB      $out"
