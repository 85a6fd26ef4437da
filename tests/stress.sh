#!/usr/bin/env bash
# The whole test suite, RUNS times in a row (default 20), while every core is kept busy by a
# CPU hog this script starts and stops: the suite must pass every time on a loaded machine.
#
#   tests/stress.sh [RUNS]        STRESS_HOGS=N (default: the number of cores)
#
# The suite is built once first (not timed, not loaded). Each run is `cargo test --workspace
# --no-fail-fast`, so one failing test binary does not hide the others; no retries. Every
# failing test is reported by name with its run number, the full output of a failing run is
# kept under target/stress/, and the script exits 1 if any run failed. The hogs are bounded:
# each is a busy loop under `timeout` (RUNS × 15 minutes at most) and all are killed when the
# script ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-20}"
case "$runs" in
    '' | *[!0-9]*) echo "stress.sh: RUNS must be a whole number, got '$runs'" >&2; exit 2 ;;
esac
hogs="${STRESS_HOGS:-$(nproc)}"
out_dir="target/stress"
mkdir -p "$out_dir"
summary="$out_dir/summary.txt"
: > "$summary"

echo "== building the suite once"
cargo test --workspace --no-run -q

hog_pids=()
stop_hogs() {
    for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop_hogs EXIT
hog_seconds=$((runs * 900))
for _ in $(seq "$hogs"); do
    timeout "$hog_seconds" bash -c 'while :; do :; done' &
    hog_pids+=("$!")
done
echo "== $hogs CPU hogs running (pids ${hog_pids[*]}, at most ${hog_seconds}s)"

failed_runs=0
for run in $(seq "$runs"); do
    log="$out_dir/run-$run.log"
    started=$(date +%s)
    if cargo test --workspace --no-fail-fast > "$log" 2>&1; then
        status=passed
        rm -f "$log"
    else
        status=FAILED
        failed_runs=$((failed_runs + 1))
        # `test <name> ... FAILED` lines name each failing test; a binary that crashed
        # or could not start is named by cargo's `error: test failed, to rerun pass …`.
        grep -E '^test .* \.\.\. FAILED$' "$log" | sed -E "s/^test (.*) \.\.\. FAILED$/run $run: \1/" >> "$summary" || true
        grep -E '^error: test failed, to rerun pass' "$log" | sed -E "s/^error: test failed, to rerun pass (.*)$/run $run: binary \1/" >> "$summary" || true
    fi
    echo "run $run/$runs: $status in $(( $(date +%s) - started ))s"
done

echo "== $((runs - failed_runs)) of $runs runs passed under $hogs CPU hogs"
if [ "$failed_runs" -gt 0 ]; then
    echo "failures (also in $summary; full logs in $out_dir/run-N.log):"
    cat "$summary"
    exit 1
fi
