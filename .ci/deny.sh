#!/usr/bin/env bash
# The dependency policy (deny.toml): licences, bans and sources always; security advisories
# whenever the RustSec advisory database can be had.
#
# Licences, bans and sources need only Cargo.lock and crates.io, so they are checked on
# every run and fail it on a violation. Advisories need the RustSec database, a git
# repository on GitHub: if it can be fetched (or a copy is already under
# $CARGO_HOME/advisory-dbs), advisories are checked too and fail the run on a vulnerable
# dependency; if it cannot, the run says "advisories: NOT CHECKED" and does not fail,
# since a machine without GitHub can judge nothing there. SKILL_LEDGER_REQUIRE_ADVISORIES=1
# makes a missing database an error (for a machine that does reach GitHub).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2
if ! cargo deny --version 2>/dev/null | grep -q "$CARGO_DENY_VERSION"; then
    echo "== installing cargo-deny $CARGO_DENY_VERSION"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
fi

echo "== cargo deny: licenses bans sources"
cargo deny --all-features check --hide-inclusion-graph licenses bans sources

export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
db_dir="$CARGO_HOME/advisory-dbs"
echo "== cargo deny: advisories"
if timeout 60 cargo deny fetch db >/dev/null 2>&1; then
    echo "advisory database fetched"
elif compgen -G "$db_dir/advisory-db-*" >/dev/null; then
    echo "advisory database not reachable; using the copy in $db_dir"
else
    echo "advisories: NOT CHECKED (the RustSec advisory database could not be fetched" \
        "from GitHub and no copy is in $db_dir)"
    if [ "${SKILL_LEDGER_REQUIRE_ADVISORIES:-0}" = 1 ]; then
        exit 1
    fi
    exit 0
fi
cargo deny --all-features check --hide-inclusion-graph --disable-fetch advisories
