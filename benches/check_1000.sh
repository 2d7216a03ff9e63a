#!/usr/bin/env bash
# Times `ripcord check DIR` over 1,000 runbook files: copies of every runbook in runbooks/ and tests/plans/,
# renamed, in one temporary directory. Uses hyperfine when it is installed (`apt-get install -y hyperfine`),
# else bash's `time` over a few runs. Target: under 1 s for the 1,000 files.
#
# Usage: benches/check_1000.sh [RUNS]      (builds target/release/ripcord first; RUNS defaults to 20)
set -euo pipefail

cd "$(dirname "$0")/.."
runs="${1:-20}"
cargo build --release --quiet --bin ripcord
bin="$PWD/target/release/ripcord"

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
sources=(runbooks/*.runbook tests/plans/*.runbook)
for i in $(seq 0 999); do
    src="${sources[i % ${#sources[@]}]}"
    cp "$src" "$dir/$(printf '%04d' "$i")-$(basename "$src")"
done
files=$(find "$dir" -name '*.runbook' | wc -l)
bytes=$(cat "$dir"/*.runbook | wc -c)
echo "checking $files files, $bytes bytes, from ${#sources[@]} distinct runbooks"

# Every copy must check clean, or the timing would include error rendering.
"$bin" check "$dir" >/dev/null

if command -v hyperfine >/dev/null; then
    hyperfine --warmup 3 --runs "$runs" --export-json "$dir/hyperfine.json" "$bin check $dir"
    mean=$(sed -n 's/.*"mean": *\([0-9.e-]*\).*/\1/p' "$dir/hyperfine.json" | head -1)
    awk -v b="$bytes" -v s="$mean" 'BEGIN { printf "mean %.3f s, %.1f MB/s\n", s, b / s / 1e6 }'
else
    for _ in 1 2 3; do
        time "$bin" check "$dir"
    done
fi
