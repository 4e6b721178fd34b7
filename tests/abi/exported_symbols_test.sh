#!/usr/bin/env bash
# exported_symbols_test.sh ALLOW_LIST LIB...
# Fails when a library exports a symbol (nm -D --defined-only, demangled)
# that no pattern of ALLOW_LIST matches (one extended regex per line, matched
# against the whole demangled name; '#' starts a comment). Also fails when a
# library exports nothing, or lacks the entry points every build must have
# (recdb::DB::Open in librecdb, recdb_open in librecdb_c), so that an empty or
# unreadable library cannot pass.
set -u
allow="$1"; shift
patterns=$(grep -vE '^\s*(#|$)' "$allow" | sed -E 's/\s+#.*$//' | sed -E 's/^(.*)$/^(\1)$/')
if [ -z "$patterns" ]; then echo "empty allow-list $allow"; exit 1; fi
bad=0
for lib in "$@"; do
  names=$(nm -D --defined-only --demangle "$lib" | awk '{ $1=""; $2=""; sub(/^  /, ""); print }')
  count=$(printf '%s\n' "$names" | grep -c .)
  if [ "$count" -eq 0 ]; then echo "FAIL $lib exports nothing (nm failed?)"; bad=1; continue; fi
  case "$(basename "$lib")" in
    librecdb.so*) must='recdb::DB::Open(' ;;
    librecdb_c.so*) must='recdb_open' ;;
    *) must='' ;;
  esac
  if [ -n "$must" ] && ! grep -qF "$must" <<<"$names"; then
    echo "FAIL $lib does not export $must"; bad=1
  fi
  extra=$(printf '%s\n' "$names" | grep -vE -f <(printf '%s\n' "$patterns"))
  if [ -n "$extra" ]; then
    n=$(printf '%s\n' "$extra" | grep -c .)
    echo "FAIL $lib exports $n symbol(s) outside the public API ($allow):"
    printf '%s\n' "$extra" | head -50
    bad=1
  else
    echo "ok   $lib: $count exported symbols, all public"
  fi
done
exit $bad
