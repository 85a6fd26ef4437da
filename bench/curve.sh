#!/usr/bin/env bash
# The cost curve: ingest and both rebuilds at each log size, one run each, into OUT.
#
# Usage: bench/curve.sh OUT N [N ...]     e.g. bench/curve.sh bench/results/curve 10000 100000
#
# For each N: `bench ingest --events N --dir D --json`, the ledger's bytes on disk, then
# `rebuild --dir D --json` and `rebuild --dir D --verify-signatures --json`, each under
# `/usr/bin/time -v` (CPU and peak RSS). D is removed after each N. Draw the chart and the
# table with `python3 bench/curve_chart.py OUT OUT.svg`. Run nothing else meanwhile: the
# figures are the machine's.
set -euo pipefail

if [ "$#" -lt 2 ]; then
  sed -n 2,9p "$0" >&2
  exit 2
fi
out=$1
shift
bin=${SKILL_LEDGER:-target/release/skill-ledger}
[ -x "$bin" ] || { echo "no $bin: run cargo build --release -p skill-ledger-cli" >&2; exit 2; }
command -v /usr/bin/time > /dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
mkdir -p "$out"
scratch=${CURVE_DIR:-/tmp/skill-ledger-curve}

for n in "$@"; do
  rm -rf "$scratch"
  echo "N=$n: ingest" >&2
  "$bin" bench ingest --events "$n" --dir "$scratch" --json > "$out/ingest-N$n.json"
  du -sb "$scratch" > "$out/du-N$n.txt"
  echo "N=$n: rebuild" >&2
  /usr/bin/time -v "$bin" rebuild --dir "$scratch" --json \
    > "$out/rebuild-N$n.json" 2> "$out/rebuild-N$n.time"
  echo "N=$n: rebuild, re-verifying" >&2
  /usr/bin/time -v "$bin" rebuild --dir "$scratch" --verify-signatures --json \
    > "$out/rebuild-verified-N$n.json" 2> "$out/rebuild-verified-N$n.time"
  rm -rf "$scratch"
done
