#!/bin/sh
# ctest entry of the console's browser test (label "browser"): exits 77
# (ctest SKIP_RETURN_CODE) when node, chromium or console/node_modules is
# missing (scripts/install-deps.sh installs them), else runs the test.
#   run.sh RECDB_BINARY OUT_DIR
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null 2>&1 || { echo "SKIP: node not installed"; exit 77; }
[ -x "${RECDB_CHROMIUM:-/usr/bin/chromium}" ] || { echo "SKIP: chromium not installed"; exit 77; }
[ -d "$here/../node_modules/playwright-core" ] ||
  { echo "SKIP: console/node_modules missing (npm ci in console/)"; exit 77; }
exec node "$here/console_e2e.mjs" "$@"
