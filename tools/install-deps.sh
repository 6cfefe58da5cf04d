#!/usr/bin/env bash
# Installs the Debian packages isergw needs, and nothing when all are there.
#   tools/install-deps.sh run    what building and running the gateway needs
#   tools/install-deps.sh test   that, plus the compilers and peers the tests use
set -euo pipefail

mode="${1:-run}"

run_packages=(
  bazel-bootstrap g++ pkg-config python3 python3-yaml git ca-certificates
  libibverbs-dev librdmacm-dev rdma-core ibverbs-providers
  libdpdk-dev libboost1.74-dev prometheus-cpp-dev nlohmann-json3-dev
  libisal-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libfmt-dev libboost-program-options1.74-dev
  libsystemd-dev libisns-dev dpkg-dev
)
test_packages=(
  clang libclang-rt-14-dev clang-format
  tgt libiscsi-bin tshark valgrind linux-perf prometheus curl openssl
  open-isns-server open-isns-utils systemd dpkg
)

case "$mode" in
  run) wanted=("${run_packages[@]}") ;;
  test) wanted=("${run_packages[@]}" "${test_packages[@]}") ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac

missing=()
for package in "${wanted[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# wireshark-common asks whether non-root users may capture; the default (no) is right.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
