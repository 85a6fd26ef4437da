//! What every handler shares: the node, the configuration, the limiter and the counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use skill_ledger_domain::RegistrationNumber;
use skill_ledger_node::Node;

use crate::config::ServerConfig;
use crate::federation::Federation;
use crate::limits::RateLimiter;
use crate::pseudonyms::PseudonymAudit;

/// The state handed to every route (cheap to clone). The portal's routes take the same.
#[derive(Clone)]
pub struct AppState {
    pub node: Arc<Node>,
    pub config: Arc<ServerConfig>,
    pub limiter: Arc<RateLimiter>,
    pub counters: Arc<HttpCounters>,
    /// Partners, their mirrors and this ledger's witness ([`Federation::none`] without).
    pub federation: Arc<Federation>,
    /// Pseudonyms per evaluation body (`POST /v1/pseudonyms`).
    pub pseudonym_limiter: Arc<RateLimiter<RegistrationNumber>>,
    /// The audit file of answered pseudonym requests, in the ledger directory.
    pub pseudonym_audit: Arc<PseudonymAudit>,
}

impl AppState {
    pub fn new(node: Arc<Node>, config: ServerConfig) -> AppState {
        AppState {
            limiter: Arc::new(RateLimiter::new(
                config.verify_rate_per_s,
                config.verify_burst,
            )),
            pseudonym_limiter: Arc::new(RateLimiter::new(
                config.pseudonym_rate_per_s,
                config.pseudonym_burst,
            )),
            pseudonym_audit: Arc::new(PseudonymAudit::new(node.dir())),
            node,
            config: Arc::new(config),
            counters: Arc::new(HttpCounters::default()),
            federation: Arc::new(Federation::none()),
        }
    }

    /// The same state serving `federation` (see [`crate::federation`]).
    pub fn with_federation(mut self, federation: Federation) -> AppState {
        self.federation = Arc::new(federation);
        self
    }
}

/// HTTP-level counters for `/metrics` (the node keeps its own).
#[derive(Default)]
pub struct HttpCounters {
    pub rate_limited: AtomicU64,
    pub overloaded: AtomicU64,
    pub verifications: AtomicU64,
    pub submissions: AtomicU64,
    /// Pseudonyms answered to evaluation bodies (items of `POST /v1/pseudonyms`).
    pub pseudonyms: AtomicU64,
}

impl HttpCounters {
    pub fn count_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_overloaded(&self) {
        self.overloaded.fetch_add(1, Ordering::Relaxed);
    }
}
