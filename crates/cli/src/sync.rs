//! `skill-ledger sync`: mirror partner ledgers, show their state and fork evidence, and ask
//! a partner's witness to cosign this ledger's checkpoint (川渝 federation).

use std::path::PathBuf;

use anyhow::anyhow;
use base64::Engine;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use skill_ledger_node::Node;
use skill_ledger_sync::witness::{load_or_create_cosigner, LocalWitness};
use skill_ledger_sync::{
    now_unix_s, request_cosignature, EvidenceRecord, Home, HttpLog, HttpWitness, Mirror,
    MirrorStatus, NodeLog, PartnerConfig, PartnerLog, Partners, PullOptions, SyncError,
    SyncErrorKind, Witness, WitnessTransport,
};

use crate::output::{print_human, print_json};
use crate::{CliResult, DirArg, Failure};

#[derive(Subcommand)]
pub enum SyncCommand {
    /// Fetch, verify and fold a partner's new entries into this ledger's mirror of it.
    Pull(PullArgs),
    /// Each partner's mirror: checkpoint held, entries folded, last pull, alarm.
    Status(DirArg),
    /// Print the evidence kept of a partner's misbehaviour (both signed checkpoints of a fork).
    Evidence(EvidenceArgs),
    /// Add a partner to partners.toml (validated).
    AddPartner(AddPartnerArgs),
    /// End a partner's alarm after the matter is settled: the evidence stays, the mirror
    /// starts over from the partner's current log.
    ClearAlarm(ClearAlarmArgs),
    /// Print this ledger's witness key (the partners' `witness_vkey`), creating it if needed.
    WitnessKey(DirArg),
    /// Ask a partner's witness to cosign this ledger's latest checkpoint.
    Cosign(SourceArgs),
}

#[derive(Args)]
pub struct SourceArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// The partner's origin (e.g. skill-ledger/51); may be left out with one partner.
    #[arg(long)]
    pub partner: Option<String>,
    /// Read the partner from its ledger directory instead of over HTTP.
    #[arg(long, conflicts_with = "url")]
    pub from_dir: Option<PathBuf>,
    /// The partner's base URL (default: the one in partners.toml).
    #[arg(long)]
    pub url: Option<String>,
}

#[derive(Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Entries verified and committed together.
    #[arg(long, default_value = "1024")]
    pub batch_entries: u64,
    /// Stop after this many batches (the next pull resumes).
    #[arg(long)]
    pub batches: Option<u64>,
}

/// `skill-ledger sync --dir D [--partner NAME]` without a subcommand: mirror the partner once,
/// or with `--loop` again every `--interval-s` (backing off after failures), with progress.
#[derive(Args, Default)]
pub struct RunArgs {
    /// Ledger directory (e.g. the demo's D/50).
    #[arg(long, short = 'd', env = "SKILL_LEDGER_DIR")]
    pub dir: Option<PathBuf>,
    /// The partner's origin (e.g. skill-ledger/51); may be left out with one partner.
    #[arg(long)]
    pub partner: Option<String>,
    /// Read the partner from its ledger directory instead of over HTTP.
    #[arg(long, conflicts_with = "url")]
    pub from_dir: Option<PathBuf>,
    /// The partner's base URL (default: the one in partners.toml).
    #[arg(long)]
    pub url: Option<String>,
    /// Entries verified and committed together.
    #[arg(long, default_value = "1024")]
    pub batch_entries: u64,
    /// Keep mirroring: pull again every --interval-s seconds until interrupted.
    #[arg(long = "loop")]
    pub repeat: bool,
    /// Seconds between pulls with --loop (after failures the wait doubles, up to 32 times the interval).
    #[arg(long, default_value = "30", requires = "repeat")]
    pub interval_s: u64,
    /// Stop after this many pulls with --loop (default: until interrupted).
    #[arg(long, requires = "repeat")]
    pub rounds: Option<u64>,
}

#[derive(Args)]
pub struct EvidenceArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Only this partner.
    #[arg(long)]
    pub partner: Option<String>,
}

#[derive(Args)]
pub struct AddPartnerArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// The partner's origin, e.g. skill-ledger/51.
    #[arg(long)]
    pub origin: String,
    /// The partner's checkpoint verifier key (`skill-ledger checkpoint --vkey` on its side).
    #[arg(long)]
    pub vkey: String,
    /// The partner's base URL (http://host:port).
    #[arg(long)]
    pub url: Option<String>,
    /// The partner's witness key (`skill-ledger sync witness-key` on its side).
    #[arg(long)]
    pub witness_vkey: Option<String>,
    /// Fingerprint of the shared pseudonym key as the partner reports it (`sync status`);
    /// default: this ledger's own (the key must be the shared one).
    #[arg(long)]
    pub pseudonym_key_fingerprint: Option<String>,
}

#[derive(Args)]
pub struct ClearAlarmArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long)]
    pub partner: Option<String>,
    /// Why the alarm may end (kept with the evidence).
    #[arg(long)]
    pub reason: String,
}

/// Verification failures exit 1; configuration, I/O and network failures exit 2.
fn failure(error: SyncError) -> Failure {
    match error.kind() {
        SyncErrorKind::Io
        | SyncErrorKind::Config
        | SyncErrorKind::Transport
        | SyncErrorKind::Store
        | SyncErrorKind::Locked => Failure::from(anyhow!(error)),
        _ => Failure::refused(anyhow!(error)),
    }
}

fn load(dir: &DirArg) -> Result<(Home, Partners), Failure> {
    let home = Home::load(&dir.dir).map_err(failure)?;
    let partners = Partners::load(&home).map_err(failure)?;
    Ok((home, partners))
}

pub fn run(command: SyncCommand, json: bool) -> CliResult {
    match command {
        SyncCommand::Pull(args) => pull(args, json),
        SyncCommand::Status(dir) => status(dir, json),
        SyncCommand::Evidence(args) => evidence(args, json),
        SyncCommand::AddPartner(args) => add_partner(args, json),
        SyncCommand::ClearAlarm(args) => clear_alarm(args, json),
        SyncCommand::WitnessKey(dir) => witness_key(dir, json),
        SyncCommand::Cosign(args) => cosign(args, json),
    }
}

/// Opens the partner's directory when `--from-dir` is given (taking its lock).
fn partner_node(source: &SourceArgs, partner: &PartnerConfig) -> Result<Option<Node>, Failure> {
    let Some(dir) = &source.from_dir else {
        return Ok(None);
    };
    let (node, _) = Node::open(dir)?;
    if node.origin() != partner.origin {
        return Err(anyhow!(
            "{} holds ledger {}, not the partner {}",
            dir.display(),
            node.origin(),
            partner.origin
        )
        .into());
    }
    Ok(Some(node))
}

fn partner_url(source: &SourceArgs, partner: &PartnerConfig) -> Result<String, Failure> {
    source
        .url
        .clone()
        .or_else(|| partner.url.clone())
        .ok_or_else(|| {
            anyhow!(
                "no URL for partner {}: give --url or --from-dir, or set url in partners.toml",
                partner.origin
            )
            .into()
        })
}

fn pull(args: PullArgs, json: bool) -> CliResult {
    let (home, partners) = load(&args.source.dir)?;
    let partner = partners
        .select(args.source.partner.as_deref())
        .map_err(failure)?;
    let node = partner_node(&args.source, partner)?;
    let report = pull_once(
        &home,
        partner,
        &args.source,
        node.as_ref(),
        args.batch_entries,
        args.batches,
        json,
    )?;
    if json {
        print_json(&report);
    } else {
        println!("{}", pull_summary(&report));
    }
    Ok(())
}

/// One pull of `partner` into the home's mirror, with a progress bar unless `json`.
fn pull_once(
    home: &Home,
    partner: &PartnerConfig,
    source: &SourceArgs,
    node: Option<&Node>,
    batch_entries: u64,
    batches: Option<u64>,
    json: bool,
) -> Result<Value, Failure> {
    let http;
    let local;
    let log: &dyn PartnerLog = match node {
        Some(node) => {
            local = NodeLog::new(node);
            &local
        }
        None => {
            http = HttpLog::new(&partner_url(source, partner)?).map_err(failure)?;
            &http
        }
    };
    let mut mirror = Mirror::open(home, partner).map_err(failure)?;
    let options = PullOptions {
        batch_entries_max: batch_entries,
        batches_max: batches,
        ..PullOptions::default()
    };
    let mut bar: Option<ProgressBar> = None;
    let result = mirror.pull(log, &options, &mut |progress| {
        if json {
            return;
        }
        let bar = bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(progress.target);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(format!("mirror {}", partner.origin));
            bar
        });
        bar.set_position(progress.cursor);
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = result.map_err(failure)?;
    let withdrawn = withdraw_at_home(home, &mirror)?;
    Ok(json!({
        "partner": report.partner,
        "source": report.source,
        "checkpoint": {
            "size": report.checkpoint.size,
            "root": base64::engine::general_purpose::STANDARD.encode(report.checkpoint.root),
            "time": report.checkpoint.time_unix_s,
        },
        "stale_checkpoint": report.stale_checkpoint,
        "cursor_before": report.cursor_before,
        "cursor_after": report.cursor_after,
        "caught_up": report.caught_up(),
        "batches": report.batches,
        "fetches": {
            "checkpoints": report.fetches.checkpoints,
            "tiles": report.fetches.tiles,
            "bundles": report.fetches.bundles,
            "retries": report.fetches.retries,
        },
        "credentials": report.credentials,
        "recognitions_withdrawn": withdrawn,
    }))
}

/// 互认 follows the origin here as it does under `serve`: after a pull, the home authority
/// withdraws the recognitions of this partner's credentials that the mirror now holds revoked
/// (the same derived entries `serve` would submit, so a withdrawal made before is a
/// duplicate). The home ledger is opened only when the partner has revoked anything.
fn withdraw_at_home(home: &Home, mirror: &Mirror) -> Result<usize, Failure> {
    let reader = mirror.reader();
    let revoked = reader
        .stats()
        .map_err(failure)?
        .get(skill_ledger_domain::stat::REVOKED)
        .copied()
        .unwrap_or(0);
    if revoked == 0 {
        return Ok(0);
    }
    let (node, _) = Node::open(&home.dir)?;
    let withdrawn = skill_ledger_sync::withdraw_revoked_recognitions(&node, &reader)
        .map_err(|error| anyhow!("withdrawing recognitions the origin revoked: {error}"));
    node.close()?;
    Ok(withdrawn?)
}

/// One line about a pull, from its JSON report.
fn pull_summary(report: &Value) -> String {
    let number = |value: &Value| value.as_u64().unwrap_or(0);
    let (before, after) = (
        number(&report["cursor_before"]),
        number(&report["cursor_after"]),
    );
    let withdrawn = number(&report["recognitions_withdrawn"]);
    format!(
        "mirror of {}: {after} of {} entries verified and held ({} new), {} credentials{}{}",
        report["partner"].as_str().unwrap_or_default(),
        number(&report["checkpoint"]["size"]),
        after.saturating_sub(before),
        number(&report["credentials"]),
        if withdrawn > 0 {
            format!("; {withdrawn} recognitions withdrawn (revoked at the origin)")
        } else {
            String::new()
        },
        if report["caught_up"].as_bool().unwrap_or(false) {
            ""
        } else {
            "; run again to continue"
        }
    )
}

/// Most doublings of the wait after consecutive failures.
const BACKOFF_DOUBLINGS_MAX: u32 = 5;

/// `skill-ledger sync`: pull once, or keep pulling with `--loop`.
pub fn run_mirror(args: RunArgs, json: bool) -> CliResult {
    let dir = args.dir.clone().ok_or_else(|| {
        anyhow!("`skill-ledger sync` needs --dir (or SKILL_LEDGER_DIR), or a subcommand")
    })?;
    let source = SourceArgs {
        dir: DirArg { dir },
        partner: args.partner.clone(),
        from_dir: args.from_dir.clone(),
        url: args.url.clone(),
    };
    if args.batch_entries == 0 {
        return Err(anyhow!("--batch-entries must be at least 1").into());
    }
    let (home, partners) = load(&source.dir)?;
    let partner = partners
        .select(source.partner.as_deref())
        .map_err(failure)?;
    if !args.repeat {
        let node = partner_node(&source, partner)?;
        let report = pull_once(
            &home,
            partner,
            &source,
            node.as_ref(),
            args.batch_entries,
            None,
            json,
        )?;
        if json {
            print_json(&report);
        } else {
            println!("{}", pull_summary(&report));
        }
        return Ok(());
    }
    if args.interval_s == 0 {
        return Err(anyhow!("--interval-s must be at least 1").into());
    }
    let mut failures_in_a_row = 0u32;
    let mut round = 0u64;
    loop {
        round += 1;
        // The partner's directory is opened for each pull only: its own node may want it.
        let outcome = partner_node(&source, partner).and_then(|node| {
            pull_once(
                &home,
                partner,
                &source,
                node.as_ref(),
                args.batch_entries,
                None,
                json,
            )
        });
        let line = match outcome {
            Ok(report) => {
                failures_in_a_row = 0;
                let mut line = json!({ "round": round, "ok": true });
                if let (Value::Object(line), Value::Object(report)) = (&mut line, report) {
                    line.extend(report);
                }
                line
            }
            // A fork or an entry the rules refuse stops mirroring until an operator acts:
            // looping on would only repeat the refusal.
            Err(failure) if failure.exit_code == 1 => return Err(failure),
            Err(failure) => {
                failures_in_a_row = failures_in_a_row.saturating_add(1);
                json!({ "round": round, "ok": false, "error": format!("{:#}", failure.error) })
            }
        };
        if json {
            print_json(&line);
        } else if line["ok"].as_bool().unwrap_or(false) {
            println!("round {round}: {}", pull_summary(&line));
        } else {
            eprintln!(
                "round {round}: mirror of {} failed: {}; retrying",
                partner.origin,
                line["error"].as_str().unwrap_or_default()
            );
        }
        if args.rounds.is_some_and(|rounds| round >= rounds) {
            return Ok(());
        }
        let doublings = failures_in_a_row.min(BACKOFF_DOUBLINGS_MAX);
        let wait_s = args.interval_s.saturating_mul(1 << doublings);
        std::thread::sleep(std::time::Duration::from_secs(wait_s));
    }
}

/// What checking a fork record with the partner's key alone shows (`None` for other kinds).
fn fork_check(
    record: &EvidenceRecord,
    vkey: &str,
) -> Option<Result<String, skill_ledger_sync::SyncError>> {
    (record.summary.kind == skill_ledger_sync::EvidenceKind::Fork)
        .then(|| skill_ledger_sync::evidence::verify_fork(record, vkey))
}

fn evidence_json(record: &EvidenceRecord, vkey: &str) -> Value {
    json!({
        "fork_verified": fork_check(record, vkey).map(|checked| match checked {
            Ok(shown) => json!({"ok": true, "shows": shown}),
            Err(why) => json!({"ok": false, "why": why.message()}),
        }),
        "path": record.path,
        "kind": record.summary.kind.id(),
        "partner": record.summary.partner,
        "detected_unix_s": record.summary.detected_unix_s,
        "detail": record.summary.detail,
        "cleared": record.cleared.as_ref().map(|cleared| json!({
            "unix_s": cleared.cleared_unix_s,
            "reason": cleared.reason,
        })),
        "files": record.files.iter().map(|(name, text)| json!({"name": name, "text": text})).collect::<Vec<_>>(),
    })
}

fn status_json(status: &MirrorStatus, partner: &PartnerConfig) -> Value {
    json!({
        "origin": status.partner,
        "url": partner.url,
        "checkpoint": status.checkpoint.as_ref().map(|checkpoint| json!({
            "size": checkpoint.size,
            "root": base64::engine::general_purpose::STANDARD.encode(checkpoint.root),
            "time": checkpoint.time_unix_s,
        })),
        "cursor": status.cursor,
        "caught_up": status.caught_up(),
        "last_pull_unix_s": status.last_pull_unix_s,
        "credentials": status.credentials,
        "alarm": status.alarm.as_ref().map(|alarm| json!({
            "kind": alarm.summary.kind.id(),
            "detail": alarm.summary.detail,
            "detected_unix_s": alarm.summary.detected_unix_s,
            "path": alarm.path,
        })),
    })
}

fn status(dir: DirArg, json: bool) -> CliResult {
    let (home, partners) = load(&dir)?;
    let mut listed = Vec::new();
    for partner in &partners.partners {
        let mirror = Mirror::open(&home, partner).map_err(failure)?;
        listed.push(status_json(&mirror.status().map_err(failure)?, partner));
    }
    let value = json!({
        "origin": home.origin,
        "pseudonym_key_fingerprint": home.pseudonym_key_fingerprint,
        "partners": listed,
    });
    if json {
        print_json(&value);
    } else if listed.is_empty() {
        println!(
            "{}: no partners (pseudonym key fingerprint {}); add one with `skill-ledger sync add-partner`",
            home.origin, home.pseudonym_key_fingerprint
        );
    } else {
        print_human(&value);
    }
    Ok(())
}

fn evidence(args: EvidenceArgs, json: bool) -> CliResult {
    let (home, partners) = load(&args.dir)?;
    let mut records = Vec::new();
    for partner in &partners.partners {
        if args
            .partner
            .as_deref()
            .is_some_and(|origin| origin != partner.origin)
        {
            continue;
        }
        let dir = home.mirror_dir(&partner.origin).join("evidence");
        let found = skill_ledger_sync::evidence::list(&dir).map_err(failure)?;
        records.extend(
            found
                .into_iter()
                .map(|record| (record, partner.vkey.as_str())),
        );
    }
    if json {
        let values: Vec<Value> = records
            .iter()
            .map(|(record, vkey)| evidence_json(record, vkey))
            .collect();
        print_json(&json!({ "records": values }));
        return Ok(());
    }
    if records.is_empty() {
        println!("no evidence: no partner has misbehaved");
    }
    for (record, vkey) in &records {
        println!(
            "{} of {} detected at {}{}\n  {}\n  kept in {}",
            record.summary.kind.id(),
            record.summary.partner,
            record.summary.detected_unix_s,
            match &record.cleared {
                Some(cleared) => format!(
                    " (cleared at {}: {})",
                    cleared.cleared_unix_s, cleared.reason
                ),
                None => " (ALARM: mirroring stopped)".to_string(),
            },
            record.summary.detail,
            record.path.display()
        );
        match fork_check(record, vkey) {
            Some(Ok(shown)) => println!("  verified with the partner's key alone: {shown}"),
            Some(Err(why)) => println!("  NOT shown by the record alone: {why}"),
            None => {}
        }
        for (name, text) in &record.files {
            println!("--- {name}\n{text}");
        }
    }
    Ok(())
}

fn add_partner(args: AddPartnerArgs, json: bool) -> CliResult {
    let (home, mut partners) = load(&args.dir)?;
    let fingerprint = args
        .pseudonym_key_fingerprint
        .clone()
        .unwrap_or_else(|| home.pseudonym_key_fingerprint.clone());
    let partner = PartnerConfig {
        origin: args.origin,
        vkey: args.vkey,
        url: args.url,
        witness_vkey: args.witness_vkey,
        pseudonym_key_fingerprint: fingerprint,
    };
    partners.add(partner.clone(), &home).map_err(failure)?;
    partners.save(&home).map_err(failure)?;
    let value = json!({
        "added": partner.origin,
        "partners_file": home.partners_path(),
        "pseudonym_key_fingerprint": partner.pseudonym_key_fingerprint,
    });
    if json {
        print_json(&value);
    } else {
        println!(
            "partner {} added to {}\n  both ledgers must hold the pseudonym key with fingerprint {}",
            partner.origin,
            home.partners_path().display(),
            partner.pseudonym_key_fingerprint
        );
    }
    Ok(())
}

fn clear_alarm(args: ClearAlarmArgs, json: bool) -> CliResult {
    let (home, partners) = load(&args.dir)?;
    let partner = partners.select(args.partner.as_deref()).map_err(failure)?;
    let mut mirror = Mirror::open(&home, partner).map_err(failure)?;
    let cleared = mirror
        .clear_alarm(&args.reason, now_unix_s())
        .map_err(failure)?;
    let value = json!({ "partner": partner.origin, "cleared_records": cleared });
    if json {
        print_json(&value);
    } else {
        println!(
            "{cleared} evidence record(s) of {} marked cleared (kept); the mirror starts over",
            partner.origin
        );
    }
    Ok(())
}

fn witness_key(dir: DirArg, json: bool) -> CliResult {
    let home = Home::load(&dir.dir).map_err(failure)?;
    let cosigner = load_or_create_cosigner(&home).map_err(failure)?;
    if json {
        print_json(&json!({ "witness_vkey": cosigner.verifier_key_text() }));
    } else {
        println!("{}", cosigner.verifier_key_text());
    }
    Ok(())
}

fn cosign(args: SourceArgs, json: bool) -> CliResult {
    let (home, partners) = load(&args.dir)?;
    let partner = partners.select(args.partner.as_deref()).map_err(failure)?;
    let node = crate::admin::open(&args.dir)?;
    let cosigned = match &args.from_dir {
        Some(dir) => {
            // The partner's witness, run here on its directory (its partners.toml must list us).
            let partner_home = Home::load(dir).map_err(failure)?;
            let witness = Witness::open(&partner_home).map_err(failure)?;
            let transport = LocalWitness {
                witness: &witness,
                now_unix_s: now_unix_s(),
            };
            request_cosignature(&home.dir, &node, partner, &transport)
        }
        None => {
            let transport: Box<dyn WitnessTransport> =
                Box::new(HttpWitness::new(&partner_url(&args, partner)?).map_err(failure)?);
            request_cosignature(&home.dir, &node, partner, transport.as_ref())
        }
    }
    .map_err(failure)?;
    let value = json!({
        "partner": partner.origin,
        "size": cosigned.checkpoint.size,
        "cosigned_unix_s": cosigned.cosigned_unix_s,
        "path": cosigned.path,
        "note": cosigned.note_text,
    });
    if json {
        print_json(&value);
    } else {
        println!(
            "checkpoint {} cosigned by {}'s witness; kept in {}\n{}",
            cosigned.checkpoint.size,
            partner.origin,
            cosigned.path.display(),
            cosigned.note_text
        );
    }
    Ok(())
}
