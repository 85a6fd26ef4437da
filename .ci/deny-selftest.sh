#!/usr/bin/env bash
# Proves `.ci/deny.sh --advisory-db PATH` really reads the copy at PATH: a database holding
# an advisory against a crate in Cargo.lock must fail the check and name the advisory; the
# same database without it must pass; a path that is no database must be refused by name.
# No network: the databases are made here.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

make_db() { # $1: dir, $2: the advisory is against `hex`, a dependency (1), or another crate (0)
    local package=hex
    [ "$2" = 1 ] || package=skill-ledger-selftest-absent
    mkdir -p "$1/crates/$package"
    cat > "$1/crates/$package/RUSTSEC-2026-9001.md" <<ADV
\`\`\`toml
[advisory]
id = "RUSTSEC-2026-9001"
package = "$package"
date = "2026-01-01"
url = "https://example.invalid/RUSTSEC-2026-9001"
categories = ["memory-corruption"]
keywords = []

[versions]
patched = []
\`\`\`

# Selftest advisory against every version of $package

Made by .ci/deny-selftest.sh; it is not a real advisory.
ADV
}

make_db "$work/flagged" 1
make_db "$work/clean" 0
if bash .ci/deny.sh --advisory-db "$work/flagged" > "$work/flagged.log" 2>&1; then
    echo "deny-selftest: a database with an advisory against hex passed" >&2
    cat "$work/flagged.log" >&2
    exit 1
fi
grep -q "RUSTSEC-2026-9001" "$work/flagged.log" || {
    echo "deny-selftest: the failing run does not name the advisory" >&2
    cat "$work/flagged.log" >&2
    exit 1
}
bash .ci/deny.sh --advisory-db "$work/clean" > "$work/clean.log" 2>&1 || {
    echo "deny-selftest: a database without advisories against our dependencies failed" >&2
    cat "$work/clean.log" >&2
    exit 1
}
if bash .ci/deny.sh --advisory-db "$work/nothing-here" > "$work/missing.log" 2>&1; then
    echo "deny-selftest: a missing database path was accepted" >&2
    exit 1
fi
grep -q "nothing-here" "$work/missing.log"
echo "deny-selftest: the local advisory database is read (flagged fails, clean passes, missing refused)"
