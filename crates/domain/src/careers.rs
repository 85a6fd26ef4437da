//! The person's career across the routes: the read side ([`current_levels`], [`next_steps`],
//! [`NextStep`]), and the fold helpers the events share: the holding a new credential is
//! built on, and the revocation cascade that marks what was built on a revoked credential
//! (or a withdrawn recognition) "basis revoked".
//!
//! Nothing is deleted by a cascade: the dependants stay valid, flagged for review
//! ([`crate::Holding::basis_revoked`], [`crate::AppointmentRecord::basis_revoked`],
//! [`crate::EligibilityRecord::basis_revoked`]), and the person view shows the flag.

use std::collections::BTreeSet;

use crate::changes::Changes;
use crate::event::{AppointmentBasis, EvaluationBasis, EventId, LevelCertified, Route};
use crate::ids::CertificateNumber;
use crate::ladder::Level;
use crate::state::{CareerRecord, PersonRecord, RecordView, Registry, RouteKind};
use crate::subject::SubjectId;

fn position(index: usize) -> Option<u16> {
    u16::try_from(index).ok()
}

/// The earliest valid holding of `level` in the occupation held at the issue date: the one
/// `decide` measured the years from.
fn earliest_holding_of(
    person: &PersonRecord,
    certified: &LevelCertified,
    level: Level,
) -> Option<u16> {
    person
        .holdings
        .iter()
        .enumerate()
        .filter(|(_, holding)| {
            holding.holds_at(certified.issued)
                && holding.occupation == certified.occupation
                && holding.level == level
        })
        .min_by_key(|(index, holding)| (holding.issued, *index))
        .and_then(|(index, _)| position(index))
}

/// The holding a new credential is built on: the level below for an evaluation on the prior
/// level; for a contest promotion to one above the level held, that level.
pub(crate) fn credential_basis(person: &PersonRecord, certified: &LevelCertified) -> Option<u16> {
    match certified.route {
        Route::Evaluation(EvaluationBasis::PriorLevel) => {
            earliest_holding_of(person, certified, certified.level.below()?)
        }
        Route::Contest { .. } => {
            let (held, _) = person.highest_in(certified.occupation, certified.issued)?;
            (held.above() == Some(certified.level))
                .then(|| earliest_holding_of(person, certified, held))
                .flatten()
        }
        _ => None,
    }
}

/// A holding revoked in `subject`'s person record: marks revoked the holdings of `number`
/// that `picks` chooses, runs the [`cascade_revocation`] and counts what it marked
/// (`basis.revoked`). Returns the person record as it now is, and the highest level it held
/// before (for the holder counters).
pub(crate) fn revoke_holdings(
    records: &impl RecordView,
    subject: &SubjectId,
    number: CertificateNumber,
    picks: impl Fn(&crate::state::Holding) -> bool,
    changes: &mut Changes,
) -> (PersonRecord, Option<Level>) {
    let mut person = records.person(subject).unwrap_or_default();
    let highest_before = person.highest_overall();
    for holding in &mut person.holdings {
        if holding.certificate_number == number && picks(holding) {
            holding.revoked = true;
        }
    }
    let marked = cascade_revocation(records, subject, number, &mut person, changes);
    if marked > 0 {
        changes
            .stats
            .push((crate::changes::StatKey::BasisRevoked, i64::from(marked)));
    }
    (person, highest_before)
}

/// After `revoked` is marked revoked in `person`: marks every holding built on it, directly
/// or through others, and every post and title eligibility built on one of those, "basis
/// revoked". Returns how many records were newly marked.
pub(crate) fn cascade_revocation(
    records: &impl RecordView,
    subject: &SubjectId,
    revoked: CertificateNumber,
    person: &mut PersonRecord,
    changes: &mut Changes,
) -> u32 {
    let mut marked = 0;
    let mut tainted_positions: BTreeSet<u16> = BTreeSet::new();
    let mut tainted_numbers: BTreeSet<CertificateNumber> = BTreeSet::new();
    for (index, holding) in person.holdings.iter_mut().enumerate() {
        let tainted = holding.certificate_number == revoked
            || holding
                .basis
                .is_some_and(|basis| tainted_positions.contains(&basis));
        if !tainted {
            continue;
        }
        if let Some(at) = position(index) {
            tainted_positions.insert(at);
        }
        tainted_numbers.insert(holding.certificate_number);
        if holding.certificate_number != revoked && !holding.basis_revoked {
            holding.basis_revoked = true;
            marked += 1;
        }
    }
    let Some(mut career) = records.career(subject) else {
        return marked;
    };
    let mut career_marked = 0;
    let mut tainted_posts: BTreeSet<EventId> = BTreeSet::new();
    for appointment in &mut career.appointments {
        let tainted = match &appointment.basis {
            AppointmentBasis::Credential(number) => tainted_numbers.contains(number),
            AppointmentBasis::Appointment(id) => tainted_posts.contains(id),
        };
        if tainted {
            tainted_posts.insert(appointment.id);
            if !appointment.basis_revoked {
                appointment.basis_revoked = true;
                career_marked += 1;
            }
        }
    }
    for eligibility in &mut career.eligibilities {
        if tainted_numbers.contains(&eligibility.basis) && !eligibility.basis_revoked {
            eligibility.basis_revoked = true;
            career_marked += 1;
        }
    }
    if career_marked > 0 {
        changes.career = Some((*subject, career));
    }
    marked + career_marked
}

/// The subject's career record `apply` updates.
///
/// # Panics
/// When a view that keeps careers has none for the subject: `decide` found it there.
pub(crate) fn career_record(
    records: &impl RecordView,
    subject: &SubjectId,
    index: u64,
    what: &str,
) -> Option<CareerRecord> {
    let career = records.career(subject);
    // A view that keeps careers must hold what `decide` found there.
    assert!(
        career.is_some() || !records.keeps_careers(),
        "entry {index}: the {what} must exist"
    );
    career
}

/// One thing a person may apply for next, and from when (per the latest policy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextStep {
    pub route: RouteKind,
    /// The occupation of a skill level or post (`None` for a title).
    pub occupation: Option<crate::occupation::OccupationCode>,
    /// The skill level or post reachable (`None` for a title).
    pub level: Option<Level>,
    /// A title reachable by conversion: title, series, field.
    pub title: Option<(crate::event::TitleLevel, String, String)>,
    /// The earliest date the rules allow it.
    pub earliest: crate::date::Date,
    /// What it builds on, for people.
    pub basis: String,
    pub policy_version: u32,
}

/// What the person may apply for next, judged by the latest adopted policy: the next level
/// per occupation and its earliest date, a post after 高级技师, the first level after an
/// apprenticeship, titles reachable from skill levels and skill levels reachable from titles.
pub fn next_steps(
    registry: &Registry,
    person: &PersonRecord,
    career: &CareerRecord,
) -> Vec<NextStep> {
    let Some(policy) = registry.latest_policy() else {
        return Vec::new();
    };
    let mut steps = Vec::new();
    let step = |route, occupation, level, earliest, basis: String| NextStep {
        route,
        occupation: Some(occupation),
        level: Some(level),
        title: None,
        earliest,
        basis,
        policy_version: policy.version,
    };
    let posts = career.current_posts();
    let held = person.highest_per_occupation();
    for (occupation, level) in &held {
        let Some((_, since)) = person.highest_in(*occupation, crate::date::Date::MAX) else {
            continue;
        };
        match (level.above(), posts.get(occupation)) {
            (Some(next), _) if next.national_number().is_some() => {
                let years = policy.min_years_after_previous(*occupation, next);
                steps.push(step(
                    RouteKind::Evaluation,
                    *occupation,
                    next,
                    since.add_years(years),
                    format!("{} since {since}", level.name_zh()),
                ));
            }
            (Some(Level::PrincipalTechnician), None) => steps.push(step(
                RouteKind::Appointment,
                *occupation,
                Level::PrincipalTechnician,
                since.add_years(policy.appointment.principal_min_years),
                format!("高级技师 since {since}, by an enterprise with the right"),
            )),
            _ => {}
        }
    }
    for appointment in career.appointments.iter().filter(|a| a.is_current()) {
        if appointment.level == Level::PrincipalTechnician
            && posts.get(&appointment.occupation) == Some(&Level::PrincipalTechnician)
        {
            steps.push(step(
                RouteKind::Appointment,
                appointment.occupation,
                Level::ChiefTechnician,
                appointment.term_start,
                "特级技师 post, in an enterprise that runs 特级技师 appointments".to_string(),
            ));
        }
    }
    for apprenticeship in &career.apprenticeships {
        if held.contains_key(&apprenticeship.occupation) {
            continue;
        }
        match apprenticeship.completed {
            Some(completed) => steps.push(step(
                RouteKind::Evaluation,
                apprenticeship.occupation,
                policy.apprenticeship.level_max.unwrap_or(Level::Junior),
                completed,
                format!("apprenticeship completed {completed}"),
            )),
            None => steps.push(step(
                RouteKind::Apprenticeship,
                apprenticeship.occupation,
                Level::Apprentice,
                apprenticeship
                    .started
                    .add_years(policy.apprenticeship.min_years),
                format!(
                    "apprenticeship started {} (completion)",
                    apprenticeship.started
                ),
            )),
        }
    }
    // Skill to title.
    for rule in &policy.conversion.skill_to_title {
        for mapping in &policy.conversion.mapping {
            let already = career.titles.iter().any(|t| {
                t.title >= rule.title && t.series == mapping.series && t.field == mapping.field
            }) || career.eligibilities.iter().any(|e| {
                e.title == rule.title && e.series == mapping.series && e.field == mapping.field
            });
            if already {
                continue;
            }
            let basis = person
                .holdings
                .iter()
                .filter(|h| {
                    !h.revoked
                        && h.level >= rule.level
                        && mapping.occupations.contains(&h.occupation)
                })
                .min_by_key(|h| h.issued);
            if let Some(basis) = basis {
                steps.push(NextStep {
                    route: RouteKind::Conversion,
                    occupation: None,
                    level: None,
                    title: Some((rule.title, mapping.series.clone(), mapping.field.clone())),
                    earliest: basis.issued.add_years(rule.years),
                    basis: format!("{} {}", basis.level.name_zh(), basis.certificate_number),
                    policy_version: policy.version,
                });
            }
        }
    }
    // Title to skill.
    for title in &career.titles {
        let Some(level_max) = policy.title_to_skill_level(title.title) else {
            continue;
        };
        for mapping in policy
            .conversion
            .mapping
            .iter()
            .filter(|m| m.series == title.series && m.field == title.field)
        {
            for occupation in &mapping.occupations {
                if held
                    .get(occupation)
                    .is_some_and(|level| *level >= level_max)
                {
                    continue;
                }
                steps.push(step(
                    RouteKind::Conversion,
                    *occupation,
                    level_max,
                    title.obtained,
                    format!(
                        "{} ({}/{})",
                        title.title.name_zh(),
                        title.series,
                        title.field
                    ),
                ));
            }
        }
    }
    steps
}

/// The current highest level per occupation over every route: valid credentials, current
/// posts (特级技师, 首席技师), and 学徒工 for an apprenticeship where nothing else is held.
pub fn current_levels(
    person: &PersonRecord,
    career: &CareerRecord,
) -> std::collections::BTreeMap<crate::occupation::OccupationCode, Level> {
    let mut levels = person.highest_per_occupation();
    for (occupation, level) in career.current_posts() {
        let entry = levels.entry(occupation).or_insert(level);
        *entry = (*entry).max(level);
    }
    for apprenticeship in &career.apprenticeships {
        levels
            .entry(apprenticeship.occupation)
            .or_insert(Level::Apprentice);
    }
    levels
}
