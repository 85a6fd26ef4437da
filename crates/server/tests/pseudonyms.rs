//! `POST /v1/pseudonyms` in-process: a registered body with its key in force gets the
//! subject and name commitment the pseudonym key gives, and every other request is refused
//! with a problem naming what is wrong; the per-body rate, the item bound and the audit file.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request};
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use skill_ledger_domain::{
    pseudonym_request_message, sign_pseudonym_request, Audience, BodyRegistered, BodyStatusChange,
    Date, EventKind, IdDocumentType, Level, PseudonymItemText, ScopeItem,
};
use skill_ledger_node::{InitOptions, Node};
use skill_ledger_server::{router, AppState, ServerConfig};
use tower::ServiceExt as _;

const BODY: &str = "Y000050000001";
const OTHER: &str = "Y000050000002";
const CERT: &str = "Y000050000001244000001";
const ID: &str = "50010119900101123X";
const NAME: &str = "张三";

struct Given {
    _dir: tempfile::TempDir,
    node: Arc<Node>,
    app: axum::Router,
    runtime: tokio::runtime::Runtime,
    body_key: SigningKey,
}

fn register(node: &Node, number: &str, key: &SigningKey) {
    let date = Date::from_ymd(2020, 1, 1).expect("date");
    let signed = node.sign_as_authority(EventKind::BodyRegistered(BodyRegistered {
        registration_number: number.parse().expect("registration number"),
        name: "重庆测试职业技能评价中心".to_string(),
        public_key: key.verifying_key().to_bytes(),
        valid_from: date,
        valid_until: Date::from_ymd(2040, 12, 31).expect("date"),
        audience: Audience::Public,
        scope: vec![ScopeItem {
            occupation: "6-18-01-01".parse().expect("occupation"),
            level_max: Level::Senior,
        }],
        direct_recognition: false,
        date,
    }));
    node.submit(signed).expect("registered");
}

fn given(config: ServerConfig) -> Given {
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::init(&dir.path().join("ledger"), InitOptions::chongqing()).expect("init");
    let body_key = SigningKey::from_bytes(&[0x02; 32]);
    register(&node, BODY, &body_key);
    register(&node, OTHER, &SigningKey::from_bytes(&[0x03; 32]));
    let node = Arc::new(node);
    let app = router(AppState::new(node.clone(), config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    Given {
        _dir: dir,
        node,
        app,
        runtime,
        body_key,
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn item(certificate: &str, id_number: &str) -> Value {
    json!({"id_type": "resident_id", "id_number": id_number, "name": NAME,
        "certificate_number": certificate})
}

/// A request for `items`, signed by `key` as `body` at `timestamp`.
fn signed_request(key: &SigningKey, body: &str, timestamp: u64, items: &[Value]) -> Value {
    let texts: Vec<PseudonymItemText<'_>> = items
        .iter()
        .map(|item| PseudonymItemText {
            id_type: item["id_type"].as_str().expect("id_type"),
            id_number: item["id_number"].as_str().expect("id_number"),
            name: item["name"].as_str().expect("name"),
            certificate_number: item["certificate_number"].as_str().expect("certificate"),
        })
        .collect();
    let message = pseudonym_request_message("skill-ledger/50", body, timestamp, &texts);
    let signature = sign_pseudonym_request(key, &message);
    json!({
        "registration_number": body,
        "public_key": hex::encode(key.verifying_key().to_bytes()),
        "timestamp_unix_s": timestamp,
        "items": items,
        "signature": base64::engine::general_purpose::STANDARD.encode(signature),
    })
}

struct Reply {
    status: u16,
    retry_after: Option<String>,
    content_type: String,
    body: Value,
}

impl Given {
    fn post(&self, body: &Value) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/v1/pseudonyms")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        self.runtime.block_on(async {
            let response = self.app.clone().oneshot(request).await.expect("infallible");
            let status = response.status().as_u16();
            let header_text = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_string)
            };
            let retry_after = header_text(header::RETRY_AFTER);
            let content_type = header_text(header::CONTENT_TYPE).unwrap_or_default();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            Reply {
                status,
                retry_after,
                content_type,
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            }
        })
    }

    fn metrics(&self) -> String {
        let request = Request::builder()
            .uri("/metrics")
            .body(Body::empty())
            .expect("request");
        self.runtime.block_on(async {
            let response = self.app.clone().oneshot(request).await.expect("infallible");
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }

    fn audit(&self) -> String {
        std::fs::read_to_string(self.node.dir().join("pseudonym-requests.log")).unwrap_or_default()
    }
}

/// The refusal is a problem document of this status and code whose detail contains `says`.
fn check_refused(reply: &Reply, status: u16, code: &str, says: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["code"], code, "{}", reply.body);
    let detail = reply.body["detail"].as_str().expect("detail");
    assert!(detail.contains(says), "{detail} should say {says}");
}

#[test]
fn a_registered_body_gets_the_pseudonyms_the_key_gives_and_the_audit_has_no_identity() {
    // Given a body registered with its key; when it signs a request for two holders,
    let given = given(ServerConfig::default());
    let items = [
        item(CERT, ID),
        item("Y000050000001244000002", "500101199202021231"),
    ];
    let reply = given.post(&signed_request(&given.body_key, BODY, now(), &items));
    // then each item's subject and commitment are the pseudonym key's,
    assert_eq!(reply.status, 200, "{}", reply.body);
    let key = given.node.pseudonym_key();
    let subject = key.subject(IdDocumentType::ResidentIdCard, ID).to_hex();
    assert_eq!(reply.body["items"][0]["subject"], subject.as_str());
    assert_eq!(
        reply.body["items"][0]["name_commitment"],
        key.commit_name(CERT, NAME).to_hex().as_str()
    );
    assert_eq!(
        reply.body["items"][1]["certificate_number"],
        "Y000050000001244000002"
    );
    // and the audit records the body, the count and the subjects, never a number or a name.
    let audit = given.audit();
    let record: Value =
        serde_json::from_str(audit.lines().next().expect("a record")).expect("JSON");
    assert_eq!(record["body"], BODY);
    assert_eq!(record["items"], 2);
    assert_eq!(record["subjects"][0], subject.as_str());
    assert!(
        !audit.contains(ID) && !audit.contains("500101199202021231"),
        "{audit}"
    );
    assert!(!audit.contains(NAME), "{audit}");
    // The metrics count the pseudonyms answered.
    let metrics = given.metrics();
    assert!(
        metrics.contains("skill_ledger_http_pseudonyms_total 2"),
        "{metrics}"
    );
}

#[test]
fn refusals_name_what_is_wrong_and_are_not_audited() {
    let given = given(ServerConfig::default());
    let key = &given.body_key;
    let items = [item(CERT, ID)];
    // An unknown body, a random key, a key that is not the body's, a stale timestamp.
    let unknown = signed_request(key, "Y000050000009", now(), &items);
    check_refused(
        &given.post(&unknown),
        403,
        "unknown-body",
        "Y000050000009 is not registered",
    );
    let random = SigningKey::from_bytes(&[0x09; 32]);
    let stranger = signed_request(&random, BODY, now(), &items);
    check_refused(
        &given.post(&stranger),
        403,
        "key-not-current",
        "not body Y000050000001's key",
    );
    let mut forged = signed_request(&random, BODY, now(), &items);
    forged["public_key"] = json!(hex::encode(key.verifying_key().to_bytes()));
    check_refused(
        &given.post(&forged),
        403,
        "bad-signature",
        "does not verify",
    );
    let mut altered = signed_request(key, BODY, now(), &items);
    altered["items"][0]["id_number"] = json!("500101199001019995");
    check_refused(
        &given.post(&altered),
        403,
        "bad-signature",
        "does not verify",
    );
    let stale = signed_request(key, BODY, now() - 301, &items);
    check_refused(
        &given.post(&stale),
        403,
        "stale-timestamp",
        "over the window of 300 s",
    );
    let future = signed_request(key, BODY, now() + 301, &items);
    check_refused(
        &given.post(&future),
        403,
        "stale-timestamp",
        "over the window",
    );
    // Another body's certificate, a number that is no number, a type that is no type.
    let theirs = signed_request(key, BODY, now(), &[item("Y000050000002244000001", ID)]);
    check_refused(
        &given.post(&theirs),
        403,
        "not-own-certificate",
        "belongs to body Y000050000002",
    );
    let bad_number = signed_request(key, BODY, now(), &[item(CERT, "5001/0119")]);
    check_refused(
        &given.post(&bad_number),
        422,
        "bad-identity-number",
        "items[0].id_number",
    );
    // A resident ID card number whose GB 11643 check character is wrong: the same check
    // `issue` applies, and the reason names no part of the number.
    let bad_check = signed_request(key, BODY, now(), &[item(CERT, "500101199001011234")]);
    let refused = given.post(&bad_check);
    check_refused(&refused, 422, "bad-identity-number", "check digit");
    assert!(
        !refused.body.to_string().contains("500101199001011234"),
        "{}",
        refused.body
    );
    let mut bad_type = item(CERT, ID);
    bad_type["id_type"] = json!("driving_licence");
    let bad_type = signed_request(key, BODY, now(), &[bad_type]);
    check_refused(
        &given.post(&bad_type),
        422,
        "invalid-field",
        "items[0].id_type",
    );
    let none = signed_request(key, BODY, now(), &[]);
    check_refused(&given.post(&none), 422, "invalid-field", "at least one");
    let too_many: Vec<Value> = (0..101).map(|_| item(CERT, ID)).collect();
    let too_many = signed_request(key, BODY, now(), &too_many);
    check_refused(
        &given.post(&too_many),
        422,
        "too-many-items",
        "over the limit of 100",
    );
    assert_eq!(given.audit(), "", "nothing refused is recorded");
}

#[test]
fn a_suspended_body_is_refused() {
    let given = given(ServerConfig::default());
    let suspended = given
        .node
        .sign_as_authority(EventKind::BodySuspended(BodyStatusChange {
            registration_number: BODY.parse().expect("registration number"),
            effective: Date::from_ymd(2021, 1, 1).expect("date"),
            reason: "以案示警".to_string(),
        }));
    given.node.submit(suspended).expect("suspended");
    let request = signed_request(&given.body_key, BODY, now(), &[item(CERT, ID)]);
    check_refused(&given.post(&request), 403, "body-not-active", "suspended");
}

#[test]
fn past_its_rate_a_body_waits_and_another_body_does_not() {
    // Given a rate of 1 pseudonym a second with a burst of 3,
    let given = given(ServerConfig {
        pseudonym_rate_per_s: 1.0,
        pseudonym_burst: 3,
        pseudonym_items_max: 3,
        ..ServerConfig::default()
    });
    let three: Vec<Value> = (0..3).map(|_| item(CERT, ID)).collect();
    let first = given.post(&signed_request(&given.body_key, BODY, now(), &three));
    assert_eq!(first.status, 200, "{}", first.body);
    // when the body asks again at once, it is told to wait,
    let again = given.post(&signed_request(
        &given.body_key,
        BODY,
        now(),
        &[item(CERT, ID)],
    ));
    check_refused(
        &again,
        429,
        "rate-limited",
        "Y000050000001 may ask for 1 pseudonyms a second",
    );
    assert_eq!(again.retry_after.as_deref(), Some("1"));
    // and another body has its own bucket.
    let other_key = SigningKey::from_bytes(&[0x03; 32]);
    let other = given.post(&signed_request(
        &other_key,
        OTHER,
        now(),
        &[item("Y000050000002244000001", ID)],
    ));
    assert_eq!(other.status, 200, "{}", other.body);
}
