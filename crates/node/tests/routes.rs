//! The other routes up the ladder through a node (issue 5): their career records, contests
//! and appointment rights persist in sled with the cursor, survive a reopen, rebuild to the
//! same bytes, agree with the reference `MemoryLedger`, and feed the route statistics.

mod common;

use common::*;
use skill_ledger_domain::{
    AppointmentBasis, AppointmentEndReason, AppointmentEnded, AppointmentMade,
    AppointmentRightGranted, ApprenticeshipCompleted, ApprenticeshipStarted, ContestRegistered,
    ContestResultRecorded, ContestTier, EvaluationBasis, EventKind, Level, MemoryLedger, Route,
    SignedEvent, TitleEligibilityGranted, TitleLevel, TitleRecorded,
};
use skill_ledger_node::{rebuild, stats_by_route, Node};

fn authority(node: &Node, kind: EventKind) -> SignedEvent {
    node.sign_as_authority(kind)
}

fn accept(node: &Node, signed: &SignedEvent) {
    if let Err(error) = node.submit(signed.clone()) {
        panic!("{} refused: {error}", signed.event.kind.name());
    }
}

const APPRENTICE: &str = "500101200001010011";
const CHAMPION: &str = "500101199001010022";
const MASTER: &str = "500101198001010033";

/// Every route once, on the fixture ledger; returns the events in order.
fn history(fx: &Fixture, node: &Node) -> Vec<SignedEvent> {
    let y = y_body();
    let mut events = Vec::new();
    let mut push = |signed: SignedEvent| {
        accept(node, &signed);
        events.push(signed);
    };
    // Apprenticeship, then 初级工 on it.
    let started = fx.by_body(
        &y,
        EventKind::ApprenticeshipStarted(ApprenticeshipStarted {
            subject: fx.subject(APPRENTICE),
            occupation: turner(),
            started: d("2020-02-29"),
        }),
    );
    push(started.clone());
    push(fx.by_body(
        &y,
        EventKind::ApprenticeshipCompleted(ApprenticeshipCompleted {
            apprenticeship: started.event.id,
            subject: fx.subject(APPRENTICE),
            completed: d("2021-02-28"),
        }),
    ));
    let junior = fx.certified(
        &y,
        APPRENTICE,
        "学徒甲",
        turner(),
        Level::Junior,
        "2021-03-01",
        Route::Evaluation(EvaluationBasis::Apprenticeship {
            apprenticeship: started.event.id,
        }),
    );
    push(fx.by_body(&y, EventKind::LevelCertified(junior)));
    // Contest: national 3rd → 技师.
    let contest = authority(
        node,
        EventKind::ContestRegistered(ContestRegistered {
            name: "全国职业技能大赛 (演示)".to_string(),
            tier: ContestTier::National,
            occupations: vec![turner()],
            date: d("2022-10-20"),
        }),
    );
    push(contest.clone());
    let result = authority(
        node,
        EventKind::ContestResultRecorded(ContestResultRecorded {
            contest: contest.event.id,
            subject: fx.subject(CHAMPION),
            occupation: turner(),
            rank: 3,
            award: "铜牌".to_string(),
            date: d("2022-10-22"),
        }),
    );
    push(result.clone());
    let promoted = fx.certified(
        &y,
        CHAMPION,
        "冠军乙",
        turner(),
        Level::Technician,
        "2022-12-01",
        Route::Contest {
            result: result.event.id,
        },
    );
    push(fx.by_body(&y, EventKind::LevelCertified(promoted.clone())));
    // Skill to title: 技师 + 3 years → 工程师 eligibility.
    push(authority(
        node,
        EventKind::TitleEligibilityGranted(TitleEligibilityGranted {
            subject: fx.subject(CHAMPION),
            basis: promoted.certificate_number,
            title: TitleLevel::Intermediate,
            series: "工程技术".to_string(),
            field: "机械工程".to_string(),
            date: d("2025-12-01"),
        }),
    ));
    // 高级工程师 → 高级技师 by conversion, 特级技师 four years later, then it ends.
    let title = authority(
        node,
        EventKind::TitleRecorded(TitleRecorded {
            subject: fx.subject(MASTER),
            title: TitleLevel::Associate,
            series: "工程技术".to_string(),
            field: "机械工程".to_string(),
            obtained: d("2018-07-01"),
        }),
    );
    push(title.clone());
    let senior_technician = fx.certified(
        &y,
        MASTER,
        "大师丙",
        turner(),
        Level::SeniorTechnician,
        "2019-06-01",
        Route::Conversion {
            title: title.event.id,
        },
    );
    let number = senior_technician.certificate_number;
    push(fx.by_body(&y, EventKind::LevelCertified(senior_technician)));
    push(authority(
        node,
        EventKind::AppointmentRightGranted(AppointmentRightGranted {
            registration_number: y.number,
            levels: vec![Level::PrincipalTechnician],
            effective: d("2020-01-01"),
        }),
    ));
    let appointment = fx.by_body(
        &y,
        EventKind::AppointmentMade(AppointmentMade {
            subject: fx.subject(MASTER),
            occupation: turner(),
            level: Level::PrincipalTechnician,
            term_start: d("2023-06-01"),
            term_end: d("2026-06-01"),
            basis: AppointmentBasis::Credential(number),
            review: "评审委员会评审并公示".to_string(),
        }),
    );
    push(appointment.clone());
    // The same title → 技师 in 焊工.
    let converted = fx.certified(
        &y,
        MASTER,
        "大师丙",
        welder(),
        Level::Technician,
        "2024-01-01",
        Route::Conversion {
            title: title.event.id,
        },
    );
    push(fx.by_body(&y, EventKind::LevelCertified(converted)));
    push(fx.revocation(&y, number, "2025-01-01"));
    push(fx.by_body(
        &y,
        EventKind::AppointmentEnded(AppointmentEnded {
            appointment: appointment.event.id,
            subject: fx.subject(MASTER),
            effective: d("2025-02-01"),
            reason: AppointmentEndReason::LeftPost,
            note: "调离岗位".to_string(),
        }),
    ));
    events
}

#[test]
fn given_every_route_when_the_node_is_reopened_and_rebuilt_then_the_state_is_the_same() {
    let (fx, node) = Fixture::init();
    history(&fx, &node);
    let champion = node
        .career(&fx.subject(CHAMPION))
        .expect("read")
        .expect("a career");
    assert!(champion.contest_results[0].promoted.is_some());
    assert_eq!(champion.eligibilities.len(), 1);
    let master = node
        .career(&fx.subject(MASTER))
        .expect("read")
        .expect("a career");
    let post = &master.appointments[0];
    assert!(
        post.basis_revoked,
        "the 高级技师 it was built on was revoked"
    );
    assert_eq!(post.ended.map(|(date, _)| date), Some(d("2025-02-01")));
    let registry = node.registry();
    assert_eq!(registry.contests.len(), 1);
    assert_eq!(
        registry.appointment_rights[&y_body().number].first_principal,
        Some(d("2023-06-01"))
    );

    // The same state as the reference fold of the log.
    let entries: Vec<SignedEvent> = (0..node.entry_count())
        .map(|index| node.read_event(index).expect("entry"))
        .collect();
    let reference = MemoryLedger::fold(&entries);
    for (subject, career) in &reference.careers {
        assert_eq!(node.career(subject).expect("read").as_ref(), Some(career));
    }
    for (subject, person) in &reference.persons {
        assert_eq!(node.person(subject).expect("read").as_ref(), Some(person));
    }
    assert_eq!(node.stats().expect("stats"), reference.stats);

    let routes = stats_by_route(&node.stats().expect("stats"));
    assert_eq!(routes["contest"]["valid"], 1);
    assert_eq!(routes["contest"]["by_level"]["technician"], 1);
    assert_eq!(routes["conversion"]["by_level"]["technician"], 1);
    assert_eq!(routes["conversion"]["title_eligibilities"]["engineer"], 1);
    assert_eq!(routes["evaluation"]["by_level"]["junior"], 1);
    assert_eq!(routes["conversion"]["valid"], 1, "the 高级技师 was revoked");
    assert!(routes["conversion"]["by_level"]
        .get("senior_technician")
        .is_none());
    assert_eq!(routes["appointment"]["current"], 0);
    assert_eq!(routes["appointment"]["ended"], 1);
    assert_eq!(routes["apprenticeship"]["completed"], 1);
    assert_eq!(routes["apprenticeship"]["in_progress"], 0);
    assert_eq!(routes["basis_revoked"], 1);

    let entry_count = node.entry_count();
    let digest = node.projection_digest().expect("digest");
    node.close().expect("close");
    let (node, _) = fx.reopen().expect("reopen");
    assert_eq!(node.registry().contests.len(), 1);
    assert_eq!(node.projection_digest().expect("digest"), digest);
    node.close().expect("close");
    let report = rebuild(&fx.path(), &mut |_, _| {}).expect("rebuild");
    assert_eq!(report.entries, entry_count);
    assert_eq!(report.digest_after, digest, "rebuild equals incremental");
}

#[test]
fn given_a_reopened_node_when_a_route_rule_needs_the_registry_then_it_still_decides() {
    let (fx, node) = Fixture::init();
    history(&fx, &node);
    node.close().expect("close");
    let (node, _) = fx.reopen().expect("reopen");
    // A second 特级技师 post while the first is ended: the right and records were reloaded.
    let refused = fx.by_body(
        &y_body(),
        EventKind::AppointmentMade(AppointmentMade {
            subject: fx.subject(MASTER),
            occupation: turner(),
            level: Level::ChiefTechnician,
            term_start: d("2025-03-01"),
            term_end: d("2026-03-01"),
            basis: AppointmentBasis::Credential(
                fx.certified(
                    &y_body(),
                    MASTER,
                    "x",
                    turner(),
                    Level::Junior,
                    "2025-01-01",
                    attested(),
                )
                .certificate_number,
            ),
            review: "评审".to_string(),
        }),
    );
    check_rejected(node.submit(refused), "appointment-not-allowed");
}
