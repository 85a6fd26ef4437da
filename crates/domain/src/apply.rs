//! `apply`: what an accepted event changes. A pure fold step; the node writes the result.

use std::sync::Arc;

use crate::event::{EventId, EventKind, Route, SignedEvent};
use crate::occupation::Catalogue;
use crate::policy::Policy;
use crate::state::{
    BodyRecord, BodyStatus, CredentialRecord, CredentialStatus, Holding, KeyPeriod, LedgerInfo,
    PersonRecord, PolicyVersion, RecordView, Registry, RouteKind, StatusChange,
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
    /// Certificates issued of a kind (issue 19), revoked of a kind, standing now of a kind.
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
    /// Takes in a registry change produced by [`apply`].
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

/// What `signed` (accepted by `decide`, at log `index`) changes.
///
/// # Panics
/// When the event could not have passed `decide` (e.g. a policy that does not parse): the
/// log holds only decided events, so this is an invariant, not an input error.
pub fn apply(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    index: u64,
) -> Changes {
    let mut changes = Changes {
        event_id: signed.event.id,
        index,
        registry: None,
        credential: None,
        special_ability: None,
        person: None,
        career: None,
        stats: Vec::with_capacity(10),
    };
    let body_change = |registration_number, update: &dyn Fn(&mut BodyRecord)| {
        let mut body = registry
            .bodies
            .get(&registration_number)
            .cloned()
            .unwrap_or_else(|| panic!("entry {index}: body {registration_number} must exist"));
        update(&mut body);
        Some(RegistryChange::Body(Box::new(body)))
    };
    let status_change = |change: &crate::event::BodyStatusChange, status| {
        body_change(change.registration_number, &|body: &mut BodyRecord| {
            body.status_changes.push(StatusChange {
                effective: change.effective,
                status,
                reason: change.reason.clone(),
                entry_index: index,
            })
        })
    };
    match &signed.event.kind {
        EventKind::LedgerEstablished(established) => {
            changes.registry = Some(RegistryChange::Ledger(LedgerInfo {
                origin: established.origin.clone(),
                province: established.province,
                authority_name: established.authority_name.clone(),
                authority_keys: vec![KeyPeriod {
                    // The authority existed before its ledger: its key signs records dated
                    // earlier too (e.g. a body registered before the ledger started).
                    from: crate::date::Date::from_ymd(1900, 1, 1).unwrap_or(established.date),
                    public_key: established.authority_key,
                }],
                established: established.date,
                recovery_key: None,
                authority_changes: Vec::new(),
                vc_issuer_keys: Vec::new(),
            }));
        }
        EventKind::CatalogueAdopted(adopted) => {
            let catalogue = Catalogue::from_toml(&adopted.source_toml)
                .unwrap_or_else(|error| panic!("entry {index}: decided catalogue: {error}"));
            changes.registry = Some(RegistryChange::Catalogue(Arc::new(catalogue)));
        }
        EventKind::PolicyAdopted(adopted) => {
            let policy = Policy::from_toml(&adopted.source_toml)
                .unwrap_or_else(|error| panic!("entry {index}: decided policy: {error}"));
            changes.registry = Some(RegistryChange::Policy(PolicyVersion {
                policy: Arc::new(policy),
                entry_index: index,
            }));
        }
        EventKind::BodyRegistered(registered) => {
            changes.registry = Some(RegistryChange::Body(Box::new(BodyRecord {
                registration_number: registered.registration_number,
                name: registered.name.clone(),
                keys: vec![KeyPeriod {
                    from: registered.valid_from.min(registered.date),
                    public_key: registered.public_key,
                }],
                valid_from: registered.valid_from,
                valid_until: registered.valid_until,
                audience: registered.audience,
                scope: registered.scope.clone(),
                direct_recognition: registered.direct_recognition,
                registered: registered.date,
                status_changes: Vec::new(),
                entry_index: index,
                revoked_keys: Vec::new(),
            })));
        }
        EventKind::AuthorityRecoveryKeySet(set) => {
            changes.registry = registry.ledger.as_ref().map(|ledger| {
                let mut ledger = ledger.clone();
                ledger.recovery_key = Some(set.public_key);
                ledger.authority_changes.push(index);
                RegistryChange::Ledger(ledger)
            });
        }
        EventKind::AuthorityKeyRotated(rotated) => {
            changes.registry = registry.ledger.as_ref().map(|ledger| {
                let mut ledger = ledger.clone();
                ledger.authority_keys.push(KeyPeriod {
                    from: rotated.date,
                    public_key: rotated.public_key,
                });
                ledger.authority_changes.push(index);
                RegistryChange::Ledger(ledger)
            });
        }
        EventKind::VcIssuerKeySet(set) => {
            changes.registry = registry.ledger.as_ref().map(|ledger| {
                let mut ledger = ledger.clone();
                ledger.vc_issuer_keys.push(crate::state::VcIssuerKey {
                    controller: set.controller.clone(),
                    public_key: set.public_key,
                    date: set.date,
                    entry_index: index,
                });
                RegistryChange::Ledger(ledger)
            });
        }
        EventKind::BodyKeyRevoked(revoked) => {
            changes.registry = body_change(revoked.registration_number, &|body| {
                body.revoked_keys.push(crate::state::RevokedKey {
                    public_key: revoked.public_key,
                    date: revoked.date,
                    entry_index: index,
                })
            });
        }
        EventKind::BodyKeyRotated(rotated) => {
            changes.registry = body_change(rotated.registration_number, &|body| {
                body.keys.push(KeyPeriod {
                    from: rotated.effective,
                    public_key: rotated.public_key,
                })
            });
        }
        EventKind::BodySuspended(change) => {
            changes.registry = status_change(change, BodyStatus::Suspended)
        }
        EventKind::BodyReinstated(change) => {
            changes.registry = status_change(change, BodyStatus::Active)
        }
        EventKind::BodyCancelled(change) => {
            changes.registry = status_change(change, BodyStatus::Cancelled)
        }
        EventKind::LevelCertified(certified) => {
            let route = RouteKind::of(&certified.route);
            let credential = CredentialRecord {
                certificate_number: certified.certificate_number,
                subject: certified.subject,
                name_commitment: certified.name_commitment,
                occupation: certified.occupation,
                work_type: certified.work_type.clone(),
                level: certified.level,
                issued: certified.issued,
                route,
                status: CredentialStatus::Valid,
                entry_index: index,
            };
            let mut person = records.person(&certified.subject).unwrap_or_default();
            let highest_before = person.highest_overall();
            let basis = crate::careers::credential_basis(&person, certified);
            // Built on a holding already marked (its basis was revoked before this one was
            // issued): marked from the start, as the cascade would have marked it.
            let basis_revoked = basis
                .and_then(|position| person.holdings.get(usize::from(position)))
                .is_some_and(|held| held.revoked || held.basis_revoked);
            if basis_revoked {
                changes.stats.push((StatKey::BasisRevoked, 1));
            }
            person.holdings.push(Holding {
                certificate_number: certified.certificate_number,
                occupation: certified.occupation,
                level: certified.level,
                issued: certified.issued,
                route,
                revoked: false,
                basis,
                basis_revoked,
            });
            if let Route::Contest { result } = certified.route {
                changes.career = crate::careers::promote_result(records, certified, result);
            }
            changes.stats.push((StatKey::Issued, 1));
            changes
                .stats
                .push((StatKey::KindIssued(certified.certificate_number.kind()), 1));
            changes
                .stats
                .push((StatKey::IssuedYear(certified.issued.year()), 1));
            valid_counters(&credential, 1, &mut changes.stats);
            holder_counters(
                highest_before,
                person.highest_overall(),
                certified.issued.year(),
                &mut changes.stats,
            );
            changes.credential = Some(credential);
            changes.person = Some((certified.subject, person));
        }
        EventKind::CredentialRevoked(revoked)
            if revoked.certificate_number.kind() == crate::ids::CredentialKind::SpecialAbility =>
        {
            crate::kinds::apply_special_ability_revocation(
                records,
                signed,
                revoked,
                index,
                &mut changes,
            )
        }
        EventKind::SpecialAbilityCertified(certified) => {
            crate::kinds::apply_special_ability(records, certified, index, &mut changes)
        }
        EventKind::CredentialRevoked(revoked) => {
            let mut credential = records
                .credential(&revoked.certificate_number)
                .unwrap_or_else(|| panic!("entry {index}: revoked credential must exist"));
            credential.status = revoked_status(revoked, signed, index);
            let mut person = records.person(&credential.subject).unwrap_or_default();
            let highest_before = person.highest_overall();
            for holding in &mut person.holdings {
                if holding.certificate_number == revoked.certificate_number {
                    holding.revoked = true;
                }
            }
            let marked = crate::careers::cascade_revocation(
                records,
                &credential.subject,
                revoked.certificate_number,
                &mut person,
                &mut changes,
            );
            if marked > 0 {
                changes
                    .stats
                    .push((StatKey::BasisRevoked, i64::from(marked)));
            }
            changes.stats.push((StatKey::Revoked, 1));
            changes.stats.push((
                StatKey::KindRevoked(credential.certificate_number.kind()),
                1,
            ));
            valid_counters(&credential, -1, &mut changes.stats);
            holder_counters(
                highest_before,
                person.highest_overall(),
                revoked.effective.year(),
                &mut changes.stats,
            );
            changes.person = Some((credential.subject, person));
            changes.credential = Some(credential);
        }
        EventKind::RecognitionRecorded(recognised) => {
            crate::recognition::apply_recognition(records, recognised, &mut changes)
        }
        EventKind::RecognitionWithdrawn(withdrawn) => {
            crate::recognition::apply_withdrawal(records, withdrawn, &mut changes)
        }
        EventKind::ContestJoined(joined) => {
            crate::joint_contests::apply_joined(registry, joined, &mut changes)
        }
        EventKind::PartnerContestResultAccepted(accepted) => {
            crate::joint_contests::apply_accepted(registry, records, accepted, &mut changes)
        }
        _ => crate::careers::apply_route_event(registry, records, signed, index, &mut changes),
    }
    changes
}

/// The status a `CredentialRevoked` (signed as `signed`, at log `index`) gives a
/// certificate of any kind.
pub(crate) fn revoked_status(
    revoked: &crate::event::CredentialRevoked,
    signed: &SignedEvent,
    index: u64,
) -> CredentialStatus {
    CredentialStatus::Revoked {
        effective: revoked.effective,
        reason: revoked.reason.clone(),
        by: signed.signer,
        entry_index: index,
    }
}

fn valid_counters(credential: &CredentialRecord, delta: i64, stats: &mut Vec<(StatKey, i64)>) {
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
