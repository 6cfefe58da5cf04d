#!/usr/bin/env bash
# A real Prometheus server scrapes isergw on loopback while libiscsi's
# iscsi-perf reads through the gateway; Prometheus's HTTP API must then give
# the same counters as the gateway's own /metrics, and isergwctl must show
# them too.
source tests/integration/peers.sh

TARGET=iqn.2026-11.io.isergw.test:perf
OTHER=iqn.2026-11.io.isergw.test:idle
start_isergw --map "$TARGET=ram://64M" --map "$OTHER=null://1G"
CONTROL_PORT=$ISERGW_CONTROL_PORT
wait_for_port "$CONTROL_PORT"

PROMETHEUS_PORT=$(free_port)
cat >"$PEERS_DIR/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: isergw
    static_configs:
      - targets: ["127.0.0.1:$CONTROL_PORT"]
YAML
prometheus --config.file="$PEERS_DIR/prometheus.yml" --storage.tsdb.path="$PEERS_DIR/tsdb" \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" >"$PEERS_DIR/prometheus.log" 2>&1 &
PEER_PIDS+=($!)
wait_for_port "$PROMETHEUS_PORT"

# Reads of 8 blocks, four at a time, for three seconds.
timeout -s INT 3 iscsi-perf -b 8 -m 4 "iscsi://127.0.0.1:$ISERGW_PORT/$TARGET/0" \
  >"$PEERS_DIR/perf.txt" 2>&1 || true

# The value of one series, from the gateway or from Prometheus.
direct() {
  curl -sf "http://127.0.0.1:$CONTROL_PORT/metrics" |
    python3 -c 'import sys
want = sys.argv[1] + " "
for line in sys.stdin:
    if line.startswith(want):
        print(int(float(line[len(want):])))' "$1"
}
queried() {
  curl -sf --get "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json, sys
result = json.load(sys.stdin)["data"]["result"]
print(int(float(result[0]["value"][1])) if result else "none")'
}

failures=0
check_same() {
  local series=$1 from_gateway from_prometheus=""
  from_gateway=$(direct "$series")
  # Prometheus shows the value once a scrape after the I/O has landed.
  for _ in $(seq 60); do
    from_prometheus=$(queried "$series")
    [[ "$from_prometheus" == "$from_gateway" ]] && break
    sleep 0.5
  done
  if [[ -n "$from_gateway" && "$from_prometheus" == "$from_gateway" ]]; then
    echo "ok: $series = $from_gateway in both"
  else
    echo "FAIL: $series: gateway says '$from_gateway', Prometheus says '$from_prometheus'"
    failures=$((failures + 1))
  fi
}

labels="{fabric=\"tcp\",target=\"$TARGET\"}"
check_same "isergw_commands_total$labels"
check_same "isergw_read_bytes_total$labels"
check_same "isergw_written_bytes_total$labels"
check_same "isergw_logins_total{fabric=\"tcp\",result=\"success\",target=\"$TARGET\"}"
check_same "isergw_sessions$labels"
check_same "isergw_build_info{version=\"0.1.0\"}"

commands=$(direct "isergw_commands_total$labels")
read_bytes=$(direct "isergw_read_bytes_total$labels")
# iscsi-perf reads 4 KiB per command, after a few commands of its own setup.
if ((commands < 1000 || read_bytes < 4096 * (commands - 16))); then
  echo "FAIL: $commands commands and $read_bytes bytes read do not match three seconds of 4 KiB reads"
  failures=$((failures + 1))
else
  echo "ok: $commands commands, $read_bytes bytes read"
fi
if [[ "$(queried 'up{job="isergw"}')" != 1 ]]; then
  echo "FAIL: Prometheus does not see the gateway up"
  failures=$((failures + 1))
fi

ctl=("${ISERGWCTL_BINARY:-control/isergwctl}" --control "127.0.0.1:$CONTROL_PORT")
stats=$("${ctl[@]}" stats)
echo "$stats"
if ! grep -q "^tcp  *$TARGET  *0  *$commands " <<<"$stats"; then
  echo "FAIL: isergwctl stats does not show $commands commands for $TARGET"
  failures=$((failures + 1))
fi
"${ctl[@]}" targets | grep -q "$OTHER" || { echo "FAIL: isergwctl targets misses $OTHER"; failures=$((failures + 1)); }
# Without a token file the gateway refuses changes.
if "${ctl[@]}" unmap "$OTHER" 2>"$PEERS_DIR/unmap.txt"; then
  echo "FAIL: a change was accepted without a token file"
  failures=$((failures + 1))
fi
grep -q control_token_file "$PEERS_DIR/unmap.txt" || { echo "FAIL: the refusal does not name control_token_file"; failures=$((failures + 1)); }

if ((failures > 0)); then
  echo "--- isergw log"; tail -20 "$PEERS_DIR/isergw.log"
  echo "--- prometheus log"; tail -20 "$PEERS_DIR/prometheus.log"
  exit 1
fi
echo "all checks passed"
