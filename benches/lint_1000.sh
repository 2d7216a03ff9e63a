#!/usr/bin/env bash
# Times `ripcord lint DIR` over 1,000 runbook files. Two workloads, each 1,000 files in a temporary
# directory:
#   real     copies of the 7 runbooks of runbooks/ and tests/plans/ (the same files as check_1000.sh, about
#            5.6 KB each): what a repository of real runbooks costs, in each output format;
#   findings the same runbooks mixed with every lint fixture of tests/lint/ (the bad ones raise every rule),
#            so that the timing includes drawing about a thousand findings.
# Uses hyperfine when it is installed (`apt-get install -y hyperfine`), else bash's `time`.
# Target: under 1 s for the 1,000 files.
#
# Usage: benches/lint_1000.sh [RUNS]      (builds target/release/ripcord first; RUNS defaults to 20)
set -euo pipefail

cd "$(dirname "$0")/.."
runs="${1:-20}"
cargo build --release --quiet --bin ripcord
bin="$PWD/target/release/ripcord"

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

# fill DIR SOURCES...: 1,000 renamed copies of the sources, round robin.
fill() {
    local into="$1"
    shift
    local sources=("$@")
    mkdir -p "$into"
    for i in $(seq 0 999); do
        local src="${sources[i % ${#sources[@]}]}"
        cp "$src" "$into/$(printf '%04d' "$i")-$(basename "$(dirname "$src")")-$(basename "$src")"
    done
    local bytes findings
    bytes=$(cat "$into"/*.runbook | wc -c)
    findings=$("$bin" lint "$into" --format json | grep -o '"code":' | wc -l || true)
    echo "$(basename "$into"): 1000 files, $bytes bytes, from ${#sources[@]} distinct runbooks, $findings findings"
}
fill "$dir/real" runbooks/*.runbook tests/plans/*.runbook
fill "$dir/findings" runbooks/*.runbook tests/plans/*.runbook tests/lint/*/*.runbook

# Exit status 1 is expected for `findings`: the bad fixtures raise error-severity findings.
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 3 --runs "$runs" --ignore-failure --export-json "$dir/hyperfine.json" \
        -n "real, text" "$bin lint $dir/real --format text" \
        -n "real, json" "$bin lint $dir/real --format json" \
        -n "real, sarif" "$bin lint $dir/real --format sarif" \
        -n "real, github" "$bin lint $dir/real --format github" \
        -n "findings, text" "$bin lint $dir/findings --format text" \
        -n "findings, sarif" "$bin lint $dir/findings --format sarif"
else
    for workload in real findings; do
        for format in text json sarif github; do
            echo "$workload, --format $format"
            time "$bin" lint "$dir/$workload" --format "$format" >/dev/null 2>&1 || true
        done
    done
fi
