# shellcheck shell=bash
# isergw, the gateway itself, as built on the host (bazel-bin is visible in
# the guest through the shared root).

# isergw_up ADDR FRONT_IQN=URL...: a TCP portal on ADDR:3260 with the given
# target map, and an iSER portal on ADDR:$ISERGW_ISER_PORT when that is set.
# ISERGW_BINARY names another build than bazel-bin's (the benchmarks' opt).
isergw_up() {
  local addr=$1 binary=${ISERGW_BINARY:-$REPO/bazel-bin/gateway/isergw} map
  shift
  if [ ! -x "$binary" ]; then
    detail "no gateway binary at $binary: build //gateway:isergw first"
    return 1
  fi
  # On iWARP the storage's iSER listener holds its port for TCP too.
  local tcp_port=${ISERGW_TCP_PORT:-3260}
  local args=(--listen "tcp://$addr:$tcp_port" --workers "${ISERGW_WORKERS:-2}"
    --log-level "${ISERGW_LOG_LEVEL:-info}")
  [ -n "${ISERGW_ISER_PORT:-}" ] && args+=(--listen "iser://$addr:$ISERGW_ISER_PORT")
  [ -n "${ISERGW_POSTING:-}" ] && args+=(--rdma-posting "$ISERGW_POSTING")
  # ISERGW_CONFIG: a config file instead of the maps, for settings that have
  # no flag (discovery CHAP); --listen still wins over its portals.
  if [ -n "${ISERGW_CONFIG:-}" ]; then args+=(--config "$ISERGW_CONFIG"); fi
  for map in "$@"; do args+=(--map "$map"); done
  daemon isergw "$binary" "${args[@]}"
  wait_for 60 "isergw to listen on $addr:$tcp_port" bash -c "exec 3<>/dev/tcp/$addr/$tcp_port"
  local portals="$addr:$tcp_port"
  if [ -n "${ISERGW_ISER_PORT:-}" ]; then
    wait_for 30 "isergw's iSER portal" grep -q "(RDMA CM)" "$OUT/isergw.log"
    portals+=", iser $addr:$ISERGW_ISER_PORT"
  fi
  detail "$("$binary" --version) (${binary#"$REPO"/}), portal $portals"
}

# gateway_devices DEVICE...: the gateway worked on each RDMA device named
# (a worker logs a device's set-up at its first connection there).
gateway_devices() {
  local dev
  for dev in "$@"; do
    grep -q "RDMA device $dev: " "$OUT/isergw.log" || { detail "isergw never used $dev"; return 1; }
  done
  detail "isergw used $*"
}

# gateway_posting auto|thread|inline: how the gateway said it posts send
# lists on the RDMA devices it used (rdma.posting; auto as on a soft device).
gateway_posting() {
  local want used
  case $1 in
    auto) want="or more posted from a thread of their own, the rest from the worker's loop" ;;
    thread) want="send lists posted from a thread of their own" ;;
    *) want="send lists posted from the worker's loop" ;;
  esac
  used=$(grep -o "RDMA device [^:]*: .*" "$OUT/isergw.log") || {
    detail "isergw used no RDMA device"
    return 1
  }
  if grep -qv "$want" <<< "$used"; then
    detail "not every device posts as '$1': $used"
    return 1
  fi
  detail "$used"
}

# gateway_ready PATTERN: /readyz says ready, and the back-end health names
# PATTERN (for iser://, the RDMA device that reaches the storage).
gateway_ready() {
  local backends
  curl -sf http://127.0.0.1:9860/readyz > /dev/null || {
    detail "not ready: $(curl -s http://127.0.0.1:9860/readyz)"
    return 1
  }
  backends=$(curl -sf http://127.0.0.1:9860/api/v1/backends)
  grep -q "$1" <<< "$backends" || { detail "back ends: $backends"; return 1; }
  detail "ready; $(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["detail"])' <<< "$backends")"
}

isergw_down() {
  stop_daemon isergw TERM
  # A clean stop logs "stopped"; anything else is a crash or a hang.
  grep -q '\] stopped$' "$OUT/isergw.log"
}

# verified_writes DEV SIZE LABEL: fio with verification: every block
# written is read back and checked against its checksum, across sizes that
# cross MaxBurstLength. The report goes to $OUT/fio-LABEL.json.
verified_writes() {
  fio --output-format=json --output="$OUT/fio-$3.json" --filename="$1" \
    --direct=1 --ioengine=libaio --name=verify --rw=randwrite --bsrange=4k-1m \
    --size="$2" --iodepth=16 --verify=crc32c --do_verify=1 --verify_fatal=1
}

# disk_of IQN: the block device of the session logged in to IQN.
disk_of() {
  local session b
  for session in /sys/class/iscsi_session/session*; do
    [ "$(cat "$session/targetname" 2> /dev/null)" = "$1" ] || continue
    for b in "$session"/device/target*/*/block/*; do
      [ -b "/dev/${b##*/}" ] && { echo "/dev/${b##*/}"; return 0; }
    done
  done
  return 1
}

# deep_writes SIZE IQN...: what Linux hosts do at their defaults, on each
# target's disk at once: sequential writes of 1280 KiB, 32 in flight, every
# block verified. Through one worker that is more than its buffers can set
# aside at once, so commands must wait for buffers (counted) and none may
# stall: no I/O error, no mismatch, no connection the host had to rebuild.
deep_writes() {
  local size=$1 iqn dev pid pids=() waits errors failed=0
  shift
  waits=$(isergw_metric isergw_buffer_claim_waits_total)
  errors=$(dmesg | grep -c "detected conn error" || true)
  for iqn in "$@"; do
    wait_for 60 "the disk of $iqn" disk_of "$iqn"
    dev=$(disk_of "$iqn")
    fio --output-format=json --output="$OUT/fio-deep-${iqn##*:}.json" --filename="$dev" \
      --direct=1 --ioengine=libaio --name=deep --rw=write --bs=1280k --iodepth=32 \
      --size="$size" --verify=crc32c --do_verify=1 --verify_fatal=1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" = 0 ] || { detail "fio failed: an I/O error or a verify mismatch"; return 1; }
  [ "$(dmesg | grep -c "detected conn error" || true)" -le "$errors" ] ||
    { detail "a host's connection broke under the load"; return 1; }
  waits=$(($(isergw_metric isergw_buffer_claim_waits_total) - waits))
  [ "$waits" -gt 0 ] || { detail "no command waited for buffers: the load proves nothing"; return 1; }
  detail "$size of 1280 KiB writes, 32 deep, verified on $# disks at once; $waits commands" \
    "waited for buffers, max_sectors_kb $(cat "/sys/block/${dev#/dev/}/queue/max_sectors_kb" 2> /dev/null)"
}

fio_verify() {
  local dev
  dev=$(find_disk) || { detail "no iSCSI disk"; return 1; }
  verified_writes "$dev" 64m verify
  detail "64 MiB of random writes (4 KiB to 1 MiB) verified with crc32c"
}

# fio_verify_across_crash ADDR FRONT_IQN=URL...: fio --verify through the
# gateway while the gateway is killed (SIGKILL: a crash, nothing is logged
# out) and started again with the same map. The kernel initiator must find
# the broken connection, log in again by itself and retry what had not
# completed, and fio must find every block it wrote intact.
fio_verify_across_crash() {
  local addr=$1 dev fio_pid errors_before errors_after
  shift
  dev=$(find_disk) || { detail "no iSCSI disk"; return 1; }
  errors_before=$(dmesg | grep -c "detected conn error" || true)
  verified_writes "$dev" 128m crash &
  fio_pid=$!
  sleep 5
  kill -0 "$fio_pid" 2> /dev/null || { detail "fio ended before the crash"; return 1; }
  stop_daemon isergw KILL
  mv "$OUT/isergw.log" "$OUT/isergw-killed.log"
  sleep 2
  isergw_up "$addr" "$@"
  if ! wait "$fio_pid"; then
    detail "fio failed across the gateway's restart"
    return 1
  fi
  errors_after=$(dmesg | grep -c "detected conn error" || true)
  if [ "$errors_after" -le "$errors_before" ]; then
    detail "the initiator never saw the connection break"
    return 1
  fi
  detail "128 MiB of verified random writes across a SIGKILL and restart of the gateway;" \
    "the initiator logged in again $(grep -c 'logged in from' "$OUT/isergw.log") time(s)"
}

# fio_verify_across_reconnect PORT: fio --verify through the gateway while
# the host's TCP connection to the gateway's PORT is torn down under it
# (ss -K, as a middlebox's reset would). The kernel initiator logs in again
# and carries its CmdSN and the highest MaxCmdSN it has seen on into the new
# session, so the gateway must not offer that session a smaller window:
# commands beyond it would be dropped, and the gap would end the connection.
fio_verify_across_reconnect() {
  local port=$1 dev fio_pid logins killed
  dev=$(find_disk) || { detail "no iSCSI disk"; return 1; }
  logins=$(grep -c 'logged in from' "$OUT/isergw.log")
  verified_writes "$dev" 64m reconnect &
  fio_pid=$!
  sleep 5
  kill -0 "$fio_pid" 2> /dev/null || { detail "fio ended before the reset"; return 1; }
  killed=$(ss -K -tn state established "( dport = :$port )" | grep -c ":$port" || true)
  [ "$killed" -ge 1 ] || { detail "no connection to port $port to reset"; return 1; }
  if ! wait "$fio_pid"; then
    detail "fio failed across the reset"
    return 1
  fi
  if grep -E 'outside the window|CmdSN [0-9]+ where' "$OUT/isergw.log"; then
    detail "the gateway dropped commands of the new session"
    return 1
  fi
  [ "$(grep -c 'logged in from' "$OUT/isergw.log")" -gt "$logins" ] ||
    { detail "the host never logged in again"; return 1; }
  detail "64 MiB of verified random writes across a reset of the host's connection;" \
    "the host logged in again and no command fell outside the new session's window"
}

# session_sums FABRIC PART FIELD...: each FIELD summed over the FABRIC
# ("iser", "tcp") sessions' PART of the control API's session list
# ("front.statistics", "back.connection"), on one line; a session without
# that part counts 0. The list itself is kept in $OUT/sessions.json for a
# failure's reader.
session_sums() {
  local fabric=$1 part=$2
  shift 2
  curl -sf http://127.0.0.1:9860/api/v1/sessions > "$OUT/sessions.json" || {
    detail "no session list from the control API"
    return 1
  }
  python3 - "$OUT/sessions.json" "$fabric" "$part" "$@" <<'PY'
import json, sys
path, fabric, part, fields = sys.argv[1], sys.argv[2], sys.argv[3].split("."), sys.argv[4:]
totals = [0] * len(fields)
for session in json.load(open(path)):
    if session["fabric"] != fabric:
        continue
    for key in part:
        session = session.get(key) if session else None
    if session:
        totals = [total + session[field] for total, field in zip(totals, fields)]
print(*totals)
PY
}

# writes_fetched_ahead: the iSER hosts' write data was RDMA Read before the
# storage's R2T asked for it. The metric counts closed sessions too: under
# TCG a host may have logged in again since its writes (NOP-Out timeouts).
writes_fetched_ahead() {
  local bytes written
  bytes=$(isergw_metric isergw_written_bytes_fetched_ahead_total 'fabric="iser"') || return 1
  written=$(isergw_metric isergw_written_bytes_total 'fabric="iser"') || return 1
  [ "${bytes:-0}" -gt 0 ] || {
    detail "no write data fetched ahead of $written bytes written"
    return 1
  }
  detail "$bytes of $written bytes of write data fetched ahead of the storage's R2Ts"
}

# writes_landed FABRIC: the FABRIC hosts' write data (past what they sent
# unasked) was received straight into the iSER back leg's command buffers,
# not copied there (BackLeg::landing), as the sessions' counters show.
writes_landed() {
  local counts landed written
  counts=$(session_sums "$1" front.statistics landed_bytes written_bytes) || return 1
  read -r landed written <<< "$counts"
  detail "$landed of $written bytes of write data landed in command buffers"
  [ "${landed:-0}" -gt 0 ]
}

# back_writes_batched: commands that the iSER sessions' hosts sent together
# went on to the TCP storage in shared writes (gateway/write_batch.h), as
# the back legs' REST connection counters show.
back_writes_batched() {
  local counts pdus writes
  counts=$(session_sums iser back.connection pdus_sent writes) || return 1
  read -r pdus writes <<< "$counts"
  detail "$pdus PDUs to the storage in $writes writes"
  [ "${writes:-0}" -gt 0 ] && [ "$writes" -lt "$pdus" ]
}

# isergw_metric NAME [LABEL]: the sum of a metric's samples on the gateway's
# /metrics (the control API's default address), of those carrying LABEL
# (kind="refused") when given.
isergw_metric() {
  curl -sf http://127.0.0.1:9860/metrics | awk -v name="$1" -v label="${2:-}" '
    ($1 == name || index($1, name "{") == 1) && (label == "" || index($1, label)) { sum += $2 }
    END { printf "%d\n", sum }'
}

# lists_handed_over auto|inline: what the gateway's RDMA posts went to its
# posting thread. Under auto on rxe, some (the lists that send much) but
# not all; posting inline, none.
lists_handed_over() {
  local handed posts
  handed=$(isergw_metric isergw_rdma_send_lists_handed_over_total)
  posts=$(isergw_metric isergw_rdma_doorbells_total)
  detail "$handed of $posts posts handed to the posting thread"
  if [ "$1" = inline ]; then
    [ "$handed" -eq 0 ]
  else
    [ "$handed" -gt 0 ] && [ "$handed" -lt "$posts" ]
  fi
}

isergw_connections_at_most() { [ "$(isergw_metric isergw_connections)" -le "$1" ]; }

# iser_faults_under_fio ADDR TARGET_IQN: while the kernel initiator's
# fio --verify runs on its own iSER session, a misbehaving host logs in to
# TARGET_IQN again and again and hands the gateway STags that are not its
# own, or vanishes mid-command (tests/vm/tools/misbehaving_iser_host). Each
# fault must end only the faulty connection, never with GOOD; the kernel
# host's I/O must not notice; the gateway counts the failed work requests.
iser_faults_under_fio() {
  local addr=$1 target=$2 dev fio_pid mode out failures=0 errors_before errors_after
  local tool=$REPO/bazel-bin/tests/vm/tools/misbehaving_iser_host
  local host_iqn=iqn.2026-11.io.isergw.testbed:misbehaving-host
  [ -x "$tool" ] || { detail "no $tool: build //tests/vm/tools:misbehaving_iser_host"; return 1; }
  dev=$(find_disk) || { detail "no iSCSI disk"; return 1; }
  errors_before=$(isergw_metric isergw_rdma_completion_errors_total)
  verified_writes "$dev" 64m faults &
  fio_pid=$!
  for mode in good bad-read-stag bad-write-stag vanish good; do
    out=$("$tool" "$addr" 3260 "$target" "$host_iqn" "$mode") || failures=$((failures + 1))
    echo "$out"
    # The gateway is back to the kernel host's one connection before the next.
    wait_for 60 "the faulty connection to end" isergw_connections_at_most 1 ||
      failures=$((failures + 1))
  done
  if ! wait "$fio_pid"; then
    detail "the kernel host's fio --verify failed while the faults ran"
    return 1
  fi
  kill -0 "$(cat /run/testbed/isergw.pid)" || { detail "isergw is gone"; return 1; }
  errors_after=$(isergw_metric isergw_rdma_completion_errors_total)
  if [ "$failures" -ne 0 ]; then
    detail "$failures fault(s) not handled as they must be; see the step log"
    return 1
  fi
  if [ "$errors_after" -le "$errors_before" ]; then
    detail "no RDMA completion error was counted"
    return 1
  fi
  detail "bad read STag, bad write STag and a vanished host each ended only their" \
    "connection, with no GOOD; $((errors_after - errors_before)) RDMA completion errors" \
    "counted; the kernel host's fio --verify of 64 MiB went on unharmed"
}
