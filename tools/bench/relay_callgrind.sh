#!/usr/bin/env bash
# Instructions the gateway spends per 4 KiB command, counted by callgrind
# (stable on a shared machine where timings are not): isergw runs under
# valgrind while fixed_io sends COUNT reads and COUNT writes, once with
# COUNT=N and once with 2N; the difference over N*2 commands is the cost of
# one command, free of start-up. Measured for the built-in ram:// back end
# and for the relay to tgtd over TCP (isergw's instructions only).
#
#   tools/bench/relay_callgrind.sh [N [BACK_END...]]   (ram, relay; both by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-500}
backs=("${@:2}")
[[ ${#backs[@]} -gt 0 ]] || backs=(ram relay)

# --symlink_prefix=/: bazel-bin stays at the default build (tests, VM testbed).
bazel build --config=opt --symlink_prefix=/ //gateway:isergw //tools/bench:fixed_io >/dev/null 2>&1
bin=$(bazel info --config=opt bazel-bin 2>/dev/null)
export TEST_TMPDIR=${TEST_TMPDIR:-/dev/shm}
source tests/integration/peers.sh
start_tgtd 256M

# Total instructions of one isergw run under callgrind serving COUNT of each.
instructions() {
  local target=$1 lun=$2 n=$3 map=$4
  local port out pid
  port=$(free_port)
  out="$PEERS_DIR/callgrind.$target.$n"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin/gateway/isergw" \
    --listen "tcp://127.0.0.1:$port" --control "127.0.0.1:$(free_port)" --workers 1 --map "$map" >"$PEERS_DIR/valgrind.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  "$bin/tools/bench/fixed_io" "$port" "$target" "$lun" "$n"
  kill -TERM "$pid"
  wait "$pid" || true
  awk '/^summary:/ {print $2}' "$out"
}

for back in "${backs[@]}"; do
  if [[ $back == ram ]]; then
    target=iqn.2026-11.io.isergw.bench:ram lun=0 map="$target=ram://64M"
  else
    target=iqn.2026-11.io.isergw.bench:relay lun=1
    map="$target=iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN"
  fi
  small=$(instructions "$target" "$lun" "$count" "$map")
  large=$(instructions "$target" "$lun" $((count * 2)) "$map")
  echo "$back: $(((large - small) / (count * 2))) instructions per 4 KiB command" \
    "($small for $count reads + writes, $large for $((count * 2)))"
done
