//! Given/when/then tests of every credential kind the policy names (issue 19, 多元评价):
//! 职业资格证书 (Q series, access-controlled occupations), 专项职业能力证书 (Z series, no
//! level), and 境外技能证书比照认定 (a foreign certificate compared with a level per the
//! policy's comparison catalogue) — acceptance and every rejection of each.
//!
//! Setup ([`setup`]): the standard ledger of `common` (default policy v1: 焊工 access-
//! controlled at all five levels for body kind S; special abilities 重庆小面制作 and 川菜烹饪
//! under 中式烹调师, 工业机器人示教编程 under 工业机器人系统运维员; foreign certificates
//! DE-IHK-Industriemechaniker → 装配钳工 高级工 and AU-AQF-CertIII-AUR30620 → 汽车维修工 中级工),
//! plus the social organisation `S000050000003` ([`s3`]) with 焊工, 车工, 中式烹调师, 装配钳工 and
//! 汽车维修工 in its scope.

mod common;

use common::*;
use skill_ledger_domain::{
    stat, Audience, BodyRegistered, CertificateNumber, CredentialKind, CredentialStatus, Event,
    EventId, EventKind, ForeignComparisonBasis, Level, LevelCertified, MemoryLedger,
    NameCommitment, OccupationCode, Policy, Route, RouteKind, ScopeItem, SignedEvent, Signer,
    SpecialAbilityCertified, DEFAULT_POLICY_TOML,
};

fn s3() -> Body {
    Body {
        number: "S000050000003".parse().expect("registration number"),
        key: key(9),
    }
}

fn fitter() -> OccupationCode {
    occupation("6-20-03-00")
}

fn mechanic() -> OccupationCode {
    occupation("4-12-01-01")
}

fn robotics() -> OccupationCode {
    occupation("6-31-01-10")
}

fn s3_registration() -> BodyRegistered {
    let item = |occupation, level_max| ScopeItem {
        occupation,
        level_max,
    };
    BodyRegistered {
        registration_number: s3().number,
        name: "重庆某职业技能鉴定中心".to_string(),
        public_key: s3().key.verifying_key().to_bytes(),
        valid_from: d("2019-01-01"),
        valid_until: d("2035-12-31"),
        audience: Audience::Public,
        scope: vec![
            item(welder(), Level::SeniorTechnician),
            item(turner(), Level::Senior),
            item(cook(), Level::Senior),
            item(fitter(), Level::Technician),
            item(mechanic(), Level::Senior),
        ],
        direct_recognition: false,
        date: d("2019-01-01"),
    }
}

fn setup(fx: &Fx) -> Vec<SignedEvent> {
    with(fx.setup(), [fx.register(s3_registration())])
}

fn stat_of(ledger: &MemoryLedger, name: &str) -> i64 {
    ledger.stats.get(name).copied().unwrap_or(0)
}

fn kind_stat(kind: CredentialKind, what: &str) -> String {
    format!("{}{}.{what}", stat::KIND, kind.id())
}

// ---------------------------------------------------------------------------------------
// 职业资格证书 (qualification)
// ---------------------------------------------------------------------------------------

/// [`Fx::cert`] with a number of the Q series.
fn qualification(
    fx: &Fx,
    body: &Body,
    holder: u8,
    occupation: OccupationCode,
    level: Level,
    issued: &str,
    route: Route,
) -> LevelCertified {
    let mut certified = fx.cert(body, holder, occupation, level, issued, route);
    certified.certificate_number = CertificateNumber::compose_qualification(
        body.number,
        certified.issued.year(),
        level,
        fx.serial(),
    )
    .expect("qualification number");
    certified
}

#[test]
fn a_qualification_is_a_level_of_the_ladder_with_its_own_counters() {
    // given the ledger, when S3 issues a 焊工 职业资格证书 (初级) and, five years on, a 中级 one
    // on the level below, then both are holdings, counted per kind and as certificates
    let fx = Fx::new();
    let junior = qualification(
        &fx,
        &s3(),
        1,
        welder(),
        Level::Junior,
        "2019-03-01",
        attested(),
    );
    let junior = fx.issue(&s3(), junior);
    let (ledger, _) = check(setup(&fx), junior.clone(), Ok(()));
    let number = number_of(&junior);
    assert_eq!(number.kind(), CredentialKind::Qualification);
    assert_eq!(ledger.credentials[&number].level, Level::Junior);
    assert_eq!(ledger.persons[&subject(1)].holdings.len(), 1);
    let q = CredentialKind::Qualification;
    assert_eq!(stat_of(&ledger, &kind_stat(q, "issued")), 1);
    assert_eq!(stat_of(&ledger, &kind_stat(q, "valid")), 1);
    assert_eq!(stat_of(&ledger, &kind_stat(q, "valid.level.junior")), 1);
    assert_eq!(stat_of(&ledger, stat::ISSUED), 1);
    assert_eq!(
        stat_of(&ledger, &kind_stat(CredentialKind::SkillLevel, "issued")),
        0
    );
    let intermediate = qualification(
        &fx,
        &s3(),
        1,
        welder(),
        Level::Intermediate,
        "2023-03-01",
        prior(),
    );
    let intermediate = fx.issue(&s3(), intermediate);
    let (ledger, _) = check(
        with(setup(&fx), [junior.clone()]),
        intermediate.clone(),
        Ok(()),
    );
    assert_eq!(
        ledger.persons[&subject(1)].highest_overall(),
        Some(Level::Intermediate)
    );
    // and a revocation of a qualification is a credential revocation like any other
    let revoked = fx.by_body(
        &s3(),
        EventKind::CredentialRevoked(fx.revocation(&intermediate, "2024-01-01")),
    );
    let (ledger, _) = check(with(setup(&fx), [junior, intermediate]), revoked, Ok(()));
    assert_eq!(stat_of(&ledger, &kind_stat(q, "revoked")), 1);
    assert_eq!(stat_of(&ledger, &kind_stat(q, "valid")), 1);
}

#[test]
fn qualification_rules() {
    let fx = Fx::new();
    let only_three_levels = policy_text(
        2,
        "2024-01-01",
        &[(
            r#"levels = ["junior", "intermediate", "senior", "technician", "senior_technician"]"#,
            r#"levels = ["junior", "intermediate", "senior"]"#,
        )],
    );
    let mut wrong_level_digit = qualification(
        &fx,
        &s3(),
        1,
        welder(),
        Level::Junior,
        "2019-03-01",
        attested(),
    );
    wrong_level_digit.certificate_number =
        CertificateNumber::compose_qualification(s3().number, 2019, Level::Intermediate, 1)
            .expect("number");
    let twice = qualification(
        &fx,
        &s3(),
        1,
        welder(),
        Level::Junior,
        "2019-03-01",
        attested(),
    );
    let mut twice_again = twice.clone();
    twice_again.subject = subject(2);
    let cases: Vec<(&str, Vec<SignedEvent>, SignedEvent, &str)> = vec![
        (
            "车工 is not access-controlled",
            setup(&fx),
            fx.issue(
                &s3(),
                qualification(
                    &fx,
                    &s3(),
                    1,
                    turner(),
                    Level::Junior,
                    "2019-03-01",
                    attested(),
                ),
            ),
            "not-access-controlled",
        ),
        (
            "an enterprise (kind Y) may not issue qualifications",
            setup(&fx),
            fx.issue(
                &y_body(),
                qualification(
                    &fx,
                    &y_body(),
                    1,
                    welder(),
                    Level::Junior,
                    "2019-03-01",
                    attested(),
                ),
            ),
            "qualification-not-allowed",
        ),
        (
            "a qualification is not issued by direct recognition",
            setup(&fx),
            fx.issue(
                &s3(),
                qualification(
                    &fx,
                    &s3(),
                    1,
                    welder(),
                    Level::Junior,
                    "2019-03-01",
                    direct(),
                ),
            ),
            "qualification-not-allowed",
        ),
        (
            "the number's level digit (position 17) disagrees",
            setup(&fx),
            fx.issue(&s3(), wrong_level_digit),
            "certificate-level-mismatch",
        ),
        (
            "the same qualification number twice",
            with(setup(&fx), [fx.issue(&s3(), twice)]),
            fx.issue(&s3(), twice_again),
            "duplicate-certificate",
        ),
        (
            "a level certified under a special-ability (Z) number",
            setup(&fx),
            {
                let mut certified =
                    fx.cert(&s3(), 1, welder(), Level::Junior, "2019-03-01", attested());
                certified.certificate_number =
                    CertificateNumber::compose_special_ability(s3().number, 2019, 5)
                        .expect("number");
                fx.issue(&s3(), certified)
            },
            "certificate-kind-mismatch",
        ),
    ];
    for (what, given_events, when, code) in cases {
        eprintln!("case: {what}");
        check(given_events, when, Err(code));
    }
    // Under policy v2 (from 2024) the qualification has three levels: 技师 is refused.
    let given_events = with(setup(&fx), [fx.policy(&only_three_levels)]);
    let technician = qualification(
        &fx,
        &s3(),
        1,
        welder(),
        Level::Technician,
        "2024-03-01",
        attested(),
    );
    let (_, rejection) = check(
        given_events,
        fx.issue(&s3(), technician),
        Err("qualification-not-allowed"),
    );
    let rejection = rejection.expect("refused");
    assert_eq!(rejection.policy_version(), Some(2));
    assert!(rejection.to_string().contains("technician"), "{rejection}");
}

// ---------------------------------------------------------------------------------------
// 专项职业能力证书 (special ability)
// ---------------------------------------------------------------------------------------

fn ability(
    fx: &Fx,
    body: &Body,
    holder: u8,
    occupation: OccupationCode,
    code: &str,
    issued: &str,
) -> SpecialAbilityCertified {
    let issued = d(issued);
    SpecialAbilityCertified {
        certificate_number: CertificateNumber::compose_special_ability(
            body.number,
            issued.year(),
            fx.serial(),
        )
        .expect("special ability number"),
        subject: subject(holder),
        name_commitment: NameCommitment([holder; 32]),
        occupation,
        ability: code.to_string(),
        issued,
    }
}

fn certify_ability(fx: &Fx, body: &Body, certified: SpecialAbilityCertified) -> SignedEvent {
    fx.by_body(body, EventKind::SpecialAbilityCertified(certified))
}

const NOODLES: &str = "4-03-02-01-Z01";

#[test]
fn a_special_ability_is_never_a_level() {
    // given the ledger, when S3 certifies 重庆小面制作 for subject 1, then it is in the career
    // record and the kind's counters, not in the holdings or the holder and level counters
    let fx = Fx::new();
    let certified = certify_ability(
        &fx,
        &s3(),
        ability(&fx, &s3(), 1, cook(), NOODLES, "2024-05-01"),
    );
    let number = match &certified.event.kind {
        EventKind::SpecialAbilityCertified(c) => c.certificate_number,
        _ => unreachable!(),
    };
    let (ledger, _) = check(setup(&fx), certified.clone(), Ok(()));
    assert_eq!(ledger.special_abilities[&number].ability, NOODLES);
    assert!(ledger.credentials.is_empty());
    assert!(!ledger.persons.contains_key(&subject(1)));
    let career = &ledger.careers[&subject(1)];
    assert_eq!(career.special_abilities.len(), 1);
    assert_eq!(career.special_abilities[0].certificate_number, number);
    let z = CredentialKind::SpecialAbility;
    assert_eq!(stat_of(&ledger, &kind_stat(z, "issued")), 1);
    assert_eq!(stat_of(&ledger, &kind_stat(z, "valid")), 1);
    assert_eq!(stat_of(&ledger, stat::ISSUED), 0);
    assert_eq!(stat_of(&ledger, stat::HOLDERS), 0);
    // when the issuer revokes it, then it is revoked in both places and counted so
    let revocation = skill_ledger_domain::CredentialRevoked {
        certificate_number: number,
        effective: d("2024-06-01"),
        reason: "考核作弊, 经核查撤销".to_string(),
    };
    let revoked = fx.by_body(&s3(), EventKind::CredentialRevoked(revocation.clone()));
    let (ledger, _) = check(
        with(setup(&fx), [certified.clone()]),
        revoked.clone(),
        Ok(()),
    );
    assert!(matches!(
        ledger.special_abilities[&number].status,
        CredentialStatus::Revoked { .. }
    ));
    assert!(!ledger.careers[&subject(1)].special_abilities[0].is_valid());
    assert_eq!(stat_of(&ledger, &kind_stat(z, "revoked")), 1);
    assert_eq!(stat_of(&ledger, &kind_stat(z, "valid")), 0);
    assert_eq!(stat_of(&ledger, stat::REVOKED), 0);
    // and the revocation rules hold for it as for levels
    let by_other_body = fx.by_body(&s_body(), EventKind::CredentialRevoked(revocation.clone()));
    check(
        with(setup(&fx), [certified.clone()]),
        by_other_body,
        Err("not-issuer"),
    );
    let again = fx.by_body(&s3(), EventKind::CredentialRevoked(revocation.clone()));
    check(
        with(setup(&fx), [certified.clone(), revoked]),
        again,
        Err("already-revoked"),
    );
    let early = skill_ledger_domain::CredentialRevoked {
        effective: d("2024-04-01"),
        ..revocation.clone()
    };
    let early = fx.by_body(&s3(), EventKind::CredentialRevoked(early));
    check(
        with(setup(&fx), [certified.clone()]),
        early,
        Err("revocation-before-issue"),
    );
    let unknown = skill_ledger_domain::CredentialRevoked {
        certificate_number: CertificateNumber::compose_special_ability(s3().number, 2024, 999)
            .expect("number"),
        ..revocation
    };
    let unknown = fx.by_body(&s3(), EventKind::CredentialRevoked(unknown));
    check(
        with(setup(&fx), [certified]),
        unknown,
        Err("unknown-credential"),
    );
}

#[test]
fn special_ability_rules() {
    let fx = Fx::new();
    let twice = ability(&fx, &s3(), 1, cook(), NOODLES, "2024-05-01");
    let mut year_off = ability(&fx, &s3(), 1, cook(), NOODLES, "2024-05-01");
    year_off.certificate_number =
        CertificateNumber::compose_special_ability(s3().number, 2023, 77).expect("number");
    let mut skill_number = ability(&fx, &s3(), 1, cook(), NOODLES, "2024-05-01");
    skill_number.certificate_number =
        CertificateNumber::compose(s3().number, 2024, Level::Junior, 78).expect("number");
    let mut too_long = ability(&fx, &s3(), 1, cook(), NOODLES, "2024-05-01");
    too_long.ability = "面".repeat(201);
    let cases: Vec<(&str, Vec<SignedEvent>, SignedEvent, &str)> = vec![
        (
            "an ability the policy does not name",
            setup(&fx),
            certify_ability(
                &fx,
                &s3(),
                ability(&fx, &s3(), 1, cook(), "4-03-02-01-Z99", "2024-05-01"),
            ),
            "unknown-special-ability",
        ),
        (
            "an ability under another occupation than the one it is listed under",
            setup(&fx),
            certify_ability(
                &fx,
                &s3(),
                ability(&fx, &s3(), 1, welder(), NOODLES, "2024-05-01"),
            ),
            "special-ability-mismatch",
        ),
        (
            "an occupation outside the body's scope (工业机器人系统运维员)",
            setup(&fx),
            certify_ability(
                &fx,
                &s3(),
                ability(&fx, &s3(), 1, robotics(), "6-31-01-10-Z01", "2024-05-01"),
            ),
            "special-ability-out-of-scope",
        ),
        (
            "the same number twice",
            with(setup(&fx), [certify_ability(&fx, &s3(), twice.clone())]),
            certify_ability(
                &fx,
                &s3(),
                SpecialAbilityCertified {
                    subject: subject(2),
                    ..twice
                },
            ),
            "duplicate-certificate",
        ),
        (
            "a number of another year",
            setup(&fx),
            certify_ability(&fx, &s3(), year_off),
            "certificate-year-mismatch",
        ),
        (
            "a skill-level number",
            setup(&fx),
            certify_ability(&fx, &s3(), skill_number),
            "certificate-kind-mismatch",
        ),
        (
            "a number of another body",
            setup(&fx),
            certify_ability(
                &fx,
                &s_body(),
                ability(&fx, &s3(), 1, cook(), NOODLES, "2024-05-01"),
            ),
            "certificate-body-mismatch",
        ),
        (
            "signed by the authority",
            setup(&fx),
            fx.by_authority(EventKind::SpecialAbilityCertified(ability(
                &fx,
                &s3(),
                1,
                cook(),
                NOODLES,
                "2024-05-01",
            ))),
            "wrong-signer",
        ),
        (
            "while the body is suspended",
            with(setup(&fx), [fx.suspend(&s3(), "2024-01-01")]),
            certify_ability(
                &fx,
                &s3(),
                ability(&fx, &s3(), 1, cook(), NOODLES, "2024-05-01"),
            ),
            "body-not-active",
        ),
        (
            "an ability code longer than 200 characters",
            setup(&fx),
            certify_ability(&fx, &s3(), too_long),
            "field-too-long",
        ),
    ];
    for (what, given_events, when, code) in cases {
        eprintln!("case: {what}");
        check(given_events, when, Err(code));
    }
}

// ---------------------------------------------------------------------------------------
// 境外技能证书比照认定 (foreign comparison)
// ---------------------------------------------------------------------------------------

const IHK: &str = "DE-IHK-Industriemechaniker";

fn foreign(version: u32, certificate_type: &str, document_id: &str) -> Route {
    Route::ForeignComparison(ForeignComparisonBasis {
        catalogue_version: version,
        certificate_type: certificate_type.to_string(),
        foreign_issuer: "IHK München und Oberbayern".to_string(),
        document_id: document_id.to_string(),
    })
}

/// A comparison signed by `body` under the id its foreign document fixes.
fn compare(body: &Body, certified: LevelCertified) -> SignedEvent {
    let Route::ForeignComparison(basis) = &certified.route else {
        panic!("not a comparison");
    };
    let id = EventId::foreign_document(&basis.certificate_type, &basis.document_id);
    SignedEvent::sign(
        ORIGIN,
        Signer::Body(body.number),
        &body.key,
        Event {
            id,
            kind: EventKind::LevelCertified(certified),
        },
    )
}

/// S3's comparison for subject `holder` of document `document` of `certificate_type` with
/// 装配钳工 `level` on `issued`, naming catalogue `version`.
fn fitter_comparison(
    fx: &Fx,
    holder: u8,
    level: Level,
    issued: &str,
    (version, certificate_type, document): (u32, &str, &str),
) -> SignedEvent {
    let route = foreign(version, certificate_type, document);
    compare(
        &s3(),
        fx.cert(&s3(), holder, fitter(), level, issued, route),
    )
}

#[test]
fn a_foreign_certificate_becomes_a_holding_by_the_catalogue_in_force() {
    // given the catalogue of policy v1, when S3 compares an IHK Industriemechaniker
    // certificate with 装配钳工 高级工, then subject 1 holds 高级工 by route foreign-comparison,
    // counted under the route and as high-skill
    let fx = Fx::new();
    let certified = fx.cert(
        &s3(),
        1,
        fitter(),
        Level::Senior,
        "2024-05-01",
        foreign(1, IHK, "IHK-2021-0042317"),
    );
    let compared = compare(&s3(), certified);
    let (ledger, _) = check(setup(&fx), compared.clone(), Ok(()));
    let holding = &ledger.persons[&subject(1)].holdings[0];
    assert_eq!(holding.route, RouteKind::ForeignComparison);
    assert_eq!(holding.level, Level::Senior);
    assert_eq!(
        stat_of(&ledger, "routes.foreign-comparison.level.senior"),
        1
    );
    assert_eq!(
        stat_of(&ledger, "certificates.valid.route.foreign-comparison"),
        1
    );
    assert_eq!(stat_of(&ledger, "holders.highest.senior"), 1);
    // and it is revocable like any credential
    let revoked = fx.by_body(
        &s3(),
        EventKind::CredentialRevoked(fx.revocation(&compared, "2024-07-01")),
    );
    let (ledger, _) = check(with(setup(&fx), [compared]), revoked, Ok(()));
    assert!(ledger.persons[&subject(1)].holdings[0].revoked);
    assert_eq!(
        stat_of(&ledger, "routes.foreign-comparison.level.senior"),
        0
    );
}

#[test]
fn foreign_comparison_rules() {
    let fx = Fx::new();
    let v2_without_ihk = policy_text(
        2,
        "2025-01-01",
        &[(
            "certificate_type = \"DE-IHK-Industriemechaniker\"",
            "certificate_type = \"DE-IHK-Industriemechaniker-2025\"",
        )],
    );
    let first = fx.cert(
        &s3(),
        1,
        fitter(),
        Level::Senior,
        "2024-05-01",
        foreign(1, IHK, "IHK-1"),
    );
    let cases: Vec<(&str, Vec<SignedEvent>, SignedEvent, &str)> = vec![
        (
            "the catalogue version named is not the one in force (v1)",
            setup(&fx),
            fitter_comparison(&fx, 1, Level::Senior, "2024-05-01", (2, IHK, "IHK-2")),
            "foreign-catalogue-version",
        ),
        (
            "a type the catalogue does not list",
            setup(&fx),
            fitter_comparison(
                &fx,
                1,
                Level::Senior,
                "2024-05-01",
                (1, "GB-CG-2850-L3", "CG-3"),
            ),
            "unknown-foreign-certificate",
        ),
        (
            "the type is no longer listed under v2 (in force at the issue date)",
            with(setup(&fx), [fx.policy(&v2_without_ihk)]),
            fitter_comparison(&fx, 1, Level::Senior, "2025-05-01", (2, IHK, "IHK-4")),
            "unknown-foreign-certificate",
        ),
        (
            "a level other than the catalogue's",
            setup(&fx),
            fitter_comparison(&fx, 1, Level::Technician, "2024-05-01", (1, IHK, "IHK-5")),
            "foreign-comparison-mismatch",
        ),
        (
            "an occupation other than the catalogue's",
            setup(&fx),
            compare(
                &s3(),
                fx.cert(
                    &s3(),
                    1,
                    welder(),
                    Level::Senior,
                    "2024-05-01",
                    foreign(1, IHK, "IHK-6"),
                ),
            ),
            "foreign-comparison-mismatch",
        ),
        (
            "an event id not derived from the document",
            setup(&fx),
            fx.issue(
                &s3(),
                fx.cert(
                    &s3(),
                    1,
                    fitter(),
                    Level::Senior,
                    "2024-05-01",
                    foreign(1, IHK, "IHK-7"),
                ),
            ),
            "foreign-document-id-mismatch",
        ),
        (
            "the same document compared again, for another person",
            with(setup(&fx), [compare(&s3(), first.clone())]),
            fitter_comparison(&fx, 2, Level::Senior, "2024-06-01", (1, IHK, "IHK-1")),
            "foreign-document-used",
        ),
        (
            "an empty document id",
            setup(&fx),
            fitter_comparison(&fx, 1, Level::Senior, "2024-05-01", (1, IHK, " ")),
            "empty-field",
        ),
        (
            "outside the body's scope (S2 has no 装配钳工)",
            setup(&fx),
            compare(
                &s_body(),
                fx.cert(
                    &s_body(),
                    1,
                    fitter(),
                    Level::Senior,
                    "2024-05-01",
                    foreign(1, IHK, "IHK-8"),
                ),
            ),
            "out-of-scope",
        ),
    ];
    for (what, given_events, when, code) in cases {
        eprintln!("case: {what}");
        check(given_events, when, Err(code));
    }
    // Under v2 the renamed row is accepted with catalogue version 2.
    let renamed = "DE-IHK-Industriemechaniker-2025";
    check(
        with(setup(&fx), [fx.policy(&v2_without_ihk)]),
        fitter_comparison(&fx, 1, Level::Senior, "2025-05-01", (2, renamed, "IHK-9")),
        Ok(()),
    );
}

// ---------------------------------------------------------------------------------------
// The policy's tables
// ---------------------------------------------------------------------------------------

#[test]
fn the_default_policy_names_every_kind() {
    let policy = Policy::from_toml(DEFAULT_POLICY_TOML).expect("default policy");
    assert_eq!(
        policy.qualification_levels(welder()).map(<[Level]>::len),
        Some(5)
    );
    assert!(policy.qualification_levels(turner()).is_none());
    assert_eq!(
        policy.special_ability(NOODLES).map(|a| a.name.as_str()),
        Some("重庆小面制作")
    );
    let row = policy.foreign_comparison(IHK).expect("IHK row");
    assert_eq!((row.occupation, row.level), (fitter(), Level::Senior));
}

#[test]
fn bad_kind_tables_are_refused_naming_the_field() {
    let cases = [
        (
            "[[special_ability]]\ncode = \"4-03-02-01-Z01\"\nname = \"重庆小面制作\"",
            "[[special_ability]]\ncode = \"4-03-02-01-Z02\"\nname = \"重庆小面制作\"",
            "special_ability[1].code",
        ),
        (
            "country = \"DE\"",
            "country = \"Germany\"",
            "foreign_comparison[0].country",
        ),
        (
            "occupation = \"6-20-03-00\"   # 装配钳工\nlevel = \"senior\"",
            "occupation = \"6-20-03-00\"\nlevel = \"principal_technician\"",
            "foreign_comparison[0].level",
        ),
        (
            r#"levels = ["junior", "intermediate", "senior", "technician", "senior_technician"]"#,
            "levels = []",
            "qualification.occupation[0].levels",
        ),
    ];
    for (from, to, field) in cases {
        let text = policy_text(1, "2019-01-01", &[(from, to)]);
        let error = Policy::from_toml(&text).expect_err("refused");
        assert!(error.to_string().contains(field), "{field}: {error}");
    }
}
