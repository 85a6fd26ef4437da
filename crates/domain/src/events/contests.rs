//! Contests (竞赛晋升) and joint contests (赛项共定、结果互认): `ContestRegistered`,
//! `ContestResultRecorded`, `ContestJoined`, `PartnerContestResultAccepted`. A result is a
//! basis for the contest route of a `LevelCertified` (`basis.rs`).
//!
//! A contest stays registered on each ledger by its own authority (`ContestRegistered`). Each
//! authority then records that its contest is joint with the partner's (`ContestJoined`, naming
//! the partner origin and the id of the partner's `ContestRegistered`). A result recorded on
//! the partner's side may be accepted on the home ledger (`PartnerContestResultAccepted`): it
//! becomes a contest result of the person in the *home* contest, with the home contest's tier,
//! so the home promotion table (`[contest]` of the home policy, its yearly limit included)
//! applies to it through the ordinary contest route (`Route::Contest { result }` naming the
//! acceptance's event id). Either side's rules thus apply to results recorded on the other.
//!
//! As for recognitions, `decide` reads only the home ledger: that the partner's log holds the
//! result (at that entry, for that subject, occupation, rank and date, in the partner contest
//! joint with this one) is checked against the mirror at admission
//! (`skill-ledger-sync`'s `recognition::check_partner_result`).

use crate::changes::{Changes, RegistryChange, StatKey};
use crate::event::{
    ContestJoined, ContestRegistered, ContestResultRecorded, PartnerContestResultAccepted,
    SignedEvent,
};
use crate::guards::{
    authority_signed, career_of, check_occupation_known, check_text, established, NAME_CHARS_MAX,
    SCOPE_ITEMS_MAX,
};
use crate::rejection::Rejection;
use crate::state::{ContestRecord, ContestResultRecord, RecordView, Registry};

pub(super) fn check_registered(
    registry: &Registry,
    signed: &SignedEvent,
    registered: &ContestRegistered,
) -> Result<(), Rejection> {
    authority_signed(registry, signed, "contest_registered", registered.date)?;
    check_text("name", &registered.name, NAME_CHARS_MAX)?;
    if registered.occupations.is_empty() {
        return Err(Rejection::EmptyField {
            field: "occupations",
        });
    }
    if registered.occupations.len() > SCOPE_ITEMS_MAX {
        return Err(Rejection::FieldTooLong {
            field: "occupations",
            length: registered.occupations.len(),
            length_max: SCOPE_ITEMS_MAX,
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for occupation in &registered.occupations {
        if !seen.insert(*occupation) {
            return Err(Rejection::DuplicateScopeOccupation {
                occupation: *occupation,
            });
        }
        check_occupation_known(registry, *occupation)?;
    }
    Ok(())
}

pub(super) fn check_result(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    result: &ContestResultRecorded,
) -> Result<(), Rejection> {
    authority_signed(registry, signed, "contest_result_recorded", result.date)?;
    let contest = registry
        .contests
        .get(&result.contest)
        .ok_or(Rejection::UnknownContest {
            contest: result.contest,
        })?;
    let refuse = |reason: String| Err(Rejection::ContestResultNotAllowed { reason });
    if !contest.occupations.contains(&result.occupation) {
        return refuse(format!(
            "occupation {} is not contested in {}",
            result.occupation, contest.name
        ));
    }
    if result.date < contest.date {
        return refuse(format!(
            "the result is dated {}, before the contest was held ({})",
            result.date, contest.date
        ));
    }
    if result.rank == 0 {
        return refuse("placings start at 1".to_string());
    }
    check_text("award", &result.award, NAME_CHARS_MAX)?;
    if let Some(career) = career_of(records, &result.subject) {
        if career
            .contest_results
            .iter()
            .any(|held| held.contest == result.contest)
        {
            return refuse(format!(
                "the subject already has a result in {}",
                contest.name
            ));
        }
    }
    Ok(())
}

pub(super) fn check_joined(
    registry: &Registry,
    signed: &SignedEvent,
    joined: &ContestJoined,
) -> Result<(), Rejection> {
    authority_signed(registry, signed, "contest_joined", joined.date)?;
    check_text("partner_origin", &joined.partner_origin, NAME_CHARS_MAX)?;
    let ledger = established(registry)?;
    if joined.partner_origin == ledger.origin {
        return Err(Rejection::Malformed {
            field: "partner_origin",
            reason: format!("{} is this ledger, not a partner", joined.partner_origin),
        });
    }
    let contest = registry
        .contests
        .get(&joined.contest)
        .ok_or(Rejection::UnknownContest {
            contest: joined.contest,
        })?;
    if let Some(partner_contest) = contest.joint_contest_of(&joined.partner_origin) {
        return Err(Rejection::ContestAlreadyJoint {
            contest: contest.id,
            origin: joined.partner_origin.clone(),
            partner_contest,
        });
    }
    Ok(())
}

pub(super) fn check_accepted(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    accepted: &PartnerContestResultAccepted,
) -> Result<(), Rejection> {
    authority_signed(
        registry,
        signed,
        "partner_contest_result_accepted",
        accepted.date,
    )?;
    let contest = registry
        .contests
        .get(&accepted.contest)
        .ok_or(Rejection::UnknownContest {
            contest: accepted.contest,
        })?;
    if contest.joint_contest_of(&accepted.origin).is_none() {
        return Err(Rejection::ContestNotJoint {
            contest: contest.id,
            origin: accepted.origin.clone(),
        });
    }
    let refuse = |reason: String| Err(Rejection::ContestResultNotAllowed { reason });
    if !contest.occupations.contains(&accepted.occupation) {
        return refuse(format!(
            "occupation {} is not contested in {}",
            accepted.occupation, contest.name
        ));
    }
    if accepted.date < contest.date {
        return refuse(format!(
            "the result is dated {}, before the contest was held ({})",
            accepted.date, contest.date
        ));
    }
    if accepted.rank == 0 {
        return refuse("placings start at 1".to_string());
    }
    check_text("award", &accepted.award, NAME_CHARS_MAX)?;
    if let Some(career) = career_of(records, &accepted.subject) {
        if career
            .contest_results
            .iter()
            .any(|held| held.contest == accepted.contest)
        {
            return refuse(format!(
                "the subject already has a result in {}",
                contest.name
            ));
        }
    }
    Ok(())
}

pub(super) fn apply_registered(registered: &ContestRegistered, changes: &mut Changes) {
    changes.registry = Some(RegistryChange::Contest(Box::new(ContestRecord {
        id: changes.event_id,
        name: registered.name.clone(),
        tier: registered.tier,
        occupations: registered.occupations.clone(),
        date: registered.date,
        entry_index: changes.index,
        joint_with: Vec::new(),
    })));
}

/// # Panics
/// When the contest is not registered: `decide` found it.
pub(super) fn apply_result(
    registry: &Registry,
    records: &impl RecordView,
    result: &ContestResultRecorded,
    changes: &mut Changes,
) {
    let index = changes.index;
    let tier = registry
        .contests
        .get(&result.contest)
        .map(|contest| contest.tier)
        .unwrap_or_else(|| panic!("entry {index}: the contest must be registered"));
    let mut career = records.career(&result.subject).unwrap_or_default();
    career.contest_results.push(ContestResultRecord {
        id: changes.event_id,
        contest: result.contest,
        tier,
        occupation: result.occupation,
        rank: result.rank,
        award: result.award.clone(),
        date: result.date,
        promoted: None,
        entry_index: index,
    });
    changes.career = Some((result.subject, career));
    changes.stats.push((StatKey::ContestResults, 1));
}

pub(super) fn apply_joined(registry: &Registry, joined: &ContestJoined, changes: &mut Changes) {
    let index = changes.index;
    let mut contest = registry
        .contests
        .get(&joined.contest)
        .cloned()
        .unwrap_or_else(|| panic!("entry {index}: the contest must be registered"));
    contest
        .joint_with
        .push((joined.partner_origin.clone(), joined.partner_contest));
    changes.registry = Some(RegistryChange::Contest(Box::new(contest)));
}

pub(super) fn apply_accepted(
    registry: &Registry,
    records: &impl RecordView,
    accepted: &PartnerContestResultAccepted,
    changes: &mut Changes,
) {
    let index = changes.index;
    let tier = registry
        .contests
        .get(&accepted.contest)
        .map(|contest| contest.tier)
        .unwrap_or_else(|| panic!("entry {index}: the contest must be registered"));
    let mut career = records.career(&accepted.subject).unwrap_or_default();
    career.contest_results.push(ContestResultRecord {
        id: changes.event_id,
        contest: accepted.contest,
        tier,
        occupation: accepted.occupation,
        rank: accepted.rank,
        award: accepted.award.clone(),
        date: accepted.date,
        promoted: None,
        entry_index: index,
    });
    changes.career = Some((accepted.subject, career));
    changes.stats.push((StatKey::ContestResults, 1));
    changes.stats.push((StatKey::PartnerContestResults, 1));
}
