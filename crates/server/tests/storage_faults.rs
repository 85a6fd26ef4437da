//! A failed fsync over HTTP: the submission is answered `503 stopped` (never 200), `/healthz`
//! reports the node stopped, and later submissions are refused the same way.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use skill_ledger_domain::{Audience, BodyRegistered, Date, EventKind, Level, ScopeItem};
use skill_ledger_log::faults::{self, Operation};
use skill_ledger_node::{InitOptions, Node};
use skill_ledger_server::{router, AppState, ServerConfig};
use tower::ServiceExt as _;

fn registration(node: &Node, number: &str) -> Vec<u8> {
    let date = Date::from_ymd(2021, 1, 1).expect("date");
    let signed = node.sign_as_authority(EventKind::BodyRegistered(BodyRegistered {
        registration_number: number.parse().expect("registration number"),
        name: "重庆测试职业技能评价中心".to_string(),
        public_key: ed25519_dalek::SigningKey::from_bytes(&[7; 32])
            .verifying_key()
            .to_bytes(),
        valid_from: date,
        valid_until: Date::from_ymd(2029, 12, 31).expect("date"),
        audience: Audience::Public,
        scope: vec![ScopeItem {
            occupation: "6-18-01-01".parse().expect("occupation"),
            level_max: Level::Senior,
        }],
        direct_recognition: false,
        date,
    }));
    let entry = signed.to_entry().expect("entry");
    serde_json::json!({"entry": base64::engine::general_purpose::STANDARD.encode(entry)})
        .to_string()
        .into_bytes()
}

async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

fn post(body: Vec<u8>) -> Request<Body> {
    Request::post("/v1/events")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request")
}

fn health() -> Request<Body> {
    Request::get("/healthz")
        .body(Body::empty())
        .expect("request")
}

#[test]
fn given_the_log_fsync_fails_then_the_submission_is_503_stopped_and_healthz_reports_it() {
    let temp = tempfile::tempdir().expect("temporary directory");
    let dir = temp.path().join("ledger");
    // Init blocks on its own submissions: outside the runtime.
    let node =
        Arc::new(Node::init(&dir, InitOptions::chongqing().importing_history()).expect("init"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(submit_with_a_failing_disk(&dir, node));
}

async fn submit_with_a_failing_disk(dir: &std::path::Path, node: Arc<Node>) {
    let app = router(AppState::new(node.clone(), ServerConfig::default()));
    let (status, document) = call(&app, health()).await;
    assert_eq!(
        (status, &document["status"]),
        (StatusCode::OK, &"ok".into())
    );

    faults::fail(&dir.join("log"), Operation::Fsync);
    let (status, document) = call(&app, post(registration(&node, "Y000050000001"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{document}");
    assert_eq!(document["code"], "stopped", "{document}");

    let (status, document) = call(&app, health()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{document}");
    assert_eq!(document["status"], "stopped", "{document}");
    assert!(
        document["stopped"]
            .as_str()
            .is_some_and(|reason| reason.contains("fdatasync")),
        "{document}"
    );

    // The disk recovers; the node does not pretend to.
    faults::clear(&dir.join("log"));
    let (status, document) = call(&app, post(registration(&node, "Y000050000002"))).await;
    assert_eq!(
        (status, &document["code"]),
        (StatusCode::SERVICE_UNAVAILABLE, &"stopped".into())
    );
}

#[test]
fn given_a_full_disk_then_submissions_are_503_storage_full_with_retry_after_until_space_returns() {
    let temp = tempfile::tempdir().expect("temporary directory");
    let dir = temp.path().join("ledger");
    let node =
        Arc::new(Node::init(&dir, InitOptions::chongqing().importing_history()).expect("init"));
    node.flush().expect("flush");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(submit_with_a_full_disk(&dir, node));
}

async fn submit_with_a_full_disk(dir: &std::path::Path, node: Arc<Node>) {
    let app = router(AppState::new(node.clone(), ServerConfig::default()));
    faults::fail(dir, Operation::DiskFull);
    let response = app
        .clone()
        .oneshot(post(registration(&node, "Y000050000001")))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.headers().contains_key("retry-after"),
        "a full disk is retried later"
    );
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let document: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(document["code"], "storage-full", "{document}");
    assert!(
        document["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("disk_free_min_mb")),
        "the detail names the problem and the setting: {document}"
    );

    let (status, document) = call(&app, health()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{document}");
    assert_eq!(document["status"], "storage-full", "{document}");
    assert_eq!(document["stopped"], serde_json::Value::Null, "{document}");

    // Space returns: the same process accepts at once.
    faults::clear(dir);
    let (status, document) = call(&app, health()).await;
    assert_eq!(
        (status, &document["status"]),
        (StatusCode::OK, &"ok".into())
    );
    let (status, document) = call(&app, post(registration(&node, "Y000050000001"))).await;
    assert_eq!(status, StatusCode::OK, "{document}");
    assert_eq!(document["index"], 3, "{document}");
}
