#!/usr/bin/env bash
# The run command: installs what is missing, builds the gateway, and starts
# it. With no arguments it runs the embedded default (README.md); arguments
# go to isergw (tools/run.sh --help).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh run
bazel build --config=opt --noshow_progress //gateway:isergw //control:isergwctl
exec bazel-bin/gateway/isergw "$@"
