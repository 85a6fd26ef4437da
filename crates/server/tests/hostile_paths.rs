//! Path parameters that are not UTF-8 once percent-decoded (found by the `api_json` fuzz
//! target, fuzz/corpus/api_json/crash-e2c03ee…): every route answers them with a 400 problem
//! document, as it does any other malformed parameter, not axum's plain-text rejection.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use skill_ledger_node::{InitOptions, Node};
use skill_ledger_server::{router, AppState, ServerConfig};
use tower::ServiceExt as _;

#[test]
fn a_path_parameter_that_is_not_utf8_is_a_problem_document() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // Node::init waits for its first commits: outside the runtime.
    let node = Node::init(
        &dir.path().join("ledger"),
        InitOptions::chongqing().importing_history(),
    )
    .expect("init");
    let app = router(AppState::new(Arc::new(node), ServerConfig::default()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(check_paths(&app));
}

async fn check_paths(app: &axum::Router) {
    for path in [
        "/v1/credentials/Y000050000001%FF%FF000001",
        "/v1/credentials/Y000050000001241000001%C3/bundle",
        "/v1/bodies/Y001050%FF%FF%FF000001",
        "/tile/0/%FF",
    ] {
        let request = Request::get(path).body(Body::empty()).expect("request");
        let response = app.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..]),
            "{path}"
        );
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        let problem: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(problem["status"], 400, "{path}: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("path parameter")),
            "{path}: {problem}"
        );
    }
}
