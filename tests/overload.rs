//! Overload: `skill-ledger serve` with small limits (a queue of 8 submissions, 24 requests
//! in progress, a 2-second request timeout) under many more clients than it can serve, each
//! posting signed certifications as fast as it is answered, over HTTP on loopback, plus a
//! burst of 256 connections that all send a submission at once and read the answers later.
//!
//! What must hold, asserted on behaviour with generous bounds (a loaded 2-core machine):
//! * the server keeps answering: every request gets an answer, 200 or 503 with `Retry-After`
//!   (the queue full, the concurrency bound, or a slow commit: all `overloaded`), never a hang,
//!   and at most a handful of connection errors, not a storm of resets;
//! * it was past capacity: some submissions were shed;
//! * its memory stays bounded: the resident set, read from `/proc`, grows by less than a fixed
//!   bound while thousands of submissions are answered (a server that kept something per
//!   request would grow with them);
//! * accepted work meets the latency target: a 200 arrives within the request timeout's bound
//!   (twice `request_timeout_ms`, after which the server answers 503 itself), seen from the
//!   client, connection set-up included;
//! * it recovers at once: the first submissions after the load stops are accepted promptly;
//! * nothing acknowledged is lost or given twice: every 200 names a distinct index below the
//!   final tree size.

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::{certification, get, given_ledger_with_a_body, serve_with, try_submit, Served};

/// Client threads, each with one request at a time: well past the bounds below.
const CLIENTS: usize = 64;
const QUEUE_EVENTS_MAX: u32 = 8;
const BATCH_EVENTS_MAX: u32 = 4;
const CONCURRENCY_MAX: u32 = 24;
const REQUEST_TIMEOUT_MS: u64 = 2_000;
/// How long the overload lasts.
const OVERLOAD: Duration = Duration::from_secs(6);
/// Each request is a new connection; capping them keeps a fast machine from running out of
/// loopback ports (connections linger in TIME_WAIT) before the overload ends.
const ATTEMPTS_PER_CLIENT_MAX: usize = 150;
/// The latency target for accepted work: the server answers 503 itself after twice the
/// request timeout; one more second covers connecting on a loaded machine.
const LATENCY_TARGET: Duration = Duration::from_millis(2 * REQUEST_TIMEOUT_MS + 1_000);
/// Growth of the server's resident set allowed while overloaded.
const RSS_GROWTH_MAX_KIB: u64 = 64 * 1024;
/// Connections opened at once, each with a whole submission, read only when the load stops.
const BURST: usize = 256;

/// The resident set of process `pid`, KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[derive(Default)]
struct Tally {
    accepted: Vec<(u64, Duration)>,
    shed: u64,
    shed_latency_max: Duration,
    connection_errors: Vec<String>,
    unexpected: Vec<String>,
}

/// Classifies one answer into `tally`.
fn count(tally: &mut Tally, n: u64, reply: support::Reply, latency: Duration) {
    let problem_code = || reply.try_json().map(|document| document["code"].clone());
    match reply.status {
        200 => match reply.try_json().and_then(|answer| answer["index"].as_u64()) {
            Some(index) => tally.accepted.push((index, latency)),
            None => tally.unexpected.push(format!(
                "submission {n}: 200 without an index: {}",
                reply.text()
            )),
        },
        503 if problem_code() == Some("overloaded".into())
            && reply.header("retry-after").is_some() =>
        {
            tally.shed += 1;
            tally.shed_latency_max = tally.shed_latency_max.max(latency);
        }
        status => tally.unexpected.push(format!(
            "submission {n}: status {status}, Retry-After {:?}: {}",
            reply.header("retry-after"),
            reply.text()
        )),
    }
}

/// A client with one request at a time, until `stop` (or its cap).
fn client(
    address: &str,
    key: &ed25519_dalek::SigningKey,
    next: &AtomicU64,
    stop: &AtomicBool,
) -> Tally {
    let mut tally = Tally::default();
    for _ in 0..ATTEMPTS_PER_CLIENT_MAX {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let n = next.fetch_add(1, Ordering::Relaxed);
        let signed = certification(key, n);
        let started = Instant::now();
        match try_submit(address, &signed) {
            Ok(reply) => count(&mut tally, n, reply, started.elapsed()),
            Err(error) => tally
                .connection_errors
                .push(format!("submission {n}: {error}")),
        }
    }
    tally
}

/// Opens [`BURST`] connections and sends a submission on each at once; once `stop` is set,
/// reads every answer (long since sent: the latency is not measured here).
fn burst(
    address: &str,
    key: &ed25519_dalek::SigningKey,
    next: &AtomicU64,
    stop: &AtomicBool,
) -> Tally {
    use std::io::{Read, Write};
    let mut tally = Tally::default();
    let mut open = Vec::with_capacity(BURST);
    for _ in 0..BURST {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let body = support::entry_body(&certification(key, n));
        let mut raw = format!(
            "POST /v1/events HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        raw.extend_from_slice(&body);
        let sent = std::net::TcpStream::connect(address).and_then(|mut stream| {
            stream.set_read_timeout(Some(LATENCY_TARGET))?;
            stream.write_all(&raw)?;
            Ok(stream)
        });
        match sent {
            Ok(stream) => open.push((n, stream)),
            Err(error) => tally.connection_errors.push(format!("burst {n}: {error}")),
        }
    }
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20));
    }
    for (n, mut stream) in open {
        let mut raw = Vec::new();
        match stream.read_to_end(&mut raw) {
            Ok(_) => match support::parse_reply(&raw) {
                Some(reply) => count(&mut tally, n, reply, Duration::ZERO),
                None => tally.connection_errors.push(format!(
                    "burst {n}: answer cut short: {:?}",
                    String::from_utf8_lossy(&raw)
                )),
            },
            Err(error) => tally.connection_errors.push(format!("burst {n}: {error}")),
        }
    }
    tally
}

#[test]
fn past_capacity_the_server_sheds_with_503_keeps_memory_and_latency_bounded_and_recovers_at_once() {
    let ledger = given_ledger_with_a_body();
    let config_path = ledger.dir.join("ledger.toml");
    let config = std::fs::read_to_string(&config_path).expect("ledger.toml");
    let small = config
        .replace(
            "queue_events_max = 65536",
            &format!("queue_events_max = {QUEUE_EVENTS_MAX}"),
        )
        .replace(
            "batch_events_max = 4096",
            &format!("batch_events_max = {BATCH_EVENTS_MAX}"),
        );
    assert!(
        small.contains(&format!("queue_events_max = {QUEUE_EVENTS_MAX}"))
            && small.contains(&format!("batch_events_max = {BATCH_EVENTS_MAX}")),
        "ledger.toml has the sequencer bounds: {config}"
    );
    std::fs::write(&config_path, small).expect("write ledger.toml");

    let served: Served = serve_with(
        &ledger.dir,
        &[
            "--concurrency-max",
            &CONCURRENCY_MAX.to_string(),
            "--request-timeout-ms",
            &REQUEST_TIMEOUT_MS.to_string(),
            "--retry-after-s",
            "1",
        ],
        &ledger.temp.path().join("serve.stderr"),
    );
    let address = served.address.clone();
    let pid = served.child.id();
    let base_size = tree_size(&address);
    let key = ledger.body_key.clone();
    let next = AtomicU64::new(0);

    // Warm up (allocator, caches, the first sled pages), then take the baseline.
    for _ in 0..20 {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let reply = try_submit(&address, &certification(&key, n)).expect("warm-up answer");
        assert_eq!(reply.status, 200, "warm-up: {}", reply.text());
    }
    let baseline_kib = rss_kib(pid).expect("the server's VmRSS");

    let stop = AtomicBool::new(false);
    let rss_max_kib = Mutex::new(baseline_kib);
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    let mut max = rss_max_kib.lock().expect("lock");
                    *max = (*max).max(kib);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let mut clients: Vec<_> = (0..CLIENTS)
            .map(|_| scope.spawn(|| client(&address, &key, &next, &stop)))
            .collect();
        clients.push(scope.spawn(|| burst(&address, &key, &next, &stop)));
        std::thread::sleep(OVERLOAD);
        stop.store(true, Ordering::Relaxed);
        let tallies = clients
            .into_iter()
            .map(|client| client.join().expect("client thread"))
            .collect();
        sampler.join().expect("sampler thread");
        tallies
    });

    // Load has dropped: the very next submissions are accepted, promptly.
    for _ in 0..10 {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let reply =
            try_submit(&address, &certification(&key, n)).expect("an answer after the load");
        assert_eq!(
            reply.status,
            200,
            "not accepted after the load: {}",
            reply.text()
        );
        assert!(
            started.elapsed() < LATENCY_TARGET,
            "slow to recover: {:?}",
            started.elapsed()
        );
    }

    let mut accepted = Vec::new();
    let mut shed = 0;
    let mut shed_latency_max = Duration::ZERO;
    let mut connection_errors = Vec::new();
    let mut unexpected = Vec::new();
    for tally in tallies {
        accepted.extend(tally.accepted);
        shed += tally.shed;
        shed_latency_max = shed_latency_max.max(tally.shed_latency_max);
        connection_errors.extend(tally.connection_errors);
        unexpected.extend(tally.unexpected);
    }
    let attempts = accepted.len() as u64 + shed + connection_errors.len() as u64;
    let accepted_latency_max = accepted
        .iter()
        .map(|(_, latency)| *latency)
        .max()
        .unwrap_or_default();
    let rss_max_kib = *rss_max_kib.lock().expect("lock");
    eprintln!(
        "{attempts} submissions in {OVERLOAD:?}: {} accepted (slowest {accepted_latency_max:?}), \
         {shed} shed with 503 (slowest {shed_latency_max:?}), {} connection errors; \
         resident set {baseline_kib} KiB before, at most {rss_max_kib} KiB during",
        accepted.len(),
        connection_errors.len()
    );

    assert!(unexpected.is_empty(), "unexpected answers: {unexpected:#?}");
    assert!(!accepted.is_empty(), "nothing was accepted under load");
    assert!(shed > 0, "nothing was shed: the load did not pass capacity");
    assert!(
        connection_errors.len() as u64 * 100 <= attempts,
        "connection errors are a storm ({} of {attempts}): {:#?}",
        connection_errors.len(),
        &connection_errors[..connection_errors.len().min(10)]
    );
    assert!(
        accepted_latency_max < LATENCY_TARGET,
        "accepted work took {accepted_latency_max:?}, over the target {LATENCY_TARGET:?}"
    );
    assert!(
        shed_latency_max < LATENCY_TARGET,
        "a 503 took {shed_latency_max:?}: shedding must not wait"
    );
    assert!(
        rss_max_kib < baseline_kib + RSS_GROWTH_MAX_KIB,
        "the resident set grew from {baseline_kib} KiB to {rss_max_kib} KiB under overload"
    );

    // Every acknowledged submission holds its own index in the log.
    let indexes: BTreeSet<u64> = accepted.iter().map(|(index, _)| *index).collect();
    assert_eq!(indexes.len(), accepted.len(), "an index was given twice");
    let size = tree_size(&address);
    assert!(
        size >= base_size + 20 + accepted.len() as u64 + 10,
        "tree size {size} lacks acknowledged entries"
    );
    assert!(
        indexes.iter().all(|index| *index < size),
        "an acknowledged index is beyond the tree size {size}"
    );
    drop(served);
}

/// The tree size `/healthz` reports (which also says the node is healthy).
fn tree_size(address: &str) -> u64 {
    let health = get(address, "/healthz");
    assert_eq!(health.status, 200, "{}", health.text());
    health.json()["tree_size"].as_u64().expect("tree_size")
}
