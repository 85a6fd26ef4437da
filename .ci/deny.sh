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
#
# Offline, with a copy of the database: `.ci/deny.sh --advisory-db PATH` (or
# SKILL_LEDGER_ADVISORY_DB=PATH) checks advisories against the copy at PATH (a clone of
# github.com/rustsec/advisory-db, or the same files without .git) and nothing is fetched;
# a PATH that is not such a copy is an error naming it. .ci/deny-selftest.sh proves the
# path works: a copy holding an advisory against a dependency fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

advisory_db="${SKILL_LEDGER_ADVISORY_DB:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --advisory-db) advisory_db="${2:?--advisory-db needs a path}"; shift 2 ;;
        --advisory-db=*) advisory_db="${1#--advisory-db=}"; shift ;;
        *) echo "deny.sh: unknown argument $1 (expected --advisory-db PATH)" >&2; exit 2 ;;
    esac
done
if [ -n "$advisory_db" ]; then
    if [ ! -d "$advisory_db" ]; then
        echo "deny.sh: the advisory database $advisory_db is not a directory" >&2
        exit 2
    fi
    if [ ! -d "$advisory_db/crates" ]; then
        echo "deny.sh: $advisory_db is not a RustSec advisory database (no crates/ folder in it)" >&2
        exit 2
    fi
    advisory_db="$(cd "$advisory_db" && pwd)"
fi

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
if [ -n "$advisory_db" ]; then
    # cargo deny reads databases it cloned itself: clone the local copy (no network) into a
    # scratch db-path named by a config that differs from deny.toml only there.
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    source_repo="$advisory_db"
    if ! git -C "$advisory_db" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
        || [ "$(git -C "$advisory_db" rev-parse --show-toplevel)" != "$advisory_db" ]; then
        # Files without .git (an export): make them a repository cargo deny can clone.
        source_repo="$scratch/source"
        cp -r "$advisory_db" "$source_repo"
        git -C "$source_repo" init -q
        git -C "$source_repo" add -A
        git -C "$source_repo" -c user.name=deny -c user.email=deny@localhost \
            commit -q -m "advisory database copy" --allow-empty
    fi
    # Same URL as deny.toml, a scratch db-path: cargo deny names the copy's directory after
    # the URL; an offline run with the scratch path empty says which name it looks for.
    sed -e "s|^db-path = .*|db-path = \"$scratch/dbs\"|" deny.toml > "$scratch/deny.toml"
    name="$(cargo deny --all-features --offline --config "$scratch/deny.toml" \
        check --hide-inclusion-graph advisories 2>&1 | grep -o 'advisory-db-[0-9a-f]*' | head -1 || true)"
    if [ -z "$name" ]; then
        echo "deny.sh: cargo deny did not say where it reads the advisory database" >&2
        exit 1
    fi
    rm -rf "${scratch:?}/dbs/$name"
    git clone -q "$source_repo" "$scratch/dbs/$name"
    echo "advisory database: the local copy $advisory_db"
    cargo deny --all-features --offline --config "$scratch/deny.toml" \
        check --hide-inclusion-graph advisories
    exit $?
fi
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
# The database is on the machine now: check without fetching again (--offline).
cargo deny --all-features --offline check --hide-inclusion-graph advisories
