#!/usr/bin/env bash
# Installs the build into a private prefix and imports the installed module
# with no help from the environment (no PYTHONPATH into the build tree, no
# LD_LIBRARY_PATH): the install directory and the module's relative RPATH
# to librecdb.so must be enough.
#   install_check.sh BUILD_DIR PYTHON3 MODULE_DIR_RELATIVE_TO_PREFIX
set -euo pipefail
build="$1"; python="$2"; rel="$3"
work="$(cd "$build" && pwd)/python_install_test"
rm -rf "$work"; mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
env -u LD_LIBRARY_PATH -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1 \
  "$python" -c "
import sys
sys.path.insert(0, '$work/prefix/$rel')
import recdb
assert recdb.__file__.startswith('$work/prefix/'), recdb.__file__
db = recdb.open('$work/db', create_if_missing=True)
db.record_events([{'user': 'u1', 'item': 'i1', 'type': 'view', 'timestamp': 1700000000}])
assert db.stats()['events'] == 1
db.close()
print('installed module ok:', recdb.__file__)
"
