//! Given/when/then tests of 川渝 互认 (issue 6): the home authority (Chongqing,
//! `skill-ledger/50`) recognises credentials of its partner (Sichuan, `skill-ledger/51`), and
//! withdraws them. `decide` sees only the home ledger: what the partner's log holds is checked
//! at admission, outside the domain.

mod common;

use common::*;
use skill_ledger_domain::{
    stat, CertificateNumber, EventId, EventKind, Level, MemoryLedger, RecognitionRecorded,
    RecognitionWithdrawn, RegistrationNumber, Rejection, RouteKind, SignedEvent, Signer,
    WithdrawalReason, DEFAULT_POLICY_TOML,
};

/// A Sichuan 高级工 (三级) certificate of a Sichuan body, issued in 2020.
fn sichuan_number(level: Level, serial: u32) -> CertificateNumber {
    let body: RegistrationNumber = "Y000051000010".parse().expect("registration number");
    CertificateNumber::compose(body, 2020, level, serial).expect("number")
}

fn recognition(holder: u8, level: Level, serial: u32) -> RecognitionRecorded {
    RecognitionRecorded {
        origin: OTHER_ORIGIN.to_string(),
        entry_index: 40 + u64::from(serial),
        leaf_hash: [serial as u8; 32],
        certificate_number: sichuan_number(level, serial),
        subject: subject(holder),
        level,
        partner_occupation: turner(),
        occupation: turner(),
        issued: d("2020-06-01"),
        date: d("2024-03-01"),
    }
}

fn recognise(fx: &Fx, recognised: RecognitionRecorded) -> SignedEvent {
    fx.by_authority(EventKind::RecognitionRecorded(recognised))
}

fn withdraw(fx: &Fx, of: &SignedEvent, reason: WithdrawalReason) -> SignedEvent {
    let EventKind::RecognitionRecorded(recognised) = &of.event.kind else {
        panic!("not a recognition")
    };
    fx.by_authority(EventKind::RecognitionWithdrawn(RecognitionWithdrawn {
        recognition: of.event.id,
        subject: recognised.subject,
        effective: d("2024-09-01"),
        reason,
    }))
}

fn revoked_at_origin(index: u64) -> WithdrawalReason {
    WithdrawalReason::OriginRevoked {
        revocation_index: index,
    }
}

#[test]
fn a_recognised_level_counts_in_the_person_and_the_statistics() {
    let fx = Fx::new();
    let when = recognise(&fx, recognition(7, Level::Senior, 1));
    let (ledger, _) = check(fx.setup(), when, Ok(()));
    let person = &ledger.persons[&subject(7)];
    assert_eq!(person.holdings.len(), 1);
    assert_eq!(person.holdings[0].route, RouteKind::Recognition);
    assert_eq!(
        person.highest_in(turner(), d("2024-03-01")).map(|h| h.0),
        Some(Level::Senior)
    );
    let career = &ledger.careers[&subject(7)];
    assert_eq!(career.recognitions[0].origin, OTHER_ORIGIN);
    assert!(career.recognitions[0].is_active());
    assert_eq!(ledger.stats[stat::RECOGNITIONS_ACTIVE], 1);
    assert_eq!(ledger.stats["recognitions.level.senior"], 1);
    assert_eq!(ledger.stats["routes.recognition.level.senior"], 1);
    assert_eq!(ledger.stats[stat::HOLDERS], 1);
    assert!(
        !ledger.stats.contains_key(stat::ISSUED),
        "not a credential of this ledger"
    );
}

#[test]
fn a_home_evaluation_builds_on_a_recognised_level() {
    let fx = Fx::new();
    let recognised = recognise(&fx, recognition(7, Level::Senior, 1));
    let technician = fx.certify(
        &y_body(),
        7,
        turner(),
        Level::Technician,
        "2025-07-01",
        prior(),
    );
    let (ledger, _) = check(
        with(fx.setup(), [recognised.clone()]),
        technician.clone(),
        Ok(()),
    );
    assert_eq!(ledger.persons[&subject(7)].holdings[1].basis, Some(0));
    // Withdrawing the recognition marks what was built on it.
    let when = withdraw(&fx, &recognised, revoked_at_origin(90));
    let (ledger, _) = check(with(fx.setup(), [recognised, technician]), when, Ok(()));
    let person = &ledger.persons[&subject(7)];
    assert!(person.holdings[0].revoked);
    assert!(person.holdings[1].basis_revoked);
    assert_eq!(ledger.stats[stat::BASIS_REVOKED], 1);
}

#[test]
fn only_the_home_authority_recognises() {
    let fx = Fx::new();
    let by_body = fx.by_body(
        &y_body(),
        EventKind::RecognitionRecorded(recognition(7, Level::Senior, 1)),
    );
    check(fx.setup(), by_body, Err("wrong-signer"));
    let by_other_key = fx.sign(
        Signer::Authority,
        &key(9),
        EventKind::RecognitionRecorded(recognition(7, Level::Senior, 1)),
    );
    check(fx.setup(), by_other_key, Err("key-not-valid-at-date"));
}

#[test]
fn a_home_credential_is_not_recognised() {
    let fx = Fx::new();
    let mut home_origin = recognition(7, Level::Senior, 1);
    home_origin.origin = ORIGIN.to_string();
    check(
        fx.setup(),
        recognise(&fx, home_origin),
        Err("recognition-of-home-credential"),
    );
    let mut home_number = recognition(7, Level::Senior, 1);
    home_number.certificate_number =
        CertificateNumber::compose(y_body().number, 2020, Level::Senior, 5).expect("number");
    check(
        fx.setup(),
        recognise(&fx, home_number),
        Err("recognition-of-home-credential"),
    );
}

#[test]
fn a_credential_is_recognised_once_while_active() {
    let fx = Fx::new();
    let first = recognise(&fx, recognition(7, Level::Senior, 1));
    let again = recognise(&fx, recognition(7, Level::Senior, 1));
    let (_, rejection) = check(
        with(fx.setup(), [first.clone()]),
        again,
        Err("duplicate-recognition"),
    );
    assert!(
        matches!(rejection, Some(Rejection::DuplicateRecognition { recognition, .. }) if recognition == first.event.id)
    );
    // After a withdrawal by decision, the authority may recognise it again.
    let withdrawn = withdraw(
        &fx,
        &first,
        WithdrawalReason::AuthorityDecision {
            reason: "材料待核实".to_string(),
        },
    );
    let mut later = recognition(7, Level::Senior, 1);
    later.date = d("2024-10-01");
    check(
        with(fx.setup(), [first, withdrawn]),
        recognise(&fx, later),
        Ok(()),
    );
}

#[test]
fn the_policy_decides_the_level_and_the_occupation() {
    let fx = Fx::new();
    // Without a [recognition] section the route is closed.
    let closed = DEFAULT_POLICY_TOML
        .split("[recognition]")
        .next()
        .expect("text")
        .replace("version = 1", "version = 2");
    let given_closed = with(fx.setup(), [fx.policy(&closed)]);
    let (_, rejection) = check(
        given_closed,
        recognise(&fx, recognition(7, Level::Senior, 1)),
        Err("recognition-not-allowed"),
    );
    assert_eq!(rejection.and_then(|r| r.policy_version()), Some(2));
    // A mapping row sends 铣工 of Sichuan to 车工 here.
    let mapped = DEFAULT_POLICY_TOML.replace("version = 1", "version = 2").replace(
        "level_max = \"senior_technician\"\n\n# Both",
        "level_max = \"technician\"\n\n[[recognition.mapping]]\norigin = \"skill-ledger/51\"\npartner = \"6-18-01-02\"\nhome = \"6-18-01-01\"\n\n# Both",
    );
    let given_mapped = with(fx.setup(), [fx.policy(&mapped)]);
    let mut miller = recognition(7, Level::Senior, 1);
    miller.partner_occupation = occupation("6-18-01-02");
    miller.occupation = occupation("6-18-01-02");
    let (_, rejection) = check(
        given_mapped.clone(),
        recognise(&fx, miller.clone()),
        Err("recognition-occupation-mismatch"),
    );
    assert!(
        matches!(rejection, Some(Rejection::RecognitionOccupationMismatch { expected, policy_version: 2, .. }) if expected == turner())
    );
    miller.occupation = turner();
    check(given_mapped.clone(), recognise(&fx, miller), Ok(()));
    check(
        given_mapped,
        recognise(&fx, recognition(7, Level::SeniorTechnician, 2)),
        Err("recognition-not-allowed"),
    );
}

#[test]
fn the_level_must_be_the_one_the_number_states() {
    let fx = Fx::new();
    let mut wrong = recognition(7, Level::Senior, 1);
    wrong.level = Level::Technician;
    check(
        fx.setup(),
        recognise(&fx, wrong),
        Err("certificate-level-mismatch"),
    );
}

#[test]
fn a_malformed_certificate_number_is_refused_not_read() {
    // Only decoding makes such a number: the bytes of a valid one, with a province digit
    // below '0' (the fuzzer's find: reading the province overflowed).
    let fx = Fx::new();
    let mut bytes = *sichuan_number(Level::Senior, 1).as_bytes();
    bytes[5] = b'/';
    let (number, _): (CertificateNumber, usize) =
        bincode::decode_from_slice(&bytes, skill_ledger_domain::BINCODE_CONFIG)
            .expect("22 bytes decode");
    assert!(!number.is_well_formed());
    let mut malformed = recognition(7, Level::Senior, 1);
    malformed.certificate_number = number;
    check(
        fx.setup(),
        recognise(&fx, malformed),
        Err("bad-certificate-number"),
    );
}

#[test]
fn only_an_active_recognition_is_withdrawn() {
    let fx = Fx::new();
    let recognised = recognise(&fx, recognition(7, Level::Senior, 1));
    let first = withdraw(&fx, &recognised, revoked_at_origin(90));
    let (ledger, _) = check(
        with(fx.setup(), [recognised.clone()]),
        first.clone(),
        Ok(()),
    );
    let held = &ledger.careers[&subject(7)].recognitions[0];
    assert_eq!(
        held.withdrawn.as_ref().map(|w| w.reason.clone()),
        Some(revoked_at_origin(90))
    );
    assert_eq!(
        ledger
            .stats
            .get(stat::RECOGNITIONS_ACTIVE)
            .copied()
            .unwrap_or(0),
        0
    );
    assert_eq!(ledger.stats[stat::RECOGNITIONS_WITHDRAWN], 1);
    assert_eq!(ledger.stats.get(stat::HOLDERS).copied().unwrap_or(0), 0);
    let second = withdraw(
        &fx,
        &recognised,
        WithdrawalReason::AuthorityDecision {
            reason: "重复".to_string(),
        },
    );
    check(
        with(fx.setup(), [recognised.clone(), first]),
        second,
        Err("recognition-not-active"),
    );
    // A withdrawal of nothing recognised.
    let mut unknown = withdraw(&fx, &recognised, revoked_at_origin(90));
    if let EventKind::RecognitionWithdrawn(withdrawn) = &mut unknown.event.kind {
        withdrawn.recognition = EventId([0xee; 16]);
    }
    let unknown = fx.by_authority(unknown.event.kind);
    check(
        with(fx.setup(), [recognised.clone()]),
        unknown,
        Err("unknown-basis"),
    );
    // The origin's revocation comes after its certification.
    let early = withdraw(&fx, &recognised, revoked_at_origin(41));
    check(with(fx.setup(), [recognised]), early, Err("malformed"));
}

#[test]
fn the_withdrawal_id_is_derived_from_the_recognition() {
    let a = EventId::withdrawal_of(&EventId([1; 16]));
    assert_eq!(a, EventId::withdrawal_of(&EventId([1; 16])));
    assert_ne!(a, EventId::withdrawal_of(&EventId([2; 16])));
}

// ---------------------------------------------------------------------------------------
// Joint contests (赛项共定、结果互认)
// ---------------------------------------------------------------------------------------

fn join(fx: &Fx, contest: &SignedEvent, origin: &str) -> SignedEvent {
    fx.by_authority(EventKind::ContestJoined(
        skill_ledger_domain::ContestJoined {
            contest: contest.event.id,
            partner_origin: origin.to_string(),
            partner_contest: EventId([0x51; 16]),
            date: d("2022-09-01"),
        },
    ))
}

fn accept(fx: &Fx, contest: &SignedEvent, holder: u8, rank: u16) -> SignedEvent {
    fx.by_authority(EventKind::PartnerContestResultAccepted(
        skill_ledger_domain::PartnerContestResultAccepted {
            contest: contest.event.id,
            origin: OTHER_ORIGIN.to_string(),
            partner_result: EventId([0x52; 16]),
            entry_index: 77,
            subject: subject(holder),
            occupation: turner(),
            rank,
            award: format!("第{rank}名"),
            date: d("2022-11-01"),
        },
    ))
}

#[test]
fn a_partner_result_of_a_joint_contest_promotes_by_the_home_table() {
    let fx = Fx::new();
    let national = fx.contest(skill_ledger_domain::ContestTier::National, "2022-10-20");
    let joined = join(&fx, &national, OTHER_ORIGIN);
    let accepted = accept(&fx, &national, 7, 3);
    let given_joint = with(fx.setup(), [national.clone(), joined.clone()]);
    let (ledger, _) = check(given_joint.clone(), accepted.clone(), Ok(()));
    let result = &ledger.careers[&subject(7)].contest_results[0];
    assert_eq!(result.tier, skill_ledger_domain::ContestTier::National);
    assert_eq!(ledger.stats[stat::PARTNER_CONTEST_RESULTS], 1);
    // The home table: a national result in the first 30 → 技师, by the contest route.
    let promoted = fx.certify(
        &y_body(),
        7,
        turner(),
        Level::Technician,
        "2023-01-10",
        by_contest(&accepted),
    );
    let (ledger, _) = check(with(given_joint, [accepted]), promoted, Ok(()));
    assert!(ledger.careers[&subject(7)].contest_results[0]
        .promoted
        .is_some());
}

#[test]
fn only_a_joint_contest_accepts_partner_results_once() {
    let fx = Fx::new();
    let national = fx.contest(skill_ledger_domain::ContestTier::National, "2022-10-20");
    // Not joint (yet).
    check(
        with(fx.setup(), [national.clone()]),
        accept(&fx, &national, 7, 3),
        Err("contest-not-joint"),
    );
    // Joint once per partner, never with the home ledger itself.
    let joined = join(&fx, &national, OTHER_ORIGIN);
    check(
        with(fx.setup(), [national.clone(), joined.clone()]),
        join(&fx, &national, OTHER_ORIGIN),
        Err("contest-already-joint"),
    );
    check(
        with(fx.setup(), [national.clone()]),
        join(&fx, &national, ORIGIN),
        Err("malformed"),
    );
    check(
        fx.setup(),
        join(&fx, &national, OTHER_ORIGIN),
        Err("unknown-contest"),
    );
    // One result per person and contest, home or partner side.
    let first = accept(&fx, &national, 7, 3);
    check(
        with(fx.setup(), [national.clone(), joined.clone(), first]),
        accept(&fx, &national, 7, 1),
        Err("contest-result-not-allowed"),
    );
    // Only the authority records it.
    let by_body = fx.by_body(&y_body(), accept(&fx, &national, 8, 3).event.kind);
    check(
        with(fx.setup(), [national, joined]),
        by_body,
        Err("wrong-signer"),
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever recognitions and withdrawals happen, in whatever order: the counters
        /// equal what the records say, each recognition is withdrawn at most once, and the
        /// ledger equals its own replay.
        #[test]
        fn recognition_counters_follow_the_records(
            holders in proptest::collection::vec(1u8..6, 1..8),
            withdrawals in proptest::collection::vec(0usize..8, 0..12),
        ) {
            let fx = Fx::new();
            let mut ledger = given(fx.setup());
            let mut recognitions = Vec::new();
            for (serial, holder) in holders.iter().enumerate() {
                let signed = recognise(&fx, recognition(*holder, Level::Senior, serial as u32 + 1));
                prop_assert!(ledger.submit(signed.clone()).is_ok());
                recognitions.push(signed);
            }
            let mut withdrawn = std::collections::BTreeSet::new();
            for pick in withdrawals {
                let Some(of) = recognitions.get(pick) else { continue };
                let outcome = ledger.submit(withdraw(&fx, of, revoked_at_origin(900)));
                if withdrawn.insert(pick) {
                    prop_assert!(outcome.is_ok());
                } else {
                    prop_assert_eq!(outcome.map_err(|r| r.code()), Err("recognition-not-active"));
                }
            }
            let active = recognitions.len() - withdrawn.len();
            let counter = |name: &str| ledger.stats.get(name).copied().unwrap_or(0);
            prop_assert_eq!(counter(stat::RECOGNITIONS_ACTIVE), active as i64);
            prop_assert_eq!(counter("recognitions.level.senior"), active as i64);
            prop_assert_eq!(counter(stat::RECOGNITIONS_WITHDRAWN), withdrawn.len() as i64);
            let holders_now = ledger
                .persons
                .values()
                .filter(|person| person.highest_overall().is_some())
                .count();
            prop_assert_eq!(counter(stat::HOLDERS), holders_now as i64);
            prop_assert_eq!(MemoryLedger::fold(&ledger.entries), ledger);
        }
    }
}
