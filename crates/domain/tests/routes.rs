//! Given/when/then tests of the other routes up the ladder (issue 5): apprenticeships,
//! contests, appointments (评聘), 专技/技能 贯通, the revocation cascade and policy versions,
//! with the date edges (exactly N years, leap days, a policy that changed the day before).
//!
//! Standard setup ([`Fx::setup`]): ledger `skill-ledger/50`, sample catalogue, default policy
//! v1 (effective 2019-01-01: apprenticeships 1 year for 初级工, one contest promotion a year,
//! 特级技师 after 4 years of 高级技师, terms of at most 5 years, the engineering conversion
//! table), enterprise `Y000050000001` (车工 up to 高级技师, 焊工 up to 技师) and social
//! organisation `S000050000002` (车工 up to 高级工).

mod common;

use common::*;
use skill_ledger_domain::{
    stat, CareerRecord, Level, MemoryLedger, Rejection, RouteKind, SignedEvent, DEFAULT_POLICY_TOML,
};

fn career(ledger: &MemoryLedger, holder: u8) -> CareerRecord {
    ledger
        .careers
        .get(&subject(holder))
        .cloned()
        .unwrap_or_default()
}

fn stat_of(ledger: &MemoryLedger, name: &str) -> i64 {
    ledger.stats.get(name).copied().unwrap_or(0)
}

/// Every table row: (what, given, when, then).
type Case = (
    &'static str,
    Vec<SignedEvent>,
    SignedEvent,
    Result<(), &'static str>,
);

fn run_table(cases: Vec<Case>) {
    for (what, given_events, when, then) in cases {
        eprintln!("case: {what}");
        check(given_events, when, then);
    }
}

// ---------------------------------------------------------------------------------------
// Apprenticeship (学徒工)
// ---------------------------------------------------------------------------------------

#[test]
fn an_apprenticeship_completed_counts_toward_the_first_level() {
    let fx = Fx::new();
    let y = y_body();
    let started = fx.apprenticeship(&y, 1, turner(), "2020-03-01");
    let completed = fx.completion(&y, &started, 1, "2021-03-01");
    let junior = fx.certify(
        &y,
        1,
        turner(),
        Level::Junior,
        "2021-03-01",
        by_apprenticeship(&started),
    );
    let (ledger, _) = check(
        with(fx.setup(), [started.clone(), completed]),
        junior,
        Ok(()),
    );
    let record = &career(&ledger, 1).apprenticeships[0];
    assert_eq!(record.completed, Some(d("2021-03-01")));
    assert_eq!(
        ledger.persons[&subject(1)].holdings[0].route,
        RouteKind::Evaluation
    );
    assert_eq!(stat_of(&ledger, stat::APPRENTICESHIPS_STARTED), 1);
    assert_eq!(stat_of(&ledger, stat::APPRENTICESHIPS_COMPLETED), 1);
}

#[test]
fn apprenticeship_rules() {
    let fx = Fx::new();
    let (y, s) = (y_body(), s_body());
    let started = fx.apprenticeship(&y, 1, turner(), "2020-03-01");
    let leap = fx.apprenticeship(&y, 2, turner(), "2020-02-29");
    let completed = fx.completion(&y, &started, 1, "2021-03-01");
    let done = with(fx.setup(), [started.clone(), completed.clone()]);
    let open = with(fx.setup(), [started.clone()]);
    run_table(vec![
        (
            "exactly one year",
            open.clone(),
            fx.completion(&y, &started, 1, "2021-03-01"),
            Ok(()),
        ),
        (
            "a day short of a year",
            open.clone(),
            fx.completion(&y, &started, 1, "2021-02-28"),
            Err("too-few-years"),
        ),
        (
            "from 29 February, one year is 28 February",
            with(fx.setup(), [leap.clone()]),
            fx.completion(&y, &leap, 2, "2021-02-28"),
            Ok(()),
        ),
        (
            "from 29 February, 27 February is short",
            with(fx.setup(), [leap.clone()]),
            fx.completion(&y, &leap, 2, "2021-02-27"),
            Err("too-few-years"),
        ),
        (
            "a social organisation records no apprenticeship",
            fx.setup(),
            fx.apprenticeship(&s, 3, turner(), "2020-03-01"),
            Err("apprenticeship-not-allowed"),
        ),
        (
            "outside the enterprise's scope",
            fx.setup(),
            fx.apprenticeship(&y, 3, cook(), "2020-03-01"),
            Err("out-of-scope"),
        ),
        (
            "a second open apprenticeship in the same occupation",
            open.clone(),
            fx.apprenticeship(&y, 1, turner(), "2020-09-01"),
            Err("apprenticeship-not-allowed"),
        ),
        (
            "completed by another body",
            open.clone(),
            fx.completion(&s, &started, 1, "2021-03-01"),
            Err("apprenticeship-not-allowed"),
        ),
        (
            "completed twice",
            done.clone(),
            fx.completion(&y, &started, 1, "2021-06-01"),
            Err("apprenticeship-already-completed"),
        ),
        (
            "completion of someone else's apprenticeship",
            open.clone(),
            fx.completion(&y, &started, 9, "2021-03-01"),
            Err("unknown-basis"),
        ),
        (
            "basis not completed yet",
            open.clone(),
            fx.certify(
                &y,
                1,
                turner(),
                Level::Junior,
                "2021-03-01",
                by_apprenticeship(&started),
            ),
            Err("apprenticeship-not-completed"),
        ),
        (
            "basis completed after the issue date",
            done.clone(),
            fx.certify(
                &y,
                1,
                turner(),
                Level::Junior,
                "2021-02-28",
                by_apprenticeship(&started),
            ),
            Err("apprenticeship-not-completed"),
        ),
        (
            "an apprenticeship leads to 初级工 only",
            done.clone(),
            fx.certify(
                &y,
                1,
                turner(),
                Level::Intermediate,
                "2021-03-01",
                by_apprenticeship(&started),
            ),
            Err("apprenticeship-not-allowed"),
        ),
        (
            "in another occupation",
            done.clone(),
            fx.certify(
                &y,
                1,
                welder(),
                Level::Junior,
                "2021-03-01",
                by_apprenticeship(&started),
            ),
            Err("apprenticeship-not-allowed"),
        ),
        (
            "another person's apprenticeship",
            done.clone(),
            fx.certify(
                &y,
                4,
                turner(),
                Level::Junior,
                "2021-03-01",
                by_apprenticeship(&started),
            ),
            Err("unknown-basis"),
        ),
        (
            "by a suspended body",
            with(open.clone(), [fx.suspend(&y, "2021-01-01")]),
            fx.completion(&y, &started, 1, "2021-03-01"),
            Err("body-not-active"),
        ),
    ]);
}

#[test]
fn apprenticeships_are_judged_by_the_policy_of_their_date() {
    let fx = Fx::new();
    let y = y_body();
    // Policy v2 from 2022-01-01 closes the route (no [apprenticeship] section).
    let start = DEFAULT_POLICY_TOML
        .find("[apprenticeship]")
        .expect("section");
    let end = DEFAULT_POLICY_TOML.find("[contest]").expect("section");
    let closed = policy_text(2, "2022-01-01", &[(&DEFAULT_POLICY_TOML[start..end], "")]);
    let given_events = with(fx.setup(), [fx.policy(&closed)]);
    check(
        given_events.clone(),
        fx.apprenticeship(&y, 1, turner(), "2021-12-31"),
        Ok(()),
    );
    let (_, rejection) = check(
        given_events,
        fx.apprenticeship(&y, 1, turner(), "2022-01-01"),
        Err("apprenticeship-not-allowed"),
    );
    assert_eq!(rejection.expect("rejection").policy_version(), Some(2));
}

// ---------------------------------------------------------------------------------------
// Contests (竞赛晋升)
// ---------------------------------------------------------------------------------------

#[test]
fn a_national_result_promotes_to_technician_and_the_credential_names_it() {
    let fx = Fx::new();
    let y = y_body();
    let contest = fx.contest(ContestTier::National, "2022-10-20");
    let result = fx.result(&contest, 1, turner(), 12, "2022-11-01");
    let promoted = fx.certify(
        &y,
        1,
        turner(),
        Level::Technician,
        "2022-12-01",
        by_contest(&result),
    );
    let number = number_of(&promoted);
    let (ledger, _) = check(
        with(fx.setup(), [contest, result.clone()]),
        promoted,
        Ok(()),
    );
    let recorded = &career(&ledger, 1).contest_results[0];
    assert_eq!(recorded.promoted, Some((number, d("2022-12-01"))));
    assert_eq!(recorded.tier, ContestTier::National);
    let holding = &ledger.persons[&subject(1)].holdings[0];
    assert_eq!(holding.route, RouteKind::Contest);
    assert_eq!(
        stat_of(&ledger, "routes.contest.level.technician"),
        1,
        "{:?}",
        ledger.stats
    );
    assert_eq!(stat_of(&ledger, stat::CONTEST_RESULTS), 1);
}

#[test]
fn contest_rules() {
    let fx = Fx::new();
    let y = y_body();
    let national = fx.contest(ContestTier::National, "2022-10-20");
    let provincial = fx.contest(ContestTier::ProvincialClass2, "2022-05-01");
    let enterprise = fx.contest(ContestTier::Enterprise, "2022-05-01");
    let first = fx.result(&national, 1, turner(), 1, "2022-11-01");
    let thirty_first = fx.result(&national, 2, turner(), 31, "2022-11-01");
    let provincial_first = fx.result(&provincial, 3, turner(), 1, "2022-06-01");
    let provincial_held = fx.result(&provincial, 4, turner(), 1, "2022-06-01");
    let at_enterprise = fx.result(&enterprise, 5, turner(), 1, "2022-06-01");
    let senior_of_4 = fx.certify(&y, 4, turner(), Level::Senior, "2020-01-01", direct());
    let technician_of_1 = fx.certify(&y, 1, turner(), Level::Technician, "2020-01-01", direct());
    let contests = with(
        fx.setup(),
        [
            national.clone(),
            provincial.clone(),
            enterprise.clone(),
            first.clone(),
            thirty_first.clone(),
            provincial_first.clone(),
            senior_of_4.clone(),
            provincial_held.clone(),
            at_enterprise.clone(),
        ],
    );
    let promoted_1 = fx.certify(
        &y,
        1,
        turner(),
        Level::Technician,
        "2022-12-01",
        by_contest(&first),
    );
    run_table(vec![
        (
            "national 1st holding 技师 → 高级技师",
            with(contests.clone(), [technician_of_1.clone()]),
            fx.certify(
                &y,
                1,
                turner(),
                Level::SeniorTechnician,
                "2022-12-01",
                by_contest(&first),
            ),
            Ok(()),
        ),
        (
            "national 1st holding nothing: at most 技师",
            contests.clone(),
            fx.certify(
                &y,
                1,
                turner(),
                Level::SeniorTechnician,
                "2022-12-01",
                by_contest(&first),
            ),
            Err("contest-promotion-not-allowed"),
        ),
        (
            "national 31st: no row of the table",
            contests.clone(),
            fx.certify(
                &y,
                2,
                turner(),
                Level::Junior,
                "2022-12-01",
                by_contest(&thirty_first),
            ),
            Err("contest-promotion-not-allowed"),
        ),
        (
            "enterprise contests promote nobody",
            contests.clone(),
            fx.certify(
                &y,
                5,
                turner(),
                Level::Junior,
                "2022-12-01",
                by_contest(&at_enterprise),
            ),
            Err("contest-promotion-not-allowed"),
        ),
        (
            "provincial class 2, nothing held: 高级工",
            contests.clone(),
            fx.certify(
                &y,
                3,
                turner(),
                Level::Senior,
                "2022-07-01",
                by_contest(&provincial_first),
            ),
            Ok(()),
        ),
        (
            "provincial class 2, nothing held: not 技师",
            contests.clone(),
            fx.certify(
                &y,
                3,
                turner(),
                Level::Technician,
                "2022-07-01",
                by_contest(&provincial_first),
            ),
            Err("contest-promotion-not-allowed"),
        ),
        (
            "provincial class 2 holding 高级工: one level up to 技师",
            contests.clone(),
            fx.certify(
                &y,
                4,
                turner(),
                Level::Technician,
                "2022-07-01",
                by_contest(&provincial_held),
            ),
            Ok(()),
        ),
        (
            "issued the day before the result",
            contests.clone(),
            fx.certify(
                &y,
                1,
                turner(),
                Level::Technician,
                "2022-10-31",
                by_contest(&first),
            ),
            Err("contest-promotion-not-allowed"),
        ),
        (
            "in another occupation than the result",
            contests.clone(),
            fx.certify(
                &y,
                1,
                welder(),
                Level::Technician,
                "2022-12-01",
                by_contest(&first),
            ),
            Err("contest-promotion-not-allowed"),
        ),
        (
            "a result promoted once only",
            with(contests.clone(), [promoted_1.clone()]),
            fx.certify(
                &y,
                1,
                welder(),
                Level::Technician,
                "2023-12-01",
                by_contest(&first),
            ),
            Err("contest-promotion-not-allowed"),
        ),
        (
            "another person's result",
            contests.clone(),
            fx.certify(
                &y,
                9,
                turner(),
                Level::Technician,
                "2022-12-01",
                by_contest(&first),
            ),
            Err("unknown-basis"),
        ),
        (
            "a result of an unregistered contest",
            fx.setup(),
            fx.result(&first, 1, turner(), 1, "2022-11-01"),
            Err("unknown-contest"),
        ),
        (
            "a result in an occupation the contest does not hold",
            contests.clone(),
            fx.result(&national, 7, cook(), 1, "2022-11-01"),
            Err("contest-result-not-allowed"),
        ),
        (
            "a result dated before the contest",
            contests.clone(),
            fx.result(&national, 7, turner(), 1, "2022-10-19"),
            Err("contest-result-not-allowed"),
        ),
        (
            "a result dated the day of the contest",
            contests.clone(),
            fx.result(&national, 7, turner(), 1, "2022-10-20"),
            Ok(()),
        ),
        (
            "a second result in the same contest",
            contests.clone(),
            fx.result(&national, 1, welder(), 2, "2022-11-01"),
            Err("contest-result-not-allowed"),
        ),
        (
            "placing 0",
            contests.clone(),
            fx.result(&national, 7, turner(), 0, "2022-11-01"),
            Err("contest-result-not-allowed"),
        ),
        (
            "a contest with an occupation outside the catalogue",
            fx.setup(),
            fx.by_authority(skill_ledger_domain::EventKind::ContestRegistered(
                skill_ledger_domain::ContestRegistered {
                    name: "某赛".to_string(),
                    tier: ContestTier::City,
                    occupations: vec![occupation("6-18-01-09")],
                    date: d("2022-01-01"),
                },
            )),
            Err("unknown-occupation"),
        ),
        (
            "a contest registered by a body",
            fx.setup(),
            fx.by_body(
                &y,
                skill_ledger_domain::EventKind::ContestRegistered(
                    skill_ledger_domain::ContestRegistered {
                        name: "某赛".to_string(),
                        tier: ContestTier::City,
                        occupations: vec![turner()],
                        date: d("2022-01-01"),
                    },
                ),
            ),
            Err("wrong-signer"),
        ),
    ]);
}

#[test]
fn at_most_the_policys_number_of_contest_promotions_a_year() {
    let fx = Fx::new();
    let y = y_body();
    let national = fx.contest(ContestTier::National, "2022-03-01");
    let city = fx.contest(ContestTier::City, "2022-04-01");
    let first = fx.result(&national, 1, welder(), 3, "2022-03-02");
    let second = fx.result(&city, 1, turner(), 1, "2022-04-02");
    let promoted = fx.certify(
        &y,
        1,
        welder(),
        Level::Technician,
        "2022-03-10",
        by_contest(&first),
    );
    let given_events = with(
        fx.setup(),
        [national, city, first, second.clone(), promoted],
    );
    let (_, rejection) = check(
        given_events.clone(),
        fx.certify(
            &y,
            1,
            turner(),
            Level::Junior,
            "2022-12-31",
            by_contest(&second),
        ),
        Err("contest-promotion-limit"),
    );
    assert!(matches!(
        rejection,
        Some(Rejection::ContestPromotionLimit {
            year: 2022,
            granted: 1,
            promotions_max: 1,
            policy_version: 1
        })
    ));
    // The next calendar year counts afresh.
    check(
        given_events.clone(),
        fx.certify(
            &y,
            1,
            turner(),
            Level::Junior,
            "2023-01-01",
            by_contest(&second),
        ),
        Ok(()),
    );
    // Policy v2, effective 2023-01-01, allows two a year: an event dated the day before is
    // still judged by v1.
    let v2 = policy_text(
        2,
        "2023-01-01",
        &[("promotions_per_year_max = 1", "promotions_per_year_max = 2")],
    );
    let with_v2 = with(given_events, [fx.policy(&v2)]);
    let (_, rejection) = check(
        with_v2.clone(),
        fx.certify(
            &y,
            1,
            turner(),
            Level::Junior,
            "2022-12-31",
            by_contest(&second),
        ),
        Err("contest-promotion-limit"),
    );
    assert_eq!(rejection.expect("rejection").policy_version(), Some(1));
}

// ---------------------------------------------------------------------------------------
// Appointments (评聘)
// ---------------------------------------------------------------------------------------

/// Holder 1 holds 高级技师 in 车工 since 2019-06-01 (direct recognition by Y); Y may appoint
/// 特级技师 and 首席技师 from 2019-01-01.
fn appointment_setup(fx: &Fx) -> (Vec<SignedEvent>, SignedEvent) {
    let y = y_body();
    let senior_technician = fx.certify(
        &y,
        1,
        turner(),
        Level::SeniorTechnician,
        "2019-06-01",
        direct(),
    );
    let events = with(
        fx.setup(),
        [
            senior_technician.clone(),
            fx.right(
                &y,
                &[Level::PrincipalTechnician, Level::ChiefTechnician],
                "2019-01-01",
            ),
        ],
    );
    (events, senior_technician)
}

fn on(certificate: &SignedEvent) -> AppointmentBasis {
    AppointmentBasis::Credential(number_of(certificate))
}

#[test]
fn principal_and_chief_appointments_and_their_end() {
    let fx = Fx::new();
    let y = y_body();
    let (given_events, st) = appointment_setup(&fx);
    let principal = fx.appointment(
        &y,
        1,
        turner(),
        Level::PrincipalTechnician,
        "2023-06-01",
        "2028-06-01",
        on(&st),
    );
    let (ledger, _) = check(given_events.clone(), principal.clone(), Ok(()));
    assert!(ledger.registry.appointment_rights[&y.number].first_principal == Some(d("2023-06-01")));
    assert_eq!(
        stat_of(&ledger, "routes.appointment.level.principal_technician"),
        1
    );
    let chief = fx.appointment(
        &y,
        1,
        turner(),
        Level::ChiefTechnician,
        "2024-01-01",
        "2029-01-01",
        AppointmentBasis::Appointment(id_of(&principal)),
    );
    let (ledger, _) = check(
        with(given_events.clone(), [principal.clone()]),
        chief.clone(),
        Ok(()),
    );
    assert_eq!(
        career(&ledger, 1).current_posts()[&turner()],
        Level::ChiefTechnician
    );
    // The chief post ends: the person view shows it held before, the principal post now.
    let end = fx.by_body(
        &y,
        fx.appointment_end(&chief, 1, "2026-01-01", AppointmentEndReason::LeftPost),
    );
    let (ledger, _) = check(with(given_events, [principal, chief]), end, Ok(()));
    let record = career(&ledger, 1);
    assert_eq!(
        record.appointments[1].ended,
        Some((d("2026-01-01"), AppointmentEndReason::LeftPost))
    );
    assert_eq!(
        record.current_posts()[&turner()],
        Level::PrincipalTechnician
    );
    assert_eq!(
        stat_of(&ledger, "routes.appointment.level.chief_technician"),
        0
    );
    assert_eq!(stat_of(&ledger, stat::APPOINTMENTS_ENDED), 1);
}

#[test]
fn appointment_rules() {
    let fx = Fx::new();
    let (y, s) = (y_body(), s_body());
    let (given_events, st) = appointment_setup(&fx);
    let principal = fx.appointment(
        &y,
        1,
        turner(),
        Level::PrincipalTechnician,
        "2023-06-01",
        "2028-06-01",
        on(&st),
    );
    let with_principal = with(given_events.clone(), [principal.clone()]);
    let technician_of_2 = fx.certify(&y, 2, turner(), Level::Technician, "2019-06-01", direct());
    let no_right = with(fx.setup(), [st.clone()]);
    run_table(vec![
        (
            "exactly 4 years after 高级技师",
            given_events.clone(),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::PrincipalTechnician,
                "2023-06-01",
                "2024-06-01",
                on(&st),
            ),
            Ok(()),
        ),
        (
            "a day short of 4 years",
            given_events.clone(),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::PrincipalTechnician,
                "2023-05-31",
                "2024-05-31",
                on(&st),
            ),
            Err("too-few-years"),
        ),
        (
            "no right granted",
            no_right.clone(),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::PrincipalTechnician,
                "2023-06-01",
                "2024-06-01",
                on(&st),
            ),
            Err("appointment-not-allowed"),
        ),
        (
            "a right for a social organisation",
            fx.setup(),
            fx.right(&s, &[Level::PrincipalTechnician], "2020-01-01"),
            Err("appointment-not-allowed"),
        ),
        (
            "a right to appoint 首席技师 only",
            fx.setup(),
            fx.right(&y, &[Level::ChiefTechnician], "2020-01-01"),
            Err("appointment-not-allowed"),
        ),
        (
            "a right to appoint 技师",
            fx.setup(),
            fx.right(&y, &[Level::Technician], "2020-01-01"),
            Err("malformed"),
        ),
        (
            "a right dated before the last one",
            with(
                no_right.clone(),
                [fx.right(&y, &[Level::PrincipalTechnician], "2020-01-01")],
            ),
            fx.right(&y, &[Level::PrincipalTechnician], "2019-12-31"),
            Err("date-before-last-change"),
        ),
        (
            "首席技师 where no 特级技师 was appointed",
            given_events.clone(),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::ChiefTechnician,
                "2023-06-01",
                "2024-06-01",
                AppointmentBasis::Appointment(id_of(&principal)),
            ),
            Err("appointment-not-allowed"),
        ),
        (
            "首席技师 on a credential",
            with_principal.clone(),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::ChiefTechnician,
                "2024-06-01",
                "2025-06-01",
                on(&st),
            ),
            Err("appointment-basis-invalid"),
        ),
        (
            "首席技师 before the 特级技师 term started",
            with_principal.clone(),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::ChiefTechnician,
                "2023-05-31",
                "2024-06-01",
                AppointmentBasis::Appointment(id_of(&principal)),
            ),
            Err("appointment-not-allowed"),
        ),
        (
            "特级技师 on a post",
            with_principal.clone(),
            fx.appointment(
                &y,
                1,
                welder(),
                Level::PrincipalTechnician,
                "2024-06-01",
                "2025-06-01",
                AppointmentBasis::Appointment(id_of(&principal)),
            ),
            Err("out-of-scope"),
        ),
        (
            "特级技师 on 技师",
            with(given_events.clone(), [technician_of_2.clone()]),
            fx.appointment(
                &y,
                2,
                turner(),
                Level::PrincipalTechnician,
                "2024-06-01",
                "2025-06-01",
                on(&technician_of_2),
            ),
            Err("appointment-basis-invalid"),
        ),
        (
            "特级技师 on another person's credential",
            given_events.clone(),
            fx.appointment(
                &y,
                2,
                turner(),
                Level::PrincipalTechnician,
                "2024-06-01",
                "2025-06-01",
                on(&st),
            ),
            Err("appointment-basis-invalid"),
        ),
        (
            "a term over 5 years",
            given_events.clone(),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::PrincipalTechnician,
                "2023-06-01",
                "2028-06-02",
                on(&st),
            ),
            Err("invalid-term"),
        ),
        (
            "a term ending as it starts",
            given_events.clone(),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::PrincipalTechnician,
                "2023-06-01",
                "2023-06-01",
                on(&st),
            ),
            Err("invalid-term"),
        ),
        (
            "a second current 特级技师 post",
            with_principal.clone(),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::PrincipalTechnician,
                "2024-06-01",
                "2025-06-01",
                on(&st),
            ),
            Err("already-holds-level"),
        ),
        (
            "a post level that is not a post",
            given_events.clone(),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::Technician,
                "2024-06-01",
                "2025-06-01",
                on(&st),
            ),
            Err("appointment-not-allowed"),
        ),
        (
            "by a body cancelled the day before",
            with(given_events.clone(), [fx.cancel(&y, "2023-05-31")]),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::PrincipalTechnician,
                "2023-06-01",
                "2024-06-01",
                on(&st),
            ),
            Err("body-not-active"),
        ),
        (
            "by a body cancelled the day after",
            with(given_events.clone(), [fx.cancel(&y, "2023-06-02")]),
            fx.appointment(
                &y,
                1,
                turner(),
                Level::PrincipalTechnician,
                "2023-06-01",
                "2024-06-01",
                on(&st),
            ),
            Ok(()),
        ),
        (
            "ended by another body",
            with_principal.clone(),
            fx.by_body(
                &s,
                fx.appointment_end(&principal, 1, "2025-01-01", AppointmentEndReason::LeftPost),
            ),
            Err("not-appointing-body"),
        ),
        (
            "ended by the authority",
            with_principal.clone(),
            fx.by_authority(fx.appointment_end(
                &principal,
                1,
                "2025-01-01",
                AppointmentEndReason::Dismissed,
            )),
            Ok(()),
        ),
        (
            "term over before the term's end",
            with_principal.clone(),
            fx.by_body(
                &y,
                fx.appointment_end(&principal, 1, "2028-05-31", AppointmentEndReason::TermOver),
            ),
            Err("invalid-term"),
        ),
        (
            "term over on the term's end",
            with_principal.clone(),
            fx.by_body(
                &y,
                fx.appointment_end(&principal, 1, "2028-06-01", AppointmentEndReason::TermOver),
            ),
            Ok(()),
        ),
        (
            "ended before it started",
            with_principal.clone(),
            fx.by_body(
                &y,
                fx.appointment_end(&principal, 1, "2023-05-31", AppointmentEndReason::LeftPost),
            ),
            Err("date-before-last-change"),
        ),
        (
            "ended twice",
            with(
                with_principal.clone(),
                [fx.by_body(
                    &y,
                    fx.appointment_end(&principal, 1, "2025-01-01", AppointmentEndReason::LeftPost),
                )],
            ),
            fx.by_body(
                &y,
                fx.appointment_end(&principal, 1, "2025-02-01", AppointmentEndReason::LeftPost),
            ),
            Err("appointment-already-ended"),
        ),
        (
            "ending someone else's appointment",
            with_principal.clone(),
            fx.by_body(
                &y,
                fx.appointment_end(&principal, 2, "2025-01-01", AppointmentEndReason::LeftPost),
            ),
            Err("unknown-basis"),
        ),
    ]);
}

// ---------------------------------------------------------------------------------------
// 专技/技能 贯通
// ---------------------------------------------------------------------------------------

#[test]
fn conversion_rules() {
    let fx = Fx::new();
    let y = y_body();
    let engineer = fx.title(1, TitleLevel::Intermediate, "机械工程", "2021-07-01");
    let electrical = fx.title(2, TitleLevel::Intermediate, "电气工程", "2021-07-01");
    let technician_of_3 = fx.certify(&y, 3, turner(), Level::Technician, "2020-02-29", direct());
    let senior_of_4 = fx.certify(&y, 4, turner(), Level::Senior, "2020-01-01", direct());
    let titles = with(
        fx.setup(),
        [
            engineer.clone(),
            electrical.clone(),
            technician_of_3.clone(),
            senior_of_4.clone(),
        ],
    );
    run_table(vec![
        (
            "工程师 → 技师 in a mapped occupation",
            titles.clone(),
            fx.certify(
                &y,
                1,
                turner(),
                Level::Technician,
                "2021-07-01",
                by_conversion(&engineer),
            ),
            Ok(()),
        ),
        (
            "工程师 → not 高级技师",
            titles.clone(),
            fx.certify(
                &y,
                1,
                turner(),
                Level::SeniorTechnician,
                "2021-07-01",
                by_conversion(&engineer),
            ),
            Err("conversion-not-allowed"),
        ),
        (
            "issued before the title was obtained",
            titles.clone(),
            fx.certify(
                &y,
                1,
                turner(),
                Level::Technician,
                "2021-06-30",
                by_conversion(&engineer),
            ),
            Err("conversion-not-allowed"),
        ),
        (
            "电气工程 is not related to 车工",
            titles.clone(),
            fx.certify(
                &y,
                2,
                turner(),
                Level::Technician,
                "2021-07-01",
                by_conversion(&electrical),
            ),
            Err("conversion-not-allowed"),
        ),
        (
            "another person's title",
            titles.clone(),
            fx.certify(
                &y,
                5,
                turner(),
                Level::Technician,
                "2021-07-01",
                by_conversion(&engineer),
            ),
            Err("unknown-basis"),
        ),
        (
            "the same title twice",
            titles.clone(),
            fx.title(1, TitleLevel::Intermediate, "机械工程", "2022-07-01"),
            Err("already-holds-title"),
        ),
        (
            "技师 from 29 February 2020 + 3 years: eligible on 28 February 2023",
            titles.clone(),
            fx.eligibility(
                3,
                &technician_of_3,
                TitleLevel::Intermediate,
                "机械工程",
                "2023-02-28",
            ),
            Ok(()),
        ),
        (
            "… not on 27 February",
            titles.clone(),
            fx.eligibility(
                3,
                &technician_of_3,
                TitleLevel::Intermediate,
                "机械工程",
                "2023-02-27",
            ),
            Err("too-few-years"),
        ),
        (
            "高级工 does not lead to 工程师",
            titles.clone(),
            fx.eligibility(
                4,
                &senior_of_4,
                TitleLevel::Intermediate,
                "机械工程",
                "2024-01-01",
            ),
            Err("conversion-not-allowed"),
        ),
        (
            "高级工 + exactly 2 years → 助理工程师",
            titles.clone(),
            fx.eligibility(
                4,
                &senior_of_4,
                TitleLevel::Assistant,
                "机械工程",
                "2022-01-01",
            ),
            Ok(()),
        ),
        (
            "an unrelated field",
            titles.clone(),
            fx.eligibility(
                3,
                &technician_of_3,
                TitleLevel::Intermediate,
                "电气工程",
                "2024-01-01",
            ),
            Err("conversion-not-allowed"),
        ),
        (
            "another person's credential",
            titles.clone(),
            fx.eligibility(
                5,
                &technician_of_3,
                TitleLevel::Intermediate,
                "机械工程",
                "2024-01-01",
            ),
            Err("conversion-not-allowed"),
        ),
        (
            "a revoked credential",
            with(
                titles.clone(),
                [
                    fx.by_authority(skill_ledger_domain::EventKind::CredentialRevoked(
                        fx.revocation(&technician_of_3, "2022-01-01"),
                    )),
                ],
            ),
            fx.eligibility(
                3,
                &technician_of_3,
                TitleLevel::Intermediate,
                "机械工程",
                "2024-01-01",
            ),
            Err("conversion-not-allowed"),
        ),
        (
            "eligible for a title already held",
            titles.clone(),
            fx.eligibility(
                1,
                &technician_of_3,
                TitleLevel::Intermediate,
                "机械工程",
                "2024-01-01",
            ),
            Err("conversion-not-allowed"),
        ),
    ]);
}

// ---------------------------------------------------------------------------------------
// Revocation cascade
// ---------------------------------------------------------------------------------------

#[test]
fn a_level_built_after_the_cascade_on_a_marked_holding_is_marked_too() {
    // Given: junior, then intermediate on it; the junior revoked (the intermediate marked).
    let fx = Fx::new();
    let y = y_body();
    let junior = fx.certify(&y, 1, turner(), Level::Junior, "2019-01-01", attested());
    let intermediate = fx.certify(&y, 1, turner(), Level::Intermediate, "2023-01-01", prior());
    let revocation = fx.by_authority(skill_ledger_domain::EventKind::CredentialRevoked(
        fx.revocation(&junior, "2024-01-01"),
    ));
    let given_events = with(fx.setup(), [junior.clone(), intermediate, revocation]);
    // When: a senior is issued on the marked intermediate.
    let senior = fx.certify(&y, 1, turner(), Level::Senior, "2028-01-01", prior());
    let (ledger, _) = check(given_events, senior, Ok(()));
    // Then: it is marked from the start, as the cascade marks what stands on a revocation,
    // and the counter counts it.
    let person = &ledger.persons[&subject(1)];
    let flags: Vec<(Level, bool, bool)> = person
        .holdings
        .iter()
        .map(|h| (h.level, h.revoked, h.basis_revoked))
        .collect();
    assert_eq!(
        flags,
        vec![
            (Level::Junior, true, false),
            (Level::Intermediate, false, true),
            (Level::Senior, false, true),
        ]
    );
    assert_eq!(stat_of(&ledger, stat::BASIS_REVOKED), 2);
}

#[test]
fn revoking_a_basis_marks_what_was_built_on_it_and_deletes_nothing() {
    let fx = Fx::new();
    let y = y_body();
    let junior = fx.certify(&y, 1, turner(), Level::Junior, "2019-01-01", attested());
    let intermediate = fx.certify(&y, 1, turner(), Level::Intermediate, "2023-01-01", prior());
    let senior = fx.certify(&y, 1, turner(), Level::Senior, "2028-01-01", prior());
    let technician = fx.certify(&y, 1, turner(), Level::Technician, "2032-01-01", prior());
    let other = fx.certify(&y, 1, welder(), Level::Junior, "2019-01-01", attested());
    let eligibility = fx.eligibility(1, &senior, TitleLevel::Assistant, "机械工程", "2030-01-01");
    let given_events = with(
        fx.setup(),
        [
            junior.clone(),
            intermediate,
            senior,
            technician,
            other,
            eligibility,
        ],
    );
    let revocation = fx.by_authority(skill_ledger_domain::EventKind::CredentialRevoked(
        fx.revocation(&junior, "2033-01-01"),
    ));
    let (ledger, _) = check(given_events, revocation, Ok(()));
    let person = &ledger.persons[&subject(1)];
    let flags: Vec<(Level, bool, bool)> = person
        .holdings
        .iter()
        .map(|h| (h.level, h.revoked, h.basis_revoked))
        .collect();
    assert_eq!(
        flags,
        vec![
            (Level::Junior, true, false),
            (Level::Intermediate, false, true),
            (Level::Senior, false, true),
            (Level::Technician, false, true),
            (Level::Junior, false, false),
        ]
    );
    assert_eq!(person.holdings[2].basis, Some(1));
    assert!(career(&ledger, 1).eligibilities[0].basis_revoked);
    assert_eq!(stat_of(&ledger, stat::BASIS_REVOKED), 4);
    // Still valid: 4 credentials count as valid.
    assert_eq!(stat_of(&ledger, "certificates.valid.route.evaluation"), 4);
}

#[test]
fn revoking_a_senior_technician_marks_the_posts_built_on_it() {
    let fx = Fx::new();
    let y = y_body();
    let (given_events, st) = appointment_setup(&fx);
    let principal = fx.appointment(
        &y,
        1,
        turner(),
        Level::PrincipalTechnician,
        "2023-06-01",
        "2028-06-01",
        on(&st),
    );
    let chief = fx.appointment(
        &y,
        1,
        turner(),
        Level::ChiefTechnician,
        "2024-01-01",
        "2029-01-01",
        AppointmentBasis::Appointment(id_of(&principal)),
    );
    let revocation = fx.by_authority(skill_ledger_domain::EventKind::CredentialRevoked(
        fx.revocation(&st, "2025-01-01"),
    ));
    let (ledger, _) = check(with(given_events, [principal, chief]), revocation, Ok(()));
    let record = career(&ledger, 1);
    assert!(record
        .appointments
        .iter()
        .all(|a| a.basis_revoked && a.is_current()));
    assert_eq!(stat_of(&ledger, stat::BASIS_REVOKED), 2);
}

// ---------------------------------------------------------------------------------------
// Rejections name the policy version
// ---------------------------------------------------------------------------------------

#[test]
fn policy_rejections_name_the_version_that_refused() {
    let fx = Fx::new();
    let y = y_body();
    let (given_events, st) = appointment_setup(&fx);
    // v2 from 2023-06-02 asks 5 years of 高级技师.
    let v2 = policy_text(
        2,
        "2023-06-02",
        &[("principal_min_years = 4", "principal_min_years = 5")],
    );
    let given_events = with(given_events, [fx.policy(&v2)]);
    check(
        given_events.clone(),
        fx.appointment(
            &y,
            1,
            turner(),
            Level::PrincipalTechnician,
            "2023-06-01",
            "2024-06-01",
            on(&st),
        ),
        Ok(()),
    );
    let (_, rejection) = check(
        given_events,
        fx.appointment(
            &y,
            1,
            turner(),
            Level::PrincipalTechnician,
            "2023-06-02",
            "2024-06-02",
            on(&st),
        ),
        Err("too-few-years"),
    );
    let rejection = rejection.expect("rejection");
    assert_eq!(rejection.policy_version(), Some(2));
    assert!(rejection.to_string().contains("policy v2"), "{rejection}");
}
