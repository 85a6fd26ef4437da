//! `CredentialRevoked`: a certificate of any kind (a level, a qualification, a special
//! ability, by its series) revoked by its issuer or by the authority. Revoking a level marks
//! its holding revoked and runs the revocation cascade (`careers.rs`): what was built on it
//! is marked "basis revoked".

use crate::careers::revoke_holdings;
use crate::changes::{holder_counters, valid_counters, Changes, StatKey};
use crate::event::{CredentialRevoked, SignedEvent, Signer};
use crate::guards::{authority_signed, body_signed, check_text, TEXT_CHARS_MAX};
use crate::ids::CredentialKind;
use crate::rejection::Rejection;
use crate::state::{CredentialStatus, RecordView, Registry};

pub(super) fn check(
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
        CredentialKind::SpecialAbility => records
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

/// # Panics
/// When the certificate is not in `records`: `decide` found it.
pub(super) fn apply(
    records: &impl RecordView,
    signed: &SignedEvent,
    revoked: &CredentialRevoked,
    changes: &mut Changes,
) {
    if revoked.certificate_number.kind() == CredentialKind::SpecialAbility {
        apply_special_ability_revocation(records, signed, revoked, changes);
    } else {
        apply_level_revocation(records, signed, revoked, changes);
    }
}

/// What the revocation of a level (skill level or qualification) changes: the credential,
/// the person's holdings (and what the cascade marks), the counters.
fn apply_level_revocation(
    records: &impl RecordView,
    signed: &SignedEvent,
    revoked: &CredentialRevoked,
    changes: &mut Changes,
) {
    let index = changes.index;
    let mut credential = records
        .credential(&revoked.certificate_number)
        .unwrap_or_else(|| panic!("entry {index}: revoked credential must exist"));
    credential.status = revoked_status(revoked, signed, index);
    let (person, highest_before) = revoke_holdings(
        records,
        &credential.subject,
        revoked.certificate_number,
        |_| true,
        changes,
    );
    changes.stats.push((StatKey::Revoked, 1));
    changes.stats.push((
        StatKey::KindRevoked(credential.certificate_number.kind()),
        1,
    ));
    valid_counters(&credential, -1, &mut changes.stats);
    holder_counters(
        highest_before,
        person.highest_overall(),
        revoked.effective.year(),
        &mut changes.stats,
    );
    changes.person = Some((credential.subject, person));
    changes.credential = Some(credential);
}

/// What the revocation of a 专项职业能力证书 changes.
fn apply_special_ability_revocation(
    records: &impl RecordView,
    signed: &SignedEvent,
    revoked: &CredentialRevoked,
    changes: &mut Changes,
) {
    let index = changes.index;
    let mut record = records
        .special_ability(&revoked.certificate_number)
        .unwrap_or_else(|| panic!("entry {index}: revoked special ability must exist"));
    record.status = revoked_status(revoked, signed, index);
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

/// The status a `CredentialRevoked` (signed as `signed`, at log `index`) gives a
/// certificate of any kind.
fn revoked_status(
    revoked: &CredentialRevoked,
    signed: &SignedEvent,
    index: u64,
) -> CredentialStatus {
    CredentialStatus::Revoked {
        effective: revoked.effective,
        reason: revoked.reason.clone(),
        by: signed.signer,
        entry_index: index,
    }
}
