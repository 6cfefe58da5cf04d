# shellcheck shell=bash disable=SC2034 # its variables are for the scripts that source it
# The relay benches' common set-up, sourced from the repository's root: tgtd
# with a 1 GiB LUN in memory (so the disk under it never sets the pace) and
# the opt isergw (or ISERGW_BINARY) with one worker relaying to it. Sets
# relay, tgtd_pid and isergw_pid; peers.sh stops both on exit.
# --symlink_prefix=/ leaves bazel-bin at the default build, which the tests
# and the VM testbed use.
bazel build --config=opt --symlink_prefix=/ //gateway:isergw >/dev/null 2>&1
ISERGW_BINARY=${ISERGW_BINARY:-$(bazel info --config=opt bazel-bin 2>/dev/null)/gateway/isergw}
export ISERGW_BINARY
export TEST_TMPDIR=${TEST_TMPDIR:-/dev/shm}
source tests/integration/peers.sh

start_tgtd 1G
relay=iqn.2026-11.io.isergw.bench:relay
ISERGW_WORKERS=1 start_isergw --map "$relay=iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN"
tgtd_pid=${PEER_PIDS[0]}
isergw_pid=${PEER_PIDS[1]}
