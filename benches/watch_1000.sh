#!/usr/bin/env bash
# `ripcord watch` with 1,000 runbooks, each with its own query (1,000 distinct queries per second), against a
# real Prometheus (/usr/bin/prometheus, scraping itself every 1s). Prints the mean evaluation time (all due
# runbooks at once, queries included) and watch's CPU and memory after DURATION seconds.
# Usage: benches/watch_1000.sh [N=1000] [DURATION=20]   (release build: cargo build --release first)
set -euo pipefail
N=${1:-1000}
DURATION=${2:-20}
BIN=${RIPCORD:-$(dirname "$0")/../target/release/ripcord}
BIN=$(realpath "$BIN")
work=$(mktemp -d)
trap 'kill $wpid $ppid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
wport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ['127.0.0.1:$port']
YML
/usr/bin/prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$port" --log.level=warn >"$work/prom.log" 2>&1 &
ppid=$!
until curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null; do sleep 0.2; done
mkdir "$work/books"
for i in $(seq 1 "$N"); do
  printf 'runbook rb%d {\n  evaluate every 1s\n  metric m = promql "sum(up) * %d"\n  trigger t: m > 1e12 for 1m -> level 1\n  level 1 {\n    step shell "true"\n  }\n}\n' "$i" "$i" >"$work/books/rb$i.runbook"
done
(cd "$work" && exec "$BIN" watch books --prometheus "http://127.0.0.1:$port" --listen "127.0.0.1:$wport" \
  --state-dir state 2>"$work/watch.log") &
wpid=$!
sleep "$DURATION"
metrics=$(curl -sf "http://127.0.0.1:$wport/metrics")
sum=$(grep '^ripcord_evaluation_duration_seconds_sum' <<<"$metrics" | awk '{print $2}')
count=$(grep '^ripcord_evaluation_duration_seconds_count' <<<"$metrics" | awk '{print $2}')
errors=$(grep '^ripcord_query_errors_total' <<<"$metrics" | awk '{print $2}')
read -r cpu rss < <(ps -o times=,rss= -p "$wpid")
echo "runbooks: $N, distinct queries per evaluation: $N, duration: ${DURATION}s"
echo "evaluations: $count, mean evaluation: $(python3 -c "print(f'{$sum/$count*1000:.1f} ms')"), query errors: $errors"
echo "watch CPU: ${cpu}s over ${DURATION}s, RSS: $((rss / 1024)) MiB"
