#!/usr/bin/env bash
# Fetches Prometheus 3.5 and its promtool (Debian unstable's packages) into a private cache folder without
# changing the system: a private sources list, private apt state and cache, `apt-get download`, `dpkg -x`.
# Prints `export PROMTOOL3=...` and `export PROMETHEUS3=...` lines for the caller to eval.
#
# Usage: eval "$(.ci/prometheus3.sh [CACHE_DIR])"   (default CACHE_DIR: .cache-prom3 in the repository)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${1:-$root/.cache-prom3}"
tree="$cache/root"
promtool="$tree/usr/bin/promtool"
prometheus="$tree/usr/bin/prometheus"

if [ ! -x "$promtool" ] || [ ! -x "$prometheus" ]; then
  mkdir -p "$cache/lists/partial" "$cache/apt/archives/partial" "$cache/debs" "$tree"
  # The mirror the system uses, the unstable suite.
  cat >"$cache/unstable.list" <<'LIST'
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian unstable main
LIST
  apt_opts=(
    -o "Dir::Etc::sourcelist=$cache/unstable.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$cache/lists"
    -o "Dir::Cache=$cache/apt"
    -o "APT::Get::List-Cleanup=0"
  )
  apt-get "${apt_opts[@]}" -qq update >&2
  (cd "$cache/debs" && apt-get "${apt_opts[@]}" -qq download promtool prometheus >&2)
  for deb in "$cache"/debs/*.deb; do
    dpkg -x "$deb" "$tree"
  done
  rm -rf "$cache/lists" "$cache/apt" "$cache/debs"
fi

"$promtool" --version >&2
echo "export PROMTOOL3=$promtool"
echo "export PROMETHEUS3=$prometheus"
