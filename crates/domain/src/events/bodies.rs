//! The evaluation bodies the authority registers and supervises: `BodyRegistered`,
//! `BodyKeyRotated`, `BodyKeyRevoked` and the status changes (`BodySuspended`,
//! `BodyReinstated`, `BodyCancelled`, one [`BodyStatusChange`] each).

use std::collections::BTreeSet;

use crate::changes::{Changes, RegistryChange};
use crate::event::{BodyKeyRevoked, BodyKeyRotated, BodyRegistered, BodyStatusChange, SignedEvent};
use crate::guards::{
    authority_signed, check_key_not_weak, check_text, established, existing_body, NAME_CHARS_MAX,
    SCOPE_ITEMS_MAX, TEXT_CHARS_MAX,
};
use crate::ids::RegistrationNumber;
use crate::rejection::Rejection;
use crate::state::{BodyRecord, BodyStatus, KeyPeriod, Registry, RevokedKey, StatusChange};

pub(super) fn check_registered(
    registry: &Registry,
    signed: &SignedEvent,
    registered: &BodyRegistered,
) -> Result<(), Rejection> {
    let province = established(registry)?.province;
    authority_signed(registry, signed, "body_registered", registered.date)?;
    let registration_number = registered.registration_number;
    if !registration_number.is_well_formed() {
        return Err(Rejection::Malformed {
            field: "registration_number",
            reason: "not a 13-character registration number".to_string(),
        });
    }
    if registry.bodies.contains_key(&registration_number) {
        return Err(Rejection::DuplicateBody {
            registration_number,
        });
    }
    if registration_number.province() != province {
        return Err(Rejection::ProvinceMismatch {
            registration_number,
            expected: province.to_string(),
            found: registration_number.province().to_string(),
        });
    }
    check_text("name", &registered.name, NAME_CHARS_MAX)?;
    check_key_not_weak(&registered.public_key)?;
    if registered.valid_from >= registered.valid_until {
        return Err(Rejection::InvalidValidityWindow {
            valid_from: registered.valid_from,
            valid_until: registered.valid_until,
        });
    }
    if registered.scope.is_empty() {
        return Err(Rejection::EmptyField { field: "scope" });
    }
    if registered.scope.len() > SCOPE_ITEMS_MAX {
        return Err(Rejection::FieldTooLong {
            field: "scope",
            length: registered.scope.len(),
            length_max: SCOPE_ITEMS_MAX,
        });
    }
    let catalogue = registry.catalogue.as_ref().ok_or(Rejection::NoCatalogue)?;
    let mut seen = BTreeSet::new();
    for item in &registered.scope {
        if !seen.insert(item.occupation) {
            return Err(Rejection::DuplicateScopeOccupation {
                occupation: item.occupation,
            });
        }
        if catalogue.get(item.occupation).is_none() {
            return Err(Rejection::UnknownOccupation {
                occupation: item.occupation,
            });
        }
    }
    Ok(())
}

pub(super) fn check_key_rotated(
    registry: &Registry,
    signed: &SignedEvent,
    rotated: &BodyKeyRotated,
) -> Result<(), Rejection> {
    authority_signed(registry, signed, "body_key_rotated", rotated.effective)?;
    let body = existing_body(registry, rotated.registration_number)?;
    check_key_not_weak(&rotated.public_key)?;
    check_text("reason", &rotated.reason, TEXT_CHARS_MAX)?;
    if let Some(last) = body.keys.last() {
        if rotated.effective <= last.from {
            return Err(Rejection::DateBeforeLastChange {
                what: "key rotation",
                date: rotated.effective,
                last: last.from,
            });
        }
    }
    Ok(())
}

pub(super) fn check_key_revoked(
    registry: &Registry,
    signed: &SignedEvent,
    revoked: &BodyKeyRevoked,
) -> Result<(), Rejection> {
    authority_signed(registry, signed, "body_key_revoked", revoked.date)?;
    let body = existing_body(registry, revoked.registration_number)?;
    check_text("reason", &revoked.reason, TEXT_CHARS_MAX)?;
    if !body
        .keys
        .iter()
        .any(|period| period.public_key == revoked.public_key)
    {
        return Err(Rejection::NotABodyKey {
            registration_number: revoked.registration_number,
        });
    }
    if let Some(earlier) = body.revocation_of(&revoked.public_key) {
        return Err(Rejection::KeyAlreadyRevoked {
            revoked_by: earlier.entry_index,
        });
    }
    if revoked.date < body.registered {
        return Err(Rejection::DateBeforeLastChange {
            what: "key revocation",
            date: revoked.date,
            last: body.registered,
        });
    }
    Ok(())
}

/// A change of the body's status to `to`, in order of date, along the allowed transitions.
pub(super) fn check_status_change(
    registry: &Registry,
    signed: &SignedEvent,
    change: &BodyStatusChange,
    to: BodyStatus,
) -> Result<(), Rejection> {
    authority_signed(registry, signed, signed.event.kind.name(), change.effective)?;
    let body = existing_body(registry, change.registration_number)?;
    check_text("reason", &change.reason, TEXT_CHARS_MAX)?;
    if change.effective < body.registered {
        return Err(Rejection::DateBeforeLastChange {
            what: "status change",
            date: change.effective,
            last: body.registered,
        });
    }
    if let Some(last) = body.status_changes.last() {
        if change.effective < last.effective {
            return Err(Rejection::DateBeforeLastChange {
                what: "status change",
                date: change.effective,
                last: last.effective,
            });
        }
    }
    let from = body.status_now();
    let allowed = match to {
        BodyStatus::Suspended => from == BodyStatus::Active,
        BodyStatus::Active => from == BodyStatus::Suspended,
        BodyStatus::Cancelled => from != BodyStatus::Cancelled,
    };
    if !allowed {
        return Err(Rejection::StatusChangeNotAllowed {
            registration_number: change.registration_number,
            from,
            to,
        });
    }
    Ok(())
}

pub(super) fn apply_registered(registered: &BodyRegistered, changes: &mut Changes) {
    changes.registry = Some(RegistryChange::Body(Box::new(BodyRecord {
        registration_number: registered.registration_number,
        name: registered.name.clone(),
        keys: vec![KeyPeriod {
            from: registered.valid_from.min(registered.date),
            public_key: registered.public_key,
        }],
        valid_from: registered.valid_from,
        valid_until: registered.valid_until,
        audience: registered.audience,
        scope: registered.scope.clone(),
        direct_recognition: registered.direct_recognition,
        registered: registered.date,
        status_changes: Vec::new(),
        entry_index: changes.index,
        revoked_keys: Vec::new(),
    })));
}

pub(super) fn apply_key_rotated(
    registry: &Registry,
    rotated: &BodyKeyRotated,
    changes: &mut Changes,
) {
    changes.registry = body_change(
        registry,
        rotated.registration_number,
        changes.index,
        |body| {
            body.keys.push(KeyPeriod {
                from: rotated.effective,
                public_key: rotated.public_key,
            })
        },
    );
}

pub(super) fn apply_key_revoked(
    registry: &Registry,
    revoked: &BodyKeyRevoked,
    changes: &mut Changes,
) {
    let index = changes.index;
    changes.registry = body_change(registry, revoked.registration_number, index, |body| {
        body.revoked_keys.push(RevokedKey {
            public_key: revoked.public_key,
            date: revoked.date,
            entry_index: index,
        })
    });
}

pub(super) fn apply_status_change(
    registry: &Registry,
    change: &BodyStatusChange,
    status: BodyStatus,
    changes: &mut Changes,
) {
    let index = changes.index;
    changes.registry = body_change(registry, change.registration_number, index, |body| {
        body.status_changes.push(StatusChange {
            effective: change.effective,
            status,
            reason: change.reason.clone(),
            entry_index: index,
        })
    });
}

/// The body's record after `update`.
///
/// # Panics
/// When the body is not registered: `decide` found it.
fn body_change(
    registry: &Registry,
    registration_number: RegistrationNumber,
    index: u64,
    update: impl FnOnce(&mut BodyRecord),
) -> Option<RegistryChange> {
    let mut body = registry
        .bodies
        .get(&registration_number)
        .cloned()
        .unwrap_or_else(|| panic!("entry {index}: body {registration_number} must exist"));
    update(&mut body);
    Some(RegistryChange::Body(Box::new(body)))
}
