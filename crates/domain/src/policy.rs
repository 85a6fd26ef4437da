//! Policy as data: the rules that vary by province, occupation and time.
//!
//! A policy is a TOML document adopted through a `PolicyAdopted` event. The event stores the
//! exact text the authority signed; the node parses it when the event is applied, and every
//! later event is judged by the version in force at *its own* date, so replaying the log gives
//! the same answers after the policy changes.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::date::Date;
use crate::event::{ContestTier, TitleLevel};
use crate::ids::BodyKind;
use crate::ladder::Level;
use crate::occupation::OccupationCode;

/// A parsed policy version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub version: u32,
    pub effective: Date,
    pub name: String,
    pub evaluation: EvaluationPolicy,
    pub direct_recognition: DirectRecognitionPolicy,
    pub apprenticeship: ApprenticeshipPolicy,
    pub contest: ContestPolicy,
    pub appointment: AppointmentPolicy,
    pub conversion: ConversionPolicy,
    pub recognition: RecognitionPolicy,
    pub qualification: QualificationPolicy,
    /// 专项职业能力: the abilities bodies may certify, each under an occupation.
    pub special_abilities: Vec<SpecialAbility>,
    /// 境外技能证书比照认定: the comparison catalogue (foreign certificate type → occupation and
    /// level). Its version is the policy's version.
    pub foreign_comparison: Vec<ForeignComparison>,
}

/// Rules for 职业资格证书 (access-controlled occupations, 准入类). Absent: no occupation is
/// access-controlled, so no qualification may be issued.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QualificationPolicy {
    /// Body kinds that may issue qualifications.
    pub body_kinds: Vec<BodyKind>,
    /// The access-controlled occupations and the levels their qualification has.
    pub occupations: Vec<QualificationOccupation>,
}

/// An access-controlled occupation and the levels of its qualification.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualificationOccupation {
    pub code: OccupationCode,
    pub levels: Vec<Level>,
}

/// A 专项职业能力 the policy names: its code (what certificates carry), name and occupation.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialAbility {
    pub code: String,
    pub name: String,
    pub occupation: OccupationCode,
}

/// One row of the comparison catalogue: a foreign certificate of `certificate_type` counts as
/// `level` in `occupation`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignComparison {
    pub certificate_type: String,
    pub name: String,
    /// ISO 3166-1 alpha-2 country code of the issuing country.
    pub country: String,
    pub occupation: OccupationCode,
    pub level: Level,
}

/// Rules for recognising partner credentials (川渝 互认). Absent from a policy document: no
/// recognition (the route is closed until a policy opens it).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RecognitionPolicy {
    /// Whether the document has a `[recognition]` section.
    pub open: bool,
    /// The highest level recognised.
    pub level_max: Option<Level>,
    /// Partner occupation → home occupation, where the catalogues differ.
    pub mapping: Vec<RecognitionMapping>,
}

/// One row of the recognition mapping: a credential of `partner` occupation (of the partner
/// `origin`, or of any partner without it) counts in the home occupation `home`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecognitionMapping {
    #[serde(default)]
    pub origin: Option<String>,
    pub partner: OccupationCode,
    pub home: OccupationCode,
}

impl RecognitionPolicy {
    /// The home occupation a credential of `partner` occupation from `origin` counts in: the
    /// row for that origin, else the row for any partner, else the same code.
    pub fn home_occupation(&self, origin: &str, partner: OccupationCode) -> OccupationCode {
        let row = |for_origin: Option<&str>| {
            self.mapping
                .iter()
                .find(|row| row.partner == partner && row.origin.as_deref() == for_origin)
        };
        row(Some(origin))
            .or_else(|| row(None))
            .map_or(partner, |row| row.home)
    }
}

/// Rules for enterprise apprenticeships (学徒工). Absent from a policy document: no body kind
/// may record them (the route is closed until a policy opens it).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ApprenticeshipPolicy {
    /// Body kinds that may record apprenticeships.
    pub body_kinds: Vec<BodyKind>,
    /// Minimum full years between start and completion.
    pub min_years: u32,
    /// The highest level a completed apprenticeship is a basis for (normally 初级工).
    pub level_max: Option<Level>,
}

/// Rules for contest promotion (竞赛晋升). Absent: no promotion table, no contest promotion.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ContestPolicy {
    /// Most contest promotions one subject may receive in a calendar year.
    pub promotions_per_year_max: u32,
    pub promotions: Vec<ContestPromotion>,
}

/// One row of the promotion table: a result of `tier` ranked `rank_max` or better may be
/// promoted to `level`, or, when `one_above_held_max` is set, to the level directly above
/// the one held in the occupation if that is higher, up to `one_above_held_max`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContestPromotion {
    pub tier: ContestTier,
    pub rank_max: u16,
    pub level: Level,
    #[serde(default)]
    pub one_above_held_max: Option<Level>,
}

impl ContestPromotion {
    /// The level this row allows for a person holding `held` in the occupation.
    pub fn allowed(&self, held: Option<Level>) -> Level {
        let one_above = match (self.one_above_held_max, held.and_then(Level::above)) {
            (Some(max), Some(above)) => Some(above.min(max)),
            _ => None,
        };
        one_above.map_or(self.level, |above| above.max(self.level))
    }
}

/// Rules for appointments (评聘) to 特级技师 and 首席技师. Absent: no body kind may appoint.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AppointmentPolicy {
    pub body_kinds: Vec<BodyKind>,
    /// Full years a 高级技师 credential must have been held before a 特级技师 appointment.
    pub principal_min_years: u32,
    /// Longest term of one appointment, in years.
    pub term_years_max: u32,
    /// Whether 首席技师 requires a current 特级技师 post in the same occupation.
    pub chief_requires_principal: bool,
}

/// Rules for 专技/技能 贯通. Absent: empty tables, no conversion.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ConversionPolicy {
    /// Title → the highest skill level it is a basis for.
    pub title_to_skill: Vec<TitleToSkill>,
    /// Skill level held for some years → the title one may be evaluated for.
    pub skill_to_title: Vec<SkillToTitle>,
    /// Which occupations are related to a title's series and field.
    pub mapping: Vec<OccupationMapping>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TitleToSkill {
    pub title: TitleLevel,
    pub level: Level,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillToTitle {
    pub level: Level,
    pub years: u32,
    pub title: TitleLevel,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OccupationMapping {
    pub series: String,
    pub field: String,
    pub occupations: Vec<OccupationCode>,
}

/// Rules for evaluation (评价考核).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvaluationPolicy {
    /// The highest level for which a person without the level below may be evaluated on an
    /// attested basis (a diploma, years in the occupation, a completed apprenticeship).
    pub attested_entry_max: Level,
    /// Default template: minimum full years after obtaining the level below.
    pub min_years_after_previous: BTreeMap<Level, u32>,
    /// Per-occupation overrides of the template.
    pub occupation_min_years: BTreeMap<OccupationCode, BTreeMap<Level, u32>>,
}

/// Rules for direct recognition (直接认定 / 破格晋升).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectRecognitionPolicy {
    pub body_kinds: Vec<BodyKind>,
    pub level_max: Level,
}

impl Policy {
    /// Minimum full years between the level below and `level` in `occupation`.
    pub fn min_years_after_previous(&self, occupation: OccupationCode, level: Level) -> u32 {
        self.evaluation
            .occupation_min_years
            .get(&occupation)
            .and_then(|table| table.get(&level))
            .or_else(|| self.evaluation.min_years_after_previous.get(&level))
            .copied()
            .unwrap_or(0)
    }

    /// The highest level the promotion table allows for a result of `tier` ranked `rank`,
    /// for a person holding `held` in the occupation; `None` when no row matches.
    pub fn contest_level_allowed(
        &self,
        tier: ContestTier,
        rank: u16,
        held: Option<Level>,
    ) -> Option<Level> {
        self.contest
            .promotions
            .iter()
            .filter(|row| row.tier == tier && rank >= 1 && rank <= row.rank_max)
            .map(|row| row.allowed(held))
            .max()
    }

    /// The highest skill level `title` is a conversion basis for.
    pub fn title_to_skill_level(&self, title: TitleLevel) -> Option<Level> {
        self.conversion
            .title_to_skill
            .iter()
            .filter(|row| row.title == title)
            .map(|row| row.level)
            .max()
    }

    /// The row of the skill-to-title table for `title` (level held and years after it).
    pub fn skill_to_title_rule(&self, title: TitleLevel) -> Option<&SkillToTitle> {
        self.conversion
            .skill_to_title
            .iter()
            .find(|row| row.title == title)
    }

    /// Whether `occupation` is related to a title of `series` and `field` per the mapping.
    pub fn occupation_related(
        &self,
        series: &str,
        field: &str,
        occupation: OccupationCode,
    ) -> bool {
        self.conversion.mapping.iter().any(|row| {
            row.series == series && row.field == field && row.occupations.contains(&occupation)
        })
    }

    /// The levels of `occupation`'s qualification, when the occupation is access-controlled.
    pub fn qualification_levels(&self, occupation: OccupationCode) -> Option<&[Level]> {
        self.qualification
            .occupations
            .iter()
            .find(|row| row.code == occupation)
            .map(|row| row.levels.as_slice())
    }

    /// The special ability `code`, when the policy names it.
    pub fn special_ability(&self, code: &str) -> Option<&SpecialAbility> {
        self.special_abilities.iter().find(|row| row.code == code)
    }

    /// The comparison catalogue's row for `certificate_type`.
    pub fn foreign_comparison(&self, certificate_type: &str) -> Option<&ForeignComparison> {
        self.foreign_comparison
            .iter()
            .find(|row| row.certificate_type == certificate_type)
    }

    /// Parses and checks a policy document.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|error| PolicyError::Syntax(error.to_string()))?;
        let check_levels = |field: &str, table: &BTreeMap<Level, u32>| {
            for (level, years) in table {
                if level.national_number().is_none() || *level == Level::Junior {
                    return Err(PolicyError::Invalid(format!(
                        "{field}: {} has no level below it that evaluation builds on",
                        level.id()
                    )));
                }
                if *years > 50 {
                    return Err(PolicyError::Invalid(format!(
                        "{field}.{}: {years} years is not plausible (at most 50)",
                        level.id()
                    )));
                }
            }
            Ok(())
        };
        check_levels(
            "evaluation.min_years_after_previous",
            &file.evaluation.min_years_after_previous,
        )?;
        let mut occupation_min_years = BTreeMap::new();
        for entry in file.evaluation.occupation {
            check_levels(
                &format!("evaluation.occupation[{}]", entry.code),
                &entry.min_years_after_previous,
            )?;
            if occupation_min_years
                .insert(entry.code, entry.min_years_after_previous)
                .is_some()
            {
                return Err(PolicyError::Invalid(format!(
                    "evaluation.occupation lists {} twice",
                    entry.code
                )));
            }
        }
        let certifiable = |field: &str, level: Level| {
            if level.national_number().is_some() {
                Ok(level)
            } else {
                Err(PolicyError::Invalid(format!(
                    "{field}: {} carries no certificate; use junior … senior_technician",
                    level.id()
                )))
            }
        };
        let policy = Policy {
            version: file.version,
            effective: file.effective,
            name: file.name,
            evaluation: EvaluationPolicy {
                attested_entry_max: certifiable(
                    "evaluation.attested_entry_max",
                    file.evaluation.attested_entry_max,
                )?,
                min_years_after_previous: file.evaluation.min_years_after_previous,
                occupation_min_years,
            },
            direct_recognition: DirectRecognitionPolicy {
                body_kinds: file.direct_recognition.body_kinds,
                level_max: certifiable(
                    "direct_recognition.level_max",
                    file.direct_recognition.level_max,
                )?,
            },
            apprenticeship: ApprenticeshipPolicy::default(),
            contest: ContestPolicy::default(),
            appointment: AppointmentPolicy::default(),
            conversion: ConversionPolicy::default(),
            recognition: RecognitionPolicy::default(),
            qualification: QualificationPolicy::default(),
            special_abilities: Vec::new(),
            foreign_comparison: Vec::new(),
        };
        let policy = Policy {
            qualification: check_qualification(file.qualification)?,
            special_abilities: check_special_abilities(file.special_ability)?,
            foreign_comparison: check_foreign_comparison(file.foreign_comparison)?,
            apprenticeship: check_apprenticeship(file.apprenticeship)?,
            contest: check_contest(file.contest)?,
            appointment: check_appointment(file.appointment)?,
            conversion: check_conversion(file.conversion)?,
            recognition: check_recognition(file.recognition)?,
            ..policy
        };
        if policy.version == 0 {
            return Err(PolicyError::Invalid("version: starts at 1".to_string()));
        }
        Ok(policy)
    }
}

fn certifiable_level(field: &str, level: Level) -> Result<Level, PolicyError> {
    if level.national_number().is_some() {
        Ok(level)
    } else {
        Err(PolicyError::Invalid(format!(
            "{field}: {} carries no certificate; use junior … senior_technician",
            level.id()
        )))
    }
}

fn plausible_years(field: &str, years: u32) -> Result<u32, PolicyError> {
    if years > 50 {
        return Err(PolicyError::Invalid(format!(
            "{field}: {years} years is not plausible (at most 50)"
        )));
    }
    Ok(years)
}

fn check_apprenticeship(
    file: Option<ApprenticeshipFile>,
) -> Result<ApprenticeshipPolicy, PolicyError> {
    let Some(file) = file else {
        return Ok(ApprenticeshipPolicy::default());
    };
    Ok(ApprenticeshipPolicy {
        body_kinds: file.body_kinds,
        min_years: plausible_years("apprenticeship.min_years", file.min_years)?,
        level_max: Some(certifiable_level(
            "apprenticeship.level_max",
            file.level_max,
        )?),
    })
}

fn check_contest(file: Option<ContestFile>) -> Result<ContestPolicy, PolicyError> {
    let Some(file) = file else {
        return Ok(ContestPolicy::default());
    };
    for (position, row) in file.promotion.iter().enumerate() {
        let field = format!("contest.promotion[{position}]");
        certifiable_level(&format!("{field}.level"), row.level)?;
        if let Some(max) = row.one_above_held_max {
            certifiable_level(&format!("{field}.one_above_held_max"), max)?;
        }
        if row.rank_max == 0 {
            return Err(PolicyError::Invalid(format!(
                "{field}.rank_max: placings start at 1"
            )));
        }
    }
    Ok(ContestPolicy {
        promotions_per_year_max: file.promotions_per_year_max,
        promotions: file.promotion,
    })
}

fn check_appointment(file: Option<AppointmentFile>) -> Result<AppointmentPolicy, PolicyError> {
    let Some(file) = file else {
        return Ok(AppointmentPolicy::default());
    };
    if file.term_years_max == 0 {
        return Err(PolicyError::Invalid(
            "appointment.term_years_max: a term lasts at least a year".to_string(),
        ));
    }
    Ok(AppointmentPolicy {
        body_kinds: file.body_kinds,
        principal_min_years: plausible_years(
            "appointment.principal_min_years",
            file.principal_min_years,
        )?,
        term_years_max: plausible_years("appointment.term_years_max", file.term_years_max)?,
        chief_requires_principal: file.chief_requires_principal,
    })
}

fn check_conversion(file: Option<ConversionFile>) -> Result<ConversionPolicy, PolicyError> {
    let Some(file) = file else {
        return Ok(ConversionPolicy::default());
    };
    for (position, row) in file.title_to_skill.iter().enumerate() {
        certifiable_level(
            &format!("conversion.title_to_skill[{position}].level"),
            row.level,
        )?;
    }
    for (position, row) in file.skill_to_title.iter().enumerate() {
        certifiable_level(
            &format!("conversion.skill_to_title[{position}].level"),
            row.level,
        )?;
        plausible_years(
            &format!("conversion.skill_to_title[{position}].years"),
            row.years,
        )?;
    }
    Ok(ConversionPolicy {
        title_to_skill: file.title_to_skill,
        skill_to_title: file.skill_to_title,
        mapping: file.mapping,
    })
}

fn check_recognition(file: Option<RecognitionFile>) -> Result<RecognitionPolicy, PolicyError> {
    let Some(file) = file else {
        return Ok(RecognitionPolicy::default());
    };
    let level_max = certifiable_level("recognition.level_max", file.level_max)?;
    let mut seen = std::collections::BTreeSet::new();
    for (position, row) in file.mapping.iter().enumerate() {
        if !seen.insert((row.origin.clone(), row.partner)) {
            return Err(PolicyError::Invalid(format!(
                "recognition.mapping[{position}]: {} is mapped twice for the same origin",
                row.partner
            )));
        }
    }
    Ok(RecognitionPolicy {
        open: true,
        level_max: Some(level_max),
        mapping: file.mapping,
    })
}

/// The longest code, name or country in the kinds' tables (characters).
const KIND_TEXT_CHARS_MAX: usize = 200;

fn check_table_text(field: &str, text: &str) -> Result<(), PolicyError> {
    if text.trim().is_empty() {
        return Err(PolicyError::Invalid(format!("{field}: is empty")));
    }
    let length = text.chars().count();
    if length > KIND_TEXT_CHARS_MAX {
        return Err(PolicyError::Invalid(format!(
            "{field}: {length} characters, at most {KIND_TEXT_CHARS_MAX}"
        )));
    }
    Ok(())
}

fn check_qualification(
    file: Option<QualificationFile>,
) -> Result<QualificationPolicy, PolicyError> {
    let Some(file) = file else {
        return Ok(QualificationPolicy::default());
    };
    let mut seen = std::collections::BTreeSet::new();
    for (position, row) in file.occupation.iter().enumerate() {
        let field = format!("qualification.occupation[{position}]");
        if !seen.insert(row.code) {
            return Err(PolicyError::Invalid(format!(
                "{field}: {} is listed twice",
                row.code
            )));
        }
        if row.levels.is_empty() {
            return Err(PolicyError::Invalid(format!(
                "{field}.levels: lists no level"
            )));
        }
        for level in &row.levels {
            certifiable_level(&format!("{field}.levels"), *level)?;
        }
    }
    Ok(QualificationPolicy {
        body_kinds: file.body_kinds,
        occupations: file.occupation,
    })
}

fn check_special_abilities(rows: Vec<SpecialAbility>) -> Result<Vec<SpecialAbility>, PolicyError> {
    let mut seen = std::collections::BTreeSet::new();
    for (position, row) in rows.iter().enumerate() {
        let field = format!("special_ability[{position}]");
        check_table_text(&format!("{field}.code"), &row.code)?;
        check_table_text(&format!("{field}.name"), &row.name)?;
        if !seen.insert(row.code.as_str()) {
            return Err(PolicyError::Invalid(format!(
                "{field}.code: {} is listed twice",
                row.code
            )));
        }
    }
    Ok(rows)
}

fn check_foreign_comparison(
    rows: Vec<ForeignComparison>,
) -> Result<Vec<ForeignComparison>, PolicyError> {
    let mut seen = std::collections::BTreeSet::new();
    for (position, row) in rows.iter().enumerate() {
        let field = format!("foreign_comparison[{position}]");
        check_table_text(&format!("{field}.certificate_type"), &row.certificate_type)?;
        check_table_text(&format!("{field}.name"), &row.name)?;
        if row.country.len() != 2 || !row.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(PolicyError::Invalid(format!(
                "{field}.country: '{}' is not an ISO 3166-1 alpha-2 code (two capital letters)",
                row.country
            )));
        }
        certifiable_level(&format!("{field}.level"), row.level)?;
        if !seen.insert(row.certificate_type.as_str()) {
            return Err(PolicyError::Invalid(format!(
                "{field}.certificate_type: {} is listed twice",
                row.certificate_type
            )));
        }
    }
    Ok(rows)
}

/// Why a policy document was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy is not valid TOML or has a wrong field: {0}")]
    Syntax(String),
    #[error("policy field {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: u32,
    effective: Date,
    name: String,
    evaluation: EvaluationFile,
    direct_recognition: DirectRecognitionFile,
    // The sections of issue 5; absent in documents written before them, which therefore keep
    // those routes closed (the defaults are fixed here forever, so old logs replay the same).
    #[serde(default)]
    apprenticeship: Option<ApprenticeshipFile>,
    #[serde(default)]
    contest: Option<ContestFile>,
    #[serde(default)]
    appointment: Option<AppointmentFile>,
    #[serde(default)]
    conversion: Option<ConversionFile>,
    // Issue 6; absent in earlier documents, which keep recognition closed.
    #[serde(default)]
    recognition: Option<RecognitionFile>,
    // Issue 19 (every credential kind); absent in earlier documents: no access-controlled
    // occupation, no special ability, an empty comparison catalogue.
    #[serde(default)]
    qualification: Option<QualificationFile>,
    #[serde(default)]
    special_ability: Vec<SpecialAbility>,
    #[serde(default)]
    foreign_comparison: Vec<ForeignComparison>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QualificationFile {
    body_kinds: Vec<BodyKind>,
    #[serde(default)]
    occupation: Vec<QualificationOccupation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecognitionFile {
    #[serde(default = "senior_technician")]
    level_max: Level,
    #[serde(default)]
    mapping: Vec<RecognitionMapping>,
}

fn senior_technician() -> Level {
    Level::SeniorTechnician
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprenticeshipFile {
    body_kinds: Vec<BodyKind>,
    min_years: u32,
    level_max: Level,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContestFile {
    promotions_per_year_max: u32,
    #[serde(default)]
    promotion: Vec<ContestPromotion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppointmentFile {
    body_kinds: Vec<BodyKind>,
    principal_min_years: u32,
    term_years_max: u32,
    #[serde(default)]
    chief_requires_principal: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversionFile {
    #[serde(default)]
    title_to_skill: Vec<TitleToSkill>,
    #[serde(default)]
    skill_to_title: Vec<SkillToTitle>,
    #[serde(default)]
    mapping: Vec<OccupationMapping>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluationFile {
    attested_entry_max: Level,
    #[serde(default)]
    min_years_after_previous: BTreeMap<Level, u32>,
    #[serde(default)]
    occupation: Vec<OccupationOverrideFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OccupationOverrideFile {
    code: OccupationCode,
    min_years_after_previous: BTreeMap<Level, u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectRecognitionFile {
    body_kinds: Vec<BodyKind>,
    level_max: Level,
}

/// The default policy shipped for new ledgers and the demo (the national template).
pub const DEFAULT_POLICY_TOML: &str = include_str!("../../../data/policy.default.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_parses() {
        let policy = Policy::from_toml(DEFAULT_POLICY_TOML).expect("default policy parses");
        assert_eq!(policy.version, 1);
        let welder: OccupationCode = "6-18-02-04".parse().expect("code");
        let turner: OccupationCode = "6-18-01-01".parse().expect("code");
        assert_eq!(
            policy.min_years_after_previous(turner, Level::Intermediate),
            4
        );
        assert_eq!(policy.min_years_after_previous(turner, Level::Senior), 5);
        assert_eq!(policy.min_years_after_previous(welder, Level::Senior), 4);
        assert_eq!(
            policy.direct_recognition.body_kinds,
            vec![BodyKind::Enterprise]
        );
    }

    #[test]
    fn errors_name_the_field() {
        let text = DEFAULT_POLICY_TOML.replace(
            "level_max = \"senior_technician\"",
            "level_max = \"chief_technician\"",
        );
        let error = Policy::from_toml(&text).unwrap_err().to_string();
        assert!(error.contains("direct_recognition.level_max"), "{error}");
        let error = Policy::from_toml("version = 1\n").unwrap_err().to_string();
        assert!(error.contains("missing field"), "{error}");
        let text = DEFAULT_POLICY_TOML.replace("senior = 5", "grandmaster = 5");
        let error = Policy::from_toml(&text).unwrap_err().to_string();
        assert!(error.contains("grandmaster"), "{error}");
    }
}
