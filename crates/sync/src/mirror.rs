//! The mirror of one partner ledger: verified catch-up from the partner's C2SP static files
//! into a foreign-credential projection, with fork and rule-violation alarms.
//!
//! ## What a pull does
//! 1. Fetch `/checkpoint`; verify its signature with the configured key (`BadCheckpoint`).
//! 2. Check it against the checkpoint held: same size needs the same root; a larger one must
//!    extend the held tree: the root at the held size is recomputed from the new
//!    checkpoint's hash tiles, which `tlog_tiles::TileHashReader` authenticates against the
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
//! ## What the fold reads
//! Event ids come from an in-memory index (the node's `EventIndex`, loaded from the packed
//! `i` chunks at open; a candidate is confirmed by the id held at its index). Credential,
//! person and career records are read from the batch being folded, then the batch whose
//! commit is under way, then the store, and the store only when a filter of the keys it
//! holds (the node's `KnownKeys`, filled by a background scan at open) says it may hold one:
//! most certifications name a new certificate number, and a sled read that finds nothing
//! still costs a tree descent.
//!
//! ## Invariants
//! * Nothing enters the mirror unless a verified partner checkpoint covers it.
//! * Fork and rule-violation evidence is never deleted; an alarm blocks pulls until cleared.
//! * An interrupted pull resumes at the committed cursor: nothing committed is fetched again.
//! * Batches reach the tree and the store in order, one at a time; whatever ends a pull, it
//!   waits for the commit under way, so the mirror's cursor is the store's.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::prelude::{Engine, BASE64_STANDARD};
use skill_ledger_domain::{
    apply, decide, BodyRecord, CareerRecord, CertificateNumber, CredentialRecord, EventId,
    EventKind, MemoryLedger, PersonRecord, RecordView, Registry, SignedEvent, SpecialAbilityRecord,
    SubjectId, BINCODE_CONFIG,
};
use skill_ledger_log::{
    entry_bundle_path, leaf_hash, parse_and_verify_checkpoint_with_any,
    parse_checkpoint_unverified, tile_path, verifier_public_key, Checkpoint, Hash, MerkleTree,
    SignedCheckpoint, EMPTY_TREE_ROOT, TILE_HEIGHT, TILE_WIDTH_MAX,
};
use std::collections::HashMap;

use skill_ledger_node::store::{Store, StoreOptions, StoreTree};
use skill_ledger_node::{EventIndex, KnownKeys, NodeErrorKind, Tagger};
use tlog_tiles::{HashReader, Tile};

use crate::config::{Home, PartnerConfig};
use crate::error::{Result, SyncError, SyncErrorKind};
use crate::evidence::{self, EvidenceKind, EvidenceRecord};
use crate::fsutil;
use crate::transport::{FetchResult, PartnerLog, TransportError, TransportErrorKind};

const KEY_CURSOR: &[u8] = b"m/cursor";
const KEY_CHECKPOINT: &[u8] = b"m/checkpoint";
const KEY_LAST_PULL: &[u8] = b"m/last_pull";
const KEY_CREDENTIALS: &[u8] = b"m/credentials";
/// While the cursor is short of the held checkpoint: the consistency proof from the mirror's
/// own tree at the cursor to the held checkpoint (text of `evidence::ConsistencyProof`), so a
/// fork with a smaller checkpoint can be shown without the partner's tiles.
const KEY_HELD_PROOF: &[u8] = b"m/held-proof";
/// Present when the store keeps career records from entry 0 (created by a build that does).
const KEY_CAREERS: &[u8] = b"m/careers";
/// The value of [`KEY_CAREERS`]: the layout of the career records (`k` keys). 2: with the
/// special abilities (issue 19); a store of layout 1 is refused with a message to pull again.
const CAREERS_LAYOUT: u8 = 2;
/// Authority keys of the partner learned from its log before the entries naming them were
/// folded (32 bytes each; see [`Mirror::follow_key_change`]).
const KEY_FOLLOWED_KEYS: &[u8] = b"m/followed-keys";
/// The file, beside the mirror's store, that tells this home's witness which keys of the
/// partner sign its checkpoints now (`trusted <hex>`) and which it retired (`retired <hex>`).
pub const AUTHORITY_KEYS_FILE: &str = "authority-keys";
const PREFIX_CAREER: u8 = b'k';
const PREFIX_CREDENTIAL: u8 = b'c';
const PREFIX_PERSON: u8 = b'p';
/// `z` ‖ certificate number: a partner's 专项职业能力证书, bincode([`SpecialAbilityRecord`]).
const PREFIX_SPECIAL_ABILITY: u8 = b'z';
/// `i` ‖ first entry index (u64 BE): the event ids of the entries one batch committed, packed.
const PREFIX_EVENT_IDS: u8 = b'i';
/// `e` ‖ event id: the entry index, one key per event (stores written before the packed ids;
/// converted on open).
const PREFIX_EVENT_LEGACY: u8 = b'e';
const PREFIX_REGISTRY_ENTRY: u8 = b'r';
/// Statistics counters of the partner's ledger (the same names as the node's), i64 LE.
const PREFIX_STAT: u8 = b's';

/// Verified tiles kept in memory during one pull (8 KiB each at most).
const TILE_CACHE_MAX: usize = 64;

/// A partner credential as the mirror holds it: the record the partner's own fold gives,
/// and the leaf hash of the entry that certified it (entry `record.entry_index`).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct ForeignCredential {
    pub record: CredentialRecord,
    pub leaf_hash: [u8; 32],
}

/// How a pull is bounded and paced.
#[derive(Clone, Debug)]
pub struct PullOptions {
    /// Entries fetched, verified and committed together (rounded to whole bundles when ≥ 256).
    pub batch_entries_max: u64,
    /// Stop after this many batches (the next pull resumes); `None` runs to the checkpoint.
    pub batches_max: Option<u64>,
    /// Retries of one fetch the partner answered "unavailable".
    pub retries_max: u32,
    pub backoff_ms_initial: u64,
    pub backoff_ms_max: u64,
    /// How to wait between retries (tests pass a function that does not sleep).
    pub sleep: fn(Duration),
    /// The clock for "last pull" and evidence times.
    pub now_unix_s: fn() -> u64,
}

impl Default for PullOptions {
    fn default() -> PullOptions {
        PullOptions {
            batch_entries_max: 1024,
            batches_max: None,
            retries_max: 4,
            backoff_ms_initial: 250,
            backoff_ms_max: 8_000,
            sleep: std::thread::sleep,
            now_unix_s: fsutil::now_unix_s,
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

fn store_error(message: String) -> SyncError {
    SyncError::new(SyncErrorKind::Store, message)
}

fn decode<T: bincode::Decode<()>>(bytes: &[u8], what: &str) -> Result<T> {
    bincode::decode_from_slice(bytes, BINCODE_CONFIG)
        .map(|(value, _)| value)
        .map_err(|error| store_error(format!("mirror store: {what} does not decode: {error}")))
}

fn encode<T: bincode::Encode>(value: &T) -> Vec<u8> {
    bincode::encode_to_vec(value, BINCODE_CONFIG)
        .unwrap_or_else(|error| panic!("records are bounded far below the encoding limit: {error}"))
}

fn u64_value(bytes: &[u8], what: &str) -> Result<u64> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_le_bytes)
        .map_err(|_| store_error(format!("mirror store: {what} is not 8 bytes")))
}

fn key(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + rest.len());
    key.push(prefix);
    key.extend_from_slice(rest);
    key
}

/// Changes of one batch, before they commit.
#[derive(Default)]
struct Overlay {
    /// The batch's first entry.
    start: u64,
    /// Event ids of the entries folded so far, from `start` on.
    ids: Vec<EventId>,
    credentials: BTreeMap<CertificateNumber, ForeignCredential>,
    special_abilities: BTreeMap<CertificateNumber, SpecialAbilityRecord>,
    persons: BTreeMap<SubjectId, PersonRecord>,
    careers: BTreeMap<SubjectId, CareerRecord>,
    registry_entries: Vec<(u64, Vec<u8>)>,
    new_credentials: u64,
    /// Counter deltas by key; names are rendered once per batch, at commit.
    stats: BTreeMap<skill_ledger_domain::StatKey, i64>,
}

impl Overlay {
    fn event_id(&self, index: u64) -> Option<&EventId> {
        let offset = usize::try_from(index.checked_sub(self.start)?).ok()?;
        self.ids.get(offset)
    }
}

/// The event id of committed entry `index`, from its packed `i` chunk.
fn stored_event_id(records: &sled::Tree, index: u64) -> Result<Option<EventId>> {
    let from = key(PREFIX_EVENT_IDS, &0u64.to_be_bytes());
    let to = key(PREFIX_EVENT_IDS, &index.to_be_bytes());
    let Some(item) = records.range(from..=to).next_back() else {
        return Ok(None);
    };
    let (chunk_key, ids) = item?;
    let first = chunk_first(&chunk_key)?;
    let id = usize::try_from(index - first)
        .ok()
        .and_then(|offset| offset.checked_mul(16))
        .and_then(|at| ids.get(at..at.checked_add(16)?))
        .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
        .map(EventId);
    Ok(id)
}

fn chunk_first(chunk_key: &[u8]) -> Result<u64> {
    chunk_key
        .get(1..)
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| store_error("mirror store: an event-id chunk key is malformed".to_string()))
}

/// The records `decide` and `apply` read: the batch overlay, then the batch whose commit is
/// under way, then the sled store; event ids from the in-memory index, confirmed by the id
/// held for the candidate entry.
struct View<'a> {
    records: &'a sled::Tree,
    overlay: &'a Overlay,
    in_flight: Option<&'a Overlay>,
    event_ids: &'a EventIndex,
    /// Keys the store may hold: a key it certainly lacks is not read.
    known: &'a KnownKeys,
    /// The committed cursor: a stored credential certified at or past it is not folded yet
    /// (see [`write_batch`]).
    committed: u64,
    /// The last person read from the store (`decide` and `apply` both ask).
    person_read: RefCell<Option<(SubjectId, Option<PersonRecord>)>>,
    failure: RefCell<Option<SyncError>>,
    keeps_careers: bool,
}

impl View<'_> {
    fn fail(&self, error: SyncError) {
        self.failure.borrow_mut().get_or_insert(error);
    }

    fn read<T: bincode::Decode<()>>(&self, prefix: u8, rest: &[u8], what: &str) -> Option<T> {
        if !self.known.may_hold(prefix, rest) {
            return None;
        }
        let found = self
            .records
            .get(key(prefix, rest))
            .map_err(SyncError::from)
            .and_then(|value| value.map(|bytes| decode(&bytes, what)).transpose());
        found.unwrap_or_else(|error| {
            self.fail(error);
            None
        })
    }

    /// The overlays, newest first.
    fn overlays(&self) -> impl Iterator<Item = &Overlay> {
        std::iter::once(self.overlay).chain(self.in_flight)
    }

    fn foreign_credential(&self, number: &CertificateNumber) -> Option<ForeignCredential> {
        if let Some(found) = self.overlays().find_map(|o| o.credentials.get(number)) {
            return Some(found.clone());
        }
        self.read::<ForeignCredential>(PREFIX_CREDENTIAL, number.as_bytes(), "a credential")
            .filter(|found| found.record.entry_index < self.committed)
    }

    fn take_failure(&self) -> Result<()> {
        match self.failure.borrow_mut().take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl RecordView for View<'_> {
    fn credential(&self, number: &CertificateNumber) -> Option<CredentialRecord> {
        self.foreign_credential(number).map(|found| found.record)
    }

    fn special_ability(&self, number: &CertificateNumber) -> Option<SpecialAbilityRecord> {
        if let Some(found) = self
            .overlays()
            .find_map(|o| o.special_abilities.get(number))
        {
            return Some(found.clone());
        }
        self.read(
            PREFIX_SPECIAL_ABILITY,
            number.as_bytes(),
            "a special ability",
        )
    }

    fn person(&self, subject: &SubjectId) -> Option<PersonRecord> {
        if let Some(found) = self.overlays().find_map(|o| o.persons.get(subject)) {
            return Some(found.clone());
        }
        if let Some((held, person)) = &*self.person_read.borrow() {
            if held == subject {
                return person.clone();
            }
        }
        let person: Option<PersonRecord> = self.read(PREFIX_PERSON, &subject.0, "a person");
        *self.person_read.borrow_mut() = Some((*subject, person.clone()));
        person
    }

    fn career(&self, subject: &SubjectId) -> Option<CareerRecord> {
        if let Some(found) = self.overlays().find_map(|o| o.careers.get(subject)) {
            return Some(found.clone());
        }
        self.read(PREFIX_CAREER, &subject.0, "a career")
    }

    fn keeps_careers(&self) -> bool {
        self.keeps_careers
    }

    fn event_index(&self, id: &EventId) -> Option<u64> {
        // A candidate is confirmed by the id its entry holds. An index can name an entry
        // that is not folded (any more): a batch whose commit failed. Its id is then absent.
        for candidate in self.event_ids.candidates(id) {
            let held = match self.overlays().find_map(|o| o.event_id(candidate)) {
                Some(held) => Some(*held),
                None => match stored_event_id(self.records, candidate) {
                    Ok(held) => held,
                    Err(error) => {
                        self.fail(error);
                        return None;
                    }
                },
            };
            if held.as_ref() == Some(id) {
                return Some(candidate);
            }
        }
        None
    }
}

/// Authenticated tiles by (level, index, width): (last use, bytes).
type TileCache = BTreeMap<(u8, u64, u32), (u64, Vec<u8>)>;

/// Reads the partner's tiles through a [`PartnerLog`], with retries, the C2SP full-tile
/// fallback for partial tiles, fetch counting and a small cache of authenticated tiles.
struct TileFetcher<'a> {
    log: &'a dyn PartnerLog,
    options: &'a PullOptions,
    counts: Cell<FetchCounts>,
    cache: RefCell<TileCache>,
    uses: Cell<u64>,
    failure: RefCell<Option<SyncError>>,
}

impl<'a> TileFetcher<'a> {
    fn new(log: &'a dyn PartnerLog, options: &'a PullOptions) -> TileFetcher<'a> {
        TileFetcher {
            log,
            options,
            counts: Cell::new(FetchCounts::default()),
            cache: RefCell::new(BTreeMap::new()),
            uses: Cell::new(0),
            failure: RefCell::new(None),
        }
    }

    fn count(&self, update: impl FnOnce(&mut FetchCounts)) {
        let mut counts = self.counts.get();
        update(&mut counts);
        self.counts.set(counts);
    }

    /// Calls `fetch`, retrying with exponential backoff while the partner is unavailable.
    fn with_retries<T>(&self, mut fetch: impl FnMut() -> FetchResult<T>) -> FetchResult<T> {
        let mut delay_ms = self.options.backoff_ms_initial;
        let mut attempt = 0;
        loop {
            match fetch() {
                Err(error) if error.is_retryable() && attempt < self.options.retries_max => {
                    attempt += 1;
                    self.count(|counts| counts.retries += 1);
                    tracing::debug!(%error, attempt, delay_ms, "partner unavailable; retrying");
                    (self.options.sleep)(Duration::from_millis(delay_ms));
                    delay_ms = (delay_ms.saturating_mul(2)).min(self.options.backoff_ms_max);
                }
                other => return other,
            }
        }
    }

    fn transport_error(&self, what: &str, error: TransportError) -> SyncError {
        SyncError::new(
            SyncErrorKind::Transport,
            format!("{what} from {}: {error}", self.log.describe()),
        )
    }

    fn checkpoint(&self) -> Result<String> {
        self.count(|counts| counts.checkpoints += 1);
        self.with_retries(|| self.log.checkpoint())
            .map_err(|error| self.transport_error("checkpoint", error))
    }

    /// Fetches one resource of `width` items; a missing partial one falls back to the full
    /// one (the partner may have grown past the checkpoint and replaced it), of which the
    /// first `width` items are the partial one's.
    fn fetch_with_fallback(
        &self,
        width: u16,
        mut fetch: impl FnMut(u16) -> FetchResult<Vec<u8>>,
    ) -> FetchResult<(Vec<u8>, u16)> {
        match self.with_retries(|| fetch(width)) {
            Err(error) if error.kind == TransportErrorKind::NotFound && width < TILE_WIDTH_MAX => {
                self.with_retries(|| fetch(TILE_WIDTH_MAX))
                    .map(|bytes| (bytes, TILE_WIDTH_MAX))
            }
            other => other.map(|bytes| (bytes, width)),
        }
    }

    fn tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<u8>> {
        let path = tile_path(level, index, width);
        self.count(|counts| counts.tiles += 1);
        let (bytes, served_width) = self
            .fetch_with_fallback(width, |w| self.log.tile(level, index, w))
            .map_err(|error| self.transport_error(&format!("tile {path}"), error))?;
        let expected = usize::from(served_width) * 32;
        if bytes.len() != expected {
            return Err(SyncError::new(
                SyncErrorKind::BadTile,
                format!(
                    "tile {} from {} is {} bytes, expected {expected}",
                    tile_path(level, index, served_width),
                    self.log.describe(),
                    bytes.len()
                ),
            ));
        }
        Ok(bytes[..usize::from(width) * 32].to_vec())
    }

    fn bundle(&self, index: u64, width: u16) -> Result<Vec<Vec<u8>>> {
        let path = entry_bundle_path(index, width);
        self.count(|counts| counts.bundles += 1);
        let (bytes, served_width) = self
            .fetch_with_fallback(width, |w| self.log.entry_bundle(index, w))
            .map_err(|error| self.transport_error(&format!("entry bundle {path}"), error))?;
        let served_path = entry_bundle_path(index, served_width);
        let mut entries = parse_bundle(&bytes, usize::from(served_width)).map_err(|why| {
            SyncError::new(
                SyncErrorKind::BadEntry,
                format!(
                    "entry bundle {served_path} from {}: {why}",
                    self.log.describe()
                ),
            )
        })?;
        entries.truncate(usize::from(width));
        Ok(entries)
    }

    /// Converts a tlog error of a tile-authenticated read, preferring a parked fetch error.
    fn tile_error(&self, error: tlog_tiles::Error, checkpoint: &Checkpoint) -> SyncError {
        if let Some(failure) = self.failure.borrow_mut().take() {
            return failure;
        }
        SyncError::new(
            SyncErrorKind::BadTile,
            format!(
                "hash tiles from {} do not hash to the signed root of the checkpoint of size {} \
                 ({error}): a tile was altered or belongs to another tree",
                self.log.describe(),
                checkpoint.size
            ),
        )
    }

    /// Hashes with the given stored indexes, authenticated against `checkpoint`.
    fn authenticated(&self, checkpoint: &Checkpoint, indexes: &[u64]) -> Result<Vec<Hash>> {
        let reader = AuthenticatedTiles::new(checkpoint, self);
        reader
            .read_hashes(indexes)
            .map(|hashes| hashes.into_iter().map(|hash| hash.0).collect())
            .map_err(|error| self.tile_error(error, checkpoint))
    }

    /// A consistency proof from the first `size` leaves to the whole tree of `checkpoint`,
    /// from its tiles (authenticated against its signed root).
    fn consistency_proof(&self, size: u64, checkpoint: &Checkpoint) -> Result<Vec<Hash>> {
        let reader = AuthenticatedTiles::new(checkpoint, self);
        tlog_tiles::prove_tree(checkpoint.size, size, &reader)
            .map(|proof| proof.iter().map(|hash| hash.0).collect())
            .map_err(|error| self.tile_error(error, checkpoint))
    }

    /// The root of the first `size` leaves of the tree of `checkpoint`, from its tiles.
    fn root_at(&self, size: u64, checkpoint: &Checkpoint) -> Result<Hash> {
        assert!(size <= checkpoint.size, "a prefix of the checkpoint's tree");
        if size == 0 {
            return Ok(EMPTY_TREE_ROOT);
        }
        let reader = AuthenticatedTiles::new(checkpoint, self);
        tlog_tiles::tree_hash(size, &reader)
            .map(|hash| hash.0)
            .map_err(|error| self.tile_error(error, checkpoint))
    }
}

impl TileFetcher<'_> {
    /// The bytes of each tile, from the cache or the partner. Unauthenticated.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        let mut data = Vec::with_capacity(tiles.len());
        for tile in tiles {
            let key = (tile.level(), tile.level_index(), tile.width());
            let use_number = self.uses.get() + 1;
            self.uses.set(use_number);
            if let Some((last_use, bytes)) = self.cache.borrow_mut().get_mut(&key) {
                *last_use = use_number;
                data.push(bytes.clone());
                continue;
            }
            let width = u16::try_from(tile.width()).map_err(|_| tlog_tiles::Error::BadMath)?;
            match self.tile(tile.level(), tile.level_index(), width) {
                Ok(bytes) => data.push(bytes),
                Err(error) => {
                    self.failure.borrow_mut().get_or_insert(error);
                    return Err(tlog_tiles::Error::InvalidTile);
                }
            }
        }
        Ok(data)
    }

    /// Keeps tiles that were authenticated against a signed root.
    fn save_tiles(&self, tiles: &[Tile], data: &[Vec<u8>]) {
        let mut cache = self.cache.borrow_mut();
        for (tile, bytes) in tiles.iter().zip(data) {
            let key = (tile.level(), tile.level_index(), tile.width());
            cache.insert(key, (self.uses.get(), bytes.clone()));
        }
        while cache.len() > TILE_CACHE_MAX {
            let oldest = cache
                .iter()
                .min_by_key(|(_, (last_use, _))| *last_use)
                .map(|(key, _)| *key);
            match oldest {
                Some(key) => cache.remove(&key),
                None => break,
            };
        }
    }
}

/// Hashes of the tree of a signed checkpoint, read from the partner's tiles, every tile
/// authenticated: the tiles holding the root's subtrees against the signed root, every other
/// tile against its (already authenticated) parent.
///
/// This is Go tlog's `TileHashReader` algorithm, done here because `tlog_tiles` 0.2.0's port
/// (like its model) starts the parent check at the count of subtree *indexes* rather than of
/// the distinct tiles holding them: when two subtree roots share a tile (a tree of 704
/// leaves, say), the first tile after them is never checked, and an altered tile passes.
/// The test `given_tampered_or_unverifiable_data_…` caught that.
struct AuthenticatedTiles<'a, 'b> {
    size: u64,
    root: Hash,
    fetcher: &'a TileFetcher<'b>,
}

impl<'a, 'b> AuthenticatedTiles<'a, 'b> {
    fn new(checkpoint: &Checkpoint, fetcher: &'a TileFetcher<'b>) -> AuthenticatedTiles<'a, 'b> {
        AuthenticatedTiles {
            size: checkpoint.size,
            root: checkpoint.root,
            fetcher,
        }
    }
}

impl HashReader for AuthenticatedTiles<'_, '_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        use tlog_tiles::Error::{BadMath, InconsistentTile, IndexesNotInTree};
        if self.size == 0 {
            return Err(IndexesNotInTree);
        }
        let height = TILE_HEIGHT;
        let mut order: HashMap<Tile, usize> = HashMap::new();
        let mut tiles: Vec<Tile> = Vec::new();
        let mut add = |tile: Tile, order: &mut HashMap<Tile, usize>| -> usize {
            *order.entry(tile).or_insert_with(|| {
                tiles.push(tile);
                tiles.len() - 1
            })
        };
        // The tiles holding the roots of the perfect subtrees that make up the tree.
        let subtrees = tlog_tiles::sub_tree_index(0, self.size, Vec::new());
        let mut subtree_tiles = Vec::with_capacity(subtrees.len());
        for &index in &subtrees {
            let tile = Tile::from_index(height, index)
                .parent(0, self.size)
                .ok_or(BadMath)?;
            subtree_tiles.push(add(tile, &mut order));
        }
        let authenticated_by_root = order.len();
        // The tiles holding the requested hashes, and the full tiles between them and an
        // authenticated ancestor, parents before children.
        let mut index_tiles = Vec::with_capacity(indexes.len());
        for &index in indexes {
            if index >= tlog_tiles::stored_hash_index(0, self.size) {
                return Err(IndexesNotInTree);
            }
            let tile = Tile::from_index(height, index);
            let mut up = 0u8;
            loop {
                let parent = tile.parent(up, self.size).ok_or(BadMath)?;
                if order.contains_key(&parent) {
                    break;
                }
                up = up.checked_add(1).filter(|up| *up < 8).ok_or(BadMath)?;
            }
            for k in (0..up).rev() {
                let parent = tile.parent(k, self.size).ok_or(BadMath)?;
                if parent.width() != 1 << height {
                    return Err(BadMath); // only full tiles have parents
                }
                add(parent, &mut order);
            }
            let own = tile.parent(0, self.size).ok_or(BadMath)?;
            index_tiles.push(*order.get(&own).ok_or(BadMath)?);
        }
        let data = self.fetcher.read_tiles(&tiles)?;
        if data.len() != tiles.len() {
            return Err(BadMath);
        }
        for (tile, bytes) in tiles.iter().zip(&data) {
            if bytes.len() != tile.width() as usize * tlog_tiles::HASH_SIZE {
                return Err(BadMath);
            }
        }
        // The subtree roots hash to the signed root.
        let last = subtrees.len() - 1;
        let mut root =
            tiles[subtree_tiles[last]].hash_at_index(&data[subtree_tiles[last]], subtrees[last])?;
        for position in (0..last).rev() {
            let tile = subtree_tiles[position];
            let left = tiles[tile].hash_at_index(&data[tile], subtrees[position])?;
            root = tlog_tiles::node_hash(left, root);
        }
        if root.0 != self.root {
            return Err(InconsistentTile);
        }
        // Every other tile hashes to its entry in its parent tile.
        for position in authenticated_by_root..tiles.len() {
            let tile = tiles[position];
            let parent = tile.parent(1, self.size).ok_or(BadMath)?;
            let parent_position = *order.get(&parent).ok_or(BadMath)?;
            if parent_position >= position {
                return Err(BadMath);
            }
            let expected = parent.hash_at_index(
                &data[parent_position],
                tlog_tiles::stored_hash_index(parent.level() * height, tile.level_index()),
            )?;
            if expected != Tile::subtree_hash(&data[position]) {
                return Err(InconsistentTile);
            }
        }
        self.fetcher.save_tiles(&tiles, &data);
        indexes
            .iter()
            .zip(index_tiles)
            .map(|(&index, position)| tiles[position].hash_at_index(&data[position], index))
            .collect()
    }
}

/// Splits a C2SP entry bundle into exactly `count` entries.
pub fn parse_bundle(bytes: &[u8], count: usize) -> Result<Vec<Vec<u8>>, String> {
    let mut entries = Vec::with_capacity(count);
    let mut offset = 0usize;
    while offset < bytes.len() {
        if entries.len() == count {
            return Err(format!(
                "{} bytes after its {count} entries (from offset {offset})",
                bytes.len() - offset
            ));
        }
        let Some(length) = bytes.get(offset..offset + 2) else {
            return Err(format!(
                "entry {} at offset {offset}: truncated length",
                entries.len()
            ));
        };
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        let Some(entry) = bytes.get(offset + 2..offset + 2 + length) else {
            return Err(format!(
                "entry {} at offset {offset} claims {length} bytes, {} remain",
                entries.len(),
                bytes.len() - offset - 2
            ));
        };
        entries.push(entry.to_vec());
        offset += 2 + length;
    }
    if entries.len() != count {
        return Err(format!("holds {} entries, expected {count}", entries.len()));
    }
    Ok(entries)
}

/// The end of the batch starting at `start`: at most `batch` entries, ending on a bundle
/// boundary when the batch spans whole bundles (so no bundle is fetched twice).
fn batch_end(start: u64, size: u64, batch: u64) -> u64 {
    let width = u64::from(TILE_WIDTH_MAX);
    let end = start.saturating_add(batch).min(size);
    if end == size || batch < width {
        return end;
    }
    let aligned = end / width * width;
    if aligned > start {
        aligned
    } else {
        end
    }
}

/// A batch fetched and authenticated, its signatures being checked on another thread.
struct FetchedBatch {
    start: u64,
    entries: std::sync::Arc<Vec<Vec<u8>>>,
    leaf_hashes: Vec<Hash>,
    checked: std::thread::JoinHandle<Vec<crate::verify::Checked>>,
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
    registry: Registry,
    /// Event id → entry index of everything folded (candidates, see [`View::event_index`]).
    event_ids: EventIndex,
    /// The credential, person and career keys the store holds (a background scan at open,
    /// and every key folded since), so the fold reads only keys that may be there.
    known: KnownKeys,
    cursor: u64,
    credentials: u64,
    checkpoint: Option<SignedCheckpoint>,
    last_pull_unix_s: Option<u64>,
    /// Of the pull under way.
    timings: Cell<PullTimings>,
    /// Career records are kept (a store that folded entries before they were is judged
    /// without the rules that read them, as before).
    keeps_careers: bool,
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror")
            .field("origin", &self.origin)
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

/// Opens the sled store at `path` with a page cache of `cache_bytes`, and its records tree:
/// refused at once, naming
/// the path, when this process or another holds it (`skill_ledger_node::store`).
fn open_store(path: &Path, cache_bytes: u64) -> Result<StoreTree> {
    Store::open(path, StoreOptions::with_cache(cache_bytes))
        .and_then(|store| store.tree("mirror"))
        .map_err(|error| {
            let kind = match error.kind() {
                NodeErrorKind::Locked => SyncErrorKind::Locked,
                _ => SyncErrorKind::Store,
            };
            SyncError::new(kind, format!("mirror store: {error}"))
        })
}

/// The configured key of a partner (its `vkey` in partners.toml, checked when loaded).
fn configured_key(vkey: &str) -> Result<[u8; 32]> {
    verifier_public_key(vkey).map_err(|error| {
        SyncError::new(
            SyncErrorKind::Config,
            format!("vkey {vkey:?} is not an Ed25519 verifier key: {error}"),
        )
    })
}

fn decode_keys(bytes: &[u8]) -> Vec<[u8; 32]> {
    bytes
        .chunks_exact(32)
        .filter_map(|chunk| <[u8; 32]>::try_from(chunk).ok())
        .collect()
}

/// Every key a checkpoint the mirror already held may be signed with: the configured one,
/// every authority key the partner's log named, and those learned ahead of the fold.
fn held_keys(configured: [u8; 32], registry: &Registry, followed: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let mut keys = vec![configured];
    if let Some(ledger) = &registry.ledger {
        keys.extend(ledger.authority_keys.iter().map(|period| period.public_key));
    }
    keys.extend_from_slice(followed);
    keys
}

/// The keys a *new* checkpoint of the partner is verified with: the partner's authority key
/// in force as its log says (and keys learned ahead of the fold), and the configured key
/// unless the log retired it — a retired key may be a stolen one.
fn trusted_keys(
    configured: [u8; 32],
    registry: &Registry,
    followed: &[[u8; 32]],
) -> (Vec<[u8; 32]>, Vec<[u8; 32]>) {
    let Some(ledger) = &registry.ledger else {
        let mut keys = vec![configured];
        keys.extend_from_slice(followed);
        return (keys, Vec::new());
    };
    let all: Vec<[u8; 32]> = ledger
        .authority_keys
        .iter()
        .map(|period| period.public_key)
        .collect();
    let (retired, current) = all.split_at(all.len().saturating_sub(1));
    // A key learned ahead of the fold is retired once a later key is folded.
    let followed_position = followed
        .iter()
        .rposition(|key| current.contains(key))
        .map_or(0, |k| k + 1);
    let mut keys = current.to_vec();
    keys.extend(
        followed[followed_position..]
            .iter()
            .filter(|key| !retired.contains(key)),
    );
    if !retired.contains(&configured) && !keys.contains(&configured) {
        keys.push(configured);
    }
    (keys, retired.to_vec())
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
        let registry = load_registry(&records)?;
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
        let event_ids = load_event_ids(&records, cursor)?;
        let known = if cursor == 0 {
            KnownKeys::empty(Tagger::new())
        } else {
            scan_known_keys(&records)
        };
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
        Ok(Mirror {
            origin: partner.origin.clone(),
            vkey: partner.vkey.clone(),
            configured,
            followed,
            dir,
            records,
            tree,
            registry,
            event_ids,
            known,
            cursor,
            credentials,
            checkpoint,
            last_pull_unix_s,
            timings: Cell::new(PullTimings::default()),
            keeps_careers,
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
        self.records
            .get(key(PREFIX_PERSON, &subject.0))?
            .map(|bytes| decode(&bytes, "a person"))
            .transpose()
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
        self.records.store().db().flush()?;
        self.tree
            .truncate_to(0)
            .map_err(|error| store_error(format!("mirror tree: {error}")))?;
        self.registry = Registry::default();
        self.event_ids = EventIndex::default();
        self.known = KnownKeys::empty(Tagger::new());
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
        let fetcher = TileFetcher::new(log, options);
        self.timings.set(PullTimings::default());
        let cursor_before = self.cursor;
        let note = fetcher.checkpoint()?;
        let seen = match self.verify_checkpoint(note.clone(), log) {
            Err(error) if error.kind() == SyncErrorKind::BadCheckpoint => {
                self.follow_key_change(note, &fetcher, options, error)?
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
        let now = (options.now_unix_s)();
        self.records.insert(KEY_LAST_PULL, &now.to_le_bytes())?;
        self.records.store().db().flush()?;
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

    fn verify_checkpoint(
        &self,
        note_text: String,
        log: &dyn PartnerLog,
    ) -> Result<SignedCheckpoint> {
        let (keys, _) = trusted_keys(self.configured, &self.registry, &self.followed);
        let checkpoint = parse_and_verify_checkpoint_with_any(&note_text, &self.origin, &keys)
            .map_err(|error| {
                SyncError::new(
                    SyncErrorKind::BadCheckpoint,
                    format!(
                        "checkpoint from {} does not verify with the configured key of {} \
                         nor the key its log has in force: {error}",
                        log.describe(),
                        self.origin
                    ),
                )
            })?;
        Ok(SignedCheckpoint {
            checkpoint,
            note_text,
        })
    }

    /// A checkpoint signed by a key the mirror does not know yet: the partner's authority key
    /// changed in entries not folded yet. The entries from the cursor to the checkpoint's size
    /// (authenticated against its root) are read for `AuthorityRecoveryKeySet` and
    /// `AuthorityKeyRotated`, each judged by the domain's own rules against the registry as
    /// it would be when it is folded (signed by the key in force, or the recovery key in
    /// force). If the key they lead to signed the checkpoint, it is accepted and the keys
    /// persisted (they are folded again, by every rule, as the pull goes on); otherwise the
    /// original error stands. The chain starts at keys the mirror trusts already, so a
    /// checkpoint signed by anyone else is refused as before.
    fn follow_key_change(
        &mut self,
        note_text: String,
        fetcher: &TileFetcher<'_>,
        options: &PullOptions,
        unverified: SyncError,
    ) -> Result<SignedCheckpoint> {
        let Ok(candidate) = parse_checkpoint_unverified(&note_text) else {
            return Err(unverified);
        };
        if candidate.origin != self.origin || candidate.size <= self.cursor || self.cursor == 0 {
            return Err(unverified);
        }
        let target = SignedCheckpoint {
            checkpoint: candidate,
            note_text,
        };
        let empty = MemoryLedger::default();
        let mut scratch = self.registry.clone();
        let mut learned: Vec<[u8; 32]> = Vec::new();
        let mut start = self.cursor;
        while start < target.checkpoint.size {
            let batch = self.fetch_batch(fetcher, &target, start, options)?;
            let checked = batch
                .checked
                .join()
                .map_err(|_| SyncError::new(SyncErrorKind::Io, "a verification thread panicked"))?;
            for (offset, item) in checked.into_iter().enumerate() {
                let index = start + offset as u64;
                let Ok((signed, true)) = item else { continue };
                if !matches!(
                    signed.event.kind,
                    EventKind::AuthorityRecoveryKeySet(_) | EventKind::AuthorityKeyRotated(_)
                ) {
                    continue;
                }
                if decide(&scratch, &empty, &signed).is_err() {
                    continue;
                }
                if let Some(change) = apply(&scratch, &empty, &signed, index).registry {
                    scratch.absorb(change);
                }
                if let EventKind::AuthorityKeyRotated(rotated) = &signed.event.kind {
                    learned.push(rotated.public_key);
                }
            }
            start += batch.entries.len() as u64;
        }
        let Some(in_force) = learned.last().copied() else {
            return Err(unverified);
        };
        let checkpoint =
            parse_and_verify_checkpoint_with_any(&target.note_text, &self.origin, &[in_force])
                .map_err(|error| {
                    SyncError::new(
                        SyncErrorKind::BadCheckpoint,
                        format!(
                    "checkpoint of {} does not verify with the authority key its log rotates \
                     to ({}): {error}",
                    self.origin,
                    hex::encode(in_force)
                ),
                    )
                })?;
        tracing::info!(partner = %self.origin, key = %hex::encode(in_force),
            "the partner's authority key changed: following it from its log");
        self.followed.extend(learned);
        let bytes: Vec<u8> = self.followed.iter().flatten().copied().collect();
        self.records.insert(KEY_FOLLOWED_KEYS, bytes)?;
        self.records.store().db().flush()?;
        Ok(SignedCheckpoint {
            checkpoint,
            note_text: target.note_text,
        })
    }

    /// Writes [`AUTHORITY_KEYS_FILE`] for this home's witness when it would change.
    fn publish_authority_keys(&self) -> Result<()> {
        let (trusted, retired) = trusted_keys(self.configured, &self.registry, &self.followed);
        let mut text = String::new();
        for key in &trusted {
            text.push_str(&format!("trusted {}\n", hex::encode(key)));
        }
        for key in &retired {
            text.push_str(&format!("retired {}\n", hex::encode(key)));
        }
        let path = self.dir.join(AUTHORITY_KEYS_FILE);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        fsutil::write_atomically(&self.dir, AUTHORITY_KEYS_FILE, text.as_bytes())
    }

    /// Checks the seen checkpoint against the held one and holds it if it is newer. Returns
    /// whether it was older than the held one.
    fn advance_checkpoint(
        &mut self,
        seen: &SignedCheckpoint,
        fetcher: &TileFetcher<'_>,
        options: &PullOptions,
    ) -> Result<bool> {
        let Some(held) = self.checkpoint.clone() else {
            self.hold(seen, fetcher)?;
            return Ok(false);
        };
        let (old, new) = (&held.checkpoint, &seen.checkpoint);
        if new.size == old.size {
            if new.root != old.root {
                return Err(self.fork(
                    &held,
                    seen,
                    None,
                    &format!(
                        "two signed checkpoints of size {} with different roots",
                        new.size
                    ),
                    options,
                ));
            }
            return Ok(false);
        }
        if new.size > old.size {
            let root = fetcher.root_at(old.size, new)?;
            if root != old.root {
                let proof = fetcher.consistency_proof(old.size, new)?;
                return Err(self.fork(
                    &held,
                    seen,
                    Some(&[evidence::ConsistencyProof {
                        size: old.size,
                        root_at_size: root,
                        larger_size: new.size,
                        hashes: proof,
                    }]),
                    &format!(
                        "the signed tree of size {} does not extend the signed tree of size {}: \
                         its first {} leaves have root {}, the held checkpoint says {}",
                        new.size,
                        old.size,
                        old.size,
                        BASE64_STANDARD.encode(root),
                        BASE64_STANDARD.encode(old.root)
                    ),
                    options,
                ));
            }
            self.hold(seen, fetcher)?;
            return Ok(false);
        }
        // An older checkpoint (a stale cache, or a rollback): it must be a prefix of ours.
        let tree_error =
            |error: skill_ledger_log::LogError| store_error(format!("mirror tree: {error}"));
        let root = if new.size <= self.cursor {
            Some(self.tree.reader().root(new.size).map_err(tree_error)?)
        } else {
            fetcher.root_at(new.size, old).ok()
        };
        if let Some(root) = root {
            if root != new.root {
                // The proof that the held tree's first leaves have another root: from the
                // mirror's own tree when it holds the whole held tree, else the partner's.
                let proof = self.smaller_fork_proof(new.size, root, old, fetcher)?;
                return Err(self.fork(
                    &held,
                    seen,
                    proof.as_deref(),
                    &format!(
                        "the signed tree of size {} is not a prefix of the signed tree of size {}",
                        new.size, old.size
                    ),
                    options,
                ));
            }
        }
        Ok(true)
    }

    /// The proof from the mirror's tree at the cursor to `checkpoint`, from its tiles, when
    /// the cursor is short of it (`None` if the tiles cannot be had).
    fn held_proof(
        &self,
        cursor: u64,
        checkpoint: &Checkpoint,
        fetcher: &TileFetcher<'_>,
    ) -> Option<evidence::ConsistencyProof> {
        if cursor == 0 || cursor >= checkpoint.size {
            return None;
        }
        let root_at_size = self.tree.reader().root(cursor).ok()?;
        let hashes = fetcher.consistency_proof(cursor, checkpoint).ok()?;
        Some(evidence::ConsistencyProof {
            size: cursor,
            root_at_size,
            larger_size: checkpoint.size,
            hashes,
        })
    }

    /// The proof that the held tree's first `size` leaves have root `root` (which a smaller
    /// checkpoint contradicts): from the mirror's own tree when it holds the whole held tree;
    /// else from its own tree up to the cursor chained with the proof kept from the cursor to
    /// the held checkpoint; else from the partner's tiles of the held tree, if served.
    fn smaller_fork_proof(
        &self,
        size: u64,
        root: Hash,
        held: &Checkpoint,
        fetcher: &TileFetcher<'_>,
    ) -> Result<Option<Vec<evidence::ConsistencyProof>>> {
        let own_proof = |to: u64| -> Result<evidence::ConsistencyProof> {
            let hashes = self
                .tree
                .reader()
                .consistency_proof(size, to)
                .map_err(|error| store_error(format!("mirror tree: {error}")))?;
            Ok(evidence::ConsistencyProof {
                size,
                root_at_size: root,
                larger_size: to,
                hashes,
            })
        };
        if size == 0 {
            return Ok(None);
        }
        if self.cursor == held.size {
            return Ok(Some(vec![own_proof(held.size)?]));
        }
        let kept = self
            .records
            .get(KEY_HELD_PROOF)?
            .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
            .and_then(|text| evidence::ConsistencyProof::parse(&text).ok())
            .filter(|kept| kept.size == self.cursor && kept.larger_size == held.size);
        if let Some(kept) = kept {
            if size <= self.cursor {
                let mut chain = Vec::new();
                if size < self.cursor {
                    chain.push(own_proof(self.cursor)?);
                }
                chain.push(kept);
                return Ok(Some(chain));
            }
        }
        Ok(fetcher.consistency_proof(size, held).ok().map(|hashes| {
            vec![evidence::ConsistencyProof {
                size,
                root_at_size: root,
                larger_size: held.size,
                hashes,
            }]
        }))
    }

    fn hold(&mut self, seen: &SignedCheckpoint, fetcher: &TileFetcher<'_>) -> Result<()> {
        let mut batch = sled::Batch::default();
        batch.insert(KEY_CHECKPOINT, seen.note_text.as_bytes());
        match self.held_proof(self.cursor, &seen.checkpoint, fetcher) {
            Some(proof) => batch.insert(KEY_HELD_PROOF, proof.to_text().as_bytes()),
            None => batch.remove(KEY_HELD_PROOF),
        }
        self.records.apply_batch(batch)?;
        self.records.store().db().flush()?;
        self.checkpoint = Some(seen.clone());
        Ok(())
    }

    fn fork(
        &self,
        held: &SignedCheckpoint,
        seen: &SignedCheckpoint,
        proof: Option<&[evidence::ConsistencyProof]>,
        detail: &str,
        options: &PullOptions,
    ) -> SyncError {
        let proof_text = proof.map(evidence::chain_text);
        let mut files = vec![
            ("held.checkpoint", held.note_text.as_bytes()),
            ("seen.checkpoint", seen.note_text.as_bytes()),
        ];
        if let Some(text) = &proof_text {
            files.push((evidence::CONSISTENCY_PROOF_FILE, text.as_bytes()));
        }
        let recorded = evidence::record(
            &self.evidence_dir(),
            EvidenceKind::Fork,
            &self.origin,
            detail,
            &files,
            (options.now_unix_s)(),
        );
        match recorded {
            Ok(path) => SyncError::new(
                SyncErrorKind::Fork,
                format!(
                    "fork of {} detected: {detail}; both signed checkpoints kept in {}; \
                     mirroring stopped until an operator clears the alarm",
                    self.origin,
                    path.display()
                ),
            ),
            Err(error) => error.context(format!(
                "fork of {} detected ({detail}) but its evidence could not be written",
                self.origin
            )),
        }
    }

    /// Fetches the batch from `start`, checks every entry against its authenticated leaf
    /// hash, and starts decoding and verifying its signatures on another thread.
    fn fetch_batch(
        &self,
        fetcher: &TileFetcher<'_>,
        target: &SignedCheckpoint,
        start: u64,
        options: &PullOptions,
    ) -> Result<FetchedBatch> {
        let size = target.checkpoint.size;
        let end = batch_end(start, size, options.batch_entries_max);
        let width = u64::from(TILE_WIDTH_MAX);
        let mut entries = Vec::with_capacity((end - start) as usize);
        for bundle in start / width..=(end - 1) / width {
            let bundle_start = bundle * width;
            let bundle_width = (size - bundle_start).min(width) as u16;
            let bundle_entries = fetcher.bundle(bundle, bundle_width)?;
            let from = start.max(bundle_start) - bundle_start;
            let to = end.min(bundle_start + width) - bundle_start;
            entries.extend(
                bundle_entries
                    .into_iter()
                    .skip(from as usize)
                    .take((to - from) as usize),
            );
        }
        assert_eq!(entries.len() as u64, end - start, "bundles cover the batch");
        let indexes: Vec<u64> = (start..end)
            .map(|index| tlog_tiles::stored_hash_index(0, index))
            .collect();
        let expected = fetcher.authenticated(&target.checkpoint, &indexes)?;
        let mut leaf_hashes = Vec::with_capacity(entries.len());
        for (offset, (entry, expected)) in entries.iter().zip(&expected).enumerate() {
            let index = start + offset as u64;
            let hash = leaf_hash(entry);
            if hash != *expected {
                return Err(SyncError::new(
                    SyncErrorKind::BadEntry,
                    format!(
                        "entry {index} from {} (bundle {}) does not hash to the partner's leaf \
                         {index} under the signed checkpoint of size {size}: the entry was altered",
                        fetcher.log.describe(),
                        entry_bundle_path(
                            index / width,
                            (size - index / width * width).min(width) as u16
                        )
                    ),
                ));
            }
            leaf_hashes.push(hash);
        }
        let entries = std::sync::Arc::new(entries);
        let (origin, to_check) = (self.origin.clone(), entries.clone());
        let checked = std::thread::Builder::new()
            .name("mirror-verify".to_string())
            .spawn(move || crate::verify::decode_and_verify(&origin, &to_check))
            .map_err(|error| {
                SyncError::new(
                    SyncErrorKind::Io,
                    format!("starting a verification thread: {error}"),
                )
            })?;
        Ok(FetchedBatch {
            start,
            entries,
            leaf_hashes,
            checked,
        })
    }

    /// Why entry `index` may not join the partner's ledger, if it may not.
    /// `checked` is the entry decoded and its signature verified ([`crate::verify`]).
    fn check_entry(
        &self,
        registry: &Registry,
        view: &View<'_>,
        checked: crate::verify::Checked,
        index: u64,
    ) -> Result<SignedEvent, String> {
        let (signed, signature_verifies) =
            checked.map_err(|error| format!("entry {index} does not decode: {error}"))?;
        let kind = signed.event.kind.name();
        if let EventKind::LedgerEstablished(established) = &signed.event.kind {
            if established.origin != self.origin {
                return Err(format!(
                    "entry {index} establishes origin {:?}, not {:?}",
                    established.origin, self.origin
                ));
            }
        }
        if !signature_verifies {
            return Err(format!(
                "entry {index} ({kind}): the signature does not verify for {}",
                self.origin
            ));
        }
        decide(registry, view, &signed).map_err(|rejection| {
            format!(
                "entry {index} ({kind}) breaks the rules: {} ({rejection})",
                rejection.code()
            )
        })?;
        Ok(signed)
    }

    /// The batches of one pull (see [`Mirror::pull`]); returns how many were folded. The
    /// last commit may still be under way in `pending`.
    fn pull_batches(
        &mut self,
        fetcher: &TileFetcher<'_>,
        target: &SignedCheckpoint,
        options: &PullOptions,
        progress: &mut dyn FnMut(PullProgress),
        pending: &mut Option<PendingCommit>,
    ) -> Result<u64> {
        let size = target.checkpoint.size;
        // The registry as folded so far, ahead of `self.registry` (the committed one) while
        // a commit is under way.
        let mut registry = self.registry.clone();
        let mut start = self.cursor;
        let mut batches = 0;
        let mut next: Option<FetchedBatch> = None;
        while start < size {
            if options.batches_max.is_some_and(|max| batches >= max) {
                break;
            }
            let current = match next.take() {
                Some(fetched) => fetched,
                None => self.time(
                    |t| &mut t.fetch_us,
                    || self.fetch_batch(fetcher, target, start, options),
                )?,
            };
            let current_end = current.start + current.entries.len() as u64;
            let another = options.batches_max.is_none_or(|max| batches + 1 < max);
            let mut fetch_failure = None;
            if current_end < size && another {
                let fetched = self.time(
                    |t| &mut t.fetch_us,
                    || self.fetch_batch(fetcher, target, current_end, options),
                );
                match fetched {
                    Ok(fetched) => next = Some(fetched),
                    // This batch is good: commit it before reporting the next one's failure.
                    Err(error) => fetch_failure = Some(error),
                }
            }
            let joined = self.time(|t| &mut t.verify_wait_us, || current.checked.join());
            let checked = match joined {
                Ok(checked) => checked,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            let in_flight = pending.as_ref().map(|commit| commit.overlay.clone());
            let fold_started = std::time::Instant::now();
            let (overlay, violation) = self.fold(
                current.start,
                &current.entries,
                &current.leaf_hashes,
                checked,
                &mut registry,
                in_flight.as_deref(),
            )?;
            drop(in_flight);
            let commit_started = std::time::Instant::now();
            let folded = overlay.ids.len();
            // The batch before must be in the store first: this batch's counters add to its.
            self.finish_commit(pending.take())?;
            *pending = self.start_commit(
                overlay,
                &current.leaf_hashes[..folded],
                &registry,
                target,
                fetcher,
            )?;
            let mut timings = self.timings.get();
            timings.fold_us += (commit_started - fold_started).as_micros() as u64;
            timings.commit_us += commit_started.elapsed().as_micros() as u64;
            self.timings.set(timings);
            batches += 1;
            start = current.start + folded as u64;
            progress(PullProgress {
                cursor: start,
                target: size,
            });
            if let Some((index, why)) = violation {
                // What came before the bad entry is held; then the evidence.
                self.finish_commit(pending.take())?;
                return Err(self.rule_violation(
                    index,
                    &current.entries[(index - current.start) as usize],
                    &why,
                    target,
                    fetcher,
                    options,
                ));
            }
            if let Some(error) = fetch_failure {
                return Err(error);
            }
        }
        Ok(batches)
    }

    /// Decides and applies the entries of one batch from `start` against the store, the
    /// batch whose commit is under way (`in_flight`) and `registry` (advanced in place).
    /// Stops at the first entry the rules refuse, returning it and why.
    fn fold(
        &mut self,
        start: u64,
        entries: &[Vec<u8>],
        leaf_hashes: &[Hash],
        decoded: Vec<crate::verify::Checked>,
        registry: &mut Registry,
        in_flight: Option<&Overlay>,
    ) -> Result<(Overlay, Option<(u64, String)>)> {
        assert_eq!(decoded.len(), entries.len(), "one check per entry");
        self.known.poll();
        let mut overlay = Overlay {
            start,
            ids: Vec::with_capacity(entries.len()),
            ..Overlay::default()
        };
        for (offset, (entry, decoded)) in entries.iter().zip(decoded).enumerate() {
            let index = start + offset as u64;
            let view = View {
                records: &self.records,
                overlay: &overlay,
                in_flight,
                event_ids: &self.event_ids,
                known: &self.known,
                committed: self.cursor,
                person_read: RefCell::new(None),
                failure: RefCell::new(None),
                keeps_careers: self.keeps_careers,
            };
            let checked = self.check_entry(registry, &view, decoded, index);
            view.take_failure()?;
            let signed = match checked {
                Ok(signed) => signed,
                Err(why) => return Ok((overlay, Some((index, why)))),
            };
            let changes = apply(registry, &view, &signed, index);
            let revoked_leaf = changes
                .credential
                .as_ref()
                .filter(|credential| credential.entry_index != index)
                .and_then(|credential| view.foreign_credential(&credential.certificate_number))
                .map(|found| found.leaf_hash);
            view.take_failure()?;
            drop(view);
            self.event_ids.insert(&changes.event_id, index);
            overlay.ids.push(changes.event_id);
            for (counter, delta) in &changes.stats {
                *overlay.stats.entry(*counter).or_insert(0) += delta;
            }
            if let Some(change) = changes.registry {
                registry.absorb(change);
                overlay.registry_entries.push((index, entry.clone()));
            }
            if let Some(credential) = changes.credential {
                self.known
                    .insert_key(PREFIX_CREDENTIAL, credential.certificate_number.as_bytes());
                let leaf_hash = match revoked_leaf {
                    Some(leaf) => leaf,
                    None => {
                        overlay.new_credentials += 1;
                        leaf_hashes[offset]
                    }
                };
                overlay.credentials.insert(
                    credential.certificate_number,
                    ForeignCredential {
                        record: credential,
                        leaf_hash,
                    },
                );
            }
            if let Some(record) = changes.special_ability {
                self.known
                    .insert_key(PREFIX_SPECIAL_ABILITY, record.certificate_number.as_bytes());
                overlay
                    .special_abilities
                    .insert(record.certificate_number, record);
            }
            if let Some((subject, person)) = changes.person {
                self.known.insert_key(PREFIX_PERSON, &subject.0);
                overlay.persons.insert(subject, person);
            }
            if let Some((subject, career)) = changes.career {
                self.known.insert_key(PREFIX_CAREER, &subject.0);
                overlay.careers.insert(subject, career);
            }
        }
        Ok((overlay, None))
    }

    /// Appends the batch's leaves to the tree and syncs it, then starts its sled batch
    /// (records, packed event ids, counters, cursor) on a thread of its own. The commit
    /// before must be finished.
    fn start_commit(
        &mut self,
        overlay: Overlay,
        leaf_hashes: &[Hash],
        registry: &Registry,
        target: &SignedCheckpoint,
        fetcher: &TileFetcher<'_>,
    ) -> Result<Option<PendingCommit>> {
        if leaf_hashes.is_empty() {
            return Ok(None);
        }
        assert_eq!(overlay.start, self.cursor, "batches commit in order");
        let end = overlay.start + leaf_hashes.len() as u64;
        // The tree first, synced: on reopen a tree ahead of the cursor is cut back, a tree
        // behind it would be damage.
        let tree_started = std::time::Instant::now();
        self.tree
            .append(leaf_hashes)
            .and_then(|_| self.tree.sync())
            .map_err(|error| store_error(format!("mirror tree: {error}")))?;
        let mut timings = self.timings.get();
        timings.tree_us += tree_started.elapsed().as_micros() as u64;
        self.timings.set(timings);
        let held_proof = self
            .held_proof(end, &target.checkpoint, fetcher)
            .map(|proof| proof.to_text());
        let credentials = self.credentials + overlay.new_credentials;
        // Only a batch with registry events moves the registry: the others leave it be.
        let registry = (!overlay.registry_entries.is_empty()).then(|| registry.clone());
        let overlay = std::sync::Arc::new(overlay);
        let (records, to_write) = (self.records.clone(), overlay.clone());
        let handle = std::thread::Builder::new()
            .name("mirror-commit".to_string())
            .spawn(move || {
                let started = std::time::Instant::now();
                let written = write_batch(&records, &to_write, held_proof, credentials, end);
                drop(records);
                written?;
                Ok(started.elapsed().as_micros() as u64)
            })
            .map_err(|error| {
                SyncError::new(
                    SyncErrorKind::Io,
                    format!("starting a commit thread: {error}"),
                )
            })?;
        Ok(Some(PendingCommit {
            overlay,
            end,
            credentials,
            registry,
            handle,
        }))
    }

    /// Waits for a commit under way; once it is in the store, the mirror's cursor, count and
    /// registry move to it.
    fn finish_commit(&mut self, pending: Option<PendingCommit>) -> Result<()> {
        let Some(pending) = pending else {
            return Ok(());
        };
        let store_us = match pending.handle.join() {
            Ok(written) => written?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let mut timings = self.timings.get();
        timings.store_us += store_us;
        self.timings.set(timings);
        self.cursor = pending.end;
        self.credentials = pending.credentials;
        if let Some(registry) = pending.registry {
            self.registry = registry;
        }
        Ok(())
    }

    fn rule_violation(
        &self,
        index: u64,
        entry: &[u8],
        why: &str,
        target: &SignedCheckpoint,
        fetcher: &TileFetcher<'_>,
        options: &PullOptions,
    ) -> SyncError {
        // The inclusion proof makes the evidence self-contained: the partner signed a tree
        // that holds this entry at this index.
        let reader = AuthenticatedTiles::new(&target.checkpoint, fetcher);
        let proof = tlog_tiles::prove_record(target.checkpoint.size, index, &reader)
            .map(|proof| {
                proof
                    .iter()
                    .map(|hash| format!("{}\n", BASE64_STANDARD.encode(hash.0)))
                    .collect::<String>()
            })
            .unwrap_or_else(|error| format!("(no proof: {error})\n"));
        let proof_text = format!("index {index}\n{proof}");
        let entry_hex = format!("{}\n", hex::encode(entry));
        let recorded = evidence::record(
            &self.evidence_dir(),
            EvidenceKind::RuleViolation,
            &self.origin,
            why,
            &[
                ("checkpoint", target.note_text.as_bytes()),
                ("entry.hex", entry_hex.as_bytes()),
                ("inclusion-proof.txt", proof_text.as_bytes()),
            ],
            (options.now_unix_s)(),
        );
        match recorded {
            Ok(path) => SyncError::new(
                SyncErrorKind::RuleViolation,
                format!(
                    "partner {} signed a checkpoint over an entry the rules refuse: {why}; \
                     evidence kept in {}; mirroring stopped at entry {index} until an operator \
                     clears the alarm",
                    self.origin,
                    path.display()
                ),
            ),
            Err(error) => error.context(format!(
                "rule violation by {} ({why}) but its evidence could not be written",
                self.origin
            )),
        }
    }
}

/// The partner's registry as folded up to a cursor.
type RegistryAt = (u64, std::sync::Arc<Registry>);

/// A read-only view of a mirror's store that does not need the [`Mirror`] itself: the HTTP
/// service answers verifications from it while a background pull holds the `Mirror` and
/// talks to the partner. Reads see committed batches only (each batch commits with its
/// cursor), and the held checkpoint is written before any entry it covers, so a credential
/// read first is always covered by the checkpoint read second.
#[derive(Clone)]
pub struct MirrorReader {
    origin: String,
    vkey: String,
    evidence_dir: PathBuf,
    records: StoreTree,
    /// The held checkpoint as last verified (re-verified when the stored note changes).
    checkpoint: std::sync::Arc<std::sync::Mutex<Option<SignedCheckpoint>>>,
    /// The partner's registry as of a cursor (rebuilt when the cursor moves).
    registry: std::sync::Arc<std::sync::Mutex<Option<RegistryAt>>>,
}

impl std::fmt::Debug for MirrorReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorReader")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl MirrorReader {
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `mirrors/<origin>/evidence/`.
    pub fn evidence_dir(&self) -> &Path {
        &self.evidence_dir
    }

    fn read_u64(&self, key: &[u8], what: &str) -> Result<Option<u64>> {
        self.records
            .get(key)?
            .map(|bytes| u64_value(&bytes, what))
            .transpose()
    }

    /// Partner entries verified and folded (committed).
    pub fn cursor(&self) -> Result<u64> {
        Ok(self.read_u64(KEY_CURSOR, "the cursor")?.unwrap_or(0))
    }

    /// A partner credential by certificate number.
    pub fn credential(&self, number: &CertificateNumber) -> Result<Option<ForeignCredential>> {
        let found = committed_credential(&self.records, number, u64::MAX)?;
        match found {
            // Read the cursor after the record: a batch may have committed in between.
            Some(found) if found.record.entry_index >= self.cursor()? => Ok(None),
            found => Ok(found),
        }
    }

    /// A person's career record on the partner ledger (contest results and the other
    /// routes), when the store keeps them.
    pub fn career(&self, subject: &SubjectId) -> Result<Option<CareerRecord>> {
        self.records
            .get(key(PREFIX_CAREER, &subject.0))?
            .map(|bytes| decode(&bytes, "a career"))
            .transpose()
    }

    /// The partner checkpoint held, verified with the configured key.
    /// The partner ledger's statistics counters as folded so far (names as the node's).
    pub fn stats(&self) -> Result<BTreeMap<String, i64>> {
        let mut counters = BTreeMap::new();
        for item in self.records.scan_prefix([PREFIX_STAT]) {
            let (name, value) = item?;
            let name = String::from_utf8_lossy(&name[1..]).into_owned();
            let value = <[u8; 8]>::try_from(value.as_ref())
                .map(i64::from_le_bytes)
                .map_err(|_| store_error(format!("mirror counter {name} is not 8 bytes")))?;
            counters.insert(name, value);
        }
        Ok(counters)
    }

    pub fn checkpoint(&self) -> Result<Option<SignedCheckpoint>> {
        let Some(bytes) = self.records.get(KEY_CHECKPOINT)? else {
            return Ok(None);
        };
        let mut cached = lock(&self.checkpoint);
        if let Some(held) = cached.as_ref() {
            if held.note_text.as_bytes() == bytes.as_ref() {
                return Ok(Some(held.clone()));
            }
        }
        let note_text = String::from_utf8(bytes.to_vec())
            .map_err(|_| store_error("mirror store: the held checkpoint is not UTF-8".into()))?;
        let configured = configured_key(&self.vkey)?;
        let followed = self
            .records
            .get(KEY_FOLLOWED_KEYS)?
            .map(|bytes| decode_keys(&bytes))
            .unwrap_or_default();
        let registry = self.registry()?;
        let keys = held_keys(configured, &registry, &followed);
        let checkpoint = parse_and_verify_checkpoint_with_any(&note_text, &self.origin, &keys)
            .map_err(|error| {
                store_error(format!(
                    "the held checkpoint of {} does not verify: {error}",
                    self.origin
                ))
            })?;
        let held = SignedCheckpoint {
            checkpoint,
            note_text,
        };
        *cached = Some(held.clone());
        Ok(Some(held))
    }

    /// The partner's registry (bodies, catalogue) as far as the mirror has folded.
    pub fn registry(&self) -> Result<std::sync::Arc<Registry>> {
        let cursor = self.cursor()?;
        let mut cached = lock(&self.registry);
        if let Some((at, registry)) = cached.as_ref() {
            if *at == cursor {
                return Ok(registry.clone());
            }
        }
        let registry = std::sync::Arc::new(load_registry(&self.records)?);
        *cached = Some((cursor, registry.clone()));
        Ok(registry)
    }

    /// The oldest uncleared evidence record: while there is one, pulls are refused.
    pub fn alarm(&self) -> Result<Option<EvidenceRecord>> {
        evidence::active_alarm(&self.evidence_dir)
    }

    /// Freshness and state, as [`Mirror::status`] gives it.
    pub fn status(&self) -> Result<MirrorStatus> {
        // The cursor first: the checkpoint read after it covers at least that much.
        let cursor = self.cursor()?;
        Ok(MirrorStatus {
            partner: self.origin.clone(),
            checkpoint: self.checkpoint()?.map(|held| held.checkpoint),
            cursor,
            last_pull_unix_s: self.read_u64(KEY_LAST_PULL, "the last pull time")?,
            credentials: self
                .read_u64(KEY_CREDENTIALS, "the credential count")?
                .unwrap_or(0),
            alarm: self.alarm()?,
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
        MirrorReader {
            origin: self.origin.clone(),
            vkey: self.vkey.clone(),
            evidence_dir: self.evidence_dir(),
            records: self.records.clone(),
            checkpoint: Default::default(),
            registry: Default::default(),
        }
    }
}

/// The filter of the keys the store holds, filled by a background scan of the credential,
/// person and career keys (until it arrives, every read goes to the store). Keys written
/// meanwhile are added by the fold, so none is missed.
fn scan_known_keys(records: &StoreTree) -> KnownKeys {
    KnownKeys::scanning(
        records.clone(),
        &[
            PREFIX_CREDENTIAL,
            PREFIX_PERSON,
            PREFIX_CAREER,
            PREFIX_SPECIAL_ABILITY,
        ],
        "mirror-scan",
        || {},
    )
    .unwrap_or_else(|error| {
        // No scan: the filter never completes, and the fold reads the store for every key.
        tracing::warn!(%error, "starting the mirror store's key scan");
        KnownKeys::loading(Tagger::new(), std::sync::mpsc::channel().1)
    })
}

/// The credential numbered `number` if the store holds it and it was certified before
/// `cursor` (a record certified at or past the cursor belongs to a batch not committed).
fn committed_credential(
    records: &sled::Tree,
    number: &CertificateNumber,
    cursor: u64,
) -> Result<Option<ForeignCredential>> {
    let found: Option<ForeignCredential> = records
        .get(key(PREFIX_CREDENTIAL, number.as_bytes()))?
        .map(|bytes| decode(&bytes, "a credential"))
        .transpose()?;
    Ok(found.filter(|found| found.record.entry_index < cursor))
}

/// A batch's commit under way on its own thread.
struct PendingCommit {
    /// Read by the next batch's fold until the store has it.
    overlay: std::sync::Arc<Overlay>,
    end: u64,
    credentials: u64,
    /// The registry as folded to `end`, when the batch changed it.
    registry: Option<Registry>,
    /// The sled batch's time in microseconds, or its failure.
    handle: std::thread::JoinHandle<Result<u64>>,
}

/// One sled batch with every record a batch changed, its packed event ids, the counters, the
/// held proof and the cursor `end`, so they commit together; the credentials it certified go
/// first, outside the batch (read as absent until the cursor passes them). No flush: the tree is synced
/// first, and sled recovers a prefix of its writes, so a crash can only lose whole batches
/// from the end (the tree is then cut back to the cursor on open and they are fetched again).
/// The pull flushes at its end.
fn write_batch(
    records: &sled::Tree,
    overlay: &Overlay,
    held_proof: Option<String>,
    credentials: u64,
    end: u64,
) -> Result<()> {
    let mut batch = sled::Batch::default();
    for (number, credential) in &overlay.credentials {
        let credential_key = key(PREFIX_CREDENTIAL, number.as_bytes());
        if credential.record.entry_index >= overlay.start {
            // Certified in this batch: written ahead of the batch, key by key (sled's batch
            // holds a lock every read waits for). Until the cursor passes its entry, a
            // reader takes it for absent, so one a crash leaves behind the cursor changes
            // nothing; the fold writes the same record again.
            records.insert(credential_key, encode(credential))?;
        } else {
            batch.insert(credential_key, encode(credential));
        }
    }
    for (number, record) in &overlay.special_abilities {
        batch.insert(
            key(PREFIX_SPECIAL_ABILITY, number.as_bytes()),
            encode(record),
        );
    }
    for (subject, person) in &overlay.persons {
        batch.insert(key(PREFIX_PERSON, &subject.0), encode(person));
    }
    for (subject, career) in &overlay.careers {
        batch.insert(key(PREFIX_CAREER, &subject.0), encode(career));
    }
    let mut packed = Vec::with_capacity(overlay.ids.len() * 16);
    for id in &overlay.ids {
        packed.extend_from_slice(&id.0);
    }
    batch.insert(key(PREFIX_EVENT_IDS, &overlay.start.to_be_bytes()), packed);
    for (index, entry) in &overlay.registry_entries {
        batch.insert(
            key(PREFIX_REGISTRY_ENTRY, &index.to_be_bytes()),
            entry.as_slice(),
        );
    }
    for (counter, delta) in &overlay.stats {
        let stat_key = key(PREFIX_STAT, counter.to_string().as_bytes());
        let held = records
            .get(&stat_key)?
            .and_then(|value| <[u8; 8]>::try_from(value.as_ref()).ok())
            .map_or(0, i64::from_le_bytes);
        batch.insert(stat_key, &(held + delta).to_le_bytes());
    }
    match held_proof {
        Some(proof) => batch.insert(KEY_HELD_PROOF, proof.as_bytes()),
        None => batch.remove(KEY_HELD_PROOF),
    }
    batch.insert(KEY_CREDENTIALS, &credentials.to_le_bytes());
    batch.insert(KEY_CURSOR, &end.to_le_bytes());
    records.apply_batch(batch)?;
    Ok(())
}

/// The in-memory event-id index of the entries before `cursor`, from the packed `i` chunks
/// (written with the cursor, so they end exactly there). A store written before the ids were
/// packed has an `e` key per event instead: they are packed and removed here, once.
fn load_event_ids(records: &sled::Tree, cursor: u64) -> Result<EventIndex> {
    let mut ids = EventIndex::default();
    let mut expected = 0u64;
    for item in records.scan_prefix([PREFIX_EVENT_IDS]) {
        let (chunk_key, value) = item?;
        if expected >= cursor {
            break;
        }
        let first = chunk_first(&chunk_key)?;
        if first != expected || value.is_empty() || !value.len().is_multiple_of(16) {
            return Err(store_error(format!(
                "mirror store: the event-id chunk at entry {first} ({} bytes) does not follow \
                 entry {expected}",
                value.len()
            )));
        }
        for bytes in value.chunks_exact(16) {
            if expected < cursor {
                let mut id = [0u8; 16];
                id.copy_from_slice(bytes);
                ids.insert(&EventId(id), expected);
            }
            expected += 1;
        }
    }
    if expected == 0 && cursor > 0 {
        return pack_legacy_event_ids(records, cursor);
    }
    if expected < cursor {
        return Err(store_error(format!(
            "mirror store: event ids are held for {expected} entries, the cursor is {cursor}"
        )));
    }
    Ok(ids)
}

/// Converts the `e` ‖ event id keys of an older store into one packed `i` chunk.
fn pack_legacy_event_ids(records: &sled::Tree, cursor: u64) -> Result<EventIndex> {
    let length = usize::try_from(cursor)
        .map_err(|_| store_error(format!("mirror store: cursor {cursor} is too large")))?;
    let mut slots: Vec<Option<EventId>> = vec![None; length];
    let mut batch = sled::Batch::default();
    for item in records.scan_prefix([PREFIX_EVENT_LEGACY]) {
        let (event_key, value) = item?;
        let id = <[u8; 16]>::try_from(&event_key[1..])
            .map(EventId)
            .map_err(|_| store_error("mirror store: an event key is malformed".to_string()))?;
        let index = u64_value(&value, "an event index")?;
        let slot = usize::try_from(index)
            .ok()
            .and_then(|at| slots.get_mut(at))
            .ok_or_else(|| {
                store_error(format!(
                    "mirror store: event index {index} is past the cursor {cursor}"
                ))
            })?;
        *slot = Some(id);
        batch.remove(event_key);
    }
    let mut ids = EventIndex::default();
    let mut packed = Vec::with_capacity(length * 16);
    for (index, slot) in slots.iter().enumerate() {
        let id = slot.ok_or_else(|| {
            store_error(format!(
                "mirror store: no event id is held for entry {index} (cursor {cursor})"
            ))
        })?;
        packed.extend_from_slice(&id.0);
        ids.insert(&id, index as u64);
    }
    batch.insert(key(PREFIX_EVENT_IDS, &0u64.to_be_bytes()), packed);
    records.apply_batch(batch)?;
    records.flush()?;
    Ok(ids)
}

/// Rebuilds the partner's registry from the registry entries the mirror keeps (`r` keys),
/// folded in log order. Their `apply` reads only the registry, never the records.
fn load_registry(records: &sled::Tree) -> Result<Registry> {
    let mut registry = Registry::default();
    let empty = MemoryLedger::default();
    for item in records.scan_prefix([PREFIX_REGISTRY_ENTRY]) {
        let (key, entry) = item?;
        let index = key
            .get(1..9)
            .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| store_error("mirror store: a registry key is malformed".to_string()))?;
        let signed = SignedEvent::from_entry(&entry).map_err(|error| {
            store_error(format!("mirror store: registry entry {index}: {error}"))
        })?;
        if let Some(change) = apply(&registry, &empty, &signed, index).registry {
            registry.absorb(change);
        }
    }
    Ok(registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_end_on_bundle_boundaries_when_they_can() {
        assert_eq!(batch_end(0, 10_000, 1024), 1024);
        assert_eq!(batch_end(100, 10_000, 1024), 1024);
        assert_eq!(batch_end(1000, 10_000, 1024), 1792);
        assert_eq!(batch_end(9_500, 10_000, 1024), 10_000);
        assert_eq!(batch_end(5, 10_000, 10), 15);
        assert_eq!(batch_end(250, 10_000, 256), 256);
    }

    #[test]
    fn bundles_parse_exactly_or_name_the_fault() {
        let bundle = skill_ledger_log::entry_bundle(&[b"ab", b"", b"xyz"]);
        assert_eq!(
            parse_bundle(&bundle, 3).expect("parse"),
            vec![b"ab".to_vec(), vec![], b"xyz".to_vec()]
        );
        assert!(parse_bundle(&bundle, 2)
            .expect_err("extra")
            .contains("after its 2"));
        assert!(parse_bundle(&bundle, 4)
            .expect_err("short")
            .contains("holds 3"));
        assert!(parse_bundle(&bundle[..bundle.len() - 1], 3)
            .expect_err("cut")
            .contains("claims 3 bytes"));
        assert!(parse_bundle(&[0], 1)
            .expect_err("cut length")
            .contains("truncated"));
    }
}
