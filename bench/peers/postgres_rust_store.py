"""Runs the compiled PostgreSQL peer (bench/peers/postgres-rust: binary COPY, batch
verification with ed25519-dalek on every core) for bench/compare.sh, measuring its memory the
way the other peers are measured (this process's children plus the server's PSS), and prints
one JSON object in the shape of postgres_store.py's.
"""

import argparse
import json
import subprocess
import sys

from common import PeakMemory, read_header


def run(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--workload", required=True)
    parser.add_argument("--conninfo", required=True)
    parser.add_argument("--server-pid", type=int, help="postmaster pid, for its memory")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="diagnostic: skip the signature checks (the store's own rate)",
    )
    args = parser.parse_args()
    header = read_header(args.workload)
    ingest = [args.binary, "ingest", "--workload", args.workload, "--conninfo", args.conninfo,
              "--batch", str(args.batch)]
    if args.no_verify:
        ingest.append("--no-verify")
    with PeakMemory(args.server_pid) as memory:
        appended = run(ingest)
    ingest_memory = memory.as_mib()
    with PeakMemory(args.server_pid) as memory:
        rebuilt = run([args.binary, "rebuild", "--conninfo", args.conninfo])
    if appended["events"] != header["events"] or rebuilt["events"] != header["events"]:
        raise SystemExit(
            f"appended {appended['events']}, rebuilt {rebuilt['events']} of {header['events']}"
        )
    json.dump(
        {
            "system": "postgresql-rust" + (" (no verify)" if args.no_verify else ""),
            "events": header["events"],
            "batch": args.batch,
            "verified": not args.no_verify,
            "ingest": {**appended, **ingest_memory},
            "rebuild": {**rebuilt, **memory.as_mib()},
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
