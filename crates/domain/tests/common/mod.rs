//! Shared fixtures for the domain integration tests: deterministic keys, a Chongqing ledger
//! (`skill-ledger/50`), two evaluation bodies and helpers that build signed events.
#![allow(dead_code)] // each test binary uses a different part of the fixture

use std::cell::Cell;

use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    Audience, BodyRegistered, BodyStatusChange, CatalogueAdopted, CertificateNumber,
    CredentialRevoked, EvaluationBasis, Event, EventId, EventKind, LedgerEstablished, Level,
    LevelCertified, MemoryLedger, NameCommitment, OccupationCode, PolicyAdopted, Province,
    RegistrationNumber, Route, ScopeItem, SignedEvent, Signer, SubjectId, DEFAULT_POLICY_TOML,
    SAMPLE_CATALOGUE_TOML,
};

pub use skill_ledger_domain::Date;

pub const ORIGIN: &str = "skill-ledger/50";
pub const OTHER_ORIGIN: &str = "skill-ledger/51";

/// A deterministic Ed25519 key: the seed is 32 copies of `n`.
pub fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

pub fn authority_key() -> SigningKey {
    key(1)
}

/// A calendar date from `YYYY-MM-DD`.
pub fn d(text: &str) -> Date {
    text.parse().expect("test date")
}

pub fn occupation(code: &str) -> OccupationCode {
    code.parse().expect("test occupation code")
}

/// 车工: in the Y body's scope up to 高级技师, in the S body's scope up to 高级工.
pub fn turner() -> OccupationCode {
    occupation("6-18-01-01")
}

/// 焊工: in the Y body's scope up to 技师 (work types 电焊工, 气焊工).
pub fn welder() -> OccupationCode {
    occupation("6-18-02-04")
}

/// 中式烹调师: in the catalogue, in nobody's scope.
pub fn cook() -> OccupationCode {
    occupation("4-03-02-01")
}

/// A subject pseudonym (the tests do not need real HMACs).
pub fn subject(n: u8) -> SubjectId {
    SubjectId([n; 32])
}

pub fn attested() -> Route {
    Route::Evaluation(EvaluationBasis::Attested {
        statement: "中等职业学校毕业证书 (on file)".to_string(),
    })
}

pub fn prior() -> Route {
    Route::Evaluation(EvaluationBasis::PriorLevel)
}

pub fn direct() -> Route {
    Route::DirectRecognition {
        justification: "一线岗位技术能手, 厂级评审委员会决议并公示".to_string(),
    }
}

/// An evaluation body of the fixture: its registration number and current signing key.
#[derive(Clone)]
pub struct Body {
    pub number: RegistrationNumber,
    pub key: SigningKey,
}

/// The enterprise body `Y000050000001` (direct recognition granted).
pub fn y_body() -> Body {
    Body {
        number: "Y000050000001".parse().expect("registration number"),
        key: key(2),
    }
}

/// The social organisation `S000050000002`.
pub fn s_body() -> Body {
    Body {
        number: "S000050000002".parse().expect("registration number"),
        key: key(3),
    }
}

/// Builds signed events with unique ids and certificate serials (per fixture, so each test is
/// deterministic on its own).
pub struct Fx {
    next_id: Cell<u64>,
    next_serial: Cell<u32>,
}

impl Default for Fx {
    fn default() -> Self {
        Fx::new()
    }
}

impl Fx {
    pub fn new() -> Fx {
        Fx {
            next_id: Cell::new(1),
            next_serial: Cell::new(1),
        }
    }

    pub fn id(&self) -> EventId {
        let n = self.next_id.get();
        self.next_id.set(n + 1);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&n.to_be_bytes());
        EventId(bytes)
    }

    pub fn serial(&self) -> u32 {
        let n = self.next_serial.get();
        self.next_serial.set(n + 1);
        n
    }

    /// Signs `kind` for [`ORIGIN`] under a fresh id.
    pub fn sign(&self, signer: Signer, key: &SigningKey, kind: EventKind) -> SignedEvent {
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

    pub fn by_authority(&self, kind: EventKind) -> SignedEvent {
        self.sign(Signer::Authority, &authority_key(), kind)
    }

    pub fn by_body(&self, body: &Body, kind: EventKind) -> SignedEvent {
        self.sign(Signer::Body(body.number), &body.key, kind)
    }

    pub fn establishment(&self) -> LedgerEstablished {
        LedgerEstablished {
            origin: ORIGIN.to_string(),
            province: Province::CHONGQING,
            authority_name: "重庆市人力资源和社会保障局".to_string(),
            authority_key: authority_key().verifying_key().to_bytes(),
            date: d("2019-01-01"),
        }
    }

    pub fn established(&self) -> SignedEvent {
        self.by_authority(EventKind::LedgerEstablished(self.establishment()))
    }

    pub fn catalogue(&self, toml: &str) -> SignedEvent {
        self.by_authority(EventKind::CatalogueAdopted(CatalogueAdopted {
            source_toml: toml.to_string(),
            date: d("2019-01-01"),
        }))
    }

    pub fn policy(&self, toml: &str) -> SignedEvent {
        self.by_authority(EventKind::PolicyAdopted(PolicyAdopted {
            source_toml: toml.to_string(),
            date: d("2019-01-01"),
        }))
    }

    /// The registration of the Y body: 车工 up to 高级技师, 焊工 up to 技师, 2019–2040.
    pub fn y_registration(&self) -> BodyRegistered {
        BodyRegistered {
            registration_number: y_body().number,
            name: "重庆某机械制造有限公司".to_string(),
            public_key: y_body().key.verifying_key().to_bytes(),
            valid_from: d("2019-01-01"),
            valid_until: d("2040-12-31"),
            audience: Audience::OwnStaff,
            scope: vec![
                ScopeItem {
                    occupation: turner(),
                    level_max: Level::SeniorTechnician,
                },
                ScopeItem {
                    occupation: welder(),
                    level_max: Level::Technician,
                },
            ],
            direct_recognition: true,
            date: d("2019-01-01"),
        }
    }

    /// The registration of the S body: 车工 up to 高级工, 2019–2035.
    pub fn s_registration(&self) -> BodyRegistered {
        BodyRegistered {
            registration_number: s_body().number,
            name: "重庆某职业技能培训评价中心".to_string(),
            public_key: s_body().key.verifying_key().to_bytes(),
            valid_from: d("2019-01-01"),
            valid_until: d("2035-12-31"),
            audience: Audience::Public,
            scope: vec![ScopeItem {
                occupation: turner(),
                level_max: Level::Senior,
            }],
            direct_recognition: false,
            date: d("2019-01-01"),
        }
    }

    pub fn register(&self, registration: BodyRegistered) -> SignedEvent {
        self.by_authority(EventKind::BodyRegistered(registration))
    }

    /// Ledger, sample catalogue, default policy, the Y body and the S body.
    pub fn setup(&self) -> Vec<SignedEvent> {
        vec![
            self.established(),
            self.catalogue(SAMPLE_CATALOGUE_TOML),
            self.policy(DEFAULT_POLICY_TOML),
            self.register(self.y_registration()),
            self.register(self.s_registration()),
        ]
    }

    /// A credential of `body` with a fresh serial and a number that matches year and level.
    pub fn cert(
        &self,
        body: &Body,
        holder: u8,
        occupation: OccupationCode,
        level: Level,
        issued: &str,
        route: Route,
    ) -> LevelCertified {
        let issued = d(issued);
        let number = CertificateNumber::compose(body.number, issued.year(), level, self.serial())
            .expect("certifiable level");
        LevelCertified {
            certificate_number: number,
            subject: subject(holder),
            name_commitment: NameCommitment([holder; 32]),
            occupation,
            work_type: None,
            level,
            issued,
            route,
        }
    }

    /// `body` certifies `level` in `occupation` for subject `holder`.
    pub fn certify(
        &self,
        body: &Body,
        holder: u8,
        occupation: OccupationCode,
        level: Level,
        issued: &str,
        route: Route,
    ) -> SignedEvent {
        let certified = self.cert(body, holder, occupation, level, issued, route);
        self.issue(body, certified)
    }

    pub fn issue(&self, body: &Body, certified: LevelCertified) -> SignedEvent {
        self.by_body(body, EventKind::LevelCertified(certified))
    }

    pub fn revocation(&self, of: &SignedEvent, effective: &str) -> CredentialRevoked {
        CredentialRevoked {
            certificate_number: number_of(of),
            effective: d(effective),
            reason: "考核作弊, 经核查撤销".to_string(),
        }
    }

    pub fn status(&self, body: &Body, effective: &str) -> BodyStatusChange {
        BodyStatusChange {
            registration_number: body.number,
            effective: d(effective),
            reason: "动态调整: 以案示警".to_string(),
        }
    }

    pub fn suspend(&self, body: &Body, effective: &str) -> SignedEvent {
        self.by_authority(EventKind::BodySuspended(self.status(body, effective)))
    }

    pub fn reinstate(&self, body: &Body, effective: &str) -> SignedEvent {
        self.by_authority(EventKind::BodyReinstated(self.status(body, effective)))
    }

    pub fn cancel(&self, body: &Body, effective: &str) -> SignedEvent {
        self.by_authority(EventKind::BodyCancelled(self.status(body, effective)))
    }
}

/// The certificate number of a `LevelCertified` event.
pub fn number_of(signed: &SignedEvent) -> CertificateNumber {
    match &signed.event.kind {
        EventKind::LevelCertified(certified) => certified.certificate_number,
        other => panic!("not a certification: {}", other.name()),
    }
}

/// Submits every event, asserting each is accepted.
pub fn given(events: Vec<SignedEvent>) -> MemoryLedger {
    let mut ledger = MemoryLedger::default();
    for (index, signed) in events.into_iter().enumerate() {
        let name = signed.event.kind.name();
        if let Err(rejection) = ledger.submit(signed) {
            panic!(
                "given event {index} ({name}) was refused: {} ({rejection})",
                rejection.code()
            );
        }
    }
    ledger
}

// ---------------------------------------------------------------------------------------
// The other routes up the ladder (issue 5)
// ---------------------------------------------------------------------------------------

pub use skill_ledger_domain::{AppointmentBasis, AppointmentEndReason, ContestTier, TitleLevel};

/// The id of a signed event: what the route events name each other by.
pub fn id_of(signed: &SignedEvent) -> EventId {
    signed.event.id
}

pub fn by_contest(result: &SignedEvent) -> Route {
    Route::Contest {
        result: result.event.id,
    }
}

pub fn by_conversion(title: &SignedEvent) -> Route {
    Route::Conversion {
        title: title.event.id,
    }
}

pub fn by_apprenticeship(started: &SignedEvent) -> Route {
    Route::Evaluation(EvaluationBasis::Apprenticeship {
        apprenticeship: started.event.id,
    })
}

impl Fx {
    /// The authority registers a contest in 车工 and 焊工, held on `date`.
    pub fn contest(&self, tier: ContestTier, date: &str) -> SignedEvent {
        self.by_authority(EventKind::ContestRegistered(
            skill_ledger_domain::ContestRegistered {
                name: format!("{}职业技能大赛 {date}", tier.name_zh()),
                tier,
                occupations: vec![turner(), welder()],
                date: d(date),
            },
        ))
    }

    pub fn result(
        &self,
        contest: &SignedEvent,
        holder: u8,
        occupation: OccupationCode,
        rank: u16,
        date: &str,
    ) -> SignedEvent {
        self.by_authority(EventKind::ContestResultRecorded(
            skill_ledger_domain::ContestResultRecorded {
                contest: contest.event.id,
                subject: subject(holder),
                occupation,
                rank,
                award: format!("第{rank}名"),
                date: d(date),
            },
        ))
    }

    pub fn apprenticeship(
        &self,
        body: &Body,
        holder: u8,
        occupation: OccupationCode,
        started: &str,
    ) -> SignedEvent {
        self.by_body(
            body,
            EventKind::ApprenticeshipStarted(skill_ledger_domain::ApprenticeshipStarted {
                subject: subject(holder),
                occupation,
                started: d(started),
            }),
        )
    }

    pub fn completion(
        &self,
        body: &Body,
        started: &SignedEvent,
        holder: u8,
        completed: &str,
    ) -> SignedEvent {
        self.by_body(
            body,
            EventKind::ApprenticeshipCompleted(skill_ledger_domain::ApprenticeshipCompleted {
                apprenticeship: started.event.id,
                subject: subject(holder),
                completed: d(completed),
            }),
        )
    }

    pub fn right(&self, body: &Body, levels: &[Level], effective: &str) -> SignedEvent {
        self.by_authority(EventKind::AppointmentRightGranted(
            skill_ledger_domain::AppointmentRightGranted {
                registration_number: body.number,
                levels: levels.to_vec(),
                effective: d(effective),
            },
        ))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn appointment(
        &self,
        body: &Body,
        holder: u8,
        occupation: OccupationCode,
        level: Level,
        term_start: &str,
        term_end: &str,
        basis: AppointmentBasis,
    ) -> SignedEvent {
        self.by_body(
            body,
            EventKind::AppointmentMade(skill_ledger_domain::AppointmentMade {
                subject: subject(holder),
                occupation,
                level,
                term_start: d(term_start),
                term_end: d(term_end),
                basis,
                review: "企业技能人才评价委员会评审, 公示5个工作日无异议".to_string(),
            }),
        )
    }

    pub fn appointment_end(
        &self,
        appointment: &SignedEvent,
        holder: u8,
        effective: &str,
        reason: AppointmentEndReason,
    ) -> EventKind {
        self.appointment_end_of(appointment.event.id, holder, effective, reason)
    }

    pub fn appointment_end_of(
        &self,
        appointment: EventId,
        holder: u8,
        effective: &str,
        reason: AppointmentEndReason,
    ) -> EventKind {
        EventKind::AppointmentEnded(skill_ledger_domain::AppointmentEnded {
            appointment,
            subject: subject(holder),
            effective: d(effective),
            reason,
            note: "聘期管理".to_string(),
        })
    }

    pub fn title(&self, holder: u8, title: TitleLevel, field: &str, obtained: &str) -> SignedEvent {
        self.by_authority(EventKind::TitleRecorded(
            skill_ledger_domain::TitleRecorded {
                subject: subject(holder),
                title,
                series: "工程技术".to_string(),
                field: field.to_string(),
                obtained: d(obtained),
            },
        ))
    }

    pub fn eligibility(
        &self,
        holder: u8,
        basis: &SignedEvent,
        title: TitleLevel,
        field: &str,
        date: &str,
    ) -> SignedEvent {
        self.by_authority(EventKind::TitleEligibilityGranted(
            skill_ledger_domain::TitleEligibilityGranted {
                subject: subject(holder),
                basis: number_of(basis),
                title,
                series: "工程技术".to_string(),
                field: field.to_string(),
                date: d(date),
            },
        ))
    }
}

/// The one assertion of this file: after `given` (each accepted), `when` has the outcome
/// `then` (`Err` holds the rejection code). A rejected event must leave the ledger exactly as
/// it was; an accepted one must append one entry and keep the ledger equal to its own replay.
/// Returns the ledger after `when` and the rejection, for tests that look closer.
pub fn check(
    given_events: Vec<SignedEvent>,
    when: SignedEvent,
    then: Result<(), &str>,
) -> (MemoryLedger, Option<skill_ledger_domain::Rejection>) {
    let mut ledger = given(given_events);
    let before = ledger.clone();
    let name = when.event.kind.name();
    match (ledger.submit(when), then) {
        (Ok(index), Ok(())) => {
            assert_eq!(index, before.entries.len() as u64);
            assert_eq!(ledger.entries.len(), before.entries.len() + 1);
            assert_eq!(
                MemoryLedger::fold(&ledger.entries),
                ledger,
                "replay differs"
            );
            (ledger, None)
        }
        (Err(rejection), Err(code)) => {
            assert_eq!(
                rejection.code(),
                code,
                "{name} refused for another reason: {rejection}"
            );
            assert!(!rejection.to_string().is_empty());
            assert_eq!(ledger, before, "a refused {name} changed the ledger");
            (ledger, Some(rejection))
        }
        (Ok(_), Err(code)) => panic!("{name} was accepted, expected {code}"),
        (Err(rejection), Ok(())) => panic!(
            "{name} was refused, expected acceptance: {} ({rejection})",
            rejection.code()
        ),
    }
}

pub fn with(
    mut events: Vec<SignedEvent>,
    more: impl IntoIterator<Item = SignedEvent>,
) -> Vec<SignedEvent> {
    events.extend(more);
    events
}

/// The default policy as version `version`, effective `effective`, with `(from, to)` edits.
pub fn policy_text(version: u32, effective: &str, edits: &[(&str, &str)]) -> String {
    let mut text = DEFAULT_POLICY_TOML
        .replace("version = 1", &format!("version = {version}"))
        .replace(
            "effective = \"2019-01-01\"",
            &format!("effective = \"{effective}\""),
        );
    for (from, to) in edits {
        assert!(text.contains(from), "policy edit {from} does not apply");
        text = text.replace(from, to);
    }
    text
}
