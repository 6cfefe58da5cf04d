# shellcheck shell=bash
# Helpers for scenario scripts running inside the guest.
# A scenario is a list of `step NAME LIMIT FUNCTION [ARGS]` calls; each step
# lands as one line in $OUT/results.tsv: step, PASS|FAIL, seconds, detail.

# Wall-clock seconds: under TCG each fork costs 0.1-1 s, so never count loops.
now() { date +%s; }

# Called from a step function to set the step's detail column.
detail() { printf '%s' "$*" > "$STEP_DETAIL"; }

# Runs FUNCTION in a fresh bash under `timeout`, which gives the step its own
# process group and kills the whole group when the limit is hit.
step() {
  local name=$1 limit=$2 t0 rc text
  shift 2
  STEP_DETAIL="$OUT/steps/$name.detail"
  export STEP_DETAIL
  mkdir -p "$OUT/steps"
  : > "$STEP_DETAIL"
  # shellcheck disable=SC2046  # one word per function name is intended
  export -f $(compgen -A function)
  echo "=== step $name (limit ${limit}s) at $(cut -d' ' -f1 /proc/uptime)" >> "$OUT/steps.log"
  t0=$(now)
  timeout -k 5 "$limit" bash -c 'set -euo pipefail; "$@"' "$name" "$@" \
    > "$OUT/steps/$name.log" 2>&1 < /dev/null
  rc=$?
  cat "$OUT/steps/$name.log" >> "$OUT/steps.log"
  text=$(tr '\t\n' '  ' < "$STEP_DETAIL")
  if [ "$rc" -eq 0 ]; then
    record "$name" PASS "$(( $(now) - t0 ))" "$text"
  else
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      text="timed out after ${limit}s${text:+; $text}"
    elif [ -z "$text" ]; then
      text=$(grep -v '^[[:space:]]*$' "$OUT/steps/$name.log" | tail -n 1 | tr '\t' ' ')
      text="exit $rc${text:+: $text}"
    fi
    record "$name" FAIL "$(( $(now) - t0 ))" "$text"
  fi
  return "$rc"
}

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$OUT/results.tsv"; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local limit=$1 what=$2 end
  shift 2
  end=$(( $(now) + limit ))
  until "$@" > /dev/null 2>&1; do
    if [ "$(now)" -ge "$end" ]; then echo "gave up waiting for $what after ${limit}s" >&2; return 1; fi
    sleep 1
  done
}

# Starts a daemon in the background, logging to $OUT, and remembers its PID
# so that reset_guest can end exactly it.
daemon() {
  local name=$1
  shift
  mkdir -p /run/testbed
  setsid "$@" > "$OUT/$name.log" 2>&1 < /dev/null &
  echo $! > "/run/testbed/$name.pid"
}

stop_daemon() {
  local name=$1 sig=${2:-TERM} pid
  [ -r "/run/testbed/$name.pid" ] || return 0
  pid=$(cat "/run/testbed/$name.pid")
  kill "-$sig" "$pid" 2> /dev/null || true
  wait_for 20 "$name to exit" sh -c "! kill -0 $pid" || kill -KILL "$pid" 2> /dev/null || true
  rm -f "/run/testbed/$name.pid"
}

source_lib() {
  local f
  for f in "$TESTBED"/guest/lib-*.sh; do
    # shellcheck source=/dev/null
    . "$f"
  done
}
source_lib
