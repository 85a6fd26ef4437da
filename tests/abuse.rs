//! API abuse: hostile or mistaken submissions over HTTP each get the right 4xx RFC 9457
//! problem, and the log is byte-for-byte unchanged afterwards (every file under `log/` and
//! `tree/` hashed before and after), and the server keeps serving.
//!
//! Events are signed here with the domain crate, as a body or the authority would, and
//! submitted to `skill-ledger serve` on loopback as their entry bytes.

mod support;

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde_json::json;
use sha2::{Digest, Sha256};
use skill_ledger_domain::{
    Audience, BodyRegistered, BodyStatusChange, CertificateNumber, Date, EvaluationBasis, Event,
    EventId, EventKind, Level, LevelCertified, NameCommitment, RegistrationNumber, Route,
    ScopeItem, SignedEvent, Signer, SubjectId,
};
use support::{
    get, given_ledger_with_a_body, request, serve_with, submit, Ledger, Reply, Served, BODY, ORIGIN,
};

/// A second body, registered over HTTP by the tests that need one.
const OTHER: &str = "Y000050000002";

struct Fixture {
    ledger: Ledger,
    served: Served,
    next: AtomicU64,
}

fn date(text: &str) -> Date {
    text.parse().expect("a date")
}

fn given_a_served_ledger(extra: &[&str]) -> Fixture {
    let ledger = given_ledger_with_a_body();
    let stderr = ledger.temp.path().join("serve.stderr");
    let served = serve_with(&ledger.dir, extra, &stderr);
    Fixture {
        ledger,
        served,
        next: AtomicU64::new(1),
    }
}

impl Fixture {
    fn address(&self) -> &str {
        &self.served.address
    }

    fn id(&self) -> EventId {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut id = [0xab; 16];
        id[..8].copy_from_slice(&n.to_le_bytes());
        EventId(id)
    }

    /// A certification of 初级工 (attested) in `occupation`, number `number`, for holder `n`.
    #[allow(clippy::too_many_arguments)]
    fn certification_with(
        &self,
        origin: &str,
        signer: &str,
        key: &SigningKey,
        number: &str,
        occupation: &str,
        level: Level,
        issued: Date,
    ) -> SignedEvent {
        let n = self.next.load(Ordering::Relaxed);
        let mut subject = [0x5a; 32];
        subject[..8].copy_from_slice(&n.to_le_bytes());
        SignedEvent::sign(
            origin,
            Signer::Body(signer.parse().expect("registration number")),
            key,
            Event {
                id: self.id(),
                kind: EventKind::LevelCertified(LevelCertified {
                    certificate_number: number.parse().expect("certificate number"),
                    subject: SubjectId(subject),
                    name_commitment: NameCommitment([7; 32]),
                    occupation: occupation.parse().expect("occupation"),
                    work_type: None,
                    level,
                    issued,
                    route: Route::Evaluation(EvaluationBasis::Attested {
                        statement: "本职业工作满1年".to_string(),
                    }),
                }),
            },
        )
    }

    /// A valid certification by the registered body: number `…20 5 serial`, issued 2020.
    fn certification(&self, serial: u32) -> SignedEvent {
        let number = CertificateNumber::compose(
            BODY.parse().expect("registration number"),
            2020,
            Level::Junior,
            serial,
        )
        .expect("number");
        self.certification_with(
            ORIGIN,
            BODY,
            &self.ledger.body_key,
            number.as_str(),
            "6-18-01-01",
            Level::Junior,
            date("2020-06-01"),
        )
    }

    fn as_authority(&self, kind: EventKind) -> SignedEvent {
        SignedEvent::sign(
            ORIGIN,
            Signer::Authority,
            &self.ledger.authority_key,
            Event {
                id: self.id(),
                kind,
            },
        )
    }

    fn registration(
        &self,
        number: &str,
        key: &SigningKey,
        valid: (&str, &str),
        registered: Date,
    ) -> SignedEvent {
        self.as_authority(EventKind::BodyRegistered(BodyRegistered {
            registration_number: number.parse().expect("registration number"),
            name: "重庆测试职业技能评价中心".to_string(),
            public_key: key.verifying_key().to_bytes(),
            valid_from: date(valid.0),
            valid_until: date(valid.1),
            audience: Audience::Public,
            scope: vec![ScopeItem {
                occupation: "6-18-01-01".parse().expect("occupation"),
                level_max: Level::Senior,
            }],
            direct_recognition: false,
            date: registered,
        }))
    }

    /// Registers body `OTHER` (valid `valid`), accepted.
    fn register_other(&self, valid: (&str, &str)) -> SigningKey {
        let key = SigningKey::from_bytes(&[42; 32]);
        let reply = submit(
            self.address(),
            &self.registration(OTHER, &key, valid, date(valid.0)),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        key
    }

    fn accept(&self, signed: &SignedEvent) {
        let reply = submit(self.address(), signed);
        assert_eq!(reply.status, 200, "{}", reply.text());
    }

    /// SHA-256 of every file under `log/` and `tree/`.
    fn log_digest(&self) -> BTreeMap<PathBuf, [u8; 32]> {
        let mut files = BTreeMap::new();
        for part in ["log", "tree"] {
            hash_files(&self.ledger.dir.join(part), &mut files);
        }
        assert!(!files.is_empty());
        files
    }

    /// `abuse` gets `status`/`code`, the log is byte-for-byte unchanged, and the server
    /// still answers.
    fn refused(&self, what: &str, status: u16, code: &str, abuse: impl FnOnce() -> Reply) {
        let before = self.log_digest();
        let size = tree_size(self.address());
        let reply = abuse();
        let document = reply.problem(status, code);
        let after = self.log_digest();
        assert_eq!(before, after, "{what}: the log changed ({document})");
        assert_eq!(tree_size(self.address()), size, "{what}: the tree grew");
    }

    fn refused_event(&self, what: &str, code: &str, signed: &SignedEvent) {
        self.refused(what, 422, code, || submit(self.address(), signed));
    }
}

fn hash_files(dir: &Path, files: &mut BTreeMap<PathBuf, [u8; 32]>) {
    for entry in std::fs::read_dir(dir).expect("read directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            hash_files(&path, files);
        } else {
            let bytes = std::fs::read(&path).expect("read file");
            files.insert(path, Sha256::digest(&bytes).into());
        }
    }
}

fn tree_size(address: &str) -> u64 {
    let health = get(address, "/healthz");
    assert_eq!(health.status, 200, "{}", health.text());
    health.json()["tree_size"].as_u64().expect("tree size")
}

fn post(address: &str, content_type: Option<&str>, body: &[u8]) -> Reply {
    let headers: Vec<(&str, &str)> = content_type
        .map(|value| vec![("Content-Type", value)])
        .unwrap_or_default();
    request(address, "POST", "/v1/events", &headers, body)
}

/// Today's date by the system clock (UTC).
fn today() -> Date {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    Date::from_days_since_unix_epoch((seconds / 86_400) as i32).expect("a date")
}

// ---------------------------------------------------------------------------------------
// Signatures and signers
// ---------------------------------------------------------------------------------------

#[test]
fn forged_signatures_and_foreign_signers_are_refused_and_write_nothing() {
    let fx = given_a_served_ledger(&[]);

    // A signature with one bit flipped.
    let mut forged = fx.certification(1);
    forged.signature[17] ^= 0x10;
    fx.refused_event("a forged signature", "bad-signature", &forged);

    // The body's signer and key, signed by someone else's key.
    let mut impostor = fx.certification_with(
        ORIGIN,
        BODY,
        &SigningKey::from_bytes(&[9; 32]),
        "Y000050000001205000002",
        "6-18-01-01",
        Level::Junior,
        date("2020-06-01"),
    );
    impostor.public_key = fx.ledger.body_key.verifying_key().to_bytes();
    fx.refused_event(
        "another key under the body's name",
        "bad-signature",
        &impostor,
    );

    // A valid signature by a body the ledger never registered.
    let stranger = SigningKey::from_bytes(&[11; 32]);
    let unregistered = fx.certification_with(
        ORIGIN,
        "Y000050000009",
        &stranger,
        "Y000050000009205000001",
        "6-18-01-01",
        Level::Junior,
        date("2020-06-01"),
    );
    fx.refused_event("an unregistered body", "unknown-body", &unregistered);

    // A valid signature by the registered body's number with a key it does not hold.
    let wrong_key = fx.certification_with(
        ORIGIN,
        BODY,
        &stranger,
        "Y000050000001205000003",
        "6-18-01-01",
        Level::Junior,
        date("2020-06-01"),
    );
    fx.refused_event(
        "a key the body does not hold",
        "key-not-valid-at-date",
        &wrong_key,
    );

    // An event signed for the partner's ledger (skill-ledger/51) replayed here.
    let for_sichuan = fx.certification_with(
        "skill-ledger/51",
        BODY,
        &fx.ledger.body_key,
        "Y000050000001205000004",
        "6-18-01-01",
        Level::Junior,
        date("2020-06-01"),
    );
    fx.refused_event("a cross-ledger replay", "bad-signature", &for_sichuan);

    // A body event signed by the authority's key as if it were a body: wrong signer.
    let registration = SignedEvent::sign(
        ORIGIN,
        Signer::Body(BODY.parse().expect("number")),
        &fx.ledger.body_key,
        fx.registration(
            OTHER,
            &stranger,
            ("2021-01-01", "2029-12-31"),
            date("2021-01-01"),
        )
        .event,
    );
    fx.refused_event("a body registering a body", "wrong-signer", &registration);

    // Still serving: the genuine event is accepted.
    fx.accept(&fx.certification(1));
}

#[test]
fn suspended_and_out_of_scope_bodies_are_refused_and_write_nothing() {
    let fx = given_a_served_ledger(&[]);
    let other_key = fx.register_other(("2021-01-01", "2029-12-31"));
    let other = |number: &str, occupation: &str, level: Level, issued: &str| {
        fx.certification_with(
            ORIGIN,
            OTHER,
            &other_key,
            number,
            occupation,
            level,
            date(issued),
        )
    };

    // Out of scope: an occupation outside the scope, a level above it.
    fx.refused_event(
        "an occupation outside the scope",
        "out-of-scope",
        &other(
            "Y000050000002225000001",
            "6-18-01-02",
            Level::Junior,
            "2022-06-01",
        ),
    );
    // (高级技师 is not reachable on an attested basis either; scope is checked first.)
    fx.refused_event(
        "a level above the scope",
        "out-of-scope",
        &other(
            "Y000050000002221000001",
            "6-18-01-01",
            Level::SeniorTechnician,
            "2022-06-01",
        ),
    );

    // Before the body's registration: its key is valid only from then on.
    fx.refused_event(
        "issued before the body's registration",
        "key-not-valid-at-date",
        &other(
            "Y000050000002205000001",
            "6-18-01-01",
            Level::Junior,
            "2020-06-01",
        ),
    );

    // Suspended from 2023-01-01: refused after, accepted before.
    let suspension = fx.as_authority(EventKind::BodySuspended(BodyStatusChange {
        registration_number: OTHER.parse().expect("number"),
        effective: date("2023-01-01"),
        reason: "年度检查不合格".to_string(),
    }));
    fx.accept(&suspension);
    fx.refused_event(
        "a suspended body",
        "body-not-active",
        &other(
            "Y000050000002235000001",
            "6-18-01-01",
            Level::Junior,
            "2023-06-01",
        ),
    );
    fx.accept(&other(
        "Y000050000002225000002",
        "6-18-01-01",
        Level::Junior,
        "2022-06-01",
    ));
}

#[test]
fn a_replayed_event_id_with_other_content_is_refused_and_writes_nothing() {
    let fx = given_a_served_ledger(&[]);
    let first = fx.certification(1);
    fx.accept(&first);
    // The same bytes again: the first answer, nothing new.
    let before = fx.log_digest();
    let again = submit(fx.address(), &first);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(fx.log_digest(), before, "a duplicate changed the log");
    // The same id over other content.
    let mut other = fx.certification(2);
    other.event.id = first.event.id;
    let other = SignedEvent::sign(ORIGIN, other.signer, &fx.ledger.body_key, other.event);
    fx.refused_event("a replayed event id", "duplicate-event-id", &other);
    // The same certificate number under a new id.
    let mut number_again = fx.certification(1);
    number_again.event.id = fx.id();
    let number_again = SignedEvent::sign(
        ORIGIN,
        number_again.signer,
        &fx.ledger.body_key,
        number_again.event,
    );
    fx.refused_event(
        "a certificate number reused",
        "duplicate-certificate",
        &number_again,
    );
}

#[test]
fn certificate_numbers_that_disagree_are_refused_and_write_nothing() {
    let fx = given_a_served_ledger(&[]);
    let body_key = &fx.ledger.body_key;
    let certify = |number: &str, level: Level, issued: &str| {
        fx.certification_with(
            ORIGIN,
            BODY,
            body_key,
            number,
            "6-18-01-01",
            level,
            date(issued),
        )
    };
    // Province: a Sichuan body's number, signed by the Chongqing body.
    fx.refused_event(
        "a number of another province's body",
        "certificate-body-mismatch",
        &certify("Y000051000001205000001", Level::Junior, "2020-06-01"),
    );
    // Year: the number says 2021, the issue date 2020.
    fx.refused_event(
        "a number of another year",
        "certificate-year-mismatch",
        &certify("Y000050000001215000001", Level::Junior, "2020-06-01"),
    );
    // Level: the number says 四级 (中级工), the credential 初级工.
    fx.refused_event(
        "a number of another level",
        "certificate-level-mismatch",
        &certify("Y000050000001204000001", Level::Junior, "2020-06-01"),
    );
    // A body of another province registered on this ledger.
    let sichuan = fx.registration(
        "Y000051000007",
        &SigningKey::from_bytes(&[51; 32]),
        ("2021-01-01", "2029-12-31"),
        date("2021-01-01"),
    );
    fx.refused_event("a body of another province", "province-mismatch", &sichuan);
}

#[test]
fn events_dated_in_the_future_are_refused_and_write_nothing() {
    let fx = given_a_served_ledger(&[]);
    let key = fx.register_other(("2021-01-01", "2099-12-31"));
    // Three days ahead of the server's clock (one day of tolerance for China time).
    let ahead =
        Date::from_days_since_unix_epoch(today().days_since_unix_epoch() + 3).expect("a date");
    let number = CertificateNumber::compose(
        OTHER.parse::<RegistrationNumber>().expect("number"),
        ahead.year(),
        Level::Junior,
        1,
    )
    .expect("number");
    let future = fx.certification_with(
        ORIGIN,
        OTHER,
        &key,
        number.as_str(),
        "6-18-01-01",
        Level::Junior,
        ahead,
    );
    fx.refused_event(
        "a certificate issued in the future",
        "dated-in-future",
        &future,
    );
    let document = submit(fx.address(), &future).problem(422, "dated-in-future");
    assert!(
        document["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains(&ahead.to_string())),
        "{document}"
    );
    // An administrative event dated in the future: the same.
    let registration = fx.registration(
        "Y000050000003",
        &SigningKey::from_bytes(&[3; 32]),
        ("2021-01-01", "2099-12-31"),
        ahead,
    );
    fx.refused_event(
        "a registration dated in the future",
        "dated-in-future",
        &registration,
    );
}

// ---------------------------------------------------------------------------------------
// Bodies that are not entries
// ---------------------------------------------------------------------------------------

#[test]
fn malformed_oversized_nested_and_mistyped_bodies_get_problems_and_write_nothing() {
    let fx = given_a_served_ledger(&[]);
    let address = fx.address();
    let json = Some("application/json");

    fx.refused("an oversized body", 413, "body-too-large", || {
        let big = json!({"entry": "A".repeat(200_000)}).to_string();
        post(address, json, big.as_bytes())
    });
    // Deep nesting is refused at the first value of the wrong type, before any depth is
    // reached (and serde_json's recursion limit stands behind that).
    fx.refused("deeply nested arrays", 422, "invalid-field", || {
        let nested = format!("{}{}", "[".repeat(60_000), "]".repeat(60_000));
        post(address, json, nested.as_bytes())
    });
    fx.refused("a deeply nested entry member", 422, "invalid-field", || {
        let nested = format!(
            "{{\"entry\": {}1{}}}",
            "{\"a\":".repeat(20_000),
            "}".repeat(20_000)
        );
        post(address, json, nested.as_bytes())
    });
    // The same without the innermost value is not JSON at all (`{"a":}`), whatever serde
    // refuses first: 400.
    fx.refused(
        "a deeply nested member without a value",
        400,
        "bad-request",
        || {
            let nested = format!(
                "{{\"entry\": {}{}}}",
                "{\"a\":".repeat(20_000),
                "}".repeat(20_000)
            );
            post(address, json, nested.as_bytes())
        },
    );
    fx.refused("invalid UTF-8 in a string", 400, "bad-request", || {
        post(address, json, b"{\"entry\": \"\xff\xfe\xfd\"}")
    });
    fx.refused("invalid UTF-8 outside strings", 400, "bad-request", || {
        post(address, json, b"\xef\xbb\xbf\xc3\x28{}")
    });
    fx.refused("not JSON at all", 400, "bad-request", || {
        post(address, json, b"entry=AAAA")
    });
    fx.refused("an empty body", 400, "bad-request", || {
        post(address, json, b"")
    });
    fx.refused("text/plain", 415, "unsupported-media-type", || {
        let body = support::entry_body(&fx.certification(1));
        post(address, Some("text/plain"), &body)
    });
    fx.refused("no content type", 415, "unsupported-media-type", || {
        let body = support::entry_body(&fx.certification(1));
        post(address, None, &body)
    });
    fx.refused("a form", 415, "unsupported-media-type", || {
        post(
            address,
            Some("application/x-www-form-urlencoded"),
            b"entry=AAAA",
        )
    });
    fx.refused(
        "JSON look-alike media type",
        415,
        "unsupported-media-type",
        || post(address, Some("application/jsonp"), b"{}"),
    );
    fx.refused(
        "an entry that is not base64",
        422,
        "malformed-entry",
        || post(address, json, br#"{"entry": "not base64!"}"#),
    );
    fx.refused(
        "an entry with trailing bytes",
        422,
        "malformed-entry",
        || {
            let mut entry = fx.certification(1).to_entry().expect("entry");
            entry.push(0);
            let body = json!({"entry": base64::engine::general_purpose::STANDARD.encode(entry)});
            post(address, json, body.to_string().as_bytes())
        },
    );
    fx.refused("truncated entry bytes", 422, "malformed-entry", || {
        let entry = fx.certification(1).to_entry().expect("entry");
        let body = json!({"entry": base64::engine::general_purpose::STANDARD.encode(&entry[..entry.len() / 2])});
        post(address, json, body.to_string().as_bytes())
    });
    fx.refused(
        "an entry of the wrong JSON type",
        422,
        "invalid-field",
        || post(address, json, br#"{"entry": 5}"#),
    );
    fx.refused("an unknown member", 422, "invalid-field", || {
        post(address, json, br#"{"entry": "", "index": 0}"#)
    });
    fx.refused(
        "GET on the submission path",
        405,
        "method-not-allowed",
        || get(address, "/v1/events"),
    );

    // Still serving.
    fx.accept(&fx.certification(1));
}

// ---------------------------------------------------------------------------------------
// Slow clients
// ---------------------------------------------------------------------------------------

/// Sends `bytes` one at a time, `every` apart, until the server closes the connection or
/// `give_up` passes; returns how long the server kept it open (`None`: it never closed).
fn trickle(address: &str, bytes: &[u8], every: Duration, give_up: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(5)))
        .expect("read timeout");
    let mut buffer = [0u8; 4096];
    for byte in bytes.iter().cycle() {
        if started.elapsed() > give_up {
            return None;
        }
        if stream.write_all(&[*byte]).is_err() {
            return Some(started.elapsed());
        }
        match stream.read(&mut buffer) {
            // Closed (after an answer or without one).
            Ok(_) => return Some(started.elapsed()),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some(started.elapsed()),
        }
        std::thread::sleep(every);
    }
    None
}

#[test]
fn slow_loris_connections_are_closed_and_others_keep_being_served() {
    // Given a server whose request timeout is one second.
    let fx = given_a_served_ledger(&["--request-timeout-ms", "1000"]);
    let address = fx.address().to_string();
    let before = fx.log_digest();
    let headers = format!(
        "POST /v1/events HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nX-Padding: {}\r\n",
        "a".repeat(400)
    );

    // When twenty clients trickle their headers a byte every 50 ms,
    std::thread::scope(|scope| {
        let slow: Vec<_> = (0..20)
            .map(|_| {
                let (address, headers) = (&address, &headers);
                scope.spawn(move || {
                    trickle(
                        address,
                        headers.as_bytes(),
                        Duration::from_millis(50),
                        Duration::from_secs(8),
                    )
                })
            })
            .collect();
        // then others are served meanwhile,
        std::thread::sleep(Duration::from_millis(300));
        for _ in 0..5 {
            let started = Instant::now();
            let health = get(&address, "/healthz");
            assert_eq!(health.status, 200);
            assert!(started.elapsed() < Duration::from_millis(500));
            std::thread::sleep(Duration::from_millis(100));
        }
        // and every slow connection is closed by the server after about the timeout.
        for handle in slow {
            let open_for = handle
                .join()
                .expect("trickling client")
                .expect("the server never closed a trickling connection");
            assert!(
                open_for >= Duration::from_millis(900) && open_for < Duration::from_secs(4),
                "closed after {open_for:?}"
            );
        }
    });

    // A body trickled after complete headers: 408, and the connection closes.
    let entry = support::entry_body(&fx.certification(1));
    let mut stream = TcpStream::connect(&address).expect("connect");
    stream
        .write_all(
            format!(
                "POST /v1/events HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                entry.len(),
                std::str::from_utf8(&entry[..10]).expect("ASCII")
            )
            .as_bytes(),
        )
        .expect("send");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    support::parse_reply(&raw)
        .expect("an answer")
        .problem(408, "request-timeout");

    assert_eq!(fx.log_digest(), before, "slow clients changed the log");
    fx.accept(&fx.certification(1));
}
