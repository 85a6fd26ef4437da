//! Issuing at exam-session scale, from the body's side (issue 19): `issue-batch` with CSV
//! (UTF-8 and GB18030) and .xlsx files, its dry run against the served node (`POST
//! /v1/events/batch` with `dry_run`) and in process, receipts and reruns after an
//! interruption, `--all-or-nothing`, and `sign` then `submit`. Through the binary only,
//! against `serve` on loopback or a ledger directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

mod support;

use support::{get, json, post_json, s, serve_with, Served};

const KEY_FILE: &str = "K";

/// A ledger with body Y000050000001 (6-18-01-01 up to 高级技师), served on loopback.
struct Given {
    ledger: support::Ledger,
    served: Served,
    url: String,
}

impl Given {
    fn key(&self) -> String {
        s(&self.ledger.temp.path().join(KEY_FILE)).to_string()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.ledger.temp.path().join(name)
    }

    fn size(&self) -> u64 {
        log_size(&self.served.address)
    }

    /// `issue-batch --node URL --key K --file FILE EXTRA… --json`: (exit code, answer).
    fn issue_batch(&self, file: &Path, extra: &[&str]) -> (i32, Value) {
        let key = self.key();
        let mut args = vec![
            "issue-batch",
            "--node",
            &self.url,
            "--key",
            &key,
            "--file",
            s(file),
        ];
        args.extend_from_slice(extra);
        json(&args)
    }
}

fn given_served_ledger() -> Given {
    let ledger = support::given_ledger_with_a_body();
    let served = serve_with(&ledger.dir, &[], &ledger.temp.path().join("serve.err"));
    let url = format!("http://{}", served.address);
    Given {
        ledger,
        served,
        url,
    }
}

/// Entries in the served log, from its checkpoint (the second line is the size).
fn log_size(address: &str) -> u64 {
    let reply = get(address, "/checkpoint");
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply
        .text()
        .lines()
        .nth(1)
        .and_then(|line| line.parse().ok())
        .expect("a checkpoint size")
}

const HEADER: &str = "cert_no,id_number,name,occupation,level,date,attested";
/// 张三 初级工 on an attested basis, then 中级工 four years later on that level (the row
/// before it in the same file).
const ZHANG_JUNIOR: &str =
    "Y000050000001205000001,50010119900101123X,张三,6-18-01-01,初级工,2020-06-01,本职业工作满1年";
const ZHANG_INTERMEDIATE: &str =
    "Y000050000001244000001,50010119900101123X,张三,6-18-01-01,中级工,2024-06-01,";
/// 李四 and 王五, 初级工 each.
const LI_JUNIOR: &str =
    "Y000050000001205000002,510104199203041235,李四,6-18-01-01,初级工,2020-06-01,满1年";
const WANG_JUNIOR: &str =
    "Y000050000001205000005,11010519491231002X,王五,6-18-01-01,初级工,2020-07-01,满1年";

fn write_csv(path: &Path, rows: &[&str]) {
    std::fs::write(path, format!("{HEADER}\r\n{}\r\n", rows.join("\r\n"))).expect("write");
}

fn receipt_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("receipt")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

#[test]
fn a_dry_run_over_http_lists_every_problem_by_line_and_column_and_writes_nothing() {
    // given a served ledger and a results file with two good rows (the second building on
    // the first), a level with no level below it, an occupation outside the body's scope,
    // a bad identity number and a certificate number given twice
    let given = given_served_ledger();
    let file = given.path("results.csv");
    write_csv(
        &file,
        &[
            ZHANG_JUNIOR,
            ZHANG_INTERMEDIATE,
            "Y000050000001243000002,510104199203041235,李四,6-18-01-01,高级工,2024-06-01,",
            "Y000050000001205000003,11010519491231002X,赵六,6-29-01-03,初级工,2020-06-01,满1年",
            "Y000050000001205000004,500101199001011234,王五,6-18-01-01,初级工,2020-06-01,满1年",
            "Y000050000001205000001,510104199203041235,李四,6-18-01-01,初级工,2020-06-01,满1年",
        ],
    );
    let size = given.size();
    // when
    let (code, value) = given.issue_batch(&file, &["--dry-run"]);
    // then every problem is named by line, column and code, and the good rows would pass
    assert_eq!(code, 1, "{value}");
    let problems: Vec<(u64, &str, &str)> = value["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().expect("line"),
                p["column"].as_str().unwrap_or("-"),
                p["code"].as_str().expect("code"),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (4, "level", "level-not-reachable"),
            (5, "occupation", "out-of-scope"),
            (6, "id_number", "malformed-field"),
            (7, "cert_no", "duplicate-in-file"),
        ],
        "{value}"
    );
    assert_eq!(value["would_accept"], 2, "{value}");
    assert_eq!(value["dry_run"], true);
    // and nothing was written
    assert_eq!(given.size(), size);
    // and the text form prints one line per problem
    let (code, stdout, _) = support::run(&[
        "issue-batch",
        "--node",
        &given.url,
        "--key",
        &given.key(),
        "--file",
        s(&file),
        "--dry-run",
        "--lang",
        "en",
    ]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("line 6: id_number: identity number"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 5 Y000050000001205000003: rejected (out-of-scope)"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing was written"), "{stdout}");
    assert_eq!(given.size(), size);
}

#[test]
fn a_rerun_after_an_interruption_submits_only_what_is_missing() {
    // given a served ledger and a results file of four rows
    let given = given_served_ledger();
    let rows = [ZHANG_JUNIOR, ZHANG_INTERMEDIATE, LI_JUNIOR, WANG_JUNIOR];
    let size = given.size();
    // when a first run is interrupted after two rows (the ledger then holds a prefix)
    let partial = given.path("partial.csv");
    write_csv(&partial, &rows[..2]);
    let first_receipt = given.path("first.jsonl");
    let (code, value) = given.issue_batch(&partial, &["--receipt", s(&first_receipt)]);
    assert_eq!(code, 0, "{value}");
    assert_eq!(value["accepted"], 2, "{value}");
    let first = receipt_lines(&first_receipt);
    assert_eq!(first[0]["outcome"], "accepted");
    let first_index = first[0]["index"].as_u64().expect("index");
    // and the whole file is run again
    let file = given.path("results.csv");
    write_csv(&file, &rows);
    let receipt = given.path("receipt.csv");
    let (code, value) = given.issue_batch(&file, &["--receipt", s(&receipt)]);
    // then the first rows are duplicates at their first index, the rest accepted
    assert_eq!(code, 0, "{value}");
    assert_eq!(
        (value["duplicates"].as_u64(), value["accepted"].as_u64()),
        (Some(2), Some(2)),
        "{value}"
    );
    let text = std::fs::read_to_string(&receipt).expect("receipt");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "line,cert_no,event_id,outcome,index,code,message");
    assert!(
        lines[1].starts_with(&format!(
            "2,Y000050000001205000001,{},duplicate,{first_index},",
            first[0]["event_id"].as_str().expect("event id")
        )),
        "{text}"
    );
    assert!(lines[3].contains(",accepted,"), "{text}");
    assert!(lines[4].contains(",accepted,"), "{text}");
    // and the ledger holds one entry per row, never two
    assert_eq!(given.size(), size + 4);
    // and a third run changes nothing
    let (code, value) = given.issue_batch(&file, &[]);
    assert_eq!(
        (code, value["duplicates"].as_u64()),
        (0, Some(4)),
        "{value}"
    );
    assert_eq!(given.size(), size + 4);
    // and the credentials verify
    let verified = post_json(
        &given.served.address,
        "/v1/verify",
        &serde_json::json!({"certificate_number": "Y000050000001244000001", "name": "张三"}),
    );
    assert_eq!(verified.json()["status"], "valid", "{}", verified.text());
}

#[test]
fn all_or_nothing_refuses_the_whole_file_when_one_row_fails() {
    // given a file of three good rows and one out of the body's scope
    let given = given_served_ledger();
    let file = given.path("results.csv");
    write_csv(
        &file,
        &[
            ZHANG_JUNIOR,
            LI_JUNIOR,
            "Y000050000001205000003,11010519491231002X,赵六,6-29-01-03,初级工,2020-06-01,满1年",
            WANG_JUNIOR,
        ],
    );
    let size = given.size();
    let receipt = given.path("receipt.jsonl");
    // when
    let (code, value) = given.issue_batch(&file, &["--all-or-nothing", "--receipt", s(&receipt)]);
    // then nothing is submitted, and the receipt says why per row
    assert_eq!(code, 1, "{value}");
    assert_eq!(given.size(), size);
    let lines = receipt_lines(&receipt);
    let outcomes: Vec<&str> = lines
        .iter()
        .map(|l| l["outcome"].as_str().expect("outcome"))
        .collect();
    assert_eq!(
        outcomes,
        [
            "not-submitted",
            "not-submitted",
            "rejected",
            "not-submitted"
        ]
    );
    assert_eq!(lines[2]["code"], "out-of-scope");
    // and without the bad row the whole file goes in
    write_csv(&file, &[ZHANG_JUNIOR, LI_JUNIOR, WANG_JUNIOR]);
    let (code, value) = given.issue_batch(&file, &["--all-or-nothing"]);
    assert_eq!((code, value["accepted"].as_u64()), (0, Some(3)), "{value}");
    assert_eq!(given.size(), size + 3);
}

#[test]
fn a_real_run_refuses_a_file_with_a_malformed_row_and_names_line_and_column() {
    let given = given_served_ledger();
    let file = given.path("results.csv");
    write_csv(
        &file,
        &[
            ZHANG_JUNIOR,
            "Y000050000001205000002,510104199203041235,李四,6-18-01-01,五级半,2020-06-01,满1年",
        ],
    );
    let size = given.size();
    let (code, _, stderr) = support::run(&[
        "issue-batch",
        "--node",
        &given.url,
        "--key",
        &given.key(),
        "--file",
        s(&file),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 3: level:"), "{stderr}");
    assert!(stderr.contains("nothing was submitted"), "{stderr}");
    assert_eq!(given.size(), size);
}

/// A minimal .xlsx workbook (one sheet, inline strings) as Excel would save the rows.
fn write_xlsx(path: &Path, rows: &[Vec<&str>]) {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, cell) in row.iter().enumerate() {
            let column = (b'A' + c as u8) as char;
            sheet.push_str(&format!(
                r#"<c r="{column}{}" t="inlineStr"><is><t>{cell}</t></is></c>"#,
                r + 1
            ));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="成绩" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string(),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, text) in parts {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(text.as_bytes()).expect("zip write");
    }
    let bytes = zip.finish().expect("zip").into_inner();
    std::fs::write(path, bytes).expect("write the workbook");
}

#[test]
fn gb18030_csv_and_an_xlsx_workbook_issue_in_a_ledger_directory() {
    // given a ledger directory, a GB18030 CSV with Chinese headers and an .xlsx workbook
    let ledger = support::given_ledger_with_a_body();
    let key = ledger.temp.path().join(KEY_FILE);
    let gb = ledger.temp.path().join("results-gbk.csv");
    let text = format!(
        "证书编号,身份证号,姓名,职业编码,等级,发证日期,申报条件\r\n{ZHANG_JUNIOR}\r\n{LI_JUNIOR}\r\n"
    );
    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
    std::fs::write(&gb, &bytes).expect("write");
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the file is not UTF-8"
    );
    let xlsx = ledger.temp.path().join("results.xlsx");
    let header: Vec<&str> = HEADER.split(',').collect();
    let wang: Vec<&str> = WANG_JUNIOR.split(',').collect();
    write_xlsx(&xlsx, &[header, wang]);
    let size_before = entries(&ledger.dir);
    // when the GB18030 file is checked in process, then run
    let (code, value) = json(&[
        "issue-batch",
        "--dir",
        s(&ledger.dir),
        "--key",
        s(&key),
        "--file",
        s(&gb),
        "--dry-run",
    ]);
    assert_eq!(
        (code, value["would_accept"].as_u64()),
        (0, Some(2)),
        "{value}"
    );
    assert_eq!(value["format"], "csv (GB18030)");
    assert_eq!(
        entries(&ledger.dir),
        size_before,
        "a dry run writes nothing"
    );
    let (code, value) = json(&[
        "issue-batch",
        "--dir",
        s(&ledger.dir),
        "--key",
        s(&key),
        "--file",
        s(&gb),
    ]);
    assert_eq!((code, value["accepted"].as_u64()), (0, Some(2)), "{value}");
    // and the workbook
    let (code, value) = json(&[
        "issue-batch",
        "--dir",
        s(&ledger.dir),
        "--key",
        s(&key),
        "--file",
        s(&xlsx),
    ]);
    assert_eq!((code, value["accepted"].as_u64()), (0, Some(1)), "{value}");
    assert_eq!(value["format"], "xlsx");
    assert_eq!(value["rows"][0]["line"], 2, "{value}");
    // then the names decoded from GB18030 verify
    let verified = support::json_ok(
        &[
            "verify",
            "--dir",
            s(&ledger.dir),
            "--cert-no",
            "Y000050000001205000002",
            "--name",
            "李四",
        ],
        0,
    );
    assert_eq!(verified["status"], "valid", "{verified}");
    assert_eq!(entries(&ledger.dir), size_before + 3);
}

fn entries(dir: &Path) -> u64 {
    let value = support::json_ok(&["checkpoint", "--dir", s(dir)], 0);
    value["size"]
        .as_u64()
        .unwrap_or_else(|| panic!("a size: {value}"))
}

#[test]
fn sign_offline_then_submit_later_is_the_same_as_issue_batch() {
    // given a served ledger and a results file
    let given = given_served_ledger();
    let file = given.path("results.csv");
    write_csv(&file, &[ZHANG_JUNIOR, LI_JUNIOR]);
    let size = given.size();
    // when the body signs (asking the node only for pseudonyms), then submits later
    let out = given.path("entries.txt");
    let (code, value) = json(&[
        "sign",
        "--key",
        &given.key(),
        "--file",
        s(&file),
        "--node",
        &given.url,
        "--out",
        s(&out),
    ]);
    assert_eq!((code, value["entries"].as_u64()), (0, Some(2)), "{value}");
    assert_eq!(given.size(), size, "signing writes nothing");
    let receipt = given.path("submit.jsonl");
    let (code, value) = json(&[
        "submit",
        "--node",
        &given.url,
        s(&out),
        "--receipt",
        s(&receipt),
    ]);
    // then both are accepted, with receipts
    assert_eq!((code, value["accepted"].as_u64()), (0, Some(2)), "{value}");
    let lines = receipt_lines(&receipt);
    assert_eq!(lines[1]["cert_no"], "Y000050000001205000002");
    assert_eq!(given.size(), size + 2);
    // and issue-batch of the same file finds the same events already there
    let (code, value) = given.issue_batch(&file, &[]);
    assert_eq!(
        (code, value["duplicates"].as_u64()),
        (0, Some(2)),
        "{value}"
    );
    // and an entry file with a bad line is refused whole, naming the line
    std::fs::write(&out, "not base64!\n").expect("write");
    let (code, _, stderr) = support::run(&["submit", "--node", &given.url, s(&out)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 1: not standard base64"), "{stderr}");
    assert_eq!(given.size(), size + 2);
}

#[test]
fn the_batch_route_answers_entry_by_entry_and_its_dry_run_writes_nothing() {
    // given a served ledger and three entries: two certifications and garbage
    let given = given_served_ledger();
    let one = support::certification(&given.ledger.body_key, 1);
    let two = support::certification(&given.ledger.body_key, 2);
    let encode = |signed: &skill_ledger_domain::SignedEvent| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(signed.to_entry().expect("entry"))
    };
    let entries = serde_json::json!([encode(&one), "AAAA", encode(&two)]);
    let size = given.size();
    // when dry-run
    let reply = post_json(
        &given.served.address,
        "/v1/events/batch",
        &serde_json::json!({"entries": entries, "dry_run": true}),
    );
    // then each entry has its answer and nothing is written
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer = reply.json();
    let outcomes: Vec<&str> = answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["outcome"].as_str().expect("outcome"))
        .collect();
    assert_eq!(outcomes, ["accepted", "rejected", "accepted"], "{answer}");
    assert_eq!(answer["results"][1]["code"], "malformed-entry");
    assert!(answer["results"][0]["index"].is_null(), "{answer}");
    assert_eq!(given.size(), size);
    // when submitted for real, twice
    for duplicate in [false, true] {
        let reply = post_json(
            &given.served.address,
            "/v1/events/batch",
            &serde_json::json!({"entries": entries}),
        );
        let answer = reply.json();
        let expected = if duplicate { "duplicate" } else { "accepted" };
        assert_eq!(answer["results"][0]["outcome"], expected, "{answer}");
        assert_eq!(answer["results"][2]["outcome"], expected, "{answer}");
        assert!(answer["checkpoint"]["size"].as_u64().expect("size") >= size + 2);
    }
    assert_eq!(given.size(), size + 2);
    // and an empty batch is a 422 problem
    let reply = post_json(
        &given.served.address,
        "/v1/events/batch",
        &serde_json::json!({"entries": []}),
    );
    reply.problem(422, "invalid-field");
    // and a member that is not base64 at all refuses the whole request, naming it
    let reply = post_json(
        &given.served.address,
        "/v1/events/batch",
        &serde_json::json!({"entries": [encode(&one), "\u{84}"]}),
    );
    let problem = reply.problem(422, "malformed-entry");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("entries[1]")),
        "{problem}"
    );
    assert_eq!(given.size(), size + 2);
}

/// Python with `cryptography`, or `None` (skipped with a note) unless
/// `SKILL_LEDGER_REQUIRE_PYTHON` is set, when its absence fails the test.
fn python_with_cryptography() -> Option<&'static str> {
    let found = std::process::Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        return Some("python3");
    }
    assert!(
        std::env::var_os("SKILL_LEDGER_REQUIRE_PYTHON").is_none(),
        "SKILL_LEDGER_REQUIRE_PYTHON is set but `python3 -c \"import cryptography\"` fails \
         (pip install -r .ci/requirements.txt)"
    );
    eprintln!(
        "note: python3 with the cryptography package is missing: the Python signer is skipped"
    );
    None
}

#[test]
fn an_entry_built_and_signed_in_python_is_accepted_over_http() {
    let Some(python) = python_with_cryptography() else {
        return;
    };
    // given a served ledger and the body's key seed, as a body's own system holds it
    let given = given_served_ledger();
    let seed = hex::encode(given.ledger.body_key.to_bytes());
    let size = given.size();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/python/issue_one.py");
    // when the Python example asks for the pseudonyms, builds and signs the entry per
    // docs/formats.md with its own Ed25519, and posts it
    let output = std::process::Command::new(python)
        .arg(&script)
        .args([
            &given.url,
            support::ORIGIN,
            support::BODY,
            &seed,
            "Y000050000001205000001",
            "50010119900101123X",
            "张三",
        ])
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // then the node accepted it
    let answer: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(answer["answer"]["event"], "level_certified", "{answer}");
    assert_eq!(answer["answer"]["duplicate"], false, "{answer}");
    assert_eq!(given.size(), size + 1);
    let verified = post_json(
        &given.served.address,
        "/v1/verify",
        &serde_json::json!({"certificate_number": "Y000050000001205000001", "name": "张三"}),
    );
    assert_eq!(verified.json()["status"], "valid", "{}", verified.text());
    // and its bytes are the ones skill-ledger signs for the same row: issue-batch finds the
    // very entry already there
    let file = given.path("results.csv");
    write_csv(&file, &[ZHANG_JUNIOR]);
    let (code, value) = given.issue_batch(&file, &[]);
    assert_eq!(
        (code, value["duplicates"].as_u64()),
        (0, Some(1)),
        "{value}"
    );
    assert_eq!(given.size(), size + 1);
}

#[test]
fn bench_issue_batch_issues_every_row_over_http() {
    // given / when a small results file through the benchmark's served node
    let value = support::json_ok(
        &[
            "bench",
            "issue-batch",
            "--rows",
            "600",
            "--batch-size",
            "250",
        ],
        0,
    );
    // then every row became one entry, and the figures are reported
    assert_eq!(value["accepted"], 600, "{value}");
    assert_eq!(value["entries_added"], 600, "{value}");
    assert!(
        value["rows_per_s"].as_f64().expect("rows/s") > 0.0,
        "{value}"
    );
    assert!(
        value["phases_s"]["pseudonyms_sign_submit"].is_f64(),
        "{value}"
    );
}
