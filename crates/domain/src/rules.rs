//! `decide`: whether an event may join the log, given the log before it.
//!
//! Pure: reads only the registry, the records and the event (with its own dates). The
//! signature itself is checked by the caller (the node verifies in batches); `decide` checks
//! that the key that signed is the one the log says was valid for that signer at that date.

use crate::catalogue_policy_checks::{check_catalogue, check_policy};
use crate::date::Date;
use crate::event::{
    AuthorityKeyRotated, BodyKeyRevoked, BodyKeyRotated, BodyRegistered, BodyStatusChange,
    CredentialRevoked, EvaluationBasis, EventKind, LevelCertified, Route, SignedEvent, Signer,
    VcIssuerKeySet,
};
use crate::guards::{
    authority_signed, body_signed, check_body_may_issue, check_key_not_revoked, check_key_not_weak,
    check_text, check_well_formed, existing_body, require_authority, CONTROLLER_ID_CHARS_MAX,
    NAME_CHARS_MAX, SCOPE_ITEMS_MAX, TEXT_CHARS_MAX,
};
use crate::ids::BodyKind;
use crate::rejection::Rejection;
use crate::routes;
use crate::state::{BodyRecord, BodyStatus, LedgerInfo, RecordView, Registry};

/// Decides whether `signed` may be appended after the state in `registry` and `records`.
pub fn decide(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
) -> Result<(), Rejection> {
    let event = &signed.event;
    if let Some(first_index) = records.event_index(&event.id) {
        return Err(crate::kinds::reused_event_id(signed, first_index));
    }
    let Some(ledger) = &registry.ledger else {
        return match &event.kind {
            EventKind::LedgerEstablished(established) => {
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
            _ => Err(Rejection::LedgerNotEstablished),
        };
    };
    let date = event.kind.date();
    match &event.kind {
        EventKind::LedgerEstablished(_) => Err(Rejection::LedgerAlreadyEstablished),
        EventKind::CatalogueAdopted(adopted) => {
            authority_signed(registry, signed, "catalogue_adopted", date)?;
            check_catalogue(registry, adopted)
        }
        EventKind::PolicyAdopted(adopted) => {
            authority_signed(registry, signed, "policy_adopted", date)?;
            check_policy(registry, adopted)
        }
        EventKind::BodyRegistered(registered) => {
            authority_signed(registry, signed, "body_registered", date)?;
            check_registration(registry, ledger.province, registered)
        }
        EventKind::BodyKeyRotated(rotated) => {
            authority_signed(registry, signed, "body_key_rotated", date)?;
            check_key_rotation(registry, rotated)
        }
        EventKind::BodyKeyRevoked(revoked) => {
            authority_signed(registry, signed, "body_key_revoked", date)?;
            check_key_revocation(registry, revoked)
        }
        EventKind::AuthorityRecoveryKeySet(set) => {
            match ledger.recovery_key {
                None => authority_signed(registry, signed, "authority_recovery_key_set", date)?,
                Some(recovery) => {
                    recovery_signed(signed, recovery, "authority_recovery_key_set", date)?
                }
            }
            check_key_not_weak(&set.public_key)?;
            check_new_authority_side_key(ledger, &set.public_key)
        }
        EventKind::AuthorityKeyRotated(rotated) => {
            match signed.signer {
                Signer::Recovery => {
                    let recovery = ledger.recovery_key.ok_or(Rejection::NoRecoveryKey)?;
                    recovery_signed(signed, recovery, "authority_key_rotated", date)?;
                }
                _ => authority_signed(registry, signed, "authority_key_rotated", date)?,
            }
            check_authority_rotation(ledger, rotated)
        }
        EventKind::VcIssuerKeySet(set) => {
            authority_signed(registry, signed, "vc_issuer_key_set", date)?;
            check_vc_issuer_key(ledger, set)
        }
        EventKind::BodySuspended(change) => {
            authority_signed(registry, signed, "body_suspended", date)?;
            check_status_change(registry, change, BodyStatus::Suspended)
        }
        EventKind::BodyReinstated(change) => {
            authority_signed(registry, signed, "body_reinstated", date)?;
            check_status_change(registry, change, BodyStatus::Active)
        }
        EventKind::BodyCancelled(change) => {
            authority_signed(registry, signed, "body_cancelled", date)?;
            check_status_change(registry, change, BodyStatus::Cancelled)
        }
        EventKind::LevelCertified(certified) => {
            check_certification(registry, records, signed, certified)
        }
        EventKind::CredentialRevoked(revoked) => {
            check_revocation(registry, records, signed, revoked)
        }
        EventKind::SpecialAbilityCertified(certified) => {
            crate::kinds::check_special_ability(registry, records, signed, certified)
        }
        EventKind::ContestRegistered(registered) => {
            authority_signed(registry, signed, "contest_registered", date)?;
            routes::check_contest_registered(registry, registered)
        }
        EventKind::ContestResultRecorded(result) => {
            authority_signed(registry, signed, "contest_result_recorded", date)?;
            routes::check_contest_result(registry, records, result)
        }
        EventKind::ApprenticeshipStarted(started) => {
            routes::check_apprenticeship_started(registry, records, signed, started)
        }
        EventKind::ApprenticeshipCompleted(completed) => {
            routes::check_apprenticeship_completed(registry, records, signed, completed)
        }
        EventKind::AppointmentRightGranted(granted) => {
            authority_signed(registry, signed, "appointment_right_granted", date)?;
            routes::check_appointment_right(registry, granted)
        }
        EventKind::AppointmentMade(made) => {
            routes::check_appointment(registry, records, signed, made)
        }
        EventKind::AppointmentEnded(ended) => {
            routes::check_appointment_ended(registry, records, signed, ended)
        }
        EventKind::TitleRecorded(recorded) => {
            authority_signed(registry, signed, "title_recorded", date)?;
            routes::check_title(records, recorded)
        }
        EventKind::TitleEligibilityGranted(granted) => {
            authority_signed(registry, signed, "title_eligibility_granted", date)?;
            routes::check_title_eligibility(registry, records, granted)
        }
        EventKind::RecognitionRecorded(recognised) => {
            crate::recognition::check_recognition(registry, records, signed, recognised)
        }
        EventKind::RecognitionWithdrawn(withdrawn) => {
            crate::recognition::check_withdrawal(registry, records, signed, withdrawn)
        }
        EventKind::ContestJoined(joined) => {
            crate::joint_contests::check_joined(registry, signed, joined)
        }
        EventKind::PartnerContestResultAccepted(accepted) => {
            crate::joint_contests::check_accepted(registry, records, signed, accepted)
        }
    }
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

/// A VC issuer key: a strong key of its own (never an authority or recovery key, which sign
/// the log), and a controller id that is an absolute http(s) URL without a fragment, query or
/// whitespace (the key ids are the id with `#` and the key appended).
fn check_vc_issuer_key(ledger: &LedgerInfo, set: &VcIssuerKeySet) -> Result<(), Rejection> {
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

fn check_authority_rotation(
    ledger: &LedgerInfo,
    rotated: &AuthorityKeyRotated,
) -> Result<(), Rejection> {
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

fn check_key_revocation(registry: &Registry, revoked: &BodyKeyRevoked) -> Result<(), Rejection> {
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

fn check_registration(
    registry: &Registry,
    province: crate::ids::Province,
    registered: &BodyRegistered,
) -> Result<(), Rejection> {
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
    let mut seen = std::collections::BTreeSet::new();
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

fn check_key_rotation(registry: &Registry, rotated: &BodyKeyRotated) -> Result<(), Rejection> {
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

fn check_status_change(
    registry: &Registry,
    change: &BodyStatusChange,
    to: BodyStatus,
) -> Result<(), Rejection> {
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

fn check_certificate_number(certified: &LevelCertified) -> Result<(), Rejection> {
    let number = certified.certificate_number;
    check_well_formed(&number)?;
    crate::kinds::check_level_series(certified)?;
    if certified.level.national_number().is_none() {
        return Err(Rejection::LevelNotCertifiable {
            level: certified.level,
        });
    }
    if i32::from(number.year_two_digits()) != certified.issued.year().rem_euclid(100) {
        return Err(Rejection::CertificateYearMismatch {
            certificate_number: number,
            issued: certified.issued,
        });
    }
    if Some(number.level_number()) != certified.level.national_number() {
        return Err(Rejection::CertificateLevelMismatch {
            certificate_number: number,
            level: certified.level,
        });
    }
    if !certified.occupation.is_well_formed() {
        return Err(Rejection::Malformed {
            field: "occupation",
            reason: "not an occupation code".to_string(),
        });
    }
    Ok(())
}

fn check_certification(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    certified: &LevelCertified,
) -> Result<(), Rejection> {
    check_certificate_number(certified)?;
    let number = certified.certificate_number;
    let date = certified.issued;
    if let Signer::Body(signer) = signed.signer {
        if signer != number.registration_number() {
            return Err(Rejection::CertificateBodyMismatch {
                certificate_number: number,
                signer,
            });
        }
    }
    let body = body_signed(registry, signed, "level_certified", date)?;
    if records.credential(&number).is_some() {
        return Err(Rejection::DuplicateCertificate {
            certificate_number: number,
        });
    }
    check_body_may_issue(body, date)?;
    check_occupation(registry, certified)?;
    check_scope(body, certified)?;
    let policy = registry
        .policy_at(date)
        .ok_or(Rejection::NoPolicyInForce { date })?;
    if number.kind() == crate::ids::CredentialKind::Qualification {
        crate::kinds::check_qualification(policy, body, certified)?;
    }
    let person = records.person(&certified.subject).unwrap_or_default();
    // Against everything held now, not only at the issue date: a backdated certificate at or
    // below a level already held would otherwise restart the clock of the next level's years.
    if let Some((held_now, _)) = person.highest_in(certified.occupation, Date::MAX) {
        if certified.level <= held_now {
            return Err(Rejection::AlreadyHoldsLevel {
                occupation: certified.occupation,
                held: held_now,
            });
        }
    }
    let held = person.highest_in(certified.occupation, date);
    match &certified.route {
        Route::Evaluation(EvaluationBasis::PriorLevel) => {
            let below = certified.level.below();
            let Some((held_level, since)) = held.filter(|(level, _)| Some(*level) == below) else {
                return Err(Rejection::LevelNotReachable {
                    occupation: certified.occupation,
                    held: held.map(|(level, _)| level),
                    requested: certified.level,
                    policy_version: policy.version,
                });
            };
            debug_assert_eq!(Some(held_level), below);
            let required_years =
                policy.min_years_after_previous(certified.occupation, certified.level);
            let earliest = since.add_years(required_years);
            if date < earliest {
                return Err(Rejection::TooFewYears {
                    occupation: certified.occupation,
                    level: certified.level,
                    required_years,
                    since,
                    earliest,
                    policy_version: policy.version,
                });
            }
            Ok(())
        }
        Route::Evaluation(EvaluationBasis::Apprenticeship { apprenticeship }) => {
            routes::check_apprenticeship_basis(records, policy, certified, *apprenticeship)
        }
        Route::Contest { result } => {
            routes::check_contest_promotion(registry, records, policy, certified, held, *result)
        }
        Route::Conversion { title } => {
            routes::check_conversion_to_skill(records, policy, certified, *title)
        }
        Route::ForeignComparison(basis) => {
            crate::kinds::check_foreign_comparison(policy, signed, certified, basis)
        }
        Route::Evaluation(EvaluationBasis::Attested { statement }) => {
            check_text("route.statement", statement, TEXT_CHARS_MAX)?;
            let attested_entry_max = policy.evaluation.attested_entry_max;
            if certified.level > attested_entry_max {
                return Err(Rejection::AttestedBasisNotAllowed {
                    level: certified.level,
                    attested_entry_max,
                    policy_version: policy.version,
                });
            }
            Ok(())
        }
        Route::DirectRecognition { justification } => {
            let refuse = |reason: &str| Rejection::DirectRecognitionNotAllowed {
                registration_number: body.registration_number,
                reason: reason.to_string(),
                policy_version: policy.version,
            };
            let kind = body.registration_number.kind();
            if !policy.direct_recognition.body_kinds.contains(&kind) {
                return Err(refuse(match kind {
                    BodyKind::Enterprise => "the policy gives enterprises no such right",
                    BodyKind::SocialOrganisation => {
                        "only the body kinds the policy names may recognise directly"
                    }
                }));
            }
            if !body.direct_recognition {
                return Err(refuse("its registration does not grant the right"));
            }
            let level_max = policy.direct_recognition.level_max;
            if certified.level > level_max {
                return Err(Rejection::AboveDirectRecognitionLimit {
                    level: certified.level,
                    level_max,
                    policy_version: policy.version,
                });
            }
            check_text("route.justification", justification, TEXT_CHARS_MAX)
        }
    }
}

/// The level must be within the body's scope for the occupation.
pub(crate) fn check_scope(body: &BodyRecord, certified: &LevelCertified) -> Result<(), Rejection> {
    let level_max = body.scope_level_max(certified.occupation);
    if level_max.is_none_or(|level_max| certified.level > level_max) {
        return Err(Rejection::OutOfScope {
            registration_number: body.registration_number,
            occupation: certified.occupation,
            level: certified.level,
            level_max,
        });
    }
    Ok(())
}

/// The rules of a certification that need only the issuing body's record as the log made it
/// before the certification: a well-formed certificate number that belongs to the body and
/// agrees with the year and level, signed as that body with the key valid at the issue date,
/// the body active and inside its registration window at that date, the level within its
/// scope. An offline verifier (see `offline.rs`) runs exactly these; the catalogue, the
/// policy and the holder's earlier levels are not in a bundle.
pub fn check_certification_by_body(
    body: &BodyRecord,
    signed: &SignedEvent,
    certified: &LevelCertified,
) -> Result<(), Rejection> {
    check_certificate_number(certified)?;
    let number = certified.certificate_number;
    let Signer::Body(signer) = signed.signer else {
        return Err(Rejection::WrongSigner {
            event: "level_certified",
            expected: "an evaluation body",
            found: signed.signer,
        });
    };
    for candidate in [signer, body.registration_number] {
        if candidate != number.registration_number() {
            return Err(Rejection::CertificateBodyMismatch {
                certificate_number: number,
                signer: candidate,
            });
        }
    }
    if body.key_at(certified.issued) != Some(signed.public_key) {
        return Err(Rejection::KeyNotValidAtDate {
            signer: format!("body {signer}"),
            date: certified.issued,
        });
    }
    check_key_not_revoked(body, signed)?;
    check_body_may_issue(body, certified.issued)?;
    check_scope(body, certified)
}

fn check_occupation(registry: &Registry, certified: &LevelCertified) -> Result<(), Rejection> {
    let catalogue = registry.catalogue.as_ref().ok_or(Rejection::NoCatalogue)?;
    let occupation = catalogue
        .get(certified.occupation)
        .ok_or(Rejection::UnknownOccupation {
            occupation: certified.occupation,
        })?;
    if let Some(work_type) = &certified.work_type {
        if !occupation.work_types.iter().any(|known| known == work_type) {
            return Err(Rejection::UnknownWorkType {
                occupation: certified.occupation,
                work_type: work_type.clone(),
            });
        }
    }
    Ok(())
}

fn check_revocation(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    revoked: &CredentialRevoked,
) -> Result<(), Rejection> {
    let number = revoked.certificate_number;
    let date = revoked.effective;
    match signed.signer {
        Signer::Authority | Signer::Recovery => {
            authority_signed(registry, signed, "credential_revoked", date)?
        }
        Signer::Body(_) => {
            body_signed(registry, signed, "credential_revoked", date)?;
        }
    }
    // Any kind: a level (skill or qualification) or a special ability, by its series.
    let found = match number.kind() {
        crate::ids::CredentialKind::SpecialAbility => records
            .special_ability(&number)
            .map(|record| (record.body(), record.is_valid(), record.issued)),
        _ => records
            .credential(&number)
            .map(|record| (record.body(), record.is_valid(), record.issued)),
    };
    let (issuer, valid, issued) = found.ok_or(Rejection::UnknownCredential {
        certificate_number: number,
    })?;
    if let Signer::Body(signer) = signed.signer {
        if signer != issuer {
            return Err(Rejection::NotIssuer {
                certificate_number: number,
                issuer,
            });
        }
    }
    if !valid {
        return Err(Rejection::AlreadyRevoked {
            certificate_number: number,
        });
    }
    if date < issued {
        return Err(Rejection::RevocationBeforeIssue {
            effective: date,
            issued,
        });
    }
    check_text("reason", &revoked.reason, TEXT_CHARS_MAX)
}
