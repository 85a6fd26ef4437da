//! The rules of the routes beyond evaluation and direct recognition (issue 5): contests,
//! apprenticeships, appointments (评聘) and 专技/技能 贯通, as `decide` runs them.
//!
//! Each check reads the registry (contests, appointment rights, bodies), the credential and
//! person records, and the person's [`CareerRecord`] through [`RecordView::career`]. Every
//! rule a policy decides names the policy version that refused the event. A view that keeps
//! no career records ([`RecordView::keeps_careers`] is false) skips the rules that need them.

use crate::date::Date;
use crate::event::{
    AppointmentBasis, AppointmentEndReason, AppointmentEnded, AppointmentMade,
    AppointmentRightGranted, ApprenticeshipCompleted, ApprenticeshipStarted, ContestRegistered,
    ContestResultRecorded, EventId, LevelCertified, SignedEvent, Signer, TitleEligibilityGranted,
    TitleRecorded,
};
use crate::guards::{
    authority_signed, body_signed, career_of, check_body_may_issue, check_occupation_known,
    check_text, existing_body, policy_at, NAME_CHARS_MAX, SCOPE_ITEMS_MAX, TEXT_CHARS_MAX,
};
use crate::ladder::Level;
use crate::occupation::OccupationCode;
use crate::policy::Policy;
use crate::rejection::Rejection;
use crate::state::{BodyRecord, RecordView, Registry};

// ---------------------------------------------------------------------------------------
// Contests (竞赛晋升)
// ---------------------------------------------------------------------------------------

pub(crate) fn check_contest_registered(
    registry: &Registry,
    registered: &ContestRegistered,
) -> Result<(), Rejection> {
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

pub(crate) fn check_contest_result(
    registry: &Registry,
    records: &impl RecordView,
    result: &ContestResultRecorded,
) -> Result<(), Rejection> {
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

/// A credential by the contest route: the result is the subject's, in the same occupation,
/// not yet promoted; the policy's table allows the level for its tier and rank; the subject
/// has had fewer than the policy's number of contest promotions in the issue year.
pub(crate) fn check_contest_promotion(
    registry: &Registry,
    records: &impl RecordView,
    policy: &Policy,
    certified: &LevelCertified,
    held: Option<(Level, Date)>,
    result_id: EventId,
) -> Result<(), Rejection> {
    let Some(career) = career_of(records, &certified.subject) else {
        return Ok(());
    };
    let result = career
        .contest_results
        .iter()
        .find(|result| result.id == result_id)
        .ok_or(Rejection::UnknownBasis {
            what: "contest result",
            id: result_id,
        })?;
    let refuse = |reason: String| Rejection::ContestPromotionNotAllowed {
        tier: result.tier,
        rank: result.rank,
        reason,
        policy_version: policy.version,
    };
    if result.occupation != certified.occupation {
        return Err(refuse(format!(
            "the result is in {}, not {}",
            result.occupation, certified.occupation
        )));
    }
    if let Some((number, _)) = result.promoted {
        return Err(refuse(format!(
            "the result was already promoted to {number}"
        )));
    }
    if certified.issued < result.date {
        return Err(refuse(format!(
            "issued {}, before the result of {}",
            certified.issued, result.date
        )));
    }
    let year = certified.issued.year();
    let granted = career.contest_promotions_in(year);
    let promotions_max = policy.contest.promotions_per_year_max;
    if granted >= promotions_max {
        return Err(Rejection::ContestPromotionLimit {
            year,
            granted,
            promotions_max,
            policy_version: policy.version,
        });
    }
    let contest_name = registry
        .contests
        .get(&result.contest)
        .map_or("the contest", |contest| contest.name.as_str());
    let held_level = held.map(|(level, _)| level);
    let Some(allowed) = policy.contest_level_allowed(result.tier, result.rank, held_level) else {
        return Err(refuse(format!(
            "the promotion table has no row for a {} contest placing {} ({contest_name})",
            result.tier.id(),
            result.rank
        )));
    };
    if certified.level > allowed {
        return Err(refuse(format!(
            "a {} contest placing {} allows at most {}, not {}",
            result.tier.id(),
            result.rank,
            allowed.id(),
            certified.level.id()
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Apprenticeships (学徒工)
// ---------------------------------------------------------------------------------------

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

pub(crate) fn check_apprenticeship_started(
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

pub(crate) fn check_apprenticeship_completed(
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

/// An evaluation on a completed apprenticeship: the subject's, completed by the issue date,
/// in the same occupation, for a level the policy lets an apprenticeship lead to.
pub(crate) fn check_apprenticeship_basis(
    records: &impl RecordView,
    policy: &Policy,
    certified: &LevelCertified,
    apprenticeship_id: EventId,
) -> Result<(), Rejection> {
    let refuse = |reason: String| Rejection::ApprenticeshipNotAllowed {
        reason,
        policy_version: policy.version,
    };
    match policy.apprenticeship.level_max {
        Some(level_max) if certified.level <= level_max => {}
        level_max => {
            return Err(refuse(format!(
                "a completed apprenticeship is a basis for at most {}, not {}",
                level_max.map_or("nothing", Level::id),
                certified.level.id()
            )))
        }
    }
    let Some(career) = career_of(records, &certified.subject) else {
        return Ok(());
    };
    let apprenticeship = career
        .apprenticeships
        .iter()
        .find(|held| held.id == apprenticeship_id)
        .ok_or(Rejection::UnknownBasis {
            what: "apprenticeship",
            id: apprenticeship_id,
        })?;
    if apprenticeship.occupation != certified.occupation {
        return Err(refuse(format!(
            "the apprenticeship is in {}, not {}",
            apprenticeship.occupation, certified.occupation
        )));
    }
    match apprenticeship.completed {
        Some(completed) if completed <= certified.issued => Ok(()),
        _ => Err(Rejection::ApprenticeshipNotCompleted {
            apprenticeship: apprenticeship_id,
            date: certified.issued,
        }),
    }
}

// ---------------------------------------------------------------------------------------
// Appointments (评聘)
// ---------------------------------------------------------------------------------------

fn is_post_level(level: Level) -> bool {
    matches!(level, Level::PrincipalTechnician | Level::ChiefTechnician)
}

pub(crate) fn check_appointment_right(
    registry: &Registry,
    granted: &AppointmentRightGranted,
) -> Result<(), Rejection> {
    let body = existing_body(registry, granted.registration_number)?;
    if granted.levels.is_empty() {
        return Err(Rejection::EmptyField { field: "levels" });
    }
    let mut levels = granted.levels.clone();
    levels.sort_unstable();
    levels.dedup();
    if levels.len() != granted.levels.len() || !levels.iter().all(|level| is_post_level(*level)) {
        return Err(Rejection::Malformed {
            field: "levels",
            reason: "lists principal_technician and/or chief_technician, each once".to_string(),
        });
    }
    let policy = policy_at(registry, granted.effective)?;
    let refuse = |level: Level, reason: &str| Rejection::AppointmentNotAllowed {
        registration_number: body.registration_number,
        level,
        reason: reason.to_string(),
        policy_version: policy.version,
    };
    if !policy
        .appointment
        .body_kinds
        .contains(&body.registration_number.kind())
    {
        return Err(refuse(
            levels[0],
            "the policy gives bodies of its kind no right to appoint",
        ));
    }
    if levels.contains(&Level::ChiefTechnician) && !levels.contains(&Level::PrincipalTechnician) {
        return Err(refuse(
            Level::ChiefTechnician,
            "首席技师 appointments are only for enterprises that run 特级技师 appointments",
        ));
    }
    if let Some(last) = registry
        .appointment_rights
        .get(&granted.registration_number)
        .and_then(|right| right.periods.last())
    {
        if granted.effective < last.from {
            return Err(Rejection::DateBeforeLastChange {
                what: "appointment right",
                date: granted.effective,
                last: last.from,
            });
        }
    }
    Ok(())
}

pub(crate) fn check_appointment(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    made: &AppointmentMade,
) -> Result<(), Rejection> {
    let date = made.term_start;
    let body = body_signed(registry, signed, "appointment_made", date)?;
    check_body_may_issue(body, date)?;
    check_occupation_known(registry, made.occupation)?;
    let policy = policy_at(registry, date)?;
    let refuse = |reason: String| Rejection::AppointmentNotAllowed {
        registration_number: body.registration_number,
        level: made.level,
        reason,
        policy_version: policy.version,
    };
    if !is_post_level(made.level) {
        return Err(refuse(
            "only 特级技师 and 首席技师 are appointed posts".to_string(),
        ));
    }
    if !policy
        .appointment
        .body_kinds
        .contains(&body.registration_number.kind())
    {
        return Err(refuse(
            "the policy gives bodies of its kind no right to appoint".to_string(),
        ));
    }
    let right = registry.appointment_rights.get(&body.registration_number);
    if !right.is_some_and(|right| right.levels_at(date).contains(&made.level)) {
        return Err(refuse(format!(
            "the authority has not granted it the right to appoint {} at {date}",
            made.level.name_zh()
        )));
    }
    // Posts exist only in occupations that have 高级技师: the body must evaluate up to it.
    let level_max = body.scope_level_max(made.occupation);
    if level_max.is_none_or(|level_max| level_max < Level::SeniorTechnician) {
        return Err(Rejection::OutOfScope {
            registration_number: body.registration_number,
            occupation: made.occupation,
            level: made.level,
            level_max,
        });
    }
    check_text("review", &made.review, TEXT_CHARS_MAX)?;
    check_term(policy, made.term_start, made.term_end)?;
    let invalid_basis = |reason: String| Rejection::AppointmentBasisInvalid {
        level: made.level,
        reason,
        policy_version: policy.version,
    };
    let career = career_of(records, &made.subject);
    if made.level == Level::ChiefTechnician {
        let runs_principal = right
            .and_then(|right| right.first_principal)
            .is_some_and(|first| first <= date);
        if !runs_principal {
            return Err(refuse(
                "the enterprise runs no 特级技师 appointments (none made by this date)".to_string(),
            ));
        }
    }
    match (&made.basis, made.level) {
        (AppointmentBasis::Credential(number), _) => {
            if made.level == Level::ChiefTechnician && policy.appointment.chief_requires_principal {
                return Err(invalid_basis(
                    "must be a current 特级技师 post, not a credential".to_string(),
                ));
            }
            let credential = records
                .credential(number)
                .ok_or(Rejection::UnknownCredential {
                    certificate_number: *number,
                })?;
            if credential.subject != made.subject {
                return Err(invalid_basis(format!(
                    "{number} is another person's credential"
                )));
            }
            if !credential.is_valid() {
                return Err(invalid_basis(format!("{number} is revoked")));
            }
            if credential.level != Level::SeniorTechnician
                || credential.occupation != made.occupation
            {
                return Err(invalid_basis(format!(
                    "{number} is {} in {}, not 高级技师 in {}",
                    credential.level.name_zh(),
                    credential.occupation,
                    made.occupation
                )));
            }
            let required_years = policy.appointment.principal_min_years;
            let earliest = credential.issued.add_years(required_years);
            if date < earliest {
                return Err(Rejection::TooFewYears {
                    occupation: made.occupation,
                    level: made.level,
                    required_years,
                    since: credential.issued,
                    earliest,
                    policy_version: policy.version,
                });
            }
        }
        (AppointmentBasis::Appointment(_), Level::PrincipalTechnician) => {
            return Err(invalid_basis(
                "must be a 高级技师 credential, not a post".to_string(),
            ));
        }
        (AppointmentBasis::Appointment(id), _) => {
            if let Some(career) = &career {
                let post = career
                    .appointments
                    .iter()
                    .find(|appointment| appointment.id == *id)
                    .ok_or(Rejection::UnknownBasis {
                        what: "appointment",
                        id: *id,
                    })?;
                if post.level != Level::PrincipalTechnician
                    || post.occupation != made.occupation
                    || !post.held_at(date)
                {
                    return Err(invalid_basis(format!(
                        "is not a 特级技师 post in {} held at {date}",
                        made.occupation
                    )));
                }
            }
        }
    }
    if let Some(career) = &career {
        if career.appointments.iter().any(|appointment| {
            appointment.is_current()
                && appointment.occupation == made.occupation
                && appointment.level >= made.level
        }) {
            return Err(Rejection::AlreadyHoldsLevel {
                occupation: made.occupation,
                held: made.level,
            });
        }
    }
    Ok(())
}

fn check_term(policy: &Policy, term_start: Date, term_end: Date) -> Result<(), Rejection> {
    let refuse = |reason: String| Rejection::InvalidTerm {
        term_start,
        term_end,
        reason,
        policy_version: policy.version,
    };
    if term_end <= term_start {
        return Err(refuse("the term ends before it starts".to_string()));
    }
    let years_max = policy.appointment.term_years_max;
    if term_end > term_start.add_years(years_max) {
        return Err(refuse(format!("a term lasts at most {years_max} years")));
    }
    Ok(())
}

pub(crate) fn check_appointment_ended(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    ended: &AppointmentEnded,
) -> Result<(), Rejection> {
    let date = ended.effective;
    match signed.signer {
        Signer::Authority | Signer::Recovery => {
            authority_signed(registry, signed, "appointment_ended", date)?
        }
        Signer::Body(_) => {
            body_signed(registry, signed, "appointment_ended", date)?;
        }
    }
    check_text("note", &ended.note, TEXT_CHARS_MAX)?;
    let policy = policy_at(registry, date)?;
    let Some(career) = career_of(records, &ended.subject) else {
        return Ok(());
    };
    let appointment = career
        .appointments
        .iter()
        .find(|appointment| appointment.id == ended.appointment)
        .ok_or(Rejection::UnknownBasis {
            what: "appointment",
            id: ended.appointment,
        })?;
    if let Signer::Body(signer) = signed.signer {
        if signer != appointment.body {
            return Err(Rejection::NotAppointingBody {
                appointment: appointment.id,
                appointed_by: appointment.body,
            });
        }
    }
    if let Some((ended_on, _)) = appointment.ended {
        return Err(Rejection::AppointmentAlreadyEnded {
            appointment: appointment.id,
            ended: ended_on,
        });
    }
    if date < appointment.term_start {
        return Err(Rejection::DateBeforeLastChange {
            what: "appointment end",
            date,
            last: appointment.term_start,
        });
    }
    if ended.reason == AppointmentEndReason::TermOver && date < appointment.term_end {
        return Err(Rejection::InvalidTerm {
            term_start: appointment.term_start,
            term_end: appointment.term_end,
            reason: format!("the term is not over on {date}"),
            policy_version: policy.version,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Titles and 贯通
// ---------------------------------------------------------------------------------------

pub(crate) fn check_title(
    records: &impl RecordView,
    recorded: &TitleRecorded,
) -> Result<(), Rejection> {
    check_text("series", &recorded.series, NAME_CHARS_MAX)?;
    check_text("field", &recorded.field, NAME_CHARS_MAX)?;
    if let Some(career) = career_of(records, &recorded.subject) {
        if career.titles.iter().any(|title| {
            title.title == recorded.title
                && title.series == recorded.series
                && title.field == recorded.field
        }) {
            return Err(Rejection::AlreadyHoldsTitle {
                title: recorded.title,
                series: recorded.series.clone(),
                field: recorded.field.clone(),
            });
        }
    }
    Ok(())
}

/// Skill to title: a valid credential of the subject, at least the table's level, held the
/// table's years, in an occupation the mapping relates to the title's series and field.
pub(crate) fn check_title_eligibility(
    registry: &Registry,
    records: &impl RecordView,
    granted: &TitleEligibilityGranted,
) -> Result<(), Rejection> {
    check_text("series", &granted.series, NAME_CHARS_MAX)?;
    check_text("field", &granted.field, NAME_CHARS_MAX)?;
    let policy = policy_at(registry, granted.date)?;
    let refuse = |reason: String| Rejection::ConversionNotAllowed {
        reason,
        policy_version: policy.version,
    };
    let credential = records
        .credential(&granted.basis)
        .ok_or(Rejection::UnknownCredential {
            certificate_number: granted.basis,
        })?;
    if credential.subject != granted.subject {
        return Err(refuse(format!(
            "{} is another person's credential",
            granted.basis
        )));
    }
    if !credential.is_valid() {
        return Err(refuse(format!("{} is revoked", granted.basis)));
    }
    let Some(rule) = policy.skill_to_title_rule(granted.title) else {
        return Err(refuse(format!(
            "the conversion table leads to no {} from a skill level",
            granted.title.name_zh()
        )));
    };
    if credential.level < rule.level {
        return Err(refuse(format!(
            "{} needs {}, the basis is {}",
            granted.title.name_zh(),
            rule.level.name_zh(),
            credential.level.name_zh()
        )));
    }
    if !policy.occupation_related(&granted.series, &granted.field, credential.occupation) {
        return Err(refuse(format!(
            "occupation {} is not related to {}/{} in the occupation mapping",
            credential.occupation, granted.series, granted.field
        )));
    }
    let earliest = credential.issued.add_years(rule.years);
    if granted.date < earliest {
        return Err(Rejection::TooFewYears {
            occupation: credential.occupation,
            level: credential.level,
            required_years: rule.years,
            since: credential.issued,
            earliest,
            policy_version: policy.version,
        });
    }
    if let Some(career) = career_of(records, &granted.subject) {
        let same = |title: crate::event::TitleLevel, series: &str, field: &str| {
            title == granted.title && series == granted.series && field == granted.field
        };
        if career
            .titles
            .iter()
            .any(|title| same(title.title, &title.series, &title.field))
        {
            return Err(Rejection::AlreadyHoldsTitle {
                title: granted.title,
                series: granted.series.clone(),
                field: granted.field.clone(),
            });
        }
        if career
            .eligibilities
            .iter()
            .any(|held| !held.basis_revoked && same(held.title, &held.series, &held.field))
        {
            return Err(refuse(format!(
                "the subject is already eligible for {} ({}/{})",
                granted.title.name_zh(),
                granted.series,
                granted.field
            )));
        }
    }
    Ok(())
}

/// Title to skill: the subject's title, obtained by the issue date, a level the conversion
/// table allows for it, in an occupation the mapping relates to the title.
pub(crate) fn check_conversion_to_skill(
    records: &impl RecordView,
    policy: &Policy,
    certified: &LevelCertified,
    title_id: EventId,
) -> Result<(), Rejection> {
    let Some(career) = career_of(records, &certified.subject) else {
        return Ok(());
    };
    let title = career
        .titles
        .iter()
        .find(|title| title.id == title_id)
        .ok_or(Rejection::UnknownBasis {
            what: "title",
            id: title_id,
        })?;
    let refuse = |reason: String| Rejection::ConversionNotAllowed {
        reason,
        policy_version: policy.version,
    };
    if title.obtained > certified.issued {
        return Err(refuse(format!(
            "the title was obtained {}, after the issue date {}",
            title.obtained, certified.issued
        )));
    }
    let Some(level_max) = policy.title_to_skill_level(title.title) else {
        return Err(refuse(format!(
            "the conversion table leads from {} to no skill level",
            title.title.name_zh()
        )));
    };
    if certified.level > level_max {
        return Err(refuse(format!(
            "{} converts to at most {}, not {}",
            title.title.name_zh(),
            level_max.name_zh(),
            certified.level.name_zh()
        )));
    }
    if !policy.occupation_related(&title.series, &title.field, certified.occupation) {
        return Err(refuse(format!(
            "occupation {} is not related to {}/{} in the occupation mapping",
            certified.occupation, title.series, title.field
        )));
    }
    Ok(())
}
