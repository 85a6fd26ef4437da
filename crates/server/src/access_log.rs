//! The access log: at most one line per request, and by default none.
//!
//! A line per request grew the log without bound (165 MB after about 850,000 requests), and
//! a node's log is for what an operator must act on. So `access_log` ([`AccessLog`],
//! `ServerConfig`) is `off` unless configured: `errors` logs every answer of status 400 or
//! above (and every request head refused before routing, connections.rs), `sampled` those
//! and a share `access_log_sample_rate` of the rest, `all` every request. Sampling counts
//! requests rather than drawing random numbers, so a rate of 0.1 logs exactly every tenth
//! request that is not an error.
//!
//! Lines are INFO events on the target [`TARGET`], inside the request's span (method, path,
//! request id), with the status and the time to answer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::config::AccessLog;

/// The `tracing` target of access-log lines (`SKILL_LEDGER_LOG` can filter it).
pub const TARGET: &str = "skill_ledger_server::access";

/// Decides which requests get a line.
pub struct AccessLogger {
    mode: AccessLog,
    sample_rate: f64,
    /// Requests answered below 400 so far (in `sampled` mode).
    successes: AtomicU64,
}

impl AccessLogger {
    pub fn new(mode: AccessLog, sample_rate: f64) -> AccessLogger {
        AccessLogger {
            mode,
            sample_rate: sample_rate.clamp(0.0, 1.0),
            successes: AtomicU64::new(0),
        }
    }

    /// Whether the answer `status` gets a line.
    pub fn records(&self, status: StatusCode) -> bool {
        let error = status.as_u16() >= 400;
        match self.mode {
            AccessLog::Off => false,
            AccessLog::All => true,
            AccessLog::Errors => error,
            AccessLog::Sampled => error || self.sample(),
        }
    }

    /// True for `sample_rate` of the calls: call n is logged when ⌊n·rate⌋ moves.
    fn sample(&self) -> bool {
        let n = self.successes.fetch_add(1, Ordering::Relaxed);
        let before = (n as f64 * self.sample_rate).floor();
        let after = ((n + 1) as f64 * self.sample_rate).floor();
        after > before
    }
}

/// Middleware: the access-log line of a request, when [`AccessLogger::records`] says so.
pub async fn access_log(
    State(logger): State<Arc<AccessLogger>>,
    request: Request,
    next: Next,
) -> Response {
    if logger.mode == AccessLog::Off {
        return next.run(request).await;
    }
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    if logger.records(status) {
        tracing::info!(
            target: TARGET,
            status = status.as_u16(),
            latency_ms = started.elapsed().as_millis() as u64,
            "answered"
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(logger: &AccessLogger, status: StatusCode, requests: u32) -> u32 {
        (0..requests)
            .map(|_| u32::from(logger.records(status)))
            .sum()
    }

    #[test]
    fn each_mode_logs_its_share() {
        let off = AccessLogger::new(AccessLog::Off, 1.0);
        assert_eq!(logged(&off, StatusCode::OK, 100), 0);
        assert_eq!(logged(&off, StatusCode::INTERNAL_SERVER_ERROR, 100), 0);
        let errors = AccessLogger::new(AccessLog::Errors, 1.0);
        assert_eq!(logged(&errors, StatusCode::OK, 100), 0);
        assert_eq!(logged(&errors, StatusCode::NOT_FOUND, 100), 100);
        let sampled = AccessLogger::new(AccessLog::Sampled, 0.1);
        assert_eq!(logged(&sampled, StatusCode::OK, 1_000), 100);
        assert_eq!(logged(&sampled, StatusCode::SERVICE_UNAVAILABLE, 10), 10);
        let none = AccessLogger::new(AccessLog::Sampled, 0.0);
        assert_eq!(logged(&none, StatusCode::OK, 1_000), 0);
        let all = AccessLogger::new(AccessLog::All, 0.0);
        assert_eq!(logged(&all, StatusCode::OK, 10), 10);
    }
}
