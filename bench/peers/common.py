"""Shared parts of the comparison peers: reading the workload file written by
`skill-ledger bench workload`, verifying its Ed25519 signatures on all cores, and measuring
peak memory.

The workload file is JSON Lines: a header line, then one line per event (the format is
documented in crates/cli/src/bench_workload.rs and docs/benchmarks.md).
"""

import base64
import json
import multiprocessing
import os
import threading
import time

import psutil
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

FORMAT = "skill-ledger/bench-workload/v1"


def read_header(path):
    with open(path, encoding="utf-8") as f:
        header = json.loads(f.readline())
    if header.get("format") != FORMAT:
        raise SystemExit(f"{path}: not a {FORMAT} file")
    return header


def raw_batches(path, batch_size):
    """Yields lists of raw event lines (the header skipped), batch_size at a time."""
    with open(path, encoding="utf-8") as f:
        f.readline()
        batch = []
        for line in f:
            batch.append(line)
            if len(batch) == batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


_keys = {}


def verify_batch(prefix, lines, verify=True):
    """Parses and verifies one batch (in a worker process); `prefix` is the signing context
    and origin, `"skill-ledger/event/v1\n" + origin + "\n"`; `verify=False` only parses (a
    diagnostic: the store's own rate without the signature checks). Returns one tuple per event:
    (event_id, entry, body, level, subject, certificate_number), all checked. Raises on the
    first bad signature, like a store that refuses the batch."""
    out = []
    for line in lines:
        e = json.loads(line)
        key = _keys.get(e["public_key"])
        if key is None:
            key = _keys[e["public_key"]] = VerifyKey(bytes.fromhex(e["public_key"]))
        message = base64.b64decode(e["message"])
        entry = base64.b64decode(e["entry"])
        signature = bytes.fromhex(e["signature"])
        # The signed message is the event part of the entry under the context and origin
        # prefix: check that the stored entry carries this event and this signature.
        if not message.startswith(prefix) or not entry.endswith(message[len(prefix) :]):
            raise ValueError(f"event {e['i']}: the message is not the entry's event")
        if signature not in entry:
            raise ValueError(f"event {e['i']}: the signature is not the entry's")
        try:
            if verify:
                key.verify(message, signature)
        except BadSignatureError:
            raise ValueError(f"event {e['i']}: bad signature") from None
        out.append(
            (
                bytes.fromhex(e["event_id"]),
                entry,
                e["body"],
                e["level"],
                bytes.fromhex(e["subject"]),
                e["certificate_number"],
            )
        )
    return out


def verified_batches(path, batch_size, verify=True, processes=None, ahead=4):
    """Yields verified batches in order. Verification runs in a pool of worker processes
    (one per core by default) and works up to `ahead` batches ahead of the consumer, so it
    overlaps with the consumer's writes while memory stays bounded."""
    header = read_header(path)
    prefix = (header["signing_context"] + header["origin"] + "\n").encode()
    processes = processes or os.cpu_count() or 1
    with multiprocessing.Pool(processes) as pool:
        pending = []
        for batch in raw_batches(path, batch_size):
            pending.append(pool.apply_async(verify_batch, (prefix, batch, verify)))
            if len(pending) >= ahead:
                yield pending.pop(0).get()
        for result in pending:
            yield result.get()


class PeakMemory:
    """Samples, every `interval` seconds, the resident memory of this process and its
    children (RSS), plus the proportional set size (PSS) of other processes given by pid
    (a database server and its backends), and keeps the peak of the sum."""

    def __init__(self, server_pid=None, interval=0.2):
        self.server_pid = server_pid
        self.interval = interval
        self.peak_client = 0
        self.peak_server = 0
        self.peak_total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self, pid):
        try:
            p = psutil.Process(pid)
            return [p] + p.children(recursive=True)
        except psutil.Error:
            return []

    def sample(self):
        client = 0
        for p in self._tree(os.getpid()):
            try:
                client += p.memory_info().rss
            except psutil.Error:
                pass
        server = 0
        if self.server_pid:
            for p in self._tree(self.server_pid):
                try:
                    server += p.memory_full_info().pss
                except psutil.Error:
                    pass
        self.peak_client = max(self.peak_client, client)
        self.peak_server = max(self.peak_server, server)
        self.peak_total = max(self.peak_total, client + server)

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()

    def as_mib(self):
        mib = 1024 * 1024
        return {
            "peak_rss_mb": self.peak_total / mib,
            "peak_rss_client_mb": self.peak_client / mib,
            "peak_pss_server_mb": self.peak_server / mib,
        }


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started


def directory_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total
