#!/usr/bin/env bash
# Relay throughput and CPU cost on loopback: libiscsi's iscsi-perf against
# tgtd directly and through isergw (TCP front, TCP back to the same tgtd
# LUN), in alternating rounds, printing each round and the medians, the
# gateway/direct ratios, and CPU time per I/O of isergw and of tgtd.
#
#   tools/bench/relay_perf.sh [SECONDS_PER_RUN] [ROUNDS]
#
# Uses the optimised build (bazel build --config=opt //gateway:isergw);
# ISERGW_BINARY measures another build.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
rounds=${2:-3}

source tools/bench/lib-relay.sh
direct_url="iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN/1"
gateway_url="iscsi://127.0.0.1:$ISERGW_PORT/$relay/1"

# user+system clock ticks of a process so far
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# One iscsi-perf run; prints "IOPS MBPS TGTD_US_PER_IO ISERGW_US_PER_IO".
measure() {
  local url=$1 blocks=$2 depth=$3
  local tgtd_before isergw_before output iops mbps tgtd_after isergw_after
  tgtd_before=$(cpu_ticks "$tgtd_pid")
  isergw_before=$(cpu_ticks "$isergw_pid")
  output=$(timeout $((seconds + 20)) iscsi-perf -t "$seconds" -b "$blocks" -m "$depth" "$url" 2>&1 |
    tr '\r' '\n' | grep 'iops average' | tail -1)
  tgtd_after=$(cpu_ticks "$tgtd_pid")
  isergw_after=$(cpu_ticks "$isergw_pid")
  iops=$(sed -E 's/.*iops average ([0-9]+) \(([0-9]+) MB\/s\).*/\1/' <<<"$output")
  mbps=$(sed -E 's/.*iops average ([0-9]+) \(([0-9]+) MB\/s\).*/\2/' <<<"$output")
  local hz ios
  hz=$(getconf CLK_TCK)
  ios=$((iops * seconds))
  python3 -c "
ios = max($ios, 1)
print($iops, $mbps, round(($tgtd_after - $tgtd_before) / $hz * 1e6 / ios, 1),
      round(($isergw_after - $isergw_before) / $hz * 1e6 / ios, 1))"
}

results="$PEERS_DIR/results"
: >"$results"
for round in $(seq "$rounds"); do
  for load in "4k 8 32" "128k 256 16"; do
    read -r name blocks depth <<<"$load"
    for path in direct gateway; do
      url=$direct_url
      [[ $path == gateway ]] && url=$gateway_url
      line="$name $path $(measure "$url" "$blocks" "$depth")"
      echo "round $round: $line"
      echo "$line" >>"$results"
    done
  done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def median(name, path, column):
    return statistics.median(float(r[column]) for r in rows if r[0] == name and r[1] == path)
print()
print("| load | path | IOPS | MB/s | tgtd CPU µs/IO | isergw CPU µs/IO |")
print("|---|---|---|---|---|---|")
for name, label in (("4k", "4 KiB read, QD32"), ("128k", "128 KiB read, QD16")):
    for path in ("direct", "gateway"):
        print(f"| {label} | {path} | {median(name, path, 2):.0f} | {median(name, path, 3):.0f} "
              f"| {median(name, path, 4)} | {median(name, path, 5)} |")
for name in ("4k", "128k"):
    ratio = median(name, "gateway", 2) / median(name, "direct", 2)
    print(f"{name}: gateway/direct = {ratio:.2f}")
PY
