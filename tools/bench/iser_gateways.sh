#!/usr/bin/env bash
# The iSER gateway comparison (docs/PERFORMANCE.md): builds the opt gateway
# apart from bazel-bin's, then runs the bench scenario of the VM testbed,
# where isergw, tgtd's own iSER and a LIO re-export gateway serve the kernel
# iSER initiator side by side in one guest boot.
# Usage: tools/bench/iser_gateways.sh   (FIO_SECONDS per job, default 15;
# BENCH_ROUNDS, default 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build --config=opt --noshow_progress //gateway:isergw
mkdir -p build/bench
# After an opt build, bazel-bin is the opt tree.
install -m 755 bazel-bin/gateway/isergw build/bench/isergw-opt
# bazel-bin points at the opt tree now; the testbed and the tests use the
# default one.
bazel build --noshow_progress //gateway:isergw
tests/vm/run-scenario iser-gateways-bench
