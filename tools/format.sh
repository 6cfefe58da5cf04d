#!/usr/bin/env bash
# tools/format.sh          reformats every C++ file in place
# tools/format.sh --check  lists the files that are not formatted, and fails
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.h' '*.cc')
[[ ${#files[@]} -eq 0 ]] && exit 0
if [[ "${1:-}" == "--check" ]]; then
  bad=()
  for file in "${files[@]}"; do
    clang-format --dry-run --Werror "$file" >/dev/null 2>&1 || bad+=("$file")
  done
  if [[ ${#bad[@]} -gt 0 ]]; then
    printf 'not formatted (run tools/format.sh): %s\n' "${bad[@]}"
    exit 1
  fi
  exit 0
fi
clang-format -i "${files[@]}"
