//! Operations: `/healthz`, `/metrics` (Prometheus text format 0.0.4), `/openapi.json`.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use crate::state::AppState;
use crate::views::Health;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use skill_ledger_node::Histogram;

pub fn ops_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

/// Liveness and readiness: 200 while the node accepts submissions and no partner alarm is
/// raised; 503 once the node stopped, or while a partner's fork or rule violation is on
/// record (the alarm and each partner's mirror are in the body).
#[utoipa::path(
    get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "The node accepts submissions; no partner alarm", body = Health),
        (status = 503, description = "The node stopped accepting submissions, the disk is full, or a partner alarm is raised", body = Health),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let stopped = state.node.stopped().map(|failure| failure.to_string());
    let storage_full = state.node.storage_full();
    // Reads the mirrors' stores and evidence directories: off the executor.
    let federation = state.federation.clone();
    let partners = tokio::task::spawn_blocking(move || federation.health())
        .await
        .unwrap_or_default();
    let alarm = partners.iter().find_map(|partner| {
        partner.alarm.as_ref().map(|alarm| {
            format!(
                "{} of {} detected at {}: {} (evidence in {})",
                alarm.kind, partner.origin, alarm.detected_unix_s, alarm.detail, alarm.evidence
            )
        })
    });
    let (status, word) = match (&stopped, &storage_full, &alarm) {
        (Some(_), _, _) => (StatusCode::SERVICE_UNAVAILABLE, "stopped"),
        (None, Some(_), _) => (StatusCode::SERVICE_UNAVAILABLE, "storage-full"),
        (None, None, Some(_)) => (StatusCode::SERVICE_UNAVAILABLE, "alarm"),
        (None, None, None) => (StatusCode::OK, "ok"),
    };
    let health = Health {
        status: word.to_string(),
        origin: state.node.origin().to_string(),
        tree_size: state
            .node
            .checkpoint()
            .map_or(0, |signed| signed.checkpoint.size),
        stopped,
        storage_full,
        alarm,
        partners,
    };
    let mut response = (status, Json(health)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Upper bounds of the commit latency buckets, microseconds.
const LATENCY_BOUNDS_US: [u64; 14] = [
    250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000,
    2_000_000, 5_000_000,
];
/// Upper bounds of the batch size buckets, events.
const BATCH_BOUNDS: [u64; 10] = [1, 4, 16, 64, 256, 512, 1_024, 2_048, 4_096, 65_536];

fn histogram(
    out: &mut String,
    name: &str,
    help: &str,
    histogram: &Histogram,
    bounds: &[u64],
    scale: f64,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for (bound, count) in bounds.iter().zip(histogram.cumulative_at(bounds)) {
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"{}\"}} {count}",
            *bound as f64 / scale
        );
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", histogram.count());
    let _ = writeln!(out, "{name}_sum {}", histogram.sum() as f64 / scale);
    let _ = writeln!(out, "{name}_count {}", histogram.count());
}

fn single(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    let _ = writeln!(out, "{name} {value}");
}

/// The Prometheus text of the node's and the service's counters.
pub fn render_metrics(state: &AppState) -> String {
    let metrics = state.node.metrics();
    let counters = &state.counters;
    let mut out = String::with_capacity(4_096);
    let load = |value: &std::sync::atomic::AtomicU64| value.load(Ordering::Relaxed);
    single(
        &mut out,
        "skill_ledger_queue_depth",
        "gauge",
        "Submissions queued for the sequencer.",
        load(&metrics.queue_depth),
    );
    single(
        &mut out,
        "skill_ledger_tree_size",
        "gauge",
        "Entries in the Merkle tree.",
        load(&metrics.tree_size),
    );
    single(
        &mut out,
        "skill_ledger_batches_total",
        "counter",
        "Batches committed.",
        load(&metrics.batches),
    );
    single(
        &mut out,
        "skill_ledger_events_accepted_total",
        "counter",
        "Events accepted and committed.",
        load(&metrics.accepted),
    );
    single(
        &mut out,
        "skill_ledger_events_duplicate_total",
        "counter",
        "Resubmissions answered with the first receipt.",
        load(&metrics.duplicates),
    );
    let _ = writeln!(
        out,
        "# HELP skill_ledger_events_rejected_total Events refused, by rule code."
    );
    let _ = writeln!(out, "# TYPE skill_ledger_events_rejected_total counter");
    for (code, count) in metrics.rejections() {
        let _ = writeln!(
            out,
            "skill_ledger_events_rejected_total{{code=\"{code}\"}} {count}"
        );
    }
    histogram(
        &mut out,
        "skill_ledger_batch_events",
        "Events per committed batch.",
        &metrics.batch_events,
        &BATCH_BOUNDS,
        1.0,
    );
    histogram(
        &mut out,
        "skill_ledger_commit_latency_seconds",
        "From enqueue to the durable answer.",
        &metrics.commit_latency_us,
        &LATENCY_BOUNDS_US,
        1_000_000.0,
    );
    single(
        &mut out,
        "skill_ledger_http_verifications_total",
        "counter",
        "POST /v1/verify requests handled.",
        load(&counters.verifications),
    );
    single(
        &mut out,
        "skill_ledger_http_submissions_total",
        "counter",
        "POST /v1/events requests handled.",
        load(&counters.submissions),
    );
    single(
        &mut out,
        "skill_ledger_http_pseudonyms_total",
        "counter",
        "Pseudonyms answered by POST /v1/pseudonyms (items, each recorded in the audit file).",
        load(&counters.pseudonyms),
    );
    single(
        &mut out,
        "skill_ledger_http_rate_limited_total",
        "counter",
        "Requests answered 429 by the per-client verification rate or a body's pseudonym rate.",
        load(&counters.rate_limited),
    );
    single(
        &mut out,
        "skill_ledger_http_overloaded_total",
        "counter",
        "Requests answered 503 (queue full, concurrency bound, timeout).",
        load(&counters.overloaded),
    );
    crate::federation::render_metrics(&state.federation, &mut out);
    out
}

/// Prometheus metrics: queue depth, batch sizes, commit latency, rejections by rule, tree size.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain; version=0.0.4; charset=utf-8"))
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    // The partner gauges read the mirrors' stores: off the executor.
    let text = tokio::task::spawn_blocking(move || render_metrics(&state))
        .await
        .unwrap_or_default();
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// This document: OpenAPI 3.1.
#[utoipa::path(
    get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 description of this service", body = Object))
)]
pub async fn openapi() -> Response {
    let mut response = crate::openapi::openapi_json().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
