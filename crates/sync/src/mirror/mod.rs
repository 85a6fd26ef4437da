//! The mirror of one partner ledger: verified catch-up from the partner's C2SP static files
//! into a foreign-credential projection, with fork and rule-violation alarms.
//!
//! ## What a pull does
//! 1. Fetch `/checkpoint`; verify its signature with the configured key (`BadCheckpoint`).
//! 2. Check it against the checkpoint held: same size needs the same root; a larger one must
//!    extend the held tree: the root at the held size is recomputed from the new
//!    checkpoint's hash tiles, which `skill_ledger_log::AuthenticatedTiles` authenticates against the
//!    new signed root. A mismatch between two signed checkpoints is a fork: both notes are
//!    kept as evidence and mirroring stops. Tiles that do not hash to the signed root are
//!    refused (`BadTile`) and change nothing. The new checkpoint is then held.
//! 3. In bounded batches, fetch the entry bundles up to the held size, check every entry
//!    against its leaf hash from the authenticated tiles (`BadEntry`), then decode it, check
//!    its signature against the partner's own registry and `decide` it by the same rules a
//!    node uses. An entry the rules refuse is a rule violation: evidence, alarm, stop.
//!    Accepted entries are folded with `apply` and committed in one sled batch with the
//!    cursor (the credentials a batch certifies are written just ahead of it, and read as
//!    absent until the cursor passes them); the partner's leaf hashes go into the mirror's
//!    own Merkle tree (`tree/hashes`), synced before the batch commits, so the mirror can
//!    prove what it holds. Batches are pipelined: while one is folded, the next is fetched
//!    and authenticated and its entries decoded and their signatures batch-verified on the
//!    other cores (`verify.rs`), and the one before writes its sled batch on a thread of its
//!    own; a failure fetching the next batch is reported after the current one commits.
//!
//! ## The fold is the node's
//! The mirror only fetches, authenticates and feeds: the fold is the projection engine every
//! node uses ([`skill_ledger_node::engine::Engine`]), over the mirror's own records
//! (`store`): the same `decide` and `apply`, the same overlay of batches not yet in the store,
//! the same event-id index and filter of held keys, the same in-order commit with the cursor.
//!
//! ## Invariants
//! * Nothing enters the mirror unless a verified partner checkpoint covers it.
//! * Fork and rule-violation evidence is never deleted; an alarm blocks pulls until cleared.
//! * An interrupted pull resumes at the committed cursor: nothing committed is fetched again.
//! * Batches reach the tree and the store in order, one at a time; whatever ends a pull, it
//!   waits for the commit under way, so the mirror's cursor is the store's.
//!
//! ## Where it lives
//! `fetch` talks to the partner and authenticates what it serves; `checkpoint` checks
//! and holds the partner's checkpoints and keeps evidence; `fold` feeds verified batches to
//! the engine and commits them; `store` is the mirror's key layout; `reader` reads a
//! mirror's store from other threads.

mod checkpoint;
mod fetch;
mod fold;
mod reader;
mod store;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use skill_ledger_domain::{
    BodyRecord, CertificateNumber, CredentialRecord, PersonRecord, Registry, SubjectId,
};
use skill_ledger_log::{
    parse_and_verify_checkpoint_with_any, Checkpoint, Clock, Hash, MerkleTree, SignedCheckpoint,
    SystemClock,
};
use skill_ledger_node::engine::Engine;
use skill_ledger_node::store::StoreTree;

use crate::config::{Home, PartnerConfig};
use crate::error::{Result, SyncError, SyncErrorKind};
use crate::evidence::{self, EvidenceRecord};
use crate::transport::PartnerLog;
use checkpoint::{configured_key, decode_keys, held_keys};
pub use fetch::parse_bundle;
use fetch::TileFetcher;
pub use reader::MirrorReader;
use store::{
    committed_credential, engine_error, open_store, store_error, stored_person, u64_value,
    MirrorRecords, CAREERS_LAYOUT, KEY_CAREERS, KEY_CHECKPOINT, KEY_CREDENTIALS, KEY_CURSOR,
    KEY_FOLLOWED_KEYS, KEY_LAST_PULL,
};

/// The file, beside the mirror's store, that tells this home's witness which keys of the
/// partner sign its checkpoints now (`trusted <hex>`) and which it retired (`retired <hex>`).
pub const AUTHORITY_KEYS_FILE: &str = "authority-keys";

/// A partner credential as the mirror holds it: the record the partner's own fold gives,
/// and the leaf hash of the entry that certified it (entry `record.entry_index`).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct ForeignCredential {
    pub record: CredentialRecord,
    pub leaf_hash: [u8; 32],
}

/// How a pull is bounded and paced.
#[derive(Clone)]
pub struct PullOptions {
    /// Entries fetched, verified and committed together (rounded to whole bundles when ≥ 256).
    pub batch_entries_max: u64,
    /// Stop after this many batches (the next pull resumes); `None` runs to the checkpoint.
    pub batches_max: Option<u64>,
    /// Retries of one fetch the partner answered "unavailable".
    pub retries_max: u32,
    pub backoff_ms_initial: u64,
    pub backoff_ms_max: u64,
    /// The clock of "last pull" and evidence times, and of the waits between retries (a
    /// simulated clock advances instead of sleeping).
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PullOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullOptions")
            .field("batch_entries_max", &self.batch_entries_max)
            .field("batches_max", &self.batches_max)
            .field("retries_max", &self.retries_max)
            .field("backoff_ms_initial", &self.backoff_ms_initial)
            .field("backoff_ms_max", &self.backoff_ms_max)
            .finish_non_exhaustive()
    }
}

impl Default for PullOptions {
    fn default() -> PullOptions {
        PullOptions {
            batch_entries_max: 1024,
            batches_max: None,
            retries_max: 4,
            backoff_ms_initial: 250,
            backoff_ms_max: 8_000,
            clock: Arc::new(SystemClock),
        }
    }
}

/// Fetches made by one pull.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FetchCounts {
    pub checkpoints: u64,
    pub tiles: u64,
    pub bundles: u64,
    pub retries: u64,
}

/// Where a pull's time went, in microseconds of this thread's wall time (verification runs
/// on other threads; `verify_wait_us` is how long folding waited for it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PullTimings {
    /// Fetching bundles and tiles and authenticating the leaf hashes.
    pub fetch_us: u64,
    pub verify_wait_us: u64,
    /// `decide` and `apply` of every entry against the store.
    pub fold_us: u64,
    /// Waiting for the previous batch's sled batch, appending and syncing the tree, and
    /// starting this batch's sled batch.
    pub commit_us: u64,
    /// Of `commit_us`: appending and syncing the tree.
    pub tree_us: u64,
    /// The sled batches, on their own thread (while the next batch folds); not part of
    /// `commit_us` except where this thread waited for one.
    pub store_us: u64,
}

/// What a pull did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullReport {
    pub partner: String,
    pub source: String,
    /// The partner checkpoint the mirror holds after the pull.
    pub checkpoint: Checkpoint,
    /// The partner served a checkpoint older than the one held (consistent with it).
    pub stale_checkpoint: bool,
    pub cursor_before: u64,
    pub cursor_after: u64,
    pub batches: u64,
    pub fetches: FetchCounts,
    pub credentials: u64,
    pub timings: PullTimings,
}

impl PullReport {
    /// Whether the mirror holds every entry of the partner checkpoint it holds.
    pub fn caught_up(&self) -> bool {
        self.cursor_after == self.checkpoint.size
    }
}

/// Progress of a pull: entries folded so far and the size being caught up to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PullProgress {
    pub cursor: u64,
    pub target: u64,
}

/// Freshness and state of a mirror, for `sync status`, `/healthz` and the portal.
#[derive(Clone, Debug)]
pub struct MirrorStatus {
    pub partner: String,
    /// The partner checkpoint held (size, root, its signing time).
    pub checkpoint: Option<Checkpoint>,
    /// Partner entries verified and folded.
    pub cursor: u64,
    pub last_pull_unix_s: Option<u64>,
    /// Partner credentials known (valid or revoked).
    pub credentials: u64,
    /// The oldest uncleared evidence record, if mirroring is stopped.
    pub alarm: Option<EvidenceRecord>,
}

impl MirrorStatus {
    pub fn caught_up(&self) -> bool {
        self.checkpoint
            .as_ref()
            .is_some_and(|checkpoint| checkpoint.size == self.cursor)
    }
}

/// One partner's mirror, stored under `mirrors/<origin>/` of the home ledger.
pub struct Mirror {
    origin: String,
    vkey: String,
    /// The public key of `vkey`.
    configured: [u8; 32],
    /// Authority keys learned from the partner's log ahead of the fold (KEY_FOLLOWED_KEYS).
    followed: Vec<[u8; 32]>,
    dir: PathBuf,
    records: StoreTree,
    tree: MerkleTree,
    /// The partner's registry as committed (the engine's runs ahead while a batch folds).
    registry: Registry,
    /// The fold of the partner's entries into the mirror's records.
    engine: Engine<MirrorRecords>,
    cursor: u64,
    credentials: u64,
    checkpoint: Option<SignedCheckpoint>,
    last_pull_unix_s: Option<u64>,
    /// Of the pull under way.
    timings: Cell<PullTimings>,
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror")
            .field("origin", &self.origin)
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

impl Mirror {
    /// Opens (or creates) the mirror of `partner` in the home ledger directory. Takes the
    /// mirror store's lock: a second process mirroring the same partner is refused.
    pub fn open(home: &Home, partner: &PartnerConfig) -> Result<Mirror> {
        let dir = home.mirror_dir(&partner.origin);
        std::fs::create_dir_all(&dir).map_err(|error| SyncError::io(&dir, "create", error))?;
        let db_path = dir.join("db");
        let records = open_store(&db_path, home.store_cache_bytes)?;
        let read_u64 = |key: &[u8], what: &str| -> Result<Option<u64>> {
            records
                .get(key)?
                .map(|bytes| u64_value(&bytes, what))
                .transpose()
        };
        let cursor = read_u64(KEY_CURSOR, "the cursor")?.unwrap_or(0);
        let credentials = read_u64(KEY_CREDENTIALS, "the credential count")?.unwrap_or(0);
        let last_pull_unix_s = read_u64(KEY_LAST_PULL, "the last pull time")?;
        let configured = configured_key(&partner.vkey)?;
        let registry = store::load_registry(&records)?;
        let followed = records
            .get(KEY_FOLLOWED_KEYS)?
            .map(|bytes| decode_keys(&bytes))
            .unwrap_or_default();
        let checkpoint = match records.get(KEY_CHECKPOINT)? {
            None => None,
            Some(bytes) => {
                let note_text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                    store_error("mirror store: the held checkpoint is not UTF-8".to_string())
                })?;
                let keys = held_keys(configured, &registry, &followed);
                let checkpoint =
                    parse_and_verify_checkpoint_with_any(&note_text, &partner.origin, &keys)
                        .map_err(|error| {
                            SyncError::new(
                                SyncErrorKind::Config,
                                format!(
                                "the held checkpoint of {} does not verify with the configured \
                                 vkey ({error}); was the partner's key changed in partners.toml?",
                                partner.origin
                            ),
                            )
                        })?;
                // The configured key must be the partner's: one its log names (or that signed
                // what is held). Another key under the same name is a misconfiguration.
                let logged = held_keys(configured, &registry, &followed);
                if !logged[1..].contains(&configured)
                    && parse_and_verify_checkpoint_with_any(
                        &note_text,
                        &partner.origin,
                        &[configured],
                    )
                    .is_err()
                {
                    return Err(SyncError::new(
                        SyncErrorKind::Config,
                        format!(
                            "the configured vkey of {} is not a key of its log, and the held \
                             checkpoint does not verify with it: was the partner's key changed \
                             in partners.toml?",
                            partner.origin
                        ),
                    ));
                }
                Some(SignedCheckpoint {
                    checkpoint,
                    note_text,
                })
            }
        };
        let held_size = checkpoint.as_ref().map_or(0, |held| held.checkpoint.size);
        if cursor > held_size {
            return Err(store_error(format!(
                "mirror store of {}: cursor {cursor} is past the held checkpoint ({held_size})",
                partner.origin
            )));
        }
        let mut tree = MerkleTree::open(&dir.join("tree"))
            .map_err(|error| store_error(format!("mirror tree of {}: {error}", partner.origin)))?;
        if tree.size() > cursor {
            // Leaves of a batch whose commit did not happen.
            tree.truncate_to(cursor)
                .map_err(|error| store_error(format!("mirror tree: {error}")))?;
        }
        if tree.size() < cursor {
            return Err(store_error(format!(
                "mirror tree of {} holds {} leaves, fewer than the {cursor} entries folded: \
                 remove {} and {} to mirror the partner again",
                partner.origin,
                tree.size(),
                dir.join("db").display(),
                dir.join("tree").display()
            )));
        }
        if let Some(held) = &checkpoint {
            if cursor == held.checkpoint.size && cursor > 0 {
                let root = tree
                    .reader()
                    .root(cursor)
                    .map_err(|error| store_error(format!("mirror tree: {error}")))?;
                if root != held.checkpoint.root {
                    return Err(store_error(format!(
                        "mirror tree of {} does not match the held checkpoint: remove {} and {} \
                         to mirror the partner again",
                        partner.origin,
                        dir.join("db").display(),
                        dir.join("tree").display()
                    )));
                }
            }
        }
        if cursor == 0 {
            records.insert(KEY_CAREERS, &[CAREERS_LAYOUT][..])?;
        }
        let keeps_careers = match records.get(KEY_CAREERS)?.as_deref() {
            None => false,
            Some([CAREERS_LAYOUT]) => true,
            Some(other) => {
                return Err(store_error(format!(
                    "the mirror store of {} in {} holds career records of layout {other:?}, \
                     not {CAREERS_LAYOUT} (career records gained the 专项职业能力证书): remove \
                     that directory and pull again; the partner's log is fetched and verified \
                     anew",
                    partner.origin,
                    dir.display()
                )))
            }
        };
        let mirrored = MirrorRecords::new(records.clone(), cursor, keeps_careers);
        let engine = if cursor == 0 {
            Engine::fresh(mirrored)
        } else {
            let mut engine = Engine::open(mirrored).map_err(engine_error)?;
            // Until the scan arrives every absent key is read from the store.
            if let Err(error) = engine.scan_held_keys("mirror-scan", || {}) {
                tracing::warn!(%error, "starting the mirror store's key scan");
            }
            engine
        };
        Ok(Mirror {
            origin: partner.origin.clone(),
            vkey: partner.vkey.clone(),
            configured,
            followed,
            dir,
            records,
            tree,
            registry,
            engine,
            cursor,
            credentials,
            checkpoint,
            last_pull_unix_s,
            timings: Cell::new(PullTimings::default()),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `mirrors/<origin>/` of the home ledger.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `mirrors/<origin>/evidence/`.
    pub fn evidence_dir(&self) -> PathBuf {
        self.dir.join("evidence")
    }

    /// Partner entries verified and folded.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// The partner checkpoint held (verified, consistent with every earlier one held).
    pub fn checkpoint(&self) -> Option<&SignedCheckpoint> {
        self.checkpoint.as_ref()
    }

    /// The partner's registry (bodies, policies, catalogue) as its log made it.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn body(&self, number: &skill_ledger_domain::RegistrationNumber) -> Option<&BodyRecord> {
        self.registry.bodies.get(number)
    }

    /// A partner credential by certificate number.
    pub fn credential(&self, number: &CertificateNumber) -> Result<Option<ForeignCredential>> {
        committed_credential(&self.records, number, self.cursor)
    }

    /// A person's holdings on the partner ledger (the subject is shared between partners).
    pub fn person(&self, subject: &SubjectId) -> Result<Option<PersonRecord>> {
        stored_person(&self.records, subject)
    }

    /// The oldest uncleared evidence record: while there is one, pulls are refused.
    pub fn alarm(&self) -> Result<Option<EvidenceRecord>> {
        evidence::active_alarm(&self.evidence_dir())
    }

    /// Every evidence record of this partner, oldest first.
    pub fn evidence(&self) -> Result<Vec<EvidenceRecord>> {
        evidence::list(&self.evidence_dir())
    }

    pub fn status(&self) -> Result<MirrorStatus> {
        Ok(MirrorStatus {
            partner: self.origin.clone(),
            checkpoint: self.checkpoint.as_ref().map(|held| held.checkpoint.clone()),
            cursor: self.cursor,
            last_pull_unix_s: self.last_pull_unix_s,
            credentials: self.credentials,
            alarm: self.alarm()?,
        })
    }

    /// An inclusion proof of partner entry `index` in the held checkpoint, from the mirror's
    /// own tree (the mirror must have caught up with that checkpoint).
    pub fn inclusion_proof(&self, index: u64) -> Result<(Vec<Hash>, SignedCheckpoint)> {
        let held = self
            .checkpoint
            .clone()
            .filter(|held| held.checkpoint.size == self.cursor)
            .ok_or_else(|| {
                store_error(format!(
                    "the mirror of {} has not caught up with its checkpoint",
                    self.origin
                ))
            })?;
        let proof = self
            .tree
            .reader()
            .inclusion_proof(index, held.checkpoint.size)
            .map_err(|error| store_error(format!("mirror tree: {error}")))?;
        Ok((proof, held))
    }

    /// Ends the alarm (the evidence stays, marked cleared) and forgets the mirrored state, so
    /// the next pull mirrors the partner from its current log. For an operator who has
    /// settled the matter with the partner.
    pub fn clear_alarm(&mut self, reason: &str, now_unix_s: u64) -> Result<usize> {
        let cleared = evidence::clear(&self.evidence_dir(), reason, now_unix_s)?;
        self.records.clear()?;
        self.records.insert(KEY_CAREERS, &[CAREERS_LAYOUT][..])?;
        self.records.store().flush()?;
        self.tree
            .truncate_to(0)
            .map_err(|error| store_error(format!("mirror tree: {error}")))?;
        self.registry = Registry::default();
        self.engine = Engine::fresh(MirrorRecords::new(self.records.clone(), 0, true));
        self.cursor = 0;
        self.credentials = 0;
        self.checkpoint = None;
        self.last_pull_unix_s = None;
        Ok(cleared)
    }

    /// Catches up with the partner as far as `options` allow. See the module documentation.
    pub fn pull(
        &mut self,
        log: &dyn PartnerLog,
        options: &PullOptions,
        progress: &mut dyn FnMut(PullProgress),
    ) -> Result<PullReport> {
        if options.batch_entries_max == 0 {
            return Err(SyncError::new(
                SyncErrorKind::Config,
                "batch_entries_max must be at least 1",
            ));
        }
        if let Some(alarm) = self.alarm()? {
            return Err(SyncError::new(
                SyncErrorKind::Alarm,
                format!(
                    "mirroring of {} is stopped: {} detected at {} ({}); evidence in {}; \
                     see `skill-ledger sync evidence`",
                    self.origin,
                    alarm.summary.kind.id(),
                    alarm.summary.detected_unix_s,
                    alarm.summary.detail,
                    alarm.path.display()
                ),
            ));
        }
        if self.tree.size() > self.cursor {
            // Leaves of a batch whose store commit failed in an earlier pull: they are
            // fetched, authenticated and appended again.
            self.tree
                .truncate_to(self.cursor)
                .map_err(|error| store_error(format!("mirror tree: {error}")))?;
        }
        let fetcher = TileFetcher::new(log, options);
        self.timings.set(PullTimings::default());
        let cursor_before = self.cursor;
        let note = fetcher.checkpoint()?;
        let seen = match self.verify_checkpoint(note.clone(), log) {
            Err(error) if error.kind() == SyncErrorKind::BadCheckpoint => {
                self.follow_key_change(note, &fetcher, error)?
            }
            verified => verified?,
        };
        let stale_checkpoint = self.advance_checkpoint(&seen, &fetcher, options)?;
        let Some(target) = self.checkpoint.clone() else {
            unreachable!("advance_checkpoint holds a checkpoint")
        };
        // The batches, pipelined: while one is folded on this thread, the next is fetched,
        // authenticated, decoded and verified on the other cores, and the one before commits
        // its sled batch on a thread of its own. Whatever fails, the commit under way is
        // waited for before the pull returns, so the mirror's state is the store's.
        let mut pending = None;
        let pulled = self.pull_batches(&fetcher, &target, options, progress, &mut pending);
        let finished = self.finish_commit(pending.take());
        let batches = pulled?;
        finished?;
        if self.cursor == target.checkpoint.size && self.cursor > cursor_before {
            // Pair assertion: every leaf was authenticated one by one; the whole must give
            // the signed root.
            let root = self
                .tree
                .reader()
                .root(self.cursor)
                .map_err(|error| store_error(format!("mirror tree: {error}")))?;
            if root != target.checkpoint.root {
                return Err(store_error(format!(
                    "mirror tree of {} at size {} does not give the signed root",
                    self.origin, self.cursor
                )));
            }
        }
        self.publish_authority_keys()?;
        let now = options.clock.now_unix_s();
        self.records.insert(KEY_LAST_PULL, &now.to_le_bytes())?;
        self.records.store().flush()?;
        self.last_pull_unix_s = Some(now);
        Ok(PullReport {
            partner: self.origin.clone(),
            source: log.describe(),
            checkpoint: target.checkpoint,
            stale_checkpoint,
            cursor_before,
            cursor_after: self.cursor,
            batches,
            fetches: fetcher.counts.get(),
            credentials: self.credentials,
            timings: self.timings.take(),
        })
    }
}

impl Mirror {
    fn time<T>(&self, stage: fn(&mut PullTimings) -> &mut u64, work: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let result = work();
        let mut timings = self.timings.get();
        *stage(&mut timings) += started.elapsed().as_micros() as u64;
        self.timings.set(timings);
        result
    }

    /// A reader of this mirror's store for other threads (see [`MirrorReader`]).
    pub fn reader(&self) -> MirrorReader {
        MirrorReader::new(
            self.origin.clone(),
            self.vkey.clone(),
            self.evidence_dir(),
            self.records.clone(),
        )
    }
}
