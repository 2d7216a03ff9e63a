#!/usr/bin/env bash
# Compare ripcord's trigger simulation with promtool (Prometheus 2.42) on one workload:
# 100 alerts t000..t099, each over its own series x000..x099 of 1,000 samples at 15s.
#
#   benches/promtool_compare.sh            # generate, time promtool, time ripcord, compare
#   RUNS=10 benches/promtool_compare.sh    # more timing runs (default 3)
#   SKIP_RIPCORD=1 benches/promtool_compare.sh    # promtool half only
#   BUILD=1 benches/promtool_compare.sh           # rebuild target/release/ripcord first
#
# Outputs go to benches/out/ (git-ignored). Timing uses hyperfine when installed
# (apt-get install -y hyperfine) unless NO_HYPERFINE=1, else a Python wall-clock loop.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=benches/out
RUNS="${RUNS:-3}"
PROMTOOL="${PROMTOOL:-promtool}"
RIPCORD="${RIPCORD:-target/release/ripcord}"
mkdir -p "$OUT"

python3 benches/promtool_workload.py generate --out "$OUT"

# time_cmd NAME CMD...: run CMD $RUNS times, print mean/min wall time, keep the last stdout in $OUT/NAME.out
time_cmd() {
  local name="$1"; shift
  if [[ -z "${NO_HYPERFINE:-}" ]] && command -v hyperfine >/dev/null 2>&1; then
    hyperfine --runs "$RUNS" --export-json "$OUT/$name.hyperfine.json" --command-name "$name" \
      "$(printf '%q ' "$@")"
    "$@" >"$OUT/$name.out"
  else
    python3 - "$RUNS" "$OUT/$name.out" "$name" "$@" <<'PY'
import subprocess, sys, time
runs, out, name, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
ts = []
for _ in range(runs):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ts.append(time.perf_counter() - t0)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode()[-4000:])
        sys.exit(p.returncode)
open(out, "wb").write(p.stdout)
print(f"{name}: mean {sum(ts)/len(ts):.3f}s  min {min(ts):.3f}s  over {runs} runs")
PY
  fi
}

echo "== promtool test rules ($("$PROMTOOL" --version 2>&1 | head -1))"
# A passing test means promtool confirms every asserted firing state (100 alerts x 1,000 evaluations).
"$PROMTOOL" test rules "$OUT/workload.test.yml" >"$OUT/promtool.check.txt" 2>&1 || {
  echo "promtool disagrees with the expected firing times:"; tail -40 "$OUT/promtool.check.txt"; exit 1; }
echo "promtool confirms all expected firing times"
time_cmd promtool "$PROMTOOL" test rules "$OUT/workload.test.yml"

if [[ "${SKIP_RIPCORD:-}" == 1 ]]; then
  echo "SKIP_RIPCORD=1: not running ripcord"
  exit 0
fi

echo "== ripcord simulate"
if [[ ! -x "$RIPCORD" || -n "${BUILD:-}" ]]; then
  cargo build --release --quiet || { echo "cargo build --release failed; cannot run ripcord"; exit 1; }
fi
if ! "$RIPCORD" simulate --help >/dev/null 2>&1; then
  echo "ripcord has no working 'simulate' subcommand yet; only the promtool half ran"
  exit 0
fi
# ripcord reads the same input_series; the 100,000 promtool assertions are left out of its copy, since they
# are promtool's way of reporting, not part of the workload.
python3 -c 'import sys; s=open(sys.argv[1]).read(); i=s.find("    alert_rule_test:"); open(sys.argv[2],"w").write(s if i < 0 else s[:i])' \
  "$OUT/workload.test.yml" "$OUT/workload.series.yml"
time_cmd ripcord "$RIPCORD" simulate "$OUT/workload.runbook" --series "$OUT/workload.series.yml" --format json --prometheus-version 2
python3 benches/promtool_workload.py compare --out "$OUT" "$OUT/ripcord.out"
