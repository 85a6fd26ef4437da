//! End to end through a real ledger directory: init, register, issue, revoke, query, and
//! rejections that leave no trace.

mod common;

use std::collections::BTreeMap;

use common::*;
use skill_ledger_domain::{
    CertificateNumber, CredentialRecord, CredentialStatus, Event, EventKind, Level, SignedEvent,
    Signer, SubjectId,
};
use skill_ledger_node::{NameCheck, Node};

/// What a credential query should show.
enum Expect {
    Valid { entry_index: u64 },
    Revoked { entry_index: u64, revoked_at: u64 },
}

fn check_credential(node: &Node, number: &CertificateNumber, expect: Expect) -> CredentialRecord {
    let record = node
        .credential(number)
        .expect("query the projection")
        .unwrap_or_else(|| panic!("credential {number} is not found"));
    assert_eq!(record.certificate_number, *number);
    match expect {
        Expect::Valid { entry_index } => {
            assert_eq!(record.entry_index, entry_index, "entry index of {number}");
            assert_eq!(record.status, CredentialStatus::Valid, "status of {number}");
        }
        Expect::Revoked {
            entry_index,
            revoked_at,
        } => {
            assert_eq!(record.entry_index, entry_index, "entry index of {number}");
            match &record.status {
                CredentialStatus::Revoked { entry_index, .. } => {
                    assert_eq!(*entry_index, revoked_at, "revocation entry of {number}")
                }
                other => panic!("{number} should be revoked, is {other:?}"),
            }
        }
    }
    record
}

fn check_name(node: &Node, number: &CertificateNumber, name: &str, expected: &str) {
    let answer = node.check_name(number, name).expect("check a name");
    let found = match &answer {
        NameCheck::Unknown => "unknown",
        NameCheck::Mismatch => "mismatch",
        NameCheck::Matched(record) => {
            assert_eq!(record.certificate_number, *number);
            "matched"
        }
    };
    assert_eq!(found, expected, "name check of '{name}' on {number}");
}

/// Checks a person's holdings: (certificate number, level, revoked) in log order.
fn check_holdings(node: &Node, subject: &SubjectId, expected: &[(CertificateNumber, Level, bool)]) {
    let person = node
        .person(subject)
        .expect("query the projection")
        .expect("the person is known");
    let found: Vec<_> = person
        .holdings
        .iter()
        .map(|holding| (holding.certificate_number, holding.level, holding.revoked))
        .collect();
    assert_eq!(found, expected, "holdings of {subject}");
}

/// Checks the named counters; a counter expected 0 must be absent.
fn check_stats(node: &Node, expected: &[(&str, i64)]) {
    let stats = node.stats().expect("read statistics");
    for (name, value) in expected {
        assert_eq!(
            stats.get(*name).copied().unwrap_or(0),
            *value,
            "counter {name} in {stats:#?}"
        );
        if *value == 0 {
            assert!(!stats.contains_key(*name), "zero counter {name} is stored");
        }
    }
}

/// The observable state a rejected event must not change.
#[derive(Debug, PartialEq, Eq)]
struct Trace {
    entry_count: u64,
    digest: [u8; 32],
    checkpoint_size: Option<u64>,
    stats: BTreeMap<String, i64>,
}

fn trace(node: &Node) -> Trace {
    Trace {
        digest: node.projection_digest().expect("projection digest"),
        entry_count: node.entry_count(),
        checkpoint_size: node.checkpoint().map(|signed| signed.checkpoint.size),
        stats: node.stats().expect("read statistics"),
    }
}

fn check_rejected_without_trace(node: &Node, signed: SignedEvent, code: &str) {
    let before = trace(node);
    check_rejected(node.submit(signed), code);
    assert_eq!(
        trace(node),
        before,
        "a rejected event ({code}) left a trace"
    );
}

#[test]
fn given_registered_bodies_when_credentials_are_issued_and_one_revoked_then_queries_and_stats_agree(
) {
    let (fx, node) = Fixture::init();
    let (y, s) = (y_body(), s_body());

    // When: three people get four credentials, and one is revoked by its issuer.
    let zhang_junior = fx.junior(&y, "500101199001011234", "张三");
    let li_junior = fx.junior(&s, "500101199202022345", "李四");
    let wang_junior = fx.junior(&y, "500101199303033456", "王五");
    let zhang_welder = fx.by_body(
        &y,
        EventKind::LevelCertified(fx.certified(
            &y,
            "500101199001011234",
            "张三",
            welder(),
            Level::Intermediate,
            "2022-03-01",
            attested(),
        )),
    );
    let mut indexes = Vec::new();
    for signed in [&zhang_junior, &li_junior, &wang_junior, &zhang_welder] {
        let receipt = node.submit(signed.clone()).expect("certification accepted");
        assert!(!receipt.duplicate);
        assert!(receipt.checkpoint.checkpoint.size > receipt.index);
        indexes.push(receipt.index);
    }
    assert_eq!(
        indexes,
        [5, 6, 7, 8],
        "certifications follow the setup entries"
    );
    let revoked = node
        .submit(fx.revocation(&s, number_of(&li_junior), "2023-01-01"))
        .expect("revocation accepted");
    assert_eq!(revoked.index, 9);
    assert_eq!(node.entry_count(), SETUP_ENTRIES + 5);

    // Then: each credential shows its status and the entry that carried it.
    check_credential(
        &node,
        &number_of(&zhang_junior),
        Expect::Valid { entry_index: 5 },
    );
    check_credential(
        &node,
        &number_of(&li_junior),
        Expect::Revoked {
            entry_index: 6,
            revoked_at: 9,
        },
    );
    check_credential(
        &node,
        &number_of(&wang_junior),
        Expect::Valid { entry_index: 7 },
    );
    let welder_record = check_credential(
        &node,
        &number_of(&zhang_welder),
        Expect::Valid { entry_index: 8 },
    );
    assert_eq!(welder_record.level, Level::Intermediate);
    assert_eq!(welder_record.subject, fx.subject("500101199001011234"));
    let unknown = CertificateNumber::compose(y.number, 2021, Level::Junior, 999_999)
        .expect("certificate number");
    assert!(node.credential(&unknown).expect("query").is_none());

    // Then: name checks match the holder's name only.
    check_name(&node, &number_of(&zhang_junior), "张三", "matched");
    check_name(&node, &number_of(&zhang_junior), " 张 三 ", "matched");
    check_name(&node, &number_of(&zhang_junior), "李四", "mismatch");
    check_name(&node, &number_of(&li_junior), "李四", "matched");
    check_name(&node, &unknown, "张三", "unknown");

    // Then: persons list their holdings in log order, revoked ones marked.
    check_holdings(
        &node,
        &fx.subject("500101199001011234"),
        &[
            (number_of(&zhang_junior), Level::Junior, false),
            (number_of(&zhang_welder), Level::Intermediate, false),
        ],
    );
    check_holdings(
        &node,
        &fx.subject("500101199202022345"),
        &[(number_of(&li_junior), Level::Junior, true)],
    );
    assert!(node.person(&fx.subject("nobody")).expect("query").is_none());

    // Then: the counters follow (张三 highest intermediate, 王五 junior, 李四 none).
    check_stats(
        &node,
        &[
            ("certificates.issued", 4),
            ("certificates.revoked", 1),
            ("certificates.valid.level.junior", 2),
            ("certificates.valid.level.intermediate", 1),
            ("certificates.valid.route.evaluation", 3),
            ("certificates.issued.year.2021", 3),
            ("holders.total", 2),
            ("holders.highest.junior", 1),
            ("holders.highest.intermediate", 1),
            ("holders.highest.senior", 0),
        ],
    );

    // Then: the same answers after a restart.
    let digest = node.projection_digest().expect("digest");
    node.close().expect("close");
    let (node, report) = fx.reopen().expect("reopen");
    assert_eq!(report.replayed, 0);
    assert_eq!(node.projection_digest().expect("digest"), digest);
    check_credential(
        &node,
        &number_of(&li_junior),
        Expect::Revoked {
            entry_index: 6,
            revoked_at: 9,
        },
    );
    check_name(&node, &number_of(&zhang_welder), "张三", "matched");
}

#[test]
fn given_a_ledger_with_a_credential_when_events_break_a_rule_then_they_are_rejected_without_trace()
{
    let (fx, node) = Fixture::init();
    let (y, s) = (y_body(), s_body());
    let issued = fx.junior(&y, "500101199001011234", "张三");
    node.submit(issued.clone()).expect("accepted");

    // A new event carrying a certificate number already on the ledger.
    let EventKind::LevelCertified(mut again) = issued.event.kind.clone() else {
        unreachable!("a certification")
    };
    again.subject = fx.subject("500101199202022345");
    check_rejected_without_trace(
        &node,
        fx.by_body(&y, EventKind::LevelCertified(again)),
        "duplicate-certificate",
    );

    // 中式烹调师 is in nobody's scope; 技师 in 车工 is above the S body's scope.
    let cook = fx.certified(
        &y,
        "500101199303033456",
        "王五",
        cook(),
        Level::Junior,
        "2021-06-01",
        attested(),
    );
    check_rejected_without_trace(
        &node,
        fx.by_body(&y, EventKind::LevelCertified(cook)),
        "out-of-scope",
    );
    let above = fx.certified(
        &s,
        "500101199303033456",
        "王五",
        turner(),
        Level::Technician,
        "2021-06-01",
        prior(),
    );
    check_rejected_without_trace(
        &node,
        fx.by_body(&s, EventKind::LevelCertified(above)),
        "out-of-scope",
    );

    // A signature that does not verify: tampered, or made for another ledger's origin.
    let mut tampered = fx.junior(&y, "500101199303033456", "王五");
    tampered.signature[10] ^= 0x01;
    check_rejected_without_trace(&node, tampered, "bad-signature");
    let other_ledger = SignedEvent::sign(
        "skill-ledger/51",
        Signer::Body(y.number),
        &y.key,
        Event {
            id: fx.id(),
            kind: fx.junior(&y, "500101199303033456", "王五").event.kind,
        },
    );
    check_rejected_without_trace(&node, other_ledger, "bad-signature");

    // Signed by a key the ledger does not know for that body.
    let impostor = Body {
        number: y.number,
        key: ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
    };
    check_rejected_without_trace(
        &node,
        fx.junior(&impostor, "500101199303033456", "王五"),
        "key-not-valid-at-date",
    );

    // Attested basis above intermediate, and a level skipped on the prior-level route.
    let senior = fx.certified(
        &y,
        "500101199303033456",
        "王五",
        turner(),
        Level::Senior,
        "2021-06-01",
        attested(),
    );
    check_rejected_without_trace(
        &node,
        fx.by_body(&y, EventKind::LevelCertified(senior)),
        "attested-basis-not-allowed",
    );
    let skipped = fx.certified(
        &y,
        "500101199001011234",
        "张三",
        turner(),
        Level::Senior,
        "2025-06-01",
        prior(),
    );
    check_rejected_without_trace(
        &node,
        fx.by_body(&y, EventKind::LevelCertified(skipped)),
        "level-not-reachable",
    );

    // Revocations: not the issuer, unknown credential, before issue; then twice.
    check_rejected_without_trace(
        &node,
        fx.revocation(&s, number_of(&issued), "2023-01-01"),
        "not-issuer",
    );
    let unknown = CertificateNumber::compose(y.number, 2021, Level::Junior, 999_999)
        .expect("certificate number");
    check_rejected_without_trace(
        &node,
        fx.revocation(&y, unknown, "2023-01-01"),
        "unknown-credential",
    );
    check_rejected_without_trace(
        &node,
        fx.revocation(&y, number_of(&issued), "2020-01-01"),
        "revocation-before-issue",
    );
    node.submit(fx.revocation(&y, number_of(&issued), "2023-01-01"))
        .expect("first revocation accepted");
    check_rejected_without_trace(
        &node,
        fx.revocation(&y, number_of(&issued), "2023-02-01"),
        "already-revoked",
    );

    // An authority-only event signed by a body.
    let established = node.sign_as_authority(EventKind::BodySuspended(
        skill_ledger_domain::BodyStatusChange {
            registration_number: s.number,
            effective: d("2024-01-01"),
            reason: "动态调整".to_string(),
        },
    ));
    let by_body = fx.by_body(&y, established.event.kind);
    check_rejected_without_trace(&node, by_body, "wrong-signer");

    let metrics = node.metrics();
    assert_eq!(
        metrics.accepted.load(std::sync::atomic::Ordering::Relaxed),
        SETUP_ENTRIES + 2
    );
}
