//! The authority's own events: `LedgerEstablished` (entry 0), `AuthorityKeyRotated`,
//! `AuthorityRecoveryKeySet` and `VcIssuerKeySet`: who signs for the ledger, and with which
//! keys. A key for the authority's side is strong and used once.

use crate::changes::{Changes, RegistryChange};
use crate::date::Date;
use crate::event::{
    AuthorityKeyRotated, AuthorityRecoveryKeySet, LedgerEstablished, SignedEvent, Signer,
    VcIssuerKeySet,
};
use crate::guards::{
    authority_signed, check_key_not_weak, check_text, established, require_authority,
    CONTROLLER_ID_CHARS_MAX, NAME_CHARS_MAX, TEXT_CHARS_MAX,
};
use crate::rejection::Rejection;
use crate::state::{KeyPeriod, LedgerInfo, Registry, VcIssuerKey};

/// Entry 0, self-signed by the authority key it names; there is only one.
pub(super) fn check_established(
    registry: &Registry,
    signed: &SignedEvent,
    established: &LedgerEstablished,
) -> Result<(), Rejection> {
    if registry.ledger.is_some() {
        return Err(Rejection::LedgerAlreadyEstablished);
    }
    require_authority(signed, "ledger_established")?;
    if signed.public_key != established.authority_key {
        return Err(Rejection::KeyNotValidAtDate {
            signer: "the authority".to_string(),
            date: established.date,
        });
    }
    check_key_not_weak(&established.authority_key)?;
    check_text(
        "authority_name",
        &established.authority_name,
        NAME_CHARS_MAX,
    )?;
    check_text("origin", &established.origin, NAME_CHARS_MAX)
}

/// The first recovery key is signed by the authority key; a later one by the recovery key
/// in force.
pub(super) fn check_recovery_key_set(
    registry: &Registry,
    signed: &SignedEvent,
    set: &AuthorityRecoveryKeySet,
) -> Result<(), Rejection> {
    let ledger = established(registry)?;
    match ledger.recovery_key {
        None => authority_signed(registry, signed, "authority_recovery_key_set", set.date)?,
        Some(recovery) => {
            recovery_signed(signed, recovery, "authority_recovery_key_set", set.date)?
        }
    }
    check_key_not_weak(&set.public_key)?;
    check_new_authority_side_key(ledger, &set.public_key)
}

/// Signed by the authority key in force, or by the recovery key when that key is lost.
pub(super) fn check_key_rotated(
    registry: &Registry,
    signed: &SignedEvent,
    rotated: &AuthorityKeyRotated,
) -> Result<(), Rejection> {
    let ledger = established(registry)?;
    match signed.signer {
        Signer::Recovery => {
            let recovery = ledger.recovery_key.ok_or(Rejection::NoRecoveryKey)?;
            recovery_signed(signed, recovery, "authority_key_rotated", rotated.date)?;
        }
        _ => authority_signed(registry, signed, "authority_key_rotated", rotated.date)?,
    }
    check_key_not_weak(&rotated.public_key)?;
    check_text("reason", &rotated.reason, TEXT_CHARS_MAX)?;
    check_new_authority_side_key(ledger, &rotated.public_key)?;
    let last = ledger
        .authority_keys
        .last()
        .map_or(ledger.established, |period| {
            period.from.max(ledger.established)
        });
    if rotated.date < last {
        return Err(Rejection::DateBeforeLastChange {
            what: "authority key rotation",
            date: rotated.date,
            last,
        });
    }
    Ok(())
}

/// A VC issuer key: a strong key of its own (never an authority or recovery key, which sign
/// the log), and a controller id that is an absolute http(s) URL without a fragment, query or
/// whitespace (the key ids are the id with `#` and the key appended).
pub(super) fn check_vc_issuer_key_set(
    registry: &Registry,
    signed: &SignedEvent,
    set: &VcIssuerKeySet,
) -> Result<(), Rejection> {
    let ledger = established(registry)?;
    authority_signed(registry, signed, "vc_issuer_key_set", set.date)?;
    check_key_not_weak(&set.public_key)?;
    check_new_authority_side_key(ledger, &set.public_key)?;
    check_text("controller", &set.controller, CONTROLLER_ID_CHARS_MAX)?;
    let malformed = |reason: &str| Rejection::Malformed {
        field: "controller",
        reason: reason.to_owned(),
    };
    let rest = set
        .controller
        .strip_prefix("https://")
        .or_else(|| set.controller.strip_prefix("http://"))
        .ok_or_else(|| malformed("must be an http:// or https:// URL"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(malformed("has no host"));
    }
    if set
        .controller
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '#' | '?' | '"' | '<' | '>'))
    {
        return Err(malformed(
            "must not hold whitespace, control characters, '#', '?', '\"', '<' or '>'",
        ));
    }
    Ok(())
}

/// Signed with the recovery key in force, as `Signer::Recovery`.
fn recovery_signed(
    signed: &SignedEvent,
    recovery_key: [u8; 32],
    event: &'static str,
    date: Date,
) -> Result<(), Rejection> {
    if signed.signer != Signer::Recovery {
        return Err(Rejection::WrongSigner {
            event,
            expected: "the authority's recovery key",
            found: signed.signer,
        });
    }
    if signed.public_key != recovery_key {
        return Err(Rejection::KeyNotValidAtDate {
            signer: "the authority's recovery key".to_string(),
            date,
        });
    }
    Ok(())
}

/// A key for the authority's side (a new authority key or recovery key) is used once: never
/// an authority key the ledger had, nor the recovery key in force.
fn check_new_authority_side_key(ledger: &LedgerInfo, key: &[u8; 32]) -> Result<(), Rejection> {
    if ledger
        .authority_keys
        .iter()
        .any(|period| period.public_key == *key)
    {
        return Err(Rejection::KeyReused {
            used_as: "an authority key of this ledger",
        });
    }
    if ledger.recovery_key == Some(*key) {
        return Err(Rejection::KeyReused {
            used_as: "the recovery key of this ledger",
        });
    }
    Ok(())
}

pub(super) fn apply_established(established: &LedgerEstablished, changes: &mut Changes) {
    changes.registry = Some(RegistryChange::Ledger(LedgerInfo {
        origin: established.origin.clone(),
        province: established.province,
        authority_name: established.authority_name.clone(),
        authority_keys: vec![KeyPeriod {
            // The authority existed before its ledger: its key signs records dated
            // earlier too (e.g. a body registered before the ledger started).
            from: Date::from_ymd(1900, 1, 1).unwrap_or(established.date),
            public_key: established.authority_key,
        }],
        established: established.date,
        recovery_key: None,
        authority_changes: Vec::new(),
        vc_issuer_keys: Vec::new(),
    }));
}

pub(super) fn apply_recovery_key_set(
    registry: &Registry,
    set: &AuthorityRecoveryKeySet,
    changes: &mut Changes,
) {
    let index = changes.index;
    changes.registry = registry.ledger.as_ref().map(|ledger| {
        let mut ledger = ledger.clone();
        ledger.recovery_key = Some(set.public_key);
        ledger.authority_changes.push(index);
        RegistryChange::Ledger(ledger)
    });
}

pub(super) fn apply_key_rotated(
    registry: &Registry,
    rotated: &AuthorityKeyRotated,
    changes: &mut Changes,
) {
    let index = changes.index;
    changes.registry = registry.ledger.as_ref().map(|ledger| {
        let mut ledger = ledger.clone();
        ledger.authority_keys.push(KeyPeriod {
            from: rotated.date,
            public_key: rotated.public_key,
        });
        ledger.authority_changes.push(index);
        RegistryChange::Ledger(ledger)
    });
}

pub(super) fn apply_vc_issuer_key_set(
    registry: &Registry,
    set: &VcIssuerKeySet,
    changes: &mut Changes,
) {
    let index = changes.index;
    changes.registry = registry.ledger.as_ref().map(|ledger| {
        let mut ledger = ledger.clone();
        ledger.vc_issuer_keys.push(VcIssuerKey {
            controller: set.controller.clone(),
            public_key: set.public_key,
            date: set.date,
            entry_index: index,
        });
        RegistryChange::Ledger(ledger)
    });
}
