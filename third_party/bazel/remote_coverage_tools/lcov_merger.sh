#!/usr/bin/env bash
# Called by Bazel after each test under `bazel coverage`, with --output_file
# and the coverage directory in the environment.
set -euo pipefail
output=""
for arg in "$@"; do
  case "$arg" in
    --output_file=*) output="${arg#--output_file=}" ;;
  esac
done
[[ -n "$output" ]] || output="${COVERAGE_OUTPUT_FILE:-}"
[[ -n "$output" ]] || exit 0
here="$(dirname "$0")"
script="$here/gcov_json_to_lcov.py"
[[ -f "$script" ]] || script="${RUNFILES_DIR:-$0.runfiles}/remote_coverage_tools/gcov_json_to_lcov.py"
python3 "$script" "${COVERAGE_DIR:-.}" "$output"
