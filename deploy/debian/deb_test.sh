#!/usr/bin/env bash
# The .deb, installed with dpkg into a scratch root: its files, its conffile,
# the token its postinst makes (and keeps on reinstall), the installed binary
# and config, and the systemd unit under `systemd-analyze verify`, which must
# also reject a broken copy of it. Purging removes the token.
#   deb_test.sh PACKAGE.deb VERSION
set -euo pipefail
deb=$1
version=$2

scratch="$(mktemp -d "${TEST_TMPDIR:-/tmp}/isergw-deb-test.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
root="$scratch/root"
failures=0
check() {  # check DESCRIPTION COMMAND...
  local description=$1
  shift
  if "$@"; then echo "PASS $description"; else echo "FAIL $description"; failures=$((failures + 1)); fi
}

info="$(dpkg-deb --info "$deb")"
field() { dpkg-deb --field "$deb" "$1"; }
check "Package is isergw" test "$(field Package)" = isergw
check "Version is $version" test "$(field Version)" = "$version"
check "Architecture is amd64" test "$(field Architecture)" = amd64
check "Depends has libc6, libsystemd0 and libisns0" \
  grep -qE 'libc6 \(>= [^)]*\).*libisns0.*libsystemd0' <<<"$(field Depends)"
check "the control archive has postinst, prerm, postrm" \
  grep -qzE 'postinst.*postrm.*prerm' <<<"$info"
check "the conffiles list is /etc/isergw/isergw.json" \
  test "$(dpkg-deb --info "$deb" conffiles)" = /etc/isergw/isergw.json

# A dpkg database of its own; --force-script-chrootless runs the maintainer
# scripts on this system with DPKG_ROOT set, instead of chrooting into a
# root that has no shell. --force-depends: the scratch root has no libraries.
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg_root=(dpkg --root="$root" --force-script-chrootless --force-depends --force-not-root)
"${dpkg_root[@]}" -i "$deb" >"$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log"; exit 1; }

check "dpkg lists it installed" test "$(dpkg-query --admindir="$root/var/lib/dpkg" -W \
  -f='${Status} ${Version}' isergw)" = "install ok installed $version"
for file in usr/bin/isergw usr/bin/isergwctl lib/systemd/system/isergw.service \
  etc/isergw/isergw.json usr/share/doc/isergw/DEPLOY.md usr/share/doc/isergw/CONFIG.md \
  usr/share/doc/isergw/CONTROL.md usr/share/doc/isergw/openapi.yaml \
  usr/share/doc/isergw/grafana/isergw-dashboard.json usr/share/doc/isergw/prometheus/prometheus.yml; do
  check "/$file installed" test -s "$root/$file"
done
check "/usr/bin/isergw is executable" test -x "$root/usr/bin/isergw"
check "isergwctl runs and explains itself" bash -c "'$root/usr/bin/isergwctl' --help | grep -q sessions"
examples=("$root"/usr/share/doc/isergw/examples/*.json)
check "5 examples installed" test ${#examples[@]} -eq 5
check "dpkg records /etc/isergw/isergw.json as a conffile" grep -q '^ /etc/isergw/isergw.json [0-9a-f]\{32\}$' \
  <<<"$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Conffiles}\n' isergw)"

token="$root/etc/isergw/token"
check "postinst made the token" test -s "$token"
check "the token is mode 0600, owned by root" test "$(stat -c '%a %u' "$token")" = "600 0"
check "the token is 64 hex digits" grep -qx '[0-9a-f]\{64\}' "$token"
before="$(cat "$token")"
"${dpkg_root[@]}" -i "$deb" >"$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log"; exit 1; }
check "reinstalling keeps the token" test "$(cat "$token")" = "$before"

check "the installed binary says version $version" \
  test "$("$root/usr/bin/isergw" --version)" = "isergw $version"
check_config() { "$root/usr/bin/isergw" --check-config "$1" >/dev/null; }
check "the installed config passes --check-config" check_config "$root/etc/isergw/isergw.json"
for example in "${examples[@]}"; do
  check "example $(basename "$example") passes --check-config" check_config "$example"
done

# systemd-analyze verify --root loads the unit's dependencies (sysinit.target
# and the like) from the same root, so systemd's own targets go there too. It
# exits 0 on unknown settings and only warns: any output is a failure.
cp -a /lib/systemd/system/*.target "$root/lib/systemd/system/"
verify() {  # verify: succeeds when systemd-analyze accepts the root's unit silently
  local output
  output="$(systemd-analyze verify --root="$root" isergw.service 2>&1)" || { echo "$output"; return 1; }
  [[ -z "$output" ]] || { echo "$output"; return 1; }
}
rejected() { ! verify >/dev/null; }
check "systemd-analyze verify accepts the unit" verify
unit="$root/lib/systemd/system/isergw.service"
cp "$unit" "$scratch/unit.good"
sed 's/^ProtectHome=/ProtectHom=/' "$scratch/unit.good" >"$unit"
check "systemd-analyze verify rejects a misspelt setting" rejected
cp "$scratch/unit.good" "$unit"
mv "$root/usr/bin/isergw" "$scratch/isergw"
check "systemd-analyze verify rejects a missing ExecStart binary" rejected
mv "$scratch/isergw" "$root/usr/bin/isergw"

"${dpkg_root[@]}" --purge isergw >"$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log"; exit 1; }
check "purge removes the binary" test ! -e "$root/usr/bin/isergw"
check "purge removes the token and /etc/isergw" test ! -e "$root/etc/isergw"

echo "$failures failed"
[[ $failures -eq 0 ]]
