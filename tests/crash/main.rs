//! Crash harness: `skill-ledger serve` under a steady load of signed submissions, killed with
//! SIGKILL at random moments and restarted, with the ledger's promises checked after every
//! restart:
//!
//! * every acknowledged submission (a 200 answer) is in the log at the index it was given,
//!   and its credential says so;
//! * the log matches the last signed checkpoint (the node opens: it audits at start-up);
//! * no two checkpoints of one size have different roots, and every checkpoint seen (in
//!   answers, from `GET /checkpoint`, after each recovery) is consistent with the latest
//!   (an RFC 6962 consistency proof, verified);
//! * the projections equal a fresh rebuild (`skill-ledger rebuild` on a copy of the directory
//!   reports identical digests, and `stats --json` is byte-equal before and after).
//!
//! Submissions without an answer (the server died first) are resubmitted after the restart:
//! the answer is the first index (`duplicate: true`) if the entry had been committed.
//!
//! Cycles: `SKILL_LEDGER_CRASH_CYCLES` (default 5, for CI); the full run is
//! `SKILL_LEDGER_CRASH_CYCLES=50 cargo test -p skill-ledger-cli --test crash -- --nocapture`.
//! The seed is random unless `SKILL_LEDGER_CRASH_SEED` is set; it is printed first, and every
//! failure names the seed and the cycle.

#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use rand::{Rng, SeedableRng};
use skill_ledger_node::Node;
use support::{
    certificate, certification, cli, cli_text, event_id, get, s, serve_with, try_request,
    try_submit, ORIGIN,
};

const CLIENTS: usize = 6;

/// What the clients learned: acknowledged indexes and every checkpoint seen.
#[derive(Default)]
struct Observed {
    /// Submission number → acknowledged entry index.
    acknowledged: BTreeMap<u64, u64>,
    /// Checkpoint size → root.
    checkpoints: BTreeMap<u64, [u8; 32]>,
    /// Problems found by the clients (reported with the seed and cycle).
    failures: Vec<String>,
}

impl Observed {
    fn checkpoint(&mut self, size: u64, root: [u8; 32], from: &str) {
        match self.checkpoints.insert(size, root) {
            Some(earlier) if earlier != root => self.failures.push(format!(
                "two checkpoints of size {size} with different roots ({} then {}, the second {from})",
                hex(&earlier),
                hex(&root)
            )),
            _ => {}
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_root(text: &str) -> Option<[u8; 32]> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?
        .try_into()
        .ok()
}

/// A client: submits its own numbers (unanswered ones first, again) until told to stop.
fn client(
    address: &str,
    key: &SigningKey,
    next: &AtomicU64,
    stop: &AtomicBool,
    unanswered: &mut Vec<u64>,
    sent_before: &Mutex<std::collections::HashSet<u64>>,
    observed: &Mutex<Observed>,
) {
    while !stop.load(Ordering::Relaxed) {
        let n = match unanswered.last() {
            Some(&n) => n,
            None => {
                let n = next.fetch_add(1, Ordering::Relaxed);
                unanswered.push(n);
                n
            }
        };
        let signed = certification(key, n);
        let reply = match try_submit(address, &signed) {
            Ok(reply) => reply,
            Err(_) => {
                // The server died (or is not up yet): the outcome is unknown; resubmit later.
                sent_before.lock().unwrap().insert(n);
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        sent_before.lock().unwrap().insert(n);
        match reply.status {
            200 => {
                unanswered.pop();
                let answer = reply.try_json().unwrap_or_default();
                let index = answer["index"].as_u64();
                let size = answer["checkpoint"]["size"].as_u64();
                let root = answer["checkpoint"]["root"].as_str().and_then(decode_root);
                let mut observed = observed.lock().unwrap();
                let (Some(index), Some(size), Some(root)) = (index, size, root) else {
                    observed
                        .failures
                        .push(format!("submission {n}: unreadable answer {answer}"));
                    continue;
                };
                if size <= index {
                    observed.failures.push(format!(
                        "submission {n}: index {index} not covered by the checkpoint of size {size}"
                    ));
                }
                if answer["duplicate"] == true && !sent_before.lock().unwrap().contains(&n) {
                    observed
                        .failures
                        .push(format!("submission {n}: duplicate on first sending"));
                }
                observed.checkpoint(size, root, &format!("answering submission {n}"));
                if let Some(earlier) = observed.acknowledged.insert(n, index) {
                    if earlier != index {
                        observed.failures.push(format!(
                            "submission {n} acknowledged at {earlier}, then at {index}"
                        ));
                    }
                }
            }
            503 => std::thread::sleep(Duration::from_millis(10)),
            status => {
                unanswered.pop();
                observed
                    .lock()
                    .unwrap()
                    .failures
                    .push(format!("submission {n}: status {status}: {}", reply.text()));
            }
        }
    }
}

/// Reads `GET /checkpoint` now and then, recording what it serves.
fn checkpoint_poller(address: &str, stop: &AtomicBool, observed: &Mutex<Observed>) {
    while !stop.load(Ordering::Relaxed) {
        if let Ok(reply) = try_request(address, "GET", "/checkpoint", &[], b"") {
            if reply.status == 200 {
                let text = reply.text();
                let mut lines = text.lines();
                let origin = lines.next();
                let size = lines.next().and_then(|l| l.parse::<u64>().ok());
                let root = lines.next().and_then(decode_root);
                let mut observed = observed.lock().unwrap();
                match (origin, size, root) {
                    (Some(ORIGIN), Some(size), Some(root)) => {
                        observed.checkpoint(size, root, "served at /checkpoint")
                    }
                    _ => observed
                        .failures
                        .push(format!("GET /checkpoint served {text:?}")),
                }
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// The checks while the server is down. `Err` names what broke.
fn check_stopped(dir: &Path, scratch: &Path, observed: &mut Observed) -> Result<u64, String> {
    // The log matches the last signed checkpoint: the node audits at start-up and refuses
    // to open otherwise (the same recovery `serve` runs).
    let (node, _) =
        Node::open(dir).map_err(|error| format!("the ledger does not open: {error}"))?;
    let latest = node
        .checkpoint()
        .ok_or("no signed checkpoint after recovery")?;
    let size = latest.checkpoint.size;
    let tree = node.tree_reader();
    if size != node.entry_count() {
        return Err(format!(
            "after recovery the checkpoint covers {size} entries, the log holds {}",
            node.entry_count()
        ));
    }
    let root = tree.root(size).map_err(|error| error.to_string())?;
    if root != latest.checkpoint.root {
        return Err(format!("the tree root at {size} is not the signed root"));
    }
    observed.checkpoint(size, root, "signed by recovery");
    // Every checkpoint seen is consistent with the latest.
    for (&old, &old_root) in &observed.checkpoints {
        if old > size {
            return Err(format!(
                "a checkpoint of size {old} was signed, but after recovery the log holds {size} entries"
            ));
        }
        let proof = tree
            .consistency_proof(old, size)
            .map_err(|error| format!("consistency proof {old} → {size}: {error}"))?;
        skill_ledger_log::verify_consistency(old, size, old_root, root, &proof).map_err(
            |error| format!("checkpoint of size {old} is not consistent with {size}: {error}"),
        )?;
    }
    // Every acknowledged submission is where its answer said.
    for (&n, &index) in &observed.acknowledged {
        let event = node
            .read_event(index)
            .map_err(|error| format!("submission {n} acknowledged at {index}: {error}"))?;
        if event.event.id != event_id(n) {
            return Err(format!(
                "submission {n} acknowledged at {index}, but entry {index} is another event"
            ));
        }
        let credential = node
            .credential(&certificate(n))
            .map_err(|error| error.to_string())?
            .ok_or_else(|| format!("submission {n} acknowledged, but its credential is unknown"))?;
        if credential.entry_index != index {
            return Err(format!(
                "submission {n} acknowledged at {index}, its credential says {}",
                credential.entry_index
            ));
        }
    }
    node.close().map_err(|error| error.to_string())?;
    // The projections equal a fresh rebuild (on a copy: the original keeps the projections
    // the crashes left, for the next cycle).
    let copy = scratch.join("copy");
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(dir, &copy);
    let before = cli_text(&["stats", "--dir", s(&copy)]);
    let rebuilt = cli(&["rebuild", "--dir", s(&copy)]);
    if rebuilt["identical"] != true {
        return Err(format!("rebuild changed the projections: {rebuilt}"));
    }
    let after = cli_text(&["stats", "--dir", s(&copy)]);
    if before != after {
        return Err(format!("stats differ after rebuild:\n{before}\n{after}"));
    }
    std::fs::remove_dir_all(&copy).map_err(|error| error.to_string())?;
    Ok(size)
}

/// After a restart, over HTTP: the served checkpoint and a sample of credentials.
fn check_served(
    address: &str,
    size: u64,
    observed: &Observed,
    rng: &mut impl Rng,
) -> Result<(), String> {
    let health = get(address, "/healthz");
    let health = health.try_json().unwrap_or_default();
    if health["status"] != "ok" || health["tree_size"] != size {
        return Err(format!(
            "after restart /healthz says {health}, expected size {size}"
        ));
    }
    let acknowledged: Vec<(&u64, &u64)> = observed.acknowledged.iter().collect();
    for _ in 0..acknowledged.len().min(10) {
        let (&n, &index) = acknowledged[rng.gen_range(0..acknowledged.len())];
        let reply = get(address, &format!("/v1/credentials/{}", certificate(n)));
        let answer = reply.try_json().unwrap_or_default();
        if reply.status != 200 || answer["entry_index"] != index {
            return Err(format!(
                "after restart credential {} (acknowledged at {index}) reads {}: {answer}",
                certificate(n),
                reply.status
            ));
        }
    }
    Ok(())
}

#[test]
fn acknowledged_submissions_survive_sigkill_and_the_checkpoints_stay_consistent() {
    let cycles: u32 = std::env::var("SKILL_LEDGER_CRASH_CYCLES")
        .ok()
        .map(|text| text.parse().expect("SKILL_LEDGER_CRASH_CYCLES is a number"))
        .unwrap_or(5);
    let seed: u64 = std::env::var("SKILL_LEDGER_CRASH_SEED")
        .ok()
        .map(|text| text.parse().expect("SKILL_LEDGER_CRASH_SEED is a number"))
        .unwrap_or_else(|| rand::thread_rng().gen());
    println!(
        "crash harness: seed {seed}, {cycles} cycles (SKILL_LEDGER_CRASH_SEED={seed} repeats it)"
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let ledger = support::given_ledger_with_a_body();
    let scratch = ledger.temp.path().join("scratch");
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let stderr_file = scratch.join("serve.stderr");
    let next = AtomicU64::new(0);
    let sent_before = Mutex::new(std::collections::HashSet::new());
    let observed = Mutex::new(Observed::default());
    let mut unanswered: Vec<Vec<u64>> = vec![Vec::new(); CLIENTS];
    let started = Instant::now();
    let fail = |cycle: u32, message: &str| -> ! {
        panic!(
            "crash harness seed {seed}, cycle {cycle} of {cycles}: {message}\n(repeat with SKILL_LEDGER_CRASH_SEED={seed} SKILL_LEDGER_CRASH_CYCLES={cycles})"
        )
    };
    let mut size = 0;
    for cycle in 1..=cycles {
        let served = serve_with(&ledger.dir, &[], &stderr_file);
        if cycle > 1 {
            let observed = observed.lock().unwrap();
            if let Err(message) = check_served(&served.address, size, &observed, &mut rng) {
                drop(observed);
                fail(cycle, &message);
            }
        }
        let run_for = Duration::from_millis(rng.gen_range(150..=1_200));
        let stop = AtomicBool::new(false);
        let acknowledged_before = observed.lock().unwrap().acknowledged.len();
        let address = served.address.clone();
        std::thread::scope(|scope| {
            for queue in unanswered.iter_mut() {
                let (address, key) = (&address, &ledger.body_key);
                let (next, stop, sent_before, observed) = (&next, &stop, &sent_before, &observed);
                scope.spawn(move || client(address, key, next, stop, queue, sent_before, observed));
            }
            let (address, stop, observed) = (&address, &stop, &observed);
            scope.spawn(move || checkpoint_poller(address, stop, observed));
            std::thread::sleep(run_for);
            // SIGKILL in the middle of the load.
            served.kill();
            stop.store(true, Ordering::Relaxed);
        });
        let mut observed = observed.lock().unwrap();
        if !observed.failures.is_empty() {
            let failures = observed.failures.join("\n");
            drop(observed);
            fail(cycle, &failures);
        }
        size = match check_stopped(&ledger.dir, &scratch, &mut observed) {
            Ok(size) => size,
            Err(message) => {
                drop(observed);
                fail(cycle, &message)
            }
        };
        println!(
            "cycle {cycle}: killed after {} ms; {} acknowledged this cycle, {} in all; log {size} entries; {:.1} s so far",
            run_for.as_millis(),
            observed.acknowledged.len() - acknowledged_before,
            observed.acknowledged.len(),
            started.elapsed().as_secs_f64()
        );
    }
    let observed = observed.lock().unwrap();
    assert!(
        observed.acknowledged.len() as u32 >= cycles,
        "seed {seed}: the load acknowledged only {} submissions in {cycles} cycles",
        observed.acknowledged.len()
    );
}
