//! Shared by the black-box tests (`tests/cli.rs`, `tests/bundle.rs`, `tests/sync.rs` through
//! the command line; `tests/api.rs`, `tests/federation.rs`, `tests/crash/`, `tests/abuse.rs`,
//! `tests/rejections.rs`, `tests/overload.rs` over HTTP): running the binary (`run`, `json`,
//! `json_ok`), a small
//! HTTP/1.1 client on loopback (`try_*` forms return errors as values, for servers that may
//! die mid-answer; the others panic with the request named), a ledger made with the command
//! line, and `skill-ledger serve` started on it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use skill_ledger_domain::{
    CertificateNumber, Date, EvaluationBasis, Event, EventId, EventKind, Level, LevelCertified,
    NameCommitment, Route, SignedEvent, Signer, SubjectId,
};

pub const BIN: &str = env!("CARGO_BIN_EXE_skill-ledger");
pub const BODY: &str = "Y000050000001";
pub const ORIGIN: &str = "skill-ledger/50";

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON, or `None`.
    pub fn try_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as JSON; panics naming the status and the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "status {}: body is not JSON ({error}): {}",
                self.status,
                self.text()
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts an RFC 9457 problem with this status and code; returns the document.
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            (self.status, self.header("content-type")),
            (status, Some("application/problem+json")),
            "expected {status} {code}: {}",
            self.text()
        );
        let document = self.json();
        assert_eq!(
            document["type"],
            format!("urn:skill-ledger:problem:{code}"),
            "{document}"
        );
        assert_eq!(document["code"], code, "{document}");
        assert_eq!(document["status"], status, "{document}");
        for member in ["title", "detail"] {
            assert!(
                document[member].as_str().is_some_and(|t| !t.is_empty()),
                "{member} missing: {document}"
            );
        }
        // A rule's rejection (422; some codes also name a 404) carries the rule in Chinese,
        // from the domain's one table.
        if let Some(message) = skill_ledger_domain::rejection_message_zh(code) {
            if status == 422 {
                assert_eq!(document["detail_zh"], message, "{document}");
            }
        }
        document
    }
}

fn decode_chunked(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size =
            usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).ok()?;
        body = body.get(line_end + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// Parses a whole answer; `None` when it is cut short (no header end, a short body).
pub fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let has = |name: &str, value: &str| {
        headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(name) && v.contains(value))
    };
    if has("transfer-encoding", "chunked") {
        body = decode_chunked(&body)?;
    } else if let Some((_, length)) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        if body.len() != length.parse::<usize>().ok()? {
            return None;
        }
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}

/// How long a request may take before the client gives up.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends raw request bytes on a new connection and reads the answer to the end. A server
/// may answer (413, 408) before it has read the whole request and close: a failed write still
/// returns the answer when one arrived.
pub fn exchange(address: &str, raw_request: &[u8], timeout: Duration) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let written = stream.write_all(raw_request);
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw);
    if let Some(reply) = parse_reply(&raw) {
        return Ok(reply);
    }
    written?;
    read?;
    Err(std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        format!("answer cut short: {:?}", String::from_utf8_lossy(&raw)),
    ))
}

/// One request (`Connection: close`), errors as values.
pub fn try_request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    exchange(address, &raw, REQUEST_TIMEOUT)
}

pub fn request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    try_request(address, method, path, headers, body)
        .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
}

pub fn get(address: &str, path: &str) -> Reply {
    request(address, "GET", path, &[], b"")
}

pub fn post_json(address: &str, path: &str, body: &Value) -> Reply {
    request(
        address,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

/// `application/x-www-form-urlencoded` of `(name, value)` pairs (every byte but ASCII
/// letters and digits percent-encoded).
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let escape = |text: &str| {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => char::from(byte).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", escape(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// POSTs a form (`form_encode`) to `path`.
pub fn post_form(address: &str, path: &str, form: &str) -> Reply {
    let raw = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    exchange(address, raw.as_bytes(), REQUEST_TIMEOUT)
        .unwrap_or_else(|error| panic!("POST {path}: {error}"))
}

pub fn entry_body(signed: &SignedEvent) -> Vec<u8> {
    let entry = signed.to_entry().expect("entry encodes");
    json!({"entry": base64::engine::general_purpose::STANDARD.encode(entry)})
        .to_string()
        .into_bytes()
}

pub fn try_submit(address: &str, signed: &SignedEvent) -> std::io::Result<Reply> {
    try_request(
        address,
        "POST",
        "/v1/events",
        &[("Content-Type", "application/json")],
        &entry_body(signed),
    )
}

pub fn submit(address: &str, signed: &SignedEvent) -> Reply {
    try_submit(address, signed).unwrap_or_else(|error| panic!("POST /v1/events: {error}"))
}

// ---------------------------------------------------------------------------------------
// Signed events
// ---------------------------------------------------------------------------------------

/// Certification number `n` by body [`BODY`] (signed with `key`): a distinct holder, 初级工 on
/// an attested basis, 2020.
pub fn certification(key: &SigningKey, n: u64) -> SignedEvent {
    let body = BODY.parse().expect("registration number");
    let mut subject = [0u8; 32];
    subject[..8].copy_from_slice(&n.to_le_bytes());
    subject[8] = 0xc5;
    let mut commitment = [0u8; 32];
    commitment[..8].copy_from_slice(&n.to_le_bytes());
    SignedEvent::sign(
        ORIGIN,
        Signer::Body(body),
        key,
        Event {
            id: event_id(n),
            kind: EventKind::LevelCertified(LevelCertified {
                certificate_number: certificate(n),
                subject: SubjectId(subject),
                name_commitment: NameCommitment(commitment),
                occupation: "6-18-01-01".parse().expect("occupation"),
                work_type: None,
                level: Level::Junior,
                issued: Date::from_ymd(2020, 6, 1 + (n % 28) as u8).expect("date"),
                route: Route::Evaluation(EvaluationBasis::Attested {
                    statement: "本职业工作满1年".to_string(),
                }),
            }),
        },
    )
}

pub fn event_id(n: u64) -> EventId {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&n.to_le_bytes());
    id[8] = 0xc7;
    EventId(id)
}

pub fn certificate(n: u64) -> CertificateNumber {
    let body = BODY.parse().expect("registration number");
    CertificateNumber::compose(body, 2020, Level::Junior, n as u32 + 1).expect("serial in range")
}

// ---------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------

/// Runs the binary with `args` (no `--json` added); returns (exit code, stdout, stderr). The
/// environment must not choose a ledger or a log level for the test.
pub fn run(args: &[&str]) -> (i32, String, String) {
    run_with_env(args, &[])
}

/// [`run`] with these environment variables set (after the locale is cleared: messages are
/// English unless a test asks for Chinese).
pub fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env_remove("SKILL_LEDGER_DIR")
        .env_remove("SKILL_LEDGER_LOG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .envs(env.iter().copied())
        .output()
        .expect("the skill-ledger binary runs");
    let code = output
        .status
        .code()
        .expect("the binary exits normally, not by a signal");
    (
        code,
        String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    )
}

/// Runs the binary with `args` and `--json`; stdout must be exactly one JSON object.
pub fn json(args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let (code, stdout, stderr) = run(&all);
    let value: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|error| {
        panic!(
            "`{}` must print one JSON object ({error}); exit {code}\nstdout: {stdout}\nstderr: {stderr}",
            all.join(" ")
        )
    });
    assert!(
        value.is_object(),
        "`{}` printed {value}, not an object",
        all.join(" ")
    );
    (code, value)
}

/// Runs with `--json`, asserting the exit code; returns the JSON object.
pub fn json_ok(args: &[&str], expected: i32) -> Value {
    let (code, value) = json(args);
    assert_eq!(
        code,
        expected,
        "`{} --json` exited {code}: {value}",
        args.join(" ")
    );
    value
}

pub fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .arg("--json")
        .env_remove("SKILL_LEDGER_DIR")
        .env_remove("SKILL_LEDGER_LOG")
        .env_remove("SKILL_LEDGER_LISTEN")
        .env_remove("SKILL_LEDGER_CONFIG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG");
    command
}

/// Runs the binary; returns stdout, panicking with both streams when it fails.
pub fn cli_text(args: &[&str]) -> String {
    let output = command(args).output().expect("the binary runs");
    assert!(
        output.status.success(),
        "`{}` failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// `body suspend` of `body` from `date` (违规发证，暂停备案) with the ledger's authority key;
/// its JSON receipt.
pub fn suspend_body(dir: &Path, body: &str, date: &str) -> Value {
    cli(&[
        "body",
        "suspend",
        "--dir",
        s(dir),
        "--reg-no",
        body,
        "--date",
        date,
        "--reason",
        "违规发证，暂停备案",
    ])
}

pub fn cli(args: &[&str]) -> Value {
    serde_json::from_str(&cli_text(args)).expect("one JSON object")
}

pub fn read_key(path: &Path) -> SigningKey {
    let text = std::fs::read_to_string(path).expect("key file");
    skill_ledger_log::parse_signer_key_text(text.trim())
        .expect("signer key text")
        .1
}

/// A fresh ledger (`init`) with body Y000050000001 registered for 6-18-01-01 up to 高级技师,
/// valid 2020 to 2029.
pub struct Ledger {
    pub temp: tempfile::TempDir,
    pub dir: PathBuf,
    pub body_key: SigningKey,
    pub authority_key: SigningKey,
}

/// The body of [`given_ledger_with_a_body`] certifies 张三 (500101199001011234) 初级工 车工 on
/// 2020-06-01 as `cert_no`, on the attested basis of a year in the occupation.
pub fn issue_junior(dir: &Path, body_key_file: &Path, cert_no: &str) {
    cli(&issue_args(&["--dir", s(dir)], s(body_key_file), cert_no));
}

/// The `issue` arguments of that certification (张三, 50010119900101123X, 初级工 车工,
/// 2020-06-01, attested), against `target` (`--dir D` or `--node URL`), signed with `key`.
pub fn issue_args<'a>(target: &[&'a str], key: &'a str, cert_no: &'a str) -> Vec<&'a str> {
    let mut args = vec!["issue"];
    args.extend_from_slice(target);
    args.extend_from_slice(&[
        "--key",
        key,
        "--cert-no",
        cert_no,
        "--id-number",
        "50010119900101123X",
        "--name",
        "张三",
        "--occupation",
        "6-18-01-01",
        "--level",
        "初级工",
        "--date",
        "2020-06-01",
        "--attested",
        "本职业工作满1年",
    ]);
    args
}

pub fn given_ledger_with_a_body() -> Ledger {
    let temp = tempfile::tempdir().expect("temporary directory");
    let dir = temp.path().join("D");
    let key = temp.path().join("K");
    cli(&["init", "--dir", s(&dir), "--backdate-days-max", "0"]);
    cli(&["key", "new", "--name", BODY, "--out", s(&key)]);
    cli(&[
        "body",
        "register",
        "--dir",
        s(&dir),
        "--reg-no",
        BODY,
        "--name",
        "重庆测试装备制造有限公司",
        "--key-file",
        s(&key),
        "--scope",
        "6-18-01-01:高级技师",
        "--valid-from",
        "2020-01-01",
        "--valid-until",
        "2029-12-31",
    ]);
    Ledger {
        body_key: read_key(&key),
        authority_key: read_key(&dir.join("keys/authority.key")),
        dir,
        temp,
    }
}

/// `skill-ledger serve` on a ledger; killed (SIGKILL) when dropped.
pub struct Served {
    pub child: Child,
    pub address: String,
}

impl Served {
    /// SIGKILL, then reap.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (a clean shutdown: the node closes), then waits up to 30 s for the exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM to serve");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for serve") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "serve did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve` and waits for the address it prints. Its diagnostics go to `stderr_file`.
pub fn serve_with(dir: &Path, extra: &[&str], stderr_file: &Path) -> Served {
    let stderr = std::fs::File::create(stderr_file).expect("stderr file");
    let mut child = command(&["serve", "--dir", s(dir), "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    let _ = BufReader::new(stdout).read_line(&mut line);
    let printed: Value = serde_json::from_str(line.trim()).unwrap_or_else(|error| {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "serve printed {line:?}, not JSON ({error}); its stderr:\n{}",
            std::fs::read_to_string(stderr_file).unwrap_or_default()
        )
    });
    let address = printed["listening"]
        .as_str()
        .expect("the listening address")
        .to_string();
    Served { child, address }
}

// ---------------------------------------------------------------------------------------
// W3C Verifiable Credentials
// ---------------------------------------------------------------------------------------

/// The independent verifier: `node tests/interop/vc/verify.mjs`, one answer per file
/// (`VERIFIED`, `REVOKED` or `FAILED`), or `None` when node or its packages are missing (and
/// `SKILL_LEDGER_REQUIRE_NODE` is not set).
pub fn js_verify(
    files: &[&Path],
    controller: &Path,
    status_list: Option<&Path>,
) -> Option<Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/vc");
    let installed = root.join("node_modules").is_dir()
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !installed {
        assert!(
            std::env::var_os("SKILL_LEDGER_REQUIRE_NODE").is_none(),
            "SKILL_LEDGER_REQUIRE_NODE is set but node or tests/interop/vc/node_modules is \
             missing (run `npm ci` there)"
        );
        eprintln!(
            "note: node or tests/interop/vc/node_modules missing: the JS verifier is skipped"
        );
        return None;
    }
    let mut command = Command::new("node");
    command
        .arg(root.join("verify.mjs"))
        .arg("--controller")
        .arg(controller);
    if let Some(list) = status_list {
        command.arg("--status-list").arg(list);
    }
    command.args(files);
    let output = command.output().expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let answers: Vec<String> = files
        .iter()
        .map(|file| {
            let name = s(file);
            stdout
                .lines()
                .find(|line| line.contains(name))
                .and_then(|line| line.split_whitespace().next())
                .unwrap_or_else(|| {
                    panic!(
                        "the JS verifier said nothing of {name}:\n{stdout}\n{}",
                        String::from_utf8_lossy(&output.stderr)
                    )
                })
                .trim_end_matches(':')
                .to_string()
        })
        .collect();
    Some(answers)
}
