//! `skill-ledger sign`: certifications signed on the body's machine into an entry file, one
//! standard-base64 entry per line, for `skill-ledger submit` later (or any HTTP client:
//! each line is the `entry` of `POST /v1/events`).
//!
//! Two inputs. A results file (`--file`, the columns of `issue-batch`): the holders'
//! pseudonyms are asked of the node (`--node URL`, signed with the body's key) or computed
//! from a ledger directory (`--dir`); the event ids are `issue-batch`'s, so a file signed
//! here and submitted later, or issued with `issue-batch`, is the same events. Or JSON
//! event descriptions (`--events`, JSON Lines) that already carry each holder's `subject`
//! and `name_commitment` (a body's own system asked `POST /v1/pseudonyms` for them): then
//! nothing is asked of anyone, and `--origin` names the ledger the signatures are for.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use base64::Engine as _;
use clap::Args;
use serde::Deserialize;
use serde_json::json;
use skill_ledger_domain::{
    CertificateNumber, Date, EvaluationBasis, Event, EventId, EventKind, Level, LevelCertified,
    NameCommitment, OccupationCode, Route, SignedEvent, Signer, SubjectId,
};

use crate::batch_file::{check_rows, event_id, read_table, Row};
use crate::issue_batch::{remote_pseudonyms, sign_rows};
use crate::output::print_json;
use crate::remote::{TargetArg, Writer};
use crate::{CliResult, Failure};

#[derive(Args)]
pub struct SignArgs {
    /// The issuing body's private key file.
    #[arg(long)]
    pub key: PathBuf,
    /// A results file (.csv or .xlsx, the columns of `issue-batch`); the pseudonyms come from
    /// --node or --dir.
    #[arg(long, value_name = "FILE", required_unless_present = "events")]
    pub file: Option<PathBuf>,
    /// JSON Lines, one certification per line with its subject and name_commitment
    /// (docs/formats.md, "Signing elsewhere"); needs --origin, asks nothing of a node.
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    pub events: Option<PathBuf>,
    /// The ledger's origin (e.g. skill-ledger/50), for --events.
    #[arg(long, requires = "events")]
    pub origin: Option<String>,
    #[command(flatten)]
    pub target: TargetArg,
    /// Where to write the entries (created, never overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// One certification described in JSON (the `--events` input).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventDescription {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    event_id: Option<String>,
    certificate_number: String,
    subject: String,
    name_commitment: String,
    occupation: String,
    #[serde(default)]
    work_type: Option<String>,
    level: String,
    issued: String,
    #[serde(default)]
    attested: Option<String>,
    #[serde(default)]
    direct: Option<String>,
    #[serde(default)]
    apprenticeship: Option<String>,
    #[serde(default)]
    contest: Option<String>,
    #[serde(default)]
    title: Option<String>,
}

fn described_event(origin: &str, text: &str) -> Result<Event, String> {
    let description: EventDescription =
        serde_json::from_str(text).map_err(|error| format!("not an event description: {error}"))?;
    if let Some(kind) = &description.kind {
        if kind != "level_certified" {
            return Err(format!(
                "kind: '{kind}': only level_certified is signed here"
            ));
        }
    }
    let at = |member: &str, error: String| format!("{member}: {error}");
    let certificate_number: CertificateNumber = description.certificate_number.parse().map_err(
        |error: skill_ledger_domain::IdParseError| at("certificate_number", error.to_string()),
    )?;
    let subject = SubjectId::from_hex(&description.subject)
        .ok_or_else(|| at("subject", "must be 64 hex characters".into()))?;
    let name_commitment = NameCommitment::from_hex(&description.name_commitment)
        .ok_or_else(|| at("name_commitment", "must be 64 hex characters".into()))?;
    let occupation: OccupationCode = description.occupation.parse().map_err(
        |error: skill_ledger_domain::OccupationCodeParseError| at("occupation", error.to_string()),
    )?;
    let level: Level = description
        .level
        .parse()
        .map_err(|error: skill_ledger_domain::LevelParseError| at("level", error.to_string()))?;
    let issued: Date = description
        .issued
        .parse()
        .map_err(|error: skill_ledger_domain::DateParseError| at("issued", error.to_string()))?;
    let reference = |member: &str, text: &str| {
        EventId::from_hex(text).ok_or_else(|| at(member, "must be 32 hex characters".into()))
    };
    let routes = [
        ("attested", &description.attested),
        ("direct", &description.direct),
        ("apprenticeship", &description.apprenticeship),
        ("contest", &description.contest),
        ("title", &description.title),
    ];
    let given: Vec<(&str, &String)> = routes
        .iter()
        .filter_map(|(member, value)| value.as_ref().map(|value| (*member, value)))
        .collect();
    let route = match given.as_slice() {
        [] => Route::Evaluation(EvaluationBasis::PriorLevel),
        [("attested", statement)] => Route::Evaluation(EvaluationBasis::Attested {
            statement: statement.to_string(),
        }),
        [("direct", justification)] => Route::DirectRecognition {
            justification: justification.to_string(),
        },
        [("apprenticeship", id)] => Route::Evaluation(EvaluationBasis::Apprenticeship {
            apprenticeship: reference("apprenticeship", id)?,
        }),
        [("contest", id)] => Route::Contest {
            result: reference("contest", id)?,
        },
        [(_, id)] => Route::Conversion {
            title: reference("title", id)?,
        },
        _ => {
            return Err(
                "give at most one of attested, direct, apprenticeship, contest, title".into(),
            )
        }
    };
    let id = match &description.event_id {
        Some(text) => reference("event_id", text)?,
        None => event_id(origin, &certificate_number),
    };
    Ok(Event {
        id,
        kind: EventKind::LevelCertified(LevelCertified {
            certificate_number,
            subject,
            name_commitment,
            occupation,
            work_type: description.work_type,
            level,
            issued,
            route,
        }),
    })
}

fn create_new(path: &Path) -> Result<std::fs::File, Failure> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist)", path.display()))
        .map_err(Failure::from)
}

pub fn sign(args: SignArgs, json: bool) -> CliResult {
    let (_, key) = crate::admin::read_signing_key(&args.key)?;
    let (entries, origin): (Vec<String>, String) = if let Some(path) = &args.events {
        let origin = args
            .origin
            .clone()
            .ok_or_else(|| anyhow!("--events needs --origin (e.g. skill-ledger/50)"))?;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match described_event(&origin, line) {
                Ok(event) => {
                    let EventKind::LevelCertified(certified) = &event.kind else {
                        continue;
                    };
                    let signer = Signer::Body(certified.certificate_number.registration_number());
                    let entry = SignedEvent::sign(&origin, signer, &key, event)
                        .to_entry()
                        .map_err(|error| anyhow!("line {}: {error}", number + 1))?;
                    entries.push(base64::engine::general_purpose::STANDARD.encode(entry));
                }
                Err(error) => problems.push(format!("line {}: {error}", number + 1)),
            }
        }
        if !problems.is_empty() {
            return Err(anyhow!(
                "{}: {} problems; nothing was signed:\n{}",
                path.display(),
                problems.len(),
                problems.join("\n")
            )
            .into());
        }
        (entries, origin)
    } else {
        let path = args
            .file
            .as_ref()
            .ok_or_else(|| anyhow!("give --file or --events"))?;
        let table = read_table(path).map_err(|error| anyhow!(error))?;
        let (rows, problems) = check_rows(&table);
        if !problems.is_empty() {
            let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(anyhow!(
                "{}: {} problems; nothing was signed:\n{}",
                path.display(),
                problems.len(),
                listed.join("\n")
            )
            .into());
        }
        let picked: Vec<&Row> = rows.iter().collect();
        let writer = Writer::open(&args.target)?;
        let origin = writer.origin().to_string();
        let pseudonyms = match &writer {
            Writer::Local(node) => Ok(rows
                .iter()
                .map(|row| {
                    (
                        node.pseudonym_key().subject(row.id_type, &row.id_number),
                        node.pseudonym_key()
                            .commit_name(row.certificate_number.as_str(), &row.name),
                    )
                })
                .collect::<Vec<_>>()),
            Writer::Remote { client, .. } => match rows.first() {
                Some(first) => remote_pseudonyms(
                    client,
                    &key,
                    first.certificate_number.registration_number(),
                    &picked,
                    100,
                ),
                None => Ok(Vec::new()),
            },
        };
        writer.close()?;
        let entries = sign_rows(&origin, &key, &picked, &pseudonyms?)?;
        (entries, origin)
    };
    let mut file = create_new(&args.out)?;
    let mut text = entries.join("\n");
    text.push('\n');
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let value = json!({"out": args.out, "entries": entries.len(), "origin": origin});
    if json {
        print_json(&value);
    } else {
        println!(
            "{} entries signed for {origin}, written to {}",
            entries.len(),
            args.out.display()
        );
    }
    Ok(())
}
