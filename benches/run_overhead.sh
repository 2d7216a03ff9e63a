#!/usr/bin/env bash
# Interpreter overhead per shell step: `ripcord run` of a level with N `true` steps against a plain shell
# script running the same N commands the same way (`sh -c true`, one process each), in one run each.
# Measured twice: with the journal's fsyncs (the real configuration) and with RIPCORD_JOURNAL_FSYNC=0 (for
# measurement only), so that the fsync cost is reported beside the interpreter's own overhead.
# Target: overhead without fsync at most max(2 ms, 0.2 x the plain per-step cost) per step.
#
# Usage: benches/run_overhead.sh [STEPS] [RUNS]     (builds target/release/ripcord; needs hyperfine)
set -euo pipefail

cd "$(dirname "$0")/.."
steps="${1:-200}"
runs="${2:-10}"
cargo build --release --quiet --bin ripcord
bin="$PWD/target/release/ripcord"

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
{
    echo "runbook overhead {"
    echo "  level 1 {"
    for _ in $(seq "$steps"); do echo '    step shell "true"'; done
    echo "  }"
    echo "}"
} >"$dir/rb.runbook"
{
    echo "#!/bin/sh"
    for _ in $(seq "$steps"); do echo "sh -c true"; done
} >"$dir/plain.sh"
chmod +x "$dir/plain.sh"

run="$bin run $dir/rb.runbook --level 1 --operator bench --reason bench --state-dir $dir/state"
# Each run gets a fresh state dir, so the journal directory does not grow across runs.
hyperfine --warmup 2 --runs "$runs" -N --export-json "$dir/h.json" \
    --prepare "rm -rf $dir/state" \
    --command-name plain "$dir/plain.sh" \
    --command-name ripcord "$run" \
    --command-name ripcord-nofsync "env RIPCORD_JOURNAL_FSYNC=0 $run" >&2

python3 - "$dir/h.json" "$steps" <<'PY'
import json, sys
res = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2])
plain, fs, nofs = res["plain"] / n * 1e3, res["ripcord"] / n * 1e3, res["ripcord-nofsync"] / n * 1e3
over = nofs - plain
limit = max(2.0, 0.2 * plain)
print(f"steps: {n}")
print(f"plain shell:                 {plain:.3f} ms/step")
print(f"ripcord, no fsync:           {nofs:.3f} ms/step  (overhead {over:.3f} ms/step, {nofs/plain:.2f}x; limit {limit:.2f} ms)")
print(f"ripcord, journal fsynced:    {fs:.3f} ms/step  (fsync cost {fs-nofs:.3f} ms/step)")
print("PASS" if over <= limit else "FAIL")
sys.exit(0 if over <= limit else 1)
PY
