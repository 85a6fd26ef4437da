//! 川渝 互认: `RecognitionRecorded` and `RecognitionWithdrawn`. The home authority
//! recognises a partner ledger's credential, and withdraws the recognition when the origin
//! revokes the credential (or by its own decision).
//!
//! `decide` judges a recognition by the home ledger alone: the signer, the policy's
//! `[recognition]` section (open, `level_max`, the occupation mapping), the home catalogue,
//! and the person's career record (no second active recognition of the same credential). It
//! does **not** read the partner's mirror: replaying the home log must give the same
//! decisions on any machine, with or without a mirror. Whether the partner's log really holds
//! that credential at that entry, valid, is checked when the node admits the event
//! (`skill-ledger-sync`'s `recognition` module, called by the server and the CLI).
//!
//! What a recognition changes (`apply`):
//! * the person gains a holding (route `recognition`) in the mapped home occupation, at the
//!   recognised level, dated by the origin's issue date: it counts toward the person's
//!   current level, as a prior level for a home evaluation, for contest promotion one above
//!   it, and for 贯通, exactly like a credential of this ledger (national certificates have
//!   the same force everywhere);
//! * the career record keeps the recognition (origin, entry, leaf hash, mapping, withdrawal);
//! * statistics: `recognitions.active`, `recognitions.level.<level>`,
//!   `routes.recognition.level.<level>` and the holder counters (a person whose only
//!   credential is recognised is a skill worker of the home province), never the
//!   `certificates.*` counters, which count what this ledger issued.
//!
//! A withdrawal marks the holding revoked, runs the revocation cascade (what was built on it
//! is marked "basis revoked"), keeps the reason in the career record and moves the counters
//! back (`recognitions.withdrawn` counts withdrawals).

use crate::careers::revoke_holdings;
use crate::changes::{holder_counters, Changes, StatKey};
use crate::event::{RecognitionRecorded, RecognitionWithdrawn, SignedEvent, WithdrawalReason};
use crate::guards::{
    authority_signed, career_of, check_occupation_known, check_text, check_well_formed,
    established, policy_at, NAME_CHARS_MAX, TEXT_CHARS_MAX,
};
use crate::ladder::Level;
use crate::rejection::Rejection;
use crate::state::{
    Holding, RecognitionRecord, RecognitionWithdrawal, RecordView, Registry, RouteKind,
};

pub(super) fn check_recorded(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    recognised: &RecognitionRecorded,
) -> Result<(), Rejection> {
    let date = recognised.date;
    authority_signed(registry, signed, "recognition_recorded", date)?;
    check_text("origin", &recognised.origin, NAME_CHARS_MAX)?;
    let ledger = established(registry)?;
    if recognised.origin == ledger.origin {
        return Err(Rejection::RecognitionOfHomeCredential {
            origin: recognised.origin.clone(),
        });
    }
    let number = recognised.certificate_number;
    check_well_formed(&number)?;
    if number.province() == ledger.province {
        return Err(Rejection::RecognitionOfHomeCredential {
            origin: format!(
                "{} (certificate {number} is of this province)",
                recognised.origin
            ),
        });
    }
    if Level::from_national_number(number.level_number()) != Some(recognised.level) {
        return Err(Rejection::CertificateLevelMismatch {
            certificate_number: number,
            level: recognised.level,
        });
    }
    if recognised.issued > date {
        return Err(Rejection::DateBeforeLastChange {
            what: "recognition",
            date,
            last: recognised.issued,
        });
    }
    let policy = policy_at(registry, date)?;
    let refuse = |reason: String| Rejection::RecognitionNotAllowed {
        reason,
        policy_version: policy.version,
    };
    let rules = &policy.recognition;
    if !rules.open {
        return Err(refuse(
            "the policy has no [recognition] section".to_string(),
        ));
    }
    if let Some(level_max) = rules.level_max {
        if recognised.level > level_max {
            return Err(refuse(format!(
                "{} is above the highest level recognised ({})",
                recognised.level.id(),
                level_max.id()
            )));
        }
    }
    let expected = rules.home_occupation(&recognised.origin, recognised.partner_occupation);
    if recognised.occupation != expected {
        return Err(Rejection::RecognitionOccupationMismatch {
            origin: recognised.origin.clone(),
            partner_occupation: recognised.partner_occupation,
            occupation: recognised.occupation,
            expected,
            policy_version: policy.version,
        });
    }
    check_occupation_known(registry, recognised.occupation)?;
    if let Some(career) = career_of(records, &recognised.subject) {
        if let Some(held) = career.recognitions.iter().find(|held| {
            held.is_active()
                && held.origin == recognised.origin
                && held.certificate_number == number
        }) {
            return Err(Rejection::DuplicateRecognition {
                origin: recognised.origin.clone(),
                certificate_number: number,
                recognition: held.id,
            });
        }
    }
    Ok(())
}

pub(super) fn check_withdrawn(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    withdrawn: &RecognitionWithdrawn,
) -> Result<(), Rejection> {
    let date = withdrawn.effective;
    authority_signed(registry, signed, "recognition_withdrawn", date)?;
    if let WithdrawalReason::AuthorityDecision { reason } = &withdrawn.reason {
        check_text("reason", reason, TEXT_CHARS_MAX)?;
    }
    let Some(career) = career_of(records, &withdrawn.subject) else {
        return Ok(());
    };
    let recognition = career
        .recognitions
        .iter()
        .find(|held| held.id == withdrawn.recognition)
        .ok_or(Rejection::UnknownBasis {
            what: "recognition",
            id: withdrawn.recognition,
        })?;
    if let Some(done) = &recognition.withdrawn {
        return Err(Rejection::RecognitionNotActive {
            recognition: recognition.id,
            withdrawn: done.effective,
        });
    }
    if date < recognition.date {
        return Err(Rejection::DateBeforeLastChange {
            what: "recognition withdrawal",
            date,
            last: recognition.date,
        });
    }
    if let WithdrawalReason::OriginRevoked { revocation_index } = withdrawn.reason {
        if revocation_index <= recognition.origin_entry_index {
            return Err(Rejection::Malformed {
                field: "revocation_index",
                reason: format!(
                    "the origin's revocation must come after its certifying entry {}",
                    recognition.origin_entry_index
                ),
            });
        }
    }
    Ok(())
}

pub(super) fn apply_recorded(
    records: &impl RecordView,
    recognised: &RecognitionRecorded,
    changes: &mut Changes,
) {
    let id = changes.event_id;
    let index = changes.index;
    let mut career = records.career(&recognised.subject).unwrap_or_default();
    career.recognitions.push(RecognitionRecord {
        id,
        origin: recognised.origin.clone(),
        origin_entry_index: recognised.entry_index,
        leaf_hash: recognised.leaf_hash,
        certificate_number: recognised.certificate_number,
        level: recognised.level,
        partner_occupation: recognised.partner_occupation,
        occupation: recognised.occupation,
        issued: recognised.issued,
        date: recognised.date,
        withdrawn: None,
        entry_index: index,
    });
    let mut person = records.person(&recognised.subject).unwrap_or_default();
    let highest_before = person.highest_overall();
    person.holdings.push(Holding {
        certificate_number: recognised.certificate_number,
        occupation: recognised.occupation,
        level: recognised.level,
        issued: recognised.issued,
        route: RouteKind::Recognition,
        revoked: false,
        basis: None,
        basis_revoked: false,
    });
    recognition_counters(recognised.level, 1, &mut changes.stats);
    holder_counters(
        highest_before,
        person.highest_overall(),
        recognised.date.year(),
        &mut changes.stats,
    );
    changes.person = Some((recognised.subject, person));
    changes.career = Some((recognised.subject, career));
}

pub(super) fn apply_withdrawn(
    records: &impl RecordView,
    withdrawn: &RecognitionWithdrawn,
    changes: &mut Changes,
) {
    let index = changes.index;
    changes.stats.push((StatKey::RecognitionsWithdrawn, 1));
    let Some(career) = records.career(&withdrawn.subject) else {
        // Only a view that keeps no careers gets here (decide skipped the rules too).
        assert!(
            !records.keeps_careers(),
            "entry {index}: the recognition must exist"
        );
        return;
    };
    let Some(recognition) = career
        .recognitions
        .iter()
        .find(|held| held.id == withdrawn.recognition)
        .cloned()
    else {
        return;
    };
    // The recognised holding only, whatever else carries the partner's number.
    let (person, highest_before) = revoke_holdings(
        records,
        &withdrawn.subject,
        recognition.certificate_number,
        |holding| holding.route == RouteKind::Recognition,
        changes,
    );
    // The cascade may have changed the career record already: build on its version.
    let mut career = match changes.career.take() {
        Some((_, cascaded)) => cascaded,
        None => career,
    };
    if let Some(found) = career
        .recognitions
        .iter_mut()
        .find(|held| held.id == withdrawn.recognition)
    {
        found.withdrawn = Some(RecognitionWithdrawal {
            effective: withdrawn.effective,
            reason: withdrawn.reason.clone(),
            entry_index: index,
        });
    }
    recognition_counters(recognition.level, -1, &mut changes.stats);
    holder_counters(
        highest_before,
        person.highest_overall(),
        withdrawn.effective.year(),
        &mut changes.stats,
    );
    changes.person = Some((withdrawn.subject, person));
    changes.career = Some((withdrawn.subject, career));
}

fn recognition_counters(level: Level, delta: i64, stats: &mut Vec<(StatKey, i64)>) {
    stats.extend([
        (StatKey::RecognitionsActive, delta),
        (StatKey::RecognitionsLevel(level), delta),
        (StatKey::RouteLevel(RouteKind::Recognition, level), delta),
    ]);
}
