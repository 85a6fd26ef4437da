//! Policy as data: the rules that vary by province, occupation and time.
//!
//! A policy is a TOML document adopted through a `PolicyAdopted` event. The event stores the
//! exact text the authority signed; the node parses it when the event is applied, and every
//! later event is judged by the version in force at *its own* date, so replaying the log gives
//! the same answers after the policy changes.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::date::Date;
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
        };
        if policy.version == 0 {
            return Err(PolicyError::Invalid("version: starts at 1".to_string()));
        }
        Ok(policy)
    }
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
