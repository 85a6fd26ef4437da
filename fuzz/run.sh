#!/usr/bin/env bash
# Runs each fuzz target (or the ones named) for SECONDS with cargo fuzz on the stable
# toolchain (`--sanitizer none`: AddressSanitizer needs nightly; safe Rust needs no ASan to
# find panics, overflows and failed assertions, which is what the targets check).
#
#   fuzz/run.sh SECONDS [TARGET...]
#
# Starts from the corpus in the repository (fuzz/corpus/<target>/, read only) and writes
# what the fuzzer finds new to fuzz/scratch/<target>/ (ignored by git; merge it into the
# corpus with `cargo fuzz cmin` when worth keeping). A crash is copied into
# fuzz/corpus/<target>/ as crash-<sha1>, so `cargo test -p skill-ledger-hostile` replays it
# from then on, and printed in base64 so a CI log is enough to reproduce it. Exits 1 if
# any target crashed.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for file in fuzz_targets/*.rs; do
        targets+=("$(basename "$file" .rs)")
    done
fi

CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

echo "== building the fuzz targets (release, debug assertions, overflow checks)"
cargo fuzz build --sanitizer none

crashed=()
for target in "${targets[@]}"; do
    echo "== fuzz $target for ${seconds}s"
    mkdir -p "scratch/$target" "artifacts/$target"
    find "artifacts/$target" -name 'crash-*' -delete
    status=0
    # -timeout: an input running over 10 s is a hang; -rss_limit_mb: memory is bounded.
    cargo fuzz run --sanitizer none "$target" "scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"scratch/$target.log" 2>&1 || status=$?
    grep -E '^stat::(number_of_executed_units|new_units_added)|^Done ' "scratch/$target.log" || true
    if [ "$status" -ne 0 ]; then
        crashed+=("$target")
        tail -n 40 "scratch/$target.log"
        for crash in artifacts/"$target"/*; do
            [ -f "$crash" ] || continue
            name="crash-$(sha1sum "$crash" | cut -c1-40)"
            cp "$crash" "corpus/$target/$name"
            echo "-- $target: saved fuzz/corpus/$target/$name (base64 below)"
            base64 -w0 "$crash"
            echo
        done
    fi
done

if [ "${#crashed[@]}" -gt 0 ]; then
    echo "fuzz: crashes in ${crashed[*]}; replay with: cargo test -p skill-ledger-hostile --test corpus"
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash"
