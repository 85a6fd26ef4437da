//! Apprenticeships (学徒工): `ApprenticeshipStarted` and `ApprenticeshipCompleted`, recorded
//! by a body of a kind the policy names, in an occupation of its scope. A completed
//! apprenticeship is a basis for an evaluation (`basis.rs`).

use crate::careers::career_record;
use crate::changes::{Changes, StatKey};
use crate::event::{ApprenticeshipCompleted, ApprenticeshipStarted, SignedEvent, Signer};
use crate::guards::{
    body_signed, career_of, check_body_may_issue, check_occupation_known, policy_at,
};
use crate::ladder::Level;
use crate::occupation::OccupationCode;
use crate::policy::Policy;
use crate::rejection::Rejection;
use crate::state::{ApprenticeshipRecord, BodyRecord, RecordView, Registry};

pub(super) fn check_started(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    started: &ApprenticeshipStarted,
) -> Result<(), Rejection> {
    let date = started.started;
    let body = body_signed(registry, signed, "apprenticeship_started", date)?;
    check_body_may_issue(body, date)?;
    check_occupation_known(registry, started.occupation)?;
    let policy = policy_at(registry, date)?;
    check_apprenticeship_body(body, policy, started.occupation)?;
    if let Some(career) = career_of(records, &started.subject) {
        if career
            .apprenticeships
            .iter()
            .any(|held| held.occupation == started.occupation && held.completed.is_none())
        {
            return Err(Rejection::ApprenticeshipNotAllowed {
                reason: format!(
                    "the subject is already an apprentice in {}",
                    started.occupation
                ),
                policy_version: policy.version,
            });
        }
    }
    Ok(())
}

pub(super) fn check_completed(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    completed: &ApprenticeshipCompleted,
) -> Result<(), Rejection> {
    let date = completed.completed;
    let body = body_signed(registry, signed, "apprenticeship_completed", date)?;
    check_body_may_issue(body, date)?;
    let policy = policy_at(registry, date)?;
    let Some(career) = career_of(records, &completed.subject) else {
        return Ok(());
    };
    let apprenticeship = career
        .apprenticeships
        .iter()
        .find(|held| held.id == completed.apprenticeship)
        .ok_or(Rejection::UnknownBasis {
            what: "apprenticeship",
            id: completed.apprenticeship,
        })?;
    if apprenticeship.body != body.registration_number {
        return Err(Rejection::ApprenticeshipNotAllowed {
            reason: format!(
                "the apprenticeship is with {}, not {}",
                apprenticeship.body, body.registration_number
            ),
            policy_version: policy.version,
        });
    }
    if let Some(done) = apprenticeship.completed {
        return Err(Rejection::ApprenticeshipAlreadyCompleted {
            apprenticeship: apprenticeship.id,
            completed: done,
        });
    }
    let required_years = policy.apprenticeship.min_years;
    let earliest = apprenticeship.started.add_years(required_years);
    if date < earliest {
        return Err(Rejection::TooFewYears {
            occupation: apprenticeship.occupation,
            level: Level::Apprentice,
            required_years,
            since: apprenticeship.started,
            earliest,
            policy_version: policy.version,
        });
    }
    Ok(())
}

fn check_apprenticeship_body(
    body: &BodyRecord,
    policy: &Policy,
    occupation: OccupationCode,
) -> Result<(), Rejection> {
    let kind = body.registration_number.kind();
    if !policy.apprenticeship.body_kinds.contains(&kind) {
        return Err(Rejection::ApprenticeshipNotAllowed {
            reason: format!(
                "body {} is of a kind the policy does not let record apprenticeships",
                body.registration_number
            ),
            policy_version: policy.version,
        });
    }
    if body.scope_level_max(occupation).is_none() {
        return Err(Rejection::OutOfScope {
            registration_number: body.registration_number,
            occupation,
            level: Level::Apprentice,
            level_max: None,
        });
    }
    Ok(())
}

/// # Panics
/// When the event is not signed by a body: `decide` checked it.
pub(super) fn apply_started(
    records: &impl RecordView,
    signed: &SignedEvent,
    started: &ApprenticeshipStarted,
    changes: &mut Changes,
) {
    let index = changes.index;
    let Signer::Body(body) = signed.signer else {
        panic!("entry {index}: an apprenticeship has a body");
    };
    let mut career = records.career(&started.subject).unwrap_or_default();
    career.apprenticeships.push(ApprenticeshipRecord {
        id: changes.event_id,
        body,
        occupation: started.occupation,
        started: started.started,
        completed: None,
        entry_index: index,
    });
    changes.career = Some((started.subject, career));
    changes.stats.push((StatKey::ApprenticeshipsStarted, 1));
}

pub(super) fn apply_completed(
    records: &impl RecordView,
    completed: &ApprenticeshipCompleted,
    changes: &mut Changes,
) {
    changes.stats.push((StatKey::ApprenticeshipsCompleted, 1));
    let Some(mut career) =
        career_record(records, &completed.subject, changes.index, "apprenticeship")
    else {
        return;
    };
    if let Some(found) = career
        .apprenticeships
        .iter_mut()
        .find(|held| held.id == completed.apprenticeship)
    {
        found.completed = Some(completed.completed);
        changes.career = Some((completed.subject, career));
    }
}
