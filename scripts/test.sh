#!/usr/bin/env bash
# Installs the dependencies, builds recdb warning-free and runs the tests.
#   scripts/test.sh            fast suite (ctest -L fast), the inner loop
#   scripts/test.sh --all      fast + slow suites
#   scripts/test.sh --asan     fast suite under ASan+UBSan (separate build dir)
#   scripts/test.sh --tsan     fast suite under TSan (separate build dir)
#   scripts/test.sh --crash    crash suite: kill -9 cycles (ctest -L crash)
#   scripts/test.sh --fault    fault-injection sweeps over every N (ctest -L fault)
#   scripts/test.sh --fuzz     libFuzzer targets, 20000 runs each (clang, ASan+UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."
labels="fast"
build_dir="build"
sanitize=""
fuzz=OFF
for arg in "$@"; do
  case "$arg" in
    --all) labels="fast|slow" ;;
    --crash) labels="crash" ;;
    --fault) labels="fault" ;;
    --fuzz) build_dir="build-fuzz"; sanitize="address,undefined"; labels="fuzz"; fuzz=ON ;;
    --asan) build_dir="build-asan"; sanitize="address,undefined" ;;
    --tsan) build_dir="build-tsan"; sanitize="thread" ;;
    *) echo "unknown flag: $arg" >&2; exit 2 ;;
  esac
done
scripts/install-deps.sh
if [ "$fuzz" = ON ]; then export CC=clang CXX=clang++; fi
cmake -S . -B "$build_dir" -G Ninja -DRECDB_WERROR=ON -DRECDB_SANITIZE="$sanitize" \
  -DRECDB_FUZZ="$fuzz" >/dev/null
cmake --build "$build_dir"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# tests/tsan.supp: librocksdb is not TSan-instrumented (the file says why).
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1 history_size=7} suppressions=$PWD/tests/tsan.supp"
ctest --test-dir "$build_dir" -L "$labels" --output-on-failure -j2 --timeout 600
