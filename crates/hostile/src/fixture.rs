//! Deterministic fixtures the targets judge hostile input against: fixed keys, a small
//! Chongqing ledger in memory (the domain fold), a signed checkpoint and the golden offline
//! bundle, a witness, and a served node for the HTTP bodies.
//!
//! Everything but the served node is built from fixed seeds, so a crash reproduces from its
//! input alone. Each fixture is built once per process ([`OnceLock`]): a fuzzer calls a
//! target millions of times.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    Audience, BodyKeyRevoked, BodyKeyRotated, BodyRegistered, BodyStatusChange, CatalogueAdopted,
    CredentialRevoked, Date, EvaluationBasis, Event, EventId, EventKind, IdDocumentType,
    LedgerEstablished, Level, LevelCertified, MemoryLedger, OccupationCode, PolicyAdopted,
    Province, PseudonymKey, RegistrationNumber, Route, ScopeItem, SignedEvent, Signer,
    StatedStatus, StatusStatement, DEFAULT_POLICY_TOML, SAMPLE_CATALOGUE_TOML, STATUS_NOTE_LABEL,
};
use skill_ledger_log::{
    leaf_hash, sign_note, verifier_key_text, Bundle, BundleNote, BundleSection, Checkpoint,
    MerkleTree, TlogProof,
};
use skill_ledger_sync::{CosignatureVerifier, Cosigner, Witness};

/// The fixture ledger's origin (the Chongqing ledger of the demo and the tests).
pub const ORIGIN: &str = "skill-ledger/50";
/// The enterprise body of the fixture (key seed 2).
pub const Y_BODY: &str = "Y000050000001";
/// The social organisation of the fixture (key seed 3).
pub const S_BODY: &str = "S000050000002";
/// Checkpoint time of the fixture's signed notes.
pub const CHECKPOINT_TIME_UNIX_S: u64 = 1_750_000_000;
/// Name of the fixture witness.
pub const WITNESS_NAME: &str = "skill-ledger/51/witness";

/// A temporary directory for a fixture, under `<temp>/skill-ledger-hostile/<pid>/`.
///
/// The fixtures live in statics, which are never dropped, so their directories are not
/// removed when a fuzzer process exits; instead each process removes the directories of
/// processes that no longer run when it makes its first one.
pub fn scratch_dir() -> tempfile::TempDir {
    static ROOT: OnceLock<std::path::PathBuf> = OnceLock::new();
    let root = ROOT.get_or_init(|| {
        let base = std::env::temp_dir().join("skill-ledger-hostile");
        if let Ok(entries) = std::fs::read_dir(&base) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let pid = name.to_str().and_then(|text| text.parse::<u32>().ok());
                if pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let root = base.join(std::process::id().to_string());
        std::fs::create_dir_all(&root).expect("fixture directory");
        root
    });
    tempfile::tempdir_in(root).expect("temporary directory")
}

/// A deterministic Ed25519 key: the seed is 32 copies of `n`.
pub fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// The authority key of the fixture ledger (seed 1), which also signs its checkpoints.
pub fn authority_key() -> SigningKey {
    key(1)
}

pub fn date(text: &str) -> Date {
    text.parse().expect("fixture date")
}

pub fn y_body() -> RegistrationNumber {
    Y_BODY.parse().expect("fixture registration number")
}

pub fn s_body() -> RegistrationNumber {
    S_BODY.parse().expect("fixture registration number")
}

/// 焊工, in the Y body's scope up to 技师.
pub fn welder() -> OccupationCode {
    "6-18-02-04".parse().expect("fixture occupation")
}

/// 车工, in the Y body's scope up to 高级技师 and the S body's up to 高级工.
pub fn turner() -> OccupationCode {
    "6-18-01-01".parse().expect("fixture occupation")
}

pub fn pseudonym_key() -> PseudonymKey {
    PseudonymKey::from_bytes([0x11; 32])
}

fn id(n: u8) -> EventId {
    EventId([n; 16])
}

fn signed(signer: Signer, key: &SigningKey, n: u8, kind: EventKind) -> SignedEvent {
    SignedEvent::sign(ORIGIN, signer, key, Event { id: id(n), kind })
}

fn registration(
    number: RegistrationNumber,
    key: &SigningKey,
    scope: Vec<ScopeItem>,
    direct: bool,
) -> BodyRegistered {
    BodyRegistered {
        registration_number: number,
        name: format!("测试评价机构 {number}"),
        public_key: key.verifying_key().to_bytes(),
        valid_from: date("2019-01-01"),
        valid_until: date("2029-12-31"),
        audience: Audience::Public,
        scope,
        direct_recognition: direct,
        date: date("2019-01-01"),
    }
}

/// A credential of the Y body: 焊工, 初级工 on an attested basis.
pub fn junior_welder(serial: u32, holder: &str, issued: &str) -> LevelCertified {
    let issued = date(issued);
    let number = skill_ledger_domain::CertificateNumber::compose(
        y_body(),
        issued.year(),
        Level::Junior,
        serial,
    )
    .expect("fixture certificate number");
    let pseudonym = pseudonym_key();
    LevelCertified {
        certificate_number: number,
        subject: pseudonym.subject(
            IdDocumentType::ResidentIdCard,
            &format!("5001011990010{serial:05}"),
        ),
        name_commitment: pseudonym.commit_name(number.as_str(), holder),
        occupation: welder(),
        work_type: Some("电焊工".to_string()),
        level: Level::Junior,
        issued,
        route: Route::Evaluation(EvaluationBasis::Attested {
            statement: "中等职业学校毕业证书 (on file)".to_string(),
        }),
    }
}

/// `credential` signed by the Y body with event id `[n; 16]`.
pub fn signed_by_y(n: u8, credential: LevelCertified) -> SignedEvent {
    signed(
        Signer::Body(y_body()),
        &key(2),
        n,
        EventKind::LevelCertified(credential),
    )
}

/// The entries of the fixture ledger, in log order: established, catalogue, policy, the two
/// bodies, one credential of the Y body.
pub fn ledger_entries() -> Vec<SignedEvent> {
    let authority = authority_key();
    let scope_y = vec![
        ScopeItem {
            occupation: welder(),
            level_max: Level::Technician,
        },
        ScopeItem {
            occupation: turner(),
            level_max: Level::SeniorTechnician,
        },
    ];
    let scope_s = vec![ScopeItem {
        occupation: turner(),
        level_max: Level::Senior,
    }];
    vec![
        signed(
            Signer::Authority,
            &authority,
            1,
            EventKind::LedgerEstablished(LedgerEstablished {
                origin: ORIGIN.to_string(),
                province: Province::CHONGQING,
                authority_name: "重庆人社".to_string(),
                authority_key: authority.verifying_key().to_bytes(),
                date: date("2019-01-01"),
            }),
        ),
        signed(
            Signer::Authority,
            &authority,
            2,
            EventKind::CatalogueAdopted(CatalogueAdopted {
                source_toml: SAMPLE_CATALOGUE_TOML.to_string(),
                date: date("2019-01-01"),
            }),
        ),
        signed(
            Signer::Authority,
            &authority,
            3,
            EventKind::PolicyAdopted(PolicyAdopted {
                source_toml: DEFAULT_POLICY_TOML.to_string(),
                date: date("2019-01-01"),
            }),
        ),
        signed(
            Signer::Authority,
            &authority,
            4,
            EventKind::BodyRegistered(registration(y_body(), &key(2), scope_y, true)),
        ),
        signed(
            Signer::Authority,
            &authority,
            5,
            EventKind::BodyRegistered(registration(s_body(), &key(3), scope_s, false)),
        ),
        signed(
            Signer::Body(y_body()),
            &key(2),
            6,
            EventKind::LevelCertified(junior_welder(1, "张三", "2024-06-30")),
        ),
    ]
}

/// Events that the fixture ledger accepts next (seeds for the event and entry targets): a
/// credential, a revocation, a key rotation, a suspension, a body registration.
pub fn next_events() -> Vec<SignedEvent> {
    let authority = authority_key();
    let first = junior_welder(1, "张三", "2024-06-30");
    vec![
        signed(
            Signer::Body(y_body()),
            &key(2),
            20,
            EventKind::LevelCertified(junior_welder(2, "李四", "2024-07-01")),
        ),
        signed(
            Signer::Body(y_body()),
            &key(2),
            21,
            EventKind::CredentialRevoked(CredentialRevoked {
                certificate_number: first.certificate_number,
                effective: date("2024-08-01"),
                reason: "以欺骗手段取得".to_string(),
            }),
        ),
        signed(
            Signer::Authority,
            &authority,
            22,
            EventKind::BodyKeyRotated(BodyKeyRotated {
                registration_number: y_body(),
                public_key: key(4).verifying_key().to_bytes(),
                effective: date("2024-09-01"),
                reason: "私钥泄露".to_string(),
            }),
        ),
        signed(
            Signer::Authority,
            &authority,
            23,
            EventKind::BodySuspended(BodyStatusChange {
                registration_number: s_body(),
                effective: date("2024-09-01"),
                reason: "暂停评价".to_string(),
            }),
        ),
        signed(
            Signer::Authority,
            &authority,
            24,
            EventKind::BodyRegistered(registration(
                "S000050000003".parse().expect("number"),
                &key(5),
                vec![ScopeItem {
                    occupation: welder(),
                    level_max: Level::Intermediate,
                }],
                false,
            )),
        ),
        signed(
            Signer::Authority,
            &authority,
            25,
            EventKind::BodyKeyRevoked(BodyKeyRevoked {
                registration_number: y_body(),
                public_key: key(2).verifying_key().to_bytes(),
                date: date("2024-09-02"),
                reason: "旧私钥泄露".to_string(),
            }),
        ),
    ]
}

/// The fixture ledger folded in memory (every entry decided and applied as a node does).
pub fn ledger() -> &'static MemoryLedger {
    static LEDGER: OnceLock<MemoryLedger> = OnceLock::new();
    LEDGER.get_or_init(|| {
        let mut ledger = MemoryLedger::default();
        for signed in ledger_entries() {
            ledger
                .submit(signed)
                .expect("the fixture ledger accepts its entries");
        }
        ledger
    })
}

/// The signer and public key the targets put on an event so that the rules judge its
/// content, not its key: `selector` picks the authority, the Y body or the S body.
pub fn signer_for(selector: u8) -> (Signer, [u8; 32]) {
    match selector % 3 {
        0 => (
            Signer::Authority,
            authority_key().verifying_key().to_bytes(),
        ),
        1 => (Signer::Body(y_body()), key(2).verifying_key().to_bytes()),
        _ => (Signer::Body(s_body()), key(3).verifying_key().to_bytes()),
    }
}

/// The fixture's verifier key text (authority key, name = origin).
pub fn verifier_key() -> &'static str {
    static VKEY: OnceLock<String> = OnceLock::new();
    VKEY.get_or_init(|| verifier_key_text(ORIGIN, &authority_key()))
}

/// The fixture ledger's entries in a Merkle tree, the checkpoint over them, and its signed
/// note; plus a checkpoint over the first three entries (for consistency proofs).
pub struct SignedTree {
    pub entries: Vec<Vec<u8>>,
    pub tree: MerkleTree,
    pub checkpoint: Checkpoint,
    pub note: String,
    pub small_checkpoint: Checkpoint,
    pub small_note: String,
    _dir: tempfile::TempDir,
}

pub fn signed_tree() -> &'static SignedTree {
    static TREE: OnceLock<SignedTree> = OnceLock::new();
    TREE.get_or_init(|| {
        let entries: Vec<Vec<u8>> = ledger_entries()
            .iter()
            .map(|signed| signed.to_entry().expect("fixture entry"))
            .collect();
        let dir = scratch_dir();
        let mut tree = MerkleTree::open(dir.path()).expect("tree");
        let leaves: Vec<_> = entries.iter().map(|entry| leaf_hash(entry)).collect();
        tree.append(&leaves[..3]).expect("append");
        let small_checkpoint = Checkpoint {
            origin: ORIGIN.to_string(),
            size: 3,
            root: tree.reader().root(3).expect("root"),
            time_unix_s: CHECKPOINT_TIME_UNIX_S - 100,
        };
        let root = tree.append(&leaves[3..]).expect("append");
        let checkpoint = Checkpoint {
            origin: ORIGIN.to_string(),
            size: entries.len() as u64,
            root,
            time_unix_s: CHECKPOINT_TIME_UNIX_S,
        };
        let note = sign_note(&checkpoint.body(), ORIGIN, &authority_key()).expect("sign");
        let small_note =
            sign_note(&small_checkpoint.body(), ORIGIN, &authority_key()).expect("sign");
        SignedTree {
            entries,
            tree,
            checkpoint,
            note,
            small_checkpoint,
            small_note,
            _dir: dir,
        }
    })
}

/// The offline bundle of the fixture credential (entries 0, 3 and 5, its revocation and its
/// body's later status changes if the fixture log holds them), with its status note, as a
/// node builds it.
pub fn credential_bundle() -> String {
    let tree = signed_tree();
    let credential = &ledger_entries()[5];
    let EventKind::LevelCertified(certified) = &credential.event.kind else {
        panic!("fixture entry 5 is a LevelCertified");
    };
    let number = certified.certificate_number;
    let revocation = ledger_entries().iter().position(|signed| {
        matches!(&signed.event.kind,
                 EventKind::CredentialRevoked(revoked) if revoked.certificate_number == number)
    });
    let body = number.registration_number();
    let issuer_changes: Vec<u64> = ledger_entries()
        .iter()
        .enumerate()
        .skip(6)
        .filter(|(_, signed)| {
            matches!(&signed.event.kind,
                EventKind::BodySuspended(change) | EventKind::BodyReinstated(change)
                | EventKind::BodyCancelled(change) if change.registration_number == body)
        })
        .map(|(index, _)| index as u64)
        .collect();
    let mut indexes = vec![(0u64, "ledger"), (3, "body"), (5, "credential")];
    if let Some(index) = revocation {
        indexes.push((index as u64, "revocation"));
    }
    indexes.extend(issuer_changes.iter().map(|&index| (index, "issuer-change")));
    indexes.sort_unstable();
    let sections = indexes
        .iter()
        .map(|&(index, label)| BundleSection {
            label: label.to_string(),
            entry: tree.entries[index as usize].clone(),
            proof: TlogProof {
                index,
                hashes: tree
                    .tree
                    .reader()
                    .inclusion_proof(index, tree.checkpoint.size)
                    .expect("proof"),
                checkpoint_note: tree.note.clone(),
            },
        })
        .collect();
    let statement = StatusStatement {
        origin: ORIGIN.to_string(),
        size: tree.checkpoint.size,
        root: tree.checkpoint.root,
        certificate_number: number,
        status: match revocation {
            Some(index) => StatedStatus::Revoked {
                entry_index: index as u64,
            },
            None => StatedStatus::Valid,
        },
        issuer_changes,
        holder_key: None,
    };
    let note = sign_note(&statement.to_body(), ORIGIN, &authority_key()).expect("sign");
    Bundle::new(sections)
        .and_then(|bundle| {
            bundle.with_notes(vec![BundleNote {
                label: STATUS_NOTE_LABEL.to_string(),
                note,
            }])
        })
        .expect("bundle")
        .to_text()
}

/// The golden bundle of docs/formats.md: also signed by the authority key (seed 1) for
/// [`ORIGIN`], over another tree of three entries.
pub const GOLDEN_BUNDLE: &str = include_str!("../../node/tests/data/golden.bundle");

/// A log the fixture key signed a checkpoint of, with the entries known at their indexes.
pub struct KnownLog {
    pub checkpoint: Checkpoint,
    pub entries: BTreeMap<u64, Vec<u8>>,
}

/// Every checkpoint the fixture key (seed 1) ever signed for [`ORIGIN`]: the fixture tree at
/// sizes 6 and 3, and the golden bundle's. Nothing else can verify with its key.
pub fn known_logs() -> &'static [KnownLog] {
    static KNOWN: OnceLock<Vec<KnownLog>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let tree = signed_tree();
        let all: BTreeMap<u64, Vec<u8>> = tree
            .entries
            .iter()
            .enumerate()
            .map(|(index, entry)| (index as u64, entry.clone()))
            .collect();
        let small = all.range(..3).map(|(k, v)| (*k, v.clone())).collect();
        let golden = Bundle::parse(GOLDEN_BUNDLE)
            .and_then(|bundle| bundle.verify(verifier_key()))
            .expect("the golden bundle verifies with the fixture key");
        vec![
            KnownLog {
                checkpoint: tree.checkpoint.clone(),
                entries: all,
            },
            KnownLog {
                checkpoint: tree.small_checkpoint.clone(),
                entries: small,
            },
            KnownLog {
                checkpoint: golden.checkpoint,
                entries: golden
                    .entries
                    .into_iter()
                    .map(|proven| (proven.index, proven.entry))
                    .collect(),
            },
        ]
    })
}

/// Whether the fixture key signed `checkpoint`.
pub fn is_known(checkpoint: &Checkpoint) -> bool {
    known_logs().iter().any(|log| &log.checkpoint == checkpoint)
}

/// The fixture witness: cosigns checkpoints of [`ORIGIN`] by the authority key.
pub struct WitnessFixture {
    /// Held by a caller across emptying the witness state and a request (see [`Served`]).
    pub lock: std::sync::Mutex<()>,
    pub witness: Witness,
    pub verifier: CosignatureVerifier,
    pub home: tempfile::TempDir,
}

pub fn cosigner() -> Cosigner {
    Cosigner::new(WITNESS_NAME, key(7)).expect("fixture cosigner")
}

pub fn witness() -> &'static WitnessFixture {
    static WITNESS: OnceLock<WitnessFixture> = OnceLock::new();
    WITNESS.get_or_init(|| {
        let home = scratch_dir();
        let logs = BTreeMap::from([(ORIGIN.to_string(), verifier_key().to_string())]);
        let cosigner = cosigner();
        let verifier = CosignatureVerifier::from_vkey(&cosigner.verifier_key_text()).expect("vkey");
        WitnessFixture {
            lock: std::sync::Mutex::new(()),
            witness: Witness::new(home.path(), cosigner, logs),
            verifier,
            home,
        }
    })
}

/// A served node, in-process: the router of `skill-ledger serve` over a fresh ledger with
/// the Y body (key seed 2) registered, and a runtime to drive it.
pub struct Served {
    /// Held by a caller for the whole of a request, so the log size it sees before and after
    /// is its own (tests run in parallel threads of one process).
    pub lock: std::sync::Mutex<()>,
    pub node: Arc<skill_ledger_node::Node>,
    pub router: axum::Router,
    pub runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

pub fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let dir = scratch_dir();
        let mut options = skill_ledger_node::InitOptions::chongqing().importing_history();
        options.pseudonym_key = Some(*pseudonym_key().as_bytes());
        let node = skill_ledger_node::Node::init(&dir.path().join("ledger"), options)
            .expect("init a ledger");
        let entries = ledger_entries();
        for registered in &entries[3..5] {
            let signed = node.sign_as_authority(registered.event.kind.clone());
            node.submit(signed).expect("register a fixture body");
        }
        let node = Arc::new(node);
        let config = skill_ledger_server::ServerConfig {
            verify_rate_per_s: 1e9,
            verify_burst: u32::MAX,
            ..skill_ledger_server::ServerConfig::default()
        };
        let state = skill_ledger_server::AppState::new(node.clone(), config);
        let router = skill_ledger_server::router(state);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        Served {
            lock: std::sync::Mutex::new(()),
            node,
            router,
            runtime,
            _dir: dir,
        }
    })
}

/// A home ledger (Sichuan, `skill-ledger/51`, sharing the pseudonym key) whose mirror of the
/// fixture ledger a hostile partner feeds.
pub struct MirrorFixture {
    /// Held by a caller across resetting the mirror and a pull (see [`Served`]).
    pub lock: std::sync::Mutex<()>,
    pub home: skill_ledger_sync::Home,
    pub partner: skill_ledger_sync::PartnerConfig,
    _dir: tempfile::TempDir,
}

pub fn mirror_home() -> &'static MirrorFixture {
    static MIRROR: OnceLock<MirrorFixture> = OnceLock::new();
    MIRROR.get_or_init(|| {
        let dir = scratch_dir();
        let ledger = dir.path().join("51");
        let mut options = skill_ledger_node::InitOptions::for_province(Province(51), "四川人社")
            .importing_history();
        options.pseudonym_key = Some(*pseudonym_key().as_bytes());
        skill_ledger_node::Node::init(&ledger, options)
            .expect("init the home ledger")
            .close()
            .expect("close the home ledger");
        let home = skill_ledger_sync::Home::load(&ledger).expect("load the home");
        let partner = skill_ledger_sync::PartnerConfig {
            origin: ORIGIN.to_string(),
            vkey: verifier_key().to_string(),
            url: None,
            witness_vkey: None,
            pseudonym_key_fingerprint: skill_ledger_sync::pseudonym_key_fingerprint(
                &pseudonym_key(),
            ),
        };
        MirrorFixture {
            lock: std::sync::Mutex::new(()),
            home,
            partner,
            _dir: dir,
        }
    })
}
