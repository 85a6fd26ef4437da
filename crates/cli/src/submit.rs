//! `skill-ledger submit --node URL FILE`: entries signed elsewhere (by `skill-ledger sign`, or
//! by a body's own system following docs/formats.md), one standard-base64 entry per line,
//! posted to the node in batches (`POST /v1/events/batch`), each answered with its receipt.
//!
//! Also the one HTTP batch client of the command line: `issue-batch --node` and `bench
//! issue-batch` post through [`post_batch`], which splits a request the node finds too large
//! (413) and retries what the node could not take yet (503, `unavailable` entries: a
//! resubmission is idempotent), and the receipt file (`--receipt`) all three write.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Context};
use base64::Engine as _;
use clap::Args;
use serde_json::{json, Value};
use skill_ledger_domain::SignedEvent;
use skill_ledger_server::api::{BatchEntryResult, BatchSubmitResponse};

use crate::output::print_json;
use crate::remote::{NodeClient, Refusal};
use crate::{CliResult, Failure};

/// Entries per request by default: about 100 KiB of certifications, under the node's default
/// body limit (128 KiB); a larger request answered 413 is split.
pub const BATCH_SIZE_DEFAULT: usize = 200;
/// Attempts at entries the node could not take yet (503), one second more apart each time.
const ATTEMPTS_MAX: u32 = 10;

/// What became of one entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Accepted(u64),
    Duplicate(u64),
    /// A dry run's answer: every check passed.
    WouldAccept,
    Rejected {
        code: String,
        message: String,
        message_zh: Option<String>,
    },
    /// Not submitted: the file was refused, or the run stopped before this entry.
    NotSubmitted(String),
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Accepted(_) => "accepted",
            Outcome::Duplicate(_) => "duplicate",
            Outcome::WouldAccept => "would-accept",
            Outcome::Rejected { .. } => "rejected",
            Outcome::NotSubmitted(_) => "not-submitted",
        }
    }

    pub fn index(&self) -> Option<u64> {
        match self {
            Outcome::Accepted(index) | Outcome::Duplicate(index) => Some(*index),
            _ => None,
        }
    }

    fn of(result: &BatchEntryResult) -> Outcome {
        match (result.outcome.as_str(), result.index) {
            ("accepted", Some(index)) => Outcome::Accepted(index),
            ("accepted", None) => Outcome::WouldAccept,
            ("duplicate", Some(index)) => Outcome::Duplicate(index),
            _ => Outcome::Rejected {
                code: result
                    .code
                    .clone()
                    .unwrap_or_else(|| "rejected".to_string()),
                message: result.detail.clone().unwrap_or_default(),
                message_zh: result.detail_zh.clone(),
            },
        }
    }
}

/// Posts `entries` (standard base64) to `POST /v1/events/batch`, in order, and answers one
/// outcome per entry. Entries the node could not take yet are sent again (at most
/// [`ATTEMPTS_MAX`] times); a request over the node's body limit is split in two.
pub fn post_batch(
    client: &NodeClient,
    entries: &[String],
    dry_run: bool,
) -> Result<Vec<Outcome>, Failure> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; entries.len()];
    let mut pending: Vec<usize> = (0..entries.len()).collect();
    let mut attempt = 0;
    while !pending.is_empty() {
        attempt += 1;
        let body = json!({
            "entries": pending.iter().map(|&i| entries[i].as_str()).collect::<Vec<_>>(),
            "dry_run": dry_run,
        });
        let response = client.call("POST", "v1/events/batch", Some(&body))?;
        match response.status {
            200 => {}
            413 if pending.len() > 1 => {
                let (first, second) = pending.split_at(pending.len() / 2);
                for part in [first, second] {
                    let texts: Vec<String> = part.iter().map(|&i| entries[i].clone()).collect();
                    for (&i, outcome) in part.iter().zip(post_batch(client, &texts, dry_run)?) {
                        outcomes[i] = Some(outcome);
                    }
                }
                pending.clear();
                continue;
            }
            429 | 503 if attempt < ATTEMPTS_MAX => {
                std::thread::sleep(Duration::from_secs(u64::from(attempt)));
                continue;
            }
            _ => return Err(Refusal::of(&response).error(client.url()).into()),
        }
        let answer: BatchSubmitResponse =
            serde_json::from_slice(&response.body).with_context(|| {
                format!(
                    "{}/v1/events/batch answered 200 without results",
                    client.url()
                )
            })?;
        if answer.results.len() != pending.len() {
            return Err(anyhow!(
                "{}/v1/events/batch answered {} results for {} entries",
                client.url(),
                answer.results.len(),
                pending.len()
            )
            .into());
        }
        let mut again = Vec::new();
        for (&i, result) in pending.iter().zip(&answer.results) {
            if result.outcome == "unavailable" {
                if attempt >= ATTEMPTS_MAX {
                    outcomes[i] = Some(Outcome::NotSubmitted(format!(
                        "the node could not take it ({}): {}",
                        result.code.as_deref().unwrap_or("unavailable"),
                        result.detail.as_deref().unwrap_or("")
                    )));
                } else {
                    again.push(i);
                }
            } else {
                outcomes[i] = Some(Outcome::of(result));
            }
        }
        if !again.is_empty() {
            std::thread::sleep(Duration::from_secs(u64::from(attempt)));
        }
        pending = again;
    }
    Ok(outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or_else(|| Outcome::NotSubmitted("no answer".into())))
        .collect())
}

/// One line of a receipt file.
pub struct ReceiptLine {
    /// The line of the input file (a results row, or an entry line).
    pub line: usize,
    pub cert_no: Option<String>,
    pub event_id: Option<String>,
    pub outcome: Outcome,
}

impl ReceiptLine {
    pub fn to_json(&self) -> Value {
        let (code, message) = match &self.outcome {
            Outcome::Rejected { code, message, .. } => {
                (Some(code.as_str()), Some(message.as_str()))
            }
            Outcome::NotSubmitted(reason) => (None, Some(reason.as_str())),
            _ => (None, None),
        };
        json!({"line": self.line, "cert_no": self.cert_no, "event_id": self.event_id,
            "outcome": self.outcome.name(), "index": self.outcome.index(), "code": code,
            "message": message})
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Writes a receipt: CSV when the name ends in `.csv` (header `line,cert_no,event_id,
/// outcome,index,code,message`), JSON Lines otherwise; through a temporary file renamed into
/// place, so a receipt is never half written.
pub fn write_receipt(path: &Path, lines: &[ReceiptLine]) -> Result<(), Failure> {
    let csv = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
    let mut text = String::new();
    if csv {
        text.push_str("line,cert_no,event_id,outcome,index,code,message\n");
    }
    for line in lines {
        if csv {
            let value = line.to_json();
            let cell = |name: &str| match &value[name] {
                Value::Null => String::new(),
                Value::String(text) => csv_field(text),
                other => other.to_string(),
            };
            text.push_str(
                &[
                    "line", "cert_no", "event_id", "outcome", "index", "code", "message",
                ]
                .map(cell)
                .join(","),
            );
        } else {
            text.push_str(&line.to_json().to_string());
        }
        text.push('\n');
    }
    let temporary = path.with_extension("receipt-partial");
    let written = std::fs::File::create(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    written.with_context(|| format!("cannot write the receipt {}", path.display()))?;
    Ok(())
}

#[derive(Args)]
pub struct SubmitArgs {
    /// URL of the node serving the ledger (e.g. http://127.0.0.1:8080).
    #[arg(long, value_name = "URL")]
    pub node: String,
    /// The entries: one standard-base64 entry per line (blank lines and lines starting with
    /// `#` are skipped), as `skill-ledger sign` writes them.
    pub file: PathBuf,
    /// Write a receipt per entry (CSV if the name ends in .csv, JSON Lines otherwise).
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
    /// Entries per request.
    #[arg(long, default_value_t = BATCH_SIZE_DEFAULT)]
    pub batch_size: usize,
}

/// Reads an entry file: each line's entry, checked to decode, or every bad line named.
pub fn read_entries(path: &Path) -> Result<Vec<(usize, String, SignedEvent)>, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} (UTF-8 text)", path.display()))?;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(line)
            .map_err(|error| format!("not standard base64: {error}"))
            .and_then(|bytes| {
                SignedEvent::from_entry(&bytes).map_err(|error| format!("not an entry: {error}"))
            });
        match decoded {
            Ok(signed) => entries.push((number + 1, line.to_string(), signed)),
            Err(error) => problems.push(format!("line {}: {error}", number + 1)),
        }
    }
    if !problems.is_empty() {
        return Err(anyhow!(
            "{}: {} bad lines; nothing was submitted:\n{}",
            path.display(),
            problems.len(),
            problems.join("\n")
        )
        .into());
    }
    if entries.is_empty() {
        return Err(anyhow!("{} holds no entry", path.display()).into());
    }
    Ok(entries)
}

pub fn submit(args: SubmitArgs, json: bool) -> CliResult {
    let entries = read_entries(&args.file)?;
    let client = NodeClient::connect(&args.node)?;
    let bar = crate::output::progress_bar(entries.len() as u64, "submitting", json);
    let mut lines = Vec::with_capacity(entries.len());
    let mut failure = None;
    // In file order, one request after the other: entries may build on each other.
    for chunk in entries.chunks(args.batch_size.max(1)) {
        let texts: Vec<String> = chunk.iter().map(|(_, text, _)| text.clone()).collect();
        let outcomes = match post_batch(&client, &texts, false) {
            Ok(outcomes) => outcomes,
            Err(error) => {
                let reason = format!("{:#}", error.error);
                failure = Some(error);
                vec![Outcome::NotSubmitted(reason); chunk.len()]
            }
        };
        for ((line, _, signed), outcome) in chunk.iter().zip(outcomes) {
            lines.push(ReceiptLine {
                line: *line,
                cert_no: certificate_of(signed),
                event_id: Some(signed.event.id.to_hex()),
                outcome,
            });
        }
        bar.inc(chunk.len() as u64);
        if failure.is_some() {
            break;
        }
    }
    bar.finish_and_clear();
    for (line, _, signed) in entries.iter().skip(lines.len()) {
        lines.push(ReceiptLine {
            line: *line,
            cert_no: certificate_of(signed),
            event_id: Some(signed.event.id.to_hex()),
            outcome: Outcome::NotSubmitted("the run stopped before this entry".into()),
        });
    }
    if let Some(path) = &args.receipt {
        write_receipt(path, &lines)?;
    }
    let count = |name: &str| lines.iter().filter(|l| l.outcome.name() == name).count();
    let (accepted, duplicates, rejected) =
        (count("accepted"), count("duplicate"), count("rejected"));
    if json {
        print_json(
            &json!({"file": args.file, "accepted": accepted, "duplicates": duplicates,
            "rejected": rejected, "not_submitted": count("not-submitted"),
            "receipt": args.receipt,
            "entries": lines.iter().map(ReceiptLine::to_json).collect::<Vec<_>>()}),
        );
    } else {
        for line in &lines {
            let id = line.event_id.as_deref().unwrap_or("");
            match &line.outcome {
                Outcome::Accepted(index) => {
                    println!("line {}: {id} accepted at entry {index}", line.line)
                }
                Outcome::Duplicate(index) => {
                    println!(
                        "line {}: {id} already on the ledger at entry {index}",
                        line.line
                    )
                }
                Outcome::Rejected {
                    code,
                    message,
                    message_zh,
                } => println!(
                    "line {}: {id} {}",
                    line.line,
                    rejection_text(code, message, message_zh.as_deref())
                ),
                other => println!("line {}: {id} {}", line.line, other.name()),
            }
        }
        println!("{accepted} accepted, {duplicates} already on the ledger, {rejected} rejected");
    }
    if let Some(failure) = failure {
        return Err(failure);
    }
    if rejected > 0 {
        return Err(Failure::refused(anyhow!(
            "{rejected} entries were rejected"
        )));
    }
    Ok(())
}

fn certificate_of(signed: &SignedEvent) -> Option<String> {
    match &signed.event.kind {
        skill_ledger_domain::EventKind::LevelCertified(certified) => {
            Some(certified.certificate_number.to_string())
        }
        _ => None,
    }
}

/// A rejection as `rejection_line` prints one, from the node's answer.
pub fn rejection_text(code: &str, message: &str, message_zh: Option<&str>) -> String {
    match (crate::output::lang(), message_zh) {
        (crate::output::Lang::Zh, Some(zh)) => format!("已拒绝（{code}）：{zh}。详情：{message}"),
        _ => format!("rejected ({code}): {message}"),
    }
}
