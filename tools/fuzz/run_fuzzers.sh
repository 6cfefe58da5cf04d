#!/usr/bin/env bash
# Builds every fuzzer with clang and libFuzzer (ASan + UBSan) and runs each for
# a bounded time over a scratch copy of its checked-in corpus. Prints
#   PASS fuzz/<package>:<name> (<executions> executions)
#   FAIL fuzz/<package>:<name>: <why>
# Usage: tools/fuzz/run_fuzzers.sh [seconds-per-fuzzer]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-${FUZZ_SECONDS:-30}}"

# An output base of its own: the clang toolchain never evicts the gcc build.
output_base="${XDG_CACHE_HOME:-$HOME/.cache}/isergw/bazel-fuzz-$(pwd | md5sum | cut -c1-12)"
bazel_fuzz=(bazel --output_base="$output_base")
stop_server() { [[ -n "${CI:-}" ]] && "${bazel_fuzz[@]}" shutdown >/dev/null 2>&1 || true; }
trap stop_server EXIT

mapfile -t fuzzers < <(bazel query --noshow_progress 'attr(tags, "\bfuzzer\b", kind(cc_binary, //...))' 2>/dev/null)
if [[ ${#fuzzers[@]} -eq 0 ]]; then
  echo "FAIL fuzz: no fuzzer targets found"
  exit 1
fi

log="$(mktemp -d)"
trap 'stop_server; rm -rf "$log"' EXIT
if ! "${bazel_fuzz[@]}" build --config=fuzz --symlink_prefix=/ --noshow_progress "${fuzzers[@]}" \
  >"$log/build.txt" 2>&1; then
  tail -n 30 "$log/build.txt" >&2
  for target in "${fuzzers[@]}"; do echo "FAIL fuzz/${target#//}: did not build with clang"; done
  exit 1
fi
bin="$("${bazel_fuzz[@]}" info --config=fuzz bazel-bin 2>/dev/null)"

failed=0
for target in "${fuzzers[@]}"; do
  package="${target#//}"
  package="${package%%:*}"
  name="${target##*:}"
  scratch="$log/corpus-$name"
  mkdir -p "$scratch" "$log/artifacts-$name"
  cp -r "$package/corpus/$name/." "$scratch/"
  output="$log/$name.txt"
  if "$bin/$package/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$log/artifacts-$name/" "$scratch" >"$output" 2>&1; then
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$output" | grep -o '[0-9]*$' || echo '?')"
    echo "PASS fuzz/$package:$name ($runs executions in ${seconds}s)"
  else
    failed=1
    crash="$(ls "$log/artifacts-$name" 2>/dev/null | head -n 1)"
    echo "FAIL fuzz/$package:$name: $(grep -m1 -E 'ERROR|SUMMARY|deadly signal' "$output" || echo 'exited non-zero')"
    grep -A 30 -m1 'ERROR' "$output" >&2 || tail -n 30 "$output" >&2
    if [[ -n "$crash" ]]; then
      mkdir -p build/fuzz-crashes
      cp "$log/artifacts-$name/$crash" "build/fuzz-crashes/$name-$crash"
      echo "  reproducer kept in build/fuzz-crashes/$name-$crash" >&2
    fi
  fi
done
exit "$failed"
