//! `skill-ledger bench verify`: `POST /v1/verify` under load on loopback.
//!
//! Builds a ledger of N credentials through the node API (16 bodies registered by the
//! authority, then N pre-signed `LevelCertified` events with real name commitments), serves
//! it in this process on a loopback listener with the verification rate limit off, and runs
//! C keep-alive HTTP/1.1 connections, each sending one request after another, for S seconds
//! after the node's start-up scan has finished and a one-second warm-up. Every answer must be
//! 200 with `"matched":true`; anything else counts as an error.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use clap::Args;
use ed25519_dalek::SigningKey;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use serde_json::json;
use skill_ledger_domain::{
    Audience, BodyRegistered, CertificateNumber, Date, EvaluationBasis, Event, EventId, EventKind,
    Level, LevelCertified, PseudonymKey, RegistrationNumber, Route, ScopeItem, SignedEvent, Signer,
    SubjectId,
};
use skill_ledger_node::{Histogram, InitOptions, Node, PendingReceipt};
use skill_ledger_server::{AppState, ServerConfig};

use crate::CliResult;

#[derive(Args)]
pub struct VerifyArgs {
    /// Credentials on the served ledger.
    #[arg(long, default_value = "1000000")]
    pub credentials: u64,
    /// Seconds of measured load (after a one-second warm-up).
    #[arg(long, default_value = "10")]
    pub seconds: u64,
    /// Keep-alive connections, each with one request in flight.
    #[arg(long, default_value = "4")]
    pub connections: usize,
    /// Worker threads of the runtime that runs the server and the client.
    #[arg(long, default_value = "2")]
    pub worker_threads: usize,
    /// Ledger directory: created if missing, reused if an earlier run of this benchmark
    /// built it with at least N credentials (default: a temporary directory, removed
    /// afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// The benchmark's bodies (fixed keys, so a ledger built by an earlier run can be reused).
fn bench_bodies() -> anyhow::Result<Vec<(RegistrationNumber, SigningKey)>> {
    (0..BODIES)
        .map(|b| {
            let number: RegistrationNumber = format!("S0000500{:05}", 700 + b).parse()?;
            Ok((
                number,
                SigningKey::from_bytes(&[(b as u8).wrapping_add(90); 32]),
            ))
        })
        .collect()
}

/// Opens a ledger an earlier run built, checking that it holds credential N - 1.
fn reuse_ledger(root: &std::path::Path, credentials: u64) -> anyhow::Result<Node> {
    let (node, _) = Node::open(root)?;
    let last = certificate(&bench_bodies()?, credentials - 1)?;
    match node.check_name(&last, &holder_name(credentials - 1))? {
        skill_ledger_node::NameCheck::Matched(_) => Ok(node),
        _ => Err(anyhow!(
            "{} was not built by `bench verify` with at least {credentials} credentials",
            root.display()
        )),
    }
}

const BODIES: u64 = 16;
const OCCUPATION: &str = "6-18-01-01";
/// Issue years used, so serials stay within the six digits of a certificate number.
const YEARS: u64 = 4;

fn date(year: i32, month: u8, day: u8) -> Date {
    Date::from_ymd(year, month, day).unwrap_or_else(|| unreachable!("fixed valid date"))
}

/// Credential `i`: body, year and serial spread so every number is distinct and in range.
fn certificate_number(bodies: &[(RegistrationNumber, SigningKey)], i: u64) -> (usize, i32, u32) {
    let body = (i % BODIES) as usize;
    let year = 2020 + ((i / BODIES) % YEARS) as i32;
    let serial = (i / (BODIES * YEARS)) as u32 + 1;
    debug_assert!(body < bodies.len());
    (body, year, serial)
}

fn holder_name(i: u64) -> String {
    format!("测试{i}")
}

fn certificate(
    bodies: &[(RegistrationNumber, SigningKey)],
    i: u64,
) -> anyhow::Result<CertificateNumber> {
    let (body, year, serial) = certificate_number(bodies, i);
    CertificateNumber::compose(bodies[body].0, year, Level::Junior, serial)
        .ok_or_else(|| anyhow!("credential {i}: serial {serial} out of range"))
}

fn credential_entry(
    origin: &str,
    pseudonyms: &PseudonymKey,
    bodies: &[(RegistrationNumber, SigningKey)],
    i: u64,
) -> anyhow::Result<Vec<u8>> {
    let (body, year, _) = certificate_number(bodies, i);
    let number = certificate(bodies, i)?;
    let (registration, key) = &bodies[body];
    let mut subject = [0u8; 32];
    subject[..8].copy_from_slice(&i.to_le_bytes());
    subject[8] = 0x7e;
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&i.to_le_bytes());
    id[8] = 0x7e;
    let signed = SignedEvent::sign(
        origin,
        Signer::Body(*registration),
        key,
        Event {
            id: EventId(id),
            kind: EventKind::LevelCertified(LevelCertified {
                certificate_number: number,
                subject: SubjectId(subject),
                name_commitment: pseudonyms.commit_name(number.as_str(), &holder_name(i)),
                occupation: OCCUPATION.parse()?,
                work_type: None,
                level: Level::Junior,
                issued: date(year, 6, 1 + (i % 28) as u8),
                route: Route::Evaluation(EvaluationBasis::Attested {
                    statement: "本职业工作满1年".to_string(),
                }),
            }),
        },
    );
    Ok(signed.to_entry()?)
}

/// Creates the ledger: bodies, then N credentials submitted with a window of 4,096.
fn build_ledger(
    node: &Node,
    credentials: u64,
) -> anyhow::Result<Vec<(RegistrationNumber, SigningKey)>> {
    let bodies = bench_bodies()?;
    for (b, (number, key)) in bodies.iter().enumerate() {
        let number = *number;
        node.submit(
            node.sign_as_authority(EventKind::BodyRegistered(BodyRegistered {
                registration_number: number,
                name: format!("核验基准评价机构 {b}"),
                public_key: key.verifying_key().to_bytes(),
                valid_from: date(2019, 1, 1),
                valid_until: date(2030, 12, 31),
                audience: Audience::Public,
                scope: vec![ScopeItem {
                    occupation: OCCUPATION.parse()?,
                    level_max: Level::Senior,
                }],
                direct_recognition: false,
                date: date(2019, 1, 1),
            })),
        )?;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let origin = node.origin().to_string();
    let pseudonyms = node.pseudonym_key().clone();
    let entries: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (origin, pseudonyms, bodies) = (&origin, &pseudonyms, &bodies);
                scope.spawn(move || {
                    (credentials * t / threads..credentials * (t + 1) / threads)
                        .map(|i| credential_entry(origin, pseudonyms, bodies, i))
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(credentials as usize);
        for handle in handles {
            all.extend(
                handle
                    .join()
                    .map_err(|_| anyhow!("a signing thread panicked"))??,
            );
        }
        Ok::<_, anyhow::Error>(all)
    })?;
    let (sender, receiver) = std::sync::mpsc::sync_channel::<PendingReceipt>(4_096);
    let waiter = std::thread::spawn(move || {
        let mut first_failure = None;
        while let Ok(pending) = receiver.recv() {
            if let Err(error) = pending.wait() {
                first_failure.get_or_insert(error.to_string());
            }
        }
        first_failure
    });
    for entry in entries {
        if sender.send(node.submit_entry_pending(entry)?).is_err() {
            break;
        }
    }
    drop(sender);
    if let Some(failure) = waiter
        .join()
        .map_err(|_| anyhow!("waiter thread panicked"))?
    {
        return Err(anyhow!(
            "building the ledger: a credential was refused: {failure}"
        ));
    }
    node.flush()?;
    Ok(bodies)
}

/// What the client tasks share.
struct Load {
    latency_us: Histogram,
    requests: AtomicU64,
    errors: AtomicU64,
    measuring: AtomicBool,
    stop: AtomicBool,
    first_error: Mutex<Option<String>>,
}

impl Load {
    fn error(&self, message: String) {
        if self.measuring.load(Ordering::Relaxed) {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(message);
        }
    }
}

/// The request bodies, prepared before the clock starts (a client would hold them too).
fn request_bodies(
    bodies: &[(RegistrationNumber, SigningKey)],
    credentials: u64,
) -> anyhow::Result<Vec<Bytes>> {
    let sample = credentials.min(65_536);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..sample)
        .map(|_| {
            // xorshift: a spread of credentials across the whole ledger.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let i = state % credentials;
            let body = json!({
                "certificate_number": certificate(bodies, i)?.as_str(),
                "name": holder_name(i),
            });
            Ok(Bytes::from(body.to_string()))
        })
        .collect()
}

async fn client(
    address: std::net::SocketAddr,
    load: Arc<Load>,
    requests: Arc<Vec<Bytes>>,
    offset: usize,
) {
    let stream = match tokio::net::TcpStream::connect(address).await {
        Ok(stream) => stream,
        Err(error) => return load.error(format!("connect: {error}")),
    };
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await {
            Ok(pair) => pair,
            Err(error) => return load.error(format!("handshake: {error}")),
        };
    tokio::spawn(connection);
    let mut next = offset;
    while !load.stop.load(Ordering::Relaxed) {
        let body = requests[next % requests.len()].clone();
        next += 1;
        let request = match hyper::Request::post("/v1/verify")
            .header(hyper::header::HOST, "127.0.0.1")
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))
        {
            Ok(request) => request,
            Err(error) => return load.error(format!("request: {error}")),
        };
        let started = Instant::now();
        let outcome = async {
            let response = sender.send_request(request).await?;
            let status = response.status();
            let bytes = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, bytes))
        }
        .await;
        let elapsed = started.elapsed();
        match outcome {
            Ok((status, bytes)) => {
                let matched = bytes
                    .windows(14)
                    .any(|window| window == b"\"matched\":true");
                if status == hyper::StatusCode::OK && matched {
                    if load.measuring.load(Ordering::Relaxed) {
                        load.latency_us.record_duration(elapsed);
                        load.requests.fetch_add(1, Ordering::Relaxed);
                    }
                } else {
                    load.error(format!(
                        "status {status}: {}",
                        String::from_utf8_lossy(&bytes)
                    ));
                }
            }
            Err(error) => {
                load.error(format!("send: {error}"));
                return;
            }
        }
    }
}

pub fn run(args: VerifyArgs, json: bool) -> CliResult {
    if args.credentials == 0 || args.credentials > 20_000_000 {
        return Err(anyhow!("--credentials must be between 1 and 20000000").into());
    }
    if args.seconds == 0 || args.seconds > 3_600 {
        return Err(anyhow!("--seconds must be between 1 and 3600").into());
    }
    if args.connections == 0 || args.connections > 1_024 {
        return Err(anyhow!("--connections must be between 1 and 1024").into());
    }
    let temporary = match &args.dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().context("creating a temporary directory")?),
    };
    let root = match (&args.dir, &temporary) {
        (Some(dir), _) => dir.clone(),
        (None, Some(temporary)) => temporary.path().join("ledger"),
        (None, None) => unreachable!("a directory or a temporary one"),
    };
    let machine = crate::bench::MachineLimits::measure(&root)?;
    let build_started = Instant::now();
    let (node, bodies) = if root.join("ledger.toml").exists() {
        (reuse_ledger(&root, args.credentials)?, bench_bodies()?)
    } else {
        let node = Node::init(&root, InitOptions::chongqing().importing_history())?;
        let bodies = build_ledger(&node, args.credentials)?;
        (node, bodies)
    };
    // A node serves from the moment it opens, but a freshly opened one still scans its held
    // keys in the background; the benchmark measures the steady state after that.
    while node.warming_up() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let build_seconds = build_started.elapsed().as_secs_f64();
    let requests = Arc::new(request_bodies(&bodies, args.credentials)?);
    let node = Arc::new(node);
    let config = ServerConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        verify_rate_per_s: 0.0,
        ..ServerConfig::default()
    };
    let state = AppState::new(node.clone(), config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.worker_threads.clamp(1, 64))
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let load = Arc::new(Load {
        latency_us: Histogram::default(),
        requests: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        first_error: Mutex::new(None),
    });
    let seconds = runtime.block_on({
        let load = load.clone();
        async move {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
            let address = listener.local_addr()?;
            let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(skill_ledger_server::serve(listener, state, async {
                let _ = stopped.await;
            }));
            let clients: Vec<_> = (0..args.connections)
                .map(|c| {
                    tokio::spawn(client(
                        address,
                        load.clone(),
                        requests.clone(),
                        c * requests.len() / args.connections,
                    ))
                })
                .collect();
            tokio::time::sleep(Duration::from_secs(1)).await;
            load.measuring.store(true, Ordering::Relaxed);
            let started = Instant::now();
            tokio::time::sleep(Duration::from_secs(args.seconds)).await;
            load.measuring.store(false, Ordering::Relaxed);
            let seconds = started.elapsed().as_secs_f64();
            load.stop.store(true, Ordering::Relaxed);
            for client in clients {
                let _ = client.await;
            }
            let _ = stop_server.send(());
            let _ = server.await;
            Ok::<_, anyhow::Error>(seconds)
        }
    })?;
    drop(runtime);
    let requests_total = load.requests.load(Ordering::Relaxed);
    let errors = load.errors.load(Ordering::Relaxed);
    let first_error = load.first_error.lock().ok().and_then(|first| first.clone());
    let value = json!({
        "benchmark": "verify",
        "credentials": args.credentials,
        "seconds": seconds,
        "connections": args.connections,
        "worker_threads": args.worker_threads,
        "requests": requests_total,
        "requests_per_s": requests_total as f64 / seconds,
        "p50_ms": load.latency_us.quantile(0.50) as f64 / 1000.0,
        "p99_ms": load.latency_us.quantile(0.99) as f64 / 1000.0,
        "p999_ms": load.latency_us.quantile(0.999) as f64 / 1000.0,
        "errors": errors,
        "first_error": first_error,
        "build_seconds": build_seconds,
        "peak_rss_mb": crate::bench::peak_rss_mb(),
        "machine_limits": machine.to_json(),
    });
    match Arc::try_unwrap(node) {
        Ok(node) => node.close()?,
        Err(_) => return Err(anyhow!("the node was still in use after the benchmark").into()),
    }
    crate::output::print_report(&value, json);
    if errors > 0 {
        return Err(anyhow!("{errors} verifications failed: {}", value["first_error"]).into());
    }
    Ok(())
}
