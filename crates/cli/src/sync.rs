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
        | SyncErrorKind::Store => Failure::from(anyhow!(error)),
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
    let http;
    let local;
    let log: &dyn PartnerLog = match &node {
        Some(node) => {
            local = NodeLog::new(node);
            &local
        }
        None => {
            http = HttpLog::new(&partner_url(&args.source, partner)?).map_err(failure)?;
            &http
        }
    };
    let mut mirror = Mirror::open(&home, partner).map_err(failure)?;
    let options = PullOptions {
        batch_entries_max: args.batch_entries,
        batches_max: args.batches,
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
    let value = json!({
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
    });
    if json {
        print_json(&value);
    } else {
        println!(
            "mirror of {}: {} of {} entries verified and held ({} new), {} credentials{}",
            report.partner,
            report.cursor_after,
            report.checkpoint.size,
            report.cursor_after - report.cursor_before,
            report.credentials,
            if report.caught_up() {
                ""
            } else {
                "; run again to continue"
            }
        );
    }
    Ok(())
}

fn evidence_json(record: &EvidenceRecord) -> Value {
    json!({
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
        records.extend(skill_ledger_sync::evidence::list(&dir).map_err(failure)?);
    }
    if json {
        print_json(&json!({ "records": records.iter().map(evidence_json).collect::<Vec<_>>() }));
        return Ok(());
    }
    if records.is_empty() {
        println!("no evidence: no partner has misbehaved");
    }
    for record in &records {
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
