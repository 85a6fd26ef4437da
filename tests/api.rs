//! Black-box tests of the HTTP API on loopback, in given/when/then form.
//!
//! Most tests start the built binary (`skill-ledger serve --listen 127.0.0.1:0 --json`) on a
//! ledger made with the command line, read the address it prints, and talk plain HTTP/1.1
//! to it. Tests of timing limits and of full tiles serve the router in-process on a loopback
//! listener instead. Events are signed here, as an evaluation body or the authority would,
//! and submitted as their canonical entry bytes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use skill_ledger_domain::{
    Audience, BodyRegistered, CertificateNumber, CredentialRevoked, Date, EvaluationBasis, Event,
    EventId, EventKind, IdDocumentType, Level, LevelCertified, PseudonymKey, RegistrationNumber,
    Route, ScopeItem, SignedEvent, Signer,
};

mod support;

use support::{get, parse_reply, post_json, request, submit, BODY};

// ---------------------------------------------------------------------------------------
// A ledger made with the command line, served by the binary
// ---------------------------------------------------------------------------------------

const BIN: &str = env!("CARGO_BIN_EXE_skill-ledger");
const JUNIOR: &str = "Y000050000001205000001";
const ID: &str = "50010119900101123X";
const NAME: &str = "张三";
const ORIGIN: &str = "skill-ledger/50";

fn cli(args: &[&str]) -> Value {
    let output = Command::new(BIN)
        .args(args)
        .arg("--json")
        .env_remove("SKILL_LEDGER_DIR")
        .env_remove("SKILL_LEDGER_LOG")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "`{}` failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// A ledger directory with body Y000050000001 and 张三's 初级工 (2020), plus the keys a
/// test needs to sign as the body or the authority.
struct Ledger {
    _temp: tempfile::TempDir,
    dir: PathBuf,
    body_key: SigningKey,
    authority_key: SigningKey,
    pseudonyms: PseudonymKey,
}

fn given_ledger_with_a_credential() -> Ledger {
    let support::Ledger {
        temp,
        dir,
        body_key,
        authority_key,
    } = support::given_ledger_with_a_body();
    support::issue_junior(&dir, &temp.path().join("K"), JUNIOR);
    Ledger {
        body_key,
        authority_key,
        pseudonyms: skill_ledger_node::load_pseudonym_key(&dir.join("keys/pseudonym.key"))
            .expect("pseudonym key"),
        dir,
        _temp: temp,
    }
}

fn date(text: &str) -> Date {
    text.parse().expect("a date")
}

fn event_id(n: u8) -> EventId {
    EventId([n; 16])
}

impl Ledger {
    /// A `LevelCertified` signed by the body for a holder given by document number and name.
    fn certification(
        &self,
        id: EventId,
        cert_no: &str,
        (id_number, name): (&str, &str),
        level: Level,
        issued: &str,
        route: Route,
    ) -> SignedEvent {
        let number: CertificateNumber = cert_no.parse().expect("certificate number");
        SignedEvent::sign(
            ORIGIN,
            Signer::Body(BODY.parse().expect("registration number")),
            &self.body_key,
            Event {
                id,
                kind: EventKind::LevelCertified(LevelCertified {
                    certificate_number: number,
                    subject: self
                        .pseudonyms
                        .subject(IdDocumentType::ResidentIdCard, id_number),
                    name_commitment: self.pseudonyms.commit_name(cert_no, name),
                    occupation: "6-18-01-01".parse().expect("occupation"),
                    work_type: None,
                    level,
                    issued: date(issued),
                    route,
                }),
            },
        )
    }

    fn attested(&self, id: EventId, cert_no: &str, id_number: &str, name: &str) -> SignedEvent {
        let year = 2000 + cert_no[13..15].parse::<i32>().expect("year digits");
        self.certification(
            id,
            cert_no,
            (id_number, name),
            Level::Junior,
            &format!("{year}-06-01"),
            Route::Evaluation(EvaluationBasis::Attested {
                statement: "本职业工作满1年".to_string(),
            }),
        )
    }

    fn revocation(
        &self,
        id: EventId,
        cert_no: &str,
        signer: Signer,
        key: &SigningKey,
    ) -> SignedEvent {
        SignedEvent::sign(
            ORIGIN,
            signer,
            key,
            Event {
                id,
                kind: EventKind::CredentialRevoked(CredentialRevoked {
                    certificate_number: cert_no.parse().expect("certificate number"),
                    effective: date("2025-01-01"),
                    reason: "考试作弊".to_string(),
                }),
            },
        )
    }

    fn body_registration(
        &self,
        id: EventId,
        reg_no: &str,
        key: &SigningKey,
        signer: Signer,
        signing_key: &SigningKey,
    ) -> SignedEvent {
        SignedEvent::sign(
            ORIGIN,
            signer,
            signing_key,
            Event {
                id,
                kind: EventKind::BodyRegistered(BodyRegistered {
                    registration_number: reg_no.parse().expect("registration number"),
                    name: "四川测试职业技能评价中心".to_string(),
                    public_key: key.verifying_key().to_bytes(),
                    valid_from: date("2021-01-01"),
                    valid_until: date("2028-12-31"),
                    audience: Audience::Public,
                    scope: vec![ScopeItem {
                        occupation: "6-18-01-01".parse().expect("occupation"),
                        level_max: Level::Senior,
                    }],
                    direct_recognition: false,
                    date: date("2021-01-01"),
                }),
            },
        )
    }
}

/// The binary serving a ledger; killed when dropped.
struct Served {
    child: Child,
    address: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_with(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let mut command = Command::new(BIN);
    command
        .args([
            "serve",
            "--dir",
            s(dir),
            "--listen",
            "127.0.0.1:0",
            "--json",
        ])
        .args(extra)
        .env_remove("SKILL_LEDGER_DIR")
        .env_remove("SKILL_LEDGER_LOG")
        .env_remove("SKILL_LEDGER_LISTEN")
        .env_remove("SKILL_LEDGER_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("serve starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("serve prints its address");
    let printed: Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|error| panic!("serve printed {line:?}, not JSON: {error}"));
    let address = printed["listening"]
        .as_str()
        .expect("the listening address")
        .to_string();
    assert!(address.starts_with("127.0.0.1:"), "{printed}");
    assert_eq!(printed["origin"], ORIGIN);
    Served { child, address }
}

fn serve(dir: &Path) -> Served {
    serve_with(dir, &[], &[])
}

fn tree_size(address: &str) -> u64 {
    get(address, "/healthz").json()["tree_size"]
        .as_u64()
        .expect("tree size")
}

// ---------------------------------------------------------------------------------------
// Tests through the binary
// ---------------------------------------------------------------------------------------

#[test]
fn serve_prints_its_address_and_answers_health_checkpoint_and_metrics() {
    // Given a ledger with one credential, served by the binary.
    let ledger = given_ledger_with_a_credential();
    let served = serve(&ledger.dir);
    let address = &served.address;

    // Then /healthz is ok and reports the tree size.
    let health = get(address, "/healthz");
    assert_eq!(health.status, 200, "{}", health.text());
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(health.json()["tree_size"], 6);
    assert!(
        health.header("x-request-id").is_some(),
        "request ids are returned"
    );

    // And /checkpoint is the signed note, short-lived in caches.
    let checkpoint = get(address, "/checkpoint");
    assert_eq!(checkpoint.status, 200);
    assert_eq!(
        checkpoint.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        checkpoint.header("cache-control"),
        Some("public, max-age=2")
    );
    let note = checkpoint.text();
    assert!(note.starts_with("skill-ledger/50\n6\n"), "{note}");
    assert!(note.contains("\n\n— skill-ledger/50 "), "{note}");

    // And /metrics is Prometheus text with the node's figures.
    let metrics = get(address, "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .header("content-type")
        .is_some_and(|value| value.starts_with("text/plain; version=0.0.4")));
    let text = metrics.text();
    for name in [
        "skill_ledger_queue_depth ",
        "skill_ledger_tree_size 6",
        "skill_ledger_batch_events_bucket{le=\"+Inf\"}",
        "skill_ledger_commit_latency_seconds_count",
        "# TYPE skill_ledger_events_rejected_total counter",
    ] {
        assert!(text.contains(name), "metrics lack {name}:\n{text}");
    }

    // And a client's own request id is echoed.
    let reply = request(
        address,
        "GET",
        "/healthz",
        &[("x-request-id", "abc-123")],
        b"",
    );
    assert_eq!(reply.header("x-request-id"), Some("abc-123"));
}

#[test]
fn a_signed_certification_commits_and_its_resubmission_returns_the_first_result() {
    // Given a served ledger.
    let ledger = given_ledger_with_a_credential();
    let served = serve(&ledger.dir);
    let address = &served.address;
    let size_before = tree_size(address);

    // When the body submits a signed 初级工 for 李四.
    let event = ledger.attested(
        event_id(1),
        "Y000050000001235000002",
        "500101199202021231",
        "李四",
    );
    let first = submit(address, &event);

    // Then it is committed at the next index with a checkpoint that covers it.
    assert_eq!(first.status, 200, "{}", first.text());
    let receipt = first.json();
    assert_eq!(receipt["index"], size_before);
    assert_eq!(receipt["duplicate"], false);
    assert_eq!(receipt["event"], "level_certified");
    assert_eq!(receipt["event_id"], "01".repeat(16));
    assert!(receipt["checkpoint"]["size"].as_u64() > receipt["index"].as_u64());
    assert!(receipt["checkpoint"]["note"]
        .as_str()
        .is_some_and(|note| note.starts_with("skill-ledger/50\n")));

    // When the same entry is submitted again, the first result comes back.
    let again = submit(address, &event);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["index"], receipt["index"]);
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(
        tree_size(address),
        size_before + 1,
        "nothing new was stored"
    );

    // And the credential reads back as valid at that entry.
    let credential = get(address, "/v1/credentials/Y000050000001235000002");
    assert_eq!(credential.status, 200, "{}", credential.text());
    let credential = credential.json();
    assert_eq!(credential["status"], "valid");
    assert_eq!(credential["level"], "junior");
    assert_eq!(credential["occupation"], "6-18-01-01");
    assert_eq!(credential["body"], BODY);
    assert_eq!(credential["body_name"], "重庆测试装备制造有限公司");
    assert_eq!(credential["issued"], "2023-06-01");
    assert_eq!(credential["entry_index"], receipt["index"]);
    assert!(!credential.to_string().contains("李四"));
}

#[test]
fn verification_compares_the_name_and_document_and_echoes_nothing_personal() {
    // Given a served ledger with 张三's credential.
    let ledger = given_ledger_with_a_credential();
    let served = serve(&ledger.dir);
    let address = &served.address;

    // When the right name is given (white space ignored), it matches and is valid.
    let reply = post_json(
        address,
        "/v1/verify",
        &json!({"certificate_number": JUNIOR, "name": " 张 三 "}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer = reply.json();
    assert_eq!(answer["matched"], true);
    assert_eq!(answer["status"], "valid");
    assert_eq!(answer["credential"]["level"], "junior");
    assert_eq!(answer["credential"]["body"], BODY);
    assert_eq!(answer["checked_against"]["origin"], ORIGIN);
    assert!(
        answer["checked_against"]["size"].as_u64() > answer["credential"]["entry_index"].as_u64()
    );
    let text = answer.to_string();
    assert!(!text.contains("张三") && !text.contains(ID), "{text}");

    // When the document number is given too, it must match the subject.
    let with_id = post_json(
        address,
        "/v1/verify",
        &json!({"certificate_number": JUNIOR, "name": NAME, "id_number": ID}),
    );
    assert_eq!(with_id.json()["matched"], true);
    assert!(!with_id.text().contains(ID));
    let wrong_id = post_json(
        address,
        "/v1/verify",
        &json!({"certificate_number": JUNIOR, "name": NAME, "id_number": "500101199001019995"}),
    );
    assert_eq!(wrong_id.json()["matched"], false);
    assert_eq!(wrong_id.json()["status"], "mismatch");
    assert_eq!(wrong_id.json()["credential"], Value::Null);

    // When the name is wrong, nothing about the credential is shown.
    let wrong = post_json(
        address,
        "/v1/verify",
        &json!({"certificate_number": JUNIOR, "name": "李四"}),
    );
    assert_eq!(wrong.status, 200);
    assert_eq!(wrong.json()["matched"], false);
    assert_eq!(wrong.json()["status"], "mismatch");
    assert_eq!(wrong.json()["credential"], Value::Null);
    assert!(!wrong.text().contains("李四"));

    // When the certificate is unknown, the status says so.
    let unknown = post_json(
        address,
        "/v1/verify",
        &json!({"certificate_number": "Y000050000001205000099", "name": NAME}),
    );
    assert_eq!(unknown.json()["status"], "unknown");

    // When the authority revokes it, verification says revoked.
    let revoked = submit(
        address,
        &ledger.revocation(
            event_id(9),
            JUNIOR,
            Signer::Authority,
            &ledger.authority_key,
        ),
    );
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    let after = post_json(
        address,
        "/v1/verify",
        &json!({"certificate_number": JUNIOR, "name": NAME}),
    );
    assert_eq!(after.json()["status"], "revoked");
    assert_eq!(after.json()["credential"]["revocation"]["by"], "authority");
    let credential = get(address, &format!("/v1/credentials/{JUNIOR}")).json();
    assert_eq!(credential["status"], "revoked");

    // And a field problem names the field.
    let bad = post_json(
        address,
        "/v1/verify",
        &json!({"certificate_number": "Y0000500000012050000", "name": NAME}),
    );
    let document = bad.problem(422, "invalid-field");
    assert_eq!(document["field"], "certificate_number");
    let empty = post_json(
        address,
        "/v1/verify",
        &json!({"certificate_number": JUNIOR, "name": "  "}),
    );
    assert_eq!(empty.problem(422, "invalid-field")["field"], "name");
    let bad_type = post_json(
        address,
        "/v1/verify",
        &json!({"certificate_number": JUNIOR, "name": NAME, "id_number": ID, "id_type": "licence"}),
    );
    assert_eq!(bad_type.problem(422, "invalid-field")["field"], "id_type");
}

#[test]
fn every_refused_event_is_a_problem_typed_by_its_rule_and_stores_nothing() {
    // Given a served ledger with 张三's 初级工 and a second, unregistered body key.
    let ledger = given_ledger_with_a_credential();
    let served = serve(&ledger.dir);
    let address = &served.address;
    let stranger = SigningKey::from_bytes(&[0x55; 32]);
    let size = tree_size(address);
    let stats_before = get(address, "/v1/stats").json();

    let mut bad_signature = ledger.attested(
        event_id(20),
        "Y000050000001235000003",
        "500101199303031236",
        "王五",
    );
    bad_signature.signature[0] ^= 1;
    let unknown_body = SignedEvent::sign(
        ORIGIN,
        Signer::Body("Y000050000009".parse().expect("registration number")),
        &stranger,
        ledger
            .attested(
                event_id(21),
                "Y000050000009235000001",
                "500101199303031236",
                "王五",
            )
            .event,
    );
    let other_origin = SignedEvent::sign(
        "skill-ledger/51",
        Signer::Body(BODY.parse().expect("registration number")),
        &ledger.body_key,
        ledger
            .attested(
                event_id(22),
                "Y000050000001235000004",
                "500101199303031236",
                "王五",
            )
            .event,
    );
    let not_reachable = ledger.certification(
        event_id(23),
        "Y000050000001233000001",
        ("500101199303031236", "王五"),
        Level::Senior,
        "2023-06-01",
        Route::Evaluation(EvaluationBasis::PriorLevel),
    );
    let duplicate_certificate = ledger.attested(event_id(24), JUNIOR, "500101199303031236", "王五");
    let year_mismatch = ledger.certification(
        event_id(25),
        "Y000050000001235000005",
        ("500101199303031236", "王五"),
        Level::Junior,
        "2022-06-01",
        Route::Evaluation(EvaluationBasis::Attested {
            statement: "本职业工作满1年".to_string(),
        }),
    );
    let wrong_signer = ledger.body_registration(
        event_id(26),
        "S000050000005",
        &stranger,
        Signer::Body(BODY.parse().expect("registration number")),
        &ledger.body_key,
    );
    let unknown_credential = ledger.revocation(
        event_id(27),
        "Y000050000001205000077",
        Signer::Authority,
        &ledger.authority_key,
    );
    let cases: Vec<(SignedEvent, &str)> = vec![
        (bad_signature, "bad-signature"),
        (unknown_body, "unknown-body"),
        (other_origin, "bad-signature"),
        (not_reachable, "level-not-reachable"),
        (duplicate_certificate, "duplicate-certificate"),
        (year_mismatch, "certificate-year-mismatch"),
        (wrong_signer, "wrong-signer"),
        (unknown_credential, "unknown-credential"),
    ];
    for (event, code) in cases {
        // When the event is submitted, then it is refused with the rule's code.
        let reply = submit(address, &event);
        let document = reply.problem(422, code);
        assert!(
            document["detail"]
                .as_str()
                .is_some_and(|detail| detail.len() > 10),
            "{document}"
        );
    }

    // When a used event id comes back with different content, it is refused too.
    let accepted = ledger.attested(
        event_id(30),
        "Y000050000001235000006",
        "500101199404041230",
        "赵六",
    );
    assert_eq!(submit(address, &accepted).status, 200);
    let reused = ledger.attested(
        event_id(30),
        "Y000050000001235000007",
        "500101199404041230",
        "赵六",
    );
    submit(address, &reused).problem(422, "duplicate-event-id");

    // When the issuer's own revocation is repeated, it is refused as already revoked.
    let body_signer = Signer::Body(BODY.parse().expect("registration number"));
    let revoke = ledger.revocation(
        event_id(31),
        "Y000050000001235000006",
        body_signer,
        &ledger.body_key,
    );
    assert_eq!(submit(address, &revoke).status, 200);
    let revoke_again = ledger.revocation(
        event_id(32),
        "Y000050000001235000006",
        body_signer,
        &ledger.body_key,
    );
    submit(address, &revoke_again).problem(422, "already-revoked");

    // Then only the two accepted events were stored, and the rejections are counted.
    assert_eq!(tree_size(address), size + 2);
    let stats_after = get(address, "/v1/stats").json();
    assert_eq!(
        stats_after["certificates"]["issued"].as_i64(),
        stats_before["certificates"]["issued"]
            .as_i64()
            .map(|n| n + 1)
    );
    let metrics = get(address, "/metrics").text();
    assert!(
        metrics.contains("skill_ledger_events_rejected_total{code=\"bad-signature\"} 2"),
        "{metrics}"
    );
}

#[test]
fn administrative_writes_are_signed_by_the_authority_like_every_other_event() {
    // Given a served ledger.
    let ledger = given_ledger_with_a_credential();
    let served = serve(&ledger.dir);
    let address = &served.address;
    let new_key = SigningKey::from_bytes(&[0x66; 32]);

    // When a body registration is signed by the authority, it is committed.
    let registration = ledger.body_registration(
        event_id(40),
        "S000050000002",
        &new_key,
        Signer::Authority,
        &ledger.authority_key,
    );
    let reply = submit(address, &registration);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["event"], "body_registered");

    // Then the body is served.
    let body = get(address, "/v1/bodies/S000050000002");
    assert_eq!(body.status, 200, "{}", body.text());
    let body = body.json();
    assert_eq!(body["name"], "四川测试职业技能评价中心");
    assert_eq!(body["kind"], "S");
    assert_eq!(body["status"], "active");
    assert_eq!(body["scope"][0]["level_max"], "senior");
    assert_eq!(
        body["keys"][0]["public_key"],
        hex::encode(new_key.verifying_key().to_bytes())
    );

    // And the same registration with the authority's signature over other bytes is refused.
    let mut forged = ledger.body_registration(
        event_id(41),
        "S000050000003",
        &new_key,
        Signer::Authority,
        &ledger.authority_key,
    );
    forged.signature[10] ^= 0x40;
    submit(address, &forged).problem(422, "bad-signature");
    get(address, "/v1/bodies/S000050000003").problem(404, "unknown-body");
}

#[test]
fn malformed_requests_get_problems_that_name_what_is_wrong() {
    // Given a served ledger.
    let ledger = given_ledger_with_a_credential();
    let served = serve(&ledger.dir);
    let address = &served.address;
    let size = tree_size(address);
    let json_header = [("Content-Type", "application/json")];

    // Malformed JSON: 400 naming the position.
    let reply = request(
        address,
        "POST",
        "/v1/events",
        &json_header,
        b"{\"entry\": \"AQ==\",",
    );
    let document = reply.problem(400, "bad-request");
    assert!(
        document["detail"]
            .as_str()
            .is_some_and(|d| d.contains("line 1 column")),
        "{document}"
    );
    assert!(document["position"]
        .as_str()
        .is_some_and(|p| p.starts_with("line 1 column")));

    // Broken JSON is 400 even where serde meets an unknown or mistyped member before the
    // end of the input: the body is not JSON, whatever its first key.
    for (path, body) in [
        ("/v1/verify", &b"{\"cert_no\":"[..]),
        ("/v1/verify", b"{\"name\": 5"),
        ("/v1/events", b"{\"entry\": 5,"),
    ] {
        let reply = request(address, "POST", path, &json_header, body);
        let document = reply.problem(400, "bad-request");
        assert!(document["position"].is_string(), "{document}");
        assert!(document.get("field").is_none(), "{document}");
    }

    // A missing field: 422 naming it; an unknown field likewise.
    let missing = request(address, "POST", "/v1/events", &json_header, b"{}");
    assert_eq!(missing.problem(422, "invalid-field")["field"], "entry");
    let unknown = post_json(
        address,
        "/v1/events",
        &json!({"entry": "AQ==", "signature": "x"}),
    );
    assert_eq!(unknown.problem(422, "invalid-field")["field"], "signature");

    // Not base64, and base64 of bytes that are not an entry: well-formed JSON whose entry
    // member holds no entry, 422 naming the entry field.
    let not_base64 = post_json(address, "/v1/events", &json!({"entry": "not base64!"}));
    assert_eq!(not_base64.problem(422, "malformed-entry")["field"], "entry");
    let not_an_entry = post_json(address, "/v1/events", &json!({"entry": "AQIDBA=="}));
    let document = not_an_entry.problem(422, "malformed-entry");
    assert!(document["detail"]
        .as_str()
        .is_some_and(|d| d.contains("entry")));
    let mut entry = ledger
        .attested(
            event_id(50),
            "Y000050000001235000009",
            "500101199505051235",
            "钱七",
        )
        .to_entry()
        .expect("entry");
    entry.push(0);
    let trailing = post_json(
        address,
        "/v1/events",
        &json!({"entry": base64::engine::general_purpose::STANDARD.encode(&entry)}),
    );
    let document = trailing.problem(422, "malformed-entry");
    assert!(
        document["detail"]
            .as_str()
            .is_some_and(|d| d.contains("trailing")),
        "{document}"
    );

    // Not JSON at all: 415.
    request(
        address,
        "POST",
        "/v1/verify",
        &[("Content-Type", "text/plain")],
        b"x",
    )
    .problem(415, "unsupported-media-type");

    // Unknown and malformed identifiers in paths.
    let unknown = get(address, "/v1/credentials/Y000050000001205000099");
    let document = unknown.problem(404, "unknown-certificate");
    assert_eq!(document["certificate_status"], "unknown");
    assert_eq!(document["certificate_number"], "Y000050000001205000099");
    let malformed = get(address, "/v1/credentials/Y00005000000120500009X");
    let document = malformed.problem(400, "bad-request");
    assert!(
        document["detail"]
            .as_str()
            .is_some_and(|d| d.contains("position 22")),
        "{document}"
    );
    get(address, "/v1/bodies/Y000050000009").problem(404, "unknown-body");
    get(address, "/v1/bodies/Q000050000009").problem(400, "bad-request");
    get(address, "/v1/nothing-here").problem(404, "not-found");
    request(address, "DELETE", "/v1/stats", &[], b"").problem(405, "method-not-allowed");

    // And nothing was stored.
    assert_eq!(tree_size(address), size);
}

#[test]
fn limits_from_file_environment_and_flags_answer_413_and_429_with_retry_after() {
    // Given a configuration file (body limit), an environment variable (burst) and a flag
    // (rate).
    let ledger = given_ledger_with_a_credential();
    let config = ledger.dir.parent().expect("parent").join("serve.toml");
    std::fs::write(&config, "body_bytes_max = 2048\nverify_burst = 50\n").expect("config file");
    let served = serve_with(
        &ledger.dir,
        &["--config", s(&config), "--verify-rate-per-s", "0.5"],
        &[("SKILL_LEDGER_VERIFY_BURST", "3")],
    );
    let address = &served.address;

    // When a body over the limit is sent: 413.
    let big = json!({"entry": "A".repeat(4_096)});
    post_json(address, "/v1/events", &big).problem(413, "body-too-large");

    // When one client verifies more than its burst: 429 with Retry-After.
    let query = json!({"certificate_number": JUNIOR, "name": NAME});
    for _ in 0..3 {
        let reply = post_json(address, "/v1/verify", &query);
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let limited = post_json(address, "/v1/verify", &query);
    let document = limited.problem(429, "rate-limited");
    let retry: u64 = limited
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("Retry-After seconds");
    assert!((1..=2).contains(&retry), "retry after {retry}");
    assert!(document["detail"]
        .as_str()
        .is_some_and(|d| d.contains("0.5")));

    // Then other routes are not rate-limited.
    assert_eq!(
        get(address, &format!("/v1/credentials/{JUNIOR}")).status,
        200
    );
    assert!(get(address, "/metrics")
        .text()
        .contains("skill_ledger_http_rate_limited_total 1"));
}

#[test]
fn a_broken_configuration_is_refused_at_start() {
    let ledger = given_ledger_with_a_credential();
    let config = ledger.dir.parent().expect("parent").join("serve.toml");
    std::fs::write(&config, "body_bytes_maximum = 1\n").expect("config file");
    let output = Command::new(BIN)
        .args(["serve", "--dir", s(&ledger.dir), "--config", s(&config)])
        .output()
        .expect("serve runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("body_bytes_maximum"), "{stderr}");
    let output = Command::new(BIN)
        .args(["serve", "--dir", s(&ledger.dir), "--concurrency-max", "0"])
        .output()
        .expect("serve runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("concurrency_max"));
}

#[test]
fn statistics_bodies_and_the_bundle_route_answer() {
    let ledger = given_ledger_with_a_credential();
    let served = serve(&ledger.dir);
    let address = &served.address;

    let stats = get(address, "/v1/stats");
    assert_eq!(stats.status, 200);
    let stats = stats.json();
    assert_eq!(stats["certificates"]["issued"], 1);
    assert_eq!(stats["certificates"]["valid_by_level"]["junior"], 1);
    assert_eq!(stats["certificates"]["valid_by_province"]["50"], 1);
    assert_eq!(stats["holders"]["total"], 1);
    assert!(stats["holders"]["high_skill_share"].is_number());

    let body = get(address, &format!("/v1/bodies/{BODY}")).json();
    assert_eq!(body["registration_number"], BODY);
    assert_eq!(body["audience"], "public");

    // The offline bundle downloads as a file and verifies with the verifier key alone.
    let bundle = get(address, &format!("/v1/credentials/{JUNIOR}/bundle"));
    assert_eq!(bundle.status, 200, "{}", bundle.text());
    assert_eq!(
        bundle.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        bundle
            .header("content-disposition")
            .is_some_and(|value| value.contains(&format!("{JUNIOR}.bundle"))),
        "{:?}",
        bundle.headers
    );
    assert!(bundle.text().starts_with("skill-ledger/bundle/v2\n"));
    let file = ledger._temp.path().join("downloaded.bundle");
    std::fs::write(&file, &bundle.body).expect("bundle written");
    let vkey = Command::new(BIN)
        .args(["checkpoint", "--vkey", "--dir", s(&ledger.dir)])
        .output()
        .expect("the binary runs");
    let vkey = String::from_utf8_lossy(&vkey.stdout).trim().to_string();
    let checked = cli(&["verify-bundle", s(&file), "--trust", &vkey]);
    assert_eq!(checked["certificate_number"], JUNIOR, "{checked}");
    assert_eq!(checked["status"], "valid", "{checked}");
    assert_eq!(checked["holder_bound"], false, "{checked}");
    // Asked for with the holder's name, the bundle binds its holder: a verifier told the
    // name checks it offline; a wrong name gets no bundle.
    let bound = post_json(
        address,
        &format!("/v1/credentials/{JUNIOR}/bundle"),
        &serde_json::json!({"name": NAME}),
    );
    assert_eq!(bound.status, 200, "{}", bound.text());
    assert!(bound.text().contains("\nholder-key "), "{}", bound.text());
    let bound_file = ledger._temp.path().join("bound.bundle");
    std::fs::write(&bound_file, &bound.body).expect("bundle written");
    let checked = cli(&[
        "verify-bundle",
        s(&bound_file),
        "--trust",
        &vkey,
        "--name",
        NAME,
    ]);
    assert_eq!(checked["holder"]["matched"], true, "{checked}");
    post_json(
        address,
        &format!("/v1/credentials/{JUNIOR}/bundle"),
        &serde_json::json!({"name": "李四"}),
    )
    .problem(422, "name-mismatch");
    post_json(
        address,
        &format!("/v1/credentials/{JUNIOR}/bundle"),
        &serde_json::json!({"name": "  "}),
    )
    .problem(422, "invalid-field");
    post_json(
        address,
        "/v1/credentials/Y000050000001205000099/bundle",
        &serde_json::json!({"name": NAME}),
    )
    .problem(404, "unknown-certificate");
    // A flipped byte in the downloaded file is refused.
    let mut tampered = bundle.body.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    std::fs::write(&file, &tampered).expect("bundle written");
    let output = Command::new(BIN)
        .args(["verify-bundle", s(&file), "--trust", &vkey])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    get(address, "/v1/credentials/Y000050000001205000099/bundle")
        .problem(404, "unknown-certificate");
}

/// Every route the router serves, as (method, OpenAPI path, a concrete path to request).
const ROUTES: &[(&str, &str, &str)] = &[
    ("post", "/v1/events", "/v1/events"),
    ("post", "/v1/events/batch", "/v1/events/batch"),
    (
        "get",
        "/v1/credentials/{cert_no}",
        "/v1/credentials/Y000050000001205000001",
    ),
    (
        "get",
        "/v1/credentials/{cert_no}/bundle",
        "/v1/credentials/Y000050000001205000001/bundle",
    ),
    (
        "post",
        "/v1/credentials/{cert_no}/bundle",
        "/v1/credentials/Y000050000001205000001/bundle",
    ),
    ("post", "/v1/verify", "/v1/verify"),
    (
        "get",
        "/v1/special-abilities/{cert_no}",
        "/v1/special-abilities/Y00005000000124Z000001",
    ),
    ("get", "/v1/bodies/{reg_no}", "/v1/bodies/Y000050000001"),
    (
        "get",
        "/v1/persons/{subject}",
        "/v1/persons/0000000000000000000000000000000000000000000000000000000000000000",
    ),
    ("get", "/v1/stats", "/v1/stats"),
    ("post", "/v1/pseudonyms", "/v1/pseudonyms"),
    (
        "get",
        "/v1/partner-credentials/{cert_no}/recognition",
        "/v1/partner-credentials/Y000051000001205000001/recognition",
    ),
    (
        "get",
        "/v1/credentials/{cert_no}/vc",
        "/v1/credentials/Y000050000001205000001/vc",
    ),
    ("get", "/v1/vc/issuer", "/v1/vc/issuer"),
    ("get", "/v1/vc/contexts/{name}", "/v1/vc/contexts/v1"),
    ("get", "/v1/vc/status/{list}", "/v1/vc/status/0"),
    ("get", "/checkpoint", "/checkpoint"),
    ("get", "/tile/{level}/{index}", "/tile/0/000.p/5"),
    ("get", "/healthz", "/healthz"),
    ("get", "/metrics", "/metrics"),
    ("get", "/openapi.json", "/openapi.json"),
    ("post", "/add-checkpoint", "/add-checkpoint"),
];

#[test]
fn the_openapi_document_is_3_1_and_describes_every_route() {
    let ledger = given_ledger_with_a_credential();
    let served = serve(&ledger.dir);
    let address = &served.address;

    let reply = get(address, "/openapi.json");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    // It parses as an OpenAPI 3.1 document (the oas3 crate's model and version check), and
    // its operations are exactly the routes below.
    let spec = oas3::from_json(reply.text()).expect("a valid OpenAPI document");
    let spec_version = spec
        .validate_version()
        .expect("a supported OpenAPI version");
    assert_eq!((spec_version.major, spec_version.minor), (3, 1));
    let mut operations: Vec<(String, String)> = spec
        .operations()
        .map(|(path, method, _)| (method.as_str().to_lowercase(), path))
        .collect();
    operations.sort();
    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(method, path, _)| (method.to_string(), path.to_string()))
        .collect();
    expected.sort();
    assert_eq!(operations, expected);

    let document = reply.json();
    let version = document["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "{version}");
    assert!(document["info"]["title"].is_string());
    assert!(document["info"]["version"].is_string());
    let paths = document["paths"].as_object().expect("paths");

    for (method, path, concrete) in ROUTES {
        // Every served route is in the document with its method and a response.
        let operation = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not in the OpenAPI document"))[*method];
        assert!(operation.is_object(), "{method} {path} is not described");
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| !r.is_empty()),
            "{method} {path} has no responses"
        );
        // Every parameter in the path is declared.
        for parameter in path.split('/').filter(|part| part.starts_with('{')) {
            let name = parameter.trim_matches(|c| c == '{' || c == '}');
            let declared = operation["parameters"]
                .as_array()
                .is_some_and(|list| list.iter().any(|p| p["name"] == name && p["in"] == "path"));
            assert!(
                declared,
                "{method} {path}: parameter {name} is not declared"
            );
        }
        // And the route is served (not the router's fallback).
        let reply = request(
            address,
            &method.to_uppercase(),
            concrete,
            &[("Content-Type", "application/json")],
            b"{}",
        );
        let fallback = reply.status == 404 && reply.text().contains("no resource at");
        assert!(
            !fallback && reply.status != 405,
            "{method} {concrete}: {}",
            reply.text()
        );
    }
    // And the document describes nothing the router does not serve.
    let described: usize = paths
        .values()
        .map(|item| item.as_object().map_or(0, |o| o.len()))
        .sum();
    assert_eq!(
        described,
        ROUTES.len(),
        "{}",
        serde_json::to_string_pretty(paths).unwrap_or_default()
    );

    // Every $ref resolves to a schema in components.
    let schemas = document["components"]["schemas"]
        .as_object()
        .expect("schemas");
    let text = document.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap_or("");
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {target}"));
        assert!(schemas.contains_key(name), "$ref {target} does not resolve");
    }
}

// ---------------------------------------------------------------------------------------
// Tests against the router in-process, on a loopback listener
// ---------------------------------------------------------------------------------------

/// A node with body S000050000777 and `credentials` 初级工 credentials, served in-process.
struct InProcess {
    address: String,
    _runtime: tokio::runtime::Runtime,
    _temp: tempfile::TempDir,
}

fn serve_in_process(credentials: u64, config: skill_ledger_server::ServerConfig) -> InProcess {
    use skill_ledger_node::{InitOptions, Node};
    let temp = tempfile::tempdir().expect("temporary directory");
    let node = Node::init(
        &temp.path().join("50"),
        InitOptions::chongqing().importing_history(),
    )
    .expect("init");
    let body: RegistrationNumber = "S000050000777".parse().expect("registration number");
    let key = SigningKey::from_bytes(&[0x77; 32]);
    node.submit(
        node.sign_as_authority(EventKind::BodyRegistered(BodyRegistered {
            registration_number: body,
            name: "进程内评价机构".to_string(),
            public_key: key.verifying_key().to_bytes(),
            valid_from: date("2019-01-01"),
            valid_until: date("2030-12-31"),
            audience: Audience::Public,
            scope: vec![ScopeItem {
                occupation: "6-18-01-01".parse().expect("occupation"),
                level_max: Level::Senior,
            }],
            direct_recognition: false,
            date: date("2019-01-01"),
        })),
    )
    .expect("body registered");
    let pending: Vec<_> = (0..credentials)
        .map(|i| {
            let number = CertificateNumber::compose(body, 2023, Level::Junior, i as u32 + 1)
                .expect("certificate number");
            let mut subject = [0u8; 32];
            subject[..8].copy_from_slice(&i.to_le_bytes());
            let mut id = [0xc0u8; 16];
            id[..8].copy_from_slice(&i.to_le_bytes());
            let event = SignedEvent::sign(
                ORIGIN,
                Signer::Body(body),
                &key,
                Event {
                    id: EventId(id),
                    kind: EventKind::LevelCertified(LevelCertified {
                        certificate_number: number,
                        subject: skill_ledger_domain::SubjectId(subject),
                        name_commitment: node.pseudonym_key().commit_name(number.as_str(), "孙八"),
                        occupation: "6-18-01-01".parse().expect("occupation"),
                        work_type: None,
                        level: Level::Junior,
                        issued: date("2023-06-01"),
                        route: Route::Evaluation(EvaluationBasis::Attested {
                            statement: "本职业工作满1年".to_string(),
                        }),
                    }),
                },
            );
            node.submit_pending(event).expect("queued")
        })
        .collect();
    for receipt in pending {
        receipt.wait().expect("committed");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("non-blocking");
    let address = listener.local_addr().expect("address").to_string();
    let state = skill_ledger_server::AppState::new(Arc::new(node), config);
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let _ = skill_ledger_server::serve(listener, state, std::future::pending()).await;
    });
    InProcess {
        address,
        _runtime: runtime,
        _temp: temp,
    }
}

fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(entry);
    hasher.finalize().into()
}

fn split_bundle(mut bundle: &[u8]) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    while !bundle.is_empty() {
        let length = usize::from(u16::from_be_bytes([bundle[0], bundle[1]]));
        entries.push(bundle[2..2 + length].to_vec());
        bundle = &bundle[2 + length..];
    }
    entries
}

#[test]
fn log_tiles_follow_the_c2sp_paths_with_cache_headers() {
    // Given a ledger of 300 entries (4 + 296 credentials), served in-process.
    let served = serve_in_process(296, skill_ledger_server::ServerConfig::default());
    let address = &served.address;
    let note = get(address, "/checkpoint").text();
    assert!(note.starts_with("skill-ledger/50\n300\n"), "{note}");

    // The full level-0 tile: 256 hashes, immutable, equal to the entries' leaf hashes.
    let tile = get(address, "/tile/0/000");
    assert_eq!(tile.status, 200);
    assert_eq!(
        tile.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        tile.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(tile.body.len(), 256 * 32);
    let bundle = get(address, "/tile/entries/000");
    assert_eq!(bundle.status, 200);
    assert_eq!(
        bundle.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let entries = split_bundle(&bundle.body);
    assert_eq!(entries.len(), 256);
    for (index, entry) in entries.iter().enumerate() {
        assert_eq!(
            &tile.body[index * 32..index * 32 + 32],
            &leaf_hash(entry),
            "leaf {index}"
        );
    }
    assert!(SignedEvent::from_entry(&entries[0]).is_ok());

    // The partial tiles for size 300: level 0 width 44, level 1 width 1; short-lived.
    let partial = get(address, "/tile/0/001.p/44");
    assert_eq!(partial.status, 200);
    assert_eq!(partial.body.len(), 44 * 32);
    assert_eq!(partial.header("cache-control"), Some("public, max-age=10"));
    let partial_bundle = get(address, "/tile/entries/001.p/44");
    let partial_entries = split_bundle(&partial_bundle.body);
    assert_eq!(partial_entries.len(), 44);
    assert_eq!(&partial.body[..32], &leaf_hash(&partial_entries[0]));
    let level_one = get(address, "/tile/1/000.p/1");
    assert_eq!(level_one.status, 200);
    assert_eq!(level_one.body.len(), 32);

    // Compressed on request.
    let gzip = request(
        address,
        "GET",
        "/tile/entries/000",
        &[("Accept-Encoding", "gzip")],
        b"",
    );
    assert_eq!(gzip.status, 200);
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));

    // Beyond the checkpoint, non-canonical, or above level 7: 404 problems.
    get(address, "/tile/0/001").problem(404, "not-found");
    get(address, "/tile/0/001.p/45").problem(404, "not-found");
    get(address, "/tile/entries/002.p/1").problem(404, "not-found");
    get(address, "/tile/0/0").problem(404, "not-found");
    get(address, "/tile/0/000.p/256").problem(404, "not-found");
    get(address, "/tile/9/000.p/1").problem(404, "not-found");
}

#[test]
fn a_slow_body_gets_408_and_a_full_server_sheds_with_503() {
    // Given a server that handles one request at a time and waits 1 s for a body.
    let config = skill_ledger_server::ServerConfig {
        concurrency_max: 1,
        request_timeout_ms: 1_000,
        verify_rate_per_s: 0.0,
        ..skill_ledger_server::ServerConfig::default()
    };
    let served = serve_in_process(1, config);
    let address = served.address.clone();

    // When a client sends headers and only part of its body...
    let mut slow = TcpStream::connect(&address).expect("connect");
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    slow.write_all(
        format!("POST /v1/verify HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"cert").as_bytes(),
    )
    .expect("send part");
    std::thread::sleep(Duration::from_millis(200));

    // ...then another request meanwhile is shed at once with 503 and Retry-After.
    let started = Instant::now();
    let shed = get(&address, "/healthz");
    shed.problem(503, "overloaded");
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "shed at once"
    );

    // And the slow request is answered 408 once its body is overdue.
    let mut raw = Vec::new();
    slow.read_to_end(&mut raw).expect("answer");
    let reply = parse_reply(&raw).expect("a whole answer");
    reply.problem(408, "request-timeout");

    // Then the server serves again.
    assert_eq!(get(&address, "/healthz").status, 200);
}

#[test]
fn verification_in_process_uses_the_same_function_as_the_portal_will() {
    // Given an in-process server with three credentials held by 孙八.
    let served = serve_in_process(3, skill_ledger_server::ServerConfig::default());
    let reply = post_json(
        &served.address,
        "/v1/verify",
        &json!({"certificate_number": "S000050000777235000002", "name": "孙八"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["status"], "valid");
    assert_eq!(reply.json()["credential"]["body_name"], "进程内评价机构");
}

#[test]
fn bench_verify_reports_throughput_and_latency_without_errors() {
    // A small load through the real binary: the figures are present and no answer failed.
    let value = cli(&[
        "bench",
        "verify",
        "--credentials",
        "300",
        "--seconds",
        "1",
        "--connections",
        "2",
    ]);
    assert_eq!(value["benchmark"], "verify");
    assert_eq!(value["credentials"], 300);
    assert_eq!(value["errors"], 0, "{value}");
    assert!(value["requests"].as_u64().is_some_and(|n| n > 0), "{value}");
    for field in ["requests_per_s", "p50_ms", "p99_ms"] {
        assert!(
            value[field].as_f64().is_some_and(|x| x > 0.0),
            "{field}: {value}"
        );
    }
    assert!(value["p50_ms"].as_f64() <= value["p99_ms"].as_f64());
    for limit in [
        "batch_verify_per_s",
        "grouped_batch_verify_per_s",
        "fdatasync_per_s",
        "sha256_mb_per_s",
    ] {
        assert!(
            value["machine_limits"][limit]
                .as_f64()
                .is_some_and(|x| x > 0.0),
            "{limit}: {value}"
        );
    }
}

#[test]
fn a_ledger_that_bounds_backdating_refuses_a_body_event_dated_too_far_back() {
    // Given a ledger whose ledger.toml bounds backdating to 30 days.
    let ledger = support::given_ledger_with_a_body();
    let config = ledger.dir.join("ledger.toml");
    let text = std::fs::read_to_string(&config).expect("ledger.toml");
    assert!(
        text.contains("backdate_days_max = 0\n"),
        "init writes the bound, off: {text}"
    );
    let bounded = text.replace("backdate_days_max = 0\n", "backdate_days_max = 30\n");
    std::fs::write(&config, bounded).expect("write ledger.toml");
    let served = serve(&ledger.dir);
    let size = tree_size(&served.address);

    // When the body submits a certification dated in 2020 (years before today).
    let reply = submit(
        &served.address,
        &support::certification(&ledger.body_key, 1),
    );

    // Then it is refused at admission, typed, and nothing is stored.
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(
        reply.json()["code"],
        "dated-too-far-back",
        "{}",
        reply.text()
    );
    assert_eq!(tree_size(&served.address), size);

    // And the authority, which records history, is not bounded: a suspension dated 2021.
    let suspension = SignedEvent::sign(
        ORIGIN,
        Signer::Authority,
        &ledger.authority_key,
        Event {
            id: EventId([0x5d; 16]),
            kind: EventKind::BodySuspended(skill_ledger_domain::BodyStatusChange {
                registration_number: BODY.parse().expect("registration number"),
                effective: "2021-01-01".parse().expect("date"),
                reason: "核查期间暂停".to_string(),
            }),
        },
    );
    let reply = submit(&served.address, &suspension);
    assert_eq!(reply.status, 200, "{}", reply.text());
}
