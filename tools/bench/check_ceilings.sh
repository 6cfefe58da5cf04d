#!/usr/bin/env bash
# Exact counts the relay must not exceed (tools/bench/ceilings.txt): its
# instructions per 4 KiB command under callgrind and its system calls per
# 4 KiB read, both measured with short runs. Prints one line per figure,
#   PASS <name>: <value> <= <ceiling>     or     FAIL <name>: <value> > <ceiling>
# so that tools/test.sh counts a regression as a failed test; exits 1 if any
# failed. About a minute on two cores.
#
#   tools/bench/check_ceilings.sh      (CEILINGS: another ceilings file)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ceilings=${CEILINGS:-tools/bench/ceilings.txt}
log=build/check-ceilings.log
mkdir -p build
: >"$log"
failed=0

# check NAME VALUE: one PASS/FAIL line against NAME's ceiling.
check() {
  local name=$1 value=$2 ceiling
  ceiling=$(awk -v n="$name" '$1 == n {print $2}' "$ceilings")
  if [[ -z $ceiling ]]; then
    echo "FAIL $name: no ceiling in $ceilings"
    failed=1
  elif [[ -z $value ]]; then
    echo "FAIL $name: not measured (see $log)"
    failed=1
  elif awk -v v="$value" -v c="$ceiling" 'BEGIN {exit !(v <= c)}'; then
    echo "PASS $name: $value <= $ceiling"
  else
    echo "FAIL $name: $value > $ceiling"
    failed=1
  fi
}

# 100 reads and 100 writes, then 200 of each: the difference is exact enough
# (start-up, which dominates a run under valgrind, cancels out).
# The relay only: each run under valgrind takes about half a minute here,
# most of it start-up, and ram:// would double that.
out=$(tools/bench/relay_callgrind.sh 100 relay 2>>"$log")
echo "$out" >>"$log"
check relay_instructions_per_command "$(sed -n 's/^relay: \([0-9]*\) instructions.*/\1/p' <<<"$out")"

# 3 s at QD1 and at QD32.
out=$(tools/bench/relay_syscalls.sh 3 2>>"$log")
echo "$out" >>"$log"
for depth in 1 32; do
  check "relay_syscalls_per_read_qd$depth" \
    "$(awk -v qd="QD$depth" '$1 == qd && $2 == "total" {print $3}' <<<"$out")"
done
[[ $failed -eq 0 ]]
