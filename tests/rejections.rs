//! Every rejection code over HTTP: one `skill-ledger serve` on a fresh ledger, one signed
//! event per rule, each answered with a 422 RFC 9457 problem typed by its code, and nothing
//! stored.
//!
//! Codes covered by other black-box tests: see [`COVERED_ELSEWHERE`] (`tests/api.rs`,
//! `tests/abuse.rs`, and `tests/federation.rs` for the recognition rules, which need a
//! partner's mirror to get past admission). Codes this file submits: the table in
//! [`every_rule_refuses_its_event_over_http_and_stores_nothing`].
//!
//! Codes no signed entry can produce through a served ledger ([`UNREACHABLE`]):
//!
//! - `ledger-not-established`: only a ledger without entry 0 can answer it, and `serve` opens
//!   only a ledger made by `init`, which writes entry 0 (`LedgerEstablished`). The nearest
//!   input, a second `LedgerEstablished`, answers `ledger-already-established` (in the table).
//! - `no-catalogue`: `init` adopts a catalogue right after entry 0 and a catalogue is never
//!   removed. The nearest input, a registration whose scope names an occupation outside the
//!   catalogue, answers `unknown-occupation` (in the table).
//!
//! `malformed` and `bad-certificate-number` are reachable: the entry decoder does not
//! validate identifiers, so an event carrying a malformed one is built by editing the bytes
//! of a well-formed entry, decoding them, and signing the decoded event again.

mod support;

use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    AppointmentBasis, AppointmentEndReason, AppointmentEnded, AppointmentMade,
    AppointmentRightGranted, ApprenticeshipCompleted, ApprenticeshipStarted, Audience,
    AuthorityKeyRotated, AuthorityRecoveryKeySet, BodyKeyRevoked, BodyKeyRotated, BodyRegistered,
    BodyStatusChange, CatalogueAdopted, CertificateNumber, ContestRegistered,
    ContestResultRecorded, ContestTier, CredentialRevoked, Date, EvaluationBasis, Event, EventId,
    EventKind, ForeignComparisonBasis, LedgerEstablished, Level, LevelCertified, NameCommitment,
    OccupationCode, PolicyAdopted, Province, RegistrationNumber, Rejection, Route, ScopeItem,
    SignedEvent, Signer, SpecialAbilityCertified, SubjectId, TitleLevel, TitleRecorded,
    DEFAULT_POLICY_TOML, NAME_CHARS_MAX, SAMPLE_CATALOGUE_TOML,
};
use std::cell::Cell;
use support::{
    get, given_ledger_with_a_body, read_key, serve_with, submit, Ledger, Served, BODY, ORIGIN,
};

/// Rejection codes exercised over HTTP by `tests/api.rs`, `tests/abuse.rs` and
/// `tests/federation.rs` (`recognition-*`, `duplicate-recognition`).
const COVERED_ELSEWHERE: &[&str] = &[
    "already-revoked",
    "bad-signature",
    "body-not-active",
    "certificate-body-mismatch",
    "dated-too-far-back",
    "certificate-level-mismatch",
    "certificate-year-mismatch",
    "dated-in-future",
    "duplicate-certificate",
    "duplicate-event-id",
    "duplicate-recognition",
    "key-not-valid-at-date",
    "level-not-reachable",
    // A ledger made by `init` always has a recovery key (crates/domain/tests/authority_key.rs).
    "no-recovery-key",
    "out-of-scope",
    "province-mismatch",
    "recognition-not-active",
    "recognition-not-allowed",
    "recognition-occupation-mismatch",
    "recognition-of-home-credential",
    "unknown-body",
    "unknown-credential",
    "wrong-signer",
];

/// Rejection codes no signed entry can produce through a served ledger (module docs).
const UNREACHABLE: &[&str] = &["ledger-not-established", "no-catalogue"];

/// A second enterprise, registered over HTTP: direct recognition granted, 车工 up to 高级技师,
/// window 2018 to 2025 (registered 2019-01-01, so its key is valid from 2018-01-01, before
/// any policy is in force).
const OTHER: &str = "Y000050000002";
/// A third enterprise, never registered: the registrations in the table name it.
const THIRD: &str = "Y000050000003";
/// A fourth enterprise, registered like [`OTHER`], whose key the setup declares compromised.
const FOURTH: &str = "Y000050000004";
const TURNER: &str = "6-18-01-01";
/// A social organisation for the credential kinds (issue 19), registered in the setup: 车工
/// and 焊工 (access-controlled in the default policy) up to 高级技师, 中式烹调师 up to 高级工,
/// 装配钳工 up to 技师.
const KINDS: &str = "S000050000006";
const WELDER: &str = "6-18-02-04";
const COOK: &str = "4-03-02-01";
const FITTER: &str = "6-20-03-00";
const IHK: &str = "DE-IHK-Industriemechaniker";
/// The holder of the one credential the setup issues (初级工, 2020-06-01, by [`BODY`]).
const HOLDER: SubjectId = SubjectId([0xa1; 32]);

/// A valid encoding of a small-order (weak) public key: the identity point.
const IDENTITY_KEY: [u8; 32] = {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    bytes
};

fn date(text: &str) -> Date {
    text.parse().expect("a date")
}

fn attested() -> Route {
    Route::Evaluation(EvaluationBasis::Attested {
        statement: "本职业工作满1年".to_string(),
    })
}

fn direct() -> Route {
    Route::DirectRecognition {
        justification: "一线岗位技术能手, 厂级评审委员会决议并公示".to_string(),
    }
}

fn prior() -> Route {
    Route::Evaluation(EvaluationBasis::PriorLevel)
}

/// Replaces the one occurrence of `from` in `bytes` by `to` (same length).
fn replace_once(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let found: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, window)| *window == from)
        .map(|(at, _)| at)
        .collect();
    assert_eq!(found.len(), 1, "{:?} occurs {} times", from, found.len());
    bytes[found[0]..found[0] + to.len()].copy_from_slice(to);
}

/// The served ledger, the keys that sign on it, and fresh event ids and serials.
struct Fixture {
    ledger: Ledger,
    served: Served,
    other_key: SigningKey,
    fourth_key: SigningKey,
    kinds_key: SigningKey,
    next_id: Cell<u64>,
    next_serial: Cell<u32>,
}

impl Fixture {
    fn address(&self) -> &str {
        &self.served.address
    }

    fn id(&self) -> EventId {
        let n = self.next_id.get();
        self.next_id.set(n + 1);
        let mut id = [0xc0; 16];
        id[..8].copy_from_slice(&n.to_be_bytes());
        EventId(id)
    }

    fn sign(&self, signer: Signer, key: &SigningKey, kind: EventKind) -> SignedEvent {
        SignedEvent::sign(
            ORIGIN,
            signer,
            key,
            Event {
                id: self.id(),
                kind,
            },
        )
    }

    fn by_authority(&self, kind: EventKind) -> SignedEvent {
        self.sign(Signer::Authority, &self.ledger.authority_key, kind)
    }

    fn key_revocation(&self, body: &str, public_key: [u8; 32]) -> BodyKeyRevoked {
        BodyKeyRevoked {
            registration_number: body.parse().expect("registration number"),
            public_key,
            date: date("2021-03-01"),
            reason: "私钥被盗, 报案登记".to_string(),
        }
    }

    fn by_body(&self, kind: EventKind) -> SignedEvent {
        self.sign(
            Signer::Body(BODY.parse().expect("registration number")),
            &self.ledger.body_key,
            kind,
        )
    }

    fn by_kinds(&self, kind: EventKind) -> SignedEvent {
        self.sign(
            Signer::Body(KINDS.parse().expect("registration number")),
            &self.kinds_key,
            kind,
        )
    }

    /// A level of [`KINDS`] in `occupation`: a qualification (Q number) or a skill level.
    fn kinds_cert(
        &self,
        occupation: &str,
        level: Level,
        issued: &str,
        route: Route,
        qualification: bool,
    ) -> LevelCertified {
        let mut certified = self.cert(KINDS, self.stranger(), level, issued, route);
        certified.occupation = occupation.parse().expect("occupation");
        if qualification {
            certified.certificate_number = CertificateNumber::compose_qualification(
                KINDS.parse().expect("registration number"),
                certified.issued.year(),
                level,
                self.next_serial.replace(self.next_serial.get() + 1),
            )
            .expect("qualification number");
        }
        certified
    }

    /// A 专项职业能力证书 of [`KINDS`], dated 2023-06-01.
    fn ability(&self, occupation: &str, ability: &str) -> EventKind {
        EventKind::SpecialAbilityCertified(SpecialAbilityCertified {
            certificate_number: CertificateNumber::compose_special_ability(
                KINDS.parse().expect("registration number"),
                2023,
                self.next_serial.replace(self.next_serial.get() + 1),
            )
            .expect("special ability number"),
            subject: self.stranger(),
            name_commitment: NameCommitment([7; 32]),
            occupation: occupation.parse().expect("occupation"),
            ability: ability.to_string(),
            issued: date("2023-06-01"),
        })
    }

    /// A foreign comparison by [`KINDS`] of document `document` of `certificate_type` with
    /// 装配钳工 `level` on 2023-06-01, under the id the document fixes.
    fn comparison(
        &self,
        version: u32,
        certificate_type: &str,
        document: &str,
        level: Level,
    ) -> SignedEvent {
        let route = Route::ForeignComparison(ForeignComparisonBasis {
            catalogue_version: version,
            certificate_type: certificate_type.to_string(),
            foreign_issuer: "IHK München und Oberbayern".to_string(),
            document_id: document.to_string(),
        });
        let certified = self.kinds_cert(FITTER, level, "2023-06-01", route, false);
        SignedEvent::sign(
            ORIGIN,
            Signer::Body(KINDS.parse().expect("registration number")),
            &self.kinds_key,
            Event {
                id: EventId::foreign_document(certificate_type, document),
                kind: EventKind::LevelCertified(certified),
            },
        )
    }

    fn by_other(&self, kind: EventKind) -> SignedEvent {
        self.sign(
            Signer::Body(OTHER.parse().expect("registration number")),
            &self.other_key,
            kind,
        )
    }

    /// A certification by `body` of `level` in 车工, numbered to match year and level.
    fn cert(
        &self,
        body: &str,
        subject: SubjectId,
        level: Level,
        issued: &str,
        route: Route,
    ) -> LevelCertified {
        let issued = date(issued);
        let number = CertificateNumber::compose(
            body.parse().expect("registration number"),
            issued.year(),
            level,
            self.next_serial.replace(self.next_serial.get() + 1),
        )
        .expect("certifiable level");
        LevelCertified {
            certificate_number: number,
            subject,
            name_commitment: NameCommitment([7; 32]),
            occupation: TURNER.parse().expect("occupation"),
            work_type: None,
            level,
            issued,
            route,
        }
    }

    /// A new holder for each call, so only the rule under test can refuse.
    fn stranger(&self) -> SubjectId {
        let mut subject = [0x5b; 32];
        subject[..4].copy_from_slice(&self.next_serial.get().to_be_bytes());
        SubjectId(subject)
    }

    fn registration(&self, number: &str, key: [u8; 32]) -> BodyRegistered {
        BodyRegistered {
            registration_number: number.parse().expect("registration number"),
            name: "重庆测试职业技能评价中心".to_string(),
            public_key: key,
            valid_from: date("2018-01-01"),
            valid_until: date("2025-12-31"),
            audience: Audience::Public,
            scope: vec![ScopeItem {
                occupation: TURNER.parse().expect("occupation"),
                level_max: Level::SeniorTechnician,
            }],
            direct_recognition: true,
            date: date("2019-01-01"),
        }
    }

    fn third(&self) -> BodyRegistered {
        self.registration(
            THIRD,
            SigningKey::from_bytes(&[43; 32]).verifying_key().to_bytes(),
        )
    }

    fn status(&self, body: &str, effective: &str) -> BodyStatusChange {
        BodyStatusChange {
            registration_number: body.parse().expect("registration number"),
            effective: date(effective),
            reason: "动态调整: 以案示警".to_string(),
        }
    }

    fn revocation(&self, number: CertificateNumber, effective: &str) -> CredentialRevoked {
        CredentialRevoked {
            certificate_number: number,
            effective: date(effective),
            reason: "考试作弊".to_string(),
        }
    }

    fn establishment(&self, origin: &str) -> EventKind {
        EventKind::LedgerEstablished(LedgerEstablished {
            origin: origin.to_string(),
            province: Province::CHONGQING,
            authority_name: "重庆市人力资源和社会保障局".to_string(),
            authority_key: self.ledger.authority_key.verifying_key().to_bytes(),
            date: date("2019-01-01"),
        })
    }

    /// `signed` with `from` replaced by `to` in its event bytes, signed again by `key`: the
    /// only way to submit an identifier that does not parse.
    fn edited(
        &self,
        signed: &SignedEvent,
        from: &[u8],
        to: &[u8],
        key: &SigningKey,
    ) -> SignedEvent {
        let mut entry = signed.to_entry().expect("entry encodes");
        replace_once(&mut entry, from, to);
        let decoded = SignedEvent::from_entry(&entry).expect("the decoder takes the bytes");
        SignedEvent::sign(ORIGIN, decoded.signer, key, decoded.event)
    }

    fn appointment_end(&self, appointment: EventId, effective: &str) -> EventKind {
        EventKind::AppointmentEnded(AppointmentEnded {
            appointment,
            subject: P4,
            effective: date(effective),
            reason: AppointmentEndReason::LeftPost,
            note: "调离".to_string(),
        })
    }

    fn title(&self, subject: SubjectId) -> EventKind {
        EventKind::TitleRecorded(TitleRecorded {
            subject,
            title: TitleLevel::Intermediate,
            series: "工程技术".to_string(),
            field: "机械工程".to_string(),
            obtained: date("2021-01-01"),
        })
    }

    fn accept(&self, what: &str, signed: &SignedEvent) {
        let reply = submit(self.address(), signed);
        assert_eq!(reply.status, 200, "{what}: {}", reply.text());
    }
}

fn policy_v2_direct_up_to_technician() -> String {
    let text = DEFAULT_POLICY_TOML
        .replace("version = 1", "version = 2")
        .replace("effective = \"2019-01-01\"", "effective = \"2023-01-01\"")
        .replace(
            "level_max = \"senior_technician\"",
            "level_max = \"technician\"",
        );
    assert!(text.contains("version = 2") && text.contains("\"2023-01-01\""));
    assert!(text.contains("level_max = \"technician\""));
    text
}

fn tree_size(address: &str) -> u64 {
    let health = get(address, "/healthz");
    assert_eq!(health.status, 200, "{}", health.text());
    health.json()["tree_size"].as_u64().expect("tree size")
}

/// Given the ledger of `given_ledger_with_a_body`, served, plus (over HTTP) body
/// [`OTHER`], [`HOLDER`]'s 初级工 from [`BODY`] and policy v2 (from 2023-01-01 direct
/// recognition goes up to 技师 only).
/// What the route cases of the table name, made by [`given_a_served_ledger`] over HTTP.
struct RouteSetup {
    /// A national contest in 车工 (2022-05-01) and a city contest (2022-07-01).
    contest: EventId,
    /// [`P1`]'s 3rd place in `contest`, promoted to 技师 on 2022-06-01.
    result: EventId,
    /// [`P1`]'s 1st place in the city contest, not promoted.
    second_result: EventId,
    /// [`P2`]'s apprenticeship with [`BODY`], 2021-01-01 to 2022-01-01 (completed).
    completed: EventId,
    /// [`P3`]'s apprenticeship with [`BODY`] from 2022-03-01 (open).
    open: EventId,
    /// [`P4`]'s 特级技师 post with [`BODY`], 2024-06-01 to 2027-06-01, ended 2025-01-01.
    appointment: EventId,
    /// [`P5`]'s 工程师 (工程技术/机械工程) of 2021-01-01.
    title: EventId,
    /// The city contest (not joint with any partner's).
    city: EventId,
}

const P1: SubjectId = SubjectId([0xc1; 32]);
const P2: SubjectId = SubjectId([0xc2; 32]);
const P3: SubjectId = SubjectId([0xc3; 32]);
const P4: SubjectId = SubjectId([0xc4; 32]);
const P5: SubjectId = SubjectId([0xc5; 32]);

fn joint_with_sichuan(contest: EventId) -> EventKind {
    EventKind::ContestJoined(skill_ledger_domain::ContestJoined {
        contest,
        partner_origin: "skill-ledger/51".to_string(),
        partner_contest: EventId([0x51; 16]),
        date: date("2022-04-01"),
    })
}

/// The events of the other routes the table's cases build on (each accepted over HTTP).
fn given_the_other_routes(fx: &Fixture) -> RouteSetup {
    let turner: OccupationCode = TURNER.parse().expect("occupation");
    let body: RegistrationNumber = BODY.parse().expect("registration number");
    let accept = |what: &str, signed: SignedEvent| {
        fx.accept(what, &signed);
        signed.event.id
    };
    let contest_of = |tier, held: &str| {
        EventKind::ContestRegistered(ContestRegistered {
            name: "全国职业技能大赛".to_string(),
            tier,
            occupations: vec![turner],
            date: date(held),
        })
    };
    let contest = accept(
        "contest",
        fx.by_authority(contest_of(ContestTier::National, "2022-05-01")),
    );
    let city = accept(
        "city contest",
        fx.by_authority(contest_of(ContestTier::City, "2022-07-01")),
    );
    let result_of = |contest, rank, day: &str| {
        EventKind::ContestResultRecorded(ContestResultRecorded {
            contest,
            subject: P1,
            occupation: turner,
            rank,
            award: "奖".to_string(),
            date: date(day),
        })
    };
    let result = accept(
        "result",
        fx.by_authority(result_of(contest, 3, "2022-05-02")),
    );
    let second_result = accept(
        "second result",
        fx.by_authority(result_of(city, 1, "2022-07-02")),
    );
    let promotion = fx.cert(
        BODY,
        P1,
        Level::Technician,
        "2022-06-01",
        Route::Contest { result },
    );
    accept(
        "promotion",
        fx.by_body(EventKind::LevelCertified(promotion)),
    );
    let start = |subject, day: &str| {
        EventKind::ApprenticeshipStarted(ApprenticeshipStarted {
            subject,
            occupation: turner,
            started: date(day),
        })
    };
    let completed = accept("apprenticeship", fx.by_body(start(P2, "2021-01-01")));
    let completion = EventKind::ApprenticeshipCompleted(ApprenticeshipCompleted {
        apprenticeship: completed,
        subject: P2,
        completed: date("2022-01-01"),
    });
    accept("completion", fx.by_body(completion));
    let open = accept("open apprenticeship", fx.by_body(start(P3, "2022-03-01")));
    accept(
        "appointment right",
        fx.by_authority(EventKind::AppointmentRightGranted(
            AppointmentRightGranted {
                registration_number: body,
                levels: vec![Level::PrincipalTechnician],
                effective: date("2020-01-01"),
            },
        )),
    );
    let senior_technician = fx.cert(OTHER, P4, Level::SeniorTechnician, "2020-06-01", direct());
    let basis = senior_technician.certificate_number;
    accept(
        "高级技师",
        fx.by_other(EventKind::LevelCertified(senior_technician)),
    );
    let appointment = accept(
        "特级技师",
        fx.by_body(EventKind::AppointmentMade(AppointmentMade {
            subject: P4,
            occupation: turner,
            level: Level::PrincipalTechnician,
            term_start: date("2024-06-01"),
            term_end: date("2027-06-01"),
            basis: AppointmentBasis::Credential(basis),
            review: "评审并公示".to_string(),
        })),
    );
    accept(
        "end of the post",
        fx.by_body(fx.appointment_end(appointment, "2025-01-01")),
    );
    let title = accept("title", fx.by_authority(fx.title(P5)));
    // 赛项共定 (issue 6): the national contest is joint with one of Sichuan's.
    accept(
        "joint contest",
        fx.by_authority(joint_with_sichuan(contest)),
    );
    RouteSetup {
        city,
        contest,
        result,
        second_result,
        completed,
        open,
        appointment,
        title,
    }
}

fn given_a_served_ledger() -> (Fixture, CertificateNumber) {
    let ledger = given_ledger_with_a_body();
    let stderr = ledger.temp.path().join("serve.stderr");
    let served = serve_with(&ledger.dir, &[], &stderr);
    let fx = Fixture {
        ledger,
        served,
        other_key: SigningKey::from_bytes(&[42; 32]),
        fourth_key: SigningKey::from_bytes(&[45; 32]),
        kinds_key: SigningKey::from_bytes(&[48; 32]),
        next_id: Cell::new(1),
        next_serial: Cell::new(1),
    };
    let other = fx.registration(OTHER, fx.other_key.verifying_key().to_bytes());
    fx.accept(
        "register OTHER",
        &fx.by_authority(EventKind::BodyRegistered(other)),
    );
    let fourth = fx.registration(FOURTH, fx.fourth_key.verifying_key().to_bytes());
    fx.accept(
        "register FOURTH",
        &fx.by_authority(EventKind::BodyRegistered(fourth)),
    );
    fx.accept(
        "revoke FOURTH's key",
        &fx.by_authority(EventKind::BodyKeyRevoked(
            fx.key_revocation(FOURTH, fx.fourth_key.verifying_key().to_bytes()),
        )),
    );
    let mut kinds = fx.registration(KINDS, fx.kinds_key.verifying_key().to_bytes());
    kinds.direct_recognition = false;
    kinds.scope = [
        (TURNER, Level::SeniorTechnician),
        (WELDER, Level::SeniorTechnician),
        (COOK, Level::Senior),
        (FITTER, Level::Technician),
    ]
    .into_iter()
    .map(|(occupation, level_max)| ScopeItem {
        occupation: occupation.parse().expect("occupation"),
        level_max,
    })
    .collect();
    fx.accept(
        "register KINDS",
        &fx.by_authority(EventKind::BodyRegistered(kinds)),
    );
    let junior = fx.cert(BODY, HOLDER, Level::Junior, "2020-06-01", attested());
    let number = junior.certificate_number;
    fx.accept(
        "issue 初级工",
        &fx.by_body(EventKind::LevelCertified(junior)),
    );
    let policy = PolicyAdopted {
        source_toml: policy_v2_direct_up_to_technician(),
        date: date("2023-01-01"),
    };
    fx.accept(
        "adopt policy v2",
        &fx.by_authority(EventKind::PolicyAdopted(policy)),
    );
    fx.accept(
        "compare foreign document IHK-1",
        &fx.comparison(2, IHK, "IHK-1", Level::Senior),
    );
    (fx, number)
}

#[test]
fn every_rule_refuses_its_event_over_http_and_stores_nothing() {
    let (fx, junior) = given_a_served_ledger();
    let routes = given_the_other_routes(&fx);
    let body_key = &fx.ledger.body_key;
    let authority_key = &fx.ledger.authority_key;
    let register =
        |registration: BodyRegistered| fx.by_authority(EventKind::BodyRegistered(registration));
    let certify = |certified: LevelCertified| fx.by_body(EventKind::LevelCertified(certified));

    let cases: Vec<(&str, SignedEvent)> = vec![
        (
            // FOURTH's key was declared compromised in the setup: whatever the date.
            "key-revoked",
            fx.sign(
                Signer::Body(FOURTH.parse().expect("registration number")),
                &fx.fourth_key,
                EventKind::LevelCertified(fx.cert(
                    FOURTH,
                    fx.stranger(),
                    Level::Junior,
                    "2020-06-01",
                    attested(),
                )),
            ),
        ),
        (
            // A rotation to a key the node does not hold in keys/authority.next.key.
            "authority-key-not-held",
            fx.by_authority(EventKind::AuthorityKeyRotated(AuthorityKeyRotated {
                public_key: SigningKey::from_bytes(&[47; 32]).verifying_key().to_bytes(),
                date: date("2024-01-01"),
                reason: "轮换".to_string(),
            })),
        ),
        (
            // The recovery key (init wrote it) hands over to the authority key itself.
            "key-reused",
            fx.sign(
                Signer::Recovery,
                &read_key(&fx.ledger.dir.join("keys/recovery.key")),
                EventKind::AuthorityRecoveryKeySet(AuthorityRecoveryKeySet {
                    public_key: fx.ledger.authority_key.verifying_key().to_bytes(),
                    date: date("2024-01-01"),
                }),
            ),
        ),
        (
            "key-already-revoked",
            fx.by_authority(EventKind::BodyKeyRevoked(
                fx.key_revocation(FOURTH, fx.fourth_key.verifying_key().to_bytes()),
            )),
        ),
        (
            // A key OTHER never held.
            "not-a-body-key",
            fx.by_authority(EventKind::BodyKeyRevoked(fx.key_revocation(
                OTHER,
                SigningKey::from_bytes(&[46; 32]).verifying_key().to_bytes(),
            ))),
        ),
        (
            // OTHER (direct recognition granted) recognises 高级技师 under policy v2.
            "above-direct-recognition-limit",
            fx.by_other(EventKind::LevelCertified(fx.cert(
                OTHER,
                fx.stranger(),
                Level::SeniorTechnician,
                "2023-06-01",
                direct(),
            ))),
        ),
        (
            "already-holds-level",
            certify(fx.cert(BODY, HOLDER, Level::Junior, "2021-06-01", attested())),
        ),
        (
            "attested-basis-not-allowed",
            certify(fx.cert(BODY, fx.stranger(), Level::Senior, "2021-06-01", attested())),
        ),
        (
            // Level digit 0 in the number.
            "bad-certificate-number",
            fx.edited(
                &certify(fx.cert(BODY, fx.stranger(), Level::Junior, "2021-06-01", attested())),
                b"Y0000500000012150",
                b"Y0000500000012100",
                body_key,
            ),
        ),
        (
            "catalogue-version-not-increasing",
            fx.by_authority(EventKind::CatalogueAdopted(CatalogueAdopted {
                source_toml: SAMPLE_CATALOGUE_TOML.to_string(),
                date: date("2021-01-01"),
            })),
        ),
        (
            // OTHER's key starts 2018-01-01: a rotation must be strictly after it.
            "date-before-last-change",
            fx.by_authority(EventKind::BodyKeyRotated(BodyKeyRotated {
                registration_number: OTHER.parse().expect("registration number"),
                public_key: SigningKey::from_bytes(&[44; 32]).verifying_key().to_bytes(),
                effective: date("2018-01-01"),
                reason: "annual key rotation".to_string(),
            })),
        ),
        (
            // BODY was registered without the right.
            "direct-recognition-not-allowed",
            certify(fx.cert(BODY, fx.stranger(), Level::Senior, "2021-06-01", direct())),
        ),
        (
            "duplicate-body",
            register(BodyRegistered {
                registration_number: BODY.parse().expect("registration number"),
                ..fx.third()
            }),
        ),
        (
            "duplicate-scope-occupation",
            register(BodyRegistered {
                scope: vec![
                    ScopeItem {
                        occupation: TURNER.parse().expect("occupation"),
                        level_max: Level::Senior,
                    },
                    ScopeItem {
                        occupation: TURNER.parse().expect("occupation"),
                        level_max: Level::Technician,
                    },
                ],
                ..fx.third()
            }),
        ),
        (
            "empty-field",
            register(BodyRegistered {
                name: " \t ".to_string(),
                ..fx.third()
            }),
        ),
        (
            "field-too-long",
            register(BodyRegistered {
                name: "厂".repeat(NAME_CHARS_MAX + 1),
                ..fx.third()
            }),
        ),
        (
            "invalid-catalogue",
            fx.by_authority(EventKind::CatalogueAdopted(CatalogueAdopted {
                source_toml: "not = [toml".to_string(),
                date: date("2021-01-01"),
            })),
        ),
        (
            "invalid-policy",
            fx.by_authority(EventKind::PolicyAdopted(PolicyAdopted {
                source_toml: "this is not toml = = =".to_string(),
                date: date("2024-01-01"),
            })),
        ),
        (
            "invalid-validity-window",
            register(BodyRegistered {
                valid_from: date("2025-01-01"),
                valid_until: date("2025-01-01"),
                ..fx.third()
            }),
        ),
        (
            "ledger-already-established",
            fx.by_authority(fx.establishment(ORIGIN)),
        ),
        (
            "level-not-certifiable",
            fx.by_other(EventKind::LevelCertified(LevelCertified {
                level: Level::Apprentice,
                ..fx.cert(OTHER, fx.stranger(), Level::Junior, "2021-06-01", direct())
            })),
        ),
        (
            // A registration number in province 99.
            "malformed",
            fx.edited(
                &register(fx.third()),
                THIRD.as_bytes(),
                b"Y000099000003",
                authority_key,
            ),
        ),
        (
            // OTHER's key is valid from 2018-01-01; policy v1 takes effect 2019-01-01.
            "no-policy-in-force",
            fx.by_other(EventKind::LevelCertified(fx.cert(
                OTHER,
                fx.stranger(),
                Level::Junior,
                "2018-12-31",
                attested(),
            ))),
        ),
        (
            "not-issuer",
            fx.by_other(EventKind::CredentialRevoked(
                fx.revocation(junior, "2021-01-01"),
            )),
        ),
        (
            "origin-mismatch",
            fx.by_authority(fx.establishment("skill-ledger/51")),
        ),
        (
            // OTHER's window closed on 2025-12-31.
            "outside-registration-window",
            fx.by_other(EventKind::LevelCertified(fx.cert(
                OTHER,
                fx.stranger(),
                Level::Junior,
                "2026-01-02",
                attested(),
            ))),
        ),
        (
            "policy-version-not-increasing",
            fx.by_authority(EventKind::PolicyAdopted(PolicyAdopted {
                source_toml: DEFAULT_POLICY_TOML.to_string(),
                date: date("2024-01-01"),
            })),
        ),
        (
            "revocation-before-issue",
            fx.by_body(EventKind::CredentialRevoked(
                fx.revocation(junior, "2020-05-31"),
            )),
        ),
        (
            // BODY is active: nothing to reinstate.
            "status-change-not-allowed",
            fx.by_authority(EventKind::BodyReinstated(fx.status(BODY, "2022-01-01"))),
        ),
        (
            // 中级工 needs 4 full years after the 初级工 of 2020-06-01.
            "too-few-years",
            certify(fx.cert(BODY, HOLDER, Level::Intermediate, "2024-05-31", prior())),
        ),
        (
            "unknown-occupation",
            register(BodyRegistered {
                scope: vec![ScopeItem {
                    occupation: "6-18-01-09".parse().expect("occupation"),
                    level_max: Level::Senior,
                }],
                ..fx.third()
            }),
        ),
        (
            // 车工 has no work types.
            "unknown-work-type",
            certify(LevelCertified {
                work_type: Some("数控车工".to_string()),
                ..fx.cert(BODY, fx.stranger(), Level::Junior, "2021-06-01", attested())
            }),
        ),
        (
            "weak-key",
            register(BodyRegistered {
                public_key: IDENTITY_KEY,
                ..fx.third()
            }),
        ),
        // The credential kinds (issue 19), by KINDS.
        (
            // A level certified under a special-ability (Z) number.
            "certificate-kind-mismatch",
            certify(LevelCertified {
                certificate_number: CertificateNumber::compose_special_ability(
                    BODY.parse().expect("registration number"),
                    2021,
                    90,
                )
                .expect("number"),
                ..fx.cert(BODY, fx.stranger(), Level::Junior, "2021-06-01", attested())
            }),
        ),
        (
            "not-access-controlled",
            fx.by_kinds(EventKind::LevelCertified(fx.kinds_cert(
                TURNER,
                Level::Junior,
                "2023-06-01",
                attested(),
                true,
            ))),
        ),
        (
            // A qualification is issued on evaluation only.
            "qualification-not-allowed",
            fx.by_kinds(EventKind::LevelCertified(fx.kinds_cert(
                WELDER,
                Level::Junior,
                "2023-06-01",
                direct(),
                true,
            ))),
        ),
        (
            "unknown-special-ability",
            fx.by_kinds(fx.ability(COOK, "4-03-02-01-Z99")),
        ),
        (
            // 重庆小面制作 is listed under 中式烹调师.
            "special-ability-mismatch",
            fx.by_kinds(fx.ability(WELDER, "4-03-02-01-Z01")),
        ),
        (
            // 工业机器人系统运维员 is not in KINDS's scope.
            "special-ability-out-of-scope",
            fx.by_kinds(fx.ability("6-31-01-10", "6-31-01-10-Z01")),
        ),
        (
            // Policy v2 is in force on 2023-06-01.
            "foreign-catalogue-version",
            fx.comparison(1, IHK, "IHK-2", Level::Senior),
        ),
        (
            "unknown-foreign-certificate",
            fx.comparison(2, "GB-CG-2850-L3", "CG-3", Level::Senior),
        ),
        (
            "foreign-comparison-mismatch",
            fx.comparison(2, IHK, "IHK-4", Level::Technician),
        ),
        (
            // Under a random id instead of the document's.
            "foreign-document-id-mismatch",
            {
                let derived = fx.comparison(2, IHK, "IHK-5", Level::Senior);
                fx.by_kinds(derived.event.kind)
            },
        ),
        (
            // IHK-1 was compared in the setup.
            "foreign-document-used",
            fx.comparison(2, IHK, "IHK-1", Level::Senior),
        ),
        // The other routes (issue 5), on `given_the_other_routes`.
        (
            "unknown-contest",
            fx.by_authority(EventKind::ContestResultRecorded(ContestResultRecorded {
                contest: EventId([0xee; 16]),
                subject: fx.stranger(),
                occupation: TURNER.parse().expect("occupation"),
                rank: 1,
                award: "金牌".to_string(),
                date: date("2022-06-01"),
            })),
        ),
        // Joint contests (issue 6).
        (
            "contest-already-joint",
            fx.by_authority(joint_with_sichuan(routes.contest)),
        ),
        (
            // The city contest is joint with nobody: no mirror check, `decide` refuses.
            "contest-not-joint",
            fx.by_authority(EventKind::PartnerContestResultAccepted(
                skill_ledger_domain::PartnerContestResultAccepted {
                    contest: routes.city,
                    origin: "skill-ledger/51".to_string(),
                    partner_result: EventId([0x52; 16]),
                    entry_index: 9,
                    subject: fx.stranger(),
                    occupation: TURNER.parse().expect("occupation"),
                    rank: 1,
                    award: "金牌".to_string(),
                    date: date("2022-08-01"),
                },
            )),
        ),
        (
            "contest-result-not-allowed",
            fx.by_authority(EventKind::ContestResultRecorded(ContestResultRecorded {
                contest: routes.contest,
                subject: fx.stranger(),
                occupation: TURNER.parse().expect("occupation"),
                rank: 0,
                award: "金牌".to_string(),
                date: date("2022-06-01"),
            })),
        ),
        (
            // The result is P1's.
            "unknown-basis",
            certify(fx.cert(
                BODY,
                fx.stranger(),
                Level::Technician,
                "2022-06-01",
                Route::Contest {
                    result: routes.result,
                },
            )),
        ),
        (
            // A national 3rd place allows 高级技师 only to a holder of 技师 (P1's 技师 came
            // from this very result, which is promoted already).
            "contest-promotion-not-allowed",
            certify(fx.cert(
                BODY,
                P1,
                Level::SeniorTechnician,
                "2023-06-01",
                Route::Contest {
                    result: routes.result,
                },
            )),
        ),
        (
            // P1 was promoted in 2022 already.
            "contest-promotion-limit",
            certify(fx.cert(
                BODY,
                P1,
                Level::SeniorTechnician,
                "2022-08-01",
                Route::Contest {
                    result: routes.second_result,
                },
            )),
        ),
        (
            "apprenticeship-not-allowed",
            certify(fx.cert(
                BODY,
                P2,
                Level::Intermediate,
                "2022-02-01",
                Route::Evaluation(EvaluationBasis::Apprenticeship {
                    apprenticeship: routes.completed,
                }),
            )),
        ),
        (
            "apprenticeship-not-completed",
            certify(fx.cert(
                BODY,
                P3,
                Level::Junior,
                "2022-06-01",
                Route::Evaluation(EvaluationBasis::Apprenticeship {
                    apprenticeship: routes.open,
                }),
            )),
        ),
        (
            "apprenticeship-already-completed",
            fx.by_body(EventKind::ApprenticeshipCompleted(
                ApprenticeshipCompleted {
                    apprenticeship: routes.completed,
                    subject: P2,
                    completed: date("2023-01-01"),
                },
            )),
        ),
        (
            // OTHER holds no right to appoint.
            "appointment-not-allowed",
            fx.by_other(EventKind::AppointmentMade(AppointmentMade {
                subject: P4,
                occupation: TURNER.parse().expect("occupation"),
                level: Level::PrincipalTechnician,
                term_start: date("2025-02-01"),
                term_end: date("2026-02-01"),
                basis: AppointmentBasis::Credential(junior),
                review: "评审".to_string(),
            })),
        ),
        (
            // Six years, over the policy's five.
            "invalid-term",
            fx.by_body(EventKind::AppointmentMade(AppointmentMade {
                subject: HOLDER,
                occupation: TURNER.parse().expect("occupation"),
                level: Level::PrincipalTechnician,
                term_start: date("2025-02-01"),
                term_end: date("2031-02-01"),
                basis: AppointmentBasis::Credential(junior),
                review: "评审".to_string(),
            })),
        ),
        (
            // HOLDER's 初级工 is no 高级技师.
            "appointment-basis-invalid",
            fx.by_body(EventKind::AppointmentMade(AppointmentMade {
                subject: HOLDER,
                occupation: TURNER.parse().expect("occupation"),
                level: Level::PrincipalTechnician,
                term_start: date("2025-02-01"),
                term_end: date("2026-02-01"),
                basis: AppointmentBasis::Credential(junior),
                review: "评审".to_string(),
            })),
        ),
        (
            "appointment-already-ended",
            fx.by_body(fx.appointment_end(routes.appointment, "2025-02-01")),
        ),
        (
            "not-appointing-body",
            fx.by_other(fx.appointment_end(routes.appointment, "2025-02-01")),
        ),
        (
            // 工程师 converts to 技师 at most.
            "conversion-not-allowed",
            certify(fx.cert(
                BODY,
                P5,
                Level::SeniorTechnician,
                "2021-06-01",
                Route::Conversion {
                    title: routes.title,
                },
            )),
        ),
        ("already-holds-title", fx.by_authority(fx.title(P5))),
    ];

    let size = tree_size(fx.address());
    let mut failures = Vec::new();
    for (code, signed) in &cases {
        let reply = submit(fx.address(), signed);
        let outcome = std::panic::catch_unwind(|| {
            let document = reply.problem(422, code);
            let detail = document["detail"].as_str().unwrap_or_default();
            assert!(
                !detail.trim().is_empty(),
                "{code}: empty detail: {document}"
            );
        });
        if outcome.is_err() {
            failures.push(format!("{code}: {} {}", reply.status, reply.text()));
        }
    }
    assert!(
        failures.is_empty(),
        "refused otherwise:\n{}",
        failures.join("\n")
    );
    assert_eq!(tree_size(fx.address()), size, "a refused event was stored");

    // The table names each code once, and with the others covers every code.
    let covered: Vec<&str> = cases.iter().map(|(code, _)| *code).collect();
    let mut all: Vec<&str> = covered
        .iter()
        .chain(UNREACHABLE)
        .chain(COVERED_ELSEWHERE)
        .copied()
        .collect();
    all.sort_unstable();
    let listed = all.len();
    all.dedup();
    assert_eq!(all.len(), listed, "a code is listed twice");
    let mut every: Vec<&str> = Rejection::ALL_CODES.to_vec();
    every.sort_unstable();
    assert_eq!(all, every, "coverage differs from Rejection::ALL_CODES");
}
