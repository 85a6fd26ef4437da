//! The results file of an exam session, as `issue-batch` and `sign` read it: CSV (UTF-8, or
//! GB18030 as Excel saves "CSV" on a zh-CN machine) or an Excel workbook (.xlsx, first sheet),
//! a header row naming the columns, one row per result.
//!
//! Every row is checked here, before any holder data is pseudonymised or anything is signed,
//! and every problem is reported (not only the first), each naming its line (the row number a
//! spreadsheet shows, the header being 1) and its column, so a body fixes its file in one
//! pass. The rules of the ledger (scope, prior levels, duplicates on the ledger) are the node's
//! to judge: `issue-batch --dry-run` asks it.
//!
//! Format: docs/formats.md, Part 7 ("Batch issue CSV").

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use skill_ledger_domain::{
    CertificateNumber, Date, EvaluationBasis, EventId, IdDocumentType, Level, OccupationCode, Route,
};

/// Largest results file read (bytes): far above an exam session's, bounded all the same.
pub const FILE_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Most rows in one file.
pub const ROWS_MAX: usize = 200_000;

/// One problem of the file, by line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    /// The row number as a spreadsheet shows it (the header is 1); for CSV, the line the
    /// record starts on.
    pub line: usize,
    /// The column at fault (its header name), when one is.
    pub column: Option<String>,
    /// A stable code: `malformed-field`, `empty-field`, `field-count`, `conflicting-routes`,
    /// `duplicate-in-file`, or the ledger's rule code (`out-of-scope`, `level-not-reachable`, …).
    pub code: String,
    pub message: String,
}

impl RowProblem {
    fn new(line: usize, column: Option<&str>, code: &str, message: String) -> RowProblem {
        RowProblem {
            line,
            column: column.map(str::to_string),
            code: code.to_string(),
            message,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"line": self.line, "column": self.column, "code": self.code,
            "message": self.message})
    }
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}: {column}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// What the file was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    CsvUtf8,
    CsvGb18030,
    Xlsx,
}

impl FileKind {
    pub fn name(self) -> &'static str {
        match self {
            FileKind::CsvUtf8 => "csv (UTF-8)",
            FileKind::CsvGb18030 => "csv (GB18030)",
            FileKind::Xlsx => "xlsx",
        }
    }
}

/// The cells of a file: the header, then each record with its line.
pub struct Table {
    pub kind: FileKind,
    pub header: (usize, Vec<String>),
    pub records: Vec<(usize, Vec<String>)>,
}

/// Reads a results file whole. An .xlsx workbook (by its name, or its zip signature) is read
/// from its first sheet; anything else is CSV, UTF-8 when the bytes are UTF-8 and GB18030
/// otherwise. A file that is neither is refused with the offset of the first bad byte.
pub fn read_table(path: &Path) -> Result<Table, String> {
    let size = std::fs::metadata(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?
        .len();
    if size > FILE_BYTES_MAX {
        return Err(format!(
            "{} is {size} bytes, over the limit of {FILE_BYTES_MAX}: split the file",
            path.display()
        ));
    }
    let bytes =
        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let named_xlsx = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("xlsx"));
    let table = if named_xlsx || bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else {
        let (text, kind) = decode_text(&bytes)?;
        let records = parse_csv(&text)?;
        split_header(kind, records)
    };
    table.map_err(|error| format!("{}: {error}", path.display()))
}

/// The text of CSV bytes: UTF-8 if they are (a byte-order mark is dropped later), else
/// GB18030 (which GBK and GB2312 files also are).
pub fn decode_text(bytes: &[u8]) -> Result<(String, FileKind), String> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_string(), FileKind::CsvUtf8));
    }
    let (text, malformed) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if malformed {
        let offset = std::str::from_utf8(bytes)
            .err()
            .map_or(0, |error| error.valid_up_to());
        return Err(format!(
            "the file is neither UTF-8 nor GB18030 text (byte {offset} is not UTF-8, and the \
             bytes do not decode as GB18030 either): save it as CSV UTF-8 or as an .xlsx workbook"
        ));
    }
    Ok((text.into_owned(), FileKind::CsvGb18030))
}

fn split_header(kind: FileKind, records: Vec<(usize, Vec<String>)>) -> Result<Table, String> {
    let mut records = records.into_iter();
    let Some(header) = records.next() else {
        return Err("the file is empty: it needs a header row and one row per result".into());
    };
    let records: Vec<_> = records.collect();
    if records.len() > ROWS_MAX {
        return Err(format!(
            "{} rows, over the limit of {ROWS_MAX}: split the file",
            records.len()
        ));
    }
    Ok(Table {
        kind,
        header,
        records,
    })
}

/// The first sheet of a workbook, as text cells. Numbers that are whole print without a
/// fraction; a date cell prints as YYYY-MM-DD; an identity number stored as a number (Excel
/// turns 18 digits into a float and loses the last ones) is caught by the row checks.
fn read_xlsx(bytes: Vec<u8>) -> Result<Table, String> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|error| format!("not an .xlsx workbook: {error}"))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or("the workbook has no sheet")?
        .map_err(|error| format!("the first sheet cannot be read: {error}"))?;
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let mut records = Vec::new();
    for (offset, row) in range.rows().enumerate() {
        let line = first_row as usize + offset + 1;
        // Columns left of the used range are empty, not missing.
        let mut cells: Vec<String> = vec![String::new(); first_column as usize];
        for cell in row {
            cells.push(match cell {
                Data::Empty => String::new(),
                Data::String(text) => text.clone(),
                Data::Int(number) => number.to_string(),
                Data::Float(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
                    format!("{}", *number as i64)
                }
                Data::Float(number) => number.to_string(),
                Data::Bool(value) => value.to_string(),
                Data::DateTime(value) => excel_date(value.as_f64()),
                Data::DateTimeIso(text) => text.chars().take(10).collect(),
                Data::DurationIso(text) => text.clone(),
                Data::Error(error) => format!("#{error:?}"),
            });
        }
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        if cells.is_empty() {
            continue;
        }
        records.push((line, cells));
    }
    split_header(FileKind::Xlsx, records)
}

/// An Excel date serial (days since 1899-12-30, the 1900 system) as YYYY-MM-DD.
fn excel_date(serial: f64) -> String {
    const UNIX_EPOCH_SERIAL: f64 = 25_569.0;
    Date::from_days_since_unix_epoch((serial.floor() - UNIX_EPOCH_SERIAL) as i32)
        .map_or_else(|| format!("{serial}"), |date| date.to_string())
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

/// The columns, each with the Chinese headers a body's own export may use for it.
pub const COLUMNS: [(&str, bool, &[&str]); 17] = [
    ("cert_no", true, &["证书编号"]),
    ("id_number", true, &["证件号码", "身份证号", "身份证号码"]),
    ("name", true, &["姓名"]),
    ("occupation", true, &["职业编码", "职业代码"]),
    ("level", true, &["等级", "技能等级"]),
    ("date", true, &["发证日期"]),
    ("id_type", false, &["证件类型"]),
    ("work_type", false, &["工种"]),
    ("attested", false, &["申报条件"]),
    ("direct", false, &["直接认定"]),
    ("apprenticeship", false, &["学徒"]),
    ("contest", false, &["竞赛成绩"]),
    // 专项职业能力证书 (Z numbers): the policy's ability code; `level` is then empty.
    ("ability", false, &["专项职业能力", "专项能力"]),
    // 境外技能证书比照认定: the catalogue's certificate type (a route), with the other three.
    ("foreign_type", false, &["境外证书类型"]),
    ("foreign_issuer", false, &["境外发证机构"]),
    ("foreign_document", false, &["境外证书编号"]),
    ("catalogue_version", false, &["比照目录版本"]),
];
/// 贯通: the `TitleRecorded` event a level converts from.
const TITLE_COLUMN: (&str, &[&str]) = ("title", &["职称"]);
/// The route columns: at most one per row; none means an evaluation on the level held.
const ROUTE_COLUMNS: [&str; 6] = [
    "attested",
    "direct",
    "apprenticeship",
    "contest",
    "title",
    "foreign_type",
];

fn canonical_column(name: &str) -> Option<&'static str> {
    let name = name.trim().trim_start_matches('\u{feff}');
    let lower = name.to_ascii_lowercase();
    COLUMNS
        .iter()
        .map(|(canonical, _, aliases)| (*canonical, *aliases))
        .chain([TITLE_COLUMN])
        .find(|(canonical, aliases)| *canonical == lower || aliases.contains(&name))
        .map(|(canonical, _)| canonical)
}

fn column_names() -> String {
    COLUMNS
        .iter()
        .map(|(name, _, _)| *name)
        .chain([TITLE_COLUMN.0])
        .collect::<Vec<_>>()
        .join(", ")
}

/// One result row, checked: what `issue` would take from its flags.
#[derive(Clone, Debug)]
pub struct Row {
    pub line: usize,
    pub certificate_number: CertificateNumber,
    pub id_type: IdDocumentType,
    pub id_number: String,
    pub name: String,
    pub occupation: OccupationCode,
    pub work_type: Option<String>,
    /// The level, or for a 专项职业能力证书 (Z number) its ability code.
    pub certified: Certified,
    pub date: Date,
    pub route: Route,
}

/// What a row certifies.
#[derive(Clone, Debug)]
pub enum Certified {
    /// A level (a skill level, a qualification for a Q number, or a foreign comparison).
    Level(Level),
    /// A 专项职业能力证书: the policy's ability code.
    Ability(String),
}

impl Row {
    /// Rows of one person decide together (a 四级 earlier in the file counts for a 三级 later).
    pub fn person_key(&self) -> (&'static str, &str) {
        (self.id_type.code(), &self.id_number)
    }
}

fn header_columns(
    line: usize,
    header: &[String],
) -> Result<BTreeMap<&'static str, usize>, Vec<RowProblem>> {
    let mut columns = BTreeMap::new();
    let mut problems = Vec::new();
    for (index, name) in header.iter().enumerate() {
        match canonical_column(name) {
            None if name.trim().is_empty() => {}
            None => problems.push(RowProblem::new(
                line,
                None,
                "unknown-column",
                format!(
                    "unknown column '{}' (columns: {})",
                    name.trim(),
                    column_names()
                ),
            )),
            Some(canonical) => {
                if columns.insert(canonical, index).is_some() {
                    problems.push(RowProblem::new(
                        line,
                        Some(canonical),
                        "duplicate-column",
                        format!("column '{canonical}' is named twice"),
                    ));
                }
            }
        }
    }
    for (name, required, _) in COLUMNS {
        if required && !columns.contains_key(name) {
            problems.push(RowProblem::new(
                line,
                None,
                "missing-column",
                format!("the header has no column '{name}'"),
            ));
        }
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(problems)
    }
}

fn event_reference(line: usize, column: &str, text: &str) -> Result<EventId, RowProblem> {
    EventId::from_hex(text).ok_or_else(|| {
        RowProblem::new(
            line,
            Some(column),
            "malformed-field",
            format!("'{text}' is not an event id (32 hex characters)"),
        )
    })
}

/// Checks one record; every problem of the row, or the row.
fn check_row(
    line: usize,
    fields: &[String],
    columns: &BTreeMap<&'static str, usize>,
) -> Result<Row, Vec<RowProblem>> {
    let width = columns.values().max().map_or(0, |last| last + 1);
    if fields.len() > width && fields[width..].iter().any(|field| !field.trim().is_empty()) {
        return Err(vec![RowProblem::new(
            line,
            None,
            "field-count",
            format!(
                "{} fields, but the header names {}",
                fields.len(),
                columns.len()
            ),
        )]);
    }
    let cell = |name: &str| -> Option<&str> {
        columns
            .get(name)
            .and_then(|index| fields.get(*index))
            .map(|text| text.trim())
            .filter(|text| !text.is_empty())
    };
    let mut problems = Vec::new();
    let mut problem = |column: &str, code: &str, message: String| {
        problems.push(RowProblem::new(line, Some(column), code, message));
    };
    let mut required = |name: &str| -> Option<&str> {
        let found = cell(name);
        if found.is_none() {
            problem(name, "empty-field", format!("{name} is empty"));
        }
        found
    };
    let number_text = required("cert_no");
    let id_text = required("id_number");
    let name_text = required("name").map(str::to_string);
    let occupation_text = required("occupation");
    // A Z number names an ability and no level; every other number a level.
    let special = number_text.is_some_and(|text| text.as_bytes().get(15) == Some(&b'Z'));
    let level_text = if special { None } else { required("level") };
    let date_text = required("date");
    if special && cell("level").is_some() {
        problem(
            "level",
            "malformed-field",
            "a 专项职业能力证书 (Z number) has no level: leave level empty".to_string(),
        );
    }
    let ability_text = match (special, cell("ability")) {
        (true, None) => {
            problem(
                "ability",
                "empty-field",
                "a 专项职业能力证书 (Z number) names its ability (the policy's code)".to_string(),
            );
            None
        }
        (false, Some(_)) => {
            problem(
                "ability",
                "malformed-field",
                "ability is for a 专项职业能力证书, whose number has Z in position 16".to_string(),
            );
            None
        }
        (_, found) => found.map(str::to_string),
    };
    let certificate_number = number_text.and_then(|text| {
        text.parse::<CertificateNumber>()
            .map_err(|error| problem("cert_no", "malformed-field", error.to_string()))
            .ok()
    });
    let id_type_code = cell("id_type").unwrap_or("resident_id");
    let id_type = IdDocumentType::from_code(id_type_code);
    if id_type.is_none() {
        problem(
            "id_type",
            "malformed-field",
            format!("'{id_type_code}' must be resident_id, hmt, passport or foreign_permanent"),
        );
    }
    let id_number = match (id_type, id_text) {
        (Some(kind), Some(text)) => skill_ledger_domain::check_document_number(kind, text)
            .map_err(|error| problem("id_number", "malformed-field", error.to_string()))
            .ok(),
        _ => None,
    };
    let name = name_text.and_then(|name| {
        skill_ledger_domain::check_holder_name(&name)
            .map(|()| name)
            .map_err(|error| problem("name", "malformed-field", error.to_string()))
            .ok()
    });
    let occupation = occupation_text.and_then(|text| {
        text.parse::<OccupationCode>()
            .map_err(|error| problem("occupation", "malformed-field", error.to_string()))
            .ok()
    });
    let level = level_text.and_then(|text| {
        text.parse::<Level>()
            .map_err(|error| problem("level", "malformed-field", error.to_string()))
            .ok()
    });
    let date = date_text.and_then(|text| {
        text.parse::<Date>()
            .map_err(|error| problem("date", "malformed-field", error.to_string()))
            .ok()
    });
    let given: Vec<(&str, &str)> = ROUTE_COLUMNS
        .iter()
        .filter_map(|column| cell(column).map(|text| (*column, text)))
        .collect();
    let route = match given.as_slice() {
        [] => Some(Route::Evaluation(EvaluationBasis::PriorLevel)),
        [(column, text)] => {
            let reference = |column: &str| event_reference(line, column, text);
            let route = match *column {
                "attested" => Ok(Route::Evaluation(EvaluationBasis::Attested {
                    statement: text.to_string(),
                })),
                "direct" => Ok(Route::DirectRecognition {
                    justification: text.to_string(),
                }),
                "apprenticeship" => reference(column).map(|apprenticeship| {
                    Route::Evaluation(EvaluationBasis::Apprenticeship { apprenticeship })
                }),
                "contest" => reference(column).map(|result| Route::Contest { result }),
                "foreign_type" => foreign_basis(line, text, &cell)
                    .map(skill_ledger_domain::Route::ForeignComparison),
                _ => reference(column).map(|title| Route::Conversion { title }),
            };
            route.map_err(|found| problems.push(found)).ok()
        }
        several => {
            let names: Vec<&str> = several.iter().map(|(column, _)| *column).collect();
            problems.push(RowProblem::new(
                line,
                Some(names[1]),
                "conflicting-routes",
                format!(
                    "{} exclude each other: give one route per row",
                    names.join(" and ")
                ),
            ));
            None
        }
    };
    if special && !given.is_empty() {
        problems.push(RowProblem::new(
            line,
            Some(given[0].0),
            "malformed-field",
            "a 专项职业能力证书 (Z number) takes no route column".to_string(),
        ));
    }
    let certified = match (level, ability_text) {
        (Some(level), None) => Some(Certified::Level(level)),
        (None, Some(ability)) => Some(Certified::Ability(ability)),
        _ => None,
    };
    match (
        certificate_number,
        id_type,
        id_number,
        name,
        occupation,
        certified,
        date,
        route,
    ) {
        (
            Some(certificate_number),
            Some(id_type),
            Some(id_number),
            Some(name),
            Some(occupation),
            Some(certified),
            Some(date),
            Some(route),
        ) if problems.is_empty() => Ok(Row {
            line,
            certificate_number,
            id_type,
            id_number,
            name,
            occupation,
            work_type: cell("work_type").map(str::to_string),
            certified,
            date,
            route,
        }),
        _ => Err(problems),
    }
}

/// The foreign certificate of a row whose `foreign_type` is `certificate_type`: the issuer,
/// the document and the catalogue version are then required.
fn foreign_basis<'a>(
    line: usize,
    certificate_type: &str,
    cell: &dyn Fn(&str) -> Option<&'a str>,
) -> Result<skill_ledger_domain::ForeignComparisonBasis, RowProblem> {
    let needed = |column: &'static str| {
        cell(column).ok_or_else(|| {
            RowProblem::new(
                line,
                Some(column),
                "empty-field",
                format!("{column} is empty: a foreign comparison names it"),
            )
        })
    };
    let foreign_issuer = needed("foreign_issuer")?.to_string();
    let document_id = needed("foreign_document")?.to_string();
    let version = needed("catalogue_version")?;
    let catalogue_version = version.parse::<u32>().map_err(|_| {
        RowProblem::new(
            line,
            Some("catalogue_version"),
            "malformed-field",
            format!("'{version}' is not a policy version (a whole number)"),
        )
    })?;
    Ok(skill_ledger_domain::ForeignComparisonBasis {
        catalogue_version,
        certificate_type: certificate_type.to_string(),
        foreign_issuer,
        document_id,
    })
}

/// Every row checked: the rows that are well-formed (in file order) and every problem, the
/// malformed rows' and the certificate numbers given twice (each later row names the first).
pub fn check_rows(table: &Table) -> (Vec<Row>, Vec<RowProblem>) {
    let columns = match header_columns(table.header.0, &table.header.1) {
        Ok(columns) => columns,
        Err(problems) => return (Vec::new(), problems),
    };
    let mut rows = Vec::with_capacity(table.records.len());
    let mut problems = Vec::new();
    let mut seen: BTreeMap<CertificateNumber, usize> = BTreeMap::new();
    for (line, fields) in &table.records {
        match check_row(*line, fields, &columns) {
            Ok(row) => {
                if let Some(first) = seen.get(&row.certificate_number) {
                    problems.push(RowProblem::new(
                        row.line,
                        Some("cert_no"),
                        "duplicate-in-file",
                        format!(
                            "certificate number {} is also on line {first}",
                            row.certificate_number
                        ),
                    ));
                    continue;
                }
                seen.insert(row.certificate_number, row.line);
                rows.push(row);
            }
            Err(found) => problems.extend(found),
        }
    }
    (rows, problems)
}

/// The event id of a row: a retry of the same file is the same event, answered as a duplicate
/// (docs/formats.md, Part 7). The same for `issue-batch`, `issue-csv` and `sign`.
pub fn event_id(origin: &str, number: &CertificateNumber) -> EventId {
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

/// The column a ledger rejection of a row is about, for the report.
pub fn rejection_column(code: &str) -> Option<&'static str> {
    Some(match code {
        "duplicate-certificate"
        | "bad-certificate-number"
        | "certificate-body-mismatch"
        | "unknown-body"
        | "body-not-active"
        | "wrong-signer"
        | "key-not-valid-at-date"
        | "key-revoked"
        | "duplicate-event-id"
        | "certificate-kind-mismatch"
        | "not-own-certificate" => "cert_no",
        "certificate-year-mismatch"
        | "dated-in-future"
        | "dated-too-far-back"
        | "outside-registration-window" => "date",
        "certificate-level-mismatch"
        | "level-not-certifiable"
        | "already-holds-level"
        | "level-not-reachable"
        | "too-few-years"
        | "above-direct-recognition-limit" => "level",
        "out-of-scope"
        | "unknown-occupation"
        | "no-catalogue"
        | "not-access-controlled"
        | "special-ability-out-of-scope" => "occupation",
        "qualification-not-allowed" => "level",
        "unknown-special-ability" | "special-ability-mismatch" => "ability",
        "unknown-foreign-certificate" | "foreign-comparison-mismatch" => "foreign_type",
        "foreign-document-used" | "foreign-document-id-mismatch" => "foreign_document",
        "foreign-catalogue-version" => "catalogue_version",
        "unknown-work-type" => "work_type",
        "attested-basis-not-allowed" => "attested",
        "direct-recognition-not-allowed" => "direct",
        "apprenticeship-not-allowed" | "apprenticeship-not-completed" => "apprenticeship",
        "unknown-contest" | "contest-promotion-not-allowed" | "contest-promotion-limit" => {
            "contest"
        }
        "conversion-not-allowed" => "title",
        "invalid-document-number" => "id_number",
        "invalid-holder-name" => "name",
        _ => return None,
    })
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

    fn table(text: &str) -> Table {
        split_header(FileKind::CsvUtf8, parse_csv(text).expect("parses")).expect("a table")
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
    fn gb18030_bytes_decode_and_utf8_stays_utf8() {
        // given 张三 in GB18030 (what Excel saves as CSV on a zh-CN machine)
        let (bytes, _, _) = encoding_rs::GB18030.encode("姓名\r\n张三\r\n");
        // when / then
        let (text, kind) = decode_text(&bytes).expect("decodes");
        assert_eq!(
            (text.as_str(), kind),
            ("姓名\r\n张三\r\n", FileKind::CsvGb18030)
        );
        let (text, kind) = decode_text("姓名\n张三\n".as_bytes()).expect("decodes");
        assert_eq!((text.as_str(), kind), ("姓名\n张三\n", FileKind::CsvUtf8));
        // and bytes that are neither are refused
        assert!(decode_text(&[b'a', 0x81, 0xFF]).is_err());
    }

    #[test]
    fn every_problem_of_every_row_is_reported_by_line_and_column() {
        // given a file with a good row, a row with three bad cells, and a repeated number
        let header = "cert_no,id_number,name,occupation,level,date,attested\r\n";
        let good =
            "Y000050000001205000001,50010119900101123X,张三,6-18-01-01,初级工,2020-06-01,满1年\r\n";
        let bad = "Y000050000001205000002,500101199001011234,,6-18-01,初级工,2020-06-01,满1年\r\n";
        let (rows, problems) = check_rows(&table(&format!("{header}{good}{bad}{good}")));
        // then the good row is kept and each problem names its line and column
        assert_eq!(rows.len(), 1);
        let found: Vec<(usize, Option<&str>, &str)> = problems
            .iter()
            .map(|p| (p.line, p.column.as_deref(), p.code.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (3, Some("name"), "empty-field"),
                (3, Some("id_number"), "malformed-field"),
                (3, Some("occupation"), "malformed-field"),
                (4, Some("cert_no"), "duplicate-in-file"),
            ]
        );
        assert!(
            problems[1]
                .to_string()
                .starts_with("line 3: id_number: identity number 500101199001011234: check digit"),
            "{}",
            problems[1]
        );
        assert!(
            problems[3].message.contains("also on line 2"),
            "{}",
            problems[3]
        );
    }

    #[test]
    fn route_columns_exclude_each_other_and_references_are_event_ids() {
        // given one row per route column, and one with two
        let header =
            "证书编号,身份证号,姓名,职业编码,等级,发证日期,attested,direct,contest,title\n";
        let base = "50010119900101123X,张三,6-18-01-01,三级,2021-06-01";
        let id = "00112233445566778899aabbccddeeff";
        let text = format!(
            "{header}Y000050000001213000001,{base},,,{id},\nY000050000001213000002,{base},,,,{id}\n\
             Y000050000001213000003,{base},满1年,骨干,,\nY000050000001213000004,{base},,,nothex,\n"
        );
        // when
        let (rows, problems) = check_rows(&table(&text));
        // then the Chinese headers name the columns, contest and title are routes
        assert_eq!(rows.len(), 2, "{problems:?}");
        assert_eq!(rows[0].route.id(), "contest");
        assert_eq!(rows[1].route.id(), "conversion");
        assert_eq!(problems.len(), 2);
        assert_eq!(
            (problems[0].line, problems[0].code.as_str()),
            (4, "conflicting-routes")
        );
        assert_eq!(
            (problems[1].line, problems[1].column.as_deref()),
            (5, Some("contest"))
        );
    }

    #[test]
    fn a_header_without_a_required_column_is_refused() {
        let (rows, problems) = check_rows(&table("cert_no,id_number,colour\nx,y,z\n"));
        assert!(rows.is_empty());
        let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes[0], "unknown-column");
        assert!(codes.contains(&"missing-column"));
        assert!(problems
            .iter()
            .any(|p| p.message.contains("no column 'name'")));
    }

    #[test]
    fn excel_date_serials_are_calendar_days() {
        assert_eq!(excel_date(43_983.0), "2020-06-01");
        assert_eq!(excel_date(43_983.75), "2020-06-01");
    }
}
