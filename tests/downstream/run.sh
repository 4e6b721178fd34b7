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
# The core library never links libtorch (the optional modules/seq plugin is
# dlopen()ed at run time): not on the app's link line, not among the
# installed library's needed libraries, not in the exported CMake targets.
if grep -q -i torch "$work/build/build.ninja"; then echo "libtorch on the downstream link line"; exit 1; fi
for lib in "$work"/prefix/lib*/librecdb.so "$work"/prefix/lib*/librecdb_c.so; do
  if [ -e "$lib" ] && readelf -d "$lib" | grep NEEDED | grep -q -i -E "torch|c10"; then
    echo "$lib needs libtorch"; exit 1
  fi
done
if grep -r -q -i torch "$work"/prefix/lib*/cmake/recdb/; then echo "libtorch in recdb's CMake targets"; exit 1; fi
LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" "$work/build/downstream_app" "$work/db"
LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" "$work/build/downstream_c_app" "$work/db"
