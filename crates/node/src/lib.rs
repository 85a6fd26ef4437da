//! # skill-ledger-node: one ledger node
//!
//! A [`Node`] owns a ledger directory: the log of record (`log/`), the Merkle tree and the
//! latest signed checkpoint (`tree/`), the projections in sled (`projections/`), the keys
//! (`keys/`) and `ledger.toml`. Opening it recovers the directory (the log audited against the
//! signed checkpoint, the projections trusted, replayed or rebuilt), then starts the pipeline
//! (`pipeline/`): signed submissions are verified, decided with the domain rules and made
//! durable (one fsync per batch), integrated into the tree, covered by a signed checkpoint and
//! folded into the projections before they are answered. Queries read the projections.
//!
//! Every fold of entries into projections (new submissions, the replay, the rebuild, and a
//! partner's mirror in `skill-ledger-sync`) goes through one [`engine::Engine`], over a
//! [`engine::RecordStore`]: the node's own sled layout ([`Projection`]) or another.
//!
//! ## The key decision: the log is the truth, sled is a cache
//! Every projection is a fold of the log, committed together with its cursor in one sled
//! batch, and sled is never fsynced per batch. At start-up the node replays the log from the
//! cursor; a damaged or missing projection directory is rebuilt from entry 0
//! ([`rebuild`]). So sled's durability is never what an acknowledgement depends on.
//!
//! ## Example
//! ```no_run
//! use skill_ledger_node::{InitOptions, Node};
//!
//! let node = Node::init(std::path::Path::new("/tmp/ledger-50"), InitOptions::chongqing())?;
//! println!("authority key: {}", node.verifier_key_text());
//! node.close()?;
//! # Ok::<(), skill_ledger_node::NodeError>(())
//! ```

mod authority;
mod bundle;
mod config;
pub mod engine;
mod error;
mod metrics;
mod node;
mod pipeline;
mod stats;
pub mod store;
mod vc;

pub use authority::{
    load_recovery_key, recover_authority_key, recovery_key_name, rotate_authority_key,
    AuthorityKeyChange, ROTATION_OVERLAP_DAYS,
};
pub use bundle::{verify_credential_bundle, BundleInvalid, BundleVerification, HolderBundle};
pub use config::{
    LedgerConfig, ProjectionsConfig, SequencerConfig, VcConfig, BACKDATE_DAYS_DEFAULT,
    DEFAULT_PROJECTION_CACHE_MB,
};
pub use engine::layout::{Projection, PROJECTION_FORMAT};
pub use error::{Failure, LedgerPaths, NodeError, NodeErrorKind};
pub use metrics::{Histogram, Metrics};
pub use node::{load_pseudonym_key, read_verifier_key};
pub use node::{
    rebuild, rebuild_with, InitOptions, NameCheck, Node, OpenReport, PendingReceipt,
    RebuildOptions, RebuildReport, RebuildStages, StorageSizes,
};
pub use pipeline::{Receipt, SequencerOptions, SubmitError};
pub use stats::{stats_by_kind, stats_by_route, stats_document};
pub use vc::{
    check_vc_base_url, signed_status_list, skill_credential, xsd_now, VcExportError, VcIssuer,
    VcSetup, STATUS_LIST_ENTRIES, VC_ISSUER_PATH, VC_STATUS_PATH,
};

pub use skill_ledger_log::{Clock, SystemClock};

/// The UTC calendar day of `clock`: what admission and the rotation overlap judge dates by.
pub fn today(clock: &dyn Clock) -> skill_ledger_domain::Date {
    i32::try_from(clock.days_since_unix_epoch())
        .ok()
        .and_then(skill_ledger_domain::Date::from_days_since_unix_epoch)
        .unwrap_or(skill_ledger_domain::Date::MAX)
}
