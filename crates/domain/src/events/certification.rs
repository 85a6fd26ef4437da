//! `LevelCertified`: a skill level or a qualification (职业资格, the Q series) certified by
//! the body whose number it carries, and what it changes: the credential, a holding of the
//! person (built on the holding its route names), the contest result it promotes, the
//! counters. The route's own rules (what the level stands on) are in `basis.rs`.
//!
//! A qualification is a `LevelCertified` whose number is of the Q series: everything a skill
//! level must satisfy, plus the policy's `[qualification]` rules. It is a level of the ladder
//! (a holding, counted in the high-skill figures).

use crate::careers::credential_basis;
use crate::changes::{holder_counters, valid_counters, Changes, StatKey};
use crate::date::Date;
use crate::event::{EventId, LevelCertified, Route, SignedEvent, Signer};
use crate::guards::{
    body_signed, check_body_may_issue, check_key_not_revoked, check_well_formed, policy_at,
};
use crate::ids::CredentialKind;
use crate::policy::Policy;
use crate::rejection::Rejection;
use crate::state::{
    BodyRecord, CareerRecord, CredentialRecord, CredentialStatus, Holding, RecordView, Registry,
    RouteKind,
};
use crate::subject::SubjectId;

use super::basis;

pub(super) fn check(
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
    let policy = policy_at(registry, date)?;
    if number.kind() == CredentialKind::Qualification {
        check_qualification(policy, body, certified)?;
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
    basis::check(registry, records, signed, policy, body, certified, held)
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

fn check_certificate_number(certified: &LevelCertified) -> Result<(), Rejection> {
    let number = certified.certificate_number;
    check_well_formed(&number)?;
    check_level_series(certified)?;
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

/// The number series a `LevelCertified` may carry: a skill level's or a qualification's.
fn check_level_series(certified: &LevelCertified) -> Result<(), Rejection> {
    if certified.certificate_number.kind() == CredentialKind::SpecialAbility {
        return Err(Rejection::CertificateKindMismatch {
            certificate_number: certified.certificate_number,
            expected: CredentialKind::SkillLevel,
        });
    }
    Ok(())
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

/// The level must be within the body's scope for the occupation.
fn check_scope(body: &BodyRecord, certified: &LevelCertified) -> Result<(), Rejection> {
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

/// The policy's rules of a qualification (Q series): the occupation is access-controlled,
/// the level is one of its qualification's, the body is of a kind the policy names, and the
/// route is an evaluation.
fn check_qualification(
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

/// The credential, the person's new holding (marked "basis revoked" from the start when what
/// it is built on already is), the contest result it promotes, and the counters.
pub(super) fn apply(records: &impl RecordView, certified: &LevelCertified, changes: &mut Changes) {
    let route = RouteKind::of(&certified.route);
    let credential = CredentialRecord {
        certificate_number: certified.certificate_number,
        subject: certified.subject,
        name_commitment: certified.name_commitment,
        occupation: certified.occupation,
        work_type: certified.work_type.clone(),
        level: certified.level,
        issued: certified.issued,
        route,
        status: CredentialStatus::Valid,
        entry_index: changes.index,
    };
    let mut person = records.person(&certified.subject).unwrap_or_default();
    let highest_before = person.highest_overall();
    let basis = credential_basis(&person, certified);
    // Built on a holding already marked (its basis was revoked before this one was
    // issued): marked from the start, as the cascade would have marked it.
    let basis_revoked = basis
        .and_then(|position| person.holdings.get(usize::from(position)))
        .is_some_and(|held| held.revoked || held.basis_revoked);
    if basis_revoked {
        changes.stats.push((StatKey::BasisRevoked, 1));
    }
    person.holdings.push(Holding {
        certificate_number: certified.certificate_number,
        occupation: certified.occupation,
        level: certified.level,
        issued: certified.issued,
        route,
        revoked: false,
        basis,
        basis_revoked,
    });
    if let Route::Contest { result } = certified.route {
        changes.career = promote_result(records, certified, result);
    }
    changes.stats.push((StatKey::Issued, 1));
    changes
        .stats
        .push((StatKey::KindIssued(certified.certificate_number.kind()), 1));
    changes
        .stats
        .push((StatKey::IssuedYear(certified.issued.year()), 1));
    valid_counters(&credential, 1, &mut changes.stats);
    holder_counters(
        highest_before,
        person.highest_overall(),
        certified.issued.year(),
        &mut changes.stats,
    );
    changes.credential = Some(credential);
    changes.person = Some((certified.subject, person));
}

/// Marks the contest result promoted to `certified`.
fn promote_result(
    records: &impl RecordView,
    certified: &LevelCertified,
    result: EventId,
) -> Option<(SubjectId, CareerRecord)> {
    let mut career = records.career(&certified.subject)?;
    let found = career
        .contest_results
        .iter_mut()
        .find(|held| held.id == result)?;
    found.promoted = Some((certified.certificate_number, certified.issued));
    Some((certified.subject, career))
}
