#!/usr/bin/env bash
# Simulation at scale, side by side in one run (docs/benchmarks.md, "Simulation at the speed of the disk"):
#  (a) 100 triggers over 1,000 samples each: `ripcord simulate` on the CSV file against `promtool test rules`
#      with ONE assertion per alert (what a user runs), process start included for both; the ratio.
#  (b) a month of 15s history for 100 metrics (17.3M samples) as CSV and as JSON Lines: `ripcord simulate`
#      (100 triggers) against `wc -l` on the same file, and ripcord's peak memory (`/usr/bin/time` max RSS).
#  (c) each reader's throughput in MB/s: a one-trigger runbook over the month files, and a promtool YAML file
#      of 2M samples written out value by value.
#
#   benches/stream_scale.sh                 # everything (generates ~1.3 GB in a temporary directory)
#   DAYS=3 benches/stream_scale.sh          # a shorter history
#   RUNS=10 BUILD=1 benches/stream_scale.sh # more runs; rebuild target/release/ripcord first
#
# The generated files go to $TMP_DIR (default: a new directory from mktemp, removed at the end), never
# into the repository.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
DAYS="${DAYS:-30}"
PROMTOOL="${PROMTOOL:-promtool}"
RIPCORD="${RIPCORD:-$PWD/target/release/ripcord}"
if [[ -n "${TMP_DIR:-}" ]]; then TMP="$TMP_DIR"; mkdir -p "$TMP"; else TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT; fi
if [[ ! -x "$RIPCORD" || -n "${BUILD:-}" ]]; then cargo build --release --quiet; fi

echo "machine: $(nproc) cores; $(uptime)"
echo "promtool: $("$PROMTOOL" --version 2>&1 | head -1)"

# measure NAME RUNS CMD...: wall time of CMD (stdout discarded), mean and min over RUNS; peak RSS of one run.
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
name, runs, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
ts = []
for _ in range(runs):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ts.append(time.perf_counter() - t0)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode()[-2000:])
        sys.exit(p.returncode)
rss = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
kb = int(rss.stderr.decode().strip().splitlines()[-1])
print(f"{name}\t{sum(ts)/len(ts):.4f}\t{min(ts):.4f}\t{kb}")
PY
}

RESULTS="$TMP/results.tsv"
: >"$RESULTS"

echo "== (a) 100 triggers x 1,000 samples"
python3 benches/promtool_workload.py generate --out "$TMP/a" >/dev/null
"$PROMTOOL" test rules "$TMP/a/workload.one.test.yml" >/dev/null
"$RIPCORD" simulate "$TMP/a/workload.runbook" --series "$TMP/a/workload.csv" --format json --prometheus-version 2 \
  >"$TMP/a/ripcord.json" 2>/dev/null
python3 benches/promtool_workload.py compare --out "$TMP/a" "$TMP/a/ripcord.json"
measure promtool_one_assertion_per_alert "$RUNS" "$PROMTOOL" test rules "$TMP/a/workload.one.test.yml" | tee -a "$RESULTS"
measure ripcord_csv "$RUNS" "$RIPCORD" simulate "$TMP/a/workload.runbook" --series "$TMP/a/workload.csv" \
  --format json --prometheus-version 2 | tee -a "$RESULTS"

echo "== (b) ${DAYS} days of 15s history, 100 metrics"
python3 benches/stream_workload.py --out "$TMP/b" --days "$DAYS"
ls -l "$TMP/b"
for f in month.csv month.jsonl; do
  cat "$TMP/b/$f" >/dev/null  # in the page cache for both
  measure "wc_l_$f" "$RUNS" wc -l "$TMP/b/$f" | tee -a "$RESULTS"
  measure "ripcord_$f" "$RUNS" "$RIPCORD" simulate "$TMP/b/month.runbook" --series "$TMP/b/$f" --format json | tee -a "$RESULTS"
  measure "reader_$f" "$RUNS" "$RIPCORD" simulate "$TMP/b/one.runbook" --series "$TMP/b/$f" --format json | tee -a "$RESULTS"
done

echo "== (c) promtool YAML, 100 series x 20,000 values written out"
python3 - "$TMP/c" <<'PY'
import os, sys
out = sys.argv[1]; os.makedirs(out, exist_ok=True)
with open(f"{out}/series.yml", "w") as f:
    f.write("interval: 15s\ninput_series:\n")
    for i in range(100):
        f.write(f"  - series: m{i:03d}\n    values: '" + " ".join(str((k * (i + 3)) % 9000 / 100) for k in range(20000)) + "'\n")
with open(f"{out}/one.runbook", "w") as f:
    f.write('runbook one {\n  evaluate every 15s\n  trigger t: m000 > 1000 -> level 1\n  level 1 "respond" {\n    step shell "true" timeout 1s\n  }\n}\n')
PY
measure reader_series.yml "$RUNS" "$RIPCORD" simulate "$TMP/c/one.runbook" --series "$TMP/c/series.yml" --format json | tee -a "$RESULTS"

echo "== summary"
python3 - "$RESULTS" "$TMP" <<'PY'
import os, sys
rows = {l.split("\t")[0]: l.split("\t")[1:] for l in open(sys.argv[1]) if l.strip()}
tmp = sys.argv[2]
mean = lambda k: float(rows[k][0])
rss = lambda k: int(rows[k][2]) * 1024
p, r = mean("promtool_one_assertion_per_alert"), mean("ripcord_csv")
print(f"(a) promtool {p*1000:.0f} ms, ripcord {r*1000:.1f} ms: {p/r:.0f}x (goal 1000x, bar 500x)")
for f in ("month.csv", "month.jsonl"):
    size = os.path.getsize(f"{tmp}/b/{f}")
    w, s = mean(f"wc_l_{f}"), mean(f"ripcord_{f}")
    print(f"(b) {f}: {size/1e6:.0f} MB; wc -l {w:.3f} s, ripcord {s:.3f} s = {s/w:.1f}x wc -l (target 10x); "
          f"peak RSS {rss(f'ripcord_{f}')/1e6:.0f} MB = {rss(f'ripcord_{f}')/size:.3f} of the file (target < 0.25)")
for k, path in (("reader_month.csv", f"{tmp}/b/month.csv"), ("reader_month.jsonl", f"{tmp}/b/month.jsonl"),
                ("reader_series.yml", f"{tmp}/c/series.yml")):
    size = os.path.getsize(path)
    print(f"(c) {k[7:]}: {size/1e6/mean(k):.0f} MB/s ({size/1e6:.0f} MB in {mean(k):.3f} s, one trigger)")
PY
