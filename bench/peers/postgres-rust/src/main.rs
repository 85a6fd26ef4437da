//! PostgreSQL as an append-only event table, fed by a compiled client: the strongest design a
//! team could build on PostgreSQL for this workload, as a peer of `skill-ledger bench ingest`
//! in bench/compare.sh.
//!
//! `ingest` appends to the empty `events` table that postgres_store.py creates before it
//! runs this client (it also checks the server's durability settings): a reader thread
//! parses the workload written by `skill-ledger bench workload` and checks each entry carries
//! its signed message and signature; a verifier stage checks every batch with
//! `ed25519_dalek::verify_batch` (the standard batch equation, the crate the node uses), split
//! over every core, and runs up to four batches ahead of the writer; the writer appends each
//! batch with one binary `COPY` in one transaction. The server runs with `fsync = on` and
//! `synchronous_commit = on`, so `COMMIT` returns only once the WAL is flushed: an event is
//! acknowledged only once it is durable, as in skill-ledger.
//! `--no-verify` skips the signature checks (what the store itself costs).
//!
//! `rebuild`: every event in log order through a binary `COPY … TO STDOUT`, folded into a
//! count per body and level.
//!
//! Each command prints one JSON object on standard output.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::sync::mpsc::{sync_channel, Receiver};
use std::time::Instant;

use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use postgres::binary_copy::{BinaryCopyInWriter, BinaryCopyOutIter};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;
use postgres::{Client, NoTls};
use serde_json::{json, Value};

const FORMAT: &str = "skill-ledger/bench-workload/v1";

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// One event of the workload, parsed and checked against its entry.
struct Event {
    event_id: Vec<u8>,
    entry: Vec<u8>,
    body: String,
    level: String,
    message: Vec<u8>,
    signature: Signature,
    key: VerifyingKey,
}

fn field<'a>(line: &'a Value, name: &str, index: usize) -> Result<&'a str, Failure> {
    line.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("event {index}: no string member {name:?}").into())
}

fn parse(
    text: &str,
    index: usize,
    prefix: &[u8],
    keys: &mut HashMap<String, VerifyingKey>,
) -> Result<Event, Failure> {
    let line: Value = serde_json::from_str(text)?;
    let base64 = base64::engine::general_purpose::STANDARD;
    let entry = base64.decode(field(&line, "entry", index)?)?;
    let message = base64.decode(field(&line, "message", index)?)?;
    let signature_bytes: [u8; 64] = hex::decode(field(&line, "signature", index)?)?
        .try_into()
        .map_err(|_| format!("event {index}: the signature is not 64 bytes"))?;
    // The stored entry must carry exactly this event and this signature.
    let event = message
        .strip_prefix(prefix)
        .ok_or_else(|| format!("event {index}: the message lacks the signing prefix"))?;
    if !entry.ends_with(event) {
        return Err(format!("event {index}: the message is not the entry's event").into());
    }
    if !entry
        .windows(64)
        .any(|window| window == signature_bytes.as_slice())
    {
        return Err(format!("event {index}: the signature is not the entry's").into());
    }
    let key_hex = field(&line, "public_key", index)?;
    let key = match keys.get(key_hex) {
        Some(key) => *key,
        None => {
            let bytes: [u8; 32] = hex::decode(key_hex)?
                .try_into()
                .map_err(|_| format!("event {index}: the public key is not 32 bytes"))?;
            let key = VerifyingKey::from_bytes(&bytes)?;
            keys.insert(key_hex.to_string(), key);
            key
        }
    };
    Ok(Event {
        event_id: hex::decode(field(&line, "event_id", index)?)?,
        entry,
        body: field(&line, "body", index)?.to_string(),
        level: field(&line, "level", index)?.to_string(),
        message,
        signature: Signature::from_bytes(&signature_bytes),
        key,
    })
}

/// Checks every signature of `batch` with the standard batch equation, the batch split into
/// one part per core; a batch that fails is checked one by one to name the bad event.
fn verify(batch: &[Event], first: usize, cores: usize) -> Result<(), Failure> {
    let part = batch.len().div_ceil(cores.max(1)).max(1);
    let failed = std::thread::scope(|scope| {
        let checks: Vec<_> = batch
            .chunks(part)
            .map(|events| {
                scope.spawn(move || {
                    let messages: Vec<&[u8]> =
                        events.iter().map(|e| e.message.as_slice()).collect();
                    let signatures: Vec<Signature> = events.iter().map(|e| e.signature).collect();
                    let keys: Vec<VerifyingKey> = events.iter().map(|e| e.key).collect();
                    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_err()
                })
            })
            .collect();
        checks.into_iter().any(|check| check.join().unwrap_or(true))
    });
    if failed {
        for (offset, event) in batch.iter().enumerate() {
            if event
                .key
                .verify_strict(&event.message, &event.signature)
                .is_err()
            {
                return Err(format!("event {}: bad signature", first + offset).into());
            }
        }
    }
    Ok(())
}

/// Batches of parsed (and, with `check`, verified) events, in order, prepared up to four
/// batches ahead of the consumer on threads of their own.
fn batches(
    path: &str,
    batch_size: usize,
    check: bool,
) -> Result<Receiver<Result<Vec<Event>, Failure>>, Failure> {
    let file = std::fs::File::open(path).map_err(|error| format!("{path}: {error}"))?;
    let mut lines = BufReader::new(file).lines();
    let header: Value = serde_json::from_str(&lines.next().ok_or("the workload is empty")??)?;
    if header.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(format!("{path}: not a {FORMAT} file").into());
    }
    let prefix = format!(
        "{}{}\n",
        header["signing_context"].as_str().unwrap_or_default(),
        header["origin"].as_str().unwrap_or_default()
    )
    .into_bytes();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let (send, receive) = sync_channel(4);
    std::thread::spawn(move || {
        let mut keys = HashMap::new();
        let mut batch = Vec::with_capacity(batch_size);
        let mut first = 0;
        let mut index = 0;
        let send_batch = |batch: Vec<Event>, first: usize| -> bool {
            let checked = if check {
                verify(&batch, first, cores).map(|()| batch)
            } else {
                Ok(batch)
            };
            send.send(checked).is_ok()
        };
        for line in lines {
            let parsed = line
                .map_err(Failure::from)
                .and_then(|text| parse(&text, index, &prefix, &mut keys));
            match parsed {
                Ok(event) => batch.push(event),
                Err(error) => {
                    let _ = send.send(Err(error));
                    return;
                }
            }
            index += 1;
            if batch.len() == batch_size {
                if !send_batch(std::mem::take(&mut batch), first) {
                    return;
                }
                first = index;
            }
        }
        if !batch.is_empty() {
            send_batch(batch, first);
        }
    });
    Ok(receive)
}

fn ingest(
    conninfo: &str,
    workload: &str,
    batch_size: usize,
    check: bool,
) -> Result<Value, Failure> {
    let mut client = Client::connect(conninfo, NoTls)?;
    let wal_start: String = client
        .query_one("SELECT pg_current_wal_lsn()::text", &[])?
        .get(0);
    let types = [Type::BYTEA, Type::TEXT, Type::TEXT, Type::BYTEA];
    let started = Instant::now();
    let mut events = 0u64;
    for batch in batches(workload, batch_size, check)?.iter() {
        let batch = batch?;
        let mut transaction = client.transaction()?;
        let sink = transaction
            .copy_in("COPY events (event_id, body, level, entry) FROM STDIN (FORMAT binary)")?;
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for event in &batch {
            writer.write(&[&event.event_id, &event.body, &event.level, &event.entry])?;
        }
        writer.finish()?;
        transaction.commit()?;
        events += batch.len() as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    let wal_bytes: f64 = client
        .query_one(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)::float8",
            &[&wal_start],
        )?
        .get(0);
    client.batch_execute("CHECKPOINT")?;
    let table_bytes: i64 = client
        .query_one("SELECT pg_total_relation_size('events')", &[])?
        .get(0);
    let heap_bytes: i64 = client
        .query_one("SELECT pg_relation_size('events')", &[])?
        .get(0);
    Ok(json!({
        "events": events,
        "seconds": seconds,
        "events_per_s": events as f64 / seconds,
        "bytes_per_event": table_bytes as f64 / events.max(1) as f64,
        "bytes_table_and_indexes": table_bytes,
        "bytes_heap": heap_bytes,
        "wal_bytes_per_event": wal_bytes / events.max(1) as f64,
        "verified": check,
    }))
}

fn rebuild(conninfo: &str) -> Result<Value, Failure> {
    let mut client = Client::connect(conninfo, NoTls)?;
    let started = Instant::now();
    let reader = client.copy_out(
        "COPY (SELECT body, level FROM events ORDER BY position) TO STDOUT (FORMAT binary)",
    )?;
    let mut rows = BinaryCopyOutIter::new(reader, &[Type::TEXT, Type::TEXT]);
    let mut counts: HashMap<(String, String), u64> = HashMap::new();
    let mut events = 0u64;
    while let Some(row) = rows.next()? {
        let body: &str = row.try_get(0)?;
        let level: &str = row.try_get(1)?;
        *counts
            .entry((body.to_string(), level.to_string()))
            .or_default() += 1;
        events += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({
        "events": events,
        "seconds": seconds,
        "events_per_s": events as f64 / seconds,
        "groups": counts.len(),
    }))
}

fn usage() -> ! {
    eprintln!(
        "usage: postgres-rust-peer ingest --workload FILE --conninfo TEXT [--batch N] [--no-verify]\n       postgres-rust-peer rebuild --conninfo TEXT"
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|at| args.get(at + 1))
            .cloned()
    };
    let Some(conninfo) = value("--conninfo") else {
        usage()
    };
    let result = match args.first().map(String::as_str) {
        Some("ingest") => {
            let Some(workload) = value("--workload") else {
                usage()
            };
            let batch = match value("--batch").map(|text| text.parse::<usize>()) {
                None => 1_000,
                Some(Ok(batch)) if batch > 0 => batch,
                Some(_) => usage(),
            };
            let check = !args.iter().any(|arg| arg == "--no-verify");
            ingest(&conninfo, &workload, batch, check)
        }
        Some("rebuild") => rebuild(&conninfo),
        _ => usage(),
    };
    match result {
        Ok(report) => println!("{report}"),
        Err(error) => {
            eprintln!("postgres-rust-peer: {error}");
            std::process::exit(1);
        }
    }
}
