//! The guards every kind of event shares: who may sign (the authority's key in force, a
//! body's key valid at the event's date and not declared compromised), the limits of names,
//! texts, scopes and documents, the records an event must name (an existing body, a known
//! occupation, the policy in force at its date, the subject's career record) and the form of
//! a certificate number.

use ed25519_dalek::VerifyingKey;

use crate::date::Date;
use crate::event::{SignedEvent, Signer};
use crate::ids::{CertificateNumber, RegistrationNumber};
use crate::occupation::OccupationCode;
use crate::policy::Policy;
use crate::rejection::Rejection;
use crate::state::{
    key_at, BodyRecord, BodyStatus, CareerRecord, LedgerInfo, RecordView, Registry,
};
use crate::subject::SubjectId;

/// Longest names (characters).
pub const NAME_CHARS_MAX: usize = 200;

/// Longest free texts: reasons, justifications, statements (characters).
pub const TEXT_CHARS_MAX: usize = 2_000;

/// Most occupations in one body's scope.
pub const SCOPE_ITEMS_MAX: usize = 2_000;

/// Longest policy or catalogue document (bytes).
pub const DOCUMENT_BYTES_MAX: usize = 60_000;

/// The longest controller document id (in characters) a `VcIssuerKeySet` may name.
pub const CONTROLLER_ID_CHARS_MAX: usize = 200;

/// Signed as the authority (which key is the caller's question).
pub(crate) fn require_authority(
    signed: &SignedEvent,
    event: &'static str,
) -> Result<(), Rejection> {
    match signed.signer {
        Signer::Authority => Ok(()),
        found => Err(Rejection::WrongSigner {
            event,
            expected: "the authority",
            found,
        }),
    }
}

/// The authority's events are judged by log position, not by the date they carry: only the
/// key in force (the last `LedgerEstablished` / `AuthorityKeyRotated` logged) signs them, so
/// a retired or stolen authority key signs nothing once its successor is logged, however the
/// event is dated (the authority records history, so its dates are not bounded).
pub(crate) fn authority_signed(
    registry: &Registry,
    signed: &SignedEvent,
    event: &'static str,
    date: Date,
) -> Result<(), Rejection> {
    require_authority(signed, event)?;
    let keys = registry
        .ledger
        .as_ref()
        .map(|ledger| ledger.authority_keys.as_slice())
        .unwrap_or_default();
    let in_force = keys.last().map(|period| period.public_key);
    if key_at(keys, date).is_none() || in_force != Some(signed.public_key) {
        return Err(Rejection::KeyNotValidAtDate {
            signer: "the authority".to_string(),
            date,
        });
    }
    Ok(())
}

/// The body's record, checked to be the signer and to hold the signing key at `date`.
pub(crate) fn body_signed<'a>(
    registry: &'a Registry,
    signed: &SignedEvent,
    event: &'static str,
    date: Date,
) -> Result<&'a BodyRecord, Rejection> {
    let Signer::Body(registration_number) = signed.signer else {
        return Err(Rejection::WrongSigner {
            event,
            expected: "an evaluation body",
            found: signed.signer,
        });
    };
    let body = registry
        .bodies
        .get(&registration_number)
        .ok_or(Rejection::UnknownBody {
            registration_number,
        })?;
    if body.key_at(date) != Some(signed.public_key) {
        return Err(Rejection::KeyNotValidAtDate {
            signer: format!("body {registration_number}"),
            date,
        });
    }
    check_key_not_revoked(body, signed)?;
    Ok(body)
}

/// A key the authority declared compromised signs nothing after, whatever date the event
/// carries: judged at log position, as the registry holds the revocations logged before.
pub(crate) fn check_key_not_revoked(
    body: &BodyRecord,
    signed: &SignedEvent,
) -> Result<(), Rejection> {
    match body.revocation_of(&signed.public_key) {
        Some(revoked) => Err(Rejection::KeyRevoked {
            signer: format!("body {}", body.registration_number),
            revoked_by: revoked.entry_index,
        }),
        None => Ok(()),
    }
}

/// A new key decodes and is not of small order.
pub(crate) fn check_key_not_weak(key: &[u8; 32]) -> Result<(), Rejection> {
    match VerifyingKey::from_bytes(key) {
        Ok(key) if !key.is_weak() => Ok(()),
        _ => Err(Rejection::WeakKey),
    }
}

/// A text that is not blank and at most `length_max` characters.
pub(crate) fn check_text(
    field: &'static str,
    text: &str,
    length_max: usize,
) -> Result<(), Rejection> {
    if text.trim().is_empty() {
        return Err(Rejection::EmptyField { field });
    }
    let length = text.chars().count();
    if length > length_max {
        return Err(Rejection::FieldTooLong {
            field,
            length,
            length_max,
        });
    }
    Ok(())
}

/// The record of a body the log registered.
pub(crate) fn existing_body(
    registry: &Registry,
    registration_number: RegistrationNumber,
) -> Result<&BodyRecord, Rejection> {
    registry
        .bodies
        .get(&registration_number)
        .ok_or(Rejection::UnknownBody {
            registration_number,
        })
}

/// A body may issue at `date` only while active and inside its registration window.
pub(crate) fn check_body_may_issue(body: &BodyRecord, date: Date) -> Result<(), Rejection> {
    let status = body.status_at(date);
    if status != BodyStatus::Active {
        return Err(Rejection::BodyNotActive {
            registration_number: body.registration_number,
            status,
            date,
        });
    }
    if date < body.valid_from || date > body.valid_until {
        return Err(Rejection::OutsideRegistrationWindow {
            registration_number: body.registration_number,
            date,
            valid_from: body.valid_from,
            valid_until: body.valid_until,
        });
    }
    Ok(())
}

/// A decoded certificate number is read (province, year, level) only once it is well formed.
pub(crate) fn check_well_formed(number: &CertificateNumber) -> Result<(), Rejection> {
    if number.is_well_formed() {
        return Ok(());
    }
    Err(Rejection::BadCertificateNumber {
        certificate_number: String::from_utf8_lossy(number.as_bytes()).into_owned(),
        reason: "not 22 characters: a letter, digits and the series (level digit, Q or Z)"
            .to_string(),
    })
}

/// The policy in force at `date`.
pub(crate) fn policy_at(registry: &Registry, date: Date) -> Result<&Policy, Rejection> {
    registry
        .policy_at(date)
        .map(|policy| policy.as_ref())
        .ok_or(Rejection::NoPolicyInForce { date })
}

/// The subject's career record, or `None` when the view keeps none (rules that need it are
/// then skipped).
pub(crate) fn career_of(records: &impl RecordView, subject: &SubjectId) -> Option<CareerRecord> {
    records
        .keeps_careers()
        .then(|| records.career(subject).unwrap_or_default())
}

/// A well-formed occupation code of the catalogue in force.
pub(crate) fn check_occupation_known(
    registry: &Registry,
    occupation: OccupationCode,
) -> Result<(), Rejection> {
    let catalogue = registry.catalogue.as_ref().ok_or(Rejection::NoCatalogue)?;
    if !occupation.is_well_formed() {
        return Err(Rejection::Malformed {
            field: "occupation",
            reason: "not an occupation code".to_string(),
        });
    }
    if catalogue.get(occupation).is_none() {
        return Err(Rejection::UnknownOccupation { occupation });
    }
    Ok(())
}

/// The ledger's own record: every event but `LedgerEstablished` comes after it.
pub(crate) fn established(registry: &Registry) -> Result<&LedgerInfo, Rejection> {
    registry
        .ledger
        .as_ref()
        .ok_or(Rejection::LedgerNotEstablished)
}
