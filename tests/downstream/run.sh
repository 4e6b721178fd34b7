#!/usr/bin/env bash
# Installs recdb from BUILD_DIR into a private prefix, builds the downstream
# app against it with find_package(recdb), and runs it.
set -euo pipefail
src="$1"; build="$2"
work="$build/downstream_test"
rm -rf "$work"; mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/tests/downstream" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" "$work/build/downstream_app" "$work/db"
LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" "$work/build/downstream_c_app" "$work/db"
