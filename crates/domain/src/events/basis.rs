//! What a `LevelCertified` stands on, by its [`Route`]: the level below held long enough
//! (evaluation on the prior level), a completed apprenticeship, an attestation, the body's
//! right of direct recognition, a contest result the promotion table allows, a title the
//! conversion table relates (贯通), or a foreign certificate the comparison catalogue lists
//! (境外技能证书比照认定). Each is judged by the policy in force at the issue date, which
//! the rejection names.
//!
//! A foreign comparison's event id is derived from the foreign document, so that one
//! document is compared once per ledger (`reused_event_id` names the document).
//!
//! A view that keeps no career records ([`RecordView::keeps_careers`] is false) skips the
//! rules that need them.

use crate::date::Date;
use crate::event::{
    EvaluationBasis, EventId, ForeignComparisonBasis, LevelCertified, Route, SignedEvent,
};
use crate::guards::{career_of, check_text, NAME_CHARS_MAX, TEXT_CHARS_MAX};
use crate::ids::BodyKind;
use crate::ladder::Level;
use crate::policy::Policy;
use crate::rejection::Rejection;
use crate::state::{BodyRecord, RecordView, Registry};

/// The rules of `certified`'s route, for the body that signed it, the policy in force at the
/// issue date and the level `held` in the occupation at that date (with its date).
pub(super) fn check(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    policy: &Policy,
    body: &BodyRecord,
    certified: &LevelCertified,
    held: Option<(Level, Date)>,
) -> Result<(), Rejection> {
    match &certified.route {
        Route::Evaluation(EvaluationBasis::PriorLevel) => {
            check_prior_level(policy, certified, held)
        }
        Route::Evaluation(EvaluationBasis::Apprenticeship { apprenticeship }) => {
            check_apprenticeship_basis(records, policy, certified, *apprenticeship)
        }
        Route::Contest { result } => {
            check_contest_promotion(registry, records, policy, certified, held, *result)
        }
        Route::Conversion { title } => {
            check_conversion_to_skill(records, policy, certified, *title)
        }
        Route::ForeignComparison(basis) => {
            check_foreign_comparison(policy, signed, certified, basis)
        }
        Route::Evaluation(EvaluationBasis::Attested { statement }) => {
            check_attested(policy, certified, statement)
        }
        Route::DirectRecognition { justification } => {
            check_direct_recognition(policy, body, certified, justification)
        }
    }
}

/// Evaluation on the prior level: the level below is held at the issue date, for the years
/// the policy requires.
fn check_prior_level(
    policy: &Policy,
    certified: &LevelCertified,
    held: Option<(Level, Date)>,
) -> Result<(), Rejection> {
    let date = certified.issued;
    let below = certified.level.below();
    let Some((held_level, since)) = held.filter(|(level, _)| Some(*level) == below) else {
        return Err(Rejection::LevelNotReachable {
            occupation: certified.occupation,
            held: held.map(|(level, _)| level),
            requested: certified.level,
            policy_version: policy.version,
        });
    };
    debug_assert_eq!(Some(held_level), below);
    let required_years = policy.min_years_after_previous(certified.occupation, certified.level);
    let earliest = since.add_years(required_years);
    if date < earliest {
        return Err(Rejection::TooFewYears {
            occupation: certified.occupation,
            level: certified.level,
            required_years,
            since,
            earliest,
            policy_version: policy.version,
        });
    }
    Ok(())
}

/// An evaluation on a completed apprenticeship: the subject's, completed by the issue date,
/// in the same occupation, for a level the policy lets an apprenticeship lead to.
fn check_apprenticeship_basis(
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

/// A credential by the contest route: the result is the subject's, in the same occupation,
/// not yet promoted; the policy's table allows the level for its tier and rank; the subject
/// has had fewer than the policy's number of contest promotions in the issue year.
fn check_contest_promotion(
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

/// Title to skill: the subject's title, obtained by the issue date, a level the conversion
/// table allows for it, in an occupation the mapping relates to the title.
fn check_conversion_to_skill(
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

/// The rules of a foreign comparison, against the policy in force at the issue date.
fn check_foreign_comparison(
    policy: &Policy,
    signed: &SignedEvent,
    certified: &LevelCertified,
    basis: &ForeignComparisonBasis,
) -> Result<(), Rejection> {
    check_text(
        "route.certificate_type",
        &basis.certificate_type,
        NAME_CHARS_MAX,
    )?;
    check_text(
        "route.foreign_issuer",
        &basis.foreign_issuer,
        NAME_CHARS_MAX,
    )?;
    check_text("route.document_id", &basis.document_id, NAME_CHARS_MAX)?;
    if basis.catalogue_version != policy.version {
        return Err(Rejection::ForeignCatalogueVersion {
            named: basis.catalogue_version,
            in_force: policy.version,
            date: certified.issued,
        });
    }
    let row = policy
        .foreign_comparison(&basis.certificate_type)
        .ok_or_else(|| Rejection::UnknownForeignCertificate {
            certificate_type: basis.certificate_type.clone(),
            policy_version: policy.version,
        })?;
    if row.occupation != certified.occupation || row.level != certified.level {
        return Err(Rejection::ForeignComparisonMismatch {
            certificate_type: basis.certificate_type.clone(),
            listed_occupation: row.occupation,
            listed_level: row.level,
            occupation: certified.occupation,
            level: certified.level,
            policy_version: policy.version,
        });
    }
    let expected = basis.event_id();
    if signed.event.id != expected {
        return Err(Rejection::ForeignDocumentIdMismatch {
            expected,
            found: signed.event.id,
        });
    }
    Ok(())
}

/// Evaluation on an attestation, for entry levels up to the policy's `attested_entry_max`.
fn check_attested(
    policy: &Policy,
    certified: &LevelCertified,
    statement: &str,
) -> Result<(), Rejection> {
    check_text("route.statement", statement, TEXT_CHARS_MAX)?;
    let attested_entry_max = policy.evaluation.attested_entry_max;
    if certified.level > attested_entry_max {
        return Err(Rejection::AttestedBasisNotAllowed {
            level: certified.level,
            attested_entry_max,
            policy_version: policy.version,
        });
    }
    Ok(())
}

/// Direct recognition: by a body of a kind the policy names, whose registration grants the
/// right, up to the policy's `level_max`.
fn check_direct_recognition(
    policy: &Policy,
    body: &BodyRecord,
    certified: &LevelCertified,
    justification: &str,
) -> Result<(), Rejection> {
    let refuse = |reason: &str| Rejection::DirectRecognitionNotAllowed {
        registration_number: body.registration_number,
        reason: reason.to_string(),
        policy_version: policy.version,
    };
    let kind = body.registration_number.kind();
    if !policy.direct_recognition.body_kinds.contains(&kind) {
        return Err(refuse(match kind {
            BodyKind::Enterprise => "the policy gives enterprises no such right",
            BodyKind::SocialOrganisation => {
                "only the body kinds the policy names may recognise directly"
            }
        }));
    }
    if !body.direct_recognition {
        return Err(refuse("its registration does not grant the right"));
    }
    let level_max = policy.direct_recognition.level_max;
    if certified.level > level_max {
        return Err(Rejection::AboveDirectRecognitionLimit {
            level: certified.level,
            level_max,
            policy_version: policy.version,
        });
    }
    check_text("route.justification", justification, TEXT_CHARS_MAX)
}
