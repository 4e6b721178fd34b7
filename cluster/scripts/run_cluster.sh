#!/usr/bin/env bash
# Starts or stops a 3-server NATS JetStream cluster on 127.0.0.1 for trying
# recdb-node by hand (the tests and cluster_bench start their own through
# cluster/testing/nats_cluster.cc).
#
#   cluster/scripts/run_cluster.sh start DIR [BASE_PORT]   # prints the URLs
#   cluster/scripts/run_cluster.sh stop DIR
#
# Server i (0..2) listens for clients on BASE_PORT+i (default 14222), routes
# on BASE_PORT+100+i and HTTP monitoring on BASE_PORT+200+i; its store is
# DIR/n<i>, its log DIR/n<i>.log, its pid DIR/n<i>.pid. start waits (at most
# 30 s) for every /healthz; stop kills exactly those pids.
set -euo pipefail
cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [BASE_PORT]" >&2; exit 2; }
base="${3:-14222}"
server="${RECDB_NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}"

case "$cmd" in
start)
  mkdir -p "$dir"
  for i in 0 1 2; do
    routes=""
    for j in 0 1 2; do
      [ "$j" = "$i" ] && continue
      routes="${routes:+$routes, }nats-route://127.0.0.1:$((base + 100 + j))"
    done
    cat > "$dir/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:$((base + i))
http: 127.0.0.1:$((base + 200 + i))
jetstream { store_dir: "$dir/n$i" }
cluster { name: recdb, listen: 127.0.0.1:$((base + 100 + i)), routes: [$routes] }
CONF
    "$server" -c "$dir/n$i.conf" >> "$dir/n$i.log" 2>&1 &
    echo $! > "$dir/n$i.pid"
  done
  for i in 0 1 2; do
    ok=0
    for _ in $(seq 1 300); do
      if curl -fsS "http://127.0.0.1:$((base + 200 + i))/healthz" >/dev/null 2>&1; then ok=1; break; fi
      sleep 0.1
    done
    [ "$ok" = 1 ] || { echo "n$i not healthy after 30 s; see $dir/n$i.log" >&2; exit 1; }
  done
  echo "nats://127.0.0.1:$base,nats://127.0.0.1:$((base + 1)),nats://127.0.0.1:$((base + 2))"
  ;;
stop)
  for i in 0 1 2; do
    f="$dir/n$i.pid"
    [ -f "$f" ] || continue
    pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
  ;;
*) echo "usage: $0 start|stop DIR [BASE_PORT]" >&2; exit 2 ;;
esac
