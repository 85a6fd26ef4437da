//! Shared fixture of the sync tests: a Sichuan partner ledger (`skill-ledger/51`) and a
//! Chongqing home ledger (`skill-ledger/50`) built through the node API with one shared
//! pseudonym key; an in-memory partner log for partners that misbehave; transports that
//! count or corrupt what they serve.
#![allow(dead_code)] // each test binary uses a different part of the fixture

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    Audience, BodyRegistered, CertificateNumber, CredentialRevoked, Date, EvaluationBasis, Event,
    EventId, EventKind, IdDocumentType, Level, LevelCertified, OccupationCode, Province,
    RegistrationNumber, Route, ScopeItem, SignedEvent, Signer,
};
use skill_ledger_log::{
    entry_bundle, leaf_hash, sign_note, Checkpoint, MerkleTree, TILE_WIDTH_MAX,
};
use skill_ledger_node::{InitOptions, Node};
use skill_ledger_sync::transport::FetchResult;
use skill_ledger_sync::{
    pseudonym_key_fingerprint, Home, PartnerConfig, PartnerLog, Partners, PullOptions,
    TransportError, TransportErrorKind,
};

pub const SHARED_PSEUDONYM_KEY: [u8; 32] = [0x5a; 32];
pub const SICHUAN: &str = "skill-ledger/51";
/// Entries of a fresh partner: established, catalogue, policy, one body registration.
pub const SETUP_ENTRIES: u64 = 4;

pub fn d(text: &str) -> Date {
    text.parse().expect("test date")
}

fn turner() -> OccupationCode {
    "6-18-01-01".parse().expect("occupation")
}

/// A clock that stands still and never waits.
pub struct FixedClock(pub u64);

impl skill_ledger_log::Clock for FixedClock {
    fn now_unix_s(&self) -> u64 {
        self.0
    }

    fn sleep(&self, _: std::time::Duration) {}
}

/// Options that never sleep, with a fixed clock.
pub fn options() -> PullOptions {
    PullOptions {
        clock: std::sync::Arc::new(FixedClock(1_750_000_000)),
        ..PullOptions::default()
    }
}

/// A partner ledger with one registered enterprise body `Y000051000001`.
pub struct Partner {
    pub temp: tempfile::TempDir,
    pub node: Node,
    pub body: RegistrationNumber,
    pub body_key: SigningKey,
    next_id: AtomicU64,
    next_serial: AtomicU32,
}

impl Partner {
    pub fn sichuan() -> Partner {
        let temp = tempfile::tempdir().expect("temporary directory");
        let mut options =
            InitOptions::for_province(Province::SICHUAN, "四川省人力资源和社会保障厅")
                .importing_history();
        options.pseudonym_key = Some(SHARED_PSEUDONYM_KEY);
        let node = Node::init(&temp.path().join("51"), options).expect("init the partner");
        let partner = Partner::around(temp, node);
        let registration = BodyRegistered {
            registration_number: partner.body,
            name: "四川示例重型机械有限公司".to_string(),
            public_key: partner.body_key.verifying_key().to_bytes(),
            valid_from: d("2019-01-01"),
            valid_until: d("2040-12-31"),
            audience: Audience::Public,
            scope: vec![ScopeItem {
                occupation: turner(),
                level_max: Level::SeniorTechnician,
            }],
            direct_recognition: false,
            date: d("2019-01-01"),
        };
        let signed = partner
            .node
            .sign_as_authority(EventKind::BodyRegistered(registration));
        partner.node.submit(signed).expect("registration accepted");
        assert_eq!(partner.node.entry_count(), SETUP_ENTRIES);
        partner
    }

    fn around(temp: tempfile::TempDir, node: Node) -> Partner {
        Partner {
            temp,
            node,
            body: "Y000051000001".parse().expect("registration number"),
            body_key: SigningKey::from_bytes(&[0x51; 32]),
            next_id: AtomicU64::new(1),
            next_serial: AtomicU32::new(1),
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.node.dir().to_path_buf()
    }

    fn id(&self) -> EventId {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&n.to_be_bytes());
        bytes[8] = 0x51;
        EventId(bytes)
    }

    pub fn by_body(&self, kind: EventKind) -> SignedEvent {
        SignedEvent::sign(
            self.node.origin(),
            Signer::Body(self.body),
            &self.body_key,
            Event {
                id: self.id(),
                kind,
            },
        )
    }

    /// A junior 车工 certification of a fresh person (`tag` makes the identity number).
    pub fn junior(&self, tag: &str) -> SignedEvent {
        let serial = self.next_serial.fetch_add(1, Ordering::Relaxed);
        let issued = d("2021-06-01");
        let number = CertificateNumber::compose(self.body, issued.year(), Level::Junior, serial)
            .expect("certifiable");
        let key = self.node.pseudonym_key();
        self.by_body(EventKind::LevelCertified(LevelCertified {
            certificate_number: number,
            subject: key.subject(IdDocumentType::ResidentIdCard, &format!("5101{tag:0>14}")),
            name_commitment: key.commit_name(number.as_str(), "李四"),
            occupation: turner(),
            work_type: None,
            level: Level::Junior,
            issued,
            route: Route::Evaluation(EvaluationBasis::Attested {
                statement: "中等职业学校毕业证书".to_string(),
            }),
        }))
    }

    /// Issues `count` credentials to distinct people; returns their numbers.
    pub fn issue(&self, count: u32, tag: &str) -> Vec<CertificateNumber> {
        let events: Vec<SignedEvent> = (0..count)
            .map(|k| self.junior(&format!("{tag}{k}")))
            .collect();
        let numbers = events
            .iter()
            .map(|signed| match &signed.event.kind {
                EventKind::LevelCertified(certified) => certified.certificate_number,
                _ => unreachable!(),
            })
            .collect();
        let pending: Vec<_> = events
            .into_iter()
            .map(|signed| self.node.submit_pending(signed).expect("queued"))
            .collect();
        for receipt in pending {
            receipt.wait().expect("credential accepted");
        }
        numbers
    }

    pub fn revoke(&self, number: CertificateNumber) {
        let signed = self.by_body(EventKind::CredentialRevoked(CredentialRevoked {
            certificate_number: number,
            effective: d("2022-01-01"),
            reason: "考核作弊".to_string(),
        }));
        self.node.submit(signed).expect("revocation accepted");
    }

    /// A second ledger with the same key, origin and history so far (the directory copied
    /// while closed): appending different events to each makes a fork.
    pub fn fork(self) -> (Partner, Partner) {
        let dir = self.dir();
        let serial = self.next_serial.load(Ordering::Relaxed);
        let id = self.next_id.load(Ordering::Relaxed);
        let Partner { temp, node, .. } = self;
        node.close().expect("close the partner");
        let copy = tempfile::tempdir().expect("temporary directory");
        copy_dir(&dir, &copy.path().join("51"));
        let reopen = |temp: tempfile::TempDir, path: PathBuf| {
            let (node, _) = Node::open(&path).expect("reopen");
            let partner = Partner::around(temp, node);
            partner.next_serial.store(serial, Ordering::Relaxed);
            partner.next_id.store(id, Ordering::Relaxed);
            partner
        };
        let copy_path = copy.path().join("51");
        (reopen(temp, dir), reopen(copy, copy_path))
    }

    /// Closes the partner's node, runs `change` on its directory (e.g. an authority key
    /// rotation, which needs the directory lock), and opens it again.
    pub fn reopened_after(self, change: impl FnOnce(&Path)) -> Partner {
        let dir = self.dir();
        let serial = self.next_serial.load(Ordering::Relaxed);
        let id = self.next_id.load(Ordering::Relaxed);
        let Partner { temp, node, .. } = self;
        node.close().expect("close the partner");
        change(&dir);
        let (node, _) = Node::open(&dir).expect("reopen the partner");
        let partner = Partner::around(temp, node);
        partner.next_serial.store(serial, Ordering::Relaxed);
        partner.next_id.store(id, Ordering::Relaxed);
        partner
    }

    pub fn config(&self) -> PartnerConfig {
        PartnerConfig {
            origin: self.node.origin().to_string(),
            vkey: self.node.verifier_key_text().to_string(),
            url: None,
            witness_vkey: None,
            pseudonym_key_fingerprint: pseudonym_key_fingerprint(self.node.pseudonym_key()),
        }
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("list") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// The home ledger (Chongqing) with the shared pseudonym key.
pub struct HomeLedger {
    pub temp: tempfile::TempDir,
    pub home: Home,
}

impl HomeLedger {
    pub fn chongqing() -> HomeLedger {
        HomeLedger::chongqing_with(InitOptions::chongqing().importing_history())
    }

    /// A Chongqing home ledger made with `options` (its pseudonym key is the shared one).
    pub fn chongqing_with(mut options: InitOptions) -> HomeLedger {
        let temp = tempfile::tempdir().expect("temporary directory");
        options.pseudonym_key = Some(SHARED_PSEUDONYM_KEY);
        let dir = temp.path().join("50");
        Node::init(&dir, options)
            .expect("init the home ledger")
            .close()
            .expect("close");
        let home = Home::load(&dir).expect("load the home");
        HomeLedger { temp, home }
    }

    pub fn dir(&self) -> &Path {
        &self.home.dir
    }

    /// Writes `partners.toml` with `partner`.
    pub fn add_partner(&self, partner: PartnerConfig) {
        let mut partners = Partners::load(&self.home).expect("load partners");
        partners.add(partner, &self.home).expect("add the partner");
        partners.save(&self.home).expect("save partners");
    }
}

/// A partner log served from memory: any entries (also ones the rules refuse), a tree of
/// them and a checkpoint signed with the given key.
pub struct MemoryLog {
    pub entries: Vec<Vec<u8>>,
    pub tree: MerkleTree,
    pub note: String,
    _temp: tempfile::TempDir,
}

impl MemoryLog {
    pub fn new(origin: &str, key: &SigningKey, entries: Vec<Vec<u8>>) -> MemoryLog {
        let temp = tempfile::tempdir().expect("temporary directory");
        let mut tree = MerkleTree::open(temp.path()).expect("tree");
        let hashes: Vec<_> = entries.iter().map(|entry| leaf_hash(entry)).collect();
        let root = tree.append(&hashes).expect("append");
        let checkpoint = Checkpoint {
            origin: origin.to_string(),
            size: entries.len() as u64,
            root,
            time_unix_s: 1_750_000_000,
        };
        let note = sign_note(&checkpoint.body(), origin, key).expect("sign");
        MemoryLog {
            entries,
            tree,
            note,
            _temp: temp,
        }
    }

    /// Every entry of a node's log.
    pub fn entries_of(node: &Node) -> Vec<Vec<u8>> {
        (0..node.entry_count())
            .map(|index| node.log_reader().read(index).expect("read"))
            .collect()
    }
}

impl PartnerLog for MemoryLog {
    fn checkpoint(&self) -> FetchResult<String> {
        Ok(self.note.clone())
    }

    fn tile(&self, level: u8, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        self.tree
            .reader()
            .tile(level, index, width)
            .map_err(|error| TransportError::new(TransportErrorKind::NotFound, error.to_string()))
    }

    fn entry_bundle(&self, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        let start = (index * u64::from(TILE_WIDTH_MAX)) as usize;
        let end = start + usize::from(width);
        if end > self.entries.len() {
            return Err(TransportError::new(
                TransportErrorKind::NotFound,
                "beyond the log",
            ));
        }
        let slices: Vec<&[u8]> = self.entries[start..end].iter().map(Vec::as_slice).collect();
        Ok(entry_bundle(&slices))
    }

    fn describe(&self) -> String {
        "memory log".to_string()
    }
}

/// What a transport was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetch {
    Checkpoint,
    Tile(u8, u64, u16),
    Bundle(u64, u16),
}

type Corrupt = Box<dyn Fn(&Fetch, Vec<u8>) -> FetchResult<Vec<u8>>>;

/// Wraps a transport: records every fetch, and may change or refuse what it serves.
pub struct Recording<'a> {
    pub inner: &'a dyn PartnerLog,
    pub fetches: RefCell<Vec<Fetch>>,
    pub corrupt: Option<Corrupt>,
}

impl<'a> Recording<'a> {
    pub fn new(inner: &'a dyn PartnerLog) -> Recording<'a> {
        Recording {
            inner,
            fetches: RefCell::new(Vec::new()),
            corrupt: None,
        }
    }

    pub fn corrupting(
        inner: &'a dyn PartnerLog,
        corrupt: impl Fn(&Fetch, Vec<u8>) -> FetchResult<Vec<u8>> + 'static,
    ) -> Recording<'a> {
        Recording {
            corrupt: Some(Box::new(corrupt)),
            ..Recording::new(inner)
        }
    }

    fn serve(&self, fetch: Fetch, result: FetchResult<Vec<u8>>) -> FetchResult<Vec<u8>> {
        self.fetches.borrow_mut().push(fetch.clone());
        match (&self.corrupt, result) {
            (Some(corrupt), Ok(bytes)) => corrupt(&fetch, bytes),
            (_, result) => result,
        }
    }

    pub fn bundles(&self) -> Vec<(u64, u16)> {
        self.fetches
            .borrow()
            .iter()
            .filter_map(|fetch| match fetch {
                Fetch::Bundle(index, width) => Some((*index, *width)),
                _ => None,
            })
            .collect()
    }
}

impl PartnerLog for Recording<'_> {
    fn checkpoint(&self) -> FetchResult<String> {
        let bytes = self.inner.checkpoint().map(String::into_bytes);
        let bytes = self.serve(Fetch::Checkpoint, bytes)?;
        String::from_utf8(bytes)
            .map_err(|_| TransportError::new(TransportErrorKind::Refused, "not UTF-8"))
    }

    fn tile(&self, level: u8, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        let result = self.inner.tile(level, index, width);
        self.serve(Fetch::Tile(level, index, width), result)
    }

    fn entry_bundle(&self, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        let result = self.inner.entry_bundle(index, width);
        self.serve(Fetch::Bundle(index, width), result)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
