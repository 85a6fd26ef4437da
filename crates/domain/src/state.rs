//! What the rules read: the registry (small, always in memory) and the records (large,
//! behind [`RecordView`] so a node can keep them in sled).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::date::Date;
use crate::event::{
    AppointmentBasis, AppointmentEndReason, Audience, ContestTier, EventId, ScopeItem, Signer,
    TitleLevel,
};
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

/// A body key the authority declared compromised, and the entry that did.
#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct RevokedKey {
    pub public_key: [u8; 32],
    pub date: Date,
    pub entry_index: u64,
}

/// Who runs the ledger (from entry 0).
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct LedgerInfo {
    pub origin: String,
    pub province: Province,
    pub authority_name: String,
    /// Every authority key in log order (`LedgerEstablished`, then `AuthorityKeyRotated`);
    /// the last is the one in force: it alone signs the authority's events and checkpoints.
    pub authority_keys: Vec<KeyPeriod>,
    pub established: Date,
    /// The offline recovery key (`AuthorityRecoveryKeySet`), once set.
    pub recovery_key: Option<[u8; 32]>,
    /// Entry indexes of every `AuthorityRecoveryKeySet` and `AuthorityKeyRotated`, in log
    /// order: an offline bundle carries each one up to its checkpoint, so a verifier can follow
    /// the chain of authority keys from entry 0 to the key that signs the checkpoint.
    pub authority_changes: Vec<u64>,
    /// Every VC issuer key (`VcIssuerKeySet`) in log order; the last is the one in force.
    pub vc_issuer_keys: Vec<VcIssuerKey>,
}

/// One VC issuer key as logged: its controller document id, the key, the day and the entry.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct VcIssuerKey {
    pub controller: String,
    pub public_key: [u8; 32],
    pub date: Date,
    pub entry_index: u64,
}

impl LedgerInfo {
    /// The authority key in force: the last one logged.
    pub fn authority_key(&self) -> Option<[u8; 32]> {
        self.authority_keys.last().map(|period| period.public_key)
    }
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
    /// Keys declared compromised (`BodyKeyRevoked`), in log order: nothing signed with them
    /// is accepted after.
    pub revoked_keys: Vec<RevokedKey>,
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

    /// The revocation of `public_key` logged so far, if any.
    pub fn revocation_of(&self, public_key: &[u8; 32]) -> Option<&RevokedKey> {
        self.revoked_keys
            .iter()
            .find(|revoked| revoked.public_key == *public_key)
    }

    /// Status in force at `date` (changes are kept in date order).
    pub fn status_at(&self, date: Date) -> BodyStatus {
        self.status_changes
            .iter()
            .rev()
            .find(|change| change.effective <= date)
            .map_or(BodyStatus::Active, |change| change.status)
    }

    /// The suspension or cancellation that covers `date` but was logged after entry
    /// `logged_after` (a credential's entry): a retroactive status change. `decide` refuses a
    /// credential dated inside a suspension or cancellation it knows of, so a credential that
    /// stands inside one was accepted before the change was logged. It stays on the ledger
    /// and is not revoked by this (revocations are one by one), but it was issued while the
    /// body, as the ledger now records, was not allowed to evaluate: whoever relies on it
    /// should be told. `None` when the status in force at `date` is active or was already
    /// known at `logged_after`.
    ///
    /// The change in force at `date` is the last one effective on or before it (changes are
    /// kept in date order), so a reinstatement effective before `date` ends a suspension's
    /// period, and a cancellation has no end.
    pub fn retroactive_status_at(&self, date: Date, logged_after: u64) -> Option<&StatusChange> {
        self.status_changes
            .iter()
            .rev()
            .find(|change| change.effective <= date)
            .filter(|change| {
                change.status != BodyStatus::Active && change.entry_index > logged_after
            })
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
    Contest,
    Conversion,
    /// 评聘: a post, not a credential (statistics only).
    Appointment,
    /// 学徒工: an apprenticeship, not a credential (statistics only).
    Apprenticeship,
    /// 互认: a partner ledger's credential recognised by the home authority (a holding, not
    /// a credential of this ledger).
    Recognition,
    /// 境外技能证书比照认定: a foreign certificate recognised per the comparison catalogue.
    ForeignComparison,
}

impl RouteKind {
    pub const ALL: [RouteKind; 8] = [
        RouteKind::Evaluation,
        RouteKind::DirectRecognition,
        RouteKind::Contest,
        RouteKind::Conversion,
        RouteKind::Appointment,
        RouteKind::Apprenticeship,
        RouteKind::Recognition,
        RouteKind::ForeignComparison,
    ];

    pub fn id(self) -> &'static str {
        match self {
            RouteKind::Evaluation => "evaluation",
            RouteKind::DirectRecognition => "direct",
            RouteKind::Contest => "contest",
            RouteKind::Conversion => "conversion",
            RouteKind::Appointment => "appointment",
            RouteKind::Apprenticeship => "apprenticeship",
            RouteKind::Recognition => "recognition",
            RouteKind::ForeignComparison => "foreign-comparison",
        }
    }

    /// The route's Chinese name, as the portal and the CLI tables print it.
    pub fn name_zh(self) -> &'static str {
        match self {
            RouteKind::Evaluation => "评价考核",
            RouteKind::DirectRecognition => "直接认定",
            RouteKind::Contest => "竞赛晋升",
            RouteKind::Conversion => "职称贯通",
            RouteKind::Appointment => "评聘",
            RouteKind::Apprenticeship => "学徒制",
            RouteKind::Recognition => "互认",
            RouteKind::ForeignComparison => "境外证书比照认定",
        }
    }

    /// The route of a credential's [`crate::Route`].
    pub fn of(route: &crate::event::Route) -> RouteKind {
        match route {
            crate::event::Route::Evaluation(_) => RouteKind::Evaluation,
            crate::event::Route::DirectRecognition { .. } => RouteKind::DirectRecognition,
            crate::event::Route::Contest { .. } => RouteKind::Contest,
            crate::event::Route::Conversion { .. } => RouteKind::Conversion,
            crate::event::Route::ForeignComparison(_) => RouteKind::ForeignComparison,
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

    /// The issuing body's suspension or cancellation, logged after this credential, whose
    /// period covers its issue date ([`BodyRecord::retroactive_status_at`]); `body` is the
    /// issuing body's record from the same ledger's registry.
    pub fn retroactive_body_status<'a>(&self, body: &'a BodyRecord) -> Option<&'a StatusChange> {
        debug_assert_eq!(body.registration_number, self.body());
        body.retroactive_status_at(self.issued, self.entry_index)
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
    /// The position (in the person's holdings) of the credential this one was built on: the
    /// level below for an evaluation on the prior level, the level held for a contest
    /// promotion one above it.
    pub basis: Option<u16>,
    /// A credential this one was built on (directly or through others) has been revoked:
    /// the credential stands, marked for review.
    pub basis_revoked: bool,
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

impl Holding {
    /// Whether this holding stands at `date`: not revoked, issued on or before it.
    pub fn holds_at(&self, date: Date) -> bool {
        !self.revoked && self.issued <= date
    }
}

/// One apprenticeship of a person.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct ApprenticeshipRecord {
    pub id: EventId,
    pub body: RegistrationNumber,
    pub occupation: OccupationCode,
    pub started: Date,
    pub completed: Option<Date>,
    pub entry_index: u64,
}

/// One contest result of a person, and the promotion granted for it, if any.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct ContestResultRecord {
    pub id: EventId,
    pub contest: EventId,
    pub tier: ContestTier,
    pub occupation: OccupationCode,
    pub rank: u16,
    pub award: String,
    pub date: Date,
    /// The credential the result was promoted to, and its issue date.
    pub promoted: Option<(CertificateNumber, Date)>,
    pub entry_index: u64,
}

/// One appointment (评聘) of a person: current until ended by an event.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct AppointmentRecord {
    pub id: EventId,
    pub body: RegistrationNumber,
    pub occupation: OccupationCode,
    pub level: Level,
    pub term_start: Date,
    pub term_end: Date,
    pub basis: AppointmentBasis,
    pub ended: Option<(Date, AppointmentEndReason)>,
    pub basis_revoked: bool,
    pub entry_index: u64,
}

impl AppointmentRecord {
    /// Held at `date`: started on or before it and not ended by then.
    pub fn held_at(&self, date: Date) -> bool {
        self.term_start <= date && self.ended.is_none_or(|(ended, _)| ended > date)
    }

    pub fn is_current(&self) -> bool {
        self.ended.is_none()
    }
}

/// A professional title of a person.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct TitleRecord {
    pub id: EventId,
    pub title: TitleLevel,
    pub series: String,
    pub field: String,
    pub obtained: Date,
    pub entry_index: u64,
}

/// A title eligibility granted by conversion from a skill credential.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct EligibilityRecord {
    pub id: EventId,
    pub title: TitleLevel,
    pub series: String,
    pub field: String,
    pub basis: CertificateNumber,
    pub date: Date,
    pub basis_revoked: bool,
    pub entry_index: u64,
}

/// A person's records of the routes that are not credentials: apprenticeships, contest
/// results, appointments, titles and title eligibilities, each in log order.
#[derive(Clone, PartialEq, Eq, Debug, Default, bincode::Encode, bincode::Decode)]
pub struct CareerRecord {
    pub apprenticeships: Vec<ApprenticeshipRecord>,
    pub contest_results: Vec<ContestResultRecord>,
    pub appointments: Vec<AppointmentRecord>,
    pub titles: Vec<TitleRecord>,
    pub eligibilities: Vec<EligibilityRecord>,
    /// Recognitions (互认) of partner credentials, active or withdrawn (issue 6).
    pub recognitions: Vec<RecognitionRecord>,
    /// 专项职业能力证书 held, valid or revoked (issue 19): not levels, so not holdings.
    pub special_abilities: Vec<SpecialAbilityRecord>,
}

/// A 专项职业能力证书 as the ledger holds it.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct SpecialAbilityRecord {
    pub certificate_number: CertificateNumber,
    pub subject: SubjectId,
    pub name_commitment: NameCommitment,
    pub occupation: OccupationCode,
    /// The policy's ability code.
    pub ability: String,
    pub issued: Date,
    pub status: CredentialStatus,
    pub entry_index: u64,
}

impl SpecialAbilityRecord {
    pub fn body(&self) -> RegistrationNumber {
        self.certificate_number.registration_number()
    }

    pub fn is_valid(&self) -> bool {
        self.status == CredentialStatus::Valid
    }
}

/// A recognition of a partner credential, as the home ledger recorded it.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct RecognitionRecord {
    pub id: EventId,
    pub origin: String,
    /// The certifying entry at the origin and its leaf hash.
    pub origin_entry_index: u64,
    pub leaf_hash: [u8; 32],
    pub certificate_number: CertificateNumber,
    pub level: Level,
    pub partner_occupation: OccupationCode,
    pub occupation: OccupationCode,
    pub issued: Date,
    pub date: Date,
    pub withdrawn: Option<RecognitionWithdrawal>,
    pub entry_index: u64,
}

impl RecognitionRecord {
    pub fn is_active(&self) -> bool {
        self.withdrawn.is_none()
    }
}

/// Why and when a recognition was withdrawn.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct RecognitionWithdrawal {
    pub effective: Date,
    pub reason: crate::event::WithdrawalReason,
    pub entry_index: u64,
}

impl CareerRecord {
    pub fn is_empty(&self) -> bool {
        self == &CareerRecord::default()
    }

    /// Contest promotions granted in calendar year `year`.
    pub fn contest_promotions_in(&self, year: i32) -> u32 {
        self.contest_results
            .iter()
            .filter(|result| result.promoted.is_some_and(|(_, date)| date.year() == year))
            .count() as u32
    }

    /// The highest current post (特级技师, 首席技师) per occupation.
    pub fn current_posts(&self) -> BTreeMap<OccupationCode, Level> {
        let mut posts = BTreeMap::new();
        for appointment in self.appointments.iter().filter(|a| a.is_current()) {
            let entry = posts
                .entry(appointment.occupation)
                .or_insert(appointment.level);
            *entry = (*entry).max(appointment.level);
        }
        posts
    }
}

/// A contest registered by the authority.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct ContestRecord {
    pub id: EventId,
    pub name: String,
    pub tier: ContestTier,
    pub occupations: Vec<OccupationCode>,
    pub date: Date,
    pub entry_index: u64,
    /// Partner contests this one is joint with (赛项共定): partner origin and the id of its
    /// `ContestRegistered` (issue 6).
    pub joint_with: Vec<(String, EventId)>,
}

impl ContestRecord {
    /// The partner contest joint with this one on the ledger `origin`, if any.
    pub fn joint_contest_of(&self, origin: &str) -> Option<EventId> {
        self.joint_with
            .iter()
            .find(|(partner, _)| partner == origin)
            .map(|(_, contest)| *contest)
    }
}

/// The levels a body may appoint to from a date.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct RightPeriod {
    pub from: Date,
    pub levels: Vec<Level>,
}

/// A body's right to appoint (评聘), as granted over time.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct AppointmentRight {
    pub registration_number: RegistrationNumber,
    /// In date order; the last one started is in force.
    pub periods: Vec<RightPeriod>,
    /// The first 特级技师 term start of this body: from then on it "runs 特级技师
    /// appointments", which 首席技师 appointments require.
    pub first_principal: Option<Date>,
}

impl AppointmentRight {
    /// The levels the body may appoint to at `date`.
    pub fn levels_at(&self, date: Date) -> &[Level] {
        self.periods
            .iter()
            .rev()
            .find(|period| period.from <= date)
            .map_or(&[], |period| period.levels.as_slice())
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
    /// Contests by the id of the event that registered them.
    pub contests: BTreeMap<EventId, ContestRecord>,
    pub appointment_rights: BTreeMap<RegistrationNumber, AppointmentRight>,
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
    /// A 专项职业能力证书 by number (a Z-series number; `credential` never answers those).
    fn special_ability(&self, number: &CertificateNumber) -> Option<SpecialAbilityRecord>;
    fn person(&self, subject: &SubjectId) -> Option<PersonRecord>;
    /// The log index of the entry that carried this event id, if any.
    fn event_index(&self, id: &crate::event::EventId) -> Option<u64>;
    /// A person's records of the routes that are not credentials.
    fn career(&self, _subject: &SubjectId) -> Option<CareerRecord> {
        None
    }
    /// Whether [`RecordView::career`] answers. A view that keeps no career records (a
    /// partner mirror built before them) gets `decide` without the rules that read them:
    /// it still checks signatures, bodies, scope, policy tables and everything else.
    fn keeps_careers(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().expect("date")
    }

    fn change(effective: &str, status: BodyStatus, entry_index: u64) -> StatusChange {
        StatusChange {
            effective: date(effective),
            status,
            reason: "违规发证".to_string(),
            entry_index,
        }
    }

    fn body(status_changes: Vec<StatusChange>) -> BodyRecord {
        BodyRecord {
            registration_number: "Y000050000001".parse().expect("number"),
            name: "重庆测试装备制造有限公司".to_string(),
            keys: Vec::new(),
            valid_from: date("2020-01-01"),
            valid_until: date("2029-12-31"),
            audience: Audience::OwnStaff,
            scope: Vec::new(),
            direct_recognition: false,
            registered: date("2020-01-01"),
            status_changes,
            entry_index: 1,
            revoked_keys: Vec::new(),
        }
    }

    #[test]
    fn a_suspension_logged_later_covering_the_issue_date_is_retroactive() {
        // Given a credential at entry 10 dated 2025-11-28.
        let (issued, entry) = (date("2025-11-28"), 10);
        // A suspension from 2025-06-01 logged at entry 20 covers it.
        let suspended = body(vec![change("2025-06-01", BodyStatus::Suspended, 20)]);
        assert_eq!(
            suspended
                .retroactive_status_at(issued, entry)
                .map(|c| c.entry_index),
            Some(20)
        );
        // So does a cancellation, which has no end.
        let cancelled = body(vec![
            change("2025-06-01", BodyStatus::Suspended, 20),
            change("2025-07-01", BodyStatus::Cancelled, 21),
        ]);
        assert_eq!(
            cancelled
                .retroactive_status_at(issued, entry)
                .map(|c| c.status),
            Some(BodyStatus::Cancelled)
        );
        // Not once a reinstatement before the issue date ended the suspension.
        let reinstated = body(vec![
            change("2025-06-01", BodyStatus::Suspended, 20),
            change("2025-09-01", BodyStatus::Active, 21),
        ]);
        assert!(reinstated.retroactive_status_at(issued, entry).is_none());
        // But still when the reinstatement came after the issue date.
        let reinstated_later = body(vec![
            change("2025-06-01", BodyStatus::Suspended, 20),
            change("2025-12-01", BodyStatus::Active, 21),
        ]);
        assert!(reinstated_later
            .retroactive_status_at(issued, entry)
            .is_some());
        // Not a suspension starting after the issue date.
        let later = body(vec![change("2025-12-01", BodyStatus::Suspended, 20)]);
        assert!(later.retroactive_status_at(issued, entry).is_none());
        // Not a suspension logged before the credential (the rules judged it then).
        let known = body(vec![change("2025-06-01", BodyStatus::Suspended, 5)]);
        assert!(known.retroactive_status_at(issued, entry).is_none());
    }
}
