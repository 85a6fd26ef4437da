#!/usr/bin/env bash
# The projection writer's key pattern on sled (the node's store) and on fjall (an LSM tree),
# at each size given (default 10⁶ and 10⁷ events), one engine per process so each has its own
# peak RSS. Prints one JSON line per run. Needs only cargo (crates.io for the first build).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
cargo build --release --quiet --manifest-path "$here/store-compare/Cargo.toml"
binary="$here/store-compare/target/release/store-compare"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for events in "${sizes[@]}"; do
  for engine in sled fjall; do
    "$binary" "$engine" "$events" "$scratch/$engine"
    rm -rf "${scratch:?}/$engine"
  done
done
