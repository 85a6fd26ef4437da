//! The projections of the routes beyond evaluation and direct recognition (issue 5): each
//! person's career record (apprenticeships, contest results, appointments, titles, title
//! eligibilities), the registered contests and the bodies' appointment rights.
//!
//! They live in the projection tree under their own key prefixes and commit in the same
//! sled batch as everything else (so with the cursor); layout in docs/formats.md (part 1):
//!
//! | key | value |
//! |---|---|
//! | `r` ‖ subject (32) | `1` ‖ bincode([`CareerRecord`]) |
//! | `n` ‖ event id of the `ContestRegistered` (16) | bincode([`ContestRecord`]) |
//! | `a` ‖ registration number (13) | bincode([`AppointmentRight`]) |
//!
//! Contests and appointment rights belong to the in-memory registry: they are loaded with it
//! at start-up ([`load_registry`]). Career records are read per subject on demand, only by
//! the rules and `apply` steps that need them, so the hot path of an ordinary evaluation
//! reads nothing more than before.

use std::collections::{BTreeMap, HashMap};

use skill_ledger_domain::{
    AppointmentRight, CareerRecord, ContestRecord, EventId, RecognitionRecord, RegistrationNumber,
    RegistryChange, SubjectId,
};

use super::layout::{decode, encode, key};
use crate::error::{NodeError, NodeErrorKind};

const PREFIX_CAREER: u8 = b'r';
const PREFIX_CONTEST: u8 = b'n';
const PREFIX_APPOINTMENT_RIGHT: u8 = b'a';
/// The first byte of a career value: its encoding version.
const CAREER_VALUE_VERSION: u8 = 1;

/// A career value: the version byte, then the bincode record.
pub(crate) fn encode_career(career: &CareerRecord) -> Vec<u8> {
    let mut value = vec![CAREER_VALUE_VERSION];
    value.extend_from_slice(&encode(career));
    value
}

pub(crate) fn decode_career(bytes: &[u8]) -> Result<CareerRecord, NodeError> {
    match bytes.split_first() {
        Some((&CAREER_VALUE_VERSION, rest)) => decode(rest, "career"),
        _ => Err(NodeError::new(
            NodeErrorKind::Projection,
            "projection record career has an unknown version; run `skill-ledger rebuild`",
        )),
    }
}

/// A person's career record as committed.
pub(crate) fn career(
    tree: &sled::Tree,
    subject: &SubjectId,
) -> Result<Option<CareerRecord>, NodeError> {
    tree.get(key(PREFIX_CAREER, &subject.0))?
        .map(|bytes| decode_career(&bytes))
        .transpose()
}

/// Adds the changed career records of a batch to its sled batch.
pub(crate) fn persist_careers(
    careers: &HashMap<SubjectId, CareerRecord, super::overlay::FastHash>,
    batch: &mut sled::Batch,
) {
    for (subject, career) in careers {
        batch.insert(key(PREFIX_CAREER, &subject.0), encode_career(career));
    }
}

/// Adds a contest or an appointment right to a sled batch.
pub(crate) fn persist_registry_change(change: &RegistryChange, batch: &mut sled::Batch) {
    match change {
        RegistryChange::Contest(contest) => {
            batch.insert(key(PREFIX_CONTEST, &contest.id.0), encode(contest.as_ref()))
        }
        RegistryChange::AppointmentRight(right) => batch.insert(
            key(
                PREFIX_APPOINTMENT_RIGHT,
                right.registration_number.as_bytes(),
            ),
            encode(right.as_ref()),
        ),
        // The other registry changes are persisted by the projection itself.
        _ => {}
    }
}

/// The registry's contests and appointment rights.
pub(crate) type CareerRegistry = (
    BTreeMap<EventId, ContestRecord>,
    BTreeMap<RegistrationNumber, AppointmentRight>,
);

/// Loads the contests and appointment rights.
pub(crate) fn load_registry(tree: &sled::Tree) -> Result<CareerRegistry, NodeError> {
    let mut contests = BTreeMap::new();
    for item in tree.scan_prefix([PREFIX_CONTEST]) {
        let (_, value) = item?;
        let contest: ContestRecord = decode(&value, "contest")?;
        contests.insert(contest.id, contest);
    }
    let mut rights = BTreeMap::new();
    for item in tree.scan_prefix([PREFIX_APPOINTMENT_RIGHT]) {
        let (_, value) = item?;
        let right: AppointmentRight = decode(&value, "appointment right")?;
        rights.insert(right.registration_number, right);
    }
    Ok((contests, rights))
}

/// Every recognition (互认) held in a committed career record whose origin is `origin`,
/// with its subject, in subject order. Scans the career records: they are few next to the
/// credentials (only people with a route beyond evaluation have one).
pub(crate) fn recognitions(
    tree: &sled::Tree,
    origin: &str,
) -> Result<Vec<(SubjectId, RecognitionRecord)>, NodeError> {
    let mut found = Vec::new();
    for item in tree.scan_prefix([PREFIX_CAREER]) {
        let (key, value) = item?;
        let subject = key
            .get(1..33)
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(SubjectId)
            .ok_or_else(|| {
                NodeError::new(
                    NodeErrorKind::Projection,
                    "projection record career has a malformed key; run `skill-ledger rebuild`",
                )
            })?;
        let career = decode_career(&value)?;
        found.extend(
            career
                .recognitions
                .into_iter()
                .filter(|recognition| recognition.origin == origin)
                .map(|recognition| (subject, recognition)),
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use skill_ledger_domain::{ApprenticeshipRecord, Date};

    #[test]
    fn career_values_carry_a_version_byte_and_round_trip() {
        let career = CareerRecord {
            apprenticeships: vec![ApprenticeshipRecord {
                id: EventId([7; 16]),
                body: "Y000050000001".parse().expect("registration number"),
                occupation: "6-18-01-01".parse().expect("occupation"),
                started: Date::from_ymd(2020, 2, 29).expect("date"),
                completed: None,
                entry_index: 9,
            }],
            ..CareerRecord::default()
        };
        let bytes = encode_career(&career);
        assert_eq!(bytes[0], CAREER_VALUE_VERSION);
        assert_eq!(decode_career(&bytes).expect("decodes"), career);
        assert!(decode_career(&bytes[1..]).is_err());
        assert!(decode_career(&[]).is_err());
    }
}
