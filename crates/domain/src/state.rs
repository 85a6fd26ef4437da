//! What the rules read: the registry (small, always in memory) and the records (large,
//! behind [`RecordView`] so a node can keep them in sled).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::date::Date;
use crate::event::{Audience, ScopeItem, Signer};
use crate::ids::{CertificateNumber, Province, RegistrationNumber};
use crate::ladder::Level;
use crate::occupation::{Catalogue, OccupationCode};
use crate::policy::Policy;
use crate::subject::{NameCommitment, SubjectId};

/// A key and the date from which it signs.
#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct KeyPeriod {
    pub from: Date,
    pub public_key: [u8; 32],
}

/// Who runs the ledger (from entry 0).
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct LedgerInfo {
    pub origin: String,
    pub province: Province,
    pub authority_name: String,
    pub authority_keys: Vec<KeyPeriod>,
    pub established: Date,
}

/// The registration status of a body.
#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub enum BodyStatus {
    Active,
    Suspended,
    Cancelled,
}

impl BodyStatus {
    pub fn id(self) -> &'static str {
        match self {
            BodyStatus::Active => "active",
            BodyStatus::Suspended => "suspended",
            BodyStatus::Cancelled => "cancelled",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            BodyStatus::Active => "有效",
            BodyStatus::Suspended => "暂停",
            BodyStatus::Cancelled => "已取消",
        }
    }
}

/// One change of a body's status.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct StatusChange {
    pub effective: Date,
    pub status: BodyStatus,
    pub reason: String,
    pub entry_index: u64,
}

/// A registered evaluation body as the log made it.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct BodyRecord {
    pub registration_number: RegistrationNumber,
    pub name: String,
    pub keys: Vec<KeyPeriod>,
    pub valid_from: Date,
    pub valid_until: Date,
    pub audience: Audience,
    pub scope: Vec<ScopeItem>,
    pub direct_recognition: bool,
    pub registered: Date,
    pub status_changes: Vec<StatusChange>,
    pub entry_index: u64,
}

/// The key valid at `date` among periods sorted by `from`: the last one that has started.
pub fn key_at(keys: &[KeyPeriod], date: Date) -> Option<[u8; 32]> {
    keys.iter()
        .rev()
        .find(|period| period.from <= date)
        .map(|period| period.public_key)
}

impl BodyRecord {
    pub fn key_at(&self, date: Date) -> Option<[u8; 32]> {
        key_at(&self.keys, date)
    }

    /// Status in force at `date` (changes are kept in date order).
    pub fn status_at(&self, date: Date) -> BodyStatus {
        self.status_changes
            .iter()
            .rev()
            .find(|change| change.effective <= date)
            .map_or(BodyStatus::Active, |change| change.status)
    }

    /// The latest status, whatever its date.
    pub fn status_now(&self) -> BodyStatus {
        self.status_changes
            .last()
            .map_or(BodyStatus::Active, |change| change.status)
    }

    pub fn scope_level_max(&self, occupation: OccupationCode) -> Option<Level> {
        self.scope
            .iter()
            .find(|item| item.occupation == occupation)
            .map(|item| item.level_max)
    }
}

/// How a credential was obtained (the route without its text, for records and statistics).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, bincode::Encode, bincode::Decode,
)]
pub enum RouteKind {
    Evaluation,
    DirectRecognition,
}

impl RouteKind {
    pub fn id(self) -> &'static str {
        match self {
            RouteKind::Evaluation => "evaluation",
            RouteKind::DirectRecognition => "direct",
        }
    }
}

/// Whether a credential stands.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub enum CredentialStatus {
    Valid,
    Revoked {
        effective: Date,
        reason: String,
        by: Signer,
        entry_index: u64,
    },
}

/// A credential by certificate number: the projection verification reads.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct CredentialRecord {
    pub certificate_number: CertificateNumber,
    pub subject: SubjectId,
    pub name_commitment: NameCommitment,
    pub occupation: OccupationCode,
    pub work_type: Option<String>,
    pub level: Level,
    pub issued: Date,
    pub route: RouteKind,
    pub status: CredentialStatus,
    pub entry_index: u64,
}

impl CredentialRecord {
    pub fn body(&self) -> RegistrationNumber {
        self.certificate_number.registration_number()
    }

    pub fn is_valid(&self) -> bool {
        self.status == CredentialStatus::Valid
    }
}

/// One credential as a person's state sees it.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct Holding {
    pub certificate_number: CertificateNumber,
    pub occupation: OccupationCode,
    pub level: Level,
    pub issued: Date,
    pub route: RouteKind,
    pub revoked: bool,
}

/// A person's state by subject: every credential, in log order.
#[derive(Clone, PartialEq, Eq, Debug, Default, bincode::Encode, bincode::Decode)]
pub struct PersonRecord {
    pub holdings: Vec<Holding>,
}

impl PersonRecord {
    /// Valid holdings in `occupation` issued on or before `date`.
    pub fn valid_in(
        &self,
        occupation: OccupationCode,
        date: Date,
    ) -> impl Iterator<Item = &Holding> + '_ {
        self.holdings.iter().filter(move |holding| {
            !holding.revoked && holding.occupation == occupation && holding.issued <= date
        })
    }

    /// The highest valid level in `occupation` as of `date`, with the earliest date it was held.
    pub fn highest_in(&self, occupation: OccupationCode, date: Date) -> Option<(Level, Date)> {
        let level = self.valid_in(occupation, date).map(|h| h.level).max()?;
        let since = self
            .valid_in(occupation, date)
            .filter(|h| h.level == level)
            .map(|h| h.issued)
            .min()?;
        Some((level, since))
    }

    /// The highest valid level in any occupation.
    pub fn highest_overall(&self) -> Option<Level> {
        self.holdings
            .iter()
            .filter(|h| !h.revoked)
            .map(|h| h.level)
            .max()
    }

    /// The current highest valid level per occupation.
    pub fn highest_per_occupation(&self) -> BTreeMap<OccupationCode, Level> {
        let mut highest = BTreeMap::new();
        for holding in self.holdings.iter().filter(|h| !h.revoked) {
            let entry = highest.entry(holding.occupation).or_insert(holding.level);
            *entry = (*entry).max(holding.level);
        }
        highest
    }
}

/// A policy version with the entry that adopted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVersion {
    pub policy: Arc<Policy>,
    pub entry_index: u64,
}

/// The small part of the state, kept whole in memory by every node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registry {
    pub ledger: Option<LedgerInfo>,
    pub catalogue: Option<Arc<Catalogue>>,
    /// In adoption order (strictly increasing versions).
    pub policies: Vec<PolicyVersion>,
    pub bodies: BTreeMap<RegistrationNumber, BodyRecord>,
}

impl Registry {
    /// The policy in force at `date`: the latest effective date not after it (highest version
    /// among equals).
    pub fn policy_at(&self, date: Date) -> Option<&Arc<Policy>> {
        self.policies
            .iter()
            .filter(|version| version.policy.effective <= date)
            .max_by_key(|version| (version.policy.effective, version.policy.version))
            .map(|version| &version.policy)
    }

    pub fn latest_policy(&self) -> Option<&Arc<Policy>> {
        self.policies.last().map(|version| &version.policy)
    }
}

/// The large part of the state: records looked up by key.
pub trait RecordView {
    fn credential(&self, number: &CertificateNumber) -> Option<CredentialRecord>;
    fn person(&self, subject: &SubjectId) -> Option<PersonRecord>;
    /// The log index of the entry that carried this event id, if any.
    fn event_index(&self, id: &crate::event::EventId) -> Option<u64>;
}
