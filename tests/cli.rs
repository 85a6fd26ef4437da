//! Black-box tests of the `skill-ledger` binary: every test drives the built binary
//! through its command line only (no library calls), in given/when/then form.
//!
//! Exit codes under test: 0 success, 1 verification failed or event rejected,
//! 2 usage or I/O error. With `--json` every command prints exactly one JSON object.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod support;

use support::{json, json_ok, run, run_with_env, s};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

const BODY: &str = "Y000050000001";
const ID: &str = "50010119900101123X";
const NAME: &str = "张三";
const JUNIOR: &str = "Y000050000001205000001";
const INTERMEDIATE: &str = "Y000050000001244000001";
const DIRECT: &str = "Y000050000001222000001";
const DIRECT_ID: &str = "500101198505051230";
const DIRECT_NAME: &str = "王五";

/// A ledger directory in a temporary directory, with a body key beside it.
struct Ledger {
    _temp: tempfile::TempDir,
    root: PathBuf,
    dir: PathBuf,
    key: PathBuf,
}

impl Ledger {
    fn d(&self) -> &str {
        s(&self.dir)
    }

    fn k(&self) -> &str {
        s(&self.key)
    }

    /// Issues a credential for `id`/`name` in 6-18-01-01 with extra flags; returns (code, JSON).
    fn issue(&self, cert_no: &str, level: &str, date: &str, extra: &[&str]) -> (i32, Value) {
        let mut args = vec![
            "issue",
            "--dir",
            self.d(),
            "--key",
            self.k(),
            "--cert-no",
            cert_no,
            "--id-number",
            ID,
            "--name",
            NAME,
            "--occupation",
            "6-18-01-01",
            "--level",
            level,
            "--date",
            date,
        ];
        args.extend_from_slice(extra);
        json(&args)
    }

    fn size(&self) -> u64 {
        json_ok(&["checkpoint", "--dir", self.d()], 0)["size"]
            .as_u64()
            .expect("checkpoint size")
    }

    fn first_segment(&self) -> PathBuf {
        self.segments().into_iter().next().expect("a segment")
    }

    fn segments(&self) -> Vec<PathBuf> {
        let mut segments: Vec<PathBuf> = std::fs::read_dir(self.dir.join("log"))
            .expect("log directory")
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "seg"))
            .collect();
        segments.sort();
        segments
    }
}

/// Given: a fresh ledger (`init`) and a body key file (`key new`), no body yet.
fn given_ledger() -> Ledger {
    let temp = tempfile::tempdir().expect("temporary directory");
    let root = temp.path().to_path_buf();
    let dir = root.join("D");
    let key = root.join("K");
    json_ok(&["init", "--dir", s(&dir), "--backdate-days-max", "0"], 0);
    json_ok(&["key", "new", "--name", BODY, "--out", s(&key)], 0);
    Ledger {
        _temp: temp,
        root,
        dir,
        key,
    }
}

fn register_args(ledger: &Ledger) -> Vec<&str> {
    vec![
        "body",
        "register",
        "--dir",
        ledger.d(),
        "--reg-no",
        BODY,
        "--name",
        "重庆测试装备制造有限公司",
        "--key-file",
        ledger.k(),
        "--scope",
        "6-18-01-01:高级技师,6-18-02-04:技师",
        "--valid-from",
        "2020-01-01",
        "--valid-until",
        "2029-12-31",
        "--direct-recognition",
    ]
}

/// Given: a ledger with the enterprise body Y000050000001 registered.
fn given_ledger_with_body() -> Ledger {
    let ledger = given_ledger();
    json_ok(&register_args(&ledger), 0);
    ledger
}

/// Given: the body has certified 张三 初级工 (2020) and 中级工 (2024), and 王五 技师 directly.
fn given_ledger_with_credentials() -> Ledger {
    let ledger = given_ledger_with_body();
    let (code, value) = ledger.issue(
        JUNIOR,
        "初级工",
        "2020-06-01",
        &["--attested", "本职业工作满1年"],
    );
    assert_eq!(code, 0, "{value}");
    let (code, value) = ledger.issue(INTERMEDIATE, "中级工", "2024-06-01", &[]);
    assert_eq!(code, 0, "{value}");
    json_ok(
        &[
            "issue",
            "--dir",
            ledger.d(),
            "--key",
            ledger.k(),
            "--cert-no",
            DIRECT,
            "--id-number",
            DIRECT_ID,
            "--name",
            DIRECT_NAME,
            "--occupation",
            "6-18-02-04",
            "--level",
            "技师",
            "--date",
            "2022-06-01",
            "--direct",
            "一线岗位技术骨干，经企业评价委员会评审并公示",
        ],
        0,
    );
    ledger
}

/// Given: the credentials above, and 张三's 初级工 revoked by the authority.
fn given_ledger_with_revocation() -> Ledger {
    let ledger = given_ledger_with_credentials();
    json_ok(
        &[
            "revoke",
            "--dir",
            ledger.d(),
            "--cert-no",
            JUNIOR,
            "--reason",
            "作弊",
            "--date",
            "2025-01-01",
        ],
        0,
    );
    ledger
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

// ---------------------------------------------------------------------------------------
// 1. init
// ---------------------------------------------------------------------------------------

#[test]
fn init_prints_origin_and_keys_and_refuses_an_existing_ledger() {
    // given
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("D");
    // when
    let value = json_ok(&["init", "--dir", s(&dir)], 0);
    // then
    assert_eq!(value["origin"], "skill-ledger/50");
    // and a new ledger bounds what a body may backdate (docs/security.md)
    let config = std::fs::read_to_string(dir.join("ledger.toml")).expect("ledger.toml");
    assert!(config.contains("backdate_days_max = 90\n"), "{config}");
    let authority = value["authority_public_key"]
        .as_str()
        .expect("authority key");
    assert_eq!(authority.len(), 64, "{authority}");
    assert!(authority.bytes().all(|b| b.is_ascii_hexdigit()));
    let vkey = value["verifier_key"].as_str().expect("verifier key");
    assert!(vkey.starts_with("skill-ledger/50+"), "{vkey}");

    // when: a second init on the same directory
    let (code, value) = json(&["init", "--dir", s(&dir), "--backdate-days-max", "0"]);
    // then
    assert_eq!(code, 2, "{value}");
    let error = value["error"].as_str().expect("error message");
    assert!(error.contains("already a ledger directory"), "{error}");
    // and the first ledger is intact
    assert_eq!(
        json_ok(&["checkpoint", "--dir", s(&dir), "--vkey"], 0)["verifier_key"],
        vkey
    );
}

// ---------------------------------------------------------------------------------------
// 2. key new
// ---------------------------------------------------------------------------------------

#[test]
fn key_new_writes_a_key_file_and_refuses_to_overwrite() {
    // given
    let temp = tempfile::tempdir().unwrap();
    let key = temp.path().join("K");
    // when
    let value = json_ok(&["key", "new", "--name", BODY, "--out", s(&key)], 0);
    // then
    let public = value["public_key"].as_str().expect("public key");
    assert_eq!(public.len(), 64);
    let text = std::fs::read(&key).expect("key file written");
    assert!(!text.is_empty());

    // when: the same output path again
    let (code, value) = json(&["key", "new", "--name", BODY, "--out", s(&key)]);
    // then
    assert_eq!(code, 2, "{value}");
    assert!(
        value["error"].as_str().unwrap().contains("overwrite"),
        "{value}"
    );
    assert_eq!(
        std::fs::read(&key).unwrap(),
        text,
        "the key file is untouched"
    );
}

// ---------------------------------------------------------------------------------------
// 3. body register / show body
// ---------------------------------------------------------------------------------------

#[test]
fn body_register_is_shown_active_and_a_second_registration_is_rejected() {
    // given
    let ledger = given_ledger();
    // when
    let receipt = json_ok(&register_args(&ledger), 0);
    // then
    assert_eq!(receipt["accepted"], true);
    assert!(receipt["index"].is_u64(), "{receipt}");

    // when
    let body = json_ok(&["show", "body", BODY, "--dir", ledger.d()], 0);
    // then
    assert_eq!(body["registration_number"], BODY);
    assert_eq!(body["status"], "active");
    assert_eq!(body["direct_recognition"], true);
    let scope: Vec<(String, String)> = body["scope"]
        .as_array()
        .expect("scope")
        .iter()
        .map(|item| {
            (
                item["occupation"].as_str().unwrap().to_string(),
                item["level_max"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        scope,
        vec![
            ("6-18-01-01".to_string(), "senior_technician".to_string()),
            ("6-18-02-04".to_string(), "technician".to_string()),
        ]
    );

    // when: registered again
    let (code, value) = json(&register_args(&ledger));
    // then
    assert_eq!(code, 1, "{value}");
    assert_eq!(value["accepted"], false);
    assert_eq!(value["rejection"], "duplicate-body");
}

#[test]
fn body_register_with_a_malformed_registration_number_is_a_usage_error() {
    // given
    let ledger = given_ledger();
    let mut args = register_args(&ledger);
    let position = args.iter().position(|arg| *arg == BODY).unwrap();
    args[position] = "X00005000000";
    // when
    let (code, stdout, stderr) = run(&args);
    // then
    assert_eq!(code, 2, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("X00005000000"), "{stderr}");
    assert!(stderr.contains("registration number"), "{stderr}");
    // and under --json the problem is named in the one JSON object
    let value = json_ok(&args, 2);
    assert!(
        value["error"].as_str().unwrap().contains("X00005000000"),
        "{value}"
    );
    // and nothing was registered
    let (code, _, _) = run(&["show", "body", "X00005000000", "--dir", ledger.d()]);
    assert_eq!(code, 2);
}

// ---------------------------------------------------------------------------------------
// 4. issue
// ---------------------------------------------------------------------------------------

#[test]
fn issue_climbs_the_ladder_by_evaluation_and_by_direct_recognition() {
    // given
    let ledger = given_ledger_with_body();
    // when: 初级工 on an attested basis
    let (code, first) = ledger.issue(
        JUNIOR,
        "初级工",
        "2020-06-01",
        &["--attested", "本职业工作满1年"],
    );
    // then
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["accepted"], true);
    assert_eq!(first["event"], "level_certified");

    // when: 中级工 four years later on the prior-level basis
    let (code, second) = ledger.issue(INTERMEDIATE, "中级工", "2024-06-01", &[]);
    // then
    assert_eq!(code, 0, "{second}");
    assert!(second["index"].as_u64() > first["index"].as_u64());

    // when: direct recognition to 技师 by the enterprise body
    let (code, direct) = json(&[
        "issue",
        "--dir",
        ledger.d(),
        "--key",
        ledger.k(),
        "--cert-no",
        DIRECT,
        "--id-number",
        DIRECT_ID,
        "--name",
        DIRECT_NAME,
        "--occupation",
        "6-18-02-04",
        "--level",
        "技师",
        "--date",
        "2022-06-01",
        "--direct",
        "一线岗位技术骨干",
    ]);
    // then
    assert_eq!(code, 0, "{direct}");
    let shown = json_ok(&["show", "credential", DIRECT, "--dir", ledger.d()], 0);
    assert_eq!(shown["level"], "technician");
    assert_eq!(shown["route"], "direct");
    assert_eq!(shown["status"], "valid");
}

#[test]
fn issue_rejections_exit_1_with_their_code_and_leave_the_log_unchanged() {
    // given: 张三 holds 初级工 from 2020-06-01
    let ledger = given_ledger_with_body();
    let (code, value) = ledger.issue(
        JUNIOR,
        "初级工",
        "2020-06-01",
        &["--attested", "本职业工作满1年"],
    );
    assert_eq!(code, 0, "{value}");
    let size = ledger.size();

    let cases: Vec<(&str, &str, &str, &str, &str)> = vec![
        // (cert no, level, date, occupation, expected rejection)
        (
            "Y000050000001234000001",
            "中级工",
            "2023-06-01",
            "6-18-01-01",
            "too-few-years",
        ),
        (
            "Y000050000001254000001",
            "中级工",
            "2024-06-01",
            "6-18-01-01",
            "certificate-year-mismatch",
        ),
        (
            "Y000050000001243000001",
            "中级工",
            "2024-06-01",
            "6-18-01-01",
            "certificate-level-mismatch",
        ),
        (
            "Y000050000001244000002",
            "中级工",
            "2024-06-01",
            "6-29-01-03",
            "out-of-scope",
        ),
        (
            JUNIOR,
            "初级工",
            "2020-06-01",
            "6-18-01-01",
            "duplicate-certificate",
        ),
    ];
    for (cert_no, level, date, occupation, expected) in cases {
        // when
        let (code, value) = json(&[
            "issue",
            "--dir",
            ledger.d(),
            "--key",
            ledger.k(),
            "--cert-no",
            cert_no,
            "--id-number",
            ID,
            "--name",
            NAME,
            "--occupation",
            occupation,
            "--level",
            level,
            "--date",
            date,
        ]);
        // then
        assert_eq!(code, 1, "{cert_no}: {value}");
        assert_eq!(value["accepted"], false, "{value}");
        assert_eq!(value["rejection"], expected, "{cert_no}: {value}");
        assert!(
            value["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{value}"
        );
    }
    // and no rejected event entered the log
    assert_eq!(ledger.size(), size);
    // and the rejected numbers are unknown
    let (code, value) = json(&[
        "verify",
        "--dir",
        ledger.d(),
        "--cert-no",
        "Y000050000001234000001",
        "--name",
        NAME,
    ]);
    assert_eq!((code, value["status"].as_str()), (1, Some("unknown")));
}

#[test]
fn issue_rejection_without_json_is_reported_on_stderr() {
    // given
    let ledger = given_ledger_with_body();
    // when: the cert number's level digit (4, 中级工) disagrees with --level 初级工
    let (code, stdout, stderr) = run(&[
        "issue",
        "--dir",
        ledger.d(),
        "--key",
        ledger.k(),
        "--cert-no",
        "Y000050000001204000001",
        "--id-number",
        ID,
        "--name",
        NAME,
        "--occupation",
        "6-18-01-01",
        "--level",
        "初级工",
        "--date",
        "2020-06-01",
        "--attested",
        "本职业工作满1年",
    ]);
    // then
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("certificate-level-mismatch"), "{stderr}");
}

/// Issue 17: `issue --id-number abc` was accepted, and so was a holder name of white space:
/// both became pseudonyms nobody could ever match.
#[test]
fn issue_refuses_a_malformed_identity_number_or_an_empty_name_and_writes_nothing() {
    // given
    let ledger = given_ledger_with_body();
    let size = ledger.size();
    let cases = [
        // (id number, id type, name, what stderr must say)
        (
            "abc",
            "resident_id",
            NAME,
            "identity number ABC: a resident identity card number has 18 characters, not 3",
        ),
        (
            "110101199003071234",
            "resident_id",
            NAME,
            "identity number 110101199003071234: check digit is 4, expected 3",
        ),
        (
            "110101199002301234",
            "resident_id",
            NAME,
            "birth date 19900230 is not a calendar date",
        ),
        (
            "110105491231002",
            "resident_id",
            NAME,
            "15-digit first-generation identity cards are not accepted",
        ),
        (
            "E12/34567",
            "passport",
            NAME,
            "character 4 '/' is not allowed",
        ),
        (ID, "resident_id", "", "the holder name is empty"),
        (ID, "resident_id", " \t\u{3000}", "the holder name is empty"),
    ];
    for (id_number, id_type, name, expected) in cases {
        // when
        let (code, stdout, stderr) = run(&[
            "issue",
            "--dir",
            ledger.d(),
            "--key",
            ledger.k(),
            "--cert-no",
            JUNIOR,
            "--id-number",
            id_number,
            "--id-type",
            id_type,
            "--name",
            name,
            "--occupation",
            "6-18-01-01",
            "--level",
            "初级工",
            "--date",
            "2020-06-01",
            "--attested",
            "本职业工作满1年",
        ]);
        // then: a usage error naming what is wrong
        assert_eq!(code, 2, "{id_number:?} {name:?}: {stdout}{stderr}");
        assert!(
            stderr.contains(expected),
            "{id_number:?} {name:?}: {stderr}"
        );
    }
    // and nothing entered the log
    assert_eq!(ledger.size(), size);
    // and with --json the error is the one JSON object
    let (code, value) = json(&[
        "show",
        "person",
        "--dir",
        ledger.d(),
        "--id-number",
        "500101199001011234",
    ]);
    assert_eq!(code, 2, "{value}");
    assert!(
        value["error"]
            .as_str()
            .is_some_and(|error| error.contains("check digit is 4, expected X")),
        "{value}"
    );
    // and a well-formed number in any spacing and case is the same person
    let (code, value) = ledger.issue(
        JUNIOR,
        "初级工",
        "2020-06-01",
        &["--attested", "本职业工作满1年"],
    );
    assert_eq!(code, 0, "{value}");
    let shown = json_ok(
        &[
            "show",
            "person",
            "--dir",
            ledger.d(),
            "--id-number",
            "500101 19900101 123x",
        ],
        0,
    );
    assert_eq!(
        shown["credentials"].as_array().map(Vec::len),
        Some(1),
        "{shown}"
    );
}

/// Issue 17: a rejection was told in English only; `--lang zh` (or a Chinese locale) tells
/// it in Chinese, from the domain's one table of messages per rejection code.
#[test]
fn rejections_are_told_in_chinese_with_lang_zh_or_a_chinese_locale() {
    // given 张三's 初级工 on the ledger
    let ledger = given_ledger_with_credentials();
    let size = ledger.size();
    let duplicate = support::issue_args(&["--dir", ledger.d()], ledger.k(), JUNIOR);
    // when it is issued again with --lang zh
    let mut args = duplicate.to_vec();
    args.extend(["--lang", "zh"]);
    let (code, _, stderr) = run(&args);
    // then the rejection is in Chinese, with its code and particulars
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("已拒绝（duplicate-certificate）：证书编号已在账本上"),
        "{stderr}"
    );
    assert!(stderr.contains(JUNIOR), "{stderr}");
    // and under a Chinese locale without --lang, a revocation refused is in Chinese too
    let revoke = [
        "revoke",
        "--dir",
        ledger.d(),
        "--cert-no",
        JUNIOR,
        "--reason",
        "作弊",
        "--date",
        "2019-01-01",
    ];
    let (code, _, stderr) = run_with_env(&revoke, &[("LANG", "zh_CN.UTF-8")]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("已拒绝（revocation-before-issue）：撤销日期早于发证日期"),
        "{stderr}"
    );
    // and --lang en wins over the locale, and LC_ALL over LANG
    let mut args = duplicate.to_vec();
    args.extend(["--lang", "en"]);
    let (code, _, stderr) = run_with_env(&args, &[("LANG", "zh_CN.UTF-8")]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("rejected (duplicate-certificate): certificate number"),
        "{stderr}"
    );
    let (_, _, stderr) = run_with_env(&duplicate, &[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "C")]);
    assert!(
        stderr.contains("rejected (duplicate-certificate)"),
        "{stderr}"
    );
    // and --json carries both messages
    let (code, value) = json(&duplicate);
    assert_eq!(code, 1, "{value}");
    assert_eq!(value["message_zh"], "证书编号已在账本上", "{value}");
    // and nothing entered the log
    assert_eq!(ledger.size(), size);
}

/// Issue 17: CSV with CRLF line ends must not fail every row. A batch file as a spreadsheet
/// writes it (a UTF-8 BOM, CRLF, quoted cells), issued row by row.
#[test]
fn issue_csv_reads_crlf_and_a_bom_and_reruns_as_duplicates() {
    // given a batch of three rows, the last out of the body's scope
    let ledger = given_ledger_with_body();
    let file = ledger.root.join("batch.csv");
    let rows = [
        "cert_no,id_number,id_type,name,occupation,level,date,attested,direct",
        &format!("{JUNIOR},{ID},resident_id,{NAME},6-18-01-01,初级工,2020-06-01,本职业工作满1年,"),
        &format!(
            "{DIRECT},{DIRECT_ID},,{DIRECT_NAME},6-18-02-04,技师,2022-06-01,,\"一线骨干，经评审并公示\""
        ),
        "Y000050000001205000009,11010519491231002X,,赵六,6-29-01-03,初级工,2020-06-01,满1年,",
    ];
    let text = format!("\u{feff}{}\r\n", rows.join("\r\n"));
    std::fs::write(&file, text).expect("write the batch");
    let size = ledger.size();
    // when
    let (code, value) = json(&[
        "issue-csv",
        "--dir",
        ledger.d(),
        "--key",
        ledger.k(),
        s(&file),
    ]);
    // then the two rows in scope are accepted and the third is rejected by its rule
    assert_eq!(code, 1, "{value}");
    assert_eq!(
        (value["accepted"].as_u64(), value["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(value["rows"][2]["line"], 4, "{value}");
    assert_eq!(value["rows"][2]["rejection"], "out-of-scope", "{value}");
    assert_eq!(ledger.size(), size + 2);
    for (cert_no, name) in [(JUNIOR, NAME), (DIRECT, DIRECT_NAME)] {
        let verified = json_ok(
            &[
                "verify",
                "--dir",
                ledger.d(),
                "--cert-no",
                cert_no,
                "--name",
                name,
            ],
            0,
        );
        assert_eq!(verified["status"], "valid", "{verified}");
    }
    // when the same file is run again, the rows on the ledger are duplicates, not new events
    let (code, value) = json(&[
        "issue-csv",
        "--dir",
        ledger.d(),
        "--key",
        ledger.k(),
        s(&file),
    ]);
    assert_eq!(code, 1, "{value}");
    assert_eq!(value["duplicates"], 2, "{value}");
    assert_eq!(ledger.size(), size + 2);
    // and a file with one malformed row is refused whole, naming the line, with nothing written
    let bad = ledger.root.join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{}\r\nY000050000001205000007,abc,,李四,6-18-01-01,初级工,2020-06-01,满1年,\r\n",
            rows[..2].join("\r\n")
        ),
    )
    .expect("write");
    let (code, _, stderr) = run(&[
        "issue-csv",
        "--dir",
        ledger.d(),
        "--key",
        ledger.k(),
        s(&bad),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("line 3: id_number: identity number ABC"),
        "{stderr}"
    );
    assert_eq!(ledger.size(), size + 2);
}

// ---------------------------------------------------------------------------------------
// 5. verify / revoke / show
// ---------------------------------------------------------------------------------------

#[test]
fn verify_reports_valid_name_mismatch_and_unknown() {
    // given
    let ledger = given_ledger_with_credentials();
    // when / then: the right name
    let value = json_ok(
        &[
            "verify",
            "--dir",
            ledger.d(),
            "--cert-no",
            INTERMEDIATE,
            "--name",
            NAME,
        ],
        0,
    );
    assert_eq!(value["status"], "valid");
    assert_eq!(value["matched"], true);
    assert_eq!(value["level"], "intermediate");
    assert_eq!(value["checked_against"]["origin"], "skill-ledger/50");

    // when / then: a wrong name
    let value = json_ok(
        &[
            "verify",
            "--dir",
            ledger.d(),
            "--cert-no",
            INTERMEDIATE,
            "--name",
            "李四",
        ],
        1,
    );
    assert_eq!(value["status"], "name_mismatch");
    assert_eq!(value["matched"], false);
    assert!(
        value.get("level").is_none(),
        "a mismatch reveals nothing: {value}"
    );

    // when / then: a number not on the ledger
    let value = json_ok(
        &[
            "verify",
            "--dir",
            ledger.d(),
            "--cert-no",
            "Y000050000001244999999",
            "--name",
            NAME,
        ],
        1,
    );
    assert_eq!(value["status"], "unknown");
    assert_eq!(value["matched"], false);
}

#[test]
fn revoke_makes_verify_say_revoked_and_a_second_revocation_is_rejected() {
    // given
    let ledger = given_ledger_with_credentials();
    // when
    let receipt = json_ok(
        &[
            "revoke",
            "--dir",
            ledger.d(),
            "--cert-no",
            JUNIOR,
            "--reason",
            "作弊",
            "--date",
            "2025-01-01",
        ],
        0,
    );
    // then
    assert_eq!(receipt["event"], "credential_revoked");
    let value = json_ok(
        &[
            "verify",
            "--dir",
            ledger.d(),
            "--cert-no",
            JUNIOR,
            "--name",
            NAME,
        ],
        1,
    );
    assert_eq!(value["status"], "revoked");
    assert_eq!(value["matched"], true);

    // when: revoked again
    let (code, value) = json(&[
        "revoke",
        "--dir",
        ledger.d(),
        "--cert-no",
        JUNIOR,
        "--reason",
        "作弊",
        "--date",
        "2025-01-01",
    ]);
    // then
    assert_eq!(code, 1, "{value}");
    assert_eq!(value["rejection"], "already-revoked");

    // when
    let shown = json_ok(&["show", "credential", JUNIOR, "--dir", ledger.d()], 0);
    // then
    assert_eq!(shown["status"], "revoked");
    assert_eq!(shown["revocation"]["reason"], "作弊");
    assert_eq!(shown["revocation"]["effective"], "2025-01-01");
    assert_eq!(shown["revocation"]["by"], "authority");
    // and the other credential is untouched
    json_ok(
        &[
            "verify",
            "--dir",
            ledger.d(),
            "--cert-no",
            INTERMEDIATE,
            "--name",
            NAME,
        ],
        0,
    );
}

#[test]
fn show_person_lists_credentials_and_never_reveals_identity_or_name() {
    // given
    let ledger = given_ledger_with_revocation();
    // when
    let (code, stdout, stderr) = run(&[
        "show",
        "person",
        "--id-number",
        ID,
        "--dir",
        ledger.d(),
        "--json",
    ]);
    // then
    assert_eq!(code, 0, "{stderr}");
    let value: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let mut listed: Vec<(&str, &str)> = value["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| {
            (
                c["certificate_number"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(listed, vec![(JUNIOR, "revoked"), (INTERMEDIATE, "valid")]);
    assert!(!stdout.contains(ID) && !stdout.contains(NAME), "{stdout}");

    // and in text form too
    let (code, stdout, _) = run(&["show", "person", "--id-number", ID, "--dir", ledger.d()]);
    assert_eq!(code, 0);
    assert!(stdout.contains(INTERMEDIATE), "{stdout}");
    assert!(!stdout.contains(ID) && !stdout.contains(NAME), "{stdout}");

    // and neither the id number nor the name is stored in clear anywhere in the ledger
    for file in files_under(&ledger.dir) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [ID, NAME, DIRECT_ID, DIRECT_NAME] {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{} holds {secret} in clear",
                file.display()
            );
        }
    }

    // when: a person with no credential
    let value = json_ok(
        &[
            "show",
            "person",
            "--id-number",
            "500101200001011235",
            "--dir",
            ledger.d(),
        ],
        1,
    );
    // then
    assert_eq!(value["credentials"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------
// 6. stats / rebuild
// ---------------------------------------------------------------------------------------

#[test]
fn stats_are_right_and_byte_identical_across_rebuild() {
    // given
    let ledger = given_ledger_with_revocation();
    // when
    let (code, before, stderr) = run(&["stats", "--dir", ledger.d(), "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let rebuilt = json_ok(&["rebuild", "--dir", ledger.d()], 0);
    let (code, after, stderr) = run(&["stats", "--dir", ledger.d(), "--json"]);
    assert_eq!(code, 0, "{stderr}");
    // then
    assert_eq!(rebuilt["identical"], true, "{rebuilt}");
    assert_eq!(rebuilt["digest_before"], rebuilt["digest_after"]);
    assert_eq!(
        before, after,
        "stats must be byte-identical across a rebuild"
    );
    let stats: Value = serde_json::from_str(before.trim()).unwrap();
    assert_eq!(stats["certificates"]["issued"], 3, "{stats}");
    assert_eq!(stats["certificates"]["revoked"], 1, "{stats}");
    assert_eq!(stats["certificates"]["valid"], 2, "{stats}");
    assert_eq!(stats["holders"]["total"], 2, "{stats}");
    // and re-verifying every signature and rule gives the same projections
    let verified = json_ok(&["rebuild", "--dir", ledger.d(), "--verify-signatures"], 0);
    assert_eq!(verified["verified_signatures"], true, "{verified}");
    assert_eq!(
        verified["digest_after"], rebuilt["digest_after"],
        "{verified}"
    );
    assert_eq!(rebuilt["verified_signatures"], false, "{rebuilt}");
}

/// Issue 17: `stats` without `--json` printed the JSON document, not a table for people.
#[test]
fn stats_without_json_is_a_table_of_the_ladder_with_the_high_skill_share() {
    // given: 张三 holds 中级工 (his 初级工 revoked), 王五 技师
    let ledger = given_ledger_with_revocation();
    // when
    let (code, stdout, stderr) = run(&["stats", "--dir", ledger.d()]);
    // then: not JSON, not Debug text
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains('{') && !stdout.contains('"'), "{stdout}");
    assert!(stdout.contains("3 issued, 1 revoked, 2 valid"), "{stdout}");
    // and one row per level of the ladder, lowest first, with its counts
    let rows: Vec<&str> = [
        "学徒工",
        "初级工",
        "中级工",
        "高级工",
        "技师",
        "高级技师",
        "特级技师",
        "首席技师",
    ]
    .iter()
    .map(|name| {
        stdout
            .lines()
            .find(|line| line.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("a row for {name}: {stdout}"))
    })
    .collect();
    let cells = |row: &str| row.split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
    assert_eq!(cells(rows[2]), "1 1 0", "中级工: {stdout}");
    assert_eq!(cells(rows[4]), "1 1 0", "技师: {stdout}");
    assert_eq!(cells(rows[1]), "0 0 0", "初级工 (revoked): {stdout}");
    // and the columns are aligned: every row of the table ends at the same column
    let width = |line: &str| {
        line.chars()
            .map(|c| if c > '\u{2e80}' { 2 } else { 1 })
            .sum::<usize>()
    };
    assert!(
        rows.iter().all(|row| width(row) == width(rows[0])),
        "{stdout}"
    );
    // and the high-skill share and the recognitions
    assert!(stdout.contains("1 of 2 holders, 50.0%"), "{stdout}");
    assert!(stdout.contains("0 active, 0 withdrawn"), "{stdout}");
    // and `--by route` is a table too
    let (code, stdout, stderr) = run(&["stats", "--dir", ledger.d(), "--by", "route"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains('{'), "{stdout}");
    let direct = stdout
        .lines()
        .find(|line| line.starts_with("直接认定"))
        .unwrap_or_else(|| panic!("a row for direct recognition: {stdout}"));
    let last_two: Vec<&str> = direct.split_whitespace().rev().take(2).collect();
    assert_eq!(last_two, ["1", "1"], "total and high-skill: {stdout}");
}

// ---------------------------------------------------------------------------------------
// 7. demo
// ---------------------------------------------------------------------------------------

#[test]
fn demo_samples_verify_as_valid_and_as_revoked() {
    // given
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("X");
    // when
    let summary = json_ok(
        &["demo", "--dir", s(&root), "--no-serve", "--workers", "300"],
        0,
    );
    // then: both partners' ledgers exist, neither served
    for key in ["50", "51"] {
        let node = &summary["nodes"][key];
        assert!(node["url"].is_null(), "{node}");
        let dir = node["dir"].as_str().expect("nodes.*.dir");
        assert!(Path::new(dir).join("ledger.toml").exists(), "{dir}");
        assert!(node["credentials"].as_u64().unwrap_or(0) > 100, "{node}");
    }
    let valid = summary["samples"]["valid"]
        .as_array()
        .expect("valid samples");
    let revoked = summary["samples"]["revoked"]
        .as_array()
        .expect("revoked samples");
    assert!(!valid.is_empty() && !revoked.is_empty(), "{summary}");
    for (samples, expected_code, expected_status) in [(valid, 0, "valid"), (revoked, 1, "revoked")]
    {
        for sample in samples {
            let cert_no = sample["cert_no"].as_str().expect("cert_no");
            let name = sample["name"].as_str().expect("name");
            let key = sample["node"].as_str().expect("node");
            let dir = summary["nodes"][key]["dir"].as_str().expect("dir");
            assert_eq!(&cert_no[5..7], key, "a sample names its own ledger");
            let value = json_ok(
                &["verify", "--dir", dir, "--cert-no", cert_no, "--name", name],
                expected_code,
            );
            assert_eq!(value["status"], expected_status, "{cert_no}: {value}");
        }
    }
    // and one certificate of every other kind verifies as its kind says (issue 19)
    let kinds = summary["samples"]["kinds"]
        .as_array()
        .expect("kind samples");
    let mut seen: Vec<&str> = Vec::new();
    for sample in kinds {
        let kind = sample["kind"].as_str().expect("kind");
        let cert_no = sample["cert_no"].as_str().expect("cert_no");
        let name = sample["name"].as_str().expect("name");
        let dir = summary["nodes"][sample["node"].as_str().expect("node")]["dir"]
            .as_str()
            .expect("dir");
        let (code, status) = match kind {
            "special_ability_revoked" => (1, "revoked"),
            _ => (0, "valid"),
        };
        let value = json_ok(
            &["verify", "--dir", dir, "--cert-no", cert_no, "--name", name],
            code,
        );
        assert_eq!(value["status"], status, "{cert_no}: {value}");
        match kind {
            "qualification" => assert_eq!(value["kind"], "qualification", "{value}"),
            "foreign_comparison" => assert_eq!(value["route"], "foreign-comparison", "{value}"),
            _ => assert_eq!(value["kind"], "special_ability", "{value}"),
        }
        seen.push(kind);
    }
    for kind in [
        "qualification",
        "special_ability",
        "special_ability_revoked",
        "foreign_comparison",
    ] {
        assert!(seen.contains(&kind), "no {kind} sample: {summary}");
    }
}

// ---------------------------------------------------------------------------------------
// 8. checkpoint / proofs / audit
// ---------------------------------------------------------------------------------------

#[test]
fn checkpoint_proofs_and_audit() {
    // given
    let ledger = given_ledger_with_credentials();
    let size = ledger.size();
    assert!(size >= 5, "{size}");

    // when
    let (code, note, stderr) = run(&["checkpoint", "--dir", ledger.d()]);
    // then: a signed note: origin, size, root, blank line, signature line
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = note.lines().collect();
    assert_eq!(lines[0], "skill-ledger/50", "{note}");
    assert_eq!(lines[1], size.to_string(), "{note}");
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("— skill-ledger/50 ")),
        "{note}"
    );

    // when
    let (code, vkey, _) = run(&["checkpoint", "--dir", ledger.d(), "--vkey"]);
    // then: skill-ledger/50+<8 hex>+<base64>
    assert_eq!(code, 0);
    // The base64 part may itself contain '+': split off the first two fields only.
    let parts: Vec<&str> = vkey.trim().splitn(3, '+').collect();
    assert_eq!(parts.len(), 3, "{vkey}");
    assert_eq!(parts[0], "skill-ledger/50");
    assert!(
        parts[1].len() == 8 && parts[1].bytes().all(|b| b.is_ascii_hexdigit()),
        "{vkey}"
    );
    assert!(
        !parts[2].is_empty()
            && parts[2]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+' || b == b'='),
        "{vkey}"
    );

    // when
    let inclusion = json_ok(&["proof", "inclusion", "1", "--dir", ledger.d()], 0);
    // then
    let mut keys: Vec<&str> = inclusion
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["index", "leaf_hash", "proof", "root", "size"]);
    assert_eq!(inclusion["index"], 1);
    assert_eq!(inclusion["size"], size);
    assert!(inclusion["proof"].is_array());

    // when
    let consistency = json_ok(&["proof", "consistency", "2", "5", "--dir", ledger.d()], 0);
    // then
    assert_eq!(consistency["old"], 2);
    assert_eq!(consistency["new"], 5);
    assert!(
        consistency["proof"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{consistency}"
    );
    // and its new root is the root an inclusion proof at size 5 reports
    let at_five = json_ok(
        &[
            "proof",
            "inclusion",
            "0",
            "--size",
            "5",
            "--dir",
            ledger.d(),
        ],
        0,
    );
    assert_eq!(consistency["root"], at_five["root"]);

    // when / then: out-of-range proofs are usage errors
    json_ok(
        &["proof", "inclusion", &size.to_string(), "--dir", ledger.d()],
        2,
    );
    json_ok(&["proof", "consistency", "5", "2", "--dir", ledger.d()], 2);

    // when
    let audit = json_ok(&["audit", "--dir", ledger.d()], 0);
    // then
    assert_eq!(audit["ok"], true, "{audit}");
    assert_eq!(audit["size"], size);
}

// ---------------------------------------------------------------------------------------
// 9. durability through the binary
// ---------------------------------------------------------------------------------------

#[test]
fn a_flipped_byte_inside_an_early_entry_is_refused_and_left_untouched() {
    // given
    let ledger = given_ledger_with_revocation();
    let segment = ledger.first_segment();
    let mut bytes = std::fs::read(&segment).unwrap();
    // frames follow the 32-byte header: u32 LE length, u32 crc, payload; damage entry 1
    let first_len = u32::from_le_bytes(bytes[32..36].try_into().unwrap()) as usize;
    let second = 32 + 8 + first_len;
    let second_len = u32::from_le_bytes(bytes[second..second + 4].try_into().unwrap()) as usize;
    let offset = second + 8 + second_len / 2;
    assert!(offset < bytes.len() / 2 + bytes.len() / 4, "an early entry");
    bytes[offset] ^= 0x5a;
    std::fs::write(&segment, &bytes).unwrap();

    // when
    let (code, value) = json(&["stats", "--dir", ledger.d()]);
    // then
    assert_eq!(code, 2, "{value}");
    let error = value["error"].as_str().expect("error");
    assert!(
        error.contains("offset") || error.contains("entry"),
        "{error}"
    );
    assert!(
        error.contains("damaged") || error.contains("checksum"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(&segment).unwrap(),
        bytes,
        "the damaged segment is not overwritten"
    );

    // and other commands refuse too, still without touching it
    let (code, _, stderr) = run(&[
        "verify",
        "--dir",
        ledger.d(),
        "--cert-no",
        INTERMEDIATE,
        "--name",
        NAME,
    ]);
    assert_eq!(code, 2, "{stderr}");
    json_ok(
        &[
            "body",
            "register",
            "--dir",
            ledger.d(),
            "--reg-no",
            "Y000050000002",
            "--name",
            "x",
            "--key-file",
            ledger.k(),
            "--scope",
            "6-18-01-01:技师",
            "--valid-from",
            "2020-01-01",
            "--valid-until",
            "2029-12-31",
        ],
        2,
    );
    assert_eq!(
        std::fs::read(&segment).unwrap(),
        bytes,
        "the damaged segment is not overwritten"
    );
    assert_eq!(ledger.segments().len(), 1);
}

#[test]
fn a_torn_tail_is_cut_and_the_counts_are_unchanged() {
    // given: a fresh copy of a ledger with junk appended to its last segment
    let ledger = given_ledger_with_revocation();
    let (code, before, _) = run(&["stats", "--dir", ledger.d(), "--json"]);
    assert_eq!(code, 0);
    let copy = ledger.root.join("torn");
    copy_dir(&ledger.dir, &copy);
    let last = {
        let mut segments: Vec<PathBuf> = std::fs::read_dir(copy.join("log"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "seg"))
            .collect();
        segments.sort();
        segments.pop().expect("a segment")
    };
    let length = std::fs::metadata(&last).unwrap().len();
    let mut bytes = std::fs::read(&last).unwrap();
    bytes.extend_from_slice(b"\x17\x00\x00\x00torn-tail-junk\x01\x02\x03");
    std::fs::write(&last, &bytes).unwrap();

    // when
    let (code, after, stderr) = run(&["stats", "--dir", s(&copy), "--json"]);
    // then
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(before, after, "counts unchanged");
    assert_eq!(
        std::fs::metadata(&last).unwrap().len(),
        length,
        "the torn tail was cut"
    );
    // and the copy keeps working
    json_ok(&["audit", "--dir", s(&copy)], 0);
    json_ok(
        &[
            "verify",
            "--dir",
            s(&copy),
            "--cert-no",
            INTERMEDIATE,
            "--name",
            NAME,
        ],
        0,
    );
}

// ---------------------------------------------------------------------------------------
// 10. usage errors
// ---------------------------------------------------------------------------------------

#[test]
fn usage_errors_exit_2() {
    // given
    let ledger = given_ledger_with_credentials();

    // when / then: an unknown subcommand
    let (code, _, stderr) = run(&["frobnicate"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("frobnicate"), "{stderr}");

    // when / then: a missing --dir
    let (code, _, stderr) = run(&["stats"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--dir"), "{stderr}");

    // when / then: a malformed date names the date
    let (code, _, stderr) = run(&[
        "revoke",
        "--dir",
        ledger.d(),
        "--cert-no",
        INTERMEDIATE,
        "--reason",
        "作弊",
        "--date",
        "2024-13-01",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("2024-13-01"), "{stderr}");
    // and nothing was revoked
    json_ok(
        &[
            "verify",
            "--dir",
            ledger.d(),
            "--cert-no",
            INTERMEDIATE,
            "--name",
            NAME,
        ],
        0,
    );

    // when / then: under --json each usage error is still one JSON object naming the problem
    for (args, named) in [
        (vec!["frobnicate"], "frobnicate"),
        (vec!["stats"], "--dir"),
        (
            vec![
                "revoke",
                "--dir",
                ledger.d(),
                "--cert-no",
                INTERMEDIATE,
                "--reason",
                "x",
                "--date",
                "2024-13-01",
            ],
            "2024-13-01",
        ),
    ] {
        let value = json_ok(&args, 2);
        assert_eq!(value["exit_code"], 2, "{value}");
        assert!(value["error"].as_str().unwrap().contains(named), "{value}");
    }

    // when / then: a directory that is not a ledger
    let (code, value) = json(&["stats", "--dir", s(&ledger.root.join("nowhere"))]);
    assert_eq!(code, 2, "{value}");
    assert!(
        value["error"].as_str().unwrap().contains("ledger"),
        "{value}"
    );

    // when / then: a key file that is not a key
    let junk = ledger.root.join("junk.key");
    std::fs::write(&junk, "not a key\n").unwrap();
    let (code, value) = json(&[
        "issue",
        "--dir",
        ledger.d(),
        "--key",
        s(&junk),
        "--cert-no",
        "Y000050000001205000009",
        "--id-number",
        ID,
        "--name",
        NAME,
        "--occupation",
        "6-18-01-01",
        "--level",
        "初级工",
        "--date",
        "2020-06-01",
        "--attested",
        "x",
    ]);
    assert_eq!(code, 2, "{value}");
}

// ---------------------------------------------------------------------------------------
// 11. bench
// ---------------------------------------------------------------------------------------

/// Every benchmark reports the machine's raw limits measured in the same run.
fn check_machine_limits(value: &Value) {
    for limit in [
        "batch_verify_per_s",
        "grouped_batch_verify_per_s",
        "fdatasync_per_s",
        "sha256_mb_per_s",
    ] {
        assert!(
            value["machine_limits"][limit]
                .as_f64()
                .is_some_and(|figure| figure > 0.0),
            "{limit}: {value}"
        );
    }
}

#[test]
fn bench_rebuild_and_proofs_smoke() {
    // when a small ledger is rebuilt both ways
    let value = json_ok(&["bench", "rebuild", "--events", "1000"], 0);
    // then both rates are there, and the rebuilt projections matched the ingest's
    for key in ["events_per_s", "verified_events_per_s"] {
        assert!(
            value[key].as_f64().is_some_and(|figure| figure > 0.0),
            "{key}: {value}"
        );
    }
    check_machine_limits(&value);
    // when proofs are generated from a small tree
    let value = json_ok(
        &["bench", "proofs", "--entries", "1000", "--seconds", "0.2"],
        0,
    );
    assert!(
        value["proofs_per_s"]
            .as_f64()
            .is_some_and(|figure| figure > 0.0),
        "{value}"
    );
    check_machine_limits(&value);
}

#[test]
fn bench_ingest_smoke() {
    // when
    let value = json_ok(&["bench", "ingest", "--events", "2000"], 0);
    // then
    assert_eq!(value["events"], 2000);
    assert!(
        value["events_per_s"]
            .as_f64()
            .is_some_and(|rate| rate > 0.0),
        "{value}"
    );
    for key in [
        "commit_p99_ms",
        "bytes_per_event",
        "peak_rss_mb",
        "batch_verify_per_s",
    ] {
        assert!(
            value[key].as_f64().is_some_and(|figure| figure >= 0.0),
            "{key}: {value}"
        );
    }
    assert_eq!(value["failures"], 0, "{value}");
    // The resident memory through the run: 21 samples, from 0 to every event submitted.
    let samples = value["rss_mb_by_events"].as_array().expect("rss series");
    assert_eq!(samples.len(), 21, "{value}");
    assert_eq!(samples[0][0], 0);
    assert_eq!(samples[20][0], 2000);
    assert!(samples
        .iter()
        .all(|sample| sample[1].as_f64().is_some_and(|mb| mb > 0.0)));
    check_machine_limits(&value);
}

#[test]
fn bench_sync_smoke() {
    // when a partner catches up on an origin of 2,000 workload events
    let value = json_ok(
        &[
            "bench",
            "sync",
            "--events",
            "2000",
            "--batch-entries",
            "512",
        ],
        0,
    );
    // then it holds every entry (the bodies' registrations and the ledger's setup too)
    assert!(
        value["entries"]
            .as_u64()
            .is_some_and(|entries| entries > 2000),
        "{value}"
    );
    assert_eq!(value["credentials"], 2000, "{value}");
    assert!(value["batches"]
        .as_u64()
        .is_some_and(|batches| batches >= 4));
    assert!(
        value["transport"]
            .as_str()
            .is_some_and(|transport| transport.starts_with("in-process")),
        "{value}"
    );
    for key in ["entries_per_s", "batch_verify_per_s", "peak_rss_mb"] {
        assert!(
            value[key].as_f64().is_some_and(|figure| figure > 0.0),
            "{key}: {value}"
        );
    }
    check_machine_limits(&value);
}

#[test]
fn a_stolen_body_key_is_revoked_with_the_credentials_it_signed_from_an_entry_on() {
    // given 张三's 初级工 (genuine), then 中级工 and 王五's 技师 signed with the same key, and
    // the key reported stolen after the first
    let ledger = given_ledger_with_credentials();
    let index_of = |cert: &str| {
        json_ok(&["show", "credential", cert, "--dir", ledger.d()], 0)["entry_index"]
            .as_u64()
            .expect("entry index")
    };
    let from = index_of(JUNIOR) + 1;
    let status = |cert: &str| {
        json_ok(&["show", "credential", cert, "--dir", ledger.d()], 0)["status"]
            .as_str()
            .expect("status")
            .to_string()
    };
    let new_key = ledger.root.join("K2");
    json_ok(&["key", "new", "--name", BODY, "--out", s(&new_key)], 0);
    json_ok(
        &[
            "body",
            "rotate-key",
            "--dir",
            ledger.d(),
            "--reg-no",
            BODY,
            "--key-file",
            s(&new_key),
            "--date",
            "2024-07-01",
            "--reason",
            "私钥被盗, 报案登记",
        ],
        0,
    );
    let from_text = from.to_string();
    let revoke_key = |dry_run: bool| {
        let mut args = vec![
            "body",
            "revoke-key",
            "--dir",
            ledger.d(),
            "--reg-no",
            BODY,
            "--key-file",
            ledger.k(),
            "--date",
            "2024-07-02",
            "--reason",
            "私钥被盗",
            "--revoke-credentials-from",
            &from_text,
        ];
        if dry_run {
            args.push("--dry-run");
        }
        json_ok(&args, 0)
    };
    let listed = |report: &Value, field: &str| -> Vec<String> {
        let mut numbers: Vec<String> = report[field]
            .as_array()
            .expect(field)
            .iter()
            .map(|item| {
                item["certificate_number"]
                    .as_str()
                    .expect("number")
                    .to_string()
            })
            .collect();
        numbers.sort();
        numbers
    };
    let mut expected = vec![INTERMEDIATE.to_string(), DIRECT.to_string()];
    expected.sort();

    // when the authority looks first: a dry run lists them and changes nothing
    let size = ledger.size();
    let dry = revoke_key(true);
    assert_eq!(listed(&dry, "credentials_revoked"), expected, "{dry}");
    assert_eq!(dry["key_revocation"]["submitted"], false);
    assert_eq!(ledger.size(), size, "a dry run submits nothing");
    assert_eq!(status(INTERMEDIATE), "valid");

    // when it revokes the key and what it signed from that entry on
    let done = revoke_key(false);
    // then the key revocation is logged, those credentials are revoked, the earlier one stays
    assert!(done["key_revocation"]["index"].as_u64().is_some(), "{done}");
    assert_eq!(listed(&done, "credentials_revoked"), expected, "{done}");
    assert_eq!(status(INTERMEDIATE), "revoked");
    assert_eq!(status(DIRECT), "revoked");
    assert_eq!(status(JUNIOR), "valid");
    // and the stolen key signs nothing more, even backdated before the rotation
    let (code, refused) = ledger.issue(
        "Y000050000001235000002",
        "初级工",
        "2023-01-01",
        &["--attested", "本职业工作满1年"],
    );
    assert_eq!(code, 1, "{refused}");
    assert_eq!(refused["rejection"], "key-revoked", "{refused}");
    // and the body shows the revoked key
    let body = json_ok(&["show", "body", BODY, "--dir", ledger.d()], 0);
    assert_eq!(
        body["revoked_keys"].as_array().map(Vec::len),
        Some(1),
        "{body}"
    );
    assert_eq!(body["keys"].as_array().map(Vec::len), Some(2), "{body}");
    // and running it again changes nothing
    let again = revoke_key(false);
    assert!(
        again["key_revocation"]["already_revoked_by"]
            .as_u64()
            .is_some(),
        "{again}"
    );
    assert_eq!(listed(&again, "credentials_revoked"), Vec::<String>::new());
    assert_eq!(listed(&again, "credentials_already_revoked"), expected);
}

/// The checkpoint note and whether it verifies with each verifier key.
fn checkpoint_verifies_with(ledger: &Ledger, vkeys: &[&str]) -> Vec<bool> {
    let (code, note, stderr) = run(&["checkpoint", "--dir", ledger.d()]);
    assert_eq!(code, 0, "{stderr}");
    vkeys
        .iter()
        .map(|vkey| skill_ledger_log::parse_and_verify_checkpoint(&note, vkey).is_ok())
        .collect()
}

fn vkey_of(ledger: &Ledger) -> String {
    json_ok(&["checkpoint", "--dir", ledger.d(), "--vkey"], 0)["verifier_key"]
        .as_str()
        .expect("verifier key")
        .to_string()
}

#[test]
fn the_authority_key_rotates_with_both_keys_on_the_checkpoints_and_recovers_with_the_recovery_key()
{
    // given: a ledger made by `init`, which wrote a recovery key
    let ledger = given_ledger_with_body();
    let recovery_key = ledger.dir.join("keys/recovery.key");
    assert!(recovery_key.exists(), "init writes the recovery key");
    let first = vkey_of(&ledger);

    // when: a planned rotation
    let rotated = json_ok(&["authority", "rotate-key", "--dir", ledger.d()], 0);
    // then: the checkpoints carry both keys' signatures, and the new key is the ledger's
    assert_eq!(rotated["kind"], "rotation", "{rotated}");
    assert_eq!(rotated["cosigned"], true, "{rotated}");
    let second = vkey_of(&ledger);
    assert_ne!(first, second);
    assert_eq!(rotated["verifier_key"], second.as_str());
    assert_eq!(
        checkpoint_verifies_with(&ledger, &[&first, &second]),
        [true, true]
    );
    // and the authority signs with the new key, also after a restart
    json_ok(
        &[
            "body",
            "suspend",
            "--dir",
            ledger.d(),
            "--reg-no",
            BODY,
            "--date",
            "2026-01-05",
            "--reason",
            "整改",
        ],
        0,
    );
    assert_eq!(
        checkpoint_verifies_with(&ledger, &[&first, &second]),
        [true, true]
    );

    // when: the key in force is stolen, and the authority recovers with the recovery key
    let recovered = json_ok(
        &[
            "authority",
            "recover",
            "--dir",
            ledger.d(),
            "--recovery-key",
            s(&recovery_key),
        ],
        0,
    );
    // then: only the recovered key signs; the stolen and the retired keys are set aside
    assert_eq!(recovered["kind"], "recovery", "{recovered}");
    assert_eq!(recovered["cosigned"], false, "{recovered}");
    let third = vkey_of(&ledger);
    assert_eq!(
        checkpoint_verifies_with(&ledger, &[&first, &second, &third]),
        [false, false, true]
    );
    assert!(ledger.dir.join("keys/authority.compromised.key").exists());
    json_ok(
        &[
            "body",
            "reinstate",
            "--dir",
            ledger.d(),
            "--reg-no",
            BODY,
            "--date",
            "2026-01-06",
            "--reason",
            "整改完成",
        ],
        0,
    );

    // when: a recovery with a key that is not the ledger's recovery key
    let other = ledger.root.join("other.key");
    json_ok(
        &[
            "key",
            "new",
            "--name",
            "skill-ledger/50/recovery",
            "--out",
            s(&other),
        ],
        0,
    );
    let (code, value) = json(&[
        "authority",
        "recover",
        "--dir",
        ledger.d(),
        "--recovery-key",
        s(&other),
    ]);
    // then: refused, naming why, and the ledger's key is unchanged
    assert_ne!(code, 0, "{value}");
    assert!(
        value["error"]
            .as_str()
            .unwrap_or("")
            .contains("recovery key"),
        "{value}"
    );
    assert_eq!(vkey_of(&ledger), third);
}
