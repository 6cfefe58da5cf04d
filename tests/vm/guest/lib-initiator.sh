# shellcheck shell=bash
# The Linux kernel initiator (open-iscsi + iscsi_tcp / ib_iser): the
# reference iSCSI and iSER peer.
export INI_IQN=iqn.2026-11.org.isergw.testbed:initiator

# iser_load Y|N: (re)loads ib_iser with that always_register. With Y, rxe
# toward LIO isert fails fast-MR registration ("not free") and writes crawl.
iser_load() {
  local want=$1 f=/sys/module/ib_iser/parameters/always_register
  if [ -r "$f" ] && [ "$(cat "$f")" != "$want" ]; then modprobe -r ib_iser; fi
  modprobe ib_iser "always_register=$want"
  detail "ib_iser always_register=$(cat "$f")"
}

iscsid_up() {
  modprobe -a iscsi_tcp sd_mod sg
  [ -r /run/testbed/iscsid.pid ] && kill -0 "$(cat /run/testbed/iscsid.pid)" 2> /dev/null && return 0
  mkdir -p /etc/iscsi /run/lock/iscsi
  echo "InitiatorName=$INI_IQN" > /etc/iscsi/initiatorname.iscsi
  daemon iscsid iscsid -f
  sleep 2
}

# iscsi_login PORTAL IQN IFACE (IFACE: default for TCP, iser for iSER)
iscsi_login() {
  local portal=$1 iqn=$2 iface=$3 dev
  # ISCSI_DISCOVERED=yes: iscsi_discover_chap made the node records already.
  [ "${ISCSI_DISCOVERED:-}" = yes ] || iscsiadm -m discovery -t st -p "$portal" -I "$iface"
  iscsiadm -m node -T "$iqn" -p "$portal" -I "$iface" -o update -n node.session.initial_login_retry_max -v 2
  iscsiadm -m node -T "$iqn" -p "$portal" -I "$iface" -o update -n 'node.conn[0].timeo.login_timeout' -v 15
  iscsiadm -m node -T "$iqn" -p "$portal" -I "$iface" --login
  wait_for 60 "the iSCSI disk" find_disk
  dev=$(find_disk)
  # iscsiadm -m session: "iser: [1] 192.168.77.2:3260,1 IQN (non-flash)"
  detail "$dev over $(iscsiadm -m session | awk '{sub(":", "", $1); print $1, $3, $4}')"
}

# iscsi_discover_chap PORTAL USER SECRET [USER_IN SECRET_IN]: SendTargets
# discovery through the portal's discovery CHAP (mutual with USER_IN), the
# way an admin configures it (discovery.sendtargets.auth.*); the node
# records it makes are what iscsi_login logs in with.
iscsi_discover_chap() {
  local portal=$1 user=$2 secret=$3 user_in=${4:-} secret_in=${5:-} found
  local db=(iscsiadm -m discoverydb -t st -p "$portal")
  # A refused plain discovery leaves a record without CHAP behind.
  "${db[@]}" -o delete > /dev/null 2>&1 || true
  "${db[@]}" -o new
  "${db[@]}" -o update -n discovery.sendtargets.auth.authmethod -v CHAP
  "${db[@]}" -o update -n discovery.sendtargets.auth.username -v "$user"
  "${db[@]}" -o update -n discovery.sendtargets.auth.password -v "$secret"
  if [ -n "$user_in" ]; then
    "${db[@]}" -o update -n discovery.sendtargets.auth.username_in -v "$user_in"
    "${db[@]}" -o update -n discovery.sendtargets.auth.password_in -v "$secret_in"
  fi
  found=$("${db[@]}" --discover)
  echo "$found"
  detail "found: $(echo "$found" | awk '{print $2}' | tr '\n' ' ')"
  [ -n "$found" ]
}

# iscsi_discovery_refused PORTAL: SendTargets discovery without a secret
# must fail (the portal wants discovery CHAP), and list nothing.
iscsi_discovery_refused() {
  local portal=$1 found
  if found=$(iscsiadm -m discovery -t st -p "$portal" 2>&1); then
    detail "discovery without a secret succeeded: $found"
    return 1
  fi
  echo "$found"
  detail "refused: $(echo "$found" | grep -m1 -i 'auth\|discovery' || echo "$found" | tail -1)"
}

find_disk() {
  local b
  for b in /sys/class/iscsi_session/session*/device/target*/*/block/*; do
    [ -e "$b" ] && [ -b "/dev/${b##*/}" ] && { echo "/dev/${b##*/}"; return 0; }
  done
  return 1
}

iscsi_logout() {
  iscsiadm -m node --logoutall=all
  iscsiadm -m node -o delete || true
  # Discovery records (with their CHAP settings) would follow the next
  # scenario in this guest to the same portal.
  # `iscsiadm -m discoverydb` lists them as "ADDR:PORT via sendtargets".
  iscsiadm -m discoverydb 2> /dev/null | while read -r portal _ type; do
    iscsiadm -m discoverydb -t "$type" -p "$portal" -o delete > /dev/null 2>&1 || true
  done
  wait_for 30 "sessions to go" no_sessions
}

# dd_verify MIB: writes random data, reads it back with O_DIRECT, compares.
dd_verify() {
  local mib=$1 dev t0
  dev=$(find_disk) || { detail "no iSCSI disk"; return 1; }
  dd if=/dev/urandom of=/tmp/pattern bs=1M count="$mib" status=none
  t0=$(now)
  dd if=/tmp/pattern of="$dev" bs=1M oflag=direct conv=fsync status=none
  dd if="$dev" of=/tmp/readback bs=1M count="$mib" iflag=direct status=none
  cmp /tmp/pattern /tmp/readback
  rm -f /tmp/pattern /tmp/readback
  detail "$mib MiB written and read back identical in $(( $(now) - t0 ))s"
}

# A short throughput run; figures go to fio.json and the step detail.
fio_run() {
  local dev
  dev=$(find_disk) || { detail "no iSCSI disk"; return 1; }
  fio --output-format=json --output="$OUT/fio.json" --filename="$dev" \
    --direct=1 --ioengine=libaio --time_based --runtime="${FIO_SECONDS:-10}" \
    --name=randread-4k --rw=randread --bs=4k --iodepth=16 \
    --name=write-128k --stonewall --rw=write --bs=128k --iodepth=8
  detail "$(python3 "$TESTBED/guest/fio-summary" "$OUT/fio.json")"
}

no_sessions() { ! compgen -G '/sys/class/iscsi_session/session*' > /dev/null; }

# libiscsi_tool TOOL ARGS...: one of libiscsi's simple tools; the step's
# detail is the first output line matching LIBISCSI_EXPECT.
libiscsi_tool() {
  "$@" > "/tmp/${1}.out"
  cat "/tmp/${1}.out"
  detail "$(grep -m 1 -iE "${LIBISCSI_EXPECT:-.}" "/tmp/${1}.out")"
}
