//! The projection writer's key pattern under `skill-ledger bench ingest`, on sled (the store
//! the node uses, configured as the node configures it) and on fjall (an LSM tree), one engine
//! per run: `store-compare sled|fjall EVENTS DIR`.
//!
//! Per event, as the writer does for the benchmark's workload: one new credential key
//! (`c` ‖ 22-byte certificate number, an 8-byte entry index) written on its own, and the
//! person (`p` ‖ 32-byte subject) in the batch with the cursor: written once with one 35-byte
//! holding, then again with two. Subjects are pseudonyms, spread over the key space; values
//! are pseudo-random (incompressible, as hashes and serials are). Batches of 1,024 events;
//! no fsync per batch (the node's log is the record; the projections are replayed from it).
//! At the end every engine is flushed and a sample of keys is read back and checked.

use std::path::{Path, PathBuf};
use std::time::Instant;

const BATCH: u64 = 1_024;
/// sled's page cache as the node sets it (`[projections] cache_mb` default).
const SLED_CACHE: u64 = 128 << 20;
/// fjall's block cache: half of sled's, so the comparison does not favour it on memory.
const FJALL_CACHE: u64 = 64 << 20;

fn status_kib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0.0)
}

/// CPU seconds of the whole process (all threads, user and system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of proc(5) (utime, stime), counted from 3 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn disk_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => disk_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

/// SplitMix64: the pseudo-random bytes of values and subjects.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn fill(seed: u64, out: &mut Vec<u8>, len: usize) {
    let mut state = seed;
    while out.len() < len {
        state = mix(state);
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
}

fn credential_key(event: u64) -> Vec<u8> {
    // Body, year, level, serial: what a certificate number is made of, as digits.
    let subject = event / 2;
    let number = format!(
        "S{:010}{:04}{}{:06}",
        900 + subject % 16,
        2019 + (event % 2) * 5,
        event % 2 + 1,
        subject / 16
    );
    let mut key = Vec::with_capacity(23);
    key.push(b'c');
    key.extend_from_slice(&number.as_bytes()[..22]);
    key
}

fn person_key(subject: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(33);
    key.push(b'p');
    fill(subject ^ 0x5eed, &mut key, 33);
    key
}

fn person_value(event: u64) -> Vec<u8> {
    let mut value = Vec::with_capacity(70);
    fill(event / 2, &mut value, 35 * (1 + (event % 2) as usize));
    value
}

trait Store {
    fn write_batch(&mut self, first: u64, end: u64);
    fn finish(&mut self);
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
}

struct Sled {
    db: sled::Db,
    tree: sled::Tree,
}

impl Store for Sled {
    fn write_batch(&mut self, first: u64, end: u64) {
        let mut batch = sled::Batch::default();
        for event in first..end {
            self.tree
                .insert(credential_key(event), &event.to_le_bytes())
                .expect("sled insert");
            batch.insert(person_key(event / 2), person_value(event));
        }
        batch.insert(b"m/cursor".as_ref(), &end.to_le_bytes());
        self.tree.apply_batch(batch).expect("sled batch");
    }
    fn finish(&mut self) {
        self.db.flush().expect("sled flush");
    }
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.tree.get(key).expect("sled get").map(|v| v.to_vec())
    }
}

struct Fjall {
    db: fjall::Database,
    keyspace: fjall::Keyspace,
}

impl Store for Fjall {
    fn write_batch(&mut self, first: u64, end: u64) {
        let mut batch = self.db.batch();
        for event in first..end {
            batch.insert(
                &self.keyspace,
                credential_key(event),
                event.to_le_bytes().to_vec(),
            );
            batch.insert(&self.keyspace, person_key(event / 2), person_value(event));
        }
        batch.insert(
            &self.keyspace,
            b"m/cursor".to_vec(),
            end.to_le_bytes().to_vec(),
        );
        batch.commit().expect("fjall batch");
    }
    fn finish(&mut self) {
        self.db
            .persist(fjall::PersistMode::SyncAll)
            .expect("fjall persist");
    }
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.keyspace
            .get(key)
            .expect("fjall get")
            .map(|v| v.to_vec())
    }
}

fn open(engine: &str, dir: &Path) -> Box<dyn Store> {
    match engine {
        "sled" => {
            let db = sled::Config::new()
                .path(dir)
                .cache_capacity(SLED_CACHE)
                .mode(sled::Mode::HighThroughput)
                .flush_every_ms(Some(1_000))
                .open()
                .expect("open sled");
            let tree = db.open_tree("projection").expect("open tree");
            Box::new(Sled { db, tree })
        }
        "fjall" => {
            let db = fjall::Database::builder(dir)
                .cache_size(FJALL_CACHE)
                .open()
                .expect("open fjall");
            let keyspace = db
                .keyspace("projection", fjall::KeyspaceCreateOptions::default)
                .expect("open keyspace");
            Box::new(Fjall { db, keyspace })
        }
        other => {
            eprintln!("unknown engine {other:?}: sled or fjall");
            std::process::exit(2);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(engine), Some(Ok(events)), Some(dir)) = (
        args.get(1),
        args.get(2).map(|n| n.parse::<u64>()),
        args.get(3).map(PathBuf::from),
    ) else {
        eprintln!("usage: store-compare sled|fjall EVENTS DIR (DIR is removed first)");
        std::process::exit(2);
    };
    let _ = std::fs::remove_dir_all(&dir);
    let mut store = open(engine, &dir);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let mut last = Instant::now();
    let mut first = 0;
    while first < events {
        let end = (first + BATCH).min(events);
        store.write_batch(first, end);
        if end / 1_000_000 != first / 1_000_000 {
            eprintln!(
                "{engine}: {end} events, last 10⁶ in {:.1} s",
                last.elapsed().as_secs_f64()
            );
            last = Instant::now();
        }
        first = end;
    }
    store.finish();
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    // Read back a sample: every event's credential and final person value must be there.
    let step = (events / 10_000).max(1);
    for event in (0..events).step_by(step as usize) {
        assert_eq!(
            store.get(&credential_key(event)),
            Some(event.to_le_bytes().to_vec()),
            "credential of event {event}"
        );
        let last_of_subject = (event | 1).min(events - 1);
        assert_eq!(
            store.get(&person_key(event / 2)),
            Some(person_value(last_of_subject)),
            "person of event {event}"
        );
    }
    println!(
        "{{\"engine\":\"{engine}\",\"events\":{events},\"seconds\":{seconds:.2},\"events_per_s\":{:.0},\"cpu_us_per_event\":{:.2},\"peak_rss_mb\":{:.0},\"bytes_per_event\":{:.1}}}",
        events as f64 / seconds,
        cpu * 1e6 / events as f64,
        status_kib("VmHWM:") / 1024.0,
        disk_bytes(&dir) as f64 / events as f64
    );
}
