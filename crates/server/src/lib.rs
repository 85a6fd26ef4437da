//! # skill-ledger-server: the HTTP service of a ledger node
//!
//! This crate puts a [`Node`](skill_ledger_node::Node) on the network with axum: the JSON
//! API under `/v1` ([`api`]), the log in the C2SP tlog-tiles layout ([`mod@log_routes`]),
//! `/healthz`, `/metrics` and `/openapi.json` ([`ops`]), and the limits every public service
//! needs ([`limits`]): request body size, request timeout, requests in flight, and a
//! per-client verification rate. Evaluation bodies get their holders' pseudonyms from
//! [`pseudonyms`] (signed by the body, rate-limited and audited), so no body holds the
//! pseudonym key. Every error is an RFC 9457 problem document ([`problem`]),
//! including a request head refused before routing ([`request_head`], [`connections`]).
//!
//! Principal items: [`router`] (all routes with their layers), [`AppState`] (the node and the
//! configuration, shared by every handler), [`ServerConfig`], [`verify::verify`] (the holder
//! check behind `POST /v1/verify`, reusable by the portal's lookup form), [`serve`].
//!
//! ## The key decision: entries travel as their signed bytes
//! A submission is `{"entry": "<base64>"}`: the canonical entry (docs/formats.md), exactly
//! the bytes the log stores and whose tail the signature covers. The service never
//! re-encodes an event from JSON, so there is no second encoding that could drift from the
//! signed one, and the same bytes the signer produced are what every verifier rehashes.
//! There is no unsigned write path: administrative events are entries signed by the
//! authority key like every other.
//!
//! ## Adding routes (the portal)
//! A module with routes of type `Router<AppState>` is merged in [`routes`]; it shares the
//! state, the layers and the problem documents:
//! ```ignore
//! pub fn routes() -> Router<AppState> { Router::new().route("/cx", get(lookup_page)) }
//! ```
//!
//! ## Example
//! ```no_run
//! use std::sync::Arc;
//! use skill_ledger_node::Node;
//! use skill_ledger_server::{serve, AppState, ServerConfig};
//!
//! # async fn run() -> std::io::Result<()> {
//! let (node, _) = Node::open(std::path::Path::new("/tmp/ledger-50")).expect("a ledger");
//! let state = AppState::new(Arc::new(node), ServerConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve(listener, state, std::future::pending()).await
//! # }
//! ```

pub mod access_log;
pub mod api;
pub mod config;
pub mod connections;
pub mod federation;
pub mod limits;
pub mod log_routes;
pub mod openapi;
pub mod ops;
pub mod portal;
pub mod problem;
pub mod pseudonyms;
pub mod request_head;
pub mod state;
pub mod vc;
pub mod verify;
pub mod views;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::{error_handling::HandleErrorLayer, BoxError, Router};
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

pub use config::{AccessLog, ConfigError, ServerConfig};
pub use log_routes::log_routes;
pub use problem::Problem;
pub use state::AppState;

/// Every route of this build, without layers and state: `/v1`, the log, operations.
/// A portal module adds its own `Router<AppState>` here.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(api::routes(state.clone()))
        .merge(log_routes())
        .merge(ops::ops_routes())
        .merge(portal::routes(state.clone()))
        .merge(federation::routes())
        .merge(vc::routes())
}

/// Request ids: the process start time and a counter, unique across restarts in practice
/// and cheaper than random UUIDs. A client's own `x-request-id` is kept.
#[derive(Clone)]
struct RequestIds {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    fn new() -> RequestIds {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |duration| duration.as_secs());
        RequestIds {
            prefix: Arc::from(format!("{started:x}")),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

async fn not_found(request: Request) -> Response {
    Problem::not_found(format!("no resource at {}", request.uri().path()))
        .with("path", request.uri().path().to_string())
        .into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        problem::code::METHOD_NOT_ALLOWED,
        "Method not allowed",
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

/// All routes with their layers: request ids, a tracing span per request, the access log
/// (off by default, [`access_log`]), the concurrency bound (503 with `Retry-After` when
/// full), the request timeout, the declared body length (413 before the body is read), the
/// body limit, and problem documents for unknown paths and methods.
pub fn router(state: AppState) -> Router {
    let access_logger = Arc::new(access_log::AccessLogger::new(
        state.config.access_log,
        state.config.access_log_sample_rate,
    ));
    let retry_after_s = state.config.retry_after_s;
    let overloaded_counter = state.counters.clone();
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(RequestIds::new()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<_>| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id,
                    )
                })
                // No line per request here: the access log decides (access_log.rs).
                .on_response(())
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(middleware::from_fn_with_state(
            access_logger,
            access_log::access_log,
        ))
        .layer(HandleErrorLayer::new(move |_: BoxError| {
            let counters = overloaded_counter.clone();
            async move {
                counters.count_overloaded();
                limits::overloaded_response(retry_after_s)
            }
        }))
        .load_shed()
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            state.config.concurrency_max as usize,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::request_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::declared_length,
        ))
        .layer(DefaultBodyLimit::max(
            usize::try_from(state.config.body_bytes_max).unwrap_or(usize::MAX),
        ));
    routes(&state)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(layers)
        // Outermost, so it also sees the layers' answers (503, 413, 408).
        .layer(middleware::from_fn_with_state(
            state.clone(),
            portal::html_errors,
        ))
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` completes, then finishes the requests in
/// progress. Peer addresses are recorded for the verification rate limit; request headers
/// must arrive within `request_timeout_ms`, and every request head is checked before hyper
/// parses it, a bad one answered with a problem document ([`connections`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let options = connections::ConnectionOptions {
        header_timeout: state.config.request_timeout(),
        body_bytes_max: state.config.body_bytes_max,
        log_refusals: state.config.access_log != AccessLog::Off,
    };
    connections::serve_connections(listener, router(state), options, shutdown).await
}
