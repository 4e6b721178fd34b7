#!/usr/bin/env bash
# compile_probes.sh CMAKE BUILD_DIR TARGET:HEADER:good|bad ...
# Builds each probe target (tests/layering/CMakeLists.txt). A `good` probe
# must compile; a `bad` one must fail, and fail because HEADER is not found
# (not for some other reason). Prints one line per probe; exits 1 on any
# unexpected result.
set -u
cmake="$1"; build="$2"; shift 2
bad=0
for probe in "$@"; do
  IFS=: read -r target header expect <<<"$probe"
  out=$("$cmake" --build "$build" --target "$target" -- -j1 2>&1)
  rc=$?
  if [ "$expect" = good ]; then
    if [ $rc -eq 0 ]; then
      echo "ok    $target: #include \"$header\" compiles"
    else
      echo "FAIL  $target: #include \"$header\" should compile:"; echo "$out" | tail -20; bad=1
    fi
  else
    if [ $rc -ne 0 ] && grep -q "$header: No such file" <<<"$out"; then
      echo "ok    $target: #include \"$header\" is rejected (not on its include path)"
    elif [ $rc -eq 0 ]; then
      echo "FAIL  $target: #include \"$header\" compiled, but it is an upward include"; bad=1
    else
      echo "FAIL  $target: failed, but not for the missing header:"; echo "$out" | tail -20; bad=1
    fi
  fi
done
[ $bad -eq 0 ] && echo "layering_compile ok"
exit $bad
