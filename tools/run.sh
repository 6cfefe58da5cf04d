#!/usr/bin/env bash
# The run command: installs what is missing, builds the gateway, and starts it.
# With no arguments it runs the embedded default (see README.md); any
# arguments are passed to isergw (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh run
if ! bazel query //gateway:isergw >/dev/null 2>&1; then
  echo "run: the isergw daemon is not built yet in this version; see README.md for what exists." >&2
  exit 1
fi
bazel build --config=opt --noshow_progress //gateway:isergw
exec bazel-bin/gateway/isergw "$@"
