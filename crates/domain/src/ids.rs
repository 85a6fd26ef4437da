//! Identifiers with a public structure: provinces, registration numbers (备案编号) and
//! certificate numbers (职业技能等级证书编码, 人社鉴发〔2019〕2号).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ladder::Level;

/// A province-level division by its two-digit code (Chongqing `50`, Sichuan `51`).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    bincode::Encode,
    bincode::Decode,
    Serialize,
    Deserialize,
)]
pub struct Province(pub u8);

impl Province {
    pub const CHONGQING: Province = Province(50);
    pub const SICHUAN: Province = Province(51);

    pub fn is_well_formed(self) -> bool {
        (11..=82).contains(&self.0)
    }

    pub fn name_zh(self) -> &'static str {
        match self.0 {
            50 => "重庆市",
            51 => "四川省",
            11 => "北京市",
            31 => "上海市",
            _ => "其他省份",
        }
    }
}

impl fmt::Display for Province {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

/// The kind of evaluation body, the first character of its registration number.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, bincode::Encode, bincode::Decode,
)]
pub enum BodyKind {
    /// `Y`: an employer (用人单位) evaluating its own staff.
    Enterprise,
    /// `S`: a social training-evaluation organisation (社会培训评价组织).
    SocialOrganisation,
}

impl BodyKind {
    pub fn letter(self) -> char {
        match self {
            BodyKind::Enterprise => 'Y',
            BodyKind::SocialOrganisation => 'S',
        }
    }

    pub fn from_letter(letter: char) -> Option<BodyKind> {
        match letter {
            'Y' => Some(BodyKind::Enterprise),
            'S' => Some(BodyKind::SocialOrganisation),
            _ => None,
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            BodyKind::Enterprise => "用人单位",
            BodyKind::SocialOrganisation => "社会培训评价组织",
        }
    }
}

impl Serialize for BodyKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.letter().to_string())
    }
}

impl<'de> Deserialize<'de> for BodyKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<BodyKind, D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut chars = text.chars();
        match (chars.next().and_then(BodyKind::from_letter), chars.next()) {
            (Some(kind), None) => Ok(kind),
            _ => Err(serde::de::Error::custom(format!(
                "'{text}' is not a body kind: use Y (enterprise) or S (social organisation)"
            ))),
        }
    }
}

/// Why an identifier text was refused; the message names the position at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a valid {what}: {reason}")]
pub struct IdParseError {
    pub what: &'static str,
    pub text: String,
    pub reason: String,
}

fn check_ascii_layout<'a>(
    what: &'static str,
    text: &'a str,
    length: usize,
) -> Result<(BodyKind, &'a [u8]), IdParseError> {
    let error = |reason: String| IdParseError {
        what,
        text: text.to_string(),
        reason,
    };
    let bytes = text.as_bytes();
    if bytes.len() != length {
        return Err(error(format!(
            "it has {} characters, {length} expected",
            text.chars().count()
        )));
    }
    let kind = BodyKind::from_letter(char::from(bytes[0])).ok_or_else(|| {
        error("position 1 must be Y (enterprise) or S (social organisation)".to_string())
    })?;
    if let Some(position) = bytes[1..].iter().position(|b| !b.is_ascii_digit()) {
        return Err(error(format!("position {} must be a digit", position + 2)));
    }
    let province = Province(two_digits(bytes[5], bytes[6]));
    if !province.is_well_formed() {
        return Err(error(format!(
            "positions 6-7 ({province}) are not a province code"
        )));
    }
    Ok((kind, bytes))
}

/// The number two ASCII digits write; on other bytes some number, without overflowing (the
/// accessors of decoded, not yet checked identifiers must not panic).
fn two_digits(tens: u8, units: u8) -> u8 {
    tens.wrapping_sub(b'0')
        .wrapping_mul(10)
        .wrapping_add(units.wrapping_sub(b'0'))
}

/// An evaluation body's registration number: the 13-character prefix of its certificate
/// numbers, e.g. `Y000050001064` (kind, 4-digit ministry code or `0000`, province, serial).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub struct RegistrationNumber([u8; 13]);

impl RegistrationNumber {
    pub fn kind(&self) -> BodyKind {
        BodyKind::from_letter(char::from(self.0[0])).unwrap_or(BodyKind::Enterprise)
    }

    /// The province code in positions 6–7. Total on any bytes: decoded numbers are not
    /// checked until a rule asks [`RegistrationNumber::is_well_formed`], and a malformed one
    /// gives a code that is not a province.
    pub fn province(&self) -> Province {
        Province(two_digits(self.0[5], self.0[6]))
    }

    pub fn as_str(&self) -> &str {
        // Constructed only from validated ASCII.
        std::str::from_utf8(&self.0).unwrap_or("?")
    }

    pub fn as_bytes(&self) -> &[u8; 13] {
        &self.0
    }

    /// Whether decoded bytes still form a valid number.
    pub fn is_well_formed(&self) -> bool {
        std::str::from_utf8(&self.0)
            .ok()
            .is_some_and(|text| text.parse::<RegistrationNumber>().is_ok())
    }
}

impl FromStr for RegistrationNumber {
    type Err = IdParseError;

    fn from_str(text: &str) -> Result<RegistrationNumber, IdParseError> {
        let (_, bytes) = check_ascii_layout("registration number", text, 13)?;
        let mut number = [0u8; 13];
        number.copy_from_slice(bytes);
        Ok(RegistrationNumber(number))
    }
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of credential the policy names (多元评价), told apart by a certificate number's
/// series (position 16).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum CredentialKind {
    /// 职业技能等级证书: a level of the ladder, issued by a registered evaluation body.
    SkillLevel,
    /// 职业资格证书: a level in an access-controlled occupation (准入类), for the occupations
    /// and levels the policy's `[qualification]` section lists. Counts as a ladder level.
    Qualification,
    /// 专项职业能力证书: a named ability under an occupation, without a level. Never counts as a
    /// ladder level.
    SpecialAbility,
}

impl CredentialKind {
    pub const ALL: [CredentialKind; 3] = [
        CredentialKind::SkillLevel,
        CredentialKind::Qualification,
        CredentialKind::SpecialAbility,
    ];

    pub fn id(self) -> &'static str {
        match self {
            CredentialKind::SkillLevel => "skill_level",
            CredentialKind::Qualification => "qualification",
            CredentialKind::SpecialAbility => "special_ability",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            CredentialKind::SkillLevel => "职业技能等级证书",
            CredentialKind::Qualification => "职业资格证书",
            CredentialKind::SpecialAbility => "专项职业能力证书",
        }
    }

    pub fn from_id(id: &str) -> Option<CredentialKind> {
        CredentialKind::ALL
            .into_iter()
            .find(|kind| kind.id() == id || kind.name_zh() == id)
    }
}

/// A certificate number: 22 characters, one capital letter, then digits, with the
/// credential's kind in position 16.
///
/// | positions | 职业技能等级证书 | 职业资格证书 | 专项职业能力证书 |
/// |---|---|---|---|
/// | 1–13 | issuing body's registration number | same | same |
/// | 14–15 | year issued, two digits | same | same |
/// | 16 | national level number 1–5 | `Q` | `Z` |
/// | 17 | serial | national level number 1–5 | serial |
/// | 18–22 | serial | serial | serial |
///
/// So a skill-level number has a 6-digit serial per body, year and level, a qualification
/// number a 5-digit serial per body, year and level, a special-ability number a 6-digit
/// serial per body and year: the three series never share a number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub struct CertificateNumber([u8; 22]);

impl CertificateNumber {
    /// Builds a 职业技能等级证书 number from its parts (used by issuers and the demo).
    pub fn compose(
        body: RegistrationNumber,
        year: i32,
        level: Level,
        serial: u32,
    ) -> Option<CertificateNumber> {
        let number = level.national_number()?;
        CertificateNumber::compose_series(body, year, &number.to_string(), serial, 6)
    }

    /// The number of `body` and `year` with `series` (position 16 on) and a serial of
    /// `digits` digits; `None` when the serial does not fit.
    fn compose_series(
        body: RegistrationNumber,
        year: i32,
        series: &str,
        serial: u32,
        digits: u32,
    ) -> Option<CertificateNumber> {
        if serial >= 10u32.pow(digits) {
            return None;
        }
        let width = digits as usize;
        let text = format!(
            "{}{:02}{series}{serial:0width$}",
            body.as_str(),
            year.rem_euclid(100)
        );
        text.parse().ok()
    }

    pub fn registration_number(&self) -> RegistrationNumber {
        let mut prefix = [0u8; 13];
        prefix.copy_from_slice(&self.0[..13]);
        RegistrationNumber(prefix)
    }

    pub fn province(&self) -> Province {
        self.registration_number().province()
    }

    /// The two-digit year issued.
    pub fn year_two_digits(&self) -> u8 {
        two_digits(self.0[13], self.0[14])
    }

    /// Builds a 职业资格证书 number (`Q` series, serial up to 99,999).
    pub fn compose_qualification(
        body: RegistrationNumber,
        year: i32,
        level: Level,
        serial: u32,
    ) -> Option<CertificateNumber> {
        let number = level.national_number()?;
        CertificateNumber::compose_series(body, year, &format!("Q{number}"), serial, 5)
    }

    /// Builds a 专项职业能力证书 number (`Z` series, serial up to 999,999).
    pub fn compose_special_ability(
        body: RegistrationNumber,
        year: i32,
        serial: u32,
    ) -> Option<CertificateNumber> {
        CertificateNumber::compose_series(body, year, "Z", serial, 6)
    }

    /// The kind of credential the number's series (position 16) says.
    pub fn kind(&self) -> CredentialKind {
        match self.0[15] {
            b'Q' => CredentialKind::Qualification,
            b'Z' => CredentialKind::SpecialAbility,
            _ => CredentialKind::SkillLevel,
        }
    }

    /// The national level number the number writes: position 16 of a skill-level number,
    /// position 17 of a qualification number; 0 for a special-ability number (no level).
    pub fn level_number(&self) -> u8 {
        match self.kind() {
            CredentialKind::SkillLevel => self.0[15].wrapping_sub(b'0'),
            CredentialKind::Qualification => self.0[16].wrapping_sub(b'0'),
            CredentialKind::SpecialAbility => 0,
        }
    }

    pub fn serial(&self) -> u32 {
        let start = match self.kind() {
            CredentialKind::Qualification => 17,
            _ => 16,
        };
        self.0[start..].iter().fold(0u32, |value, digit| {
            value
                .wrapping_mul(10)
                .wrapping_add(u32::from(digit.wrapping_sub(b'0')))
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("?")
    }

    pub fn as_bytes(&self) -> &[u8; 22] {
        &self.0
    }

    /// Whether decoded bytes still form a valid number.
    pub fn is_well_formed(&self) -> bool {
        std::str::from_utf8(&self.0)
            .ok()
            .is_some_and(|text| text.parse::<CertificateNumber>().is_ok())
    }
}

impl FromStr for CertificateNumber {
    type Err = IdParseError;

    fn from_str(text: &str) -> Result<CertificateNumber, IdParseError> {
        const WHAT: &str = "certificate number";
        let error = |reason: String| IdParseError {
            what: WHAT,
            text: text.to_string(),
            reason,
        };
        // The series letter of a qualification or special-ability number stands where a
        // skill-level number has its level digit; the rest of the layout is common.
        let series = text.as_bytes().get(15).copied();
        let layout = match series {
            Some(letter @ (b'Q' | b'Z')) if text.len() == 22 => {
                let mut digits = text.as_bytes().to_vec();
                digits[15] = b'0';
                let digits = String::from_utf8(digits).map_err(|_| error("not ASCII".into()))?;
                check_ascii_layout(WHAT, &digits, 22).map_err(|mut e| {
                    e.text = text.to_string();
                    e
                })?;
                Some(letter)
            }
            _ => {
                check_ascii_layout(WHAT, text, 22)?;
                None
            }
        };
        let bytes = text.as_bytes();
        let level_at = |position: usize, what: &str| {
            let digit = bytes[position] - b'0';
            if (1..=5).contains(&digit) {
                Ok(())
            } else {
                Err(error(format!(
                    "position {} is the level number 1-5{what}, found {digit}",
                    position + 1
                )))
            }
        };
        match layout {
            Some(b'Q') => level_at(16, " of a qualification (Q) number")?,
            Some(_) => {}
            None => level_at(15, " (or Q for a qualification, Z for a special ability)")?,
        }
        let mut number = [0u8; 22];
        number.copy_from_slice(bytes);
        Ok(CertificateNumber(number))
    }
}

impl fmt::Display for CertificateNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CertificateNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! serde_via_str {
    ($type:ty) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$type, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_via_str!(RegistrationNumber);
serde_via_str!(CertificateNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_number_parts() {
        let number: RegistrationNumber = "Y000051001064".parse().expect("valid");
        assert_eq!(number.kind(), BodyKind::Enterprise);
        assert_eq!(number.province(), Province::SICHUAN);
        let error = "X000051001064".parse::<RegistrationNumber>().unwrap_err();
        assert!(error.reason.contains("position 1"), "{error}");
        let error = "Y00005100106".parse::<RegistrationNumber>().unwrap_err();
        assert!(error.reason.contains("12 characters"), "{error}");
        let error = "Y0000510010a4".parse::<RegistrationNumber>().unwrap_err();
        assert!(error.reason.contains("position 12"), "{error}");
    }

    #[test]
    fn certificate_number_parts() {
        let number: CertificateNumber = "S000050000123243000017".parse().expect("valid");
        assert_eq!(number.registration_number().as_str(), "S000050000123");
        assert_eq!(number.province(), Province::CHONGQING);
        assert_eq!(number.year_two_digits(), 24);
        assert_eq!(number.level_number(), 3);
        assert_eq!(number.serial(), 17);
        let error = "S000050000123246000017"
            .parse::<CertificateNumber>()
            .unwrap_err();
        assert!(error.reason.contains("position 16"), "{error}");
        let error = "S000099000123243000017"
            .parse::<CertificateNumber>()
            .unwrap_err();
        assert!(error.reason.contains("province"), "{error}");
    }

    #[test]
    fn the_series_letter_names_the_kind() {
        let body: RegistrationNumber = "S000050000123".parse().expect("valid");
        let skill = CertificateNumber::compose(body, 2024, Level::Senior, 17).expect("valid");
        assert_eq!(skill.kind(), CredentialKind::SkillLevel);
        let qualification =
            CertificateNumber::compose_qualification(body, 2024, Level::Senior, 17).expect("valid");
        assert_eq!(qualification.as_str(), "S00005000012324Q300017");
        assert_eq!(qualification.kind(), CredentialKind::Qualification);
        assert_eq!(qualification.level_number(), 3);
        assert_eq!(qualification.serial(), 17);
        assert_eq!(qualification.registration_number(), body);
        let ability = CertificateNumber::compose_special_ability(body, 2024, 17).expect("valid");
        assert_eq!(ability.as_str(), "S00005000012324Z000017");
        assert_eq!(ability.kind(), CredentialKind::SpecialAbility);
        assert_eq!(ability.serial(), 17);
        assert!(ability.is_well_formed() && qualification.is_well_formed());
        assert_ne!(skill.as_bytes(), qualification.as_bytes());
        let error = "S00005000012324Q600017"
            .parse::<CertificateNumber>()
            .unwrap_err();
        assert!(error.reason.contains("position 17"), "{error}");
        let error = "S00005000012324X000017"
            .parse::<CertificateNumber>()
            .unwrap_err();
        assert!(error.reason.contains("position 16"), "{error}");
        let error = "S00005000012324Z00001a"
            .parse::<CertificateNumber>()
            .unwrap_err();
        assert!(error.reason.contains("position 22"), "{error}");
        assert!(
            CertificateNumber::compose_qualification(body, 2024, Level::Senior, 100_000).is_none()
        );
    }

    #[test]
    fn compose_round_trips() {
        let body: RegistrationNumber = "S000050000123".parse().expect("valid");
        let number = CertificateNumber::compose(body, 2024, Level::Senior, 17).expect("compose");
        assert_eq!(number.as_str(), "S000050000123243000017");
        assert!(CertificateNumber::compose(body, 2024, Level::Apprentice, 1).is_none());
        assert!(CertificateNumber::compose(body, 2024, Level::Senior, 1_000_000).is_none());
    }
}
