#!/usr/bin/env bash
# Compiles the README's C API example (the ```c block of "## C API") as C11
# against the build tree's header and libraries, and runs it in a fresh
# directory: the example must build warning-free and print a recommendation.
#   readme_example.sh SOURCE_DIR BUILD_DIR CC LIB_DIR_RECDB_C LIB_DIR_RECDB
set -euo pipefail
src="$1"; build="$2"; cc="$3"; libc="$4"; lib="$5"
work="$build/readme_c_example"
rm -rf "$work"; mkdir -p "$work"
awk '/^## C API$/ {s=1} s && /^```c$/ {c=1; next} c && /^```$/ {exit} c {print}' \
  "$src/README.md" > "$work/example.c"
grep -q recdb_recommend "$work/example.c"
sed -i "s|/tmp/recdb-c-demo|$work/db|" "$work/example.c"
"$cc" -std=c11 -Wall -Wextra -pedantic -Werror -I"$src/api/include" "$work/example.c" \
  -L"$libc" -L"$lib" -Wl,-rpath,"$libc:$lib" -lrecdb_c -lrecdb -o "$work/example"
out=$("$work/example")
echo "$out"
[ "$(echo "$out" | head -1 | cut -d' ' -f1)" = i4 ]
