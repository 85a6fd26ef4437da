//! `skill-ledger bench`: measured figures, with the machine's raw limits from the same run.

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use clap::Subcommand;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use indicatif::ProgressBar;
use serde_json::json;
use skill_ledger_domain::{
    Audience, BodyRegistered, CertificateNumber, Date, EvaluationBasis, Event, EventId, EventKind,
    Level, LevelCertified, NameCommitment, Route, ScopeItem, SignedEvent, Signer, SubjectId,
};
use skill_ledger_node::{InitOptions, Node, PendingReceipt};

use crate::output::{print_report, progress_bar};
use crate::CliResult;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Durable ingest through the real sequencer: N signed certification events.
    Ingest {
        /// Number of events.
        #[arg(long, default_value = "100000")]
        events: u64,
        /// Ledger directory to create (default: a temporary directory, removed afterwards).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Events in flight at once (the submitters' window). Throughput is about the window
        /// over the commit latency: a larger window keeps both cores busy at the cost of
        /// latency (docs/benchmarks.md has windows and batch sizes side by side).
        #[arg(long, default_value_t = IngestShape::default().window)]
        window: usize,
        /// The projections' sled page cache, MiB (`ledger.toml` `[projections] cache_mb`).
        #[arg(long, default_value_t = skill_ledger_node::DEFAULT_PROJECTION_CACHE_MB)]
        cache_mb: u32,
        /// Most events the sequencer takes into one batch (`ledger.toml` `[sequencer]
        /// batch_events_max`). Batches smaller than the window keep several in the pipeline
        /// at once, so a smaller window still keeps the cores busy.
        #[arg(long, default_value_t = IngestShape::default().batch_events)]
        batch_events: u32,
    },
    /// Rebuild of the projections of a ledger of N ingested events: as `rebuild` does by
    /// default, and re-verifying every signature and rule (`rebuild --verify-signatures`).
    Rebuild {
        /// Number of events.
        #[arg(long, default_value = "100000")]
        events: u64,
        /// Ledger directory to create (default: a temporary directory, removed afterwards).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// `POST /v1/verify` under load on loopback against a served ledger of N credentials.
    Verify(crate::bench_verify::VerifyArgs),
    /// Inclusion-proof generation on one thread over a tree of N synthetic leaves, and the
    /// time to verify one offline credential bundle.
    Proofs {
        /// Leaves in the tree.
        #[arg(long, default_value = "10000000")]
        entries: u64,
        /// Tree directory to build or reuse (default: a temporary directory, removed afterwards).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// How long to generate proofs.
        #[arg(long, default_value = "5")]
        seconds: f64,
    },
    /// Write the signed workload of `bench ingest` to a file (JSON Lines) for other systems.
    Workload(crate::bench_workload::WorkloadArgs),
    /// A partner mirror catching up on an origin ledger of N entries (verify + fold).
    Sync(crate::bench_sync::SyncArgs),
    /// An exam session's results file of N rows issued over HTTP on loopback, end to end
    /// (read and check, pseudonyms, sign, POST /v1/events/batch, receipt): rows/s.
    IssueBatch(crate::bench_issue_batch::IssueBatchBenchArgs),
    /// W3C Verifiable Credentials issued and verified per second (eddsa-rdfc-2022 and
    /// eddsa-jcs-2022), and a status list regenerated for 10⁶ credentials.
    Vc(crate::bench_vc::VcArgs),
}

pub fn run(command: BenchCommand, json: bool) -> CliResult {
    match command {
        BenchCommand::Ingest {
            events,
            dir,
            window,
            cache_mb,
            batch_events,
        } => ingest(
            events,
            dir,
            IngestShape {
                window: window.max(1),
                cache_mb,
                batch_events,
            },
            json,
        ),
        BenchCommand::Rebuild { events, dir } => rebuild(events, dir, json),
        BenchCommand::Verify(args) => crate::bench_verify::run(args, json),
        BenchCommand::Proofs {
            entries,
            dir,
            seconds,
        } => crate::bench_proofs::proofs(entries, dir, seconds, json),
        BenchCommand::Workload(args) => crate::bench_workload::run(args, json),
        BenchCommand::Sync(args) => crate::bench_sync::run(args, json),
        BenchCommand::Vc(args) => crate::bench_vc::run(args, json),
        BenchCommand::IssueBatch(args) => crate::bench_issue_batch::run(args, json),
    }
}

/// Events signed per round before they are written out: bounds the benchmark's own memory.
const SIGN_ROUND_EVENTS: u64 = 65_536;

/// Signs events `0..events` on all cores into an anonymous file of length-prefixed entries
/// (u32 LE length ‖ entry), so the workload never sits in memory whole.
pub(crate) fn sign_to_file(
    workload: &Workload,
    events: u64,
    threads: u64,
    bar: &ProgressBar,
) -> anyhow::Result<(std::fs::File, u64)> {
    let mut file = BufWriter::new(tempfile::tempfile().context("creating the workload file")?);
    let mut total_bytes = 0u64;
    let mut round_start = 0;
    while round_start < events {
        let round_end = (round_start + SIGN_ROUND_EVENTS).min(events);
        let parts: Vec<Vec<Vec<u8>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let count = round_end - round_start;
                    let start = round_start + count * t / threads;
                    let end = round_start + count * (t + 1) / threads;
                    scope.spawn(move || {
                        (start..end)
                            .map(|i| workload.event(i).to_entry().unwrap_or_default())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for entry in parts.iter().flatten() {
            file.write_all(&(entry.len() as u32).to_le_bytes())?;
            file.write_all(entry)?;
            total_bytes += entry.len() as u64;
        }
        bar.set_position(round_end);
        round_start = round_end;
    }
    let mut file = file.into_inner().map_err(|error| error.into_error())?;
    file.rewind()?;
    Ok((file, total_bytes))
}

/// Peak resident set size of this process (VmHWM), in MiB.
pub fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

/// The resident memory now, MiB.
pub fn rss_mb() -> f64 {
    status_mb("VmRSS:")
}

fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time used so far by each thread of this process, summed per thread name, in seconds
/// (`/proc/self/task/*/schedstat`, nanoseconds on a CPU). Differences of two readings show
/// where a phase's CPU went, a figure that other load on the machine does not distort the
/// way it distorts wall-clock stage times.
pub fn thread_cpu_seconds() -> BTreeMap<String, f64> {
    let mut threads = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return threads;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let on_cpu_ns = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok());
        if let Some(ns) = on_cpu_ns {
            // Numbered pools (sled-io-0, sled-io-1, …) are one role.
            let role = name.trim().trim_end_matches(|c: char| c.is_ascii_digit());
            *threads
                .entry(role.trim_end_matches('-').to_string())
                .or_insert(0.0) += ns as f64 / 1e9;
        }
    }
    threads
}

/// CPU time (user and system) of the whole process so far, ended threads included.
pub fn process_cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Per-thread-role CPU seconds between two [`thread_cpu_seconds`] readings (threads that
/// ended in between are not counted).
pub fn cpu_between(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(role, seconds)| {
            (
                role.clone(),
                seconds - before.get(role).copied().unwrap_or(0.0),
            )
        })
        .filter(|(_, seconds)| *seconds > 0.0005)
        .collect()
}

/// The raw limits of the machine a benchmark runs on, measured in the same run, so its figures
/// can be read against them: Ed25519 batch verification on all cores, durable appends on the
/// benchmark's file system, SHA-256 on one core.
#[derive(Clone, Copy, Debug)]
pub struct MachineLimits {
    /// `ed25519_dalek::verify_batch`, the standard batch equation: the limit ratios are
    /// measured against.
    pub batch_verify_per_s: f64,
    /// The grouped equation the node runs (`skill_ledger_domain::verify_batch_grouped`) on
    /// batches signed by the benchmark's 16 bodies.
    pub grouped_batch_verify_per_s: f64,
    /// 4 KiB appends each followed by `fdatasync`, in a file next to the ledger.
    pub fdatasync_per_s: f64,
    pub sha256_mb_per_s: f64,
}

impl MachineLimits {
    /// Measures the three limits (about two seconds); the fsync probe writes in `dir`.
    pub fn measure(dir: &std::path::Path) -> anyhow::Result<MachineLimits> {
        Ok(MachineLimits {
            batch_verify_per_s: batch_verify_per_s(),
            grouped_batch_verify_per_s: grouped_batch_verify_per_s(),
            fdatasync_per_s: fdatasync_per_s(dir)?,
            sha256_mb_per_s: sha256_mb_per_s(),
        })
    }

    pub fn to_json(self) -> serde_json::Value {
        json!({
            "batch_verify_per_s": self.batch_verify_per_s,
            "grouped_batch_verify_per_s": self.grouped_batch_verify_per_s,
            "fdatasync_per_s": self.fdatasync_per_s,
            "sha256_mb_per_s": self.sha256_mb_per_s,
        })
    }
}

/// Appends of 4 KiB, each made durable with `fdatasync`, per second, for about half a second
/// in a probe file in `dir` (created if need be; the file is removed afterwards).
pub fn fdatasync_per_s(dir: &std::path::Path) -> anyhow::Result<f64> {
    use std::io::Write;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(".fsync-probe");
    let mut file = std::fs::File::create(&path)
        .with_context(|| format!("creating the fsync probe {}", path.display()))?;
    let block = [0x5au8; 4096];
    let started = Instant::now();
    let mut appends = 0u64;
    let outcome = loop {
        if let Err(error) = file.write_all(&block).and_then(|_| file.sync_data()) {
            break Err(error);
        }
        appends += 1;
        if started.elapsed() >= Duration::from_millis(500) {
            break Ok(appends as f64 / started.elapsed().as_secs_f64());
        }
    };
    drop(file);
    let _ = std::fs::remove_file(&path);
    outcome.with_context(|| format!("appending to the fsync probe {}", path.display()))
}

/// SHA-256 throughput of one core in MB/s (10⁶ bytes), hashing 1 MiB buffers for about 0.3 s.
pub fn sha256_mb_per_s() -> f64 {
    use sha2::Digest;
    let buffer = vec![0xa5u8; 1 << 20];
    let started = Instant::now();
    let mut bytes = 0u64;
    let mut digest = [0u8; 32];
    while started.elapsed() < Duration::from_millis(300) {
        let mut hasher = sha2::Sha256::new();
        hasher.update(&buffer);
        hasher.update(digest);
        digest = hasher.finalize().into();
        bytes += buffer.len() as u64;
    }
    std::hint::black_box(digest);
    bytes as f64 / 1e6 / started.elapsed().as_secs_f64()
}

/// The machine's Ed25519 batch-verification rate on all cores, measured for about a second
/// with `ed25519_dalek::verify_batch` (one signer; the standard equation does not care).
pub fn batch_verify_per_s() -> f64 {
    batch_verify_rate(1, |messages, signatures, keys| {
        ed25519_dalek::verify_batch(messages, signatures, keys).is_ok()
    })
}

/// The same rate for the grouped equation the node runs, on batches signed in turn by as many
/// keys as the benchmark workload has bodies.
pub fn grouped_batch_verify_per_s() -> f64 {
    batch_verify_rate(
        BENCH_BODIES as u8,
        skill_ledger_domain::verify_batch_grouped,
    )
}

/// Batches of 512 event-sized messages signed by `signers` keys in turn, verified by `verify`
/// on every core for about a second: signatures per second.
fn batch_verify_rate(
    signers: u8,
    verify: impl Fn(&[&[u8]], &[Signature], &[VerifyingKey]) -> bool + Sync,
) -> f64 {
    const BATCH: usize = 512;
    let signing: Vec<SigningKey> = (0..signers.max(1))
        .map(|s| SigningKey::from_bytes(&[9u8.wrapping_add(s); 32]))
        .collect();
    let messages: Vec<Vec<u8>> = (0..BATCH)
        .map(|i| {
            format!(
                "message {i} of a batch, about the size of an event {}",
                "x".repeat(200)
            )
            .into_bytes()
        })
        .collect();
    let signatures: Vec<Signature> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| signing[i % signing.len()].sign(m))
        .collect();
    let keys: Vec<VerifyingKey> = (0..BATCH)
        .map(|i| signing[i % signing.len()].verifying_key())
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let deadline = Instant::now() + Duration::from_millis(1_000);
    let started = Instant::now();
    let verified: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
                    let mut count = 0;
                    while Instant::now() < deadline {
                        if verify(&refs, &signatures, &keys) {
                            count += BATCH;
                        }
                    }
                    count
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    verified as f64 / started.elapsed().as_secs_f64()
}

pub(crate) struct Workload {
    pub(crate) origin: String,
    pub(crate) bodies: Vec<(skill_ledger_domain::RegistrationNumber, SigningKey)>,
}

pub(crate) const BENCH_BODIES: u64 = 16;
const OCCUPATION: &str = "6-18-01-01";

/// Subjects one set of [`BENCH_BODIES`] bodies can certify: a body's 6-digit serials of a
/// year and level run to 999,999, over two years of issue.
const SUBJECTS_PER_BODY_SET: u64 = BENCH_BODIES * 2 * 999_999;

/// Body sets a workload of `events` events needs: one up to 6.4·10⁷ events (every run but
/// the largest), two at 10⁸.
fn body_sets(events: u64) -> u64 {
    events.div_ceil(2).div_ceil(SUBJECTS_PER_BODY_SET).max(1)
}

impl Workload {
    /// Event `i`: pairs of (初级工 on an attested basis, 中级工 five years later) per subject,
    /// spread over bodies and years so certificate serials stay in range; past the first
    /// set's serials, a second set of bodies takes over with the same years and serials.
    fn event(&self, i: u64) -> SignedEvent {
        let subject_number = i / 2;
        let promoted = i % 2 == 1;
        let set = subject_number / SUBJECTS_PER_BODY_SET;
        let local = subject_number % SUBJECTS_PER_BODY_SET;
        let body_index = (set * BENCH_BODIES + local % BENCH_BODIES) as usize;
        let (number, key) = self
            .bodies
            .get(body_index)
            .unwrap_or_else(|| panic!("bench event {i} needs body {body_index}"));
        let year_offset = ((local / BENCH_BODIES) % 2) as i32;
        let (year, level, route) = if promoted {
            (
                2024 + year_offset,
                Level::Intermediate,
                Route::Evaluation(EvaluationBasis::PriorLevel),
            )
        } else {
            (
                2019 + year_offset,
                Level::Junior,
                Route::Evaluation(EvaluationBasis::Attested {
                    statement: "本职业工作满1年".to_string(),
                }),
            )
        };
        let serial = (local / (BENCH_BODIES * 2)) as u32 + 1;
        let certificate_number = CertificateNumber::compose(*number, year, level, serial)
            .unwrap_or_else(|| panic!("bench serial {serial} out of range"));
        let mut subject = [0u8; 32];
        subject[..8].copy_from_slice(&subject_number.to_le_bytes());
        subject[8] = 0xb5;
        let mut commitment = [0u8; 32];
        commitment[..8].copy_from_slice(&i.to_le_bytes());
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&i.to_le_bytes());
        id[8] = 0xbe;
        SignedEvent::sign(
            &self.origin,
            Signer::Body(*number),
            key,
            Event {
                id: EventId(id),
                kind: EventKind::LevelCertified(LevelCertified {
                    certificate_number,
                    subject: SubjectId(subject),
                    name_commitment: NameCommitment(commitment),
                    occupation: OCCUPATION.parse().unwrap_or_else(|_| unreachable!("code")),
                    work_type: None,
                    level,
                    issued: Date::from_ymd(year, 6, 1 + (i % 28) as u8)
                        .unwrap_or_else(|| unreachable!("date")),
                    route,
                }),
            },
        )
    }
}

/// Registers the evaluation bodies a workload of `events` events needs on `node`
/// (authority-signed events): [`BENCH_BODIES`] per body set.
pub(crate) fn register_bench_bodies(node: &Node, events: u64) -> anyhow::Result<Workload> {
    let mut workload = Workload {
        origin: node.origin().to_string(),
        bodies: Vec::new(),
    };
    for b in 0..BENCH_BODIES * body_sets(events) {
        let number: skill_ledger_domain::RegistrationNumber =
            format!("S0000500{:05}", 900 + b).parse()?;
        let key = SigningKey::from_bytes(&[(b as u8).wrapping_add(40); 32]);
        let from = Date::from_ymd(2019, 1, 1).unwrap_or_else(|| unreachable!("date"));
        node.submit(
            node.sign_as_authority(EventKind::BodyRegistered(BodyRegistered {
                registration_number: number,
                name: format!("基准测试评价机构 {b}"),
                public_key: key.verifying_key().to_bytes(),
                valid_from: from,
                valid_until: Date::from_ymd(2030, 12, 31).unwrap_or_else(|| unreachable!("date")),
                audience: Audience::Public,
                scope: vec![ScopeItem {
                    occupation: OCCUPATION.parse()?,
                    level_max: Level::Senior,
                }],
                direct_recognition: false,
                date: from,
            })),
        )?;
        workload.bodies.push((number, key));
    }
    Ok(workload)
}

/// The signed workload in its file, and what signing it took.
pub(crate) struct SignedWorkload {
    pub(crate) file: std::fs::File,
    pub(crate) seconds: f64,
    pub(crate) entry_bytes_mean: f64,
}

/// Signs everything first (on all cores), as bodies would before submitting, into a file
/// that the submitter streams from.
pub(crate) fn sign_workload(
    workload: &Workload,
    events: u64,
    json: bool,
) -> anyhow::Result<SignedWorkload> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let started = Instant::now();
    let bar = progress_bar(events, "signing", json);
    let (file, entry_bytes_total) = sign_to_file(workload, events, threads, &bar)?;
    bar.finish_and_clear();
    Ok(SignedWorkload {
        file,
        seconds: started.elapsed().as_secs_f64(),
        entry_bytes_mean: entry_bytes_total as f64 / events as f64,
    })
}

/// What submitting a workload gave: the refusals, and the resident memory as it went.
pub(crate) struct Submitted {
    pub(crate) failures: u64,
    pub(crate) first_failure: Option<String>,
    /// (events submitted, resident MiB) at every twentieth of the workload.
    pub(crate) rss_mb: Vec<(u64, f64)>,
}

/// How far the submitter has read the signed workload file, and how much of that it has
/// given back to the disk: at 10⁸ events the file is 26 GB, and the ledger it becomes must
/// fit beside it.
struct WorkloadConsumed {
    read: u64,
    released: u64,
    /// Bytes read between two releases.
    every: u64,
}

/// Bytes read between two releases of the workload file's read part.
const WORKLOAD_RELEASE_BYTES: u64 = 256 << 20;

impl WorkloadConsumed {
    fn new(every: u64) -> WorkloadConsumed {
        WorkloadConsumed {
            read: 0,
            released: 0,
            every,
        }
    }

    /// Counts `bytes` more read from `file`; every `self.every` bytes, punches the
    /// read whole pages out of the file (its length is kept, so the offsets still hold). Best
    /// effort: where the file system cannot punch holes, the file stays whole.
    fn advance(&mut self, file: &std::fs::File, bytes: u64) {
        self.read += bytes;
        let end = self.read & !4095;
        if end.saturating_sub(self.released) < self.every {
            return;
        }
        let punched = rustix::fs::fallocate(
            file,
            rustix::fs::FallocateFlags::PUNCH_HOLE | rustix::fs::FallocateFlags::KEEP_SIZE,
            self.released,
            end - self.released,
        );
        if punched.is_ok() {
            self.released = end;
        } else {
            // Not again: the file system keeps the file whole.
            self.every = u64::MAX;
        }
    }
}

/// Submits the signed workload with `window` events in flight.
pub(crate) fn submit_workload(
    node: &Node,
    workload_file: std::fs::File,
    events: u64,
    window: usize,
    bar: &ProgressBar,
) -> anyhow::Result<Submitted> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<PendingReceipt>(window);
    let waiter = std::thread::spawn(move || {
        let mut failures = 0u64;
        let mut first_failure = None;
        while let Ok(pending) = receiver.recv() {
            if let Err(error) = pending.wait() {
                failures += 1;
                first_failure.get_or_insert(error.to_string());
            }
        }
        (failures, first_failure)
    });
    let mut reader = BufReader::with_capacity(1 << 20, workload_file);
    let sample_every = (events / 20).max(1);
    let mut rss = Vec::with_capacity(21);
    let mut consumed = WorkloadConsumed::new(WORKLOAD_RELEASE_BYTES);
    for submitted in 0..events {
        if submitted % sample_every == 0 {
            rss.push((submitted, rss_mb()));
        }
        let mut length = [0u8; 4];
        reader.read_exact(&mut length)?;
        let mut entry = vec![0u8; u32::from_le_bytes(length) as usize];
        reader.read_exact(&mut entry)?;
        consumed.advance(reader.get_ref(), 4 + entry.len() as u64);
        let pending = node.submit_entry_pending(entry)?;
        if sender.send(pending).is_err() {
            break;
        }
        bar.inc(1);
    }
    drop(sender);
    let (failures, first_failure) = waiter
        .join()
        .map_err(|_| anyhow!("waiter thread panicked"))?;
    rss.push((events, rss_mb()));
    Ok(Submitted {
        failures,
        first_failure,
        rss_mb: rss,
    })
}

/// The ledger directory a benchmark works in: `dir`, or a temporary one removed afterwards
/// (the guard is returned with it).
fn bench_root(dir: Option<PathBuf>) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    Ok(match dir {
        Some(dir) => (dir, None),
        None => {
            let temporary = tempfile::tempdir().context("creating a temporary directory")?;
            (temporary.path().join("ledger"), Some(temporary))
        }
    })
}

fn check_events(events: u64) -> anyhow::Result<()> {
    if events == 0 || events > 100_000_000 {
        return Err(anyhow!("--events must be between 1 and 100000000"));
    }
    Ok(())
}

/// How `bench ingest` loads the node: events in flight, the sled cache, the largest batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IngestShape {
    pub window: usize,
    pub cache_mb: u32,
    pub batch_events: u32,
}

impl Default for IngestShape {
    fn default() -> IngestShape {
        IngestShape {
            window: 4_096,
            cache_mb: skill_ledger_node::DEFAULT_PROJECTION_CACHE_MB,
            // The node's own default, so the benchmark measures what a ledger runs.
            batch_events: skill_ledger_node::SequencerConfig::default().batch_events_max,
        }
    }
}

fn ingest(events: u64, dir: Option<PathBuf>, shape: IngestShape, json: bool) -> CliResult {
    check_events(events)?;
    let (root, _temporary) = bench_root(dir)?;
    let value = ingest_into(&root, events, shape, json)?;
    print_report(&value, json);
    if value["failures"].as_u64().unwrap_or(0) > 0 {
        return Err(anyhow!(
            "{} events were refused: {}",
            value["failures"],
            value["first_failure"]
        )
        .into());
    }
    Ok(())
}

/// `bench rebuild`: a ledger of N events made by the ingest benchmark, then rebuilt twice:
/// relying on the log's integrity check (the default) and re-verifying every signature and
/// rule (`--verify-signatures`).
pub fn rebuild(events: u64, dir: Option<PathBuf>, json: bool) -> CliResult {
    check_events(events)?;
    let (root, _temporary) = bench_root(dir)?;
    let ingest = ingest_into(&root, events, IngestShape::default(), json)?;
    if ingest["failures"].as_u64().unwrap_or(0) > 0 {
        return Err(anyhow!("building the ledger failed: {}", ingest["first_failure"]).into());
    }
    let machine = MachineLimits::measure(&root)?;
    let limit = machine.batch_verify_per_s;
    let mut runs = Vec::new();
    for verify_signatures in [false, true] {
        let label = if verify_signatures {
            "rebuild, verifying"
        } else {
            "rebuild"
        };
        let bar = progress_bar(events, label, json);
        let cpu_before = process_cpu_seconds();
        let report = skill_ledger_node::rebuild_with(
            &root,
            skill_ledger_node::RebuildOptions { verify_signatures },
            &mut |done, _| bar.set_position(done),
        )?;
        bar.finish_and_clear();
        if report.digest_before != Some(report.digest_after) {
            return Err(anyhow!("the rebuild gave other projections than the ingest").into());
        }
        runs.push((report, process_cpu_seconds() - cpu_before));
    }
    let figures = |(report, cpu_s): &(skill_ledger_node::RebuildReport, f64)| {
        json!({
            "seconds": report.seconds,
            "events_per_s": report.entries as f64 / report.seconds,
            "cpu_s": cpu_s,
            // Where the time went; `replay_events_per_s` is the fold alone.
            "stages_s": crate::query::stages_json(&report.stages),
            "replay_events_per_s": report.entries as f64 / report.stages.replay,
        })
    };
    let verified_per_s = runs[1].0.entries as f64 / runs[1].0.seconds;
    let value = json!({
        "benchmark": "rebuild",
        "events": events,
        "entries": runs[0].0.entries,
        // The whole rebuild, timed from opening the ledger (which recomputes the Merkle root
        // from the entries and checks it against the signed checkpoint) to the flushed
        // projections, whose digest must equal the ingest's.
        "rebuild": figures(&runs[0]),
        "rebuild_verified": figures(&runs[1]),
        "events_per_s": runs[0].0.entries as f64 / runs[0].0.seconds,
        "verified_events_per_s": verified_per_s,
        "batch_verify_per_s": limit,
        "machine_limits": machine.to_json(),
        "verified_ratio_to_batch_verify": verified_per_s / limit,
        "ingest_events_per_s": ingest["events_per_s"],
    });
    print_report(&value, json);
    Ok(())
}

/// Creates a ledger at `root`, signs N events and pushes them through the real sequencer;
/// returns the ingest figures.
fn ingest_into(
    root: &std::path::Path,
    events: u64,
    shape: IngestShape,
    json: bool,
) -> anyhow::Result<serde_json::Value> {
    let IngestShape {
        window,
        cache_mb,
        batch_events,
    } = shape;
    if !(16..=65_536).contains(&cache_mb) {
        return Err(anyhow!("--cache-mb must be between 16 and 65536"));
    }
    if !(1..=65_536).contains(&batch_events) {
        return Err(anyhow!("--batch-events must be between 1 and 65536"));
    }
    let mut options = InitOptions::chongqing().importing_history();
    options.projections.cache_mb = cache_mb;
    options.sequencer.batch_events_max = batch_events;
    let node = Node::init(root, options)?;
    let workload = register_bench_bodies(&node, events)?;
    let machine = MachineLimits::measure(root)?;
    let limit = machine.batch_verify_per_s;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let signed = sign_workload(&workload, events, json)?;
    let (workload_file, sign_seconds, entry_bytes_mean) =
        (signed.file, signed.seconds, signed.entry_bytes_mean);
    let log_before = node.storage_sizes();
    let cpu_before = thread_cpu_seconds();
    let process_cpu_before = process_cpu_seconds();
    let started = Instant::now();
    let bar = progress_bar(events, "ingest", json);
    let submitted = submit_workload(&node, workload_file, events, window, &bar)?;
    let (failures, first_failure) = (submitted.failures, submitted.first_failure);
    let seconds = started.elapsed().as_secs_f64();
    let mut cpu = cpu_between(&cpu_before, &thread_cpu_seconds());
    let cpu_s = process_cpu_seconds() - process_cpu_before;
    // Threads that ended during the run (the verifier's per-batch helpers) are only in the
    // process total.
    let named: f64 = cpu.values().sum();
    cpu.insert("ended threads".to_string(), (cpu_s - named).max(0.0));
    bar.finish_and_clear();
    node.flush()?;
    let sizes = node.storage_sizes();
    let bytes_total = (sizes.log + sizes.tree + sizes.projections)
        .saturating_sub(log_before.log + log_before.tree + log_before.projections);
    let metrics = node.metrics();
    let events_per_s = events as f64 / seconds;
    let stage_s = |counter: &std::sync::atomic::AtomicU64| {
        counter.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e6
    };
    let sequencer_s = stage_s(&metrics.sequencer_us);
    let writer_s = stage_s(&metrics.writer_us);
    let merkle_s = stage_s(&metrics.merkle_us);
    // The ordered work after verification (what one thread did before the pipeline).
    let ordered_s = sequencer_s + writer_s;
    let value = json!({
        "benchmark": "ingest",
        "events": events,
        "seconds": seconds,
        "events_per_s": events_per_s,
        "commit_p50_ms": metrics.commit_latency_us.quantile(0.50) as f64 / 1000.0,
        "commit_p99_ms": metrics.commit_latency_us.quantile(0.99) as f64 / 1000.0,
        "batches": metrics.batches.load(std::sync::atomic::Ordering::Relaxed),
        "failures": failures,
        "first_failure": first_failure,
        "entry_bytes_mean": entry_bytes_mean,
        "bytes_per_event": bytes_total as f64 / events as f64,
        "bytes_per_event_over_entry": bytes_total as f64 / events as f64 / entry_bytes_mean,
        "bytes_log": sizes.log,
        "bytes_tree": sizes.tree,
        "bytes_projections": sizes.projections,
        "peak_rss_mb": peak_rss_mb(),
        // [events submitted, resident MiB] through the run: where the peak is, and whether
        // memory levels off as the log grows.
        "rss_mb_by_events": submitted.rss_mb,
        "projection_cache_mb": cache_mb,
        "batch_verify_per_s": limit,
        "machine_limits": machine.to_json(),
        "ratio_to_batch_verify": events_per_s / limit,
        "sign_seconds": sign_seconds,
        // Where the time goes: busy (wall) seconds per stage: the verifier (on all cores),
        // the sequencer thread (decide, log append) and the writer thread (Merkle, checkpoint,
        // projections, answers); `merkle_share` is the share of the ordered work after
        // verification (sequencer + writer) spent on Merkle integration and checkpoint signing.
        "verify_stage_s": stage_s(&metrics.verify_us),
        "sequencer_s": sequencer_s,
        "decide_s": stage_s(&metrics.decide_us),
        "log_append_s": stage_s(&metrics.log_us),
        "writer_s": writer_s,
        "merkle_s": merkle_s,
        "projection_commit_s": stage_s(&metrics.projection_us),
        "merkle_share": if ordered_s > 0.0 { merkle_s / ordered_s } else { 0.0 },
        // CPU time of the ingest (all threads, including the submitting client on the main
        // thread), per event and per thread role; `cpu_share` is the share of the cores it
        // kept busy.
        "cpu_s": cpu_s,
        "cpu_us_per_event": cpu_s * 1e6 / events as f64,
        "cpu_share": cpu_s / (seconds * threads as f64),
        "cpu_s_by_thread": cpu,
        "window": window,
        "batch_events_max": batch_events,
        "threads": threads,
    });
    node.close()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Given the largest run (10⁸ events), when the events at the edges of each body set's
    /// serials are submitted, then every one is accepted, under a certificate number of its own.
    #[test]
    fn the_workload_stays_valid_and_distinct_up_to_its_largest_run() {
        let largest = 100_000_000u64;
        let edge = 2 * SUBJECTS_PER_BODY_SET;
        assert_eq!(body_sets(edge), 1, "one set up to 6.4·10⁷ events");
        assert_eq!(body_sets(edge + 1), 2);
        assert_eq!(body_sets(largest), 2);
        let dir = tempfile::tempdir().expect("temporary directory");
        let node = Node::init(
            &dir.path().join("ledger"),
            InitOptions::chongqing().importing_history(),
        )
        .expect("init");
        let workload = register_bench_bodies(&node, largest).expect("bodies registered");
        assert_eq!(workload.bodies.len() as u64, 2 * BENCH_BODIES);
        let pairs = [
            0,
            2,
            62,
            edge - 66,
            edge - 4,
            edge - 2,
            edge,
            edge + 2,
            largest - 2,
        ];
        let mut numbers = std::collections::BTreeSet::new();
        for first in pairs {
            for i in [first, first + 1] {
                let signed = workload.event(i);
                let EventKind::LevelCertified(certified) = &signed.event.kind else {
                    panic!("event {i} is a certification");
                };
                assert!(
                    numbers.insert(certified.certificate_number),
                    "event {i}: {} again",
                    certified.certificate_number
                );
                node.submit(signed)
                    .unwrap_or_else(|error| panic!("event {i} refused: {error}"));
            }
        }
        node.close().expect("close");
    }

    /// Given a 4 MiB workload file read in 64 KiB steps, releasing every MiB, when it is read
    /// to its end, then its length stands and all but its last partial MiB left the disk.
    #[test]
    fn the_read_part_of_the_workload_file_goes_back_to_the_disk() {
        use std::os::unix::fs::MetadataExt;
        let mut file = tempfile::tempfile().expect("file");
        file.write_all(&vec![7u8; 4 << 20]).expect("written");
        file.sync_all().expect("synced");
        let blocks_before = file.metadata().expect("metadata").blocks();
        let mut consumed = WorkloadConsumed::new(1 << 20);
        for _ in 0..(4 << 20) / (64 << 10) - 1 {
            consumed.advance(&file, 64 << 10);
        }
        let metadata = file.metadata().expect("metadata");
        assert_eq!(metadata.len(), 4 << 20, "the length is kept");
        // 512-byte blocks: 3 MiB released of the 4 MiB.
        assert_eq!(consumed.released, 3 << 20);
        assert!(
            metadata.blocks() <= blocks_before - (3 << 20) / 512,
            "{} blocks of {blocks_before} left",
            metadata.blocks()
        );
    }
}
