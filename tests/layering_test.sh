#!/usr/bin/env bash
# Fails if a module includes a module above it (docs/DESIGN.md: api -> engine ->
# {index, storage} -> common). Prints each offending line. The compiler
# enforces the same through per-module include roots (ctest layering_compile);
# this grep adds what include roots cannot see: a lower module naming the
# public recdb/db.h, and public headers naming a dependency.
set -u
root="$1"
bad=0
check() {  # check DIR PATTERN: no file under DIR may include PATTERN
  local hits
  hits=$(grep -rnE "#include \"($2)" "$root/$1" --include='*.h' --include='*.cc' 2>/dev/null)
  if [ -n "$hits" ]; then echo "layering violation in $1/:"; echo "$hits"; bad=1; fi
}
check common 'storage/|index/|engine/|tools/|recdb/db\.h'
check storage 'index/|engine/|tools/|recdb/db\.h'
check index 'storage/|engine/|tools/|recdb/db\.h'
check engine 'tools/'
check api/c 'storage/|index/|engine/|tools/|common/'
# The cluster module sits above the public API (cluster/README.md). Only its
# request front (cluster/serve/), its programs (cluster/tools/) and tests
# use the HTTP service of `recdb serve` (tools/serve/, tools/import/: public
# API only); the library itself includes nothing of tools/.
check cluster 'storage/|index/|engine/|tools/cli/|tools/bench/|common/|api/src/'
if grep -nE '#include "tools/' "$root"/cluster/*.h "$root"/cluster/*.cc "$root"/cluster/testing/* 2>/dev/null; then
  echo "layering violation: the cluster library includes tools/"; bad=1
fi
# The simulator sits above the public API too (sim/README.md); of tools/ it
# uses only the synthetic world generator (tools/import, public API only).
check sim 'storage/|index/|engine/|common/|api/src/|tools/cli/|tools/bench/|tools/serve/'
check python 'storage/|index/|engine/|tools/|common/'
# The CLI, the importers and the HTTP service use the public API only
# (tools/bench is white-box and may include internals, as tests do).
check tools/cli 'storage/|index/|engine/|common/'
check tools/import 'storage/|index/|engine/|common/'
check tools/serve 'storage/|index/|engine/|common/'
# Public headers name no dependency type.
if grep -rnE '#include <(rocksdb|hnswlib|flatbuffers|boost)/' "$root/api/include"; then
  echo "public header includes a dependency"; bad=1
fi
[ $bad -eq 0 ] && echo "layering ok"
exit $bad
