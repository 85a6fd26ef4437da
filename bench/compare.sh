#!/usr/bin/env bash
# skill-ledger against the usual alternatives, on the same signed workload with the same
# durability (fsync before an event is acknowledged):
#
#   1. skill-ledger        `bench ingest` (sequencer, log, Merkle tree, checkpoint, projections)
#   2. postgresql          Debian's PostgreSQL, an append-only event table, fsync = on,
#                          synchronous_commit = on, COPY of 1,000 events per transaction,
#                          Ed25519 verification in the client (bench/peers/postgres_store.py)
#   3. postgresql-rust     the same server and table fed by a compiled client: binary COPY,
#                          batch verification with the node's ed25519-dalek on every core,
#                          ahead of the writer (bench/peers/postgres-rust, its own package, run by
#                          postgres_store.py --binary)
#   4. eventsourcing       the Python `eventsourcing` library (PyPI) with its SQLite store,
#                          SQLite synchronous = FULL (bench/peers/eventsourcing_store.py)
#
# Every peer runs twice, verifying the signatures and not (`(no verify)`: what the store
# itself costs), unless --verify-modes says otherwise.
#
# Usage: bench/compare.sh [--events N] [--only SYSTEM[,SYSTEM]] [--batch B] [--keep]
#                         [--verify-modes verify,no-verify] [--no-verify (= no-verify only)]
#
# On a fresh Debian machine it installs what is missing (Debian's postgresql and time, and the
# Python packages in a virtual environment under bench/.venv), builds skill-ledger (release),
# writes the workload with `skill-ledger bench workload`, runs each system, prints a table of
# appends/s, rebuild events/s, bytes on disk per event and peak RSS with the ratios to
# skill-ledger, and writes it to bench/results/compare-N<events>-<date>.{json,md}.
# The default N is 100,000; the issue's figures are for larger N (e.g. --events 1000000).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
EVENTS=100000
ONLY="skill-ledger,postgresql,postgresql-rust,eventsourcing"
BATCH=1000
KEEP=0
MODES="verify,no-verify"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --events) EVENTS=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --batch) BATCH=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --verify-modes) MODES=$2; shift 2 ;;
        --no-verify) MODES="no-verify"; shift ;;
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
wants() { [[ ",$ONLY," == *",$1,"* ]]; }
# The peer flags of each verification mode asked for: "" (verify) and/or "--no-verify".
PEER_MODES=()
[[ ",$MODES," == *",verify,"* ]] && PEER_MODES+=("")
[[ ",$MODES," == *",no-verify,"* ]] && PEER_MODES+=("--no-verify")
if [[ ${#PEER_MODES[@]} -eq 0 ]]; then echo "compare.sh: --verify-modes takes verify and/or no-verify" >&2; exit 2; fi
say() { echo "compare.sh: $*" >&2; }

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

# --- install what is missing ------------------------------------------------------------
APT_PACKAGES=()
[[ -x /usr/bin/time ]] || APT_PACKAGES+=(time)
if { wants postgresql || wants postgresql-rust; } && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    APT_PACKAGES+=(postgresql)
fi
if [[ ${#APT_PACKAGES[@]} -gt 0 ]]; then
    say "installing ${APT_PACKAGES[*]} from Debian's packages"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${APT_PACKAGES[@]}" >/dev/null
fi

PYTHON=python3
PY_PACKAGES=(eventsourcing==9.5.6 "psycopg[binary]==3.3.9" pynacl==1.6.2 psutil==7.2.2)
if ! $PYTHON -c "import eventsourcing, psycopg, nacl, psutil" 2>/dev/null; then
    VENV="$ROOT/bench/.venv"
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "creating $VENV"
        if ! python3 -m venv "$VENV" 2>/dev/null; then
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
            python3 -m venv "$VENV"
        fi
    fi
    PYTHON="$VENV/bin/python"
    if ! $PYTHON -c "import eventsourcing, psycopg, nacl, psutil" 2>/dev/null; then
        say "installing ${PY_PACKAGES[*]} from PyPI"
        $PYTHON -m pip install --quiet "${PY_PACKAGES[@]}"
    fi
fi

# --- build and write the workload -------------------------------------------------------
say "building skill-ledger (release)"
(cd "$ROOT" && cargo build --release --quiet -p skill-ledger-cli)
BIN="$ROOT/target/release/skill-ledger"
if wants postgresql-rust; then
    say "building the compiled PostgreSQL peer (release)"
    cargo build --release --quiet --manifest-path "$ROOT/bench/peers/postgres-rust/Cargo.toml"
    PG_RUST="$ROOT/bench/peers/postgres-rust/target/release/postgres-rust-peer"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/skill-ledger-compare.XXXXXX")
chmod 755 "$WORK"
PG_CTL=""
PGDATA="$WORK/postgresql"
as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
    if [[ -n "$PG_CTL" && -f "$PGDATA/postmaster.pid" ]]; then
        as_postgres "$PG_CTL" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
    fi
    if [[ $KEEP -eq 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE=$(loadavg)
WORKLOAD="$WORK/workload.jsonl"
say "writing the workload: $EVENTS events"
"$BIN" bench workload --events "$EVENTS" --out "$WORKLOAD" --json >"$WORK/workload.json"

RESULTS=()

# --- 1. skill-ledger --------------------------------------------------------------------
if wants skill-ledger; then
    say "skill-ledger: bench ingest"
    # `bench ingest` signs the same workload itself (deterministic: the same bytes as the file,
    # which a test of `bench workload` checks) and keeps the ledger in --dir for the rebuild.
    "$BIN" bench ingest --events "$EVENTS" --dir "$WORK/skill-ledger" --json \
        >"$WORK/skill-ledger-ingest.json"
    say "skill-ledger: rebuild"
    /usr/bin/time -v -o "$WORK/skill-ledger-rebuild.time" \
        "$BIN" rebuild --dir "$WORK/skill-ledger" --json >"$WORK/skill-ledger-rebuild.json"
    $PYTHON - "$WORK" >"$WORK/result-skill-ledger.json" <<'EOF'
import json, re, sys
work = sys.argv[1]
ingest = json.load(open(f"{work}/skill-ledger-ingest.json"))
rebuild = json.load(open(f"{work}/skill-ledger-rebuild.json"))
time_v = open(f"{work}/skill-ledger-rebuild.time").read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_v).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", time_v).group(1)
parts = [float(p) for p in wall.split(":")]
wall_s = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
json.dump({
    "system": "skill-ledger",
    "events": ingest["events"],
    "ingest": {
        "events": ingest["events"],
        "seconds": ingest["seconds"],
        "events_per_s": ingest["events_per_s"],
        "bytes_per_event": ingest["bytes_per_event"],
        "peak_rss_mb": ingest["peak_rss_mb"],
        "entry_bytes_mean": ingest["entry_bytes_mean"],
        "commit_p99_ms": ingest["commit_p99_ms"],
        "batch_verify_per_s": ingest["batch_verify_per_s"],
    },
    "rebuild": {
        # Every entry of the log (the workload's and the ledger's own few), including opening
        # the node; the command's wall time is given too.
        "events": rebuild["entries"],
        "seconds": rebuild["seconds"],
        "events_per_s": rebuild["entries"] / rebuild["seconds"],
        "command_seconds": wall_s,
        "peak_rss_mb": rss_kb / 1024,
        "identical": rebuild["identical"],
    },
}, sys.stdout)
print()
EOF
    RESULTS+=("$WORK/result-skill-ledger.json")
fi

# --- 2. and 3. PostgreSQL, fed from Python and from a compiled client ---------------------
if wants postgresql || wants postgresql-rust; then
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    PG_CTL="$PGBIN/pg_ctl"
    mkdir -p "$PGDATA"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$PGDATA"; fi
    say "postgresql: a private cluster in $PGDATA ($("$PGBIN/postgres" --version))"
    as_postgres "$PGBIN/initdb" -D "$PGDATA" -U bench --auth=trust -E UTF8 >/dev/null
    # Only a Unix socket in the data directory: no port to collide with.
    as_postgres "$PG_CTL" -D "$PGDATA" -w -l "$PGDATA/server.log" \
        -o "-c listen_addresses='' -k $PGDATA -c fsync=on -c synchronous_commit=on -c full_page_writes=on" \
        start >/dev/null
    PG_PID=$(head -1 "$PGDATA/postmaster.pid")
    CONNINFO="host=$PGDATA user=bench dbname=postgres"
    for mode in "${PEER_MODES[@]}"; do
        tag=${mode:+-no-verify}
        # Each run starts from an empty table (the peers drop and create it).
        if wants postgresql; then
            say "postgresql (Python) ${mode:-verifying}: ingest and rebuild"
            (cd "$ROOT/bench/peers" && $PYTHON postgres_store.py --workload "$WORKLOAD" \
                --conninfo "$CONNINFO" --server-pid "$PG_PID" --batch "$BATCH" $mode) \
                >"$WORK/result-postgresql$tag.json"
            RESULTS+=("$WORK/result-postgresql$tag.json")
        fi
        if wants postgresql-rust; then
            say "postgresql (compiled client) ${mode:-verifying}: ingest and rebuild"
            (cd "$ROOT/bench/peers" && $PYTHON postgres_store.py --binary "$PG_RUST" \
                --workload "$WORKLOAD" --conninfo "$CONNINFO" --server-pid "$PG_PID" \
                --batch "$BATCH" $mode) >"$WORK/result-postgresql-rust$tag.json"
            RESULTS+=("$WORK/result-postgresql-rust$tag.json")
        fi
    done
    as_postgres "$PG_CTL" -D "$PGDATA" -m fast stop >/dev/null
fi

# --- 4. eventsourcing (SQLite) ----------------------------------------------------------
if wants eventsourcing; then
    for mode in "${PEER_MODES[@]}"; do
        tag=${mode:+-no-verify}
        rm -rf "$WORK/eventsourcing"
        mkdir -p "$WORK/eventsourcing"
        say "eventsourcing ${mode:-verifying}: ingest and rebuild"
        (cd "$ROOT/bench/peers" && $PYTHON eventsourcing_store.py --workload "$WORKLOAD" \
            --db "$WORK/eventsourcing/ledger.sqlite" --batch "$BATCH" $mode) \
            >"$WORK/result-eventsourcing$tag.json"
        RESULTS+=("$WORK/result-eventsourcing$tag.json")
    done
fi

# --- the table --------------------------------------------------------------------------
LOAD_AFTER=$(loadavg)
mkdir -p "$ROOT/bench/results"
OUT="$ROOT/bench/results/compare-N${EVENTS}-$(date -u +%Y%m%dT%H%M%SZ)"
$PYTHON "$ROOT/bench/compare_table.py" --out "$OUT" --workload-info "$WORK/workload.json" \
    --load-before "$LOAD_BEFORE" --load-after "$LOAD_AFTER" \
    --commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "${RESULTS[@]}"
say "wrote $OUT.json and $OUT.md"
