# Real peers for the integration tests, on loopback: tgtd as storage and the
# isergw daemon. Source it; every process it starts is stopped by PID on exit.
#   start_tgtd DISK_BYTES [NAME] -> TGTD_PORT, TGTD_IQN (LUN 1 is the disk),
#                                 TGTD_CONTROL (tgtadm -C for more targets),
#                                 TGTD_PID; NAME (default tgtd) names its disk
#                                 and log, so that two can run
#   start_isergw ARGS...       -> ISERGW_PORT, ISERGW_CONTROL_PORT (REST API, /metrics)
set -euo pipefail

PEERS_DIR="$(mktemp -d "${TEST_TMPDIR:-/tmp}/isergw-peers.XXXXXX")"
PEER_PIDS=()

stop_peers() {
  local pid
  for pid in "${PEER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PEER_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    # tgtd ignores SIGTERM while it has targets.
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$PEERS_DIR"
}
trap stop_peers EXIT

# A port nobody listens on, from the kernel's ephemeral range.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() {
  local port=$1
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $port" >&2
  return 1
}

start_tgtd() {
  local bytes=$1 name=${2:-tgtd}
  TGTD_PORT=$(free_port)
  TGTD_IQN="iqn.2026-11.io.isergw.test:tgtd"
  truncate -s "$bytes" "$PEERS_DIR/$name-disk.img"
  # -C: a control socket of its own (tgtadm takes small numbers only), so
  # tests and a system tgtd coexist.
  TGTD_CONTROL=$((TGTD_PORT % 4000 + 100))
  local control=$TGTD_CONTROL
  tgtd -f -C "$control" --iscsi portal=127.0.0.1:"$TGTD_PORT" >"$PEERS_DIR/$name.log" 2>&1 &
  TGTD_PID=$!
  PEER_PIDS+=("$TGTD_PID")
  local admin=(tgtadm -C "$control" --lld iscsi)
  for _ in $(seq 100); do "${admin[@]}" --mode target --op show >/dev/null 2>&1 && break; sleep 0.1; done
  "${admin[@]}" --mode target --op new --tid 1 --targetname "$TGTD_IQN"
  "${admin[@]}" --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$PEERS_DIR/$name-disk.img"
  "${admin[@]}" --mode target --op bind --tid 1 --initiator-address ALL
  wait_for_port "$TGTD_PORT"
}

start_isergw() {
  ISERGW_PORT=$(free_port)
  # The control API's default port would clash between gateways of
  # different tests, or with an installed one.
  ISERGW_CONTROL_PORT=$(free_port)
  local binary="${ISERGW_BINARY:-gateway/isergw}"
  "$binary" --listen "tcp://127.0.0.1:$ISERGW_PORT" --control "127.0.0.1:$ISERGW_CONTROL_PORT" \
    --workers "${ISERGW_WORKERS:-2}" "$@" >"$PEERS_DIR/isergw.log" 2>&1 &
  PEER_PIDS+=($!)
  wait_for_port "$ISERGW_PORT" || { tail -20 "$PEERS_DIR/isergw.log" >&2; return 1; }
}
