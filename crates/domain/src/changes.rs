//! What `apply` produces: [`Changes`] (everything one accepted event changes), the
//! [`RegistryChange`] the in-memory [`Registry`] absorbs, the statistics counters
//! ([`StatKey`], named in [`stat`]) and the counter deltas the events share (a credential's
//! "valid" counters, the holder counters).

use std::sync::Arc;

use crate::event::EventId;
use crate::occupation::Catalogue;
use crate::state::{
    BodyRecord, CredentialRecord, LedgerInfo, PersonRecord, PolicyVersion, Registry, RouteKind,
};
use crate::subject::SubjectId;

/// A change to the in-memory registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryChange {
    Ledger(LedgerInfo),
    Catalogue(Arc<Catalogue>),
    Policy(PolicyVersion),
    Body(Box<BodyRecord>),
    Contest(Box<crate::state::ContestRecord>),
    AppointmentRight(Box<crate::state::AppointmentRight>),
}

/// Everything one accepted event changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changes {
    pub event_id: EventId,
    pub index: u64,
    pub registry: Option<RegistryChange>,
    pub credential: Option<CredentialRecord>,
    /// A 专项职业能力证书 issued or revoked (never a holding).
    pub special_ability: Option<crate::state::SpecialAbilityRecord>,
    pub person: Option<(SubjectId, PersonRecord)>,
    /// The person's records of the other routes, when the event changed them.
    pub career: Option<(SubjectId, crate::state::CareerRecord)>,
    /// Statistics counter deltas, by counter (named by [`StatKey`]'s `Display`, see [`stat`]).
    pub stats: Vec<(StatKey, i64)>,
}

/// A statistics counter, small and `Copy`: `apply` produces these without allocating, and
/// the counter's name (what is persisted and printed, e.g. `certificates.valid.level.junior`)
/// is rendered by `Display` only when it is needed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum StatKey {
    Issued,
    Revoked,
    IssuedYear(i32),
    ValidLevel(crate::ladder::Level),
    ValidProvince(crate::ids::Province),
    ValidGroup(u8),
    ValidYear(i32),
    ValidRoute(RouteKind),
    Holders,
    HoldersHighest(crate::ladder::Level),
    /// Net holders gained in a year (by the date of the event that changed them).
    HoldersYear(i32),
    /// Net high-skill holders (高级工 and above) gained in a year, likewise.
    HighSkillYear(i32),
    /// What stands now by route and level: valid credentials, current appointments.
    RouteLevel(RouteKind, crate::ladder::Level),
    ApprenticeshipsStarted,
    ApprenticeshipsCompleted,
    AppointmentsEnded,
    ContestResults,
    /// Title eligibilities granted by conversion (skill to title), by title.
    TitleEligibilities(crate::event::TitleLevel),
    /// Credentials and posts marked "basis revoked" by a revocation cascade.
    BasisRevoked,
    /// Recognitions of partner credentials standing now (互认).
    RecognitionsActive,
    /// Recognitions standing now, by level.
    RecognitionsLevel(crate::ladder::Level),
    /// Recognitions withdrawn (origin revoked or authority decision).
    RecognitionsWithdrawn,
    /// Results of a joint contest's partner side accepted here (结果互认).
    PartnerContestResults,
    /// Certificates issued of a kind (skill level, qualification, special ability), revoked
    /// of a kind, standing now of a kind.
    KindIssued(crate::ids::CredentialKind),
    KindRevoked(crate::ids::CredentialKind),
    KindValid(crate::ids::CredentialKind),
    /// Standing now of a kind with a level (skill levels and qualifications), by level.
    KindValidLevel(crate::ids::CredentialKind, crate::ladder::Level),
}

impl std::fmt::Display for StatKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatKey::Issued => f.write_str(stat::ISSUED),
            StatKey::Revoked => f.write_str(stat::REVOKED),
            StatKey::IssuedYear(year) => write!(f, "{}{year}", stat::ISSUED_YEAR),
            StatKey::ValidLevel(level) => write!(f, "{}{}", stat::VALID_LEVEL, level.id()),
            StatKey::ValidProvince(province) => write!(f, "{}{province}", stat::VALID_PROVINCE),
            StatKey::ValidGroup(group) => write!(f, "{}{group}", stat::VALID_GROUP),
            StatKey::ValidYear(year) => write!(f, "{}{year}", stat::VALID_YEAR),
            StatKey::ValidRoute(route) => write!(f, "{}{}", stat::VALID_ROUTE, route.id()),
            StatKey::Holders => f.write_str(stat::HOLDERS),
            StatKey::HoldersHighest(level) => {
                write!(f, "{}{}", stat::HOLDERS_HIGHEST, level.id())
            }
            StatKey::HoldersYear(year) => write!(f, "{}{year}", stat::HOLDERS_YEAR),
            StatKey::HighSkillYear(year) => write!(f, "{}{year}", stat::HIGH_SKILL_YEAR),
            StatKey::RouteLevel(route, level) => {
                write!(f, "{}{}.level.{}", stat::ROUTE, route.id(), level.id())
            }
            StatKey::ApprenticeshipsStarted => f.write_str(stat::APPRENTICESHIPS_STARTED),
            StatKey::ApprenticeshipsCompleted => f.write_str(stat::APPRENTICESHIPS_COMPLETED),
            StatKey::AppointmentsEnded => f.write_str(stat::APPOINTMENTS_ENDED),
            StatKey::ContestResults => f.write_str(stat::CONTEST_RESULTS),
            StatKey::TitleEligibilities(title) => {
                write!(f, "{}{}", stat::TITLE_ELIGIBILITIES, title.id())
            }
            StatKey::BasisRevoked => f.write_str(stat::BASIS_REVOKED),
            StatKey::RecognitionsActive => f.write_str(stat::RECOGNITIONS_ACTIVE),
            StatKey::RecognitionsLevel(level) => {
                write!(f, "{}{}", stat::RECOGNITIONS_LEVEL, level.id())
            }
            StatKey::RecognitionsWithdrawn => f.write_str(stat::RECOGNITIONS_WITHDRAWN),
            StatKey::PartnerContestResults => f.write_str(stat::PARTNER_CONTEST_RESULTS),
            StatKey::KindIssued(kind) => write!(f, "{}{}.issued", stat::KIND, kind.id()),
            StatKey::KindRevoked(kind) => write!(f, "{}{}.revoked", stat::KIND, kind.id()),
            StatKey::KindValid(kind) => write!(f, "{}{}.valid", stat::KIND, kind.id()),
            StatKey::KindValidLevel(kind, level) => {
                write!(f, "{}{}.valid.level.{}", stat::KIND, kind.id(), level.id())
            }
        }
    }
}

/// Statistics counter names. Stable: `stats --json` is built from them.
pub mod stat {
    pub const ISSUED: &str = "certificates.issued";
    pub const REVOKED: &str = "certificates.revoked";
    pub const ISSUED_YEAR: &str = "certificates.issued.year.";
    pub const VALID_LEVEL: &str = "certificates.valid.level.";
    pub const VALID_PROVINCE: &str = "certificates.valid.province.";
    pub const VALID_GROUP: &str = "certificates.valid.group.";
    pub const VALID_YEAR: &str = "certificates.valid.year.";
    pub const VALID_ROUTE: &str = "certificates.valid.route.";
    pub const HOLDERS: &str = "holders.total";
    pub const HOLDERS_HIGHEST: &str = "holders.highest.";
    /// Net change of holders in a year: summed up to a year, the holders at its end.
    pub const HOLDERS_YEAR: &str = "holders.added.year.";
    /// Net change of high-skill holders in a year, likewise.
    pub const HIGH_SKILL_YEAR: &str = "holders.high_skill.added.year.";
    /// `routes.<route>.level.<level>`: valid credentials (evaluation, direct, contest,
    /// conversion) or current posts (appointment) per route and level.
    pub const ROUTE: &str = "routes.";
    pub const APPRENTICESHIPS_STARTED: &str = "routes.apprenticeship.started";
    pub const APPRENTICESHIPS_COMPLETED: &str = "routes.apprenticeship.completed";
    pub const APPOINTMENTS_ENDED: &str = "routes.appointment.ended";
    pub const CONTEST_RESULTS: &str = "routes.contest.results";
    pub const TITLE_ELIGIBILITIES: &str = "routes.conversion.title_eligibility.";
    pub const BASIS_REVOKED: &str = "routes.basis_revoked";
    /// Recognitions (互认) of partner credentials standing now; by level; withdrawn so far.
    pub const RECOGNITIONS_ACTIVE: &str = "recognitions.active";
    pub const RECOGNITIONS_LEVEL: &str = "recognitions.level.";
    pub const RECOGNITIONS_WITHDRAWN: &str = "recognitions.withdrawn";
    /// Contest results recorded on a partner ledger and accepted here (joint contests).
    pub const PARTNER_CONTEST_RESULTS: &str = "routes.contest.partner_results";
    /// `credentials.<kind>.issued|revoked|valid` and `credentials.<kind>.valid.level.<level>`
    /// per credential kind (skill_level, qualification, special_ability).
    pub const KIND: &str = "credentials.";
}

impl Registry {
    /// Takes in a registry change produced by [`apply`](crate::apply).
    pub fn absorb(&mut self, change: RegistryChange) {
        match change {
            RegistryChange::Ledger(ledger) => self.ledger = Some(ledger),
            RegistryChange::Catalogue(catalogue) => self.catalogue = Some(catalogue),
            RegistryChange::Policy(version) => self.policies.push(version),
            RegistryChange::Body(body) => {
                self.bodies.insert(body.registration_number, *body);
            }
            RegistryChange::Contest(contest) => {
                self.contests.insert(contest.id, *contest);
            }
            RegistryChange::AppointmentRight(right) => {
                self.appointment_rights
                    .insert(right.registration_number, *right);
            }
        }
    }
}
/// The counters of a credential standing now (`delta` 1 when issued, -1 when revoked).
pub(crate) fn valid_counters(
    credential: &CredentialRecord,
    delta: i64,
    stats: &mut Vec<(StatKey, i64)>,
) {
    let kind = credential.certificate_number.kind();
    stats.extend([
        (StatKey::KindValid(kind), delta),
        (StatKey::KindValidLevel(kind, credential.level), delta),
        (StatKey::ValidLevel(credential.level), delta),
        (
            StatKey::ValidProvince(credential.certificate_number.province()),
            delta,
        ),
        (
            StatKey::ValidGroup(credential.occupation.major_group()),
            delta,
        ),
        (StatKey::ValidYear(credential.issued.year()), delta),
        (StatKey::ValidRoute(credential.route), delta),
        (
            StatKey::RouteLevel(credential.route, credential.level),
            delta,
        ),
    ]);
}

/// Holder counters for a change of a person's highest level, with the year of the event
/// that made it (a year's figures count each change in the year of its event's date).
pub(crate) fn holder_counters(
    before: Option<crate::ladder::Level>,
    after: Option<crate::ladder::Level>,
    year: i32,
    stats: &mut Vec<(StatKey, i64)>,
) {
    if before == after {
        return;
    }
    match (before, after) {
        (None, Some(_)) => {
            stats.push((StatKey::Holders, 1));
            stats.push((StatKey::HoldersYear(year), 1));
        }
        (Some(_), None) => {
            stats.push((StatKey::Holders, -1));
            stats.push((StatKey::HoldersYear(year), -1));
        }
        _ => {}
    }
    let high =
        |level: Option<crate::ladder::Level>| level.is_some_and(|level| level.is_high_skill());
    match (high(before), high(after)) {
        (false, true) => stats.push((StatKey::HighSkillYear(year), 1)),
        (true, false) => stats.push((StatKey::HighSkillYear(year), -1)),
        _ => {}
    }
    if let Some(level) = before {
        stats.push((StatKey::HoldersHighest(level), -1));
    }
    if let Some(level) = after {
        stats.push((StatKey::HoldersHighest(level), 1));
    }
}
