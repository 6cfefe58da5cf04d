#!/usr/bin/env bash
# System calls the gateway makes per I/O, by name: exact counts where
# timings are noisy. libiscsi's iscsi-perf reads 4 KiB blocks through the
# relay (TCP front, TCP back to tgtd on loopback) at QD1 and at QD32 while
# `perf stat` counts isergw's system-call entries; each count is divided by
# the I/Os iscsi-perf reports. ISERGW_BINARY measures another build.
#
#   tools/bench/relay_syscalls.sh [SECONDS_PER_RUN]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}

source tools/bench/lib-relay.sh
url="iscsi://127.0.0.1:$ISERGW_PORT/$relay/1"
calls=(recvfrom recvmsg sendmsg epoll_wait epoll_ctl read write ioctl futex)
events=raw_syscalls:sys_enter
for call in "${calls[@]}"; do events+=",syscalls:sys_enter_$call"; done

for depth in 1 32; do
  perf stat -x, -e "$events" -p "$isergw_pid" -o "$PEERS_DIR/perf.$depth" &
  perf_pid=$!
  sleep 0.5  # perf attaches
  iops=$(timeout $((seconds + 20)) iscsi-perf -t "$seconds" -b 8 -m "$depth" "$url" 2>&1 |
    tr '\r' '\n' | grep 'iops average' | tail -1 | sed -E 's/.*iops average ([0-9]+).*/\1/')
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
  # perf -x, rows: count,unit,event,...
  awk -F, -v ios=$((iops * seconds)) -v depth="$depth" -v iops="$iops" '
    $3 ~ /sys_enter/ {
      name = $3; sub(/.*sys_enter_?/, "", name); if (name == "") name = "total"
      printf "QD%-3s %-12s %6.2f per I/O\n", depth, name, $1 / ios
    }
    END {printf "QD%-3s %d IOPS\n", depth, iops}' "$PEERS_DIR/perf.$depth"
done
