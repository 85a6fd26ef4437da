//! `skill-ledger issue-csv`: an evaluation body's batch after an exam session, one credential
//! per CSV row, each signed with the body's key and submitted as `issue` would.
//!
//! The file is read whole and every row is checked (fields, identity number, holder name)
//! before anything is submitted: a malformed row refuses the whole file, naming its line,
//! and nothing is written. Rows are then submitted in order; a row the ledger rejects is
//! reported with its rule and the others go on (exit 1 if any was rejected). Each row's event
//! id is derived from its certificate number, so running the same file again after an
//! interruption answers the rows already on the ledger as duplicates instead of issuing
//! twice.
//!
//! Format (docs/formats.md, "Batch issue CSV"): UTF-8, with or without a byte-order mark,
//! lines ending in LF or CRLF, RFC 4180 quoting; a header row naming the columns in any
//! order: `cert_no`, `id_number`, `name`, `occupation`, `level`, `date` required;
//! `id_type`, `work_type`, `attested`, `direct` optional (empty cells are absent).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;
use serde_json::json;
use sha2::{Digest, Sha256};
use skill_ledger_domain::{
    CertificateNumber, Date, EvaluationBasis, Event, EventId, EventKind, IdDocumentType, Level,
    LevelCertified, OccupationCode, Route, SignedEvent, Signer,
};
use skill_ledger_node::SubmitError;

use crate::admin::{open, read_signing_key};
use crate::output::{print_json, rejection_line};
use crate::{CliResult, DirArg, Failure};

/// Largest CSV file read (bytes): far above an exam session's batch, bounded all the same.
pub const CSV_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Most rows in one file.
pub const CSV_ROWS_MAX: usize = 200_000;

#[derive(Args)]
pub struct IssueCsvArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// The issuing body's private key file (every row's certificate number must be its).
    #[arg(long)]
    pub key: PathBuf,
    /// The CSV file (header row first; LF or CRLF line ends; a UTF-8 BOM is ignored).
    pub file: PathBuf,
    /// Check every row and stop: nothing is submitted.
    #[arg(long)]
    pub check_only: bool,
}

/// Splits CSV text into records of fields (RFC 4180): a UTF-8 byte-order mark is dropped,
/// records end in LF or CRLF (a lone CR inside quotes is kept), quoted fields may hold
/// commas, quotes (doubled) and line breaks. Returns each record with the line it starts on.
pub fn parse_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            '"' => return Err(format!("line {line}: a quote inside an unquoted field")),
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                records.push((record_line, std::mem::take(&mut fields)));
                line += 1;
                record_line = line;
            }
            other => field.push(other),
        }
    }
    if quoted {
        return Err(format!("line {record_line}: a quoted field is not closed"));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((record_line, fields));
    }
    // Blank lines (a trailing one above all) are not records.
    records.retain(|(_, fields)| !(fields.len() == 1 && fields[0].trim().is_empty()));
    Ok(records)
}

const REQUIRED: [&str; 6] = [
    "cert_no",
    "id_number",
    "name",
    "occupation",
    "level",
    "date",
];
const OPTIONAL: [&str; 4] = ["id_type", "work_type", "attested", "direct"];

/// One row, checked: what `issue` would take from its flags.
struct Row {
    line: usize,
    certificate_number: CertificateNumber,
    id_type: IdDocumentType,
    id_number: String,
    name: String,
    occupation: OccupationCode,
    work_type: Option<String>,
    level: Level,
    date: Date,
    route: Route,
}

fn columns(header: &[String]) -> Result<BTreeMap<String, usize>, String> {
    let mut columns = BTreeMap::new();
    for (index, name) in header.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        if !REQUIRED.contains(&name.as_str()) && !OPTIONAL.contains(&name.as_str()) {
            return Err(format!(
                "line 1: unknown column '{name}' (columns: {}, {})",
                REQUIRED.join(", "),
                OPTIONAL.join(", ")
            ));
        }
        if columns.insert(name.clone(), index).is_some() {
            return Err(format!("line 1: column '{name}' is named twice"));
        }
    }
    if let Some(missing) = REQUIRED.iter().find(|name| !columns.contains_key(**name)) {
        return Err(format!("line 1: the header has no column '{missing}'"));
    }
    Ok(columns)
}

fn check_row(
    line: usize,
    fields: &[String],
    columns: &BTreeMap<String, usize>,
) -> Result<Row, String> {
    if fields.len() != columns.len() {
        return Err(format!(
            "line {line}: {} fields, but the header names {}",
            fields.len(),
            columns.len()
        ));
    }
    let cell = |name: &str| -> Option<&str> {
        columns
            .get(name)
            .map(|index| fields[*index].trim())
            .filter(|text| !text.is_empty())
    };
    let required = |name: &str| -> Result<&str, String> {
        cell(name).ok_or_else(|| format!("line {line}: {name} is empty"))
    };
    let at = |name: &str, error: String| format!("line {line}: {name}: {error}");
    let certificate_number: CertificateNumber = required("cert_no")?
        .parse()
        .map_err(|error: skill_ledger_domain::IdParseError| at("cert_no", error.to_string()))?;
    let id_type_code = cell("id_type").unwrap_or("resident_id");
    let id_type = IdDocumentType::from_code(id_type_code).ok_or_else(|| {
        at(
            "id_type",
            format!("'{id_type_code}' must be resident_id, hmt, passport or foreign_permanent"),
        )
    })?;
    let id_number = skill_ledger_domain::check_document_number(id_type, required("id_number")?)
        .map_err(|error| at("id_number", error.to_string()))?;
    let name = cell("name").unwrap_or("").to_string();
    skill_ledger_domain::check_holder_name(&name).map_err(|error| at("name", error.to_string()))?;
    let occupation: OccupationCode = required("occupation")?.parse().map_err(
        |error: skill_ledger_domain::OccupationCodeParseError| at("occupation", error.to_string()),
    )?;
    let level: Level = required("level")?
        .parse()
        .map_err(|error: skill_ledger_domain::LevelParseError| at("level", error.to_string()))?;
    let date: Date = required("date")?
        .parse()
        .map_err(|error: skill_ledger_domain::DateParseError| at("date", error.to_string()))?;
    let route = match (cell("attested"), cell("direct")) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "line {line}: attested and direct exclude each other"
            ))
        }
        (Some(statement), None) => Route::Evaluation(EvaluationBasis::Attested {
            statement: statement.to_string(),
        }),
        (None, Some(justification)) => Route::DirectRecognition {
            justification: justification.to_string(),
        },
        (None, None) => Route::Evaluation(EvaluationBasis::PriorLevel),
    };
    Ok(Row {
        line,
        certificate_number,
        id_type,
        id_number,
        name,
        occupation,
        work_type: cell("work_type").map(str::to_string),
        level,
        date,
        route,
    })
}

/// Every row of the file checked, or the first problem with its line.
fn read_rows(text: &str) -> Result<Vec<Row>, String> {
    let records = parse_csv(text)?;
    let Some(((_, header), rows)) = records.split_first() else {
        return Err("the file is empty: it needs a header row and one row per credential".into());
    };
    if rows.len() > CSV_ROWS_MAX {
        return Err(format!(
            "{} rows, over the limit of {CSV_ROWS_MAX}: split the file",
            rows.len()
        ));
    }
    let columns = columns(header)?;
    let rows = rows
        .iter()
        .map(|(line, fields)| check_row(*line, fields, &columns))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = BTreeMap::new();
    for row in &rows {
        if let Some(first) = seen.insert(row.certificate_number.to_string(), row.line) {
            return Err(format!(
                "line {}: certificate number {} is also on line {first}",
                row.line, row.certificate_number
            ));
        }
    }
    Ok(rows)
}

/// The event id of a row: a retry of the same file is the same event, answered as a duplicate.
fn event_id(origin: &str, number: &CertificateNumber) -> EventId {
    let digest = Sha256::new()
        .chain_update(b"skill-ledger/issue-csv/v1\0")
        .chain_update(origin.as_bytes())
        .chain_update(b"\0")
        .chain_update(number.as_str().as_bytes())
        .finalize();
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    EventId(id)
}

pub fn issue_csv(args: IssueCsvArgs, json: bool) -> CliResult {
    let (_, key) = read_signing_key(&args.key)?;
    let size = std::fs::metadata(&args.file)
        .map_err(|error| anyhow!("cannot read {}: {error}", args.file.display()))?
        .len();
    if size > CSV_BYTES_MAX {
        return Err(anyhow!(
            "{} is {size} bytes, over the limit of {CSV_BYTES_MAX}: split the file",
            args.file.display()
        )
        .into());
    }
    let bytes = std::fs::read(&args.file)
        .map_err(|error| anyhow!("cannot read {}: {error}", args.file.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow!("{} is not UTF-8 text", args.file.display()))?;
    let rows = read_rows(&text).map_err(|error| anyhow!("{}: {error}", args.file.display()))?;
    if args.check_only {
        let value = json!({"file": args.file, "rows": rows.len(), "checked": true});
        if json {
            print_json(&value);
        } else {
            println!(
                "{}: {} rows, all well-formed",
                args.file.display(),
                rows.len()
            );
        }
        return Ok(());
    }
    let node = open(&args.dir)?;
    let pseudonyms = node.pseudonym_key();
    let mut reports = Vec::with_capacity(rows.len());
    let (mut accepted, mut duplicates, mut rejected) = (0u64, 0u64, 0u64);
    let mut failure = None;
    for row in rows {
        let kind = EventKind::LevelCertified(LevelCertified {
            certificate_number: row.certificate_number,
            subject: pseudonyms.subject(row.id_type, &row.id_number),
            name_commitment: pseudonyms.commit_name(row.certificate_number.as_str(), &row.name),
            occupation: row.occupation,
            work_type: row.work_type,
            level: row.level,
            issued: row.date,
            route: row.route,
        });
        let signed = SignedEvent::sign(
            node.origin(),
            Signer::Body(row.certificate_number.registration_number()),
            &key,
            Event {
                id: event_id(node.origin(), &row.certificate_number),
                kind,
            },
        );
        let number = row.certificate_number.to_string();
        match node.submit(signed) {
            Ok(receipt) => {
                if receipt.duplicate {
                    duplicates += 1;
                } else {
                    accepted += 1;
                }
                if !json {
                    println!(
                        "line {} {number}: {} at entry {}",
                        row.line,
                        if receipt.duplicate {
                            "already on the ledger"
                        } else {
                            "accepted"
                        },
                        receipt.index
                    );
                }
                reports.push(json!({"line": row.line, "certificate_number": number,
                    "accepted": true, "duplicate": receipt.duplicate, "index": receipt.index}));
            }
            Err(SubmitError::Rejected(rejection)) => {
                rejected += 1;
                if !json {
                    println!("line {} {number}: {}", row.line, rejection_line(&rejection));
                }
                reports.push(json!({"line": row.line, "certificate_number": number,
                    "accepted": false, "rejection": rejection.code(),
                    "message": rejection.to_string(), "message_zh": rejection.message_zh()}));
            }
            Err(error) => {
                // The node cannot go on (storage, shutdown): the rows after this one are not
                // submitted; running the file again resumes where it stopped.
                failure = Some(anyhow!("line {} {number}: {error}", row.line));
                break;
            }
        }
    }
    node.close()?;
    let value = json!({"file": args.file, "accepted": accepted, "duplicates": duplicates,
        "rejected": rejected, "rows": reports});
    if json {
        print_json(&value);
    } else {
        println!("{accepted} accepted, {duplicates} already on the ledger, {rejected} rejected");
    }
    if let Some(error) = failure {
        return Err(error.into());
    }
    if rejected > 0 {
        return Err(Failure::refused(anyhow!(
            "{rejected} of the file's rows were rejected"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        parse_csv(text)
            .expect("parses")
            .into_iter()
            .map(|(_, fields)| fields)
            .collect()
    }

    #[test]
    fn crlf_lf_and_a_byte_order_mark_give_the_same_records() {
        let lf = "a,b\n1,张三\n";
        let crlf = "a,b\r\n1,张三\r\n";
        let bom = "\u{feff}a,b\r\n1,张三";
        assert_eq!(fields(lf), vec![vec!["a", "b"], vec!["1", "张三"]]);
        assert_eq!(fields(crlf), fields(lf));
        assert_eq!(fields(bom), fields(lf));
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_line_breaks() {
        let text = "a,b\r\n\"x, \"\"y\"\"\",\"two\r\nlines\"\r\n\r\n";
        assert_eq!(
            fields(text),
            vec![vec!["a", "b"], vec!["x, \"y\"", "two\r\nlines"]]
        );
        let records = parse_csv("a\n\"b\nc\"\nd\n").expect("parses");
        let lines: Vec<usize> = records.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 2, 4]);
        assert!(parse_csv("a\n\"open").is_err());
        assert!(parse_csv("a\nx\"y\n").is_err());
    }

    #[test]
    fn a_malformed_row_refuses_the_file_naming_its_line() {
        let header = "cert_no,id_number,name,occupation,level,date,attested\r\n";
        let good =
            "Y000050000001205000001,50010119900101123X,张三,6-18-01-01,初级工,2020-06-01,满1年\r\n";
        let text = format!("{header}{good}");
        assert_eq!(read_rows(&text).map(|rows| rows.len()), Ok(1));
        let bad_id =
            "Y000050000001205000002,500101199001011234,李四,6-18-01-01,初级工,2020-06-01,满1年\r\n";
        let error = read_rows(&format!("{header}{good}{bad_id}"))
            .err()
            .expect("refused");
        assert!(
            error.starts_with("line 3: id_number: identity number 500101199001011234: check digit"),
            "{error}"
        );
        let no_name =
            "Y000050000001205000002,50010119900101123X, ,6-18-01-01,初级工,2020-06-01,x\r\n";
        let error = read_rows(&format!("{header}{no_name}"))
            .err()
            .expect("refused");
        assert!(
            error.starts_with("line 2: name: the holder name is empty"),
            "{error}"
        );
        let error = read_rows(&format!("{header}{good}{good}"))
            .err()
            .expect("refused");
        assert!(error.contains("is also on line 2"), "{error}");
        let error = read_rows("cert_no,id_number\r\n").err().expect("refused");
        assert!(error.contains("no column 'name'"), "{error}");
    }
}
