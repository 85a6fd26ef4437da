//! Holder data as people type it: identity-document numbers and holder names, checked before
//! they are pseudonymised.
//!
//! A pseudonym hides what it was made from, so a mistyped number or an empty name becomes a
//! subject or a name commitment that nobody can ever match again. These checks run where the
//! clear text enters (the CLI's `issue`, its `show person`), before [`crate::PseudonymKey`]
//! sees it; they read nothing but their argument.
//!
//! A 居民身份证 number (GB 11643-1999) is 18 characters: a six-digit address code whose first
//! two digits are a province, the birth date as `YYYYMMDD`, a three-digit sequence and a check
//! character, ISO 7064 MOD 11-2 over the first 17 digits (`X` standing for 10). The 15-digit
//! first-generation card is not accepted: the domain reference does not ask for it, those
//! cards stopped being valid on 2013-01-01, and a 15-digit number pseudonymises differently
//! from its 18-digit successor, so the same person would get two subjects. The other document
//! types have no published check character the ledger can rely on: their numbers must be
//! letters and digits, of a bounded length.
//!
//! ```
//! use skill_ledger_domain::{check_document_number, IdDocumentType};
//!
//! let error = check_document_number(IdDocumentType::ResidentIdCard, "110101199003071234")
//!     .unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "identity number 110101199003071234: check digit is 4, expected 3"
//! );
//! ```

use std::fmt;

use crate::date::Date;
use crate::subject::{normalise_document_number, normalise_name, IdDocumentType};

/// Characters of a resident identity-card number.
pub const RESIDENT_ID_CHARS: usize = 18;
/// Shortest document number of the other types (passports, permits), after normalisation.
pub const DOCUMENT_NUMBER_CHARS_MIN: usize = 5;
/// Longest document number of the other types, after normalisation.
pub const DOCUMENT_NUMBER_CHARS_MAX: usize = 20;
/// Longest holder name (characters), as `decide` bounds other names.
pub const HOLDER_NAME_CHARS_MAX: usize = crate::guards::NAME_CHARS_MAX;

/// GB 11643-1999 weights of the first 17 digits, and the check character for each remainder.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS: &[u8; 11] = b"10X98765432";

/// Province codes (GB/T 2260, first two digits of the address code) a resident ID card may
/// start with; 81–83 are the residence permits of Hong Kong, Macao and Taiwan residents,
/// which use the same format.
const PROVINCE_CODES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// Why an identity-document number was refused. The number is kept (normalised) for the
/// message shown to the person who typed it; never log it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("identity number {number}: {kind}")]
pub struct DocumentNumberError {
    /// The number as normalised ([`normalise_document_number`]).
    pub number: String,
    pub kind: DocumentNumberErrorKind,
}

/// What is wrong with a document number. New checks add variants.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocumentNumberErrorKind {
    /// Nothing but white space or hyphens.
    Empty,
    /// A resident ID card number of the wrong length.
    WrongLength { length: usize },
    /// A 15-digit first-generation resident ID card number.
    FirstGeneration,
    /// A character that may not stand at this position (1-based).
    BadCharacter { position: usize, character: char },
    /// The first two digits are no province code.
    UnknownProvince { code: String },
    /// Positions 7–14 are not a calendar date from 1900 on.
    BadBirthDate { digits: String },
    /// The check character disagrees with the first 17 digits.
    CheckDigit { found: char, expected: char },
    /// Another type's number outside the length bounds.
    LengthOutOfBounds {
        length: usize,
        length_min: usize,
        length_max: usize,
    },
}

impl fmt::Display for DocumentNumberErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocumentNumberErrorKind::Empty => f.write_str("the number is empty"),
            DocumentNumberErrorKind::WrongLength { length } => write!(
                f,
                "a resident identity card number has {RESIDENT_ID_CHARS} characters, not {length}"
            ),
            DocumentNumberErrorKind::FirstGeneration => f.write_str(
                "15-digit first-generation identity cards are not accepted: give the 18-character number",
            ),
            DocumentNumberErrorKind::BadCharacter {
                position,
                character,
            } => write!(f, "character {position} '{character}' is not allowed there"),
            DocumentNumberErrorKind::UnknownProvince { code } => {
                write!(f, "'{code}' is not a province code")
            }
            DocumentNumberErrorKind::BadBirthDate { digits } => {
                write!(f, "birth date {digits} is not a calendar date")
            }
            DocumentNumberErrorKind::CheckDigit { found, expected } => {
                write!(f, "check digit is {found}, expected {expected}")
            }
            DocumentNumberErrorKind::LengthOutOfBounds {
                length,
                length_min,
                length_max,
            } => write!(
                f,
                "{length} characters, outside {length_min} to {length_max}"
            ),
        }
    }
}

/// Checks an identity-document number by its type and returns it normalised (the form
/// [`crate::PseudonymKey::subject`] hashes).
pub fn check_document_number(
    document_type: IdDocumentType,
    number: &str,
) -> Result<String, DocumentNumberError> {
    let normalised = normalise_document_number(number);
    let checked = match document_type {
        IdDocumentType::ResidentIdCard => check_resident_id(&normalised),
        IdDocumentType::HongKongMacaoTaiwan
        | IdDocumentType::Passport
        | IdDocumentType::ForeignPermanentResident => check_other_document(&normalised),
    };
    match checked {
        Ok(()) => Ok(normalised),
        Err(kind) => Err(DocumentNumberError {
            number: normalised,
            kind,
        }),
    }
}

fn check_resident_id(number: &str) -> Result<(), DocumentNumberErrorKind> {
    let characters: Vec<char> = number.chars().collect();
    match characters.len() {
        0 => return Err(DocumentNumberErrorKind::Empty),
        15 if characters.iter().all(char::is_ascii_digit) => {
            return Err(DocumentNumberErrorKind::FirstGeneration)
        }
        RESIDENT_ID_CHARS => {}
        length => return Err(DocumentNumberErrorKind::WrongLength { length }),
    }
    let mut digits = [0u32; 17];
    for (position, character) in characters[..17].iter().enumerate() {
        digits[position] = character
            .to_digit(10)
            .ok_or(DocumentNumberErrorKind::BadCharacter {
                position: position + 1,
                character: *character,
            })?;
    }
    let found = characters[17];
    if !(found.is_ascii_digit() || found == 'X') {
        return Err(DocumentNumberErrorKind::BadCharacter {
            position: 18,
            character: found,
        });
    }
    let province = (digits[0] * 10 + digits[1]) as u8;
    if !PROVINCE_CODES.contains(&province) {
        return Err(DocumentNumberErrorKind::UnknownProvince {
            code: number[..2].to_string(),
        });
    }
    let number_at = |range: std::ops::Range<usize>| {
        digits[range]
            .iter()
            .fold(0u32, |value, digit| value * 10 + digit)
    };
    let (year, month, day) = (number_at(6..10), number_at(10..12), number_at(12..14));
    let born = u8::try_from(month)
        .ok()
        .zip(u8::try_from(day).ok())
        .and_then(|(month, day)| Date::from_ymd(year as i32, month, day));
    if year < 1900 || born.is_none() {
        return Err(DocumentNumberErrorKind::BadBirthDate {
            digits: number[6..14].to_string(),
        });
    }
    let expected = resident_id_check_character(&digits);
    if found != expected {
        return Err(DocumentNumberErrorKind::CheckDigit { found, expected });
    }
    Ok(())
}

/// ISO 7064 MOD 11-2 over the first 17 digits of a resident ID card number.
fn resident_id_check_character(digits: &[u32; 17]) -> char {
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    char::from(CHECK_CHARACTERS[(sum % 11) as usize])
}

fn check_other_document(number: &str) -> Result<(), DocumentNumberErrorKind> {
    let length = number.chars().count();
    if length == 0 {
        return Err(DocumentNumberErrorKind::Empty);
    }
    if let Some((position, character)) = number
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
    {
        return Err(DocumentNumberErrorKind::BadCharacter {
            position: position + 1,
            character,
        });
    }
    if !(DOCUMENT_NUMBER_CHARS_MIN..=DOCUMENT_NUMBER_CHARS_MAX).contains(&length) {
        return Err(DocumentNumberErrorKind::LengthOutOfBounds {
            length,
            length_min: DOCUMENT_NUMBER_CHARS_MIN,
            length_max: DOCUMENT_NUMBER_CHARS_MAX,
        });
    }
    Ok(())
}

/// Why a holder name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HolderNameError {
    #[error("the holder name is empty (or only white space): a credential without a name could never be verified")]
    Empty,
    #[error("the holder name is {length} characters, over the limit of {length_max}")]
    TooLong { length: usize, length_max: usize },
    #[error("the holder name contains the control character U+{code_point:04X}")]
    ControlCharacter { code_point: u32 },
}

/// Checks a holder name before it is committed to: not empty once white space is dropped
/// (as [`normalise_name`] drops it), no control characters, bounded length.
pub fn check_holder_name(name: &str) -> Result<(), HolderNameError> {
    if let Some(control) = name.chars().find(|c| c.is_control() && !c.is_whitespace()) {
        return Err(HolderNameError::ControlCharacter {
            code_point: u32::from(control),
        });
    }
    let normalised = normalise_name(name);
    if normalised.is_empty() {
        return Err(HolderNameError::Empty);
    }
    let length = normalised.chars().count();
    if length > HOLDER_NAME_CHARS_MAX {
        return Err(HolderNameError::TooLong {
            length,
            length_max: HOLDER_NAME_CHARS_MAX,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use DocumentNumberErrorKind as Kind;
    use IdDocumentType::*;

    /// Given a document type and a typed number, when it is checked, then it is accepted
    /// (normalised) or refused for the named reason.
    fn check(document_type: IdDocumentType, typed: &str, then: Result<&str, Kind>) {
        let outcome = check_document_number(document_type, typed);
        match then {
            Ok(normalised) => assert_eq!(outcome, Ok(normalised.to_string()), "{typed:?}"),
            Err(kind) => assert_eq!(outcome.map_err(|error| error.kind), Err(kind), "{typed:?}"),
        }
    }

    #[test]
    fn a_resident_id_with_its_check_character_is_accepted_normalised() {
        check(
            ResidentIdCard,
            "11010519491231002X",
            Ok("11010519491231002X"),
        );
        check(
            ResidentIdCard,
            "110105 19491231 002x",
            Ok("11010519491231002X"),
        );
        check(
            ResidentIdCard,
            "500101199001011230",
            Err(Kind::CheckDigit {
                found: '0',
                expected: 'X',
            }),
        );
        check(
            ResidentIdCard,
            "50010119900101123X",
            Ok("50010119900101123X"),
        );
        check(
            ResidentIdCard,
            "510104199203041235",
            Ok("510104199203041235"),
        );
    }

    #[test]
    fn the_message_names_the_number_the_digit_found_and_the_one_expected() {
        let error = check_document_number(ResidentIdCard, "110101199003071234").unwrap_err();
        assert_eq!(
            error.to_string(),
            "identity number 110101199003071234: check digit is 4, expected 3"
        );
    }

    #[test]
    fn a_resident_id_of_the_wrong_shape_is_refused_for_what_is_wrong() {
        check(ResidentIdCard, "abc", Err(Kind::WrongLength { length: 3 }));
        check(ResidentIdCard, "  - ", Err(Kind::Empty));
        check(
            ResidentIdCard,
            "110105491231002",
            Err(Kind::FirstGeneration),
        );
        check(
            ResidentIdCard,
            "1101051949123100ZX",
            Err(Kind::BadCharacter {
                position: 17,
                character: 'Z',
            }),
        );
        check(
            ResidentIdCard,
            "11010519491231002Y",
            Err(Kind::BadCharacter {
                position: 18,
                character: 'Y',
            }),
        );
        check(
            ResidentIdCard,
            "９10105194912310020",
            Err(Kind::BadCharacter {
                position: 1,
                character: '９',
            }),
        );
        check(
            ResidentIdCard,
            "990105194912310029",
            Err(Kind::UnknownProvince { code: "99".into() }),
        );
    }

    #[test]
    fn the_birth_date_must_be_a_calendar_date() {
        for (typed, digits) in [
            ("110105194902300025", "19490230"),
            ("110105194913010025", "19491301"),
            ("110105180001010025", "18000101"),
            ("110105199000000025", "19900000"),
        ] {
            check(
                ResidentIdCard,
                typed,
                Err(Kind::BadBirthDate {
                    digits: digits.into(),
                }),
            );
        }
        // 2000 was a leap year, 1900 was not.
        check(
            ResidentIdCard,
            "110105200002290021",
            Ok("110105200002290021"),
        );
        check(
            ResidentIdCard,
            "110105190002290021",
            Err(Kind::BadBirthDate {
                digits: "19000229".into(),
            }),
        );
    }

    #[test]
    fn other_documents_are_letters_and_digits_of_bounded_length() {
        check(Passport, "e1234 5678", Ok("E12345678"));
        check(HongKongMacaoTaiwan, "H1234567801", Ok("H1234567801"));
        check(
            ForeignPermanentResident,
            "USA310190010101",
            Ok("USA310190010101"),
        );
        check(Passport, " ", Err(Kind::Empty));
        check(
            Passport,
            "E12/345",
            Err(Kind::BadCharacter {
                position: 4,
                character: '/',
            }),
        );
        check(
            Passport,
            "E12",
            Err(Kind::LengthOutOfBounds {
                length: 3,
                length_min: DOCUMENT_NUMBER_CHARS_MIN,
                length_max: DOCUMENT_NUMBER_CHARS_MAX,
            }),
        );
        check(
            Passport,
            &"A".repeat(21),
            Err(Kind::LengthOutOfBounds {
                length: 21,
                length_min: DOCUMENT_NUMBER_CHARS_MIN,
                length_max: DOCUMENT_NUMBER_CHARS_MAX,
            }),
        );
    }

    #[test]
    fn a_holder_name_must_say_something() {
        assert_eq!(check_holder_name("张三"), Ok(()));
        assert_eq!(check_holder_name("阿卜杜·热合曼"), Ok(()));
        assert_eq!(check_holder_name(""), Err(HolderNameError::Empty));
        assert_eq!(check_holder_name(" \t　"), Err(HolderNameError::Empty));
        assert_eq!(
            check_holder_name("张\u{0}三"),
            Err(HolderNameError::ControlCharacter { code_point: 0 })
        );
        assert_eq!(
            check_holder_name(&"张".repeat(HOLDER_NAME_CHARS_MAX + 1)),
            Err(HolderNameError::TooLong {
                length: HOLDER_NAME_CHARS_MAX + 1,
                length_max: HOLDER_NAME_CHARS_MAX,
            })
        );
    }
}
