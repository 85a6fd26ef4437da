//! `skill-ledger issue-batch` (alias `issue-csv`): an evaluation body's results after an exam
//! session, one credential per row of a CSV or Excel file, signed on the body's machine with
//! its key, and submitted to a ledger directory (`--dir`) or to the authority's serving node
//! (`--node URL`, over HTTP: the body never needs the node's directory or pseudonym key).
//!
//! The file is read whole and every row checked first (batch_file.rs); with `--dry-run` each
//! well-formed row is then decided by the node's rules against its current state without
//! writing (`POST /v1/events/batch` with `dry_run`, or in process with `--dir`), and every
//! problem is printed by line and column. A real run refuses a file with a malformed row
//! (nothing is submitted), submits the rest, shows a progress bar, and writes a receipt per
//! row (`--receipt`). Each row's event id derives from the ledger's origin and its
//! certificate number, so rerunning a file after an interruption answers the rows already on
//! the ledger as duplicates and submits only the rest. `--all-or-nothing` makes a dry run
//! first and submits only when no row has a problem.
//!
//! Over HTTP the rows are cut into requests that keep each person's rows together and in
//! file order (a 四级 earlier in the file counts for a 三级 later, in one request), so the
//! requests are independent and several go at once: the pseudonyms of a request's holders
//! (`POST /v1/pseudonyms`, rate-limited per body: a 429 is waited out), its signing, and its
//! `POST /v1/events/batch`, while the next request is prepared.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{anyhow, Context};
use base64::Engine as _;
use clap::Args;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use skill_ledger_domain::{
    CertificateNumber, Date, Event, EventKind, LevelCertified, NameCommitment, OccupationCode,
    PseudonymItemText, RegistrationNumber, Route, SignedEvent, Signer, SpecialAbilityCertified,
    SubjectId,
};
use skill_ledger_node::Node;
use skill_ledger_server::api::{decide_without_writing, DryRun};
use skill_ledger_server::pseudonyms::PseudonymResponse;

use crate::batch_file::{
    check_rows, event_id, read_table, rejection_column, Certified, Row, RowProblem,
};
use crate::output::print_json;
use crate::remote::{NodeClient, Refusal, TargetArg, Writer};
use crate::submit::{post_batch, rejection_text, write_receipt, Outcome, ReceiptLine};
use crate::{CliResult, Failure};

#[derive(Args)]
pub struct IssueBatchArgs {
    #[command(flatten)]
    pub target: TargetArg,
    /// The issuing body's private key file (every row's certificate number must be its).
    #[arg(long)]
    pub key: PathBuf,
    /// The results file: .csv (UTF-8 or GB18030) or .xlsx (first sheet); header row first
    /// (docs/formats.md, Part 7).
    #[arg(long = "file", value_name = "FILE")]
    pub file_flag: Option<PathBuf>,
    /// The results file, as `issue-csv FILE` takes it.
    #[arg(value_name = "FILE", conflicts_with = "file_flag")]
    pub file: Option<PathBuf>,
    /// Check every row against the node's current state and print every problem; nothing
    /// is written.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse the whole file when one row would fail: a dry run first, then the submission
    /// only if it found no problem.
    #[arg(long, conflicts_with = "dry_run")]
    pub all_or_nothing: bool,
    /// Check the file's form only (no node is asked): columns, numbers, dates, duplicates.
    #[arg(long, conflicts_with_all = ["dry_run", "all_or_nothing"])]
    pub check_only: bool,
    /// Write a receipt, one line per row: its line, certificate number, event id, outcome
    /// (accepted, duplicate, rejected, invalid, not-submitted, would-accept), entry index
    /// and rejection code. CSV if the name ends in .csv, JSON Lines otherwise.
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
    /// With --node: rows per request to the node (a request the node finds too large is
    /// split).
    #[arg(long, default_value_t = crate::submit::BATCH_SIZE_DEFAULT)]
    pub batch_size: usize,
    /// With --node: holders per pseudonym request (the node's `pseudonym_items_max`).
    #[arg(long, default_value_t = 100)]
    pub pseudonym_batch: usize,
    /// With --node: requests in flight at once.
    #[arg(long, default_value_t = 2)]
    pub parallel: usize,
}

/// How a run goes over HTTP.
#[derive(Clone, Copy)]
pub struct Shape {
    pub batch_size: usize,
    pub pseudonym_batch: usize,
    pub parallel: usize,
}

/// Each row's outcome, and with `--node` its signed entry.
pub struct Decided {
    pub outcomes: Vec<Outcome>,
    /// A failure that stopped the run (the rows not reached are `not-submitted`).
    pub failure: Option<Failure>,
    /// `--all-or-nothing`: the dry run found a problem, so nothing was submitted.
    pub refused_whole: bool,
}

/// The issuing body of a key file: its name, when that is a registration number.
fn key_body(name: &str) -> Option<RegistrationNumber> {
    name.parse().ok()
}

/// What one certification says about its holder, from a row or from `issue`'s flags.
pub struct Certification<'a> {
    pub certificate_number: CertificateNumber,
    pub subject: SubjectId,
    pub name_commitment: NameCommitment,
    pub occupation: OccupationCode,
    pub work_type: Option<String>,
    pub certified: &'a Certified,
    pub issued: Date,
    pub route: &'a Route,
}

impl Certification<'_> {
    /// The event: a `LevelCertified` (a skill level, a qualification or a comparison) or,
    /// for an ability, a `SpecialAbilityCertified`.
    pub fn event_kind(self) -> EventKind {
        match self.certified {
            Certified::Level(level) => EventKind::LevelCertified(LevelCertified {
                certificate_number: self.certificate_number,
                subject: self.subject,
                name_commitment: self.name_commitment,
                occupation: self.occupation,
                work_type: self.work_type,
                level: *level,
                issued: self.issued,
                route: self.route.clone(),
            }),
            Certified::Ability(ability) => {
                EventKind::SpecialAbilityCertified(SpecialAbilityCertified {
                    certificate_number: self.certificate_number,
                    subject: self.subject,
                    name_commitment: self.name_commitment,
                    occupation: self.occupation,
                    ability: ability.clone(),
                    issued: self.issued,
                })
            }
        }
    }
}

/// The certification of a row, signed. A foreign comparison's id is its document's (one
/// document is compared once); every other row's derives from the certificate number, so a
/// rerun is a duplicate.
pub fn sign_row(
    origin: &str,
    key: &SigningKey,
    row: &Row,
    subject: SubjectId,
    name_commitment: NameCommitment,
) -> SignedEvent {
    let kind = Certification {
        certificate_number: row.certificate_number,
        subject,
        name_commitment,
        occupation: row.occupation,
        work_type: row.work_type.clone(),
        certified: &row.certified,
        issued: row.date,
        route: &row.route,
    }
    .event_kind();
    let id = row
        .route
        .foreign_document_id()
        .unwrap_or_else(|| event_id(origin, &row.certificate_number));
    SignedEvent::sign(
        origin,
        Signer::Body(row.certificate_number.registration_number()),
        key,
        Event { id, kind },
    )
}

/// Signs rows on all cores; the standard base64 of each entry, in order.
pub fn sign_rows(
    origin: &str,
    key: &SigningKey,
    rows: &[&Row],
    pseudonyms: &[(SubjectId, NameCommitment)],
) -> Result<Vec<String>, Failure> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = rows.len().div_ceil(threads.max(1)).max(64);
    let signed: Vec<Result<Vec<String>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .chunks(per_thread)
            .zip(pseudonyms.chunks(per_thread))
            .map(|(rows, pseudonyms)| {
                scope.spawn(move || {
                    rows.iter()
                        .zip(pseudonyms)
                        .map(|(row, (subject, commitment))| {
                            sign_row(origin, key, row, *subject, *commitment)
                                .to_entry()
                                .map(|entry| {
                                    base64::engine::general_purpose::STANDARD.encode(entry)
                                })
                                .map_err(|error| {
                                    format!("line {}: the event does not encode: {error}", row.line)
                                })
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("a signing thread failed".into()))
            })
            .collect()
    });
    let mut entries = Vec::with_capacity(rows.len());
    for part in signed {
        entries.extend(part.map_err(|error| anyhow!(error))?);
    }
    Ok(entries)
}

/// The holders' pseudonyms from a serving node, asked with the body's key in requests of
/// `per_request` holders; a 429 (the body's pseudonym rate) is waited out.
pub fn remote_pseudonyms(
    client: &NodeClient,
    key: &SigningKey,
    body: RegistrationNumber,
    rows: &[&Row],
    per_request: usize,
) -> Result<Vec<(SubjectId, NameCommitment)>, Failure> {
    let mut answers = Vec::with_capacity(rows.len());
    let registration_number = body.to_string();
    for part in rows.chunks(per_request.max(1)) {
        let mut wait = 1u64;
        loop {
            let timestamp = crate::remote::unix_now_s()?;
            let texts: Vec<PseudonymItemText<'_>> = part
                .iter()
                .map(|row| PseudonymItemText {
                    id_type: row.id_type.code(),
                    id_number: &row.id_number,
                    name: &row.name,
                    certificate_number: row.certificate_number.as_str(),
                })
                .collect();
            let request = crate::remote::pseudonym_request_body(
                client.origin(),
                &registration_number,
                timestamp,
                &texts,
                key,
            );
            let response = client.call("POST", "v1/pseudonyms", Some(&request))?;
            if response.status == 429 || response.status == 503 {
                if wait == 1 {
                    eprintln!(
                        "skill-ledger: {} limits this body's pseudonym requests: waiting",
                        client.url()
                    );
                }
                std::thread::sleep(Duration::from_secs(wait));
                wait = (wait * 2).min(30);
                continue;
            }
            if response.status != 200 {
                let refusal = Refusal::of(&response);
                let error = anyhow!(
                    "the node refused the pseudonyms of lines {}–{} ({}): {}",
                    part.first().map_or(0, |row| row.line),
                    part.last().map_or(0, |row| row.line),
                    refusal.code,
                    refusal.detail
                );
                return Err(if response.status == 403 || response.status == 422 {
                    Failure::refused(error)
                } else {
                    refusal.error(client.url()).into()
                });
            }
            let answer: PseudonymResponse =
                serde_json::from_slice(&response.body).with_context(|| {
                    format!("{}/v1/pseudonyms answered without pseudonyms", client.url())
                })?;
            if answer.items.len() != part.len() {
                return Err(anyhow!(
                    "{}/v1/pseudonyms answered {} items for {}",
                    client.url(),
                    answer.items.len(),
                    part.len()
                )
                .into());
            }
            for item in &answer.items {
                let pair = SubjectId::from_hex(&item.subject)
                    .zip(NameCommitment::from_hex(&item.name_commitment))
                    .ok_or_else(|| {
                        anyhow!(
                            "{}/v1/pseudonyms answered a malformed pseudonym",
                            client.url()
                        )
                    })?;
                answers.push(pair);
            }
            break;
        }
    }
    Ok(answers)
}

/// The requests of an HTTP run: row positions, each person's rows together and in file order,
/// about `size` rows each.
pub fn plan_requests(rows: &[Row], size: usize) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<(&str, &str), usize> = HashMap::new();
    for (position, row) in rows.iter().enumerate() {
        let group = *group_of.entry(row.person_key()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(position);
    }
    let mut requests: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for group in groups {
        if !current.is_empty() && current.len() + group.len() > size.max(1) {
            requests.push(std::mem::take(&mut current));
        }
        current.extend(group);
    }
    if !current.is_empty() {
        requests.push(current);
    }
    for request in &mut requests {
        request.sort_unstable();
    }
    requests
}

/// Over HTTP: pseudonyms, signing and `POST /v1/events/batch`, requests in parallel. With
/// `dry_runs` both, a dry run of every request first, and the real run only when no row
/// failed it (`--all-or-nothing`); the entries are signed once.
pub fn run_remote(
    client: &NodeClient,
    key: &SigningKey,
    body: RegistrationNumber,
    rows: &[Row],
    shape: Shape,
    mode: Mode,
    bar: &indicatif::ProgressBar,
) -> Decided {
    let requests = plan_requests(rows, shape.batch_size);
    let signed: Vec<Mutex<Option<Vec<String>>>> =
        requests.iter().map(|_| Mutex::new(None)).collect();
    let mut outcomes: Vec<Outcome> =
        vec![Outcome::NotSubmitted("the run stopped before this row".into()); rows.len()];
    let passes: &[bool] = match mode {
        Mode::DryRun => &[true],
        Mode::Submit => &[false],
        Mode::AllOrNothing => &[true, false],
    };
    for (pass, &dry_run) in passes.iter().enumerate() {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let failure: Mutex<Option<Failure>> = Mutex::new(None);
        let results: Mutex<Vec<(usize, Vec<Outcome>)>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..shape.parallel.max(1) {
                scope.spawn(|| loop {
                    let request = next.fetch_add(1, Ordering::Relaxed);
                    if request >= requests.len() || stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let positions = &requests[request];
                    let prepared = {
                        let mut slot = signed[request].lock().unwrap_or_else(|p| p.into_inner());
                        match slot.as_ref() {
                            Some(entries) => Ok(entries.clone()),
                            None => {
                                let picked: Vec<&Row> =
                                    positions.iter().map(|&i| &rows[i]).collect();
                                let made = remote_pseudonyms(
                                    client,
                                    key,
                                    body,
                                    &picked,
                                    shape.pseudonym_batch,
                                )
                                .and_then(|pseudonyms| {
                                    sign_rows(client.origin(), key, &picked, &pseudonyms)
                                });
                                if let Ok(entries) = &made {
                                    *slot = Some(entries.clone());
                                }
                                made
                            }
                        }
                    };
                    match prepared.and_then(|entries| post_batch(client, &entries, dry_run)) {
                        Ok(answered) => {
                            bar.inc(positions.len() as u64);
                            results
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push((request, answered));
                        }
                        Err(error) => {
                            stop.store(true, Ordering::Relaxed);
                            failure
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .get_or_insert(error);
                            return;
                        }
                    }
                });
            }
        });
        for (request, answered) in results.into_inner().unwrap_or_else(|p| p.into_inner()) {
            for (&position, outcome) in requests[request].iter().zip(answered) {
                outcomes[position] = outcome;
            }
        }
        if let Some(error) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Decided {
                outcomes,
                failure: Some(error),
                refused_whole: false,
            };
        }
        let last = pass + 1 == passes.len();
        if !last {
            if outcomes
                .iter()
                .any(|o| matches!(o, Outcome::Rejected { .. }))
            {
                return Decided {
                    outcomes,
                    failure: None,
                    refused_whole: true,
                };
            }
            bar.set_position(0);
        }
    }
    Decided {
        outcomes,
        failure: None,
        refused_whole: false,
    }
}

/// What a run does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    DryRun,
    Submit,
    AllOrNothing,
}

/// In process, on a ledger directory: the node's pseudonym key, signing, and the node's
/// dry run or sequencer.
fn run_local(
    node: &Node,
    key: &SigningKey,
    rows: &[Row],
    mode: Mode,
    bar: &indicatif::ProgressBar,
) -> Decided {
    let pseudonyms = node.pseudonym_key();
    let origin = node.origin().to_string();
    let signed: Vec<SignedEvent> = rows
        .iter()
        .map(|row| {
            sign_row(
                &origin,
                key,
                row,
                pseudonyms.subject(row.id_type, &row.id_number),
                pseudonyms.commit_name(row.certificate_number.as_str(), &row.name),
            )
        })
        .collect();
    let encoded: Vec<Result<Vec<u8>, skill_ledger_domain::EntryError>> =
        signed.iter().map(|signed| signed.to_entry()).collect();
    let mut outcomes: Vec<Outcome> =
        vec![Outcome::NotSubmitted("the run stopped before this row".into()); rows.len()];
    if mode != Mode::Submit {
        let candidates: Vec<Option<(&SignedEvent, &[u8])>> = signed
            .iter()
            .zip(&encoded)
            .map(|(signed, entry)| entry.as_ref().ok().map(|entry| (signed, entry.as_slice())))
            .collect();
        match decide_without_writing(node, &candidates) {
            Err(error) => {
                return Decided {
                    outcomes,
                    failure: Some(error.into()),
                    refused_whole: false,
                }
            }
            Ok(decisions) => {
                for (position, decision) in decisions.into_iter().enumerate() {
                    outcomes[position] = match decision {
                        None => Outcome::Rejected {
                            code: "malformed-entry".into(),
                            message: "the event does not encode".into(),
                            message_zh: None,
                        },
                        Some(DryRun::Accepted) => Outcome::WouldAccept,
                        Some(DryRun::Duplicate(index)) => Outcome::Duplicate(index),
                        Some(DryRun::Rejected(rejection)) => Outcome::Rejected {
                            code: rejection.code().to_string(),
                            message: rejection.to_string(),
                            message_zh: Some(rejection.message_zh().to_string()),
                        },
                    };
                }
            }
        }
        bar.inc(rows.len() as u64);
        let clean = !outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Rejected { .. }));
        if mode == Mode::DryRun || !clean {
            return Decided {
                outcomes,
                failure: None,
                refused_whole: !clean && mode == Mode::AllOrNothing,
            };
        }
        bar.set_position(0);
    }
    // Queued in order (the sequencer decides in queue order), then each answer awaited.
    let mut pending = Vec::with_capacity(rows.len());
    for entry in &encoded {
        pending.push(match entry {
            Ok(entry) => node.submit_entry_pending(entry.clone()),
            Err(error) => Err(skill_ledger_node::SubmitError::Malformed(error.clone())),
        });
    }
    let mut failure = None;
    for (position, queued) in pending.into_iter().enumerate() {
        let answer = queued.and_then(|pending| pending.wait());
        outcomes[position] = match answer {
            Ok(receipt) if receipt.duplicate => Outcome::Duplicate(receipt.index),
            Ok(receipt) => Outcome::Accepted(receipt.index),
            Err(skill_ledger_node::SubmitError::Rejected(rejection)) => Outcome::Rejected {
                code: rejection.code().to_string(),
                message: rejection.to_string(),
                message_zh: Some(rejection.message_zh().to_string()),
            },
            Err(error) => {
                // The node cannot go on (storage, shutdown): running the file again resumes.
                if failure.is_none() {
                    failure = Some(anyhow!("line {}: {error}", rows[position].line).into());
                }
                Outcome::NotSubmitted(error.to_string())
            }
        };
        bar.inc(1);
    }
    Decided {
        outcomes,
        failure,
        refused_whole: false,
    }
}

pub fn issue_batch(args: IssueBatchArgs, json: bool) -> CliResult {
    let file = args
        .file_flag
        .clone()
        .or(args.file.clone())
        .ok_or_else(|| anyhow!("give the results file: --file FILE (.csv or .xlsx)"))?;
    let (key_name, key) = crate::admin::read_signing_key(&args.key)?;
    let table = read_table(&file).map_err(|error| anyhow!(error))?;
    let (rows, mut problems) = check_rows(&table);
    // Every row must be the key's body's: the node would refuse the others row by row.
    let body = key_body(&key_name);
    let (rows, foreign): (Vec<Row>, Vec<Row>) = rows.into_iter().partition(|row| {
        body.is_none_or(|body| row.certificate_number.registration_number() == body)
    });
    for row in &foreign {
        problems.push(RowProblem {
            line: row.line,
            column: Some("cert_no".into()),
            code: "not-own-certificate".into(),
            message: format!(
                "certificate {} belongs to body {}, but the key is {key_name}'s",
                row.certificate_number,
                row.certificate_number.registration_number()
            ),
        });
    }
    problems.sort_by_key(|problem| problem.line);
    let mode = if args.dry_run {
        Mode::DryRun
    } else if args.all_or_nothing {
        Mode::AllOrNothing
    } else {
        Mode::Submit
    };
    let record_count = table.records.len();
    let report_head = json!({"file": file, "format": table.kind.name(), "row_count": record_count});
    if args.check_only || (!problems.is_empty() && mode != Mode::DryRun) {
        return report_file_problems(&args, &file, &rows, &problems, report_head, json);
    }
    let writer = Writer::open(&args.target)?;
    let bar = crate::output::progress_bar(
        rows.len() as u64,
        if mode == Mode::DryRun {
            "checking"
        } else {
            "issuing"
        },
        json,
    );
    let decided = match &writer {
        Writer::Local(node) => run_local(node, &key, &rows, mode, &bar),
        Writer::Remote { client, .. } => {
            let body = match body.or_else(|| {
                rows.first()
                    .map(|row| row.certificate_number.registration_number())
            }) {
                Some(body) => body,
                None => {
                    bar.finish_and_clear();
                    writer.close()?;
                    return report_file_problems(&args, &file, &rows, &problems, report_head, json);
                }
            };
            let shape = Shape {
                batch_size: args.batch_size,
                pseudonym_batch: args.pseudonym_batch,
                parallel: args.parallel,
            };
            run_remote(client, &key, body, &rows, shape, mode, &bar)
        }
    };
    bar.finish_and_clear();
    let origin = writer.origin().to_string();
    writer.close()?;
    let Decided {
        mut outcomes,
        failure,
        refused_whole,
    } = decided;
    for (row, outcome) in rows.iter().zip(&outcomes) {
        if let Outcome::Rejected { code, message, .. } = outcome {
            problems.push(RowProblem {
                line: row.line,
                column: rejection_column(code).map(str::to_string),
                code: code.clone(),
                message: message.clone(),
            });
        }
    }
    problems.sort_by_key(|problem| problem.line);
    if refused_whole {
        for outcome in &mut outcomes {
            if matches!(outcome, Outcome::WouldAccept) {
                *outcome =
                    Outcome::NotSubmitted("--all-or-nothing: another row has a problem".into());
            }
        }
    }
    let mut receipt: Vec<ReceiptLine> = rows
        .iter()
        .zip(&outcomes)
        .map(|(row, outcome)| ReceiptLine {
            line: row.line,
            cert_no: Some(row.certificate_number.to_string()),
            event_id: Some(event_id(&origin, &row.certificate_number).to_hex()),
            outcome: outcome.clone(),
        })
        .collect();
    add_invalid_lines(&mut receipt, &problems);
    if let Some(path) = &args.receipt {
        write_receipt(path, &receipt)?;
    }
    let count = |name: &str| {
        receipt
            .iter()
            .filter(|line| line.outcome.name() == name)
            .count()
    };
    let rejected = count("rejected");
    let mut value = report_head;
    value["dry_run"] = json!(mode == Mode::DryRun);
    value["accepted"] = json!(count("accepted"));
    value["would_accept"] = json!(count("would-accept"));
    value["duplicates"] = json!(count("duplicate"));
    value["rejected"] = json!(rejected);
    value["not_submitted"] = json!(count("not-submitted"));
    value["problems"] = Value::Array(problems.iter().map(RowProblem::to_json).collect());
    value["receipt"] = json!(args.receipt);
    value["rows"] = Value::Array(
        receipt
            .iter()
            .map(|line| row_json(line, &problems))
            .collect(),
    );
    if json {
        print_json(&value);
    } else {
        for problem in &problems {
            match rows
                .iter()
                .zip(&outcomes)
                .find(|(row, _)| row.line == problem.line)
            {
                Some((
                    row,
                    Outcome::Rejected {
                        code,
                        message,
                        message_zh,
                    },
                )) => println!(
                    "line {} {}: {}",
                    problem.line,
                    row.certificate_number,
                    rejection_text(code, message, message_zh.as_deref())
                ),
                _ => println!("{problem}"),
            }
        }
        if mode == Mode::DryRun {
            println!(
                "{}: {} rows; {} would be accepted, {} already on the ledger, {} with problems; nothing was written",
                file.display(),
                record_count,
                count("would-accept"),
                count("duplicate"),
                problems.len()
            );
        } else {
            println!(
                "{} accepted, {} already on the ledger, {rejected} rejected{}",
                count("accepted"),
                count("duplicate"),
                if refused_whole {
                    "; --all-or-nothing: nothing was submitted"
                } else {
                    ""
                }
            );
        }
    }
    if let Some(failure) = failure {
        return Err(failure);
    }
    if refused_whole {
        return Err(Failure::refused(anyhow!(
            "{} rows have problems: --all-or-nothing submitted nothing",
            problems.len()
        )));
    }
    if mode == Mode::DryRun && !problems.is_empty() {
        return Err(Failure::refused(anyhow!(
            "{} problems in {} (dry run: nothing was written)",
            problems.len(),
            file.display()
        )));
    }
    if rejected > 0 {
        return Err(Failure::refused(anyhow!(
            "{rejected} of the file's rows were rejected"
        )));
    }
    Ok(())
}

/// The rows that did not pass the file's checks, in the receipt as `invalid`.
fn add_invalid_lines(receipt: &mut Vec<ReceiptLine>, problems: &[RowProblem]) {
    for problem in problems {
        if receipt.iter().any(|line| line.line == problem.line) {
            continue;
        }
        receipt.push(ReceiptLine {
            line: problem.line,
            cert_no: None,
            event_id: None,
            outcome: Outcome::Rejected {
                code: problem.code.clone(),
                message: problem.to_string(),
                message_zh: None,
            },
        });
    }
    receipt.sort_by_key(|line| line.line);
}

/// A row of the `--json` report (the shape `issue-csv` has always printed, with more).
fn row_json(line: &ReceiptLine, problems: &[RowProblem]) -> Value {
    let mut value = json!({"line": line.line, "certificate_number": line.cert_no,
        "event_id": line.event_id, "outcome": line.outcome.name(),
        "accepted": matches!(line.outcome, Outcome::Accepted(_) | Outcome::Duplicate(_)),
        "duplicate": matches!(line.outcome, Outcome::Duplicate(_)),
        "index": line.outcome.index()});
    if let Outcome::Rejected {
        code,
        message,
        message_zh,
    } = &line.outcome
    {
        value["rejection"] = json!(code);
        value["message"] = json!(message);
        value["message_zh"] = json!(message_zh);
        value["column"] = json!(problems
            .iter()
            .find(|p| p.line == line.line)
            .and_then(|p| p.column.clone()));
    }
    value
}

/// The file's own problems (or, with `--check-only`, its verdict): nothing was submitted.
fn report_file_problems(
    args: &IssueBatchArgs,
    file: &std::path::Path,
    rows: &[Row],
    problems: &[RowProblem],
    mut value: Value,
    json: bool,
) -> CliResult {
    if let Some(path) = &args.receipt {
        let mut receipt: Vec<ReceiptLine> = rows
            .iter()
            .map(|row| ReceiptLine {
                line: row.line,
                cert_no: Some(row.certificate_number.to_string()),
                event_id: None,
                outcome: Outcome::NotSubmitted(
                    "the file has problems: nothing was submitted".into(),
                ),
            })
            .collect();
        add_invalid_lines(&mut receipt, problems);
        write_receipt(path, &receipt)?;
    }
    if problems.is_empty() {
        value["checked"] = json!(true);
        if json {
            print_json(&value);
        } else {
            println!("{}: {} rows, all well-formed", file.display(), rows.len());
        }
        return Ok(());
    }
    value["checked"] = json!(false);
    value["problems"] = Value::Array(problems.iter().map(RowProblem::to_json).collect());
    if json {
        print_json(&value);
    }
    let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
    Err(anyhow!(
        "{}: {} problems; nothing was submitted:\n{}",
        file.display(),
        problems.len(),
        listed.join("\n")
    )
    .into())
}
