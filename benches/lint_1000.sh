#!/usr/bin/env bash
# Times `ripcord lint DIR` over 1,000 runbook files, in each output format: copies of every runbook in
# runbooks/ and tests/plans/, and of every lint fixture in tests/lint/ (the bad ones raise every rule, so
# the timing includes rendering findings), renamed, in one temporary directory. Uses hyperfine when it is
# installed (`apt-get install -y hyperfine`), else bash's `time`. Target: under 1 s for the 1,000 files.
#
# Usage: benches/lint_1000.sh [RUNS]      (builds target/release/ripcord first; RUNS defaults to 20)
set -euo pipefail

cd "$(dirname "$0")/.."
runs="${1:-20}"
cargo build --release --quiet --bin ripcord
bin="$PWD/target/release/ripcord"

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/runbooks"
sources=(runbooks/*.runbook tests/plans/*.runbook tests/lint/*/*.runbook)
for i in $(seq 0 999); do
    src="${sources[i % ${#sources[@]}]}"
    name="$(basename "$(dirname "$src")")-$(basename "$src")"
    cp "$src" "$dir/runbooks/$(printf '%04d' "$i")-$name"
done
files=$(find "$dir/runbooks" -name '*.runbook' | wc -l)
bytes=$(cat "$dir"/runbooks/*.runbook | wc -c)
findings=$("$bin" lint "$dir/runbooks" --format json | grep -o '"code":' | wc -l || true)
echo "linting $files files, $bytes bytes, from ${#sources[@]} distinct runbooks: $findings findings"

# Exit status 1 is expected: the bad fixtures raise error-severity findings.
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 3 --runs "$runs" --ignore-failure --export-json "$dir/hyperfine.json" \
        -n text "$bin lint $dir/runbooks --format text" \
        -n json "$bin lint $dir/runbooks --format json" \
        -n sarif "$bin lint $dir/runbooks --format sarif" \
        -n github "$bin lint $dir/runbooks --format github"
else
    for format in text json sarif github; do
        echo "--format $format"
        time "$bin" lint "$dir/runbooks" --format "$format" >/dev/null 2>&1 || true
    done
fi
