#!/usr/bin/env bash
# Installs the dependencies, builds recdb and runs `recdb demo` on a synthetic
# world that recdb generates itself (no data needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target recdb_cli
build/tools/recdb demo "$@"
