"""PostgreSQL as an append-only event table: the usual "event store on Postgres" design,
as a peer of `skill-ledger bench ingest` in bench/compare.sh.

Ingest: the client reads the workload written by `skill-ledger bench workload`, verifies every
Ed25519 signature (PyNaCl, in one worker process per core, working ahead of the writer), and
appends each batch of events with one COPY in one transaction. The server runs with
fsync = on and synchronous_commit = on, so COMMIT returns only after the WAL is flushed to
disk: an event is acknowledged only once it is durable, as in skill-ledger.

Rebuild: a new connection reads every event in log order (server-side cursor) and folds a
projection (count per body and level) in Python.

With `--binary`, ingest and rebuild are done instead by the compiled client
(bench/peers/postgres-rust: binary COPY, batch verification with ed25519-dalek on every core),
measured the same way (its memory counted with this process's children).

Prints one JSON object.
"""

import argparse
import json
import subprocess
import sys
from collections import Counter

import psycopg

from common import PeakMemory, Timer, read_header, verified_batches

SCHEMA = """
DROP TABLE IF EXISTS events;
CREATE TABLE events (
    event_id  bytea PRIMARY KEY,
    position  bigserial UNIQUE NOT NULL,
    body      text NOT NULL,
    level     text NOT NULL,
    entry     bytea NOT NULL
);
"""


def prepare(conninfo):
    """Creates the empty event table (for either client) and returns the server's durability
    settings, refusing a server that would acknowledge before the WAL is flushed."""
    with psycopg.connect(conninfo) as conn:
        conn.execute(SCHEMA)
        conn.commit()
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("fsync", "synchronous_commit", "wal_sync_method", "full_page_writes")
        }
    if settings["fsync"] != "on" or settings["synchronous_commit"] != "on":
        raise SystemExit(f"the server is not durable: {settings}")
    return settings


def ingest(conninfo, workload, batch_size, verify=True):
    with psycopg.connect(conninfo) as conn:
        wal_start = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        conn.commit()
        events = 0
        with Timer() as timer:
            for batch in verified_batches(workload, batch_size, verify):
                with conn.cursor() as cur:
                    with cur.copy("COPY events (event_id, body, level, entry) FROM STDIN") as copy:
                        for event_id, entry, body, level, _subject, _number in batch:
                            copy.write_row((event_id, body, level, entry))
                conn.commit()
                events += len(batch)
        wal_end = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        wal_bytes = conn.execute(
            "SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", (str(wal_end), str(wal_start))
        ).fetchone()[0]
        conn.execute("CHECKPOINT")
        table_bytes = conn.execute("SELECT pg_total_relation_size('events')").fetchone()[0]
        heap_bytes = conn.execute("SELECT pg_relation_size('events')").fetchone()[0]
        conn.commit()
    return {
        "events": events,
        "seconds": timer.seconds,
        "events_per_s": events / timer.seconds,
        "bytes_per_event": table_bytes / events,
        "bytes_table_and_indexes": table_bytes,
        "bytes_heap": heap_bytes,
        "wal_bytes_per_event": float(wal_bytes) / events,
    }


def rebuild(conninfo):
    counts = Counter()
    events = 0
    with Timer() as timer:
        with psycopg.connect(conninfo) as conn:
            with conn.cursor(name="replay") as cur:
                cur.itersize = 10_000
                cur.execute("SELECT position, body, level, entry FROM events ORDER BY position")
                for _position, body, level, _entry in cur:
                    counts[(body, level)] += 1
                    events += 1
    return {
        "events": events,
        "seconds": timer.seconds,
        "events_per_s": events / timer.seconds,
        "groups": len(counts),
    }


def run_binary(command):
    """Runs the compiled client; it prints one JSON object."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True)
    parser.add_argument("--conninfo", required=True)
    parser.add_argument("--server-pid", type=int, help="postmaster pid, for its memory")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="diagnostic: skip the signature checks (the store's own rate)",
    )
    parser.add_argument("--binary", help="the compiled client (bench/peers/postgres-rust)")
    args = parser.parse_args()
    header = read_header(args.workload)
    settings = prepare(args.conninfo)
    with PeakMemory(args.server_pid) as memory:
        if args.binary:
            command = [args.binary, "ingest", "--workload", args.workload,
                       "--conninfo", args.conninfo, "--batch", str(args.batch)]
            appended = run_binary(command + (["--no-verify"] if args.no_verify else []))
        else:
            appended = ingest(args.conninfo, args.workload, args.batch, not args.no_verify)
    ingest_memory = memory.as_mib()
    with PeakMemory(args.server_pid) as memory:
        if args.binary:
            rebuilt = run_binary([args.binary, "rebuild", "--conninfo", args.conninfo])
        else:
            rebuilt = rebuild(args.conninfo)
    if rebuilt["events"] != header["events"]:
        raise SystemExit(f"rebuild read {rebuilt['events']} of {header['events']} events")
    json.dump(
        {
            "system": ("postgresql-rust" if args.binary else "postgresql")
            + (" (no verify)" if args.no_verify else ""),
            "events": header["events"],
            "batch": args.batch,
            "verified": not args.no_verify,
            "ingest": {**appended, **ingest_memory, "settings": settings},
            "rebuild": {**rebuilt, **memory.as_mib()},
            "server_version": psycopg.connect(args.conninfo).info.server_version,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
