#!/bin/bash
# Times GET /v1/items/ITEM/interactions at several scan bounds, against a point
# read of the same item (GET /v1/items/ITEM) in the same run: the anchor.
# Median of 7 curl calls each. Starts `recdb serve DIR` on a free loopback
# port with a random token (no options file: no aggregate privacy, so the
# users are listed and the scan runs) and stops it by its pid.
#   usage: tools/serve/bench_interactions.sh RECDB DIR [ITEM]
#   e.g.   recdb import /tmp/ml --create --movielens ../shared/data/ml-100k
#          tools/serve/bench_interactions.sh build/tools/recdb /tmp/ml 50
set -e
RECDB=$1; DIR=$2; ITEM=${3:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 16 /dev/urandom | xxd -p > "$work/token"
TOK=$(cat "$work/token")
"$RECDB" serve "$DIR" --token-file "$work/token" > "$work/out" 2> "$work/err" &
PID=$!
for _ in $(seq 1 600); do grep -q port "$work/out" 2>/dev/null && break; sleep 0.5; done
PORT=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['port'])" "$work/out")
t() { curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT$1"; }
med() { for _ in 1 2 3 4 5 6 7; do t "$1"; done | sort -n | sed -n 4p; }
anchor=$(med "/v1/items/$ITEM")
echo "GET /v1/items/$ITEM (anchor): median $anchor s"
for scan in 0 1000 10000 100000; do
  m=$(med "/v1/items/$ITEM/interactions?scan=$scan")
  echo "GET /v1/items/$ITEM/interactions?scan=$scan: median $m s ($(python3 -c "print(f'{$m/$anchor:.1f}')")x the anchor)"
done
kill "$PID"; wait "$PID" 2>/dev/null || true
