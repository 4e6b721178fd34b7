#!/usr/bin/env bash
# plugin_symbols_test.sh PLUGIN CORE_LIB
# The plugin resolves against the core library: every recdb symbol the plugin
# leaves undefined must be exported by librecdb.so (else the dlopen in the
# `recdb` CLI, serve or Python fails with "undefined symbol" and the blend
# silently lacks the component). Fails too when the plugin uses no recdb
# symbol at all (an nm failure must not pass).
set -u
plugin="$1"; core="$2"
need=$(nm -D --undefined-only "$plugin" | awk '{print $2}' | grep -E '^_Z.*5recdb' | sort -u)
have=$(nm -D --defined-only "$core" | awk '{print $3}' | sort -u)
if [ -z "$need" ]; then echo "FAIL $plugin uses no recdb symbol (nm failed?)"; exit 1; fi
missing=$(comm -23 <(printf '%s\n' "$need") <(printf '%s\n' "$have"))
if [ -n "$missing" ]; then
  echo "FAIL $(basename "$plugin") needs symbols $(basename "$core") does not export:"
  printf '%s\n' "$missing" | c++filt
  exit 1
fi
echo "ok   $(printf '%s\n' "$need" | grep -c .) recdb symbols of $(basename "$plugin"), all exported by $(basename "$core")"
