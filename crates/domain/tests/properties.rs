//! Property tests: replay equals incremental state, accepted events never reach a forbidden
//! state, and entry bytes round-trip (and fail cleanly when damaged).

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use skill_ledger_domain::{
    stat, Audience, BodyKeyRotated, BodyRegistered, BodyStatusChange, CatalogueAdopted,
    CertificateNumber, CredentialRevoked, CredentialStatus, EntryError, EvaluationBasis, Event,
    EventId, EventKind, LedgerEstablished, Level, LevelCertified, MemoryLedger, NameCommitment,
    OccupationCode, PolicyAdopted, Province, RegistrationNumber, Route, RouteKind, ScopeItem,
    SignedEvent, Signer, SubjectId, ENTRY_FORMAT_VERSION,
};

const CASES: u32 = 64;

// ---------------------------------------------------------------------------------------
// Random histories
// ---------------------------------------------------------------------------------------

/// One candidate event; many are refused, which is the point.
#[derive(Clone, Debug)]
enum Op {
    Certify {
        body: u8,
        holder: u8,
        occupation: u8,
        level_rank: u8,
        route: u8,
        /// Days before the running clock the credential says it was issued (back-dating).
        backdate: u16,
    },
    Revoke {
        pick: Index,
        signer: u8,
        backdate: u16,
    },
    Suspend {
        body: u8,
    },
    Reinstate {
        body: u8,
    },
    Cancel {
        body: u8,
    },
    /// The other routes (issue 5), each choosing among what the ledger holds.
    Route {
        kind: u8,
        holder: u8,
        occupation: u8,
        pick: Index,
        choice: u8,
        backdate: u16,
    },
}

/// An operation and the days the running clock advances before it.
fn op_strategy() -> impl Strategy<Value = (u16, Op)> {
    // Level ranks 7..=10 mean "one above what the holder holds now in that occupation".
    let certify = (
        0u8..2,
        1u8..3,
        prop_oneof![6 => 0u8..2, 1 => Just(2u8)],
        0u8..11,
        0u8..4,
        prop_oneof![4 => Just(0u16), 1 => 0u16..2000],
    )
        .prop_map(
            |(body, holder, occupation, level_rank, route, backdate)| Op::Certify {
                body,
                holder,
                occupation,
                level_rank,
                route,
                backdate,
            },
        );
    let revoke = (
        any::<Index>(),
        0u8..3,
        prop_oneof![3 => Just(0u16), 1 => 0u16..400],
    )
        .prop_map(|(pick, signer, backdate)| Op::Revoke {
            pick,
            signer,
            backdate,
        });
    let route = (
        0u8..9,
        1u8..4,
        0u8..2,
        any::<Index>(),
        0u8..8,
        prop_oneof![4 => Just(0u16), 1 => 0u16..800],
    )
        .prop_map(
            |(kind, holder, occupation, pick, choice, backdate)| Op::Route {
                kind,
                holder,
                occupation,
                pick,
                choice,
                backdate,
            },
        );
    let ops = prop_oneof![
        12 => certify,
        8 => route,
        3 => revoke,
        1 => (0u8..2).prop_map(|body| Op::Suspend { body }),
        1 => (0u8..2).prop_map(|body| Op::Reinstate { body }),
        1 => (0u8..40).prop_map(|body| Op::Cancel { body }),
    ];
    (
        prop_oneof![2 => Just(0u16), 2 => 0u16..120, 1 => 300u16..1000],
        ops,
    )
}

fn body_of(index: u8) -> Body {
    match index {
        0 => y_body(),
        _ => s_body(),
    }
}

/// The standard setup, submitted once and cloned per case (signature checks are slow in
/// debug builds).
fn setup_ledger() -> MemoryLedger {
    static LEDGER: OnceLock<MemoryLedger> = OnceLock::new();
    LEDGER
        .get_or_init(|| {
            let fx = Fx::new();
            let mut events = fx.setup();
            events.extend(contests(&fx));
            events.push(fx.right(
                &y_body(),
                &[Level::PrincipalTechnician, Level::ChiefTechnician],
                "2019-01-01",
            ));
            given(events)
        })
        .clone()
}

/// One contest per tier, held on 2019-01-01 (ids from the setup's fixture).
fn contests(fx: &Fx) -> Vec<SignedEvent> {
    ContestTier::ALL
        .into_iter()
        .map(|tier| fx.contest(tier, "2019-01-01"))
        .collect()
}

/// A candidate event of the other routes, built from what the ledger holds.
#[allow(clippy::too_many_arguments)]
fn route_event(
    fx: &Fx,
    ledger: &MemoryLedger,
    issued: &[(CertificateNumber, Body)],
    kind: u8,
    holder: u8,
    occupation: OccupationCode,
    pick: &Index,
    choice: u8,
    date: Date,
) -> Option<SignedEvent> {
    let y = y_body();
    let body = if choice % 5 == 4 { s_body() } else { y.clone() };
    let day = date.to_string();
    let career = ledger
        .careers
        .get(&subject(holder))
        .cloned()
        .unwrap_or_default();
    let level = Level::from_rank(choice % 8).expect("rank");
    let certify = |route: Route, level: Level| {
        let mut certified = fx.cert(&body, holder, occupation, Level::Junior, &day, route);
        certified.certificate_number =
            CertificateNumber::compose(body.number, date.year(), level, fx.serial())?;
        certified.level = level;
        Some(fx.issue(&body, certified))
    };
    let pick_of = |len: usize| (len > 0).then(|| pick.index(len));
    Some(match kind {
        0 => fx.apprenticeship(&body, holder, occupation, &day),
        1 => {
            let started = &career.apprenticeships[pick_of(career.apprenticeships.len())?];
            let kind =
                EventKind::ApprenticeshipCompleted(skill_ledger_domain::ApprenticeshipCompleted {
                    apprenticeship: started.id,
                    subject: subject(holder),
                    completed: date,
                });
            fx.by_body(&body, kind)
        }
        2 => {
            let apprenticeship = career
                .apprenticeships
                .get(pick_of(career.apprenticeships.len())?)?;
            certify(
                Route::Evaluation(EvaluationBasis::Apprenticeship {
                    apprenticeship: apprenticeship.id,
                }),
                if choice < 6 {
                    Level::Junior
                } else {
                    Level::Intermediate
                },
            )?
        }
        3 => {
            let contests: Vec<_> = ledger.registry.contests.values().collect();
            let contest = contests[pick.index(contests.len())];
            fx.by_authority(EventKind::ContestResultRecorded(
                skill_ledger_domain::ContestResultRecorded {
                    contest: contest.id,
                    subject: subject(holder),
                    occupation,
                    rank: u16::from(choice) * 5 + 1,
                    award: "名次".to_string(),
                    date,
                },
            ))
        }
        4 => {
            let result = career
                .contest_results
                .get(pick_of(career.contest_results.len())?)?;
            certify(
                Route::Contest { result: result.id },
                level.max(Level::Junior).min(Level::SeniorTechnician),
            )?
        }
        5 => {
            // 特级技师 on a 高级技师 the holder has, or 首席技师 on a post.
            let basis = if choice.is_multiple_of(2) {
                let number = issued
                    .iter()
                    .filter(|(number, _)| {
                        ledger.credentials[number].subject == subject(holder)
                            && number.level_number() == 1
                    })
                    .map(|(number, _)| *number)
                    .next()?;
                AppointmentBasis::Credential(number)
            } else {
                AppointmentBasis::Appointment(
                    career
                        .appointments
                        .get(pick_of(career.appointments.len())?)?
                        .id,
                )
            };
            let level = if choice.is_multiple_of(2) {
                Level::PrincipalTechnician
            } else {
                Level::ChiefTechnician
            };
            let end = date.add_years(u32::from(choice % 4) + 3);
            fx.appointment(
                &body,
                holder,
                occupation,
                level,
                &day,
                &end.to_string(),
                basis,
            )
        }
        6 => {
            let appointment = career
                .appointments
                .get(pick_of(career.appointments.len())?)?;
            let kind = fx.appointment_end_of(
                appointment.id,
                holder,
                &day,
                if choice.is_multiple_of(2) {
                    AppointmentEndReason::TermOver
                } else {
                    AppointmentEndReason::LeftPost
                },
            );
            if choice.is_multiple_of(3) {
                fx.by_authority(kind)
            } else {
                fx.by_body(&body, kind)
            }
        }
        7 => {
            if choice.is_multiple_of(2) {
                let title = TitleLevel::ALL[usize::from(choice / 2 % 4)];
                fx.title(
                    holder,
                    title,
                    if choice < 4 {
                        "机械工程"
                    } else {
                        "电气工程"
                    },
                    &day,
                )
            } else {
                let title = career.titles.get(pick_of(career.titles.len())?)?;
                certify(
                    Route::Conversion { title: title.id },
                    level.max(Level::Junior).min(Level::SeniorTechnician),
                )?
            }
        }
        _ => {
            let (number, _) = issued.get(pick_of(issued.len())?)?;
            let title = TitleLevel::ALL[usize::from(choice % 3)];
            fx.by_authority(EventKind::TitleEligibilityGranted(
                skill_ledger_domain::TitleEligibilityGranted {
                    subject: subject(holder),
                    basis: *number,
                    title,
                    series: "工程技术".to_string(),
                    field: "机械工程".to_string(),
                    date,
                },
            ))
        }
    })
}

fn route_of(choice: u8) -> Route {
    match choice {
        0 => attested(),
        1 | 2 => prior(),
        _ => direct(),
    }
}

/// Turns the operations into signed candidates and submits each, keeping what is accepted.
fn run(ops: &[(u16, Op)]) -> MemoryLedger {
    // Ids and serials must not collide with the setup's (fresh fixture counters start at 1).
    let fx = Fx::new();
    for _ in 0..1_000 {
        fx.id();
    }
    let mut ledger = setup_ledger();
    let mut clock = d("2019-01-01");
    let mut issued: Vec<(CertificateNumber, Body)> = Vec::new();
    for (advance, op) in ops {
        clock =
            Date::from_days_since_unix_epoch(clock.days_since_unix_epoch() + i32::from(*advance))
                .expect("date");
        let back = |days: u16| {
            Date::from_days_since_unix_epoch(clock.days_since_unix_epoch() - i32::from(days))
                .expect("date")
        };
        let signed = match op {
            Op::Certify {
                body,
                holder,
                occupation,
                level_rank,
                route,
                backdate,
            } => {
                let body = body_of(*body);
                let occupation = [turner(), welder(), cook()][usize::from(*occupation)];
                let held = ledger
                    .persons
                    .get(&subject(*holder))
                    .and_then(|person| person.highest_per_occupation().get(&occupation).copied());
                let (level, route) =
                    match Level::from_rank(*level_rank).filter(|_| *level_rank <= 6) {
                        Some(level) => (level, route_of(*route)),
                        // "The next level": attested for a first level, mostly prior-level after.
                        None => match held {
                            None => (Level::Junior, attested()),
                            Some(held) => (held.above().unwrap_or(held), route_of(*route % 3 + 1)),
                        },
                    };
                let issued_on = back(*backdate);
                let mut certified = fx.cert(
                    &body,
                    *holder,
                    occupation,
                    Level::Junior,
                    &issued_on.to_string(),
                    route,
                );
                if let Some(number) =
                    CertificateNumber::compose(body.number, issued_on.year(), level, fx.serial())
                {
                    certified.certificate_number = number;
                }
                certified.level = level;
                let number = certified.certificate_number;
                if ledger.submit(fx.issue(&body, certified)).is_ok() {
                    issued.push((number, body.clone()));
                }
                continue;
            }
            Op::Revoke {
                pick,
                signer,
                backdate,
            } => {
                // Mostly credentials on the ledger; sometimes one that never was.
                let (number, issuer) = match issued.len() {
                    0 => (
                        fx.cert(
                            &y_body(),
                            1,
                            turner(),
                            Level::Junior,
                            "2020-01-01",
                            attested(),
                        )
                        .certificate_number,
                        y_body(),
                    ),
                    len => issued[pick.index(len)].clone(),
                };
                let revocation = EventKind::CredentialRevoked(CredentialRevoked {
                    certificate_number: number,
                    effective: back(*backdate),
                    reason: "核查撤销".to_string(),
                });
                match signer {
                    0 => fx.by_authority(revocation),
                    1 => fx.by_body(&issuer, revocation),
                    _ => fx.by_body(&s_body(), revocation),
                }
            }
            Op::Route {
                kind,
                holder,
                occupation,
                pick,
                choice,
                backdate,
            } => {
                let occupation = [turner(), welder()][usize::from(*occupation)];
                let Some(signed) = route_event(
                    &fx,
                    &ledger,
                    &issued,
                    *kind,
                    *holder,
                    occupation,
                    pick,
                    *choice,
                    back(*backdate),
                ) else {
                    continue;
                };
                let number = match &signed.event.kind {
                    EventKind::LevelCertified(certified) => Some(certified.certificate_number),
                    _ => None,
                };
                if ledger.submit(signed).is_ok() {
                    if let Some(number) = number {
                        issued.push((number, body_of(u8::from(number.as_str().starts_with('S')))));
                    }
                }
                continue;
            }
            Op::Suspend { body } => fx.suspend(&body_of(*body), &clock.to_string()),
            Op::Reinstate { body } => fx.reinstate(&body_of(*body), &clock.to_string()),
            Op::Cancel { body } => {
                // Rare: only a few of the drawn values cancel, the rest are skipped.
                if *body >= 2 {
                    continue;
                }
                fx.cancel(&body_of(*body), &clock.to_string())
            }
        };
        let _ = ledger.submit(signed);
    }
    ledger
}

/// Every statistics counter recomputed from the credential and person records.
fn recount(ledger: &MemoryLedger) -> BTreeMap<String, i64> {
    let mut stats = BTreeMap::new();
    let mut bump = |name: String| *stats.entry(name).or_insert(0i64) += 1;
    for credential in ledger.credentials.values() {
        let kind = credential.certificate_number.kind().id();
        bump(stat::ISSUED.to_string());
        bump(format!("{}{kind}.issued", stat::KIND));
        bump(format!("{}{}", stat::ISSUED_YEAR, credential.issued.year()));
        if !credential.is_valid() {
            bump(stat::REVOKED.to_string());
            bump(format!("{}{kind}.revoked", stat::KIND));
            continue;
        }
        bump(format!("{}{kind}.valid", stat::KIND));
        bump(format!(
            "{}{kind}.valid.level.{}",
            stat::KIND,
            credential.level.id()
        ));
        bump(format!("{}{}", stat::VALID_LEVEL, credential.level.id()));
        bump(format!(
            "{}{}",
            stat::VALID_PROVINCE,
            credential.certificate_number.province()
        ));
        bump(format!(
            "{}{}",
            stat::VALID_GROUP,
            credential.occupation.major_group()
        ));
        bump(format!("{}{}", stat::VALID_YEAR, credential.issued.year()));
        bump(format!("{}{}", stat::VALID_ROUTE, credential.route.id()));
        bump(format!(
            "{}{}.level.{}",
            stat::ROUTE,
            credential.route.id(),
            credential.level.id()
        ));
    }
    for person in ledger.persons.values() {
        for holding in person.holdings.iter().filter(|h| h.basis_revoked) {
            let _ = holding;
            bump(stat::BASIS_REVOKED.to_string());
        }
    }
    for record in ledger.special_abilities.values() {
        let kind = record.certificate_number.kind().id();
        bump(format!("{}{kind}.issued", stat::KIND));
        bump(format!(
            "{}{kind}.{}",
            stat::KIND,
            if record.is_valid() {
                "valid"
            } else {
                "revoked"
            }
        ));
    }
    for career in ledger.careers.values() {
        for apprenticeship in &career.apprenticeships {
            bump(stat::APPRENTICESHIPS_STARTED.to_string());
            if apprenticeship.completed.is_some() {
                bump(stat::APPRENTICESHIPS_COMPLETED.to_string());
            }
        }
        for _ in &career.contest_results {
            bump(stat::CONTEST_RESULTS.to_string());
        }
        for appointment in &career.appointments {
            if appointment.is_current() {
                bump(format!(
                    "{}appointment.level.{}",
                    stat::ROUTE,
                    appointment.level.id()
                ));
            } else {
                bump(stat::APPOINTMENTS_ENDED.to_string());
            }
            if appointment.basis_revoked {
                bump(stat::BASIS_REVOKED.to_string());
            }
        }
        for eligibility in &career.eligibilities {
            bump(format!(
                "{}{}",
                stat::TITLE_ELIGIBILITIES,
                eligibility.title.id()
            ));
            if eligibility.basis_revoked {
                bump(stat::BASIS_REVOKED.to_string());
            }
        }
    }
    for person in ledger.persons.values() {
        if let Some(level) = person.highest_overall() {
            bump(stat::HOLDERS.to_string());
            bump(format!("{}{}", stat::HOLDERS_HIGHEST, level.id()));
        }
    }
    stats
}

fn check_invariants(ledger: &MemoryLedger) -> Result<(), TestCaseError> {
    let policy = ledger.registry.latest_policy().expect("policy");
    for credential in ledger.credentials.values() {
        let body = &ledger.registry.bodies[&credential.body()];
        // Within the body's scope, a certifiable level, a number that agrees with it.
        let level_max = body.scope_level_max(credential.occupation);
        prop_assert!(
            level_max.is_some_and(|max| credential.level <= max),
            "{} above scope {:?}",
            credential.certificate_number,
            level_max
        );
        prop_assert_eq!(
            credential.level.national_number(),
            Some(credential.certificate_number.level_number())
        );
        prop_assert_eq!(
            i32::from(credential.certificate_number.year_two_digits()),
            credential.issued.year() % 100
        );
        // Issued while the body was active and inside its window.
        prop_assert!(credential.issued >= body.valid_from && credential.issued <= body.valid_until);
        // Evaluation above the attested entry level builds on the level directly below, held
        // (and not yet revoked) when this credential was decided, long enough before.
        if credential.route == RouteKind::Evaluation
            && credential.level > policy.evaluation.attested_entry_max
        {
            let below = credential.level.below().expect("level below");
            let required = policy.min_years_after_previous(credential.occupation, credential.level);
            let person = &ledger.persons[&credential.subject];
            let basis = person.holdings.iter().any(|holding| {
                let record = &ledger.credentials[&holding.certificate_number];
                let valid_then = match &record.status {
                    CredentialStatus::Valid => true,
                    CredentialStatus::Revoked { entry_index, .. } => {
                        *entry_index > credential.entry_index
                    }
                };
                holding.occupation == credential.occupation
                    && holding.level == below
                    && record.entry_index < credential.entry_index
                    && valid_then
                    && holding.issued.add_years(required) <= credential.issued
            });
            prop_assert!(
                basis,
                "{} ({:?}) has no basis one level below",
                credential.certificate_number,
                credential.level
            );
        }
        // The person's holding mirrors the credential record.
        let person = &ledger.persons[&credential.subject];
        let holding = person
            .holdings
            .iter()
            .find(|holding| holding.certificate_number == credential.certificate_number)
            .expect("holding");
        prop_assert_eq!(holding.revoked, !credential.is_valid());
        prop_assert_eq!(holding.level, credential.level);
    }
    check_route_invariants(ledger, policy)?;
    let holdings: usize = ledger.persons.values().map(|p| p.holdings.len()).sum();
    prop_assert_eq!(holdings, ledger.credentials.len());
    // The yearly holder counters depend on the order of dates; what they must agree with is
    // the end state: summed over the years, the holders and the high-skill holders now.
    let yearly_sum = |prefix: &str| -> i64 {
        ledger
            .stats
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(_, value)| *value)
            .sum()
    };
    let holders_now = ledger
        .persons
        .values()
        .filter(|person| person.highest_overall().is_some())
        .count() as i64;
    let high_skill_now = ledger
        .persons
        .values()
        .filter(|person| {
            person
                .highest_overall()
                .is_some_and(|level| level.is_high_skill())
        })
        .count() as i64;
    prop_assert_eq!(yearly_sum(stat::HOLDERS_YEAR), holders_now);
    prop_assert_eq!(yearly_sum(stat::HIGH_SKILL_YEAR), high_skill_now);
    let others: BTreeMap<String, i64> = ledger
        .stats
        .iter()
        .filter(|(name, _)| {
            !name.starts_with(stat::HOLDERS_YEAR) && !name.starts_with(stat::HIGH_SKILL_YEAR)
        })
        .map(|(name, value)| (name.clone(), *value))
        .collect();
    prop_assert_eq!(&recount(ledger), &others);
    Ok(())
}

/// What the policy forbids for the other routes never stands after accepted events.
fn check_route_invariants(
    ledger: &MemoryLedger,
    policy: &skill_ledger_domain::Policy,
) -> Result<(), TestCaseError> {
    for (subject, career) in &ledger.careers {
        // At most the policy's number of contest promotions per subject and year, each
        // result promoted to one credential of its occupation that names it.
        let mut per_year: BTreeMap<i32, u32> = BTreeMap::new();
        for result in &career.contest_results {
            if let Some((number, date)) = result.promoted {
                *per_year.entry(date.year()).or_insert(0) += 1;
                let credential = &ledger.credentials[&number];
                prop_assert_eq!(credential.route, RouteKind::Contest);
                prop_assert_eq!(credential.occupation, result.occupation);
                prop_assert!(date >= result.date);
                let registered = &ledger.registry.contests[&result.contest];
                prop_assert_eq!(registered.tier, result.tier);
                prop_assert!(
                    policy
                        .contest_level_allowed(
                            result.tier,
                            result.rank,
                            Some(Level::SeniorTechnician)
                        )
                        .is_some_and(|allowed| credential.level <= allowed),
                    "{} promoted without a row of the table",
                    number
                );
            }
        }
        for (year, count) in per_year {
            prop_assert!(
                count <= policy.contest.promotions_per_year_max,
                "{count} contest promotions in {year}"
            );
        }
        // Apprenticeships complete after the policy's years, with the body that began them.
        for apprenticeship in &career.apprenticeships {
            if let Some(completed) = apprenticeship.completed {
                prop_assert!(
                    completed
                        >= apprenticeship
                            .started
                            .add_years(policy.apprenticeship.min_years)
                );
            }
            prop_assert_eq!(
                apprenticeship.body.kind(),
                skill_ledger_domain::BodyKind::Enterprise
            );
        }
        // Posts: by a body with the right, terms within the policy, bases that held.
        for appointment in &career.appointments {
            let right = &ledger.registry.appointment_rights[&appointment.body];
            prop_assert!(right
                .levels_at(appointment.term_start)
                .contains(&appointment.level));
            prop_assert!(appointment.term_end > appointment.term_start);
            prop_assert!(
                appointment.term_end
                    <= appointment
                        .term_start
                        .add_years(policy.appointment.term_years_max)
            );
            match (&appointment.basis, appointment.level) {
                (AppointmentBasis::Credential(number), Level::PrincipalTechnician) => {
                    let basis = &ledger.credentials[number];
                    prop_assert_eq!(basis.subject, *subject);
                    prop_assert_eq!(basis.level, Level::SeniorTechnician);
                    prop_assert_eq!(basis.occupation, appointment.occupation);
                    prop_assert!(
                        basis
                            .issued
                            .add_years(policy.appointment.principal_min_years)
                            <= appointment.term_start
                    );
                    // Revoked later at most: then the post is marked.
                    prop_assert_eq!(!basis.is_valid(), appointment.basis_revoked);
                }
                (AppointmentBasis::Appointment(id), Level::ChiefTechnician) => {
                    prop_assert!(right
                        .first_principal
                        .is_some_and(|first| first <= appointment.term_start));
                    let post = career
                        .appointments
                        .iter()
                        .find(|a| a.id == *id)
                        .expect("basis post");
                    prop_assert_eq!(post.level, Level::PrincipalTechnician);
                    prop_assert!(post.entry_index < appointment.entry_index);
                }
                (basis, level) => prop_assert!(false, "{level:?} on {basis:?}"),
            }
            if let Some((ended, _)) = appointment.ended {
                prop_assert!(ended >= appointment.term_start);
            }
        }
        // At most one current post per occupation and level.
        let mut current = std::collections::BTreeSet::new();
        for appointment in career.appointments.iter().filter(|a| a.is_current()) {
            prop_assert!(current.insert((appointment.occupation, appointment.level)));
        }
        for eligibility in &career.eligibilities {
            let basis = &ledger.credentials[&eligibility.basis];
            let rule = policy
                .skill_to_title_rule(eligibility.title)
                .expect("a row");
            prop_assert!(basis.level >= rule.level);
            prop_assert!(basis.issued.add_years(rule.years) <= eligibility.date);
            prop_assert!(policy.occupation_related(
                &eligibility.series,
                &eligibility.field,
                basis.occupation
            ));
        }
    }
    // The cascade: a holding is marked "basis revoked" exactly when something it was built
    // on, directly or through others, is revoked.
    for person in ledger.persons.values() {
        for (index, holding) in person.holdings.iter().enumerate() {
            let mut tainted = false;
            let mut at = holding.basis;
            while let Some(position) = at {
                let basis = &person.holdings[usize::from(position)];
                prop_assert!(usize::from(position) < index);
                tainted |= basis.revoked;
                at = basis.basis;
            }
            prop_assert_eq!(holding.basis_revoked, tainted, "holding {}", index);
            // Conversions and apprenticeship-based levels within the policy's tables.
            let credential = &ledger.credentials[&holding.certificate_number];
            if credential.route == RouteKind::Conversion {
                prop_assert!(credential.level <= Level::SeniorTechnician);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn rebuild_equals_incremental(ops in prop::collection::vec(op_strategy(), 1..40)) {
        let ledger = run(&ops);
        let rebuilt = MemoryLedger::fold(&ledger.entries);
        prop_assert_eq!(&rebuilt.registry, &ledger.registry);
        prop_assert_eq!(&rebuilt.credentials, &ledger.credentials);
        prop_assert_eq!(&rebuilt.persons, &ledger.persons);
        prop_assert_eq!(&rebuilt.event_indexes, &ledger.event_indexes);
        prop_assert_eq!(&rebuilt.stats, &ledger.stats);
        prop_assert_eq!(rebuilt, ledger);
    }

    #[test]
    fn accepted_events_never_reach_a_forbidden_state(
        ops in prop::collection::vec(op_strategy(), 1..40),
    ) {
        let ledger = run(&ops);
        check_invariants(&ledger)?;
    }
}

/// The generator must produce interesting histories, not only refusals.
#[test]
fn histories_accept_a_fair_share() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = prop::collection::vec(op_strategy(), 30..40);
    let (mut accepted, mut revoked, mut evaluated_up, mut routes) = (0, 0, 0, 0);
    for _ in 0..16 {
        let ops = strategy.new_tree(&mut runner).expect("tree").current();
        let ledger = run(&ops);
        accepted += ledger.entries.len() - setup_ledger().entries.len();
        routes += ledger
            .entries
            .iter()
            .skip(setup_ledger().entries.len())
            .filter(|signed| {
                !matches!(
                    signed.event.kind,
                    EventKind::LevelCertified(LevelCertified {
                        route: Route::Evaluation(EvaluationBasis::PriorLevel)
                            | Route::Evaluation(EvaluationBasis::Attested { .. })
                            | Route::DirectRecognition { .. },
                        ..
                    }) | EventKind::CredentialRevoked(_)
                        | EventKind::BodySuspended(_)
                        | EventKind::BodyReinstated(_)
                        | EventKind::BodyCancelled(_)
                )
            })
            .count();
        revoked += ledger
            .credentials
            .values()
            .filter(|c| !c.is_valid())
            .count();
        evaluated_up += ledger
            .credentials
            .values()
            .filter(|c| {
                c.route == RouteKind::Evaluation
                    && ledger.persons[&c.subject].holdings.iter().any(|h| {
                        h.occupation == c.occupation
                            && Some(h.level) == c.level.below()
                            && h.issued < c.issued
                    })
            })
            .count();
    }
    eprintln!("accepted {accepted}, revoked {revoked}, evaluated up {evaluated_up}, other routes {routes}");
    assert!(
        routes >= 10,
        "only {routes} events of the other routes accepted"
    );
    assert!(accepted >= 50, "only {accepted} events accepted");
    assert!(revoked >= 1, "no revocation accepted");
    assert!(evaluated_up >= 1, "no prior-level evaluation accepted");
}

// ---------------------------------------------------------------------------------------
// Entry bytes
// ---------------------------------------------------------------------------------------

fn arb_date() -> impl Strategy<Value = Date> {
    (-800_000i32..800_000).prop_map(|days| Date::from_days_since_unix_epoch(days).expect("date"))
}

fn arb_text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

fn arb_level() -> impl Strategy<Value = Level> {
    (0u8..8).prop_map(|rank| Level::from_rank(rank).expect("rank"))
}

fn arb_occupation() -> impl Strategy<Value = OccupationCode> {
    (1u8..=8, 0u8..100, 0u8..100, 0u8..100).prop_map(|(a, b, c, e)| {
        format!("{a}-{b:02}-{c:02}-{e:02}")
            .parse()
            .expect("occupation code")
    })
}

fn arb_registration() -> impl Strategy<Value = RegistrationNumber> {
    (prop::bool::ANY, 0u32..10_000, 11u8..=82, 0u32..1_000_000).prop_map(
        |(enterprise, code, province, serial)| {
            let letter = if enterprise { 'Y' } else { 'S' };
            format!("{letter}{code:04}{province:02}{serial:06}")
                .parse()
                .expect("registration number")
        },
    )
}

fn arb_certificate() -> impl Strategy<Value = CertificateNumber> {
    (arb_registration(), 0i32..100, 1u8..=5, 0u32..1_000_000).prop_map(
        |(body, year, number, serial)| {
            let level = Level::from_national_number(number).expect("level");
            CertificateNumber::compose(body, year, level, serial).expect("certificate number")
        },
    )
}

fn arb_route() -> impl Strategy<Value = Route> {
    prop_oneof![
        Just(Route::Evaluation(EvaluationBasis::PriorLevel)),
        arb_text().prop_map(|statement| Route::Evaluation(EvaluationBasis::Attested { statement })),
        arb_text().prop_map(|justification| Route::DirectRecognition { justification }),
    ]
}

fn arb_status() -> impl Strategy<Value = BodyStatusChange> {
    (arb_registration(), arb_date(), arb_text()).prop_map(
        |(registration_number, effective, reason)| BodyStatusChange {
            registration_number,
            effective,
            reason,
        },
    )
}

fn arb_kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        (
            arb_text(),
            any::<u8>(),
            arb_text(),
            any::<[u8; 32]>(),
            arb_date()
        )
            .prop_map(|(origin, province, authority_name, authority_key, date)| {
                EventKind::LedgerEstablished(LedgerEstablished {
                    origin,
                    province: Province(province),
                    authority_name,
                    authority_key,
                    date,
                })
            }),
        (arb_text(), arb_date()).prop_map(|(source_toml, date)| {
            EventKind::CatalogueAdopted(CatalogueAdopted { source_toml, date })
        }),
        (arb_text(), arb_date()).prop_map(|(source_toml, date)| EventKind::PolicyAdopted(
            PolicyAdopted { source_toml, date }
        )),
        (
            arb_registration(),
            arb_text(),
            any::<[u8; 32]>(),
            arb_date(),
            arb_date(),
            0u8..3,
            prop::collection::vec((arb_occupation(), arb_level()), 0..4),
            prop::bool::ANY,
            arb_date(),
        )
            .prop_map(
                |(
                    registration_number,
                    name,
                    public_key,
                    valid_from,
                    valid_until,
                    audience,
                    scope,
                    direct_recognition,
                    date,
                )| {
                    EventKind::BodyRegistered(BodyRegistered {
                        registration_number,
                        name,
                        public_key,
                        valid_from,
                        valid_until,
                        audience: [Audience::OwnStaff, Audience::OwnStudents, Audience::Public]
                            [usize::from(audience)],
                        scope: scope
                            .into_iter()
                            .map(|(occupation, level_max)| ScopeItem {
                                occupation,
                                level_max,
                            })
                            .collect(),
                        direct_recognition,
                        date,
                    })
                }
            ),
        (
            arb_registration(),
            any::<[u8; 32]>(),
            arb_date(),
            arb_text()
        )
            .prop_map(|(registration_number, public_key, effective, reason)| {
                EventKind::BodyKeyRotated(BodyKeyRotated {
                    registration_number,
                    public_key,
                    effective,
                    reason,
                })
            }),
        arb_status().prop_map(EventKind::BodySuspended),
        arb_status().prop_map(EventKind::BodyReinstated),
        arb_status().prop_map(EventKind::BodyCancelled),
        (
            arb_certificate(),
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            arb_occupation(),
            prop::option::of(arb_text()),
            arb_level(),
            arb_date(),
            arb_route(),
        )
            .prop_map(
                |(
                    certificate_number,
                    subject,
                    name,
                    occupation,
                    work_type,
                    level,
                    issued,
                    route,
                )| {
                    EventKind::LevelCertified(LevelCertified {
                        certificate_number,
                        subject: SubjectId(subject),
                        name_commitment: NameCommitment(name),
                        occupation,
                        work_type,
                        level,
                        issued,
                        route,
                    })
                }
            ),
        (arb_certificate(), arb_date(), arb_text()).prop_map(
            |(certificate_number, effective, reason)| {
                EventKind::CredentialRevoked(CredentialRevoked {
                    certificate_number,
                    effective,
                    reason,
                })
            }
        ),
    ]
}

fn arb_signed() -> impl Strategy<Value = SignedEvent> {
    (
        any::<[u8; 16]>(),
        arb_kind(),
        prop::option::of(arb_registration()),
        1u8..=255,
    )
        .prop_map(|(id, kind, body, seed)| {
            let signer = body.map_or(Signer::Authority, Signer::Body);
            SignedEvent::sign(
                ORIGIN,
                signer,
                &key(seed),
                Event {
                    id: EventId(id),
                    kind,
                },
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES * 4, ..ProptestConfig::default() })]

    #[test]
    fn entries_round_trip(signed in arb_signed()) {
        let entry = signed.to_entry().expect("encodes");
        prop_assert_eq!(entry[0], ENTRY_FORMAT_VERSION);
        let (decoded, offset) = SignedEvent::from_entry_with_offset(&entry).expect("decodes");
        prop_assert_eq!(&decoded, &signed);
        // The event starts at the offset: the signature covers exactly those bytes.
        let event_bytes = skill_ledger_domain::encode_event(&signed.event);
        prop_assert_eq!(&entry[offset..], event_bytes.as_slice());
        prop_assert!(decoded.verify_signature(ORIGIN));
        prop_assert!(!decoded.verify_signature(OTHER_ORIGIN));
    }

    #[test]
    fn damaged_entries_are_errors_not_panics(
        signed in arb_signed(),
        extra in any::<u8>(),
        cut in any::<Index>(),
        flip in any::<Index>(),
        mask in 1u8..=255,
    ) {
        let entry = signed.to_entry().expect("encodes");
        // Every proper prefix is an error.
        let short = &entry[..cut.index(entry.len())];
        prop_assert!(SignedEvent::from_entry(short).is_err());
        // One byte more is an error naming it.
        let mut long = entry.clone();
        long.push(extra);
        prop_assert_eq!(SignedEvent::from_entry(&long), Err(EntryError::TrailingBytes(1)));
        // A flipped byte either fails to decode or decodes to something else (no panic).
        let mut flipped = entry.clone();
        flipped[flip.index(entry.len())] ^= mask;
        if let Ok(other) = SignedEvent::from_entry(&flipped) {
            prop_assert_ne!(&other, &signed);
            // Whatever decoded, re-encoding it must not panic.
            let _ = other.to_entry();
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut with_version = vec![ENTRY_FORMAT_VERSION];
        with_version.extend_from_slice(&bytes);
        let _ = SignedEvent::from_entry(&bytes);
        let _ = SignedEvent::from_entry(&with_version);
    }
}

#[test]
fn every_proper_prefix_of_an_entry_is_refused() {
    let fx = Fx::new();
    let y = y_body();
    for signed in fx.setup().into_iter().chain([fx.certify(
        &y,
        1,
        turner(),
        Level::Junior,
        "2020-01-01",
        attested(),
    )]) {
        let entry = signed.to_entry().expect("encodes");
        for length in 0..entry.len() {
            assert!(
                SignedEvent::from_entry(&entry[..length]).is_err(),
                "prefix {length}"
            );
        }
        assert_eq!(SignedEvent::from_entry(&entry), Ok(signed));
    }
    assert_eq!(SignedEvent::from_entry(&[]), Err(EntryError::Empty));
    assert_eq!(
        SignedEvent::from_entry(&[2, 0, 0]),
        Err(EntryError::UnsupportedVersion(2))
    );
}
