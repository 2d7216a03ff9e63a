#!/usr/bin/env bash
# Journal append and run-start latency, the PostgreSQL store against the state dir, in one run (benches/store.rs).
# Starts a throwaway PostgreSQL 15 on loopback (as `nobody` when run as root; PostgreSQL's default durability:
# fsync and synchronous_commit on), then `cargo bench --bench store`. The state dir is made under the current
# directory (the repository's file system), not /tmp.
#
# Usage: benches/store.sh        (needs /usr/lib/postgresql/15/bin; prints `uptime` first for the load)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=/usr/lib/postgresql/15/bin
run() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; else "$@"; fi; }
dir="$(mktemp -d)"
chmod 755 "$dir"
mkdir "$dir/data" "$dir/sock"
[ "$(id -u)" = 0 ] && chown 65534:65534 "$dir/data" "$dir/sock"
port=$(( 20000 + RANDOM % 20000 ))
run "$bin/initdb" -D "$dir/data" -U ripcord --auth=trust -E UTF8 >/dev/null
run "$bin/postgres" -D "$dir/data" -k "$dir/sock" -h 127.0.0.1 -p "$port" >"$dir/log" 2>&1 &
pg=$!
trap 'kill -INT $pg 2>/dev/null; wait $pg 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
sleep 0.3
uptime
RIPCORD_BENCH_PG="postgres://ripcord@127.0.0.1:$port/postgres?sslmode=disable" cargo bench --quiet --bench store
