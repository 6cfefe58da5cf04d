#!/usr/bin/env bash
# Builds the release package, isergw_<version>_amd64.deb, into build/:
# the gateway built with --config=opt, its systemd unit, the default config
# (a conffile), the examples, dashboards and docs. Nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh run
bazel build --config=opt //deploy:isergw_deb
mkdir -p build
for deb in bazel-bin/deploy/isergw_*_amd64.deb; do
  install -m 0644 "$deb" build/
  echo "build/$(basename "$deb")"
done
