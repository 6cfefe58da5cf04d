#!/usr/bin/env bash
# Every shipped config passes `isergw --check-config`, and the check is real:
# the same file with one misspelt setting fails it.
set -euo pipefail

isergw=gateway/isergw
configs=(deploy/isergw.json deploy/examples/*.json)
[[ ${#configs[@]} -ge 6 ]] || { echo "FAIL: expected the default and 5 examples, found ${configs[*]}"; exit 1; }

failed=0
for config in "${configs[@]}"; do
  if output="$("$isergw" --check-config "$config" 2>&1)"; then
    echo "PASS $config: $output"
  else
    echo "FAIL $config: $output"
    failed=1
  fi
done

broken="${TEST_TMPDIR:-/tmp}/broken.json"
sed 's/"back_end"/"backend"/' deploy/examples/tcp-to-tcp.json >"$broken"
if output="$("$isergw" --check-config "$broken" 2>&1)"; then
  echo "FAIL a misspelt setting passed --check-config: $output"
  failed=1
elif grep -q 'targets\[0\].backend: unknown setting' <<<"$output"; then
  echo "PASS a misspelt setting is refused: $output"
else
  echo "FAIL unexpected error for a misspelt setting: $output"
  failed=1
fi
exit $failed
