#!/usr/bin/env bash
# Builds the isergw .deb from files the build made; run by //deploy:isergw_deb.
#   make_deb.sh --output FILE.deb --version V --binary B --cli B --unit U --config C
#               --scripts DIR --doc FILE... --example FILE... --grafana FILE
#               --prometheus FILE
# Uses only Debian's own tools: dpkg-shlibdeps for Depends, dpkg-deb to pack.
set -euo pipefail

docs=()
examples=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --output) output=$2 ;;
    --version) version=$2 ;;
    --binary) binary=$2 ;;
    --cli) cli=$2 ;;
    --unit) unit=$2 ;;
    --config) config=$2 ;;
    --scripts) scripts=$2 ;;
    --doc) docs+=("$2") ;;
    --example) examples+=("$2") ;;
    --grafana) grafana=$2 ;;
    --prometheus) prometheus=$2 ;;
    *) echo "make_deb.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done

work="$(mktemp -d "${TMPDIR:-/tmp}/isergw-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
doc="$root/usr/share/doc/isergw"

install -D -m 0755 "$binary" "$root/usr/bin/isergw"
install -D -m 0755 "$cli" "$root/usr/bin/isergwctl"
install -D -m 0644 "$unit" "$root/lib/systemd/system/isergw.service"
install -D -m 0644 "$config" "$root/etc/isergw/isergw.json"
for file in "${docs[@]}"; do install -D -m 0644 "$file" "$doc/$(basename "$file")"; done
for file in "${examples[@]}"; do install -D -m 0644 "$file" "$doc/examples/$(basename "$file")"; done
install -D -m 0644 "$grafana" "$doc/grafana/$(basename "$grafana")"
install -D -m 0644 "$prometheus" "$doc/prometheus/$(basename "$prometheus")"

mkdir -p "$root/DEBIAN"
for script in postinst prerm postrm; do install -m 0755 "$scripts/$script" "$root/DEBIAN/$script"; done
# dpkg keeps an admin's edits of a conffile across upgrades, and asks first.
echo /etc/isergw/isergw.json >"$root/DEBIAN/conffiles"

# dpkg-shlibdeps reads the package name from a debian/control beside it.
mkdir -p "$work/src/debian"
printf 'Source: isergw\n\nPackage: isergw\nArchitecture: any\n' >"$work/src/debian/control"
depends="$(cd "$work/src" && dpkg-shlibdeps -O -e"$root/usr/bin/isergw" -e"$root/usr/bin/isergwctl" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')"
[[ -n "$depends" ]] || { echo "make_deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

cat >"$root/DEBIAN/control" <<CONTROL
Package: isergw
Version: $version
Architecture: $(dpkg --print-architecture)
Maintainer: isergw maintainers <isergw@localhost>
Section: net
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Recommends: rdma-core, ibverbs-providers
Description: iSCSI/iSER gateway
 isergw lets hosts on an InfiniBand or RoCE fabric use storage that speaks
 another iSCSI transport: hosts log in over iSER, the gateway logs in to the
 storage over iSCSI/TCP or iSER/iWARP and relays every command with its data.
 It also relays TCP to TCP and TCP to iSER, and has built-in RAM and null
 disks. Configured by one JSON file, watched from Prometheus and Grafana.
CONTROL

dpkg-deb --root-owner-group -Zxz --build "$root" "$output" >/dev/null
