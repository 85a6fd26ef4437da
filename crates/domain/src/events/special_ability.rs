//! `SpecialAbilityCertified`: a 专项职业能力证书, a Z-series number for a named ability of
//! the policy under an occupation in the body's scope. It is never a level: it lives in the
//! person's [`CareerRecord`](crate::CareerRecord), not in the holdings, and moves only the
//! kind's counters. Its revocation is a `CredentialRevoked` (`revocation.rs`).

use crate::changes::{Changes, StatKey};
use crate::event::{SignedEvent, Signer, SpecialAbilityCertified};
use crate::guards::{
    body_signed, check_body_may_issue, check_occupation_known, check_text, check_well_formed,
    policy_at, NAME_CHARS_MAX,
};
use crate::ids::CredentialKind;
use crate::rejection::Rejection;
use crate::state::{CredentialStatus, RecordView, Registry, SpecialAbilityRecord};

/// Whether a 专项职业能力证书 may join the log.
pub(super) fn check(
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
pub(super) fn apply(
    records: &impl RecordView,
    certified: &SpecialAbilityCertified,
    changes: &mut Changes,
) {
    let index = changes.index;
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
