//! The projection engine: the one fold of log entries into the projections.
//!
//! Every path that takes entries in drives this engine: the sequencer (new submissions,
//! `crate::pipeline`), the replay at start-up and the rebuild (`Engine::replay`). The
//! engine owns what those paths share, so a rule, a record or a key layout changes in one
//! place:
//!
//! * the store layout and its versioning (`layout`: keys, value encodings, `m/format`);
//! * the overlay of decided but uncommitted batches and the [`RecordView`] that `decide` and
//!   `apply` read through it (`overlay`);
//! * the working registry, the statistics counters, the event-id index (`event_index`) and
//!   the filter of keys the store may hold (`known`);
//! * the in-order commit with the cursor: a batch is sealed once its entries are in the log,
//!   its overlay stays readable until the store holds it, and batches reach the store one at
//!   a time, oldest first (`layout::Projection::commit_group`).
//!
//! Signatures are checked before an entry reaches the engine, by the one verifier of every
//! path, [`skill_ledger_domain::verify_signed`].
//!
//! A fold is `decide` (unless the entry is trusted: already decided when it was appended)
//! then `apply`, against the registry and the view; its changes go into the batch's overlay,
//! the registry and the counters. A store read that fails while folding fails the fold,
//! whatever the rule answered.

pub(crate) mod careers;
pub(crate) mod credentials;
pub(crate) mod event_index;
pub(crate) mod known;
pub(crate) mod layout;
pub(crate) mod overlay;
pub(crate) mod persons;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use skill_ledger_domain::{
    apply, decide, CareerRecord, CertificateNumber, CredentialRecord, EventId, KeyCache,
    PersonRecord, RecordView, Registry, Rejection, SignedBytes, SignedEvent, SpecialAbilityRecord,
    SubjectId,
};
use skill_ledger_log::LogReader;

use crate::error::{NodeError, NodeErrorKind};
use crate::store::StoreTree;
use event_index::EventIndex;
pub use known::{whole_key, Expand, KeyScan, KIND_CAREER, KIND_CREDENTIAL, KIND_SUBJECT};
use known::{KnownKeys, Tagger};
use layout::Projection;
pub use overlay::Overlay;
use overlay::{Counters, OverlayView};

/// Where an engine keeps its records: the reads `decide` and `apply` need, and what an
/// engine loads when it opens. The node's layout ([`layout::Projection`]) implements it, and
/// so does a partner's mirror (`skill_ledger_sync`), each with its own keys; the fold, the
/// overlays and the in-order commit are the engine's.
pub trait RecordStore: Clone + Send + Sync + 'static {
    /// A certificate with a level, as committed.
    fn credential(&self, number: &CertificateNumber)
        -> Result<Option<CredentialRecord>, NodeError>;
    /// A 专项职业能力证书, as committed.
    fn special_ability(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<SpecialAbilityRecord>, NodeError>;
    fn person(&self, subject: &SubjectId) -> Result<Option<PersonRecord>, NodeError>;
    fn career(&self, subject: &SubjectId) -> Result<Option<CareerRecord>, NodeError>;
    /// Whether the store keeps career records (see [`RecordView::keeps_careers`]).
    fn keeps_careers(&self) -> bool;
    /// The event id of committed entry `index`, if the store holds it: how a candidate of
    /// the event-id index is confirmed.
    fn event_at(&self, index: u64) -> Result<Option<EventId>, NodeError>;
    /// Entries committed so far.
    fn cursor(&self) -> Result<u64, NodeError>;
    /// The registry as of the cursor.
    fn registry(&self) -> Result<Registry, NodeError>;
    /// The statistics counters as of the cursor, by name.
    fn stats(&self) -> Result<BTreeMap<String, i64>, NodeError>;
    /// Calls `each` with the event id of every committed entry `[0, cursor)`.
    fn event_ids(&self, cursor: u64, each: &mut dyn FnMut(EventId, u64)) -> Result<(), NodeError>;
    /// The tree and key prefixes a filter of held keys is built from (`None`: no filter).
    fn key_scan(&self) -> Option<(StoreTree, KeyScan)>;
}

/// Whether a fold judges the entry by the rules first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judge {
    /// `decide`, then `apply` if it is accepted: a new submission, or a re-verifying rebuild.
    Rules,
    /// `apply` only: the entry was decided when it was appended (the log's integrity was
    /// checked against the signed checkpoint at open).
    Trusted,
}

/// A batch whose entries are in the log, on its way to the store.
pub struct Sealed {
    pub overlay: Arc<Overlay>,
    /// The values of the counters the batch touched, after it, by name.
    pub stats: Vec<(String, i64)>,
    /// The cursor after the batch: the log's size once its entries are in.
    pub cursor: u64,
}

/// Entries folded per projection commit during replay and rebuild.
const REPLAY_BATCH_ENTRIES: u64 = 8_192;

/// A replay batch's commit under way: its cursor and the thread writing it.
type Commit = (u64, JoinHandle<Result<(), NodeError>>);

/// The projection engine (see the module documentation).
pub struct Engine<S: RecordStore> {
    store: S,
    registry: Registry,
    stats: Counters,
    event_ids: EventIndex,
    /// Keys the store certainly lacks (no store read for those), when a filter is kept.
    known: Option<KnownKeys>,
    /// The batch being folded.
    overlay: Overlay,
    /// Sealed batches the store may not hold yet (oldest first), by their cursor.
    pending: Vec<(u64, Arc<Overlay>)>,
    /// The replay's commit under way on its own thread.
    commit: Option<Commit>,
    /// The cursor the store holds, as far as this engine knows.
    committed: u64,
}

impl<S: RecordStore> Engine<S> {
    /// An engine over what `store` holds: its cursor, registry, counters and event ids. No
    /// filter of held keys yet: every absent key is read ([`Engine::scan_held_keys`]).
    pub fn open(store: S) -> Result<Engine<S>, NodeError> {
        let committed = store.cursor()?;
        let registry = store.registry()?;
        let stats = Counters::from_stored(store.stats()?);
        let mut event_ids =
            EventIndex::with_capacity(usize::try_from(committed).unwrap_or(usize::MAX));
        store.event_ids(committed, &mut |id, index| event_ids.insert(&id, index))?;
        Ok(Engine {
            store,
            registry,
            stats,
            event_ids,
            known: None,
            overlay: Overlay::default(),
            pending: Vec::new(),
            commit: None,
            committed,
        })
    }

    /// An engine over an empty `store` (a rebuild): its filter of held keys is complete
    /// from the start, so no absent key is read.
    pub fn fresh(store: S) -> Engine<S> {
        Engine::fresh_for(store, 0)
    }

    /// [`Engine::fresh`] for folding about `entries` entries: its filter of held keys is sized
    /// for as many keys from the start (a rebuild knows the log's size).
    pub fn fresh_for(store: S, entries: u64) -> Engine<S> {
        let expected = usize::try_from(entries).unwrap_or(usize::MAX);
        let known = store
            .key_scan()
            .map(|(_, scan)| KnownKeys::empty_of(Tagger::new(), scan, expected));
        Engine {
            store,
            registry: Registry::default(),
            stats: Counters::default(),
            event_ids: EventIndex::default(),
            known,
            overlay: Overlay::default(),
            pending: Vec::new(),
            commit: None,
            committed: 0,
        }
    }

    /// Builds the filter of the keys the store holds on a background thread (`thread_name`);
    /// until it arrives every absent key is read, as before. `done` runs when the scan ends.
    pub fn scan_held_keys(
        &mut self,
        thread_name: &str,
        done: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<()> {
        if let Some((tree, scan)) = self.store.key_scan() {
            // The store holds at most a key per committed entry.
            let expected = usize::try_from(self.committed).unwrap_or(usize::MAX);
            self.known = Some(KnownKeys::scanning_keys(
                tree,
                scan,
                expected,
                thread_name,
                done,
            )?);
        } else {
            done();
        }
        Ok(())
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Entries the store holds, as far as this engine knows.
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// The registry as folded so far.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Starts a batch: `committed` is the cursor the store holds now, so the overlays of the
    /// batches it covers are no longer read.
    pub fn begin(&mut self, committed: u64) {
        self.committed = self.committed.max(committed);
        let committed = self.committed;
        self.pending.retain(|(end, _)| *end > committed);
        self.overlay.clear();
        if let Some(known) = self.known.as_mut() {
            known.poll();
        }
    }

    fn view(&self) -> OverlayView<'_, S> {
        OverlayView::new(
            &self.store,
            &self.overlay,
            &self.event_ids,
            &self.pending,
            self.known.as_ref(),
        )
    }

    /// The entry that carried `id`, if any entry folded so far did.
    pub fn first_index(&self, id: &EventId) -> Result<Option<u64>, NodeError> {
        let view = self.view();
        let found = view.event_index(id);
        match view.take_failure() {
            Some(error) => Err(error),
            None => Ok(found),
        }
    }

    /// Folds `signed` as entry `index`: judged by the rules when `judge` says so, then
    /// applied. `Ok(Err(rejection))` when the rules refuse it (nothing changes then).
    pub fn fold(
        &mut self,
        signed: &SignedEvent,
        index: u64,
        judge: Judge,
    ) -> Result<Result<(), Rejection>, NodeError> {
        let view = self.view();
        let decided = match judge {
            Judge::Rules => decide(&self.registry, &view, signed),
            Judge::Trusted => Ok(()),
        };
        let changes = decided
            .as_ref()
            .ok()
            .map(|()| apply(&self.registry, &view, signed, index));
        // A person no batch and no store holds yet is created by this entry.
        let created = changes
            .as_ref()
            .and_then(|changes| changes.person.as_ref())
            .map(|(subject, _)| *subject)
            .filter(|subject| view.person(subject).is_none());
        // A store read that failed while folding is fatal, whatever the rule answered.
        if let Some(error) = view.take_failure() {
            return Err(error);
        }
        drop(view);
        if let Some(changes) = changes {
            if let Some(known) = self.known.as_mut() {
                known.insert_changes(&changes);
            }
            self.overlay
                .absorb(changes, &mut self.registry, &mut self.stats);
            if let Some(subject) = created {
                self.overlay.new_persons.insert(subject, index);
            }
        }
        Ok(decided)
    }

    /// Whether the batch so far changed the registry.
    pub fn registry_changed(&self) -> bool {
        !self.overlay.registry_changes.is_empty()
    }

    /// The batch's entries are in the log: its event ids join the index (which confirms a
    /// candidate against the log).
    pub fn confirm_ids(&mut self) {
        for (index, id) in &self.overlay.new_ids {
            self.event_ids.insert(id, *index);
        }
    }

    /// Ends the batch at `cursor`: its overlay stays readable until the store holds it.
    pub fn seal(&mut self, cursor: u64) -> Sealed {
        let overlay = Arc::new(std::mem::take(&mut self.overlay));
        let stats = self.stats.named(&overlay.touched_stats);
        if !overlay.is_empty() {
            self.pending.push((cursor, overlay.clone()));
        }
        Sealed {
            overlay,
            stats,
            cursor,
        }
    }

    /// Forgets every batch not in the store and reloads the counters from it, with
    /// `registry` (the one as of the store's cursor). For a batch the log refused after it was
    /// folded (a full disk): the state is then what a restart would load.
    pub fn reload(&mut self, registry: Registry) -> Result<(), NodeError> {
        self.stats = Counters::from_stored(self.store.stats()?);
        self.registry = registry;
        self.pending.clear();
        self.overlay.clear();
        Ok(())
    }
}

impl Engine<Projection> {
    /// Folds entries `[from, to)` of `log` into the projections, committing every
    /// [`REPLAY_BATCH_ENTRIES`]. With `recheck` (the ledger's origin and a key cache) every
    /// entry's signature is verified again ([`skill_ledger_domain::verify_signed`]) and every
    /// event judged again by the rules against the state before it: any failure names the
    /// entry and stops the replay.
    ///
    /// Pipelined: readers read, decode (and re-verify) batches up to [`REPLAY_BATCHES_AHEAD`]
    /// each ahead of the fold (one reader trusting; re-verifying, one per core, each taking
    /// every n-th batch whole and verifying it on its own thread, so no batch waits on a
    /// barrier); the fold takes the batches in log order, so the first failure in log order
    /// is the one named; batch k's commit runs on a thread of its own while batch k+1 is
    /// folded; the fold reads batch k's overlay before the store,
    /// and batch k+1's commit waits for batch k's, so batches reach the store in order, one at
    /// a time. Whatever ends the replay, it stops the reader and waits for the commit under
    /// way.
    pub(crate) fn replay(
        &mut self,
        log: &LogReader,
        (from, to): (u64, u64),
        recheck: Option<(&str, &mut KeyCache)>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), NodeError> {
        let replayed = self.replay_batches(log, (from, to), recheck, progress);
        let committed = self.finish_commit();
        replayed.and(committed)
    }

    fn replay_batches(
        &mut self,
        log: &LogReader,
        (from, to): (u64, u64),
        recheck: Option<(&str, &mut KeyCache)>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), NodeError> {
        let judge = if recheck.is_some() {
            Judge::Rules
        } else {
            Judge::Trusted
        };
        // Re-verifying, verification is most of the work: one reader per core, each
        // verifying whole batches on its own thread. Trusting, one reader keeps ahead.
        let readers = if recheck.is_some() {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .clamp(1, REPLAY_READERS_MAX)
        } else {
            1
        };
        let (origin, caller_keys) = recheck.unzip();
        // Reader 0 verifies with the caller's key cache, the others with their own; trusting,
        // the one reader has none.
        let mut own_keys: Vec<KeyCache> = (1..readers).map(|_| KeyCache::default()).collect();
        let key_caches: Vec<Option<&mut KeyCache>> = std::iter::once(caller_keys)
            .chain(own_keys.iter_mut().map(Some))
            .collect();
        let batches = (to.saturating_sub(from)).div_ceil(REPLAY_BATCH_ENTRIES);
        std::thread::scope(|scope| {
            // Reader r reads, decodes and (re)verifies batches r, r + readers, … ahead of the
            // fold, on a thread of its own; the fold takes them back in log order.
            let mut channels = Vec::with_capacity(readers);
            for (first, keys) in key_caches.into_iter().enumerate() {
                let (send, receive) = std::sync::mpsc::sync_channel(REPLAY_BATCHES_AHEAD);
                channels.push(receive);
                let stride = Stride {
                    first: first as u64,
                    every: readers as u64,
                };
                let recheck = origin.zip(keys);
                std::thread::Builder::new()
                    .name(format!("replay-read-{first}"))
                    .spawn_scoped(scope, move || {
                        read_batches(log, (from, to), stride, recheck, &mut |batch| {
                            send.send(batch).is_ok()
                        })
                    })
                    .map_err(|error| {
                        NodeError::new(
                            NodeErrorKind::Projection,
                            format!("starting the replay's reader thread: {error}"),
                        )
                    })?;
            }
            // Dropping `channels` on an early return stops every reader at its next send.
            for k in 0..batches {
                let reader = (k % readers as u64) as usize;
                let Ok(batch) = channels[reader].recv() else {
                    return Err(NodeError::new(
                        NodeErrorKind::Projection,
                        format!(
                            "the replay's reader {reader} stopped before entry {}",
                            from + k * REPLAY_BATCH_ENTRIES
                        ),
                    ));
                };
                let (start, decoded) = batch?;
                self.fold_replayed(start, &decoded, judge, progress)?;
            }
            Ok(())
        })
    }

    /// Folds one replayed batch of consecutive entries from `start` and starts its commit.
    fn fold_replayed(
        &mut self,
        start: u64,
        decoded: &[SignedEvent],
        judge: Judge,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), NodeError> {
        let end = start + decoded.len() as u64;
        let committed = self.committed;
        self.begin(committed);
        for (offset, signed) in decoded.iter().enumerate() {
            let index = start + offset as u64;
            if let Err(rejection) = self.fold(signed, index, judge)? {
                return Err(NodeError::new(
                    NodeErrorKind::Integrity,
                    format!(
                        "entry {index} breaks the ledger's rules: {rejection} ({})",
                        rejection.code()
                    ),
                ));
            }
        }
        // The ids are confirmed against the log, which holds these entries already.
        self.confirm_ids();
        let sealed = self.seal(end);
        // This batch's counters and id chunks build on the batch before: it goes first.
        self.finish_commit()?;
        let store = self.store.clone();
        let thread = std::thread::Builder::new()
            .name("replay-commit".to_string())
            .spawn(move || store.commit(&sealed.overlay, &sealed.stats, sealed.cursor))
            .map_err(|error| {
                NodeError::new(
                    NodeErrorKind::Projection,
                    format!("starting the replay's commit thread: {error}"),
                )
            })?;
        self.commit = Some((end, thread));
        progress(end);
        Ok(())
    }

    /// Waits for the replay's commit under way, if any.
    fn finish_commit(&mut self) -> Result<(), NodeError> {
        let Some((cursor, thread)) = self.commit.take() else {
            return Ok(());
        };
        match thread.join() {
            Ok(committed) => committed?,
            Err(panic) => std::panic::resume_unwind(panic),
        }
        self.committed = self.committed.max(cursor);
        Ok(())
    }
}

/// Batches each of the replay's readers keeps ready ahead of the fold.
const REPLAY_BATCHES_AHEAD: usize = 2;

/// Most readers of a re-verifying replay.
const REPLAY_READERS_MAX: usize = 8;

/// Which batches a replay reader takes: `first`, `first + every`, `first + 2 every`, …
#[derive(Clone, Copy, Debug)]
struct Stride {
    first: u64,
    every: u64,
}

/// A batch of decoded entries from its first index, or why reading stopped.
type ReadBatch = Result<(u64, Vec<SignedEvent>), NodeError>;

/// Reads the batches of [`REPLAY_BATCH_ENTRIES`] entries of `[from, to)` that `stride`
/// names, decodes them and, with `recheck`, verifies every signature on this thread
/// ([`skill_ledger_domain::verify_signed_on`]); hands each batch (or the first failure,
/// naming its entry) to `deliver`, until `deliver` says stop.
fn read_batches(
    log: &LogReader,
    (from, to): (u64, u64),
    stride: Stride,
    mut recheck: Option<(&str, &mut KeyCache)>,
    deliver: &mut dyn FnMut(ReadBatch) -> bool,
) {
    let mut entries: Vec<u8> = Vec::new();
    let mut bounds: Vec<(usize, usize)> = Vec::new();
    let mut start = from.saturating_add(stride.first.saturating_mul(REPLAY_BATCH_ENTRIES));
    while start < to {
        let end = (start + REPLAY_BATCH_ENTRIES).min(to);
        let batch = read_batch(
            log,
            (start, end),
            recheck.as_mut(),
            &mut entries,
            &mut bounds,
        );
        let failed = batch.is_err();
        if !deliver(batch.map(|decoded| (start, decoded))) || failed {
            return;
        }
        start = start.saturating_add(stride.every.saturating_mul(REPLAY_BATCH_ENTRIES));
    }
}

/// One batch of [`read_batches`]: the entries' bytes go into `entries` (their bounds into
/// `bounds`), reused from batch to batch.
fn read_batch(
    log: &LogReader,
    (start, end): (u64, u64),
    recheck: Option<&mut (&str, &mut KeyCache)>,
    entries: &mut Vec<u8>,
    bounds: &mut Vec<(usize, usize)>,
) -> Result<Vec<SignedEvent>, NodeError> {
    entries.clear();
    bounds.clear();
    log.for_each(start, end, |_, entry| {
        bounds.push((entries.len(), entries.len() + entry.len()));
        entries.extend_from_slice(entry);
        Ok(())
    })?;
    let mut decoded = Vec::with_capacity(bounds.len());
    let mut event_offsets = Vec::with_capacity(bounds.len());
    for (offset, (from, to)) in bounds.iter().enumerate() {
        let index = start + offset as u64;
        let (signed, event_offset) = SignedEvent::from_entry_with_offset(&entries[*from..*to])
            .map_err(|error| {
                NodeError::new(
                    NodeErrorKind::Integrity,
                    format!("entry {index} does not decode: {error}"),
                )
            })?;
        decoded.push(signed);
        event_offsets.push(from + event_offset);
    }
    if let Some((origin, key_cache)) = recheck {
        let items: Vec<SignedBytes<'_>> = decoded
            .iter()
            .zip(bounds.iter().zip(&event_offsets))
            .map(|(signed, ((_, to), event_from))| SignedBytes {
                event: &entries[*event_from..*to],
                public_key: &signed.public_key,
                signature: &signed.signature,
            })
            .collect();
        let verified = skill_ledger_domain::verify_signed_on(origin, &items, key_cache, 1);
        if let Some(position) = verified.iter().position(|ok| !ok) {
            return Err(NodeError::new(
                NodeErrorKind::Integrity,
                format!(
                    "entry {}: its signature does not verify",
                    start + position as u64
                ),
            ));
        }
    }
    Ok(decoded)
}
