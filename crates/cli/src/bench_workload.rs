//! `skill-ledger bench workload`: the signed workload of `bench ingest`, written to a file that
//! other systems can ingest (`bench/compare.sh` feeds it to PostgreSQL and to the Python
//! `eventsourcing` library).
//!
//! The workload is deterministic: the origin is the Chongqing ledger's (`skill-ledger/50`), the
//! 16 bodies' keys and every event are fixed by their index, and Ed25519 signing is
//! deterministic, so `bench ingest --events N` signs byte-for-byte the same N entries as this
//! file holds (a test checks it).
//!
//! File format (JSON Lines, UTF-8, one object per line):
//!
//! * line 1, the header: `{"format": "skill-ledger/bench-workload/v1", "origin": …,
//!   "events": N, "signing_context": "skill-ledger/event/v1\n", "bodies":
//!   [{"registration_number": …, "public_key": hex}, …]}`. The bodies are the evaluation bodies
//!   that `bench ingest` registers (signed by its ledger's authority, whose key is made afresh
//!   per ledger and is therefore not part of the workload).
//! * then N lines, event `i` in order: `{"i": i, "event_id": hex (16 bytes), "body":
//!   registration number, "level": "junior" | "intermediate", "subject": hex (32 bytes),
//!   "certificate_number": …, "entry": base64 (the entry bytes, docs/formats.md Part 3),
//!   "public_key": hex (32 bytes), "signature": hex (64 bytes), "message": base64}`, where
//!   `message` is exactly the signed message, `"skill-ledger/event/v1\n" ‖ origin ‖ "\n" ‖
//!   bincode(Event)`, so a peer verifies exactly what skill-ledger verifies.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context};
use base64::Engine as _;
use clap::Args;
use ed25519_dalek::SigningKey;
use serde_json::json;
use skill_ledger_domain::{signing_message, EventKind, RegistrationNumber, SignedEvent, Signer};
use skill_ledger_node::InitOptions;

use crate::bench::{sign_to_file, Workload, BENCH_BODIES};
use crate::output::{print_json, progress_bar};
use crate::CliResult;

/// The header's `format` value.
pub const WORKLOAD_FORMAT: &str = "skill-ledger/bench-workload/v1";

#[derive(Args)]
pub struct WorkloadArgs {
    /// Number of events (the same N as `bench ingest --events N`).
    #[arg(long, default_value = "100000")]
    pub events: u64,
    /// File to write (JSON Lines; replaced if it exists).
    #[arg(long)]
    pub out: PathBuf,
}

/// The workload `bench ingest` pushes: the Chongqing origin and the 16 benchmark bodies (the
/// same registration numbers and key seeds as `bench ingest` registers).
pub(crate) fn standard_workload() -> anyhow::Result<Workload> {
    let mut bodies = Vec::new();
    for b in 0..BENCH_BODIES {
        let number: RegistrationNumber = format!("S0000500{:05}", 900 + b).parse()?;
        let key = SigningKey::from_bytes(&[(b as u8).wrapping_add(40); 32]);
        bodies.push((number, key));
    }
    Ok(Workload {
        origin: InitOptions::chongqing().importing_history().origin,
        bodies,
    })
}

pub fn run(args: WorkloadArgs, json: bool) -> CliResult {
    if args.events == 0 || args.events > 100_000_000 {
        return Err(anyhow!("--events must be between 1 and 100000000").into());
    }
    let started = Instant::now();
    let bytes = write_workload(&args.out, args.events, json)?;
    let value = json!({
        "benchmark": "workload",
        "format": WORKLOAD_FORMAT,
        "events": args.events,
        "out": args.out.display().to_string(),
        "bytes": bytes,
        "seconds": started.elapsed().as_secs_f64(),
    });
    if json {
        print_json(&value);
    } else {
        println!(
            "wrote {} events ({} bytes) to {}",
            args.events,
            bytes,
            args.out.display()
        );
    }
    Ok(())
}

/// Signs `events` events on all cores and writes the workload file; returns its size in bytes.
pub(crate) fn write_workload(out: &PathBuf, events: u64, quiet: bool) -> anyhow::Result<u64> {
    let workload = standard_workload()?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let bar = progress_bar(events, "signing", quiet);
    let (signed_file, _) = sign_to_file(&workload, events, threads, &bar)?;
    bar.finish_and_clear();
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let bodies: Vec<_> = workload
        .bodies
        .iter()
        .map(|(number, key)| {
            json!({
                "registration_number": number.to_string(),
                "public_key": hex::encode(key.verifying_key().to_bytes()),
            })
        })
        .collect();
    let header = json!({
        "format": WORKLOAD_FORMAT,
        "origin": workload.origin,
        "events": events,
        "signing_context": "skill-ledger/event/v1\n",
        "bodies": bodies,
    });
    writeln!(writer, "{header}")?;
    let base64 = base64::engine::general_purpose::STANDARD;
    let mut reader = BufReader::with_capacity(1 << 20, signed_file);
    let bar = progress_bar(events, "writing", quiet);
    for i in 0..events {
        let mut length = [0u8; 4];
        reader.read_exact(&mut length)?;
        let mut entry = vec![0u8; u32::from_le_bytes(length) as usize];
        reader.read_exact(&mut entry)?;
        let (signed, offset) = SignedEvent::from_entry_with_offset(&entry)
            .map_err(|error| anyhow!("workload event {i}: {error}"))?;
        let EventKind::LevelCertified(certified) = &signed.event.kind else {
            return Err(anyhow!("workload event {i} is not a certification"));
        };
        let Signer::Body(body) = signed.signer else {
            return Err(anyhow!("workload event {i} is not signed by a body"));
        };
        let line = json!({
            "i": i,
            "event_id": signed.event.id.to_hex(),
            "body": body.to_string(),
            "level": certified.level.id(),
            "subject": hex::encode(certified.subject.0),
            "certificate_number": certified.certificate_number.to_string(),
            "entry": base64.encode(&entry),
            "public_key": hex::encode(signed.public_key),
            "signature": hex::encode(signed.signature),
            "message": base64.encode(signing_message(&workload.origin, &entry[offset..])),
        });
        writeln!(writer, "{line}")?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    writer.flush()?;
    Ok(writer.get_ref().metadata()?.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, VerifyingKey};
    use serde_json::Value;

    fn read_lines(path: &PathBuf) -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    fn hex_bytes<const N: usize>(value: &Value) -> [u8; N] {
        hex::decode(value.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    }

    /// The file parses, every signature verifies (strictly) over the given message with the
    /// given key, the message is the one skill-ledger builds from the entry, and the keys are
    /// the header's bodies.
    #[test]
    fn every_signature_in_the_file_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("workload.jsonl");
        write_workload(&path, 64, true).unwrap();
        let lines = read_lines(&path);
        assert_eq!(lines.len(), 65);
        let header = &lines[0];
        assert_eq!(header["format"], WORKLOAD_FORMAT);
        assert_eq!(header["origin"], "skill-ledger/50");
        assert_eq!(header["events"], 64);
        let body_keys: Vec<(String, String)> = header["bodies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["registration_number"].as_str().unwrap().to_string(),
                    b["public_key"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(body_keys.len(), BENCH_BODIES as usize);
        let base64 = base64::engine::general_purpose::STANDARD;
        for (i, line) in lines[1..].iter().enumerate() {
            assert_eq!(line["i"], i as u64);
            let entry = base64.decode(line["entry"].as_str().unwrap()).unwrap();
            let message = base64.decode(line["message"].as_str().unwrap()).unwrap();
            let key = VerifyingKey::from_bytes(&hex_bytes::<32>(&line["public_key"])).unwrap();
            let signature = Signature::from_bytes(&hex_bytes::<64>(&line["signature"]));
            key.verify_strict(&message, &signature).unwrap();
            let (signed, offset) = SignedEvent::from_entry_with_offset(&entry).unwrap();
            assert_eq!(
                message,
                signing_message("skill-ledger/50", &entry[offset..])
            );
            assert!(message.starts_with(b"skill-ledger/event/v1\nskill-ledger/50\n"));
            assert_eq!(signed.signature, hex_bytes::<64>(&line["signature"]));
            assert_eq!(signed.event.id.to_hex(), line["event_id"].as_str().unwrap());
            let body = line["body"].as_str().unwrap();
            let listed = body_keys.iter().find(|(number, _)| number == body).unwrap();
            assert_eq!(listed.1, line["public_key"].as_str().unwrap());
            let level = if i % 2 == 0 { "junior" } else { "intermediate" };
            assert_eq!(line["level"], level);
        }
        // A tampered message no longer verifies.
        let mut message = base64
            .decode(lines[1]["message"].as_str().unwrap())
            .unwrap();
        *message.last_mut().unwrap() ^= 1;
        let key = VerifyingKey::from_bytes(&hex_bytes::<32>(&lines[1]["public_key"])).unwrap();
        let signature = Signature::from_bytes(&hex_bytes::<64>(&lines[1]["signature"]));
        assert!(key.verify_strict(&message, &signature).is_err());
    }

    /// `bench ingest --events N --dir D` appends byte-for-byte the entries of the file, after
    /// the ledger's own: the peers of `bench/compare.sh` and skill-ledger ingest the same
    /// events.
    #[test]
    fn bench_ingest_appends_exactly_the_file_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("workload.jsonl");
        let events = 40;
        write_workload(&path, events, true).unwrap();
        let ledger = dir.path().join("ledger");
        crate::bench::run(
            crate::bench::BenchCommand::Ingest {
                events,
                dir: Some(ledger.clone()),
                window: 16,
                cache_mb: skill_ledger_node::DEFAULT_PROJECTION_CACHE_MB,
                batch_events: 8,
            },
            true,
        )
        .map_err(|failure| failure.error)
        .unwrap();
        let (node, _) = skill_ledger_node::Node::open(&ledger).unwrap();
        // The ledger's own entries (establishment, adopted policy and catalogue, the bodies)
        // come first.
        let first = node.entry_count() - events;
        assert!(first > BENCH_BODIES);
        let base64 = base64::engine::general_purpose::STANDARD;
        for (i, line) in read_lines(&path)[1..].iter().enumerate() {
            let entry = base64.decode(line["entry"].as_str().unwrap()).unwrap();
            let stored = node
                .read_event(first + i as u64)
                .unwrap()
                .to_entry()
                .unwrap();
            assert_eq!(stored, entry, "event {i}");
        }
        node.close().unwrap();
    }
}
