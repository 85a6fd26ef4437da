//! The new eight-level ladder (新八级): 学徒工 → 初级工 → … → 首席技师.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A rung of the ladder, lowest first; `Ord` follows the ladder.
///
/// Only 初级工 … 高级技师 carry a national level number (五级 … 一级), and only those appear in
/// a certificate number. The wire form is the rank as a `u32` (bincode's enum tag), so the
/// declaration order below is part of the format and must never change.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, bincode::Encode, bincode::Decode,
)]
pub enum Level {
    /// 学徒工: enterprise apprenticeship, no state certificate.
    Apprentice,
    /// 初级工, 五级.
    Junior,
    /// 中级工, 四级.
    Intermediate,
    /// 高级工, 三级.
    Senior,
    /// 技师, 二级.
    Technician,
    /// 高级技师, 一级.
    SeniorTechnician,
    /// 特级技师: appointed (评聘), no level number.
    PrincipalTechnician,
    /// 首席技师: appointed (评聘), no level number.
    ChiefTechnician,
}

impl Level {
    pub const ALL: [Level; 8] = [
        Level::Apprentice,
        Level::Junior,
        Level::Intermediate,
        Level::Senior,
        Level::Technician,
        Level::SeniorTechnician,
        Level::PrincipalTechnician,
        Level::ChiefTechnician,
    ];

    /// Position on the ladder, 0 (学徒工) to 7 (首席技师).
    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn from_rank(rank: u8) -> Option<Level> {
        Level::ALL.get(usize::from(rank)).copied()
    }

    /// The national level number (5 for 初级工 … 1 for 高级技师), where one exists.
    pub fn national_number(self) -> Option<u8> {
        match self {
            Level::Junior => Some(5),
            Level::Intermediate => Some(4),
            Level::Senior => Some(3),
            Level::Technician => Some(2),
            Level::SeniorTechnician => Some(1),
            _ => None,
        }
    }

    pub fn from_national_number(number: u8) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|level| level.national_number() == Some(number))
    }

    /// The rung below, if any.
    pub fn below(self) -> Option<Level> {
        self.rank().checked_sub(1).and_then(Level::from_rank)
    }

    /// The rung above, if any.
    pub fn above(self) -> Option<Level> {
        Level::from_rank(self.rank() + 1)
    }

    /// High-skill talent (高技能人才) is 高级工 and above.
    pub fn is_high_skill(self) -> bool {
        self >= Level::Senior
    }

    /// The stable ASCII identifier used in JSON and configuration.
    pub fn id(self) -> &'static str {
        match self {
            Level::Apprentice => "apprentice",
            Level::Junior => "junior",
            Level::Intermediate => "intermediate",
            Level::Senior => "senior",
            Level::Technician => "technician",
            Level::SeniorTechnician => "senior_technician",
            Level::PrincipalTechnician => "principal_technician",
            Level::ChiefTechnician => "chief_technician",
        }
    }

    /// The name as printed on certificates and pages.
    pub fn name_zh(self) -> &'static str {
        match self {
            Level::Apprentice => "学徒工",
            Level::Junior => "初级工",
            Level::Intermediate => "中级工",
            Level::Senior => "高级工",
            Level::Technician => "技师",
            Level::SeniorTechnician => "高级技师",
            Level::PrincipalTechnician => "特级技师",
            Level::ChiefTechnician => "首席技师",
        }
    }

    /// The certificate form "中文数字+级/名称", e.g. "一级/高级技师"; the bare name where there is no number.
    pub fn certificate_label(self) -> String {
        const NUMERALS: [&str; 6] = ["", "一", "二", "三", "四", "五"];
        match self.national_number() {
            Some(number) => format!("{}级/{}", NUMERALS[usize::from(number)], self.name_zh()),
            None => self.name_zh().to_string(),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_zh())
    }
}

/// Why a text names no level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a level: use a name (高级工), a number (三级 or 3) or an id (senior)")]
pub struct LevelParseError {
    pub text: String,
}

impl FromStr for Level {
    type Err = LevelParseError;

    /// Accepts the Chinese name, the id, the certificate label, "三级" or a bare digit 1–5.
    fn from_str(text: &str) -> Result<Level, LevelParseError> {
        const NUMERAL_NAMES: [(&str, u8); 5] = [
            ("一级", 1),
            ("二级", 2),
            ("三级", 3),
            ("四级", 4),
            ("五级", 5),
        ];
        let text_trimmed = text.trim();
        for level in Level::ALL {
            if text_trimmed == level.name_zh()
                || text_trimmed.eq_ignore_ascii_case(level.id())
                || text_trimmed == level.certificate_label()
            {
                return Ok(level);
            }
        }
        let number = NUMERAL_NAMES
            .iter()
            .find(|(name, _)| *name == text_trimmed)
            .map(|(_, number)| *number)
            .or_else(|| text_trimmed.parse::<u8>().ok());
        number
            .and_then(Level::from_national_number)
            .ok_or_else(|| LevelParseError {
                text: text.to_string(),
            })
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Level, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_order_and_numbers() {
        assert!(Level::Apprentice < Level::Junior);
        assert!(Level::SeniorTechnician < Level::PrincipalTechnician);
        assert_eq!(Level::Junior.national_number(), Some(5));
        assert_eq!(Level::SeniorTechnician.national_number(), Some(1));
        assert_eq!(Level::ChiefTechnician.national_number(), None);
        assert_eq!(Level::from_national_number(3), Some(Level::Senior));
        assert_eq!(Level::SeniorTechnician.certificate_label(), "一级/高级技师");
    }

    #[test]
    fn parses_every_spelling() {
        for level in Level::ALL {
            assert_eq!(level.name_zh().parse::<Level>(), Ok(level));
            assert_eq!(level.id().parse::<Level>(), Ok(level));
            assert_eq!(level.certificate_label().parse::<Level>(), Ok(level));
        }
        assert_eq!("三级".parse::<Level>(), Ok(Level::Senior));
        assert_eq!("2".parse::<Level>(), Ok(Level::Technician));
        assert!("六级".parse::<Level>().is_err());
    }

    #[test]
    fn high_skill_starts_at_senior() {
        assert!(!Level::Intermediate.is_high_skill());
        assert!(Level::Senior.is_high_skill());
    }
}
