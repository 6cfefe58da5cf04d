#!/usr/bin/env bash
# The soak: isergw in front of tgtd and of its own ram:// disk, on loopback,
# for SECONDS (default 60) of mixed hosts (soak_hosts: writes read back,
# pings, aborts, cache flushes, login and logout churn, discovery, hosts
# that vanish mid-command) plus libiscsi's iscsi-perf reading all along.
# Every SAMPLE seconds the gateway's resident memory, open descriptors,
# buffers in use and connections go into the record; soak_verdict.py judges
# it flat or not. Prints PASS/FAIL lines.
#
#   tests/soak/soak.sh [SECONDS] [RECORD]
# Run from the repository root after a build; ISERGW_BINARY and
# SOAK_HOSTS_BINARY name the binaries (bazel-bin's by default).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
record="$(realpath -m "${2:-build/soak-record.tsv}")"
sample="${SOAK_SAMPLE_SECONDS:-5}"
export ISERGW_BINARY="${ISERGW_BINARY:-bazel-bin/gateway/isergw}"
hosts_binary="${SOAK_HOSTS_BINARY:-bazel-bin/tests/soak/soak_hosts}"
source tests/integration/peers.sh
mkdir -p "$(dirname "$record")"

RELAY=iqn.2026-11.io.isergw.test:soak-relay
RAM=iqn.2026-11.io.isergw.test:soak-ram
start_tgtd 64M
start_isergw --map "$RELAY=iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN" --map "$RAM=ram://16M"
gateway_pid="${PEER_PIDS[-1]}"
wait_for_port "$ISERGW_CONTROL_PORT"

metric_sum() {
  curl -sf "http://127.0.0.1:$ISERGW_CONTROL_PORT/metrics" | awk -v name="$1" '
    $1 == name || index($1, name "{") == 1 { sum += $2 } END { printf "%d\n", sum }'
}
take_sample() {
  local rss fds
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$gateway_pid/status")
  fds=$(find "/proc/$gateway_pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$((SECONDS - begin))" "$rss" "$fds" \
    "$(metric_sum isergw_buffer_pool_used_buffers)" "$(metric_sum isergw_connections)" \
    "$(metric_sum isergw_commands_total)" >>"$record"
}

# A back-end login on each of the two workers first (a held session makes
# the next go to the other worker): a worker's first one starts its
# resolver's loop (an epoll, an eventfd and a timerfd kept for the process's
# life), which is no leak and must not count as one.
iscsi-perf -b 8 -m 1 "iscsi://127.0.0.1:$ISERGW_PORT/$RELAY/1" >/dev/null 2>&1 &
warm=$!
PEER_PIDS+=("$warm")
for _ in $(seq 100); do
  [[ "$(metric_sum isergw_connections)" -ge 1 ]] && break
  sleep 0.1
done
iscsi-inq "iscsi://127.0.0.1:$ISERGW_PORT/$RELAY/1" >/dev/null
kill -INT "$warm"
wait "$warm" 2>/dev/null || true
for _ in $(seq 50); do
  [[ "$(metric_sum isergw_connections)" == 0 ]] && break
  sleep 0.1
done
begin=$SECONDS
printf 'phase\tseconds\trss_kib\tfds\tbuffers_used\tconnections\tcommands\n' >"$record"
take_sample idle

iscsi-perf -b 8 -m 4 "iscsi://127.0.0.1:$ISERGW_PORT/$RAM/0" >"$PEERS_DIR/perf.txt" 2>&1 &
perf=$!
PEER_PIDS+=("$perf")
ISERGW_PORT="$ISERGW_PORT" SOAK_SECONDS="$seconds" SOAK_TARGETS="$RELAY/1,$RAM/0" \
  "$hosts_binary" --gtest_brief=1 >"$PEERS_DIR/hosts.txt" 2>&1 &
hosts=$!
while kill -0 "$hosts" 2>/dev/null; do
  sleep "$sample"
  kill -0 "$gateway_pid" 2>/dev/null || break
  take_sample load
done
hosts_status=0
wait "$hosts" || hosts_status=$?
kill -INT "$perf" 2>/dev/null || true
wait "$perf" 2>/dev/null || true

# Every host is gone: the gateway should be back where it started.
if kill -0 "$gateway_pid" 2>/dev/null; then
  for _ in $(seq 50); do
    [[ "$(metric_sum isergw_connections)" == 0 ]] && break
    sleep 0.2
  done
  take_sample after
  echo "PASS soak gateway-alive"
else
  echo "FAIL soak gateway-alive: isergw exited during the soak"
  tail -20 "$PEERS_DIR/isergw.log" >&2
fi

grep '^soak hosts:' "$PEERS_DIR/hosts.txt" >&2 || true
if [[ $hosts_status -eq 0 ]]; then
  echo "PASS soak hosts"
else
  echo "FAIL soak hosts: $(grep -m1 -E 'Failure|error:' "$PEERS_DIR/hosts.txt" || echo "exited $hosts_status")"
  tail -20 "$PEERS_DIR/hosts.txt" >&2
fi
if grep -qiE "error|fail|reconnect" "$PEERS_DIR/perf.txt"; then
  echo "FAIL soak iscsi-perf: $(grep -m1 -iE 'error|fail|reconnect' "$PEERS_DIR/perf.txt")"
else
  echo "PASS soak iscsi-perf"
fi
python3 tests/soak/soak_verdict.py "$record"
