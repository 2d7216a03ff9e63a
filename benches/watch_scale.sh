#!/usr/bin/env bash
# The live engine at scale, the workload the live-engine issue names: 1,000 runbooks of 10 triggers each,
# `evaluate every 15s`, sharing 100 distinct queries, against a real Prometheus (/usr/bin/prometheus scraping
# itself every 1s). Measures `watch`'s own steady-state CPU (after a warm-up that includes loading and
# compiling every runbook) and its resident memory. Prometheus's CPU is not counted.
# Usage: benches/watch_scale.sh [N=1000] [WARMUP=20] [MEASURE=60]   (cargo build --release first)
set -euo pipefail
N=${1:-1000}
WARMUP=${2:-20}
MEASURE=${3:-60}
BIN=${RIPCORD:-$(dirname "$0")/../target/release/ripcord}
BIN=$(realpath "$BIN")
work=$(mktemp -d)
trap 'kill $wpid $ppid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port=$(free_port)
wport=$(free_port)
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
  q=$((i % 100))
  {
    printf 'runbook rb%d {\n  evaluate every 15s\n' "$i"
    printf '  metric m = promql "sum(up) * %d"\n' "$q"
    for t in $(seq 1 10); do
      printf '  trigger t%d: m > %d for 5m -> level 1\n' "$t" "$((1000000 + t))"
    done
    printf '  level 1 {\n    step shell "true" timeout 5s\n  }\n}\n'
  } >"$work/books/rb$i.runbook"
done
(cd "$work" && exec "$BIN" watch books --prometheus "http://127.0.0.1:$port" --listen "127.0.0.1:$wport" \
  --state-dir state 2>"$work/watch.log") &
wpid=$!
sleep "$WARMUP"
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$wpid/stat"; }
before=$(cpu_ticks)
sleep "$MEASURE"
after=$(cpu_ticks)
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$wpid/status")
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$wpid/status")
metrics=$(curl -sf "http://127.0.0.1:$wport/metrics")
sum=$(grep '^ripcord_evaluation_duration_seconds_sum' <<<"$metrics" | awk '{print $2}')
count=$(grep '^ripcord_evaluation_duration_seconds_count' <<<"$metrics" | awk '{print $2}')
errors=$(grep '^ripcord_query_errors_total' <<<"$metrics" | awk '{print $2}' | head -1)
echo "runbooks: $N x 10 triggers, evaluate every 15s, 100 distinct queries"
echo "evaluations: $count, mean evaluation: $(python3 -c "print(f'{$sum/max($count,1)*1000:.1f} ms')"), query errors: ${errors:-0}"
python3 -c "print(f'watch CPU, steady state: {($after-$before)/$ticks:.2f} s over ${MEASURE} s = {100*($after-$before)/$ticks/$MEASURE:.2f}% of one core')"
echo "watch RSS: $((rss_kb / 1024)) MiB (peak $((hwm_kb / 1024)) MiB)"
