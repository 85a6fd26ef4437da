//! The events' rules and fold steps, one module per kind (or small family of kinds), each
//! holding the kind's `check` (run by [`decide`]) next to its `apply` (run by [`apply`]):
//!
//! * `authority.rs`: `LedgerEstablished`, `AuthorityKeyRotated`, `AuthorityRecoveryKeySet`,
//!   `VcIssuerKeySet`.
//! * `adoption.rs`: `CatalogueAdopted`, `PolicyAdopted`.
//! * `bodies.rs`: `BodyRegistered`, `BodyKeyRotated`, `BodyKeyRevoked`, `BodySuspended`,
//!   `BodyReinstated`, `BodyCancelled`.
//! * `certification.rs`: `LevelCertified` (skill levels and qualifications); `basis.rs`: the
//!   rules of its routes (prior level, apprenticeship, attestation, direct recognition,
//!   contest, conversion, foreign comparison).
//! * `special_ability.rs`: `SpecialAbilityCertified`. `revocation.rs`: `CredentialRevoked`.
//! * `contests.rs`: `ContestRegistered`, `ContestResultRecorded`, `ContestJoined`,
//!   `PartnerContestResultAccepted`.
//! * `apprenticeship.rs`: `ApprenticeshipStarted`, `ApprenticeshipCompleted`.
//! * `appointment.rs`: `AppointmentRightGranted`, `AppointmentMade`, `AppointmentEnded`.
//! * `titles.rs`: `TitleRecorded`, `TitleEligibilityGranted`.
//! * `recognition.rs`: `RecognitionRecorded`, `RecognitionWithdrawn`.
//!
//! `decide` and `apply` here are dispatch tables: one arm per [`EventKind`], one call each.
//! The kinds share the guards of `guards.rs` (signers, limits, lookups), produce the
//! [`Changes`] of `changes.rs` and fold careers with `careers.rs`; none of those imports an
//! event module back.
//!
//! `decide` is pure: it reads only the registry, the records and the event (with its own
//! dates). The signature itself is checked by the caller (the node verifies in batches);
//! `decide` checks that the key that signed is the one the log says was valid for that
//! signer at that date.

mod adoption;
mod appointment;
mod apprenticeship;
mod authority;
mod basis;
mod bodies;
mod certification;
mod contests;
mod recognition;
mod revocation;
mod special_ability;
mod titles;

pub use certification::check_certification_by_body;

use crate::changes::Changes;
use crate::event::{EventKind, LevelCertified, Route, SignedEvent};
use crate::rejection::Rejection;
use crate::state::{BodyStatus, RecordView, Registry};

/// Decides whether `signed` may be appended after the state in `registry` and `records`.
pub fn decide(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
) -> Result<(), Rejection> {
    if let Some(first_index) = records.event_index(&signed.event.id) {
        return Err(reused_event_id(signed, first_index));
    }
    let kind = &signed.event.kind;
    if registry.ledger.is_none() && !matches!(kind, EventKind::LedgerEstablished(_)) {
        return Err(Rejection::LedgerNotEstablished);
    }
    match kind {
        EventKind::LedgerEstablished(established) => {
            authority::check_established(registry, signed, established)
        }
        EventKind::AuthorityRecoveryKeySet(set) => {
            authority::check_recovery_key_set(registry, signed, set)
        }
        EventKind::AuthorityKeyRotated(rotated) => {
            authority::check_key_rotated(registry, signed, rotated)
        }
        EventKind::VcIssuerKeySet(set) => authority::check_vc_issuer_key_set(registry, signed, set),
        EventKind::CatalogueAdopted(adopted) => {
            adoption::check_catalogue(registry, signed, adopted)
        }
        EventKind::PolicyAdopted(adopted) => adoption::check_policy(registry, signed, adopted),
        EventKind::BodyRegistered(registered) => {
            bodies::check_registered(registry, signed, registered)
        }
        EventKind::BodyKeyRotated(rotated) => bodies::check_key_rotated(registry, signed, rotated),
        EventKind::BodyKeyRevoked(revoked) => bodies::check_key_revoked(registry, signed, revoked),
        EventKind::BodySuspended(change) => {
            bodies::check_status_change(registry, signed, change, BodyStatus::Suspended)
        }
        EventKind::BodyReinstated(change) => {
            bodies::check_status_change(registry, signed, change, BodyStatus::Active)
        }
        EventKind::BodyCancelled(change) => {
            bodies::check_status_change(registry, signed, change, BodyStatus::Cancelled)
        }
        EventKind::LevelCertified(certified) => {
            certification::check(registry, records, signed, certified)
        }
        EventKind::SpecialAbilityCertified(certified) => {
            special_ability::check(registry, records, signed, certified)
        }
        EventKind::CredentialRevoked(revoked) => {
            revocation::check(registry, records, signed, revoked)
        }
        EventKind::ContestRegistered(registered) => {
            contests::check_registered(registry, signed, registered)
        }
        EventKind::ContestResultRecorded(result) => {
            contests::check_result(registry, records, signed, result)
        }
        EventKind::ContestJoined(joined) => contests::check_joined(registry, signed, joined),
        EventKind::PartnerContestResultAccepted(accepted) => {
            contests::check_accepted(registry, records, signed, accepted)
        }
        EventKind::ApprenticeshipStarted(started) => {
            apprenticeship::check_started(registry, records, signed, started)
        }
        EventKind::ApprenticeshipCompleted(completed) => {
            apprenticeship::check_completed(registry, records, signed, completed)
        }
        EventKind::AppointmentRightGranted(granted) => {
            appointment::check_right_granted(registry, signed, granted)
        }
        EventKind::AppointmentMade(made) => {
            appointment::check_made(registry, records, signed, made)
        }
        EventKind::AppointmentEnded(ended) => {
            appointment::check_ended(registry, records, signed, ended)
        }
        EventKind::TitleRecorded(recorded) => {
            titles::check_recorded(registry, records, signed, recorded)
        }
        EventKind::TitleEligibilityGranted(granted) => {
            titles::check_eligibility(registry, records, signed, granted)
        }
        EventKind::RecognitionRecorded(recognised) => {
            recognition::check_recorded(registry, records, signed, recognised)
        }
        EventKind::RecognitionWithdrawn(withdrawn) => {
            recognition::check_withdrawn(registry, records, signed, withdrawn)
        }
    }
}

/// The rejection for an event whose id the log already holds (with other content): a
/// foreign comparison's id is its document's, so for it the reuse means the document was
/// compared before.
pub fn reused_event_id(signed: &SignedEvent, first_index: u64) -> Rejection {
    if let EventKind::LevelCertified(LevelCertified {
        route: Route::ForeignComparison(basis),
        ..
    }) = &signed.event.kind
    {
        return Rejection::ForeignDocumentUsed {
            certificate_type: basis.certificate_type.clone(),
            document_id: basis.document_id.clone(),
            first_index,
        };
    }
    Rejection::DuplicateEventId {
        event_id: signed.event.id,
        first_index,
    }
}

/// What `signed` (accepted by `decide`, at log `index`) changes.
///
/// # Panics
/// When the event could not have passed `decide` (e.g. a policy that does not parse): the
/// log holds only decided events, so this is an invariant, not an input error.
pub fn apply(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    index: u64,
) -> Changes {
    let mut changes = Changes {
        event_id: signed.event.id,
        index,
        registry: None,
        credential: None,
        special_ability: None,
        person: None,
        career: None,
        stats: Vec::with_capacity(10),
    };
    let changes_mut = &mut changes;
    match &signed.event.kind {
        EventKind::LedgerEstablished(established) => {
            authority::apply_established(established, changes_mut)
        }
        EventKind::AuthorityRecoveryKeySet(set) => {
            authority::apply_recovery_key_set(registry, set, changes_mut)
        }
        EventKind::AuthorityKeyRotated(rotated) => {
            authority::apply_key_rotated(registry, rotated, changes_mut)
        }
        EventKind::VcIssuerKeySet(set) => {
            authority::apply_vc_issuer_key_set(registry, set, changes_mut)
        }
        EventKind::CatalogueAdopted(adopted) => adoption::apply_catalogue(adopted, changes_mut),
        EventKind::PolicyAdopted(adopted) => adoption::apply_policy(adopted, changes_mut),
        EventKind::BodyRegistered(registered) => bodies::apply_registered(registered, changes_mut),
        EventKind::BodyKeyRotated(rotated) => {
            bodies::apply_key_rotated(registry, rotated, changes_mut)
        }
        EventKind::BodyKeyRevoked(revoked) => {
            bodies::apply_key_revoked(registry, revoked, changes_mut)
        }
        EventKind::BodySuspended(change) => {
            bodies::apply_status_change(registry, change, BodyStatus::Suspended, changes_mut)
        }
        EventKind::BodyReinstated(change) => {
            bodies::apply_status_change(registry, change, BodyStatus::Active, changes_mut)
        }
        EventKind::BodyCancelled(change) => {
            bodies::apply_status_change(registry, change, BodyStatus::Cancelled, changes_mut)
        }
        EventKind::LevelCertified(certified) => {
            certification::apply(records, certified, changes_mut)
        }
        EventKind::SpecialAbilityCertified(certified) => {
            special_ability::apply(records, certified, changes_mut)
        }
        EventKind::CredentialRevoked(revoked) => {
            revocation::apply(records, signed, revoked, changes_mut)
        }
        EventKind::ContestRegistered(registered) => {
            contests::apply_registered(registered, changes_mut)
        }
        EventKind::ContestResultRecorded(result) => {
            contests::apply_result(registry, records, result, changes_mut)
        }
        EventKind::ContestJoined(joined) => contests::apply_joined(registry, joined, changes_mut),
        EventKind::PartnerContestResultAccepted(accepted) => {
            contests::apply_accepted(registry, records, accepted, changes_mut)
        }
        EventKind::ApprenticeshipStarted(started) => {
            apprenticeship::apply_started(records, signed, started, changes_mut)
        }
        EventKind::ApprenticeshipCompleted(completed) => {
            apprenticeship::apply_completed(records, completed, changes_mut)
        }
        EventKind::AppointmentRightGranted(granted) => {
            appointment::apply_right_granted(registry, granted, changes_mut)
        }
        EventKind::AppointmentMade(made) => {
            appointment::apply_made(registry, records, signed, made, changes_mut)
        }
        EventKind::AppointmentEnded(ended) => appointment::apply_ended(records, ended, changes_mut),
        EventKind::TitleRecorded(recorded) => {
            titles::apply_recorded(records, recorded, changes_mut)
        }
        EventKind::TitleEligibilityGranted(granted) => {
            titles::apply_eligibility(records, granted, changes_mut)
        }
        EventKind::RecognitionRecorded(recognised) => {
            recognition::apply_recorded(records, recognised, changes_mut)
        }
        EventKind::RecognitionWithdrawn(withdrawn) => {
            recognition::apply_withdrawn(records, withdrawn, changes_mut)
        }
    }
    changes
}
