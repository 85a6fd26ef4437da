//! Offline credential checks: what a verifier can establish about a credential from a few
//! proven entries of the log, without the ledger.
//!
//! The node hands over decoded events whose inclusion in a signed checkpoint it has already
//! proven (an offline bundle, see docs/formats.md). The chain of trust runs: the checkpoint
//! key → entry 0 (`LedgerEstablished`, at index 0, self-signed) → the authority key it names →
//! the body's registration and later body changes, each signed by that key → the body's
//! record as the log made it before the credential → the credential, signed by the body's
//! key valid at the issue date, within the body's scope and registration window, while the
//! body was active ([`check_certification_by_body`]).
//!
//! What cannot be known offline: a revocation (or any entry) after the checkpoint, and
//! whether an entry about the body was left out of the bundle. The credential's inclusion in
//! the log already means the ledger's own rules accepted it; these checks make the bundle
//! self-explaining and catch a bundle assembled from the wrong entries.

use crate::apply::apply;
use crate::event::{EventKind, LevelCertified, SignedEvent, Signer};
use crate::memory::MemoryLedger;
use crate::rejection::Rejection;
use crate::rules::check_certification_by_body;
use crate::state::{BodyRecord, LedgerInfo, Registry};

/// What a bundle section holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleRole {
    /// Entry 0, `LedgerEstablished`: the origin and the authority key.
    Ledger,
    /// The issuing body's `BodyRegistered`.
    Body,
    /// A later `BodyKeyRotated`, `BodySuspended`, `BodyReinstated` or `BodyCancelled` of the
    /// body, logged before the credential.
    BodyChange,
    /// The `LevelCertified` event itself.
    Credential,
}

impl BundleRole {
    /// The section label in the bundle text.
    pub fn label(self) -> &'static str {
        match self {
            BundleRole::Ledger => "ledger",
            BundleRole::Body => "body",
            BundleRole::BodyChange => "body-change",
            BundleRole::Credential => "credential",
        }
    }

    pub fn from_label(label: &str) -> Option<BundleRole> {
        [
            BundleRole::Ledger,
            BundleRole::Body,
            BundleRole::BodyChange,
            BundleRole::Credential,
        ]
        .into_iter()
        .find(|role| role.label() == label)
    }
}

/// A decoded event proven to be entry `index` of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenEvent {
    pub role: BundleRole,
    pub index: u64,
    pub signed: SignedEvent,
}

/// A credential established offline, with the ledger and the body record it was judged by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineCredential {
    pub ledger: LedgerInfo,
    /// The body as the log made it before the credential (key periods, status changes).
    pub body: BodyRecord,
    pub credential: LevelCertified,
    pub entry_index: u64,
    /// The body key that signed it.
    pub signer_key: [u8; 32],
}

/// Why a set of proven events does not establish a credential.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("section {section} ({}, entry {index}): {reason}", role.label())]
pub struct OfflineError {
    /// 1-based position among the events.
    pub section: usize,
    pub role: BundleRole,
    pub index: u64,
    /// Stable: `bundle-structure`, `bad-signature`, `origin-mismatch`, or a [`Rejection`] code.
    pub code: &'static str,
    pub reason: String,
}

/// Checks that `events` (in bundle order) establish a credential on the ledger `origin` (the
/// checkpoint's origin). See the module documentation for what is checked.
pub fn check_credential_offline(
    origin: &str,
    events: &[ProvenEvent],
) -> Result<OfflineCredential, OfflineError> {
    let fail = |section: usize, code: &'static str, reason: String| {
        let event = &events[section - 1];
        OfflineError {
            section,
            role: event.role,
            index: event.index,
            code,
            reason,
        }
    };
    let structure = |section, reason: &str| fail(section, "bundle-structure", reason.to_string());
    let rejected =
        |section, rejection: Rejection| fail(section, rejection.code(), rejection.to_string());
    if events.len() < 3 {
        return Err(OfflineError {
            section: events.len(),
            role: events.last().map_or(BundleRole::Ledger, |e| e.role),
            index: events.last().map_or(0, |e| e.index),
            code: "bundle-structure",
            reason: format!(
                "a credential bundle has at least the ledger, body and credential sections, not {}",
                events.len()
            ),
        });
    }
    let last = events.len();
    for (k, event) in events.iter().enumerate() {
        let expected = match k {
            0 => BundleRole::Ledger,
            1 => BundleRole::Body,
            _ if k + 1 == last => BundleRole::Credential,
            _ => BundleRole::BodyChange,
        };
        if event.role != expected {
            return Err(structure(
                k + 1,
                &format!(
                    "expected a `{}` section here (order: ledger, body, body-change…, credential)",
                    expected.label()
                ),
            ));
        }
        if k > 0 && event.index <= events[k - 1].index {
            return Err(structure(k + 1, "entries must be in increasing log order"));
        }
    }

    // Entry 0: the ledger and its authority key, self-signed.
    let ledger_event = &events[0];
    let EventKind::LedgerEstablished(established) = &ledger_event.signed.event.kind else {
        return Err(structure(
            1,
            "the `ledger` section must hold LedgerEstablished",
        ));
    };
    if ledger_event.index != 0 {
        return Err(structure(1, "LedgerEstablished must be entry 0"));
    }
    if established.origin != origin {
        return Err(fail(
            1,
            "origin-mismatch",
            format!(
                "the ledger establishes origin {:?}, but the checkpoint is of {origin:?}",
                established.origin
            ),
        ));
    }
    let authority_key = established.authority_key;
    let check_authority = |section: usize| -> Result<(), OfflineError> {
        let signed = &events[section - 1].signed;
        if signed.signer != Signer::Authority || signed.public_key != authority_key {
            return Err(rejected(
                section,
                Rejection::KeyNotValidAtDate {
                    signer: "the authority".to_string(),
                    date: signed.event.kind.date(),
                },
            ));
        }
        if !signed.verify_signature(origin) {
            return Err(rejected(section, Rejection::BadSignature));
        }
        Ok(())
    };
    check_authority(1)?;

    // The registry as the log made it, folded with the same `apply` the node uses.
    let records = MemoryLedger::default();
    let mut registry = Registry::default();
    let fold = |registry: &mut Registry, event: &ProvenEvent| {
        let changes = apply(registry, &records, &event.signed, event.index);
        if let Some(change) = changes.registry {
            registry.absorb(change);
        }
    };
    fold(&mut registry, ledger_event);
    let ledger = registry
        .ledger
        .clone()
        .ok_or_else(|| structure(1, "LedgerEstablished did not establish the ledger"))?;

    let EventKind::BodyRegistered(registered) = &events[1].signed.event.kind else {
        return Err(structure(2, "the `body` section must hold BodyRegistered"));
    };
    let registration_number = registered.registration_number;
    check_authority(2)?;
    if registration_number.province() != ledger.province {
        return Err(rejected(
            2,
            Rejection::ProvinceMismatch {
                registration_number,
                expected: ledger.province.to_string(),
                found: registration_number.province().to_string(),
            },
        ));
    }
    fold(&mut registry, &events[1]);

    for section in 3..last {
        let event = &events[section - 1];
        let about = match &event.signed.event.kind {
            EventKind::BodyKeyRotated(rotated) => rotated.registration_number,
            EventKind::BodySuspended(change)
            | EventKind::BodyReinstated(change)
            | EventKind::BodyCancelled(change) => change.registration_number,
            _ => {
                return Err(structure(
                    section,
                    "a `body-change` section must hold a key rotation or status change",
                ))
            }
        };
        if about != registration_number {
            return Err(structure(
                section,
                &format!("this change is about {about}, not the body {registration_number}"),
            ));
        }
        check_authority(section)?;
        fold(&mut registry, event);
    }

    let credential_event = &events[last - 1];
    let EventKind::LevelCertified(certified) = &credential_event.signed.event.kind else {
        return Err(structure(
            last,
            "the `credential` section must hold LevelCertified",
        ));
    };
    if !credential_event.signed.verify_signature(origin) {
        return Err(rejected(last, Rejection::BadSignature));
    }
    let body = registry
        .bodies
        .get(&registration_number)
        .cloned()
        .ok_or_else(|| structure(2, "BodyRegistered did not register the body"))?;
    check_certification_by_body(&body, &credential_event.signed, certified)
        .map_err(|rejection| rejected(last, rejection))?;
    Ok(OfflineCredential {
        ledger,
        body,
        credential: certified.clone(),
        entry_index: credential_event.index,
        signer_key: credential_event.signed.public_key,
    })
}
