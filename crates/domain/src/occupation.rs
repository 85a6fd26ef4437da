//! Occupations (国家职业分类大典 2022) as data: codes `X-XX-XX-XX` and a catalogue file.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An occupation code `大类-中类-小类-细类`, e.g. `6-18-01-01`.
///
/// Stored as its four numbers (four bytes on the wire); the major group is 1–8.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub struct OccupationCode {
    major: u8,
    middle: u8,
    minor: u8,
    detail: u8,
}

impl OccupationCode {
    /// The major group (大类), 1–8: the statistics dimension the plans use.
    pub fn major_group(self) -> u8 {
        self.major
    }

    /// Whether the four numbers form a valid code (used after decoding).
    pub fn is_well_formed(self) -> bool {
        (1..=8).contains(&self.major) && self.middle <= 99 && self.minor <= 99 && self.detail <= 99
    }
}

impl fmt::Display for OccupationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:02}-{:02}-{:02}",
            self.major, self.middle, self.minor, self.detail
        )
    }
}

impl fmt::Debug for OccupationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a text is not an occupation code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not an occupation code of the form X-XX-XX-XX (major group 1-8)")]
pub struct OccupationCodeParseError {
    pub text: String,
}

impl FromStr for OccupationCode {
    type Err = OccupationCodeParseError;

    fn from_str(text: &str) -> Result<OccupationCode, OccupationCodeParseError> {
        let error = || OccupationCodeParseError {
            text: text.to_string(),
        };
        let parts: Vec<&str> = text.split('-').collect();
        let [major, middle, minor, detail] = parts.as_slice() else {
            return Err(error());
        };
        let digits = |part: &str, width: usize| -> Result<u8, OccupationCodeParseError> {
            if part.len() != width || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error());
            }
            part.parse().map_err(|_| error())
        };
        let code = OccupationCode {
            major: digits(major, 1)?,
            middle: digits(middle, 2)?,
            minor: digits(minor, 2)?,
            detail: digits(detail, 2)?,
        };
        if code.is_well_formed() {
            Ok(code)
        } else {
            Err(error())
        }
    }
}

impl Serialize for OccupationCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for OccupationCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OccupationCode, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One occupation of the catalogue, with its work types (工种), if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupation {
    pub code: OccupationCode,
    pub name: String,
    #[serde(default)]
    pub work_types: Vec<String>,
}

/// The occupation catalogue in force: which codes and work types may be certified.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Catalogue {
    pub name: String,
    pub version: u32,
    pub occupations: BTreeMap<OccupationCode, Occupation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    name: String,
    version: u32,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    occupation: Vec<Occupation>,
}

/// Why a catalogue file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue is not valid TOML or misses a field: {0}")]
    Syntax(String),
    #[error("catalogue lists occupation {0} twice")]
    DuplicateCode(OccupationCode),
    #[error("catalogue lists no occupation")]
    Empty,
}

impl Catalogue {
    /// Parses the TOML catalogue format (see `data/occupations.sample.toml`).
    pub fn from_toml(text: &str) -> Result<Catalogue, CatalogueError> {
        let file: CatalogueFile =
            toml::from_str(text).map_err(|error| CatalogueError::Syntax(error.to_string()))?;
        if file.occupation.is_empty() {
            return Err(CatalogueError::Empty);
        }
        let mut occupations = BTreeMap::new();
        for occupation in file.occupation {
            let code = occupation.code;
            if occupations.insert(code, occupation).is_some() {
                return Err(CatalogueError::DuplicateCode(code));
            }
        }
        Ok(Catalogue {
            name: file.name,
            version: file.version,
            occupations,
        })
    }

    pub fn get(&self, code: OccupationCode) -> Option<&Occupation> {
        self.occupations.get(&code)
    }
}

/// The sample catalogue shipped for the demo and the tests (a small subset, labelled as such).
pub const SAMPLE_CATALOGUE_TOML: &str = include_str!("../../../data/occupations.sample.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes() {
        let code: OccupationCode = "6-18-01-01".parse().expect("valid");
        assert_eq!(code.to_string(), "6-18-01-01");
        assert_eq!(code.major_group(), 6);
        for bad in [
            "9-18-01-01",
            "6-18-01",
            "6-1-01-01",
            "6-18-01-0a",
            "0-00-00-00",
            "",
        ] {
            assert!(bad.parse::<OccupationCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sample_catalogue_parses() {
        let catalogue = Catalogue::from_toml(SAMPLE_CATALOGUE_TOML).expect("sample parses");
        assert!(catalogue.occupations.len() >= 8);
        let welder: OccupationCode = "6-18-02-04".parse().expect("code");
        assert!(catalogue.get(welder).is_some());
    }

    #[test]
    fn duplicate_codes_are_refused() {
        let text = "name='x'\nversion=1\n[[occupation]]\ncode='6-18-01-01'\nname='a'\n[[occupation]]\ncode='6-18-01-01'\nname='b'\n";
        assert!(matches!(
            Catalogue::from_toml(text),
            Err(CatalogueError::DuplicateCode(_))
        ));
    }
}
