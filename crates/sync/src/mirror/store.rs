//! The mirror's store: its keys, and the [`RecordStore`] the projection engine folds a
//! partner's entries into.
//!
//! The layout is the mirror's own (docs/formats.md, Part 6): credentials keep the leaf hash
//! of the entry that certified them (so the mirror can prove them), the registry is kept as
//! the raw registry entries (`r`), and event ids as packed chunks per batch (`i`). What the
//! fold reads through and the order of commits are the engine's
//! ([`skill_ledger_node::engine`]); this module only says where records live and how a sealed
//! batch is written.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use skill_ledger_domain::{
    apply, CareerRecord, CertificateNumber, CredentialRecord, EventId, MemoryLedger, PersonRecord,
    Registry, SignedEvent, SpecialAbilityRecord, SubjectId, BINCODE_CONFIG,
};
use skill_ledger_log::Hash;
use skill_ledger_node::engine::{
    whole_key, KeyScan, RecordStore, Sealed, KIND_CAREER, KIND_CREDENTIAL, KIND_SUBJECT,
};
use skill_ledger_node::store::{Store, StoreOptions, StoreTree};
use skill_ledger_node::{NodeError, NodeErrorKind};

use super::ForeignCredential;
use crate::error::{Result, SyncError, SyncErrorKind};

pub(super) const KEY_CURSOR: &[u8] = b"m/cursor";
pub(super) const KEY_CHECKPOINT: &[u8] = b"m/checkpoint";
pub(super) const KEY_LAST_PULL: &[u8] = b"m/last_pull";
pub(super) const KEY_CREDENTIALS: &[u8] = b"m/credentials";
/// While the cursor is short of the held checkpoint: the consistency proof from the mirror's
/// own tree at the cursor to the held checkpoint (text of `evidence::ConsistencyProof`), so a
/// fork with a smaller checkpoint can be shown without the partner's tiles.
pub(super) const KEY_HELD_PROOF: &[u8] = b"m/held-proof";
/// Present when the store keeps career records from entry 0 (created by a build that does).
pub(super) const KEY_CAREERS: &[u8] = b"m/careers";
/// The value of [`KEY_CAREERS`]: the layout of the career records (`k` keys). 2: with the
/// special abilities; a store of layout 1 is refused with a message to pull again.
pub(super) const CAREERS_LAYOUT: u8 = 2;
/// Authority keys of the partner learned from its log before the entries naming them were
/// folded (32 bytes each; see `Mirror::follow_key_change`).
pub(super) const KEY_FOLLOWED_KEYS: &[u8] = b"m/followed-keys";
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
/// `r` ‖ entry index (u64 BE): a registry entry of the partner's log, as signed.
const PREFIX_REGISTRY_ENTRY: u8 = b'r';
/// Statistics counters of the partner's ledger (the same names as the node's), i64 LE.
const PREFIX_STAT: u8 = b's';

/// The keys the engine's filter of held keys covers, and the kind each is tagged as.
const HELD_KEYS: KeyScan = &[
    (PREFIX_CREDENTIAL, KIND_CREDENTIAL, whole_key),
    (PREFIX_SPECIAL_ABILITY, KIND_CREDENTIAL, whole_key),
    (PREFIX_PERSON, KIND_SUBJECT, whole_key),
    (PREFIX_CAREER, KIND_CAREER, whole_key),
];

pub(super) fn store_error(message: String) -> SyncError {
    SyncError::new(SyncErrorKind::Store, message)
}

fn projection_error(message: String) -> NodeError {
    NodeError::new(NodeErrorKind::Projection, message)
}

/// A failure of the engine or of a store read it made, as the mirror reports it.
pub(super) fn engine_error(error: NodeError) -> SyncError {
    let kind = match error.kind() {
        NodeErrorKind::Locked => SyncErrorKind::Locked,
        _ => SyncErrorKind::Store,
    };
    SyncError::new(kind, format!("mirror store: {error}"))
}

fn decode_value<T: bincode::Decode<()>>(bytes: &[u8], what: &str) -> Result<T, String> {
    bincode::decode_from_slice(bytes, BINCODE_CONFIG)
        .map(|(value, _)| value)
        .map_err(|error| format!("mirror store: {what} does not decode: {error}"))
}

pub(super) fn decode<T: bincode::Decode<()>>(bytes: &[u8], what: &str) -> Result<T> {
    decode_value(bytes, what).map_err(store_error)
}

fn decode_record<T: bincode::Decode<()>>(bytes: &[u8], what: &str) -> Result<T, NodeError> {
    decode_value(bytes, what).map_err(projection_error)
}

fn encode<T: bincode::Encode>(value: &T) -> Vec<u8> {
    bincode::encode_to_vec(value, BINCODE_CONFIG)
        .unwrap_or_else(|error| panic!("records are bounded far below the encoding limit: {error}"))
}

pub(super) fn u64_value(bytes: &[u8], what: &str) -> Result<u64> {
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

/// Opens the sled store at `path` with a page cache of `cache_bytes`, and its records tree:
/// refused at once, naming the path, when this process or another holds it
/// (`skill_ledger_node::store`).
pub(super) fn open_store(path: &Path, cache_bytes: u64) -> Result<StoreTree> {
    Store::open(path, StoreOptions::with_cache(cache_bytes))
        .and_then(|store| store.tree("mirror"))
        .map_err(engine_error)
}

/// The mirror's records as the projection engine reads and writes them.
#[derive(Clone)]
pub(super) struct MirrorRecords {
    tree: StoreTree,
    /// The cursor the store holds: a stored credential certified at or past it belongs to a
    /// batch whose commit did not finish (see [`MirrorRecords::commit`]) and reads as absent.
    committed: Arc<AtomicU64>,
    keeps_careers: bool,
}

impl MirrorRecords {
    pub(super) fn new(tree: StoreTree, committed: u64, keeps_careers: bool) -> MirrorRecords {
        MirrorRecords {
            tree,
            committed: Arc::new(AtomicU64::new(committed)),
            keeps_careers,
        }
    }

    /// The store holds everything before `cursor` now.
    pub(super) fn set_committed(&self, cursor: u64) {
        self.committed.store(cursor, Ordering::Release);
    }

    /// A partner credential as stored, with the leaf hash of the entry that certified it.
    pub(super) fn foreign_credential(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<ForeignCredential>> {
        committed_credential(&self.tree, number, self.committed.load(Ordering::Acquire))
    }

    /// Writes the sealed batch `[start, sealed.cursor)` and moves the cursor, in one sled
    /// batch with every record it changed, its packed event ids, its registry entries (from
    /// `entries`, the batch's entries from `start`), the counters, the held proof and the
    /// credential count. The credentials it certified go first, outside the batch: until the
    /// cursor passes their entry a reader takes them for absent, so one a crash leaves
    /// behind the cursor changes nothing, and the next fold writes the same record again
    /// (sled's batch holds a lock every read waits for, so the fewer keys in it, the better).
    /// No flush: the mirror's tree is synced first, and sled recovers a prefix of its
    /// writes, so a crash can only lose whole batches from the end (the tree is then cut back
    /// to the cursor and they are fetched again). The pull flushes at its end.
    pub(super) fn commit(&self, batch: &CommitBatch<'_>) -> Result<()> {
        let CommitBatch {
            sealed,
            start,
            entries,
            leaf_hashes,
            held_proof,
            credentials,
        } = batch;
        let overlay = &sealed.overlay;
        let mut writes = sled::Batch::default();
        for (number, record) in &overlay.credentials {
            let credential_key = key(PREFIX_CREDENTIAL, number.as_bytes());
            let leaf_hash = match record.entry_index.checked_sub(*start) {
                Some(offset) => leaf_hashes.get(offset as usize).copied().ok_or_else(|| {
                    store_error(format!(
                        "mirror store: credential {number} names entry {}, past the batch",
                        record.entry_index
                    ))
                })?,
                None => {
                    // Certified by an earlier batch (a revocation, say): keep its leaf.
                    committed_credential(&self.tree, number, *start)?
                        .ok_or_else(|| {
                            store_error(format!(
                                "mirror store: credential {number} of entry {} is not held",
                                record.entry_index
                            ))
                        })?
                        .leaf_hash
                }
            };
            let value = encode(&ForeignCredential {
                record: record.clone(),
                leaf_hash,
            });
            if record.entry_index >= *start {
                self.tree.insert(credential_key, value)?;
            } else {
                writes.insert(credential_key, value);
            }
        }
        for (number, record) in &overlay.special_abilities {
            writes.insert(
                key(PREFIX_SPECIAL_ABILITY, number.as_bytes()),
                encode(record),
            );
        }
        for (subject, person) in &overlay.persons {
            writes.insert(key(PREFIX_PERSON, &subject.0), encode(person));
        }
        for (subject, career) in &overlay.careers {
            writes.insert(key(PREFIX_CAREER, &subject.0), encode(career));
        }
        let mut packed = Vec::with_capacity(overlay.new_ids.len() * 16);
        for (offset, (index, id)) in overlay.new_ids.iter().enumerate() {
            if *index != start + offset as u64 {
                return Err(store_error(format!(
                    "mirror store: the batch from entry {start} folded entry {index} \
                     {offset} entries in"
                )));
            }
            packed.extend_from_slice(&id.0);
        }
        if !packed.is_empty() {
            writes.insert(key(PREFIX_EVENT_IDS, &start.to_be_bytes()), packed);
        }
        for index in &overlay.registry_entries {
            let entry = index
                .checked_sub(*start)
                .and_then(|offset| entries.get(offset as usize))
                .ok_or_else(|| {
                    store_error(format!(
                        "mirror store: registry entry {index} is not in the batch from {start}"
                    ))
                })?;
            writes.insert(
                key(PREFIX_REGISTRY_ENTRY, &index.to_be_bytes()),
                entry.as_slice(),
            );
        }
        for (name, value) in &sealed.stats {
            writes.insert(key(PREFIX_STAT, name.as_bytes()), &value.to_le_bytes());
        }
        match held_proof {
            Some(proof) => writes.insert(KEY_HELD_PROOF, proof.as_bytes()),
            None => writes.remove(KEY_HELD_PROOF),
        }
        writes.insert(KEY_CREDENTIALS, &credentials.to_le_bytes());
        writes.insert(KEY_CURSOR, &sealed.cursor.to_le_bytes());
        self.tree.apply_batch(writes)?;
        Ok(())
    }
}

/// What [`MirrorRecords::commit`] writes.
pub(super) struct CommitBatch<'a> {
    pub sealed: &'a Sealed,
    /// The batch's first entry.
    pub start: u64,
    /// The batch's entries (as fetched) from `start`.
    pub entries: &'a [Vec<u8>],
    /// Their authenticated leaf hashes.
    pub leaf_hashes: &'a [Hash],
    pub held_proof: Option<String>,
    /// Partner credentials known after the batch.
    pub credentials: u64,
}

impl RecordStore for MirrorRecords {
    fn credential(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<CredentialRecord>, NodeError> {
        self.foreign_credential(number)
            .map(|found| found.map(|found| found.record))
            .map_err(|error| projection_error(error.to_string()))
    }

    fn special_ability(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<SpecialAbilityRecord>, NodeError> {
        self.tree
            .get(key(PREFIX_SPECIAL_ABILITY, number.as_bytes()))?
            .map(|bytes| decode_record(&bytes, "a special ability"))
            .transpose()
    }

    fn person(&self, subject: &SubjectId) -> Result<Option<PersonRecord>, NodeError> {
        self.tree
            .get(key(PREFIX_PERSON, &subject.0))?
            .map(|bytes| decode_record(&bytes, "a person"))
            .transpose()
    }

    fn career(&self, subject: &SubjectId) -> Result<Option<CareerRecord>, NodeError> {
        self.tree
            .get(key(PREFIX_CAREER, &subject.0))?
            .map(|bytes| decode_record(&bytes, "a career"))
            .transpose()
    }

    fn keeps_careers(&self) -> bool {
        self.keeps_careers
    }

    fn event_at(&self, index: u64) -> Result<Option<EventId>, NodeError> {
        stored_event_id(&self.tree, index).map_err(|error| projection_error(error.to_string()))
    }

    fn cursor(&self) -> Result<u64, NodeError> {
        stored_cursor(&self.tree).map_err(|error| projection_error(error.to_string()))
    }

    fn registry(&self) -> Result<Registry, NodeError> {
        load_registry(&self.tree).map_err(|error| projection_error(error.to_string()))
    }

    fn stats(&self) -> Result<BTreeMap<String, i64>, NodeError> {
        load_stats(&self.tree).map_err(|error| projection_error(error.to_string()))
    }

    fn event_ids(&self, cursor: u64, each: &mut dyn FnMut(EventId, u64)) -> Result<(), NodeError> {
        load_event_ids(&self.tree, cursor, each)
            .map_err(|error| projection_error(error.to_string()))
    }

    fn key_scan(&self) -> Option<(StoreTree, KeyScan)> {
        Some((self.tree.clone(), HELD_KEYS))
    }
}

pub(super) fn stored_cursor(records: &sled::Tree) -> Result<u64> {
    Ok(records
        .get(KEY_CURSOR)?
        .map(|bytes| u64_value(&bytes, "the cursor"))
        .transpose()?
        .unwrap_or(0))
}

/// The credential numbered `number` if the store holds it and it was certified before
/// `cursor` (a record certified at or past the cursor belongs to a batch not committed).
pub(super) fn committed_credential(
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

pub(super) fn stored_person(
    records: &sled::Tree,
    subject: &SubjectId,
) -> Result<Option<PersonRecord>> {
    records
        .get(key(PREFIX_PERSON, &subject.0))?
        .map(|bytes| decode(&bytes, "a person"))
        .transpose()
}

pub(super) fn stored_career(
    records: &sled::Tree,
    subject: &SubjectId,
) -> Result<Option<CareerRecord>> {
    records
        .get(key(PREFIX_CAREER, &subject.0))?
        .map(|bytes| decode(&bytes, "a career"))
        .transpose()
}

/// The partner ledger's statistics counters as committed, by name.
pub(super) fn load_stats(records: &sled::Tree) -> Result<BTreeMap<String, i64>> {
    let mut counters = BTreeMap::new();
    for item in records.scan_prefix([PREFIX_STAT]) {
        let (name, value) = item?;
        let name = String::from_utf8_lossy(&name[1..]).into_owned();
        let value = <[u8; 8]>::try_from(value.as_ref())
            .map(i64::from_le_bytes)
            .map_err(|_| store_error(format!("mirror counter {name} is not 8 bytes")))?;
        counters.insert(name, value);
    }
    Ok(counters)
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

/// The event ids of the entries before `cursor`, from the packed `i` chunks (written with the
/// cursor, so they end exactly there). A store written before the ids were packed has an `e`
/// key per event instead: they are packed and removed here, once.
fn load_event_ids(
    records: &sled::Tree,
    cursor: u64,
    each: &mut dyn FnMut(EventId, u64),
) -> Result<()> {
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
                each(EventId(id), expected);
            }
            expected += 1;
        }
    }
    if expected == 0 && cursor > 0 {
        return pack_legacy_event_ids(records, cursor, each);
    }
    if expected < cursor {
        return Err(store_error(format!(
            "mirror store: event ids are held for {expected} entries, the cursor is {cursor}"
        )));
    }
    Ok(())
}

/// Converts the `e` ‖ event id keys of an older store into one packed `i` chunk.
fn pack_legacy_event_ids(
    records: &sled::Tree,
    cursor: u64,
    each: &mut dyn FnMut(EventId, u64),
) -> Result<()> {
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
    let mut packed = Vec::with_capacity(length * 16);
    for (index, slot) in slots.iter().enumerate() {
        let id = slot.ok_or_else(|| {
            store_error(format!(
                "mirror store: no event id is held for entry {index} (cursor {cursor})"
            ))
        })?;
        packed.extend_from_slice(&id.0);
        each(id, index as u64);
    }
    batch.insert(key(PREFIX_EVENT_IDS, &0u64.to_be_bytes()), packed);
    records.apply_batch(batch)?;
    records.flush()?;
    Ok(())
}

/// Rebuilds the partner's registry from the registry entries the mirror keeps (`r` keys),
/// folded in log order. Their `apply` reads only the registry, never the records.
pub(super) fn load_registry(records: &sled::Tree) -> Result<Registry> {
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
