//! Appointments (评聘): the authority grants an enterprise the right to appoint
//! (`AppointmentRightGranted`), the enterprise appoints 特级技师 and 首席技师 for a term
//! (`AppointmentMade`), and the term ends (`AppointmentEnded`).

use crate::careers::career_record;
use crate::changes::{Changes, RegistryChange, StatKey};
use crate::date::Date;
use crate::event::{
    AppointmentBasis, AppointmentEndReason, AppointmentEnded, AppointmentMade,
    AppointmentRightGranted, SignedEvent, Signer,
};
use crate::guards::{
    authority_signed, body_signed, career_of, check_body_may_issue, check_occupation_known,
    check_text, existing_body, policy_at, TEXT_CHARS_MAX,
};
use crate::ladder::Level;
use crate::policy::Policy;
use crate::rejection::Rejection;
use crate::state::{
    AppointmentRecord, AppointmentRight, RecordView, Registry, RightPeriod, RouteKind,
};

pub(super) fn check_right_granted(
    registry: &Registry,
    signed: &SignedEvent,
    granted: &AppointmentRightGranted,
) -> Result<(), Rejection> {
    authority_signed(
        registry,
        signed,
        "appointment_right_granted",
        granted.effective,
    )?;
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

pub(super) fn check_made(
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

pub(super) fn check_ended(
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

fn is_post_level(level: Level) -> bool {
    matches!(level, Level::PrincipalTechnician | Level::ChiefTechnician)
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

pub(super) fn apply_right_granted(
    registry: &Registry,
    granted: &AppointmentRightGranted,
    changes: &mut Changes,
) {
    let mut right = registry
        .appointment_rights
        .get(&granted.registration_number)
        .cloned()
        .unwrap_or(AppointmentRight {
            registration_number: granted.registration_number,
            periods: Vec::new(),
            first_principal: None,
        });
    let mut levels = granted.levels.clone();
    levels.sort_unstable();
    right.periods.push(RightPeriod {
        from: granted.effective,
        levels,
    });
    changes.registry = Some(RegistryChange::AppointmentRight(Box::new(right)));
}

/// # Panics
/// When the event is not signed by a body: `decide` checked it.
pub(super) fn apply_made(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    made: &AppointmentMade,
    changes: &mut Changes,
) {
    let index = changes.index;
    let Signer::Body(body) = signed.signer else {
        panic!("entry {index}: an appointment has a body");
    };
    let mut career = records.career(&made.subject).unwrap_or_default();
    career.appointments.push(AppointmentRecord {
        id: changes.event_id,
        body,
        occupation: made.occupation,
        level: made.level,
        term_start: made.term_start,
        term_end: made.term_end,
        basis: made.basis.clone(),
        ended: None,
        basis_revoked: false,
        entry_index: index,
    });
    changes.career = Some((made.subject, career));
    changes
        .stats
        .push((StatKey::RouteLevel(RouteKind::Appointment, made.level), 1));
    if made.level == Level::PrincipalTechnician {
        if let Some(right) = registry.appointment_rights.get(&body) {
            if right
                .first_principal
                .is_none_or(|first| made.term_start < first)
            {
                let mut right = right.clone();
                right.first_principal = Some(made.term_start);
                changes.registry = Some(RegistryChange::AppointmentRight(Box::new(right)));
            }
        }
    }
}

pub(super) fn apply_ended(
    records: &impl RecordView,
    ended: &AppointmentEnded,
    changes: &mut Changes,
) {
    changes.stats.push((StatKey::AppointmentsEnded, 1));
    let Some(mut career) = career_record(records, &ended.subject, changes.index, "appointment")
    else {
        return;
    };
    if let Some(found) = career
        .appointments
        .iter_mut()
        .find(|appointment| appointment.id == ended.appointment)
    {
        found.ended = Some((ended.effective, ended.reason));
        changes
            .stats
            .push((StatKey::RouteLevel(RouteKind::Appointment, found.level), -1));
        changes.career = Some((ended.subject, career));
    }
}
