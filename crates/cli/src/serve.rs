//! `skill-ledger serve`: the HTTP service on a ledger directory.
//!
//! Configuration, later sources winning: the defaults, a TOML file (`--config`), then each
//! flag or its `SKILL_LEDGER_*` environment variable.
//!
//! With a `partners.toml` in the ledger directory, the service also witnesses the partners'
//! checkpoints (`POST /add-checkpoint`), keeps their mirrors up to date in the background
//! (every `--sync-interval-s`), has their witnesses cosign this ledger's checkpoint, and
//! answers for their certificates (`skill_ledger_server::federation`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use clap::Args;
use serde_json::json;
use skill_ledger_node::Node;
use skill_ledger_server::federation::{self, Federation};
use skill_ledger_server::{AppState, ServerConfig};

use crate::output::print_json;
use crate::{CliResult, DirArg};

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, env = "SKILL_LEDGER_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// TOML file with any of the settings below (see docs/formats.md, "serve configuration").
    #[arg(long, env = "SKILL_LEDGER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Largest request body, bytes (413 above).
    #[arg(long, env = "SKILL_LEDGER_BODY_BYTES_MAX")]
    pub body_bytes_max: Option<u64>,
    /// Longest a request may take, milliseconds (408 slow body, 503 otherwise).
    #[arg(long, env = "SKILL_LEDGER_REQUEST_TIMEOUT_MS")]
    pub request_timeout_ms: Option<u64>,
    /// Requests handled at once (503 with Retry-After above).
    #[arg(long, env = "SKILL_LEDGER_CONCURRENCY_MAX")]
    pub concurrency_max: Option<u32>,
    /// Verifications per second per client address; 0 turns the limit off (429 above).
    #[arg(long, env = "SKILL_LEDGER_VERIFY_RATE_PER_S")]
    pub verify_rate_per_s: Option<f64>,
    /// Verifications a client may send in a burst.
    #[arg(long, env = "SKILL_LEDGER_VERIFY_BURST")]
    pub verify_burst: Option<u32>,
    /// Seconds told by Retry-After on 503 answers.
    #[arg(long, env = "SKILL_LEDGER_RETRY_AFTER_S")]
    pub retry_after_s: Option<u32>,
    /// Seconds between pulls of each partner's log (partners.toml) and cosignature requests.
    #[arg(long, env = "SKILL_LEDGER_SYNC_INTERVAL_S")]
    pub sync_interval_s: Option<u64>,
    /// Longest wait between partner sync attempts after failures (the wait doubles up to it).
    #[arg(long, env = "SKILL_LEDGER_SYNC_BACKOFF_MAX_S")]
    pub sync_backoff_max_s: Option<u64>,
    /// Which requests get a log line: off (the default), errors (status 400 and above),
    /// sampled (errors and --access-log-sample-rate of the rest) or all.
    #[arg(long, env = "SKILL_LEDGER_ACCESS_LOG")]
    pub access_log: Option<skill_ledger_server::AccessLog>,
    /// With --access-log sampled: the share of the other requests logged, 0 to 1.
    #[arg(long, env = "SKILL_LEDGER_ACCESS_LOG_SAMPLE_RATE")]
    pub access_log_sample_rate: Option<f64>,
    /// The address the portal's links and QR codes name, e.g. `https://zscx.example.cn/`
    /// (default: http:// and the address listened on; never a request's Host header).
    #[arg(long, env = "SKILL_LEDGER_PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,
    /// Worker threads of the HTTP runtime (default: one per core).
    #[arg(long, env = "SKILL_LEDGER_WORKER_THREADS")]
    pub worker_threads: Option<usize>,
}

impl ServeArgs {
    /// Defaults, then the file, then flags and environment.
    pub fn server_config(&self) -> anyhow::Result<ServerConfig> {
        let mut config = match &self.config {
            Some(path) => ServerConfig::from_toml_file(path)?,
            None => ServerConfig::default(),
        };
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if let Some(value) = self.body_bytes_max {
            config.body_bytes_max = value;
        }
        if let Some(value) = self.request_timeout_ms {
            config.request_timeout_ms = value;
        }
        if let Some(value) = self.concurrency_max {
            config.concurrency_max = value;
        }
        if let Some(value) = self.verify_rate_per_s {
            config.verify_rate_per_s = value;
        }
        if let Some(value) = self.verify_burst {
            config.verify_burst = value;
        }
        if let Some(value) = self.retry_after_s {
            config.retry_after_s = value;
        }
        if let Some(value) = self.sync_interval_s {
            config.sync_interval_s = value;
            // An interval above the file's backoff bound raises the bound with it.
            config.sync_backoff_max_s = config.sync_backoff_max_s.max(value);
        }
        if let Some(value) = self.sync_backoff_max_s {
            config.sync_backoff_max_s = value;
        }
        if let Some(value) = self.access_log {
            config.access_log = value;
        }
        if let Some(value) = self.access_log_sample_rate {
            config.access_log_sample_rate = value;
        }
        if let Some(value) = &self.public_base_url {
            config.public_base_url = Some(value.clone());
        }
        config.validate()?;
        Ok(config)
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in progress");
}

pub fn run(args: ServeArgs, json: bool) -> CliResult {
    let mut config = args.server_config()?;
    let (node, report) = Node::open(&args.dir.dir)?;
    if report.replayed > 0 || report.projections_rebuilt {
        tracing::info!(
            replayed = report.replayed,
            rebuilt = report.projections_rebuilt,
            "projections brought level with the log"
        );
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all().thread_name("http");
    if let Some(threads) = args.worker_threads {
        runtime.worker_threads(threads.clamp(1, 256));
    }
    let runtime = runtime.build().context("starting the HTTP runtime")?;
    let federation = Federation::open(&node, &BTreeMap::new())
        .context("opening the partners' mirrors (partners.toml)")?;
    let partners: Vec<String> = federation
        .partners()
        .iter()
        .map(|partner| partner.origin().to_string())
        .collect();
    let node = Arc::new(node);
    let origin = node.origin().to_string();
    let served_node = node.clone();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let address = listener.local_addr()?;
        // The address bound (port 0 picks one): the default public base URL names it.
        config.listen = address;
        if config.public_base_url.is_none() && address.ip().is_unspecified() {
            tracing::warn!(
                %address,
                "listening on all interfaces without public_base_url: the portal's links and QR codes name {}",
                config.public_base_url()
            );
        }
        let state = AppState::new(served_node, config).with_federation(federation);
        if json {
            print_json(&json!({
                "listening": address.to_string(),
                "url": format!("http://{address}"),
                "origin": origin,
                "dir": args.dir.dir,
                "partners": partners,
            }));
        } else {
            println!("skill-ledger {origin} listening on http://{address}");
            if !partners.is_empty() {
                println!("  partners: {}", partners.join(", "));
            }
            let _ = std::io::stdout().flush();
        }
        tracing::info!(%address, %origin, "serving");
        let tasks = federation::start(&state);
        let served = skill_ledger_server::serve(listener, state, shutdown_signal())
            .await
            .context("serving HTTP");
        // The tasks hold the node; they end before it is closed.
        tasks.shutdown().await;
        served
    })?;
    drop(runtime);
    match Arc::try_unwrap(node) {
        Ok(node) => node.close()?,
        Err(_) => return Err(anyhow!("the node was still in use at shutdown").into()),
    }
    Ok(())
}
