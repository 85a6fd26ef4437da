//! The credential kinds beyond the skill level (issue 19, 多元评价): 职业资格证书
//! (qualifications in access-controlled occupations), 专项职业能力证书 (special abilities) and
//! 境外技能证书比照认定 (foreign certificates compared with a level), as `decide` and `apply`
//! run them.
//!
//! - A qualification is a [`LevelCertified`] whose number is of the Q series: everything a
//!   skill level must satisfy, plus the policy's `[qualification]` rules. It is a level of
//!   the ladder (a holding, counted in the high-skill figures).
//! - A special ability is a [`SpecialAbilityCertified`] with a Z-series number: a named
//!   ability of the policy under an occupation in the body's scope. It is never a level: it
//!   lives in the person's [`CareerRecord`], not in the holdings.
//! - A foreign comparison is a [`LevelCertified`] with route
//!   [`Route::ForeignComparison`]: the row of the comparison catalogue in force at the issue
//!   date fixes occupation and level, and the event id is derived from the foreign document
//!   so that one document is compared once per ledger.

use crate::changes::{Changes, StatKey};
use crate::event::{
    EventKind, ForeignComparisonBasis, LevelCertified, Route, SignedEvent, Signer,
    SpecialAbilityCertified,
};
use crate::guards::{
    body_signed, check_body_may_issue, check_occupation_known, check_text, check_well_formed,
    policy_at, NAME_CHARS_MAX,
};
use crate::ids::CredentialKind;
use crate::policy::Policy;
use crate::rejection::Rejection;
use crate::state::{BodyRecord, CredentialStatus, RecordView, Registry, SpecialAbilityRecord};

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

/// The number series a `LevelCertified` may carry: a skill level's or a qualification's.
pub(crate) fn check_level_series(certified: &LevelCertified) -> Result<(), Rejection> {
    if certified.certificate_number.kind() == CredentialKind::SpecialAbility {
        return Err(Rejection::CertificateKindMismatch {
            certificate_number: certified.certificate_number,
            expected: CredentialKind::SkillLevel,
        });
    }
    Ok(())
}

/// The policy's rules of a qualification (Q series): the occupation is access-controlled,
/// the level is one of its qualification's, the body is of a kind the policy names, and the
/// route is an evaluation.
pub(crate) fn check_qualification(
    policy: &Policy,
    body: &BodyRecord,
    certified: &LevelCertified,
) -> Result<(), Rejection> {
    let policy_version = policy.version;
    let refuse = |reason: String| Rejection::QualificationNotAllowed {
        reason,
        policy_version,
    };
    let levels = policy.qualification_levels(certified.occupation).ok_or(
        Rejection::NotAccessControlled {
            occupation: certified.occupation,
            policy_version,
        },
    )?;
    if !levels.contains(&certified.level) {
        return Err(refuse(format!(
            "{} is not a level of the qualification of {}",
            certified.level.id(),
            certified.occupation
        )));
    }
    let kind = body.registration_number.kind();
    if !policy.qualification.body_kinds.contains(&kind) {
        return Err(refuse(format!(
            "body {} is of a kind the policy does not let issue qualifications",
            body.registration_number
        )));
    }
    if !matches!(certified.route, Route::Evaluation(_)) {
        return Err(refuse(format!(
            "a qualification is issued on evaluation (评价考核), not by route {}",
            certified.route.id()
        )));
    }
    Ok(())
}

/// The rules of a foreign comparison, against the policy in force at the issue date.
pub(crate) fn check_foreign_comparison(
    policy: &Policy,
    signed: &SignedEvent,
    certified: &LevelCertified,
    basis: &ForeignComparisonBasis,
) -> Result<(), Rejection> {
    check_text(
        "route.certificate_type",
        &basis.certificate_type,
        NAME_CHARS_MAX,
    )?;
    check_text(
        "route.foreign_issuer",
        &basis.foreign_issuer,
        NAME_CHARS_MAX,
    )?;
    check_text("route.document_id", &basis.document_id, NAME_CHARS_MAX)?;
    if basis.catalogue_version != policy.version {
        return Err(Rejection::ForeignCatalogueVersion {
            named: basis.catalogue_version,
            in_force: policy.version,
            date: certified.issued,
        });
    }
    let row = policy
        .foreign_comparison(&basis.certificate_type)
        .ok_or_else(|| Rejection::UnknownForeignCertificate {
            certificate_type: basis.certificate_type.clone(),
            policy_version: policy.version,
        })?;
    if row.occupation != certified.occupation || row.level != certified.level {
        return Err(Rejection::ForeignComparisonMismatch {
            certificate_type: basis.certificate_type.clone(),
            listed_occupation: row.occupation,
            listed_level: row.level,
            occupation: certified.occupation,
            level: certified.level,
            policy_version: policy.version,
        });
    }
    let expected = basis.event_id();
    if signed.event.id != expected {
        return Err(Rejection::ForeignDocumentIdMismatch {
            expected,
            found: signed.event.id,
        });
    }
    Ok(())
}

/// Whether a 专项职业能力证书 may join the log.
pub(crate) fn check_special_ability(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    certified: &SpecialAbilityCertified,
) -> Result<(), Rejection> {
    let number = certified.certificate_number;
    check_well_formed(&number)?;
    if number.kind() != CredentialKind::SpecialAbility {
        return Err(Rejection::CertificateKindMismatch {
            certificate_number: number,
            expected: CredentialKind::SpecialAbility,
        });
    }
    if i32::from(number.year_two_digits()) != certified.issued.year().rem_euclid(100) {
        return Err(Rejection::CertificateYearMismatch {
            certificate_number: number,
            issued: certified.issued,
        });
    }
    if let Signer::Body(signer) = signed.signer {
        if signer != number.registration_number() {
            return Err(Rejection::CertificateBodyMismatch {
                certificate_number: number,
                signer,
            });
        }
    }
    let date = certified.issued;
    let body = body_signed(registry, signed, "special_ability_certified", date)?;
    if records.special_ability(&number).is_some() {
        return Err(Rejection::DuplicateCertificate {
            certificate_number: number,
        });
    }
    check_body_may_issue(body, date)?;
    check_occupation_known(registry, certified.occupation)?;
    if body.scope_level_max(certified.occupation).is_none() {
        return Err(Rejection::SpecialAbilityOutOfScope {
            registration_number: body.registration_number,
            occupation: certified.occupation,
        });
    }
    let policy = policy_at(registry, date)?;
    check_text("ability", &certified.ability, NAME_CHARS_MAX)?;
    let ability = policy.special_ability(&certified.ability).ok_or_else(|| {
        Rejection::UnknownSpecialAbility {
            ability: certified.ability.clone(),
            policy_version: policy.version,
        }
    })?;
    if ability.occupation != certified.occupation {
        return Err(Rejection::SpecialAbilityOccupationMismatch {
            ability: certified.ability.clone(),
            listed: ability.occupation,
            occupation: certified.occupation,
            policy_version: policy.version,
        });
    }
    Ok(())
}

/// What a 专项职业能力证书 changes: its record, the person's career record, the kind's
/// counters. No holding, no level, no holder counter.
pub(crate) fn apply_special_ability(
    records: &impl RecordView,
    certified: &SpecialAbilityCertified,
    index: u64,
    changes: &mut Changes,
) {
    let record = SpecialAbilityRecord {
        certificate_number: certified.certificate_number,
        subject: certified.subject,
        name_commitment: certified.name_commitment,
        occupation: certified.occupation,
        ability: certified.ability.clone(),
        issued: certified.issued,
        status: CredentialStatus::Valid,
        entry_index: index,
    };
    let mut career = records.career(&certified.subject).unwrap_or_default();
    career.special_abilities.push(record.clone());
    changes.stats.extend([
        (StatKey::KindIssued(CredentialKind::SpecialAbility), 1),
        (StatKey::KindValid(CredentialKind::SpecialAbility), 1),
    ]);
    changes.career = Some((certified.subject, career));
    changes.special_ability = Some(record);
}

/// What the revocation of a 专项职业能力证书 changes.
pub(crate) fn apply_special_ability_revocation(
    records: &impl RecordView,
    signed: &SignedEvent,
    revoked: &crate::event::CredentialRevoked,
    index: u64,
    changes: &mut Changes,
) {
    let mut record = records
        .special_ability(&revoked.certificate_number)
        .unwrap_or_else(|| panic!("entry {index}: revoked special ability must exist"));
    record.status = crate::apply::revoked_status(revoked, signed, index);
    let mut career = records.career(&record.subject).unwrap_or_default();
    for held in &mut career.special_abilities {
        if held.certificate_number == record.certificate_number {
            *held = record.clone();
        }
    }
    changes.stats.extend([
        (StatKey::KindRevoked(CredentialKind::SpecialAbility), 1),
        (StatKey::KindValid(CredentialKind::SpecialAbility), -1),
    ]);
    changes.career = Some((record.subject, career));
    changes.special_ability = Some(record);
}
