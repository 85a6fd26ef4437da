//! # skill-ledger-sync: 川渝 federation between partner ledgers
//!
//! Chongqing (`skill-ledger/50`) and Sichuan (`skill-ledger/51`) each run a ledger; this crate
//! lets each one hold a verified copy of the other's credentials and vouch for the other's
//! checkpoints.
//!
//! * [`Partners`] / [`PartnerConfig`]: `partners.toml` in the home ledger directory: each
//!   partner's origin, base URL, checkpoint verifier key, witness key and the fingerprint of
//!   the pseudonym key both share (so one person has one subject on both ledgers).
//! * [`Mirror`]: catches up with a partner from its C2SP tlog-tiles static files (through a
//!   [`PartnerLog`]: [`HttpLog`] or [`NodeLog`]), verifying the checkpoint signature, the
//!   consistency with the checkpoint held, every entry against the signed tree and against
//!   the ledger rules (`decide` over the partner's own registry), and folds the partner's
//!   entries, with the node's own projection engine, into a foreign-credential projection
//!   ([`Mirror::credential`]) in sled under `mirrors/<origin>/`. Resumable, in bounded
//!   batches, with retries and backoff on the pull's [`skill_ledger_log::Clock`].
//! * Fork and rule-violation [`evidence`]: two inconsistent signed checkpoints, or a signed
//!   entry the rules refuse, are kept on disk and stop the mirror until an operator clears
//!   the alarm ([`Mirror::alarm`] for health checks).
//! * [`witness`]: C2SP tlog-witness `add-checkpoint` on both sides, with C2SP
//!   tlog-cosignature `cosignature/v1` lines ([`cosignature`]).
//! * [`recognition`]: 互认 against the mirror: the admission check of a recognition of a
//!   partner credential, building one from the mirror, and the withdrawals due when the
//!   origin revoked what was recognised.
//!
//! ## The key decision: verify against signed roots, entry by entry
//! A mirror may stop anywhere (a crash, `--batches`, a network failure) and must never hold
//! an entry that a verified partner checkpoint does not cover. So the mirror first holds a
//! signed checkpoint (after checking it extends the previous one), then authenticates each
//! batch's leaf hashes against that checkpoint's root through its hash tiles
//! (`skill_ledger_log::AuthenticatedTiles`), and only then folds and commits the batch with its
//! cursor. Each committed prefix is therefore covered by a held, signed checkpoint, and
//! resuming never refetches a committed entry.
//!
//! ## Example
//! ```no_run
//! use skill_ledger_sync::{Home, Mirror, NodeLog, Partners, PullOptions};
//!
//! let home = Home::load(std::path::Path::new("demo/50"))?;
//! let partners = Partners::load(&home)?;
//! let mut mirror = Mirror::open(&home, partners.select(Some("skill-ledger/51"))?)?;
//! let (sichuan, _) = skill_ledger_node::Node::open(std::path::Path::new("demo/51"))?;
//! let report = mirror.pull(&NodeLog::new(&sichuan), &PullOptions::default(), &mut |_| {})?;
//! println!("{} of {} entries", report.cursor_after, report.checkpoint.size);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Formats (mirror store, partner file, cosignatures, witness requests) are in
//! docs/formats.md, Part 6.

pub mod config;
pub mod cosignature;
pub mod error;
pub mod evidence;
mod fsutil;
pub mod http;
pub mod mirror;
pub mod recognition;
pub mod transport;
mod verify;
pub mod witness;

pub use config::{pseudonym_key_fingerprint, Home, PartnerConfig, Partners, PARTNERS_FILE_NAME};
pub use cosignature::{CosignatureVerifier, Cosigner};
pub use error::{SyncError, SyncErrorKind};
pub use evidence::{EvidenceKind, EvidenceRecord};
pub use fsutil::now_unix_s;
pub use http::{HttpLog, HttpWitness};
pub use mirror::{
    FetchCounts, ForeignCredential, Mirror, MirrorReader, MirrorStatus, PullOptions, PullProgress,
    PullReport, PullTimings,
};
pub use recognition::{
    check_against_mirror, check_partner_result, recognition_from_mirror,
    withdraw_revoked_recognitions, withdrawals_due, RecognitionCheckError, RecognitionCheckKind,
    WithdrawalError,
};
pub use transport::{NodeLog, PartnerLog, TransportError, TransportErrorKind};
pub use witness::{
    request_cosignature, AddCheckpointRequest, CosignedCheckpoint, LocalWitness, Witness,
    WitnessAnswer, WitnessTransport,
};
