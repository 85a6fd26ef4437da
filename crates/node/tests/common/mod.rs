//! Shared fixture of the node integration tests: a Chongqing ledger (`skill-ledger/50`) in a
//! temporary directory with two registered evaluation bodies, and helpers that build signed
//! events and reach into the ledger's files.
#![allow(dead_code)] // each test binary uses a different part of the fixture

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    Audience, BodyRegistered, CertificateNumber, CredentialRevoked, Date, EvaluationBasis, Event,
    EventId, EventKind, IdDocumentType, Level, LevelCertified, OccupationCode, PseudonymKey,
    RegistrationNumber, Route, ScopeItem, SignedEvent, Signer, SubjectId,
};
use skill_ledger_node::{InitOptions, Node, OpenReport, SubmitError};

/// Entries every new ledger starts with: established, catalogue, policy.
pub const INIT_ENTRIES: u64 = 3;
/// Bodies the fixture registers after init.
pub const REGISTRATIONS: u64 = 2;
/// Entries of a fresh fixture ledger.
pub const SETUP_ENTRIES: u64 = INIT_ENTRIES + REGISTRATIONS;

/// A calendar date from `YYYY-MM-DD`.
pub fn d(text: &str) -> Date {
    text.parse().expect("test date")
}

pub fn occupation(code: &str) -> OccupationCode {
    code.parse().expect("test occupation code")
}

/// 车工: the Y body may certify it up to 高级技师, the S body up to 高级工.
pub fn turner() -> OccupationCode {
    occupation("6-18-01-01")
}

/// 焊工: the Y body may certify it up to 技师.
pub fn welder() -> OccupationCode {
    occupation("6-18-02-04")
}

/// 中式烹调师: in the catalogue, in nobody's scope.
pub fn cook() -> OccupationCode {
    occupation("4-03-02-01")
}

pub fn attested() -> Route {
    Route::Evaluation(EvaluationBasis::Attested {
        statement: "中等职业学校毕业证书 (on file)".to_string(),
    })
}

pub fn prior() -> Route {
    Route::Evaluation(EvaluationBasis::PriorLevel)
}

/// An evaluation body: registration number and signing key (seed: 32 copies of `seed`).
#[derive(Clone)]
pub struct Body {
    pub number: RegistrationNumber,
    pub key: SigningKey,
}

/// The enterprise `Y000050000001`: 车工 up to 高级技师, 焊工 up to 技师.
pub fn y_body() -> Body {
    Body {
        number: "Y000050000001".parse().expect("registration number"),
        key: SigningKey::from_bytes(&[2; 32]),
    }
}

/// The social organisation `S000050000002`: 车工 up to 高级工.
pub fn s_body() -> Body {
    Body {
        number: "S000050000002".parse().expect("registration number"),
        key: SigningKey::from_bytes(&[3; 32]),
    }
}

pub fn registration(body: &Body, scope: Vec<ScopeItem>, audience: Audience) -> BodyRegistered {
    BodyRegistered {
        registration_number: body.number,
        name: format!("重庆某评价机构 {}", body.number),
        public_key: body.key.verifying_key().to_bytes(),
        valid_from: d("2019-01-01"),
        valid_until: d("2040-12-31"),
        audience,
        scope,
        direct_recognition: false,
        date: d("2019-01-01"),
    }
}

/// A ledger directory with its signing helpers. Counters are atomic so threads can share it.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub origin: String,
    pub pseudonym: PseudonymKey,
    next_id: AtomicU64,
    next_serial: AtomicU32,
}

impl Fixture {
    /// `Node::init` with the Chongqing defaults, then registers the Y and S bodies.
    pub fn init() -> (Fixture, Node) {
        Fixture::init_with(InitOptions::chongqing().importing_history())
    }

    /// A sequencer that waits up to `delay_ms` for a batch to fill: submissions queued
    /// together land in one batch.
    pub fn init_with_batch_delay(delay_ms: u32) -> (Fixture, Node) {
        let mut options = InitOptions::chongqing().importing_history();
        options.sequencer.batch_delay_ms_max = delay_ms;
        Fixture::init_with(options)
    }

    pub fn init_with(options: InitOptions) -> (Fixture, Node) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let node = Node::init(&dir.path().join("ledger"), options).expect("init a ledger");
        let fixture = Fixture {
            dir,
            origin: node.origin().to_string(),
            pseudonym: node.pseudonym_key().clone(),
            next_id: AtomicU64::new(1),
            next_serial: AtomicU32::new(1),
        };
        let y = registration(
            &y_body(),
            vec![
                ScopeItem {
                    occupation: turner(),
                    level_max: Level::SeniorTechnician,
                },
                ScopeItem {
                    occupation: welder(),
                    level_max: Level::Technician,
                },
            ],
            Audience::OwnStaff,
        );
        let s = registration(
            &s_body(),
            vec![ScopeItem {
                occupation: turner(),
                level_max: Level::Senior,
            }],
            Audience::Public,
        );
        for registered in [y, s] {
            let signed = node.sign_as_authority(EventKind::BodyRegistered(registered));
            node.submit(signed).expect("body registration accepted");
        }
        assert_eq!(node.entry_count(), SETUP_ENTRIES);
        (fixture, node)
    }

    /// The ledger directory (`DIR`).
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("ledger")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.path().join("log")
    }

    /// The segment files under `DIR/log`, in entry order.
    pub fn segments(&self) -> Vec<PathBuf> {
        let mut segments: Vec<PathBuf> = std::fs::read_dir(self.log_dir())
            .expect("list the log directory")
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "seg"))
            .collect();
        segments.sort();
        segments
    }

    pub fn last_segment(&self) -> PathBuf {
        self.segments().pop().expect("at least one segment")
    }

    pub fn reopen(&self) -> Result<(Node, OpenReport), skill_ledger_node::NodeError> {
        Node::open(&self.path())
    }

    /// A fresh event id (a counter, so runs are deterministic).
    pub fn id(&self) -> EventId {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&n.to_be_bytes());
        bytes[8] = 0xe7;
        EventId(bytes)
    }

    /// A fresh certificate serial.
    pub fn serial(&self) -> u32 {
        self.next_serial.fetch_add(1, Ordering::Relaxed)
    }

    /// The subject of resident ID card `document`.
    pub fn subject(&self, document: &str) -> SubjectId {
        self.pseudonym
            .subject(IdDocumentType::ResidentIdCard, document)
    }

    /// Signs `kind` as `body` for this ledger's origin under a fresh id.
    pub fn by_body(&self, body: &Body, kind: EventKind) -> SignedEvent {
        SignedEvent::sign(
            &self.origin,
            Signer::Body(body.number),
            &body.key,
            Event {
                id: self.id(),
                kind,
            },
        )
    }

    /// A certification by `body` of `level` in `occupation` for the holder of `document`
    /// named `name`, with a fresh serial whose number matches body, year and level.
    #[allow(clippy::too_many_arguments)]
    pub fn certified(
        &self,
        body: &Body,
        document: &str,
        name: &str,
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
            subject: self.subject(document),
            name_commitment: self.pseudonym.commit_name(number.as_str(), name),
            occupation,
            work_type: None,
            level,
            issued,
            route,
        }
    }

    /// A signed junior 车工 certification on an attested basis (accepted on a fresh subject).
    pub fn junior(&self, body: &Body, document: &str, name: &str) -> SignedEvent {
        let certified = self.certified(
            body,
            document,
            name,
            turner(),
            Level::Junior,
            "2021-06-01",
            attested(),
        );
        self.by_body(body, EventKind::LevelCertified(certified))
    }

    /// A signed revocation of `number` by `body` (its issuer).
    pub fn revocation(
        &self,
        body: &Body,
        number: CertificateNumber,
        effective: &str,
    ) -> SignedEvent {
        self.by_body(
            body,
            EventKind::CredentialRevoked(CredentialRevoked {
                certificate_number: number,
                effective: d(effective),
                reason: "考核作弊, 经核查撤销".to_string(),
            }),
        )
    }
}

/// The certificate number of a `LevelCertified` event.
pub fn number_of(signed: &SignedEvent) -> CertificateNumber {
    match &signed.event.kind {
        EventKind::LevelCertified(certified) => certified.certificate_number,
        other => panic!("not a certification: {}", other.name()),
    }
}

/// Checks a submission was rejected with `code`, and returns the rejection's message.
pub fn check_rejected(
    result: Result<skill_ledger_node::Receipt, SubmitError>,
    code: &str,
) -> String {
    match result {
        Err(SubmitError::Rejected(rejection)) => {
            assert_eq!(rejection.code(), code, "rejection: {rejection}");
            rejection.to_string()
        }
        Err(other) => panic!("expected a rejection ({code}), got another error: {other}"),
        Ok(receipt) => panic!("expected a rejection ({code}), got entry {}", receipt.index),
    }
}

/// Byte contents of every file under `dir`, by path: to check damage is left as it was.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("list directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read file");
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Byte offsets of the frames in a segment file: (frame start, frame end).
pub fn frames(segment: &Path) -> Vec<(u64, u64)> {
    let bytes = std::fs::read(segment).expect("read segment");
    let header = skill_ledger_log::SEGMENT_HEADER_BYTES as usize;
    let frame_header = skill_ledger_log::FRAME_HEADER_BYTES as usize;
    let mut offset = header;
    let mut frames = Vec::new();
    while offset + frame_header <= bytes.len() {
        let length = u32::from_le_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes"));
        let end = offset + frame_header + length as usize;
        assert!(end <= bytes.len(), "frame at {offset} runs past the end");
        frames.push((offset as u64, end as u64));
        offset = end;
    }
    assert_eq!(offset, bytes.len(), "segment ends on a frame boundary");
    frames
}
