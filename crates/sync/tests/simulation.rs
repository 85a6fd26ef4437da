//! Deterministic simulation of two partner ledgers that mirror and witness each other.
//!
//! Chongqing (`skill-ledger/50`) and Sichuan (`skill-ledger/51`) are real nodes in temporary
//! directories, each with a mirror of the other and a witness of the other's checkpoints.
//! Everything between them goes through a simulated link ([`Link`], a [`PartnerLog`] and a
//! [`WitnessTransport`]) whose faults come from one seed: partitions (every request fails),
//! message loss (a request fails, or a witness request is acted on but its answer is lost),
//! reordering and delay (an older checkpoint answered late, an old `add-checkpoint` request
//! delivered again). Either node crashes and restarts at any step: its node, mirror and
//! witness are dropped without ceremony and reopened from disk. The disk under a mirror fails
//! now and then during a pull (a write or fsync fails, a write is torn, the disk is full; the
//! log's fault seam, which sled's writes and the mirror's own files go through, from a second
//! random stream so the steps of a seed stay as they were): the pull must fail with a storage
//! error, keep what it held and resume once the disk is back. Time is simulated: the nodes'
//! clock and the mirrors' clock and backoff read one [`Clock`] the seed drives.
//!
//! At the end the network heals; then both mirrors must hold exactly their origins (same
//! checkpoint, same tree, the same folded credentials, persons' holdings and counters), every
//! acknowledged entry must be in its origin's log and provable from the partner's mirror,
//! and each node must hold its latest checkpoint cosigned by the other.
//!
//! A failing run prints its seed. `SKILL_LEDGER_SIM_SEED=N` runs only seed N;
//! `SKILL_LEDGER_SIM_SEEDS=K` runs K seeds (default 10 and 6) from
//! `SKILL_LEDGER_SIM_SEED_START` (default 1).
//!
//! The equivocation case: Sichuan serves Chongqing a forked history (a copy of its
//! directory that took other entries) from a step the seed picks. The mirror must refuse the
//! first checkpoint that is inconsistent with the one it holds, and no earlier one, keeping
//! evidence that verifies offline with Sichuan's verifier key alone.

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    Audience, BodyRegistered, CertificateNumber, CredentialRevoked, Date, EvaluationBasis, Event,
    EventId, EventKind, IdDocumentType, Level, LevelCertified, OccupationCode, Province,
    RegistrationNumber, Route, ScopeItem, SignedEvent, Signer,
};
use skill_ledger_log::faults::{self, Operation};
use skill_ledger_log::{leaf_hash, verify_inclusion, Checkpoint, Hash};
use skill_ledger_node::{Clock, InitOptions, Node};
use skill_ledger_sync::transport::FetchResult;
use skill_ledger_sync::witness::{load_cosigned, witness_name};
use skill_ledger_sync::{
    evidence, pseudonym_key_fingerprint, request_cosignature, Cosigner, EvidenceKind, Home,
    LocalWitness, Mirror, NodeLog, PartnerConfig, PartnerLog, Partners, PullOptions, SyncErrorKind,
    TransportError, TransportErrorKind, Witness, WitnessTransport,
};

use common::{copy_dir, SHARED_PSEUDONYM_KEY};

// ---------------------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------------------

/// splitmix64: small, fast, and the same on every platform and crate version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {text:?}")),
    )
}

/// The seeds to run: one from `SKILL_LEDGER_SIM_SEED`, or `SKILL_LEDGER_SIM_SEEDS` (default
/// `default_count`) from `SKILL_LEDGER_SIM_SEED_START` (default 1).
fn seeds(default_count: u64) -> Vec<u64> {
    if let Some(seed) = env_u64("SKILL_LEDGER_SIM_SEED") {
        return vec![seed];
    }
    let start = env_u64("SKILL_LEDGER_SIM_SEED_START").unwrap_or(1);
    let count = env_u64("SKILL_LEDGER_SIM_SEEDS").unwrap_or(default_count);
    (start..start + count).collect()
}

/// Runs `scenario` for each seed; a failure names its seed and how to run it alone.
fn for_each_seed(name: &str, default_count: u64, scenario: fn(u64)) {
    for seed in seeds(default_count) {
        let outcome = std::panic::catch_unwind(|| scenario(seed));
        if let Err(panic) = outcome {
            eprintln!(
                "\n{name}: seed {seed} FAILED; run it alone with \
                 SKILL_LEDGER_SIM_SEED={seed} cargo test -p skill-ledger-sync --test simulation {name}\n"
            );
            std::panic::resume_unwind(panic);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Simulated time
// ---------------------------------------------------------------------------------------

const START_UNIX_S: u64 = 1_750_000_000;

/// The one clock of a run: the nodes' (their sequencer threads read it), the mirrors' (last
/// pull and evidence times) and the backoff between retries, in simulated milliseconds since
/// `START_UNIX_S`. A backoff advances it instead of waiting.
#[derive(Default)]
struct SimClock(AtomicU64);

impl SimClock {
    fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for SimClock {
    fn now_unix_s(&self) -> u64 {
        START_UNIX_S + self.0.load(Ordering::SeqCst) / 1000
    }

    fn sleep(&self, duration: Duration) {
        self.advance(duration.as_millis() as u64);
    }
}

// ---------------------------------------------------------------------------------------
// One side: a node, its mirror of the partner and its witness of the partner
// ---------------------------------------------------------------------------------------

fn d(text: &str) -> Date {
    text.parse().expect("test date")
}

fn turner() -> OccupationCode {
    "6-18-01-01".parse().expect("occupation")
}

/// An entry the origin acknowledged: its index and leaf hash.
#[derive(Clone, Copy, Debug)]
struct Acknowledged {
    index: u64,
    leaf: Hash,
}

struct Side {
    origin: String,
    dir: PathBuf,
    body: RegistrationNumber,
    body_key: SigningKey,
    witness_key: SigningKey,
    clock: Arc<SimClock>,
    node: Option<Node>,
    mirror: Option<Mirror>,
    witness: Option<Witness>,
    next_serial: u32,
    next_id: u64,
    /// Distinguishes the people of a forked copy, so its entries differ from the original's.
    variant: u64,
    issued: Vec<CertificateNumber>,
    revoked: Vec<CertificateNumber>,
    acknowledged: Vec<Acknowledged>,
}

/// Opens a ledger directory a crashed node held, waiting briefly while the store's lock is
/// released by the threads of the dropped node.
fn open_node(dir: &Path, clock: &Arc<SimClock>) -> Node {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match Node::open_with_clock(dir, clock.clone()) {
            Ok((node, _)) => return node,
            Err(error) if std::time::Instant::now() < deadline => {
                let _ = error;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => panic!("reopen {}: {error}", dir.display()),
        }
    }
}

impl Side {
    fn create(root: &Path, province: Province, clock: &Arc<SimClock>) -> Side {
        let code = format!("{}", province.0);
        let mut options = if province == Province::CHONGQING {
            InitOptions::chongqing().importing_history()
        } else {
            InitOptions::for_province(province, "四川省人力资源和社会保障厅").importing_history()
        };
        options.pseudonym_key = Some(SHARED_PSEUDONYM_KEY);
        let dir = root.join(&code);
        let node = Node::init(&dir, options).expect("init");
        let origin = node.origin().to_string();
        node.close().expect("close after init");
        let byte = province.0;
        let mut side = Side {
            origin,
            node: Some(open_node(&dir, clock)),
            dir,
            body: format!("Y0000{code}000001")
                .parse()
                .expect("registration number"),
            body_key: SigningKey::from_bytes(&[byte; 32]),
            witness_key: SigningKey::from_bytes(&[byte.wrapping_add(100); 32]),
            clock: clock.clone(),
            mirror: None,
            witness: None,
            next_serial: 1,
            next_id: 1,
            variant: 0,
            issued: Vec::new(),
            revoked: Vec::new(),
            acknowledged: Vec::new(),
        };
        let registration = BodyRegistered {
            registration_number: side.body,
            name: format!("示例机械有限公司 {code}"),
            public_key: side.body_key.verifying_key().to_bytes(),
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
        let signed = side
            .node()
            .sign_as_authority(EventKind::BodyRegistered(registration));
        side.submit(signed);
        side
    }

    fn node(&self) -> &Node {
        self.node.as_ref().expect("the node is running")
    }

    fn home(&self) -> Home {
        Home::load(&self.dir).expect("load the home")
    }

    fn config(&self) -> PartnerConfig {
        let node = self.node();
        PartnerConfig {
            origin: self.origin.clone(),
            vkey: node.verifier_key_text().to_string(),
            url: None,
            witness_vkey: Some(self.cosigner().verifier_key_text()),
            pseudonym_key_fingerprint: pseudonym_key_fingerprint(node.pseudonym_key()),
        }
    }

    fn cosigner(&self) -> Cosigner {
        Cosigner::new(&witness_name(&self.origin), self.witness_key.clone()).expect("cosigner")
    }

    fn partner(&self) -> PartnerConfig {
        Partners::load(&self.home())
            .expect("partners")
            .partners
            .into_iter()
            .next()
            .expect("one partner")
    }

    /// Writes partners.toml naming `partner`, and opens the mirror and witness.
    fn befriend(&mut self, partner: PartnerConfig) {
        let home = self.home();
        let mut partners = Partners::load(&home).expect("load partners");
        partners.add(partner, &home).expect("add the partner");
        partners.save(&home).expect("save partners");
        self.open_federation();
    }

    fn open_federation(&mut self) {
        let home = self.home();
        let partner = self.partner();
        self.mirror = Some(Mirror::open(&home, &partner).expect("open the mirror"));
        let logs = BTreeMap::from([(partner.origin.clone(), partner.vkey.clone())]);
        self.witness = Some(Witness::new(&self.dir, self.cosigner(), logs));
    }

    /// Drops the node, the mirror and the witness in an order the seed picks, as a crash
    /// would (no close, no flush), then reopens them from disk.
    fn crash_and_restart(&mut self, rng: &mut Rng) {
        match rng.below(3) {
            0 => {
                self.node = None;
                self.mirror = None;
            }
            1 => {
                self.mirror = None;
                self.node = None;
            }
            _ => {
                self.witness = None;
                self.mirror = None;
                self.node = None;
            }
        }
        self.witness = None;
        self.node = Some(open_node(&self.dir, &self.clock));
        self.open_federation();
    }

    /// A copy of this ledger (its directory copied while closed) that goes its own way: the
    /// same key and history so far, different entries from now on.
    fn fork(&mut self, to: &Path) -> Side {
        self.mirror = None;
        self.witness = None;
        self.node.take().expect("running").close().expect("close");
        copy_dir(&self.dir, to);
        self.node = Some(open_node(&self.dir, &self.clock));
        self.open_federation();
        let mut fork = Side {
            origin: self.origin.clone(),
            dir: to.to_path_buf(),
            body: self.body,
            body_key: self.body_key.clone(),
            witness_key: self.witness_key.clone(),
            clock: self.clock.clone(),
            node: Some(open_node(to, &self.clock)),
            mirror: None,
            witness: None,
            next_serial: self.next_serial,
            next_id: self.next_id + 1_000_000,
            variant: self.variant + 1,
            issued: self.issued.clone(),
            revoked: self.revoked.clone(),
            acknowledged: self.acknowledged.clone(),
        };
        fork.open_federation();
        fork
    }

    fn submit(&mut self, signed: SignedEvent) {
        let entry = signed.to_entry().expect("encodable");
        let receipt = self.node().submit(signed).expect("accepted");
        assert!(!receipt.duplicate, "a fresh event");
        self.acknowledged.push(Acknowledged {
            index: receipt.index,
            leaf: leaf_hash(&entry),
        });
    }

    fn by_body(&mut self, kind: EventKind) -> SignedEvent {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&self.next_id.to_be_bytes());
        id[8] = self.body_key.as_bytes()[0];
        self.next_id += 1;
        SignedEvent::sign(
            &self.origin,
            Signer::Body(self.body),
            &self.body_key,
            Event {
                id: EventId(id),
                kind,
            },
        )
    }

    /// Issues `count` credentials to new people, submitted together (one or a few batches
    /// at the node); each is acknowledged.
    fn issue(&mut self, count: u64) {
        let issued = d("2021-06-01");
        let mut pending = Vec::new();
        for _ in 0..count {
            let serial = self.next_serial;
            self.next_serial += 1;
            let number =
                CertificateNumber::compose(self.body, issued.year(), Level::Junior, serial)
                    .expect("certifiable");
            let person = format!("{}{}{:0>11}", &self.origin[13..], self.variant, serial);
            let key = self.node().pseudonym_key();
            let kind = EventKind::LevelCertified(LevelCertified {
                certificate_number: number,
                subject: key.subject(
                    IdDocumentType::ResidentIdCard,
                    &format!("5101{person:0>14}"),
                ),
                name_commitment: key.commit_name(number.as_str(), "李四"),
                occupation: turner(),
                work_type: None,
                level: Level::Junior,
                issued,
                route: Route::Evaluation(EvaluationBasis::Attested {
                    statement: "中等职业学校毕业证书".to_string(),
                }),
            });
            let signed = self.by_body(kind);
            let leaf = leaf_hash(&signed.to_entry().expect("encodable"));
            pending.push((leaf, self.node().submit_pending(signed).expect("queued")));
            self.issued.push(number);
        }
        for (leaf, receipt) in pending {
            let receipt = receipt.wait().expect("accepted");
            assert!(!receipt.duplicate, "a fresh event");
            self.acknowledged.push(Acknowledged {
                index: receipt.index,
                leaf,
            });
        }
    }

    fn revoke(&mut self, rng: &mut Rng) {
        let candidates: Vec<CertificateNumber> = self
            .issued
            .iter()
            .filter(|number| !self.revoked.contains(number))
            .copied()
            .collect();
        if candidates.is_empty() {
            return;
        }
        let number = candidates[rng.below(candidates.len() as u64) as usize];
        let signed = self.by_body(EventKind::CredentialRevoked(CredentialRevoked {
            certificate_number: number,
            effective: d("2022-01-01"),
            reason: "考核作弊".to_string(),
        }));
        self.submit(signed);
        self.revoked.push(number);
    }
}

// ---------------------------------------------------------------------------------------
// The link between the two sides
// ---------------------------------------------------------------------------------------

/// Faults of one direction of the link, as the seed sets them.
#[derive(Clone, Copy, Debug, Default)]
struct Faults {
    partitioned: bool,
    /// Percent of requests lost (the request fails; for the witness, sometimes the answer).
    loss_percent: u64,
    /// Percent of checkpoint requests answered with an older checkpoint (a late answer).
    stale_percent: u64,
    /// Percent of witness requests preceded by a late copy of an earlier request.
    replay_percent: u64,
}

/// What the requester sees of the responder across the link.
struct Link<'a> {
    log: NodeLog<'a>,
    clock: &'a SimClock,
    witness: Option<&'a Witness>,
    faults: Faults,
    rng: RefCell<Rng>,
    /// Checkpoints the responder served before: what a late answer carries.
    served_checkpoints: &'a RefCell<Vec<String>>,
    /// Witness requests sent before: what a late delivery carries.
    sent_requests: &'a RefCell<Vec<Vec<u8>>>,
}

fn unavailable(why: &str) -> TransportError {
    TransportError::new(TransportErrorKind::Unavailable, why)
}

impl Link<'_> {
    fn lost(&self) -> bool {
        self.faults.partitioned || self.rng.borrow_mut().chance(self.faults.loss_percent)
    }
}

impl PartnerLog for Link<'_> {
    fn checkpoint(&self) -> FetchResult<String> {
        if self.lost() {
            return Err(unavailable("simulated loss"));
        }
        let current = self.log.checkpoint()?;
        let mut served = self.served_checkpoints.borrow_mut();
        if served.last() != Some(&current) {
            served.push(current.clone());
        }
        let mut rng = self.rng.borrow_mut();
        if rng.chance(self.faults.stale_percent) {
            return Ok(served[rng.below(served.len() as u64) as usize].clone());
        }
        Ok(current)
    }

    fn tile(&self, level: u8, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        if self.lost() {
            return Err(unavailable("simulated loss"));
        }
        self.log.tile(level, index, width)
    }

    fn entry_bundle(&self, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        if self.lost() {
            return Err(unavailable("simulated loss"));
        }
        self.log.entry_bundle(index, width)
    }

    fn describe(&self) -> String {
        format!("simulated link to {}", self.log.describe())
    }
}

impl WitnessTransport for Link<'_> {
    fn add_checkpoint(&self, body: &[u8]) -> FetchResult<(u16, Vec<u8>)> {
        let witness = self.witness.expect("a witness on the other side");
        if self.lost() {
            return Err(unavailable("simulated loss of the request"));
        }
        let now = self.clock.now_unix_s();
        let late = {
            let mut rng = self.rng.borrow_mut();
            let sent = self.sent_requests.borrow();
            (!sent.is_empty() && rng.chance(self.faults.replay_percent))
                .then(|| sent[rng.below(sent.len() as u64) as usize].clone())
        };
        if let Some(late) = late {
            // An old request arrives late; its answer goes nowhere.
            let answer = witness.add_checkpoint(&late, now);
            assert!(
                matches!(answer.status(), 200 | 409 | 422),
                "a replayed request is answered, not failed: {}",
                answer.status()
            );
        }
        self.sent_requests.borrow_mut().push(body.to_vec());
        let answer = witness.add_checkpoint(body, now);
        if self.rng.borrow_mut().chance(self.faults.loss_percent) {
            return Err(unavailable("simulated loss of the answer"));
        }
        Ok((answer.status(), answer.body()))
    }

    fn describe(&self) -> String {
        "simulated witness link".to_string()
    }
}

// ---------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------

struct World {
    _temp: tempfile::TempDir,
    sides: [Side; 2],
    clock: Arc<SimClock>,
    faults: [Faults; 2],
    served_checkpoints: [RefCell<Vec<String>>; 2],
    sent_requests: [RefCell<Vec<Vec<u8>>>; 2],
    rng: Rng,
    /// Storage faults are drawn from a stream of their own, so the steps a seed takes are the
    /// same with them as without.
    storage: Rng,
    tally: Tally,
}

/// What happened in one run, so a run that exercised nothing is noticed.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    pulls_ok: u64,
    pulls_failed: u64,
    pulls_stale: u64,
    cosigns_ok: u64,
    cosigns_failed: u64,
    crashes: u64,
    partitions: u64,
    /// Pulls with a storage fault armed under the puller's mirror directory.
    storage_faults: u64,
    /// Of those, pulls the fault failed.
    pulls_storage_failed: u64,
}

impl World {
    fn new(seed: u64) -> World {
        let temp = tempfile::tempdir().expect("temporary directory");
        let clock = Arc::new(SimClock::default());
        let mut chongqing = Side::create(temp.path(), Province::CHONGQING, &clock);
        let mut sichuan = Side::create(temp.path(), Province::SICHUAN, &clock);
        let (to_sichuan, to_chongqing) = (sichuan.config(), chongqing.config());
        chongqing.befriend(to_sichuan);
        sichuan.befriend(to_chongqing);
        World {
            _temp: temp,
            sides: [chongqing, sichuan],
            clock,
            faults: [Faults::default(); 2],
            served_checkpoints: Default::default(),
            sent_requests: Default::default(),
            rng: Rng(seed),
            storage: Rng(seed ^ 0x5354_4f52_4147_4521),
            tally: Tally::default(),
        }
    }

    fn advance_clock(&mut self, ms: u64) {
        self.clock.advance(ms);
    }

    fn link<'a>(
        clock: &'a SimClock,
        sides: &'a [Side; 2],
        faults: Faults,
        served: &'a RefCell<Vec<String>>,
        sent: &'a RefCell<Vec<Vec<u8>>>,
        responder: usize,
        seed: u64,
    ) -> Link<'a> {
        Link {
            log: NodeLog::new(sides[responder].node()),
            clock,
            witness: sides[responder].witness.as_ref(),
            faults,
            rng: RefCell::new(Rng(seed)),
            served_checkpoints: served,
            sent_requests: sent,
        }
    }

    /// Side `at` pulls its partner through the link; transport failures are expected,
    /// anything else is a defect.
    fn pull(&mut self, at: usize, healed: bool) -> bool {
        let partner = 1 - at;
        let faults = if healed {
            Faults::default()
        } else {
            self.faults[at]
        };
        let batch_entries_max = [1, 7, 64, 256, 1024][self.rng.below(5) as usize];
        let batches_max = (!healed && self.rng.chance(30)).then(|| 1 + self.rng.below(3));
        let options = PullOptions {
            batch_entries_max,
            batches_max,
            retries_max: 2,
            backoff_ms_initial: 100,
            backoff_ms_max: 1_000,
            clock: self.clock.clone(),
        };
        let link_seed = self.rng.next();
        let (sides, served, sent) = (
            &mut self.sides,
            &self.served_checkpoints[at],
            &self.sent_requests[at],
        );
        let [first, second] = sides;
        let (puller, responder) = if at == 0 {
            (first, &*second)
        } else {
            (second, &*first)
        };
        let link = Link {
            log: NodeLog::new(responder.node()),
            clock: &self.clock,
            witness: None,
            faults,
            rng: RefCell::new(Rng(link_seed)),
            served_checkpoints: served,
            sent_requests: sent,
        };
        // Sometimes the disk under the mirror fails: its store, its tree or its files.
        let mirrors = puller.dir.join("mirrors");
        let storage_fault = (!healed && self.storage.chance(20)).then(|| {
            let operation = [
                Operation::Write,
                Operation::ShortWrite,
                Operation::Fsync,
                Operation::DiskFull,
            ][self.storage.below(4) as usize];
            faults::fail(&mirrors, operation);
            operation
        });
        let mirror = puller.mirror.as_mut().expect("mirror open");
        let cursor_before = mirror.cursor();
        let result = mirror.pull(&link, &options, &mut |_| {});
        if storage_fault.is_some() {
            faults::clear(&mirrors);
            self.tally.storage_faults += 1;
        }
        match result {
            Ok(report) => {
                assert!(report.cursor_after >= cursor_before);
                self.tally.pulls_ok += 1;
                self.tally.pulls_stale += u64::from(report.stale_checkpoint);
                let _ = partner;
                report.caught_up() && report.checkpoint.size == responder.node().entry_count()
            }
            Err(error) if error.kind() == SyncErrorKind::Transport => {
                assert!(
                    mirror.cursor() >= cursor_before,
                    "a failed pull keeps what it held"
                );
                self.tally.pulls_failed += 1;
                false
            }
            Err(error)
                if storage_fault.is_some()
                    && matches!(error.kind(), SyncErrorKind::Store | SyncErrorKind::Io) =>
            {
                assert!(
                    mirror.cursor() >= cursor_before,
                    "a pull the disk failed keeps what it held ({storage_fault:?}: {error})"
                );
                self.tally.pulls_storage_failed += 1;
                false
            }
            Err(error) => panic!(
                "side {at} pulling (storage fault {storage_fault:?}): unexpected {:?}: {error}",
                error.kind()
            ),
        }
    }

    /// Side `at` asks the partner's witness to cosign its latest checkpoint.
    fn cosign(&mut self, at: usize, healed: bool) -> bool {
        let faults = if healed {
            Faults::default()
        } else {
            self.faults[at]
        };
        let link_seed = self.rng.next();
        let link = Self::link(
            &self.clock,
            &self.sides,
            faults,
            &self.served_checkpoints[at],
            &self.sent_requests[at],
            1 - at,
            link_seed,
        );
        let side = &self.sides[at];
        let partner = side.partner();
        match request_cosignature(&side.dir, side.node(), &partner, &link) {
            Ok(cosigned) => {
                self.tally.cosigns_ok += 1;
                cosigned.checkpoint.size == side.node().entry_count()
            }
            Err(error) if error.kind() == SyncErrorKind::Transport => {
                self.tally.cosigns_failed += 1;
                false
            }
            Err(error) => panic!(
                "side {at} cosigning: unexpected {:?}: {error}",
                error.kind()
            ),
        }
    }

    fn step(&mut self) {
        let at = self.rng.below(2) as usize;
        match self.rng.below(100) {
            0..=29 => {
                // Mostly a few, sometimes a burst that crosses a tile boundary.
                let count = if self.rng.chance(10) {
                    100 + self.rng.below(300)
                } else {
                    1 + self.rng.below(4)
                };
                self.sides[at].issue(count);
            }
            30..=36 => {
                let Self { sides, rng, .. } = self;
                sides[at].revoke(rng);
            }
            37..=61 => {
                self.pull(at, false);
            }
            62..=74 => {
                self.cosign(at, false);
            }
            75..=84 => {
                // The network changes: a partition begins or ends, loss and delays vary.
                let faults = Faults {
                    partitioned: self.rng.chance(30),
                    loss_percent: [0, 5, 20, 50][self.rng.below(4) as usize],
                    stale_percent: [0, 10, 40][self.rng.below(3) as usize],
                    replay_percent: [0, 20][self.rng.below(2) as usize],
                };
                self.tally.partitions += u64::from(faults.partitioned);
                if self.rng.chance(50) {
                    self.faults = [faults; 2];
                } else {
                    self.faults[at] = faults;
                }
            }
            85..=91 => {
                let Self { sides, rng, .. } = self;
                sides[at].crash_and_restart(rng);
                self.tally.crashes += 1;
            }
            _ => {
                let ms = 1 + self.rng.below(60_000);
                self.advance_clock(ms);
            }
        }
    }

    /// The network heals: pull and cosign both ways until both are level.
    fn heal(&mut self) {
        for _round in 0..20 {
            let mut level = true;
            for at in 0..2 {
                level &= self.pull(at, true);
                level &= self.cosign(at, true);
            }
            if level {
                return;
            }
            self.advance_clock(1_000);
        }
        panic!("the sides did not level within 20 healed rounds");
    }
}

/// Both mirrors hold exactly their origins, and nothing acknowledged is lost.
fn check_level(world: &World) {
    for at in 0..2 {
        let origin = &world.sides[1 - at];
        let holder = &world.sides[at];
        let node = origin.node();
        let mirror = holder.mirror.as_ref().expect("mirror");
        let signed = node.checkpoint().expect("origin checkpoint");

        // The same checkpoint and tree.
        let held = mirror.checkpoint().expect("a held checkpoint");
        assert_eq!(
            held.checkpoint, signed.checkpoint,
            "mirror of {}",
            origin.origin
        );
        assert_eq!(mirror.cursor(), node.entry_count());

        // Every acknowledged entry is in the origin's log at its index and provable from the
        // mirror's own tree under the origin's signed root.
        for acknowledged in &origin.acknowledged {
            let entry = node.log_reader().read(acknowledged.index).expect("read");
            assert_eq!(
                leaf_hash(&entry),
                acknowledged.leaf,
                "entry {}",
                acknowledged.index
            );
            let (proof, held) = mirror
                .inclusion_proof(acknowledged.index)
                .expect("inclusion proof");
            verify_inclusion(
                acknowledged.leaf,
                acknowledged.index,
                held.checkpoint.size,
                &proof,
                held.checkpoint.root,
            )
            .expect("the mirror proves the acknowledged entry");
        }

        // The same folded state: credentials, persons' holdings, counters.
        for number in &origin.issued {
            let at_origin = node.credential(number).expect("read").expect("issued");
            let foreign = mirror.credential(number).expect("read").expect("mirrored");
            assert_eq!(foreign.record, at_origin, "credential {number}");
            let subject = at_origin.subject;
            assert_eq!(
                mirror.person(&subject).expect("read"),
                node.person(&subject).expect("read"),
                "holder of {number}"
            );
            let leaf = leaf_hash(
                &node
                    .log_reader()
                    .read(at_origin.entry_index)
                    .expect("certifying entry"),
            );
            assert_eq!(foreign.leaf_hash, leaf);
        }
        assert_eq!(
            mirror.reader().stats().expect("mirror counters"),
            node.stats().expect("origin counters"),
            "counters of {}",
            origin.origin
        );
        assert!(mirror.alarm().expect("read").is_none());

        // The origin's latest checkpoint is cosigned by the partner's witness.
        let cosigned = load_cosigned(&origin.dir, node, &origin.partner())
            .expect("read")
            .expect("cosigned");
        assert_eq!(cosigned, signed.checkpoint);
        let witnessed = holder
            .witness
            .as_ref()
            .expect("witness")
            .latest(&origin.origin)
            .expect("read")
            .expect("witnessed");
        assert_eq!(witnessed.checkpoint, signed.checkpoint);
    }
}

const STEPS: u64 = 60;

fn partners_under_faults(seed: u64) {
    let mut world = World::new(seed);
    for _ in 0..STEPS {
        world.step();
    }
    world.heal();
    check_level(&world);
    // Once more after a crash of both: the state is on disk, not in memory.
    let World { sides, rng, .. } = &mut world;
    for side in sides.iter_mut() {
        side.crash_and_restart(rng);
    }
    check_level(&world);
    eprintln!(
        "seed {seed}: {:?}; entries {} and {}",
        world.tally,
        world.sides[0].node().entry_count(),
        world.sides[1].node().entry_count()
    );
}

#[test]
fn partners_under_partitions_loss_reordering_and_crashes_converge_and_lose_nothing() {
    for_each_seed(
        "partners_under_partitions_loss_reordering_and_crashes_converge_and_lose_nothing",
        10,
        partners_under_faults,
    );
}

// ---------------------------------------------------------------------------------------
// Equivocation
// ---------------------------------------------------------------------------------------

/// Whether two signed trees can both be true: the larger one's first leaves (read from the
/// branch that signed it) give the smaller one's root.
fn consistent(a: &Checkpoint, a_branch: &Node, b: &Checkpoint, b_branch: &Node) -> bool {
    let (smaller, larger_branch) = if a.size <= b.size {
        (a, b_branch)
    } else {
        (b, a_branch)
    };
    larger_branch
        .tree_reader()
        .root(smaller.size)
        .expect("a prefix root")
        == smaller.root
}

/// One pull of Chongqing's mirror from a branch of Sichuan; whether it caught the fork.
/// Panics unless the mirror refuses exactly the checkpoints inconsistent with the one it
/// holds, keeping evidence that verifies offline.
fn pull_from_branch(
    world: &mut World,
    fork: &Side,
    branch: usize,
    held_branch: &mut usize,
    complete: bool,
) -> bool {
    let World {
        sides, rng, clock, ..
    } = world;
    let [chongqing, sichuan] = sides;
    let branches = [sichuan.node(), fork.node()];
    let served_node = branches[branch];
    let served = served_node.checkpoint().expect("signed").as_ref().clone();
    let mirror = chongqing.mirror.as_mut().expect("mirror");
    let held = mirror.checkpoint().cloned();
    let inconsistent = held.as_ref().is_some_and(|held| {
        !consistent(
            &held.checkpoint,
            branches[*held_branch],
            &served.checkpoint,
            served_node,
        )
    });
    // The one case the mirror cannot judge on the spot: a smaller checkpoint that goes past
    // what it has folded of the held one, with the held tree's tiles not served (the other
    // branch answers). It then takes nothing: the held checkpoint stays, nothing is folded
    // past it, and a later checkpoint shows the fork.
    let cursor_before = mirror.cursor();
    let judgeable = held.as_ref().is_none_or(|held| {
        served.checkpoint.size >= held.checkpoint.size || served.checkpoint.size <= cursor_before
    });
    let options = PullOptions {
        batch_entries_max: [7, 256, 1024][rng.below(3) as usize],
        batches_max: (!complete && rng.chance(40)).then(|| 1 + rng.below(2)),
        clock: clock.clone(),
        ..PullOptions::default()
    };
    match mirror.pull(&NodeLog::new(served_node), &options, &mut |_| {}) {
        Ok(report) if inconsistent && !judgeable => {
            assert!(report.stale_checkpoint);
            assert_eq!(
                Some(&report.checkpoint),
                held.as_ref().map(|h| &h.checkpoint)
            );
            false
        }
        Err(error)
            if inconsistent
                && !judgeable
                && matches!(
                    error.kind(),
                    SyncErrorKind::Transport | SyncErrorKind::BadTile | SyncErrorKind::BadEntry
                ) =>
        {
            assert_eq!(mirror.checkpoint(), held.as_ref(), "{error}");
            false
        }
        Ok(report) => {
            assert!(
                !inconsistent,
                "a checkpoint of size {} inconsistent with the held one of size {} was taken \
                 (cursor {})",
                served.checkpoint.size,
                held.map_or(0, |held| held.checkpoint.size),
                report.cursor_before
            );
            if report.checkpoint == served.checkpoint {
                *held_branch = branch;
            }
            false
        }
        Err(error) if error.kind() == SyncErrorKind::Fork => {
            assert!(
                inconsistent,
                "a consistent checkpoint was called a fork: {error}"
            );
            let held = held.expect("held");
            let alarm = mirror.alarm().expect("read").expect("an alarm");
            assert_eq!(alarm.summary.kind, EvidenceKind::Fork);
            let files: BTreeMap<&str, &str> = alarm
                .files
                .iter()
                .map(|(name, text)| (name.as_str(), text.as_str()))
                .collect();
            assert_eq!(files["held.checkpoint"], held.note_text);
            assert_eq!(files["seen.checkpoint"], served.note_text);
            // Offline: the record read back from disk and Sichuan's verifier key, nothing else.
            let record = evidence::read_record(&alarm.path).expect("read the record");
            let vkey = served_node.verifier_key_text();
            let shown = evidence::verify_fork(&record, vkey).expect("the evidence shows a fork");
            assert!(shown.contains("skill-ledger/51"), "{shown}");
            // Altered evidence shows nothing.
            let mut altered = record.clone();
            for (name, text) in &mut altered.files {
                if name == "seen.checkpoint" {
                    *text = held.note_text.clone();
                }
            }
            evidence::verify_fork(&altered, vkey).expect_err("one tree twice is no fork");
            // Mirroring stays stopped, whichever branch answers.
            for node in branches {
                let refused = mirror
                    .pull(&NodeLog::new(node), &options, &mut |_| {})
                    .expect_err("stopped");
                assert_eq!(refused.kind(), SyncErrorKind::Alarm);
            }
            true
        }
        // A consistent partner that is behind the held checkpoint cannot serve its entries.
        Err(error) if error.kind() == SyncErrorKind::Transport && !inconsistent => false,
        Err(error) => panic!("unexpected {:?}: {error}", error.kind()),
    }
}

fn equivocating_partner(seed: u64) {
    let mut world = World::new(seed);
    let count = 1 + world.rng.below(300);
    world.sides[1].issue(count);
    world.pull(0, true);
    let fork_dir = world._temp.path().join("51-fork");
    let mut fork = world.sides[1].fork(&fork_dir);
    let switch_step = world.rng.below(8);
    let mut held_branch = 0;
    let mut cosigned: Vec<(Checkpoint, usize)> = Vec::new();
    let mut caught = false;
    for step in 0..24 {
        let count = if world.rng.chance(20) {
            1 + world.rng.below(300)
        } else {
            1 + world.rng.below(3)
        };
        match world.rng.below(5) {
            0 => world.sides[1].issue(count),
            1 => fork.issue(count),
            2 => {
                // Sichuan asks Chongqing's witness to cosign, from either branch.
                let branch = if step < switch_step {
                    0
                } else {
                    world.rng.below(2) as usize
                };
                let side = [&world.sides[1], &fork][branch];
                let witness = LocalWitness {
                    witness: world.sides[0].witness.as_ref().expect("witness"),
                    now_unix_s: world.clock.now_unix_s(),
                };
                let answer = request_cosignature(&side.dir, side.node(), &side.partner(), &witness);
                if let Ok(done) = answer {
                    cosigned.push((done.checkpoint, branch));
                }
                // The witness may see the fork first (one size, two roots): it keeps the
                // evidence with the mirror's, which stops mirroring too.
                let mirror = world.sides[0].mirror.as_ref().expect("mirror");
                if let Some(alarm) = mirror.alarm().expect("read") {
                    let record = evidence::read_record(&alarm.path).expect("read the record");
                    let vkey = side.node().verifier_key_text();
                    evidence::verify_fork(&record, vkey).expect("the evidence shows a fork");
                    caught = true;
                    break;
                }
            }
            _ => {
                let branch = if step < switch_step {
                    0
                } else {
                    world.rng.below(2) as usize
                };
                caught = pull_from_branch(&mut world, &fork, branch, &mut held_branch, false);
                if caught {
                    break;
                }
            }
        }
    }
    if !caught {
        // Both branches take an entry of their own; the mirror follows one, then sees the
        // other, which cannot extend it.
        world.sides[1].issue(1);
        fork.issue(1);
        let mut tries = 0;
        while !caught {
            let branch = if tries == 0 {
                held_branch
            } else {
                1 - held_branch
            };
            caught = pull_from_branch(&mut world, &fork, branch, &mut held_branch, true);
            tries += 1;
            assert!(tries < 20, "the fork was never caught");
        }
    }
    // The witness never cosigned two checkpoints that cannot both be true.
    let branches = [world.sides[1].node(), fork.node()];
    for (a, a_branch) in &cosigned {
        for (b, b_branch) in &cosigned {
            assert!(
                consistent(a, branches[*a_branch], b, branches[*b_branch]),
                "the witness cosigned sizes {} and {} of two branches",
                a.size,
                b.size
            );
        }
    }
}

#[test]
fn an_equivocating_partner_is_caught_on_the_first_inconsistent_checkpoint_with_offline_evidence() {
    for_each_seed(
        "an_equivocating_partner_is_caught_on_the_first_inconsistent_checkpoint_with_offline_evidence",
        6,
        equivocating_partner,
    );
}
