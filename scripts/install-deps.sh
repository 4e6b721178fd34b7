#!/usr/bin/env bash
# Installs every Debian 12 package recdb needs to build, test and benchmark.
# Run as root (or with sudo). Safe to run again.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  librocksdb-dev libhnswlib-dev libflatbuffers-dev flatbuffers-compiler
  libboost-dev libssl-dev
  nlohmann-json3-dev libeigen3-dev
  # OpenBLAS: LAPACK (dpotrf/dpotri) for EASE's Gram-matrix inverse, threaded
  # (engine/models/ease.cc); also the BLAS numpy uses in `recdb bench ease`.
  libopenblas-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang libclang-rt-14-dev
  python3 python3-numpy python3-scipy
  python3-dev pybind11-dev python3-pytest
  # libtorch (PyTorch 1.13's C++ API): the Transformer sequence component,
  # modules/seq, built as a plugin the core library never links; python3-torch
  # runs its PyTorch reference, tools/seq/seq_reference.py. Optional: without
  # them the build leaves the component out (RECDB_SEQ off).
  libtorch-dev python3-torch
)
# The web console's browser test (console/e2e, ctest label "browser"):
# Debian's chromium, driven by playwright-core from npm (no browser download).
PACKAGES+=(chromium nodejs)
# The cluster module (cluster/, ctest label "cluster"): libnats (NATS C client
# 3.4.1) to publish to and follow a JetStream log, and nats-server 2.9.10 to
# run the 3-server JetStream cluster its tests and benchmark start on loopback.
PACKAGES+=(libnats-dev nats-server)
# npm comes with nodejs from NodeSource; Debian's own nodejs needs the npm package.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# playwright-core, pinned by console/package-lock.json (the only npm package).
(cd "$(dirname "$0")/../console" && npm ci --no-audit --no-fund)
echo "recdb dependencies installed"
