//! Every credential kind through a node (issue 19): a 职业资格证书, a 专项职业能力证书 and a
//! foreign comparison persist in sled, are found by number after a reopen (so the duplicate
//! rules still hold), rebuild to the same bytes, agree with the reference `MemoryLedger`,
//! and feed `stats --by kind` and `--by route`.

mod common;

use common::*;
use skill_ledger_domain::{
    Audience, CertificateNumber, CredentialKind, CredentialRevoked, Event, EventId, EventKind,
    ForeignComparisonBasis, Level, LevelCertified, MemoryLedger, Route, RouteKind, ScopeItem,
    SignedEvent, Signer, SpecialAbilityCertified,
};
use skill_ledger_node::{rebuild, stats_by_kind, stats_by_route, Node};

const WELDER_DOC: &str = "500101199201010044";
const COOK_DOC: &str = "500101199301010055";
const FITTER_DOC: &str = "500101199401010066";

fn kinds_body() -> Body {
    Body {
        number: "S000050000003".parse().expect("registration number"),
        key: ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
    }
}

fn accept(node: &Node, signed: &SignedEvent) {
    if let Err(error) = node.submit(signed.clone()) {
        panic!("{} refused: {error}", signed.event.kind.name());
    }
}

struct History {
    qualification: CertificateNumber,
    ability: SpecialAbilityCertified,
    comparison: SignedEvent,
}

fn history(fx: &Fixture, node: &Node) -> History {
    let body = kinds_body();
    let item = |code: &str, level_max| ScopeItem {
        occupation: occupation(code),
        level_max,
    };
    accept(
        node,
        &node.sign_as_authority(EventKind::BodyRegistered(registration(
            &body,
            vec![
                item("6-18-02-04", Level::SeniorTechnician),
                item("4-03-02-01", Level::Senior),
                item("6-20-03-00", Level::Technician),
            ],
            Audience::Public,
        ))),
    );
    // 职业资格证书: 焊工 初级 (Q series).
    let mut qualification = fx.certified(
        &body,
        WELDER_DOC,
        "焊工甲",
        welder(),
        Level::Junior,
        "2023-03-01",
        attested(),
    );
    qualification.certificate_number =
        CertificateNumber::compose_qualification(body.number, 2023, Level::Junior, fx.serial())
            .expect("number");
    let number = qualification.certificate_number;
    accept(
        node,
        &fx.by_body(&body, EventKind::LevelCertified(qualification)),
    );
    // 专项职业能力证书: 重庆小面制作, then revoked.
    let ability_number =
        CertificateNumber::compose_special_ability(body.number, 2023, fx.serial()).expect("number");
    let ability = SpecialAbilityCertified {
        certificate_number: ability_number,
        subject: fx.subject(COOK_DOC),
        name_commitment: fx.pseudonym.commit_name(ability_number.as_str(), "面师乙"),
        occupation: cook(),
        ability: "4-03-02-01-Z01".to_string(),
        issued: d("2023-05-01"),
    };
    accept(
        node,
        &fx.by_body(&body, EventKind::SpecialAbilityCertified(ability.clone())),
    );
    let second =
        CertificateNumber::compose_special_ability(body.number, 2023, fx.serial()).expect("number");
    let second = SpecialAbilityCertified {
        certificate_number: second,
        ability: "4-03-02-01-Z02".to_string(),
        ..ability.clone()
    };
    accept(
        node,
        &fx.by_body(&body, EventKind::SpecialAbilityCertified(second.clone())),
    );
    accept(
        node,
        &fx.revocation(&body, second.certificate_number, "2024-01-01"),
    );
    // 境外证书比照认定: an IHK certificate → 装配钳工 高级工.
    let route = Route::ForeignComparison(ForeignComparisonBasis {
        catalogue_version: 1,
        certificate_type: "DE-IHK-Industriemechaniker".to_string(),
        foreign_issuer: "IHK München und Oberbayern".to_string(),
        document_id: "IHK-2021-0042317".to_string(),
    });
    let certified: LevelCertified = fx.certified(
        &body,
        FITTER_DOC,
        "钳工丙",
        occupation("6-20-03-00"),
        Level::Senior,
        "2024-05-01",
        route,
    );
    let comparison = SignedEvent::sign(
        &fx.origin,
        Signer::Body(body.number),
        &body.key,
        Event {
            id: EventId::foreign_document("DE-IHK-Industriemechaniker", "IHK-2021-0042317"),
            kind: EventKind::LevelCertified(certified),
        },
    );
    accept(node, &comparison);
    History {
        qualification: number,
        ability,
        comparison,
    }
}

#[test]
fn given_every_kind_when_the_node_is_reopened_and_rebuilt_then_the_state_is_the_same() {
    let (fx, node) = Fixture::init();
    let history = history(&fx, &node);
    let number = history.ability.certificate_number;
    let found = node
        .special_ability(&number)
        .expect("read")
        .expect("stored");
    assert_eq!(found.ability, "4-03-02-01-Z01");
    assert!(found.is_valid());
    assert!(node.credential(&number).expect("read").is_none());
    let qualification = node
        .credential(&history.qualification)
        .expect("read")
        .expect("stored");
    assert_eq!(
        qualification.certificate_number.kind(),
        CredentialKind::Qualification
    );
    let cook = node
        .career(&fx.subject(COOK_DOC))
        .expect("read")
        .expect("a career");
    assert_eq!(cook.special_abilities.len(), 2);
    assert!(!cook.special_abilities[1].is_valid());
    assert!(node.person(&fx.subject(COOK_DOC)).expect("read").is_none());
    let fitter = node
        .person(&fx.subject(FITTER_DOC))
        .expect("read")
        .expect("a person");
    assert_eq!(fitter.holdings[0].route, RouteKind::ForeignComparison);

    // The same state as the reference fold of the log.
    let entries: Vec<SignedEvent> = (0..node.entry_count())
        .map(|index| node.read_event(index).expect("entry"))
        .collect();
    let reference = MemoryLedger::fold(&entries);
    for (number, record) in &reference.special_abilities {
        assert_eq!(
            node.special_ability(number).expect("read").as_ref(),
            Some(record)
        );
    }
    for (subject, career) in &reference.careers {
        assert_eq!(node.career(subject).expect("read").as_ref(), Some(career));
    }
    assert_eq!(node.stats().expect("stats"), reference.stats);

    let kinds = stats_by_kind(&node.stats().expect("stats"));
    assert_eq!(kinds["qualification"]["valid"], 1);
    assert_eq!(kinds["qualification"]["by_level"]["junior"], 1);
    assert_eq!(kinds["special_ability"]["issued"], 2);
    assert_eq!(kinds["special_ability"]["valid"], 1);
    assert_eq!(kinds["special_ability"]["revoked"], 1);
    assert!(kinds["special_ability"].get("by_level").is_none());
    assert_eq!(kinds["skill_level"]["by_level"]["senior"], 1);
    assert_eq!(kinds["skill_level"]["high_skill"], 1);
    let routes = stats_by_route(&node.stats().expect("stats"));
    assert_eq!(routes["foreign-comparison"]["valid"], 1);
    assert_eq!(routes["foreign-comparison"]["by_level"]["senior"], 1);

    let entry_count = node.entry_count();
    let digest = node.projection_digest().expect("digest");
    node.close().expect("close");
    let (node, _) = fx.reopen().expect("reopen");
    assert_eq!(node.projection_digest().expect("digest"), digest);
    // After the reopen, the stored numbers and the foreign document still count.
    let again = fx.by_body(
        &kinds_body(),
        EventKind::SpecialAbilityCertified(SpecialAbilityCertified {
            subject: fx.subject(FITTER_DOC),
            ..history.ability.clone()
        }),
    );
    check_rejected(node.submit(again), "duplicate-certificate");
    let mut reused = history.comparison.clone();
    if let EventKind::LevelCertified(certified) = &mut reused.event.kind {
        certified.subject = fx.subject(COOK_DOC);
    }
    let reused = SignedEvent::sign(&fx.origin, reused.signer, &kinds_body().key, reused.event);
    check_rejected(node.submit(reused), "foreign-document-used");
    // A revocation of the revoked special ability is refused as already revoked.
    let revoked_again = fx.by_body(
        &kinds_body(),
        EventKind::CredentialRevoked(CredentialRevoked {
            certificate_number: node
                .career(&fx.subject(COOK_DOC))
                .expect("read")
                .expect("career")
                .special_abilities[1]
                .certificate_number,
            effective: d("2024-02-01"),
            reason: "重复撤销".to_string(),
        }),
    );
    check_rejected(node.submit(revoked_again), "already-revoked");
    node.close().expect("close");
    let report = rebuild(&fx.path(), &mut |_, _| {}).expect("rebuild");
    assert_eq!(report.entries, entry_count);
    assert_eq!(report.digest_after, digest, "rebuild equals incremental");
}
