#!/usr/bin/env bash
# The test command: installs what is missing, builds everything, runs every
# suite, and ends with the line "N passed, N failed".
#
#   tools/test.sh            all tiers: format, unit and integration (gcc),
#                            the relay's exact-count ceilings, VM interop (opt
#                            gateway), a 2-minute soak, the same tests under
#                            ASan+UBSan, fuzzers
#   tools/test.sh --quick    format, unit and integration (gcc) only
#   tools/test.sh --nightly  all tiers, with a 30-minute soak (SOAK_SECONDS)
#
# Every tier writes PASS/FAIL lines into build/test-results.txt; the closing
# count is taken from those lines, one per test case.
set -uo pipefail
cd "$(dirname "$0")/.."

quick=false
soak_seconds="${SOAK_SECONDS:-120}"
case "${1:-}" in
  --quick) quick=true ;;
  --nightly) soak_seconds="${SOAK_SECONDS:-1800}" ;;
  "") ;;
  *)
    echo "usage: $0 [--quick|--nightly]" >&2
    exit 2
    ;;
esac

tools/install-deps.sh test || { echo "0 passed, 1 failed"; exit 1; }

mkdir -p build
results="build/test-results.txt"
: >"$results"
started=$SECONDS

# Runs one tier; its PASS/FAIL lines go to the results file and the terminal.
tier() {
  local name="$1"
  shift
  local begin=$SECONDS
  echo "=== $name"
  "$@" | tee -a "$results" | grep -E '^FAIL' || true
  echo "=== $name done in $((SECONDS - begin)) s"
}

format_tier() {
  if tools/format.sh --check >&2; then echo "PASS format"; else echo "FAIL format: run tools/format.sh"; fi
}

# bazel test over the whole tree, counted per test case from its test.xml.
bazel_tier() {
  local label="$1"
  shift
  local events="build/bazel-events-$label.json"
  local status=0
  rm -f "$events"
  bazel test --keep_going --build_event_json_file="$events" "$@" //... >"build/bazel-$label.log" 2>&1 ||
    status=$?
  local lines
  lines="$(python3 tools/bazel_test_results.py "$events" 2>&1 | sed "s/^\(PASS\|FAIL\) /\1 $label /")"
  [[ -n "$lines" ]] && echo "$lines"
  # Failed tests and targets that did not build are counted above; a failure
  # that left no such line (an analysis error, a crashed server) still counts.
  if [[ $status -ne 0 ]] && ! grep -q '^FAIL' <<<"$lines"; then
    echo "FAIL $label bazel: exited $status (see build/bazel-$label.log)"
  fi
  grep -E '^(ERROR|FAIL):' "build/bazel-$label.log" | head -n 20 >&2 || true
}

# The testbed prints a PASS/FAIL line per step; a suite that could not run
# at all must still count as a failure. The guest runs the optimised gateway,
# so that the testbed's figures mean something. --symlink_prefix=/ leaves
# bazel-bin at the gcc build, whose test tools the guest runs too; the guest
# sees bazel's output tree through the shared root (docs/TESTBED.md).
vm_tier() {
  local output status=0 binary
  if ! bazel build --config=opt --symlink_prefix=/ //gateway:isergw >build/bazel-vm-opt.log 2>&1; then
    echo "FAIL vm: the opt gateway did not build (see build/bazel-vm-opt.log)"
    return
  fi
  binary="$(bazel info --config=opt bazel-bin 2>/dev/null)/gateway/isergw"
  output="$(ISERGW_BINARY="$binary" tests/vm/run-suite ci)" || status=$?
  echo "$output"
  if [[ $status -ne 0 ]] && ! grep -q '^FAIL' <<<"$output"; then
    echo "FAIL vm: tests/vm/run-suite ci exited $status"
  fi
}

# Exact counts of the relay against tools/bench/ceilings.txt, one PASS/FAIL
# line per figure; a check that could not run counts too.
ceilings_tier() {
  local output status=0
  output="$(tools/bench/check_ceilings.sh)" || status=$?
  echo "$output"
  if [[ $status -ne 0 ]] && ! grep -q '^FAIL' <<<"$output"; then
    echo "FAIL ceilings: tools/bench/check_ceilings.sh exited $status"
  fi
}

# The soak prints its own PASS/FAIL lines; one that could not run counts too.
soak_tier() {
  local output status=0
  output="$(tests/soak/soak.sh "$soak_seconds" build/soak-record.tsv)" || status=$?
  echo "$output"
  if [[ $status -ne 0 ]] && ! grep -q '^FAIL' <<<"$output"; then
    echo "FAIL soak: tests/soak/soak.sh exited $status"
  fi
}

tier "format" format_tier
tier "unit and integration tests (gcc)" bazel_tier gcc
if ! $quick; then
  tier "exact-count ceilings (relay)" ceilings_tier
  # Before the ASan tier: the guest runs bazel-bin's test tools, the gcc build.
  tier "VM interop" vm_tier
  tier "soak ($soak_seconds s)" soak_tier
  tier "unit and integration tests (ASan+UBSan)" bazel_tier asan --config=asan
  tier "fuzzers (clang, libFuzzer)" tools/fuzz/run_fuzzers.sh "${FUZZ_SECONDS:-30}"
fi

[[ -n "${CI:-}" ]] && bazel shutdown >/dev/null 2>&1

passed=$(grep -c '^PASS' "$results")
failed=$(grep -c '^FAIL' "$results")
echo "=== $((SECONDS - started)) s; results in $results"
grep '^FAIL' "$results" || true
echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 && "$passed" -gt 0 ]]
