"""The Python `eventsourcing` library with its SQLite store, as a peer of
`skill-ledger bench ingest` in bench/compare.sh.

Ingest: an `Application` with one `Person` aggregate per certified subject (its first event
creates it with the 初级工 certification; the 中级工 certification is refused unless the
person holds the level below, as skill-ledger's domain checks). The client verifies every
Ed25519 signature first (PyNaCl, one worker process per core, working ahead of the writer),
then saves each batch of aggregates with one `Application.save` (one SQLite transaction).
The library opens SQLite in WAL mode and leaves `synchronous` at SQLite's default; the
script reads it back and requires FULL (2), under which every commit fsyncs the WAL before
it returns: acknowledged means durable, as in skill-ledger.

Rebuild: a new `Application` on the same file reads the whole notification log in order,
turns each record back into a domain event, and folds a projection (count per body and level).

Prints one JSON object.
"""

import argparse
import base64
import importlib.metadata
import json
import os
import sys
import uuid
from collections import Counter

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event

from common import PeakMemory, Timer, directory_bytes, read_header, verified_batches

SUBJECT_NAMESPACE = uuid.UUID("5b1c2d1e-5a4f-4c43-9d0b-6b696c6c6c65")


class Person(Aggregate):
    @staticmethod
    def create_id(subject, **_fields):
        return uuid.uuid5(SUBJECT_NAMESPACE, subject)

    @event("Certified")
    def __init__(self, subject, event_id, certificate_number, body, level, entry):
        self.subject = subject
        self.levels = [level]

    @event("Promoted")
    def promote(self, event_id, certificate_number, body, level, entry):
        self.levels.append(level)


LADDER = ["apprentice", "junior", "intermediate", "senior", "technician"]


class Ledger(Application):
    pass


def open_app(db_path):
    return Ledger(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": db_path,
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    )


def sqlite_synchronous(app):
    with app.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]
    return synchronous, journal_mode


def ingest(db_path, workload, batch_size, verify=True):
    app = open_app(db_path)
    synchronous, journal_mode = sqlite_synchronous(app)
    if synchronous != 2:
        raise SystemExit(f"SQLite synchronous is {synchronous}, not FULL (2)")
    events = 0
    with Timer() as timer:
        for batch in verified_batches(workload, batch_size, verify):
            people = {}
            for event_id, entry, body, level, subject, number in batch:
                subject_hex = subject.hex()
                fields = dict(
                    event_id=event_id.hex(),
                    certificate_number=number,
                    body=body,
                    level=level,
                    # The library's JSON transcoder carries text, not bytes.
                    entry=base64.b64encode(entry).decode(),
                )
                person = people.get(subject_hex)
                if person is None and level != "junior":
                    try:
                        person = app.repository.get(Person.create_id(subject_hex))
                    except AggregateNotFoundError:
                        person = None
                if person is None:
                    people[subject_hex] = Person(subject=subject_hex, **fields)
                    continue
                if LADDER.index(level) != LADDER.index(person.levels[-1]) + 1:
                    raise SystemExit(f"{number}: not the next level for {subject_hex}")
                person.promote(**fields)
                people[subject_hex] = person
            app.save(*people.values())
            events += len(batch)
    app.close()
    db_bytes = directory_bytes(os.path.dirname(db_path))
    return {
        "events": events,
        "seconds": timer.seconds,
        "events_per_s": events / timer.seconds,
        "bytes_per_event": db_bytes / events,
        "bytes_database": db_bytes,
        "sqlite_synchronous": synchronous,
        "sqlite_journal_mode": journal_mode,
    }


def rebuild(db_path, page=1000):
    counts = Counter()
    events = 0
    with Timer() as timer:
        app = open_app(db_path)
        start = 1
        while True:
            notifications = app.recorder.select_notifications(start=start, limit=page)
            if not notifications:
                break
            for notification in notifications:
                domain_event = app.mapper.to_domain_event(notification)
                counts[(domain_event.body, domain_event.level)] += 1
                events += 1
            start = notifications[-1].id + 1
        app.close()
    return {
        "events": events,
        "seconds": timer.seconds,
        "events_per_s": events / timer.seconds,
        "groups": len(counts),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True)
    parser.add_argument("--db", required=True, help="SQLite file (in a directory of its own)")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="diagnostic: skip the signature checks (the store's own rate)",
    )
    args = parser.parse_args()
    header = read_header(args.workload)
    with PeakMemory() as memory:
        appended = ingest(args.db, args.workload, args.batch, not args.no_verify)
    ingest_memory = memory.as_mib()
    with PeakMemory() as memory:
        rebuilt = rebuild(args.db)
    if rebuilt["events"] != header["events"]:
        raise SystemExit(f"rebuild read {rebuilt['events']} of {header['events']} events")
    json.dump(
        {
            "system": "eventsourcing" + (" (no verify)" if args.no_verify else ""),
            "library_version": importlib.metadata.version("eventsourcing"),
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
