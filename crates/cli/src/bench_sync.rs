//! `skill-ledger bench sync`: a partner catching up on an origin ledger of N signed entries,
//! through the production mirror (`Mirror::pull`: checkpoint, consistency, tile
//! authentication, signature verification, `decide`, fold, commit).
//!
//! The partner reads the origin in process ([`NodeLog`]: the origin's hash tiles and entry
//! bundles read from its files, as a static file server would serve them), so the figure is
//! the mirror's own cost, without HTTP framing or the network.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context};
use clap::Args;
use serde_json::json;
use skill_ledger_domain::Province;
use skill_ledger_node::{InitOptions, Node};
use skill_ledger_sync::{
    pseudonym_key_fingerprint, Home, Mirror, NodeLog, PartnerConfig, PullOptions,
};

use crate::bench::{
    peak_rss_mb, register_bench_bodies, sign_workload, submit_workload, MachineLimits,
};
use crate::output::{print_report, progress_bar};
use crate::CliResult;

#[derive(Args)]
pub struct SyncArgs {
    /// Entries of the origin ledger (the bench ingest workload).
    #[arg(long, default_value = "100000")]
    pub events: u64,
    /// Directory for both ledgers (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Entries the mirror verifies and commits together.
    #[arg(long, default_value = "4096")]
    pub batch_entries: u64,
}

/// The 1-minute load average, for reading the figures honestly.
pub fn load_average_1m() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

pub fn run(args: SyncArgs, json: bool) -> CliResult {
    if args.events == 0 || args.events > 100_000_000 {
        return Err(anyhow!("--events must be between 1 and 100000000").into());
    }
    if args.batch_entries == 0 {
        return Err(anyhow!("--batch-entries must be at least 1").into());
    }
    let temporary = match &args.dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().context("creating a temporary directory")?),
    };
    let root = args.dir.clone().unwrap_or_else(|| {
        temporary
            .as_ref()
            .map(|t| t.path().to_path_buf())
            .unwrap_or_default()
    });
    let shared_pseudonym_key: [u8; 32] = rand::random();

    // The origin: Chongqing with the ingest workload.
    let mut origin_options = InitOptions::chongqing().importing_history();
    origin_options.pseudonym_key = Some(shared_pseudonym_key);
    let origin = Node::init(&root.join("50"), origin_options)?;
    let workload = register_bench_bodies(&origin, args.events)?;
    let signed = sign_workload(&workload, args.events, json)?;
    let bar = progress_bar(args.events, "origin ingest", json);
    let submitted = submit_workload(&origin, signed.file, args.events, 2048, &bar)?;
    let (failures, first_failure) = (submitted.failures, submitted.first_failure);
    bar.finish_and_clear();
    if failures > 0 {
        return Err(anyhow!(
            "{failures} workload events were refused by the origin: {}",
            first_failure.unwrap_or_default()
        )
        .into());
    }
    origin.flush()?;
    let entries = origin.entry_count();

    // The partner: Sichuan with the shared pseudonym key, mirroring the origin.
    let mut partner_options =
        InitOptions::for_province(Province::SICHUAN, "四川省人力资源和社会保障厅")
            .importing_history();
    partner_options.pseudonym_key = Some(shared_pseudonym_key);
    Node::init(&root.join("51"), partner_options)?.close()?;
    let home = Home::load(&root.join("51"))?;
    let config = PartnerConfig {
        origin: origin.origin().to_string(),
        vkey: origin.verifier_key_text().to_string(),
        url: None,
        witness_vkey: None,
        pseudonym_key_fingerprint: pseudonym_key_fingerprint(origin.pseudonym_key()),
    };
    let mut mirror = Mirror::open(&home, &config)?;
    let machine = MachineLimits::measure(&root)?;
    let limit = machine.batch_verify_per_s;
    let load_before = load_average_1m();
    let options = PullOptions {
        batch_entries_max: args.batch_entries,
        ..PullOptions::default()
    };
    let bar = progress_bar(entries, "catch-up", json);
    let started = Instant::now();
    let report = mirror.pull(&NodeLog::new(&origin), &options, &mut |progress| {
        bar.set_position(progress.cursor);
    })?;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if !report.caught_up() || report.cursor_after != entries {
        return Err(anyhow!(
            "the mirror holds {} of {entries} entries after the pull",
            report.cursor_after
        )
        .into());
    }
    let entries_per_s = entries as f64 / seconds;
    let value = json!({
        "benchmark": "sync",
        "transport": "in-process (NodeLog: the origin's tiles and entry bundles read from its files)",
        "entries": entries,
        "seconds": seconds,
        "entries_per_s": entries_per_s,
        "batch_entries": args.batch_entries,
        "batches": report.batches,
        "fetches": {
            "checkpoints": report.fetches.checkpoints,
            "tiles": report.fetches.tiles,
            "bundles": report.fetches.bundles,
        },
        "credentials": report.credentials,
        // Where the time went on the pulling thread (verification runs on the other cores
        // meanwhile; `verify_wait_s` is how long folding waited for it).
        "fetch_s": report.timings.fetch_us as f64 / 1e6,
        "verify_wait_s": report.timings.verify_wait_us as f64 / 1e6,
        "fold_s": report.timings.fold_us as f64 / 1e6,
        "commit_s": report.timings.commit_us as f64 / 1e6,
        "commit_tree_s": report.timings.tree_us as f64 / 1e6,
        "store_s": report.timings.store_us as f64 / 1e6,
        "batch_verify_per_s": limit,
        "machine_limits": machine.to_json(),
        "ratio_to_batch_verify": entries_per_s / limit,
        "entry_bytes_mean": signed.entry_bytes_mean,
        "peak_rss_mb": peak_rss_mb(),
        "load_average_1m_before": load_before,
        "load_average_1m_after": load_average_1m(),
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
    });
    drop(mirror);
    origin.close()?;
    print_report(&value, json);
    Ok(())
}
