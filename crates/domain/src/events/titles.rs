//! Titles (职称) and 贯通: `TitleRecorded` (a professional title the authority records) and
//! `TitleEligibilityGranted` (a skill level converted to eligibility for a title). A title is
//! a basis for the conversion route of a `LevelCertified` (`basis.rs`).

use crate::changes::{Changes, StatKey};
use crate::event::{SignedEvent, TitleEligibilityGranted, TitleLevel, TitleRecorded};
use crate::guards::{authority_signed, career_of, check_text, policy_at, NAME_CHARS_MAX};
use crate::rejection::Rejection;
use crate::state::{EligibilityRecord, RecordView, Registry, TitleRecord};

pub(super) fn check_recorded(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    recorded: &TitleRecorded,
) -> Result<(), Rejection> {
    authority_signed(registry, signed, "title_recorded", recorded.obtained)?;
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
pub(super) fn check_eligibility(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    granted: &TitleEligibilityGranted,
) -> Result<(), Rejection> {
    authority_signed(registry, signed, "title_eligibility_granted", granted.date)?;
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
        let same = |title: TitleLevel, series: &str, field: &str| {
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

pub(super) fn apply_recorded(
    records: &impl RecordView,
    recorded: &TitleRecorded,
    changes: &mut Changes,
) {
    let mut career = records.career(&recorded.subject).unwrap_or_default();
    career.titles.push(TitleRecord {
        id: changes.event_id,
        title: recorded.title,
        series: recorded.series.clone(),
        field: recorded.field.clone(),
        obtained: recorded.obtained,
        entry_index: changes.index,
    });
    changes.career = Some((recorded.subject, career));
}

pub(super) fn apply_eligibility(
    records: &impl RecordView,
    granted: &TitleEligibilityGranted,
    changes: &mut Changes,
) {
    let mut career = records.career(&granted.subject).unwrap_or_default();
    career.eligibilities.push(EligibilityRecord {
        id: changes.event_id,
        title: granted.title,
        series: granted.series.clone(),
        field: granted.field.clone(),
        basis: granted.basis,
        date: granted.date,
        basis_revoked: false,
        entry_index: changes.index,
    });
    changes.career = Some((granted.subject, career));
    changes
        .stats
        .push((StatKey::TitleEligibilities(granted.title), 1));
}
