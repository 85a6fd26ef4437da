//! Projections in sled: everything derivable from the log, committed with its cursor.
//!
//! One sled tree, keys prefixed by record kind (layout in docs/formats.md). A batch of
//! accepted events becomes one `sled::Batch` that also moves the cursor, so the cursor and
//! the records it covers commit together; sled is not fsynced per batch because the log of
//! record is: after a crash the node replays the log from the cursor.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use sha2::{Digest, Sha256};
use skill_ledger_domain::{
    BodyRecord, CertificateNumber, Changes, CredentialRecord, EventId, LedgerInfo, PersonRecord,
    RecordView, Registry, RegistryChange, SubjectId, BINCODE_CONFIG,
};

use crate::error::{NodeError, NodeErrorKind};

const PREFIX_CREDENTIAL: u8 = b'c';
const PREFIX_PERSON: u8 = b'p';
const PREFIX_EVENT: u8 = b'e';
const PREFIX_BODY: u8 = b'b';
const PREFIX_POLICY: u8 = b'y';
const PREFIX_STAT: u8 = b's';
const KEY_LEDGER: &[u8] = b"g/ledger";
const KEY_CATALOGUE: &[u8] = b"g/catalogue";
const KEY_CURSOR: &[u8] = b"m/cursor";

fn key(prefix: u8, id: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + id.len());
    key.push(prefix);
    key.extend_from_slice(id);
    key
}

fn encode<T: bincode::Encode>(value: &T) -> Vec<u8> {
    match bincode::encode_to_vec(value, BINCODE_CONFIG) {
        Ok(bytes) => bytes,
        Err(error) => panic!("projection record encoding failed: {error}"),
    }
}

fn decode<T: bincode::Decode<()>>(bytes: &[u8], what: &str) -> Result<T, NodeError> {
    bincode::decode_from_slice(bytes, BINCODE_CONFIG)
        .map(|(value, _)| value)
        .map_err(|error| {
            NodeError::new(
                NodeErrorKind::Projection,
                format!(
                    "projection record {what} does not decode: {error}; run `skill-ledger rebuild`"
                ),
            )
        })
}

/// Where registry documents live in the log, so they can be re-read at start-up.
#[derive(Clone, Debug, Default)]
pub struct DocumentIndexes {
    pub catalogue: Option<u64>,
    /// policy version → entry index
    pub policies: BTreeMap<u32, u64>,
}

/// The persisted parts of the registry: ledger record, bodies, document indexes.
pub type RegistryParts = (
    Option<LedgerInfo>,
    BTreeMap<skill_ledger_domain::RegistrationNumber, BodyRecord>,
    DocumentIndexes,
);

/// The sled-backed projection store (cheap to clone: sled handles are shared).
#[derive(Clone)]
pub struct Projection {
    db: sled::Db,
    tree: sled::Tree,
}

impl Projection {
    pub fn open(path: &Path) -> Result<Projection, NodeError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(128 * 1024 * 1024)
            .mode(sled::Mode::HighThroughput)
            .flush_every_ms(Some(1_000))
            .open()?;
        let tree = db.open_tree("projection")?;
        Ok(Projection { db, tree })
    }

    /// Entries applied so far.
    pub fn cursor(&self) -> Result<u64, NodeError> {
        Ok(self
            .tree
            .get(KEY_CURSOR)?
            .map(|bytes| {
                let mut array = [0u8; 8];
                array.copy_from_slice(&bytes[..8.min(bytes.len())]);
                u64::from_le_bytes(array)
            })
            .unwrap_or(0))
    }

    pub fn credential(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<CredentialRecord>, NodeError> {
        self.tree
            .get(key(PREFIX_CREDENTIAL, number.as_bytes()))?
            .map(|bytes| decode(&bytes, "credential"))
            .transpose()
    }

    pub fn person(&self, subject: &SubjectId) -> Result<Option<PersonRecord>, NodeError> {
        self.tree
            .get(key(PREFIX_PERSON, &subject.0))?
            .map(|bytes| decode(&bytes, "person"))
            .transpose()
    }

    pub fn event_index(&self, id: &EventId) -> Result<Option<u64>, NodeError> {
        Ok(self.tree.get(key(PREFIX_EVENT, &id.0))?.map(|bytes| {
            let mut array = [0u8; 8];
            array.copy_from_slice(&bytes[..8.min(bytes.len())]);
            u64::from_le_bytes(array)
        }))
    }

    /// Loads the registry's bodies and ledger record, and where its documents are in the log.
    pub fn load_registry_parts(&self) -> Result<RegistryParts, NodeError> {
        let ledger = self
            .tree
            .get(KEY_LEDGER)?
            .map(|bytes| decode(&bytes, "ledger"))
            .transpose()?;
        let mut bodies = BTreeMap::new();
        for item in self.tree.scan_prefix([PREFIX_BODY]) {
            let (_, value) = item?;
            let body: BodyRecord = decode(&value, "body")?;
            bodies.insert(body.registration_number, body);
        }
        let mut documents = DocumentIndexes::default();
        if let Some(bytes) = self.tree.get(KEY_CATALOGUE)? {
            documents.catalogue = Some(decode(&bytes, "catalogue index")?);
        }
        for item in self.tree.scan_prefix([PREFIX_POLICY]) {
            let (key, value) = item?;
            let mut version = [0u8; 4];
            version.copy_from_slice(&key[1..5.min(key.len())]);
            documents
                .policies
                .insert(u32::from_be_bytes(version), decode(&value, "policy index")?);
        }
        Ok((ledger, bodies, documents))
    }

    pub fn stats(&self) -> Result<BTreeMap<String, i64>, NodeError> {
        let mut stats = BTreeMap::new();
        for item in self.tree.scan_prefix([PREFIX_STAT]) {
            let (key, value) = item?;
            let name = String::from_utf8_lossy(&key[1..]).into_owned();
            let mut array = [0u8; 8];
            array.copy_from_slice(&value[..8.min(value.len())]);
            stats.insert(name, i64::from_le_bytes(array));
        }
        Ok(stats)
    }

    /// Commits the changes of a batch and the new cursor atomically.
    pub fn commit(
        &self,
        overlay: &Overlay,
        stats: &BTreeMap<String, i64>,
        cursor: u64,
    ) -> Result<(), NodeError> {
        let mut batch = sled::Batch::default();
        for (number, record) in &overlay.credentials {
            batch.insert(key(PREFIX_CREDENTIAL, number.as_bytes()), encode(record));
        }
        for (subject, record) in &overlay.persons {
            batch.insert(key(PREFIX_PERSON, &subject.0), encode(record));
        }
        for (id, index) in &overlay.event_indexes {
            batch.insert(key(PREFIX_EVENT, &id.0), &index.to_le_bytes());
        }
        for change in &overlay.registry_changes {
            match change {
                PersistedRegistryChange::Ledger(ledger) => batch.insert(KEY_LEDGER, encode(ledger)),
                PersistedRegistryChange::Body(body) => batch.insert(
                    key(PREFIX_BODY, body.registration_number.as_bytes()),
                    encode(body.as_ref()),
                ),
                PersistedRegistryChange::Catalogue(index) => {
                    batch.insert(KEY_CATALOGUE, encode(index))
                }
                PersistedRegistryChange::Policy(version, index) => {
                    batch.insert(key(PREFIX_POLICY, &version.to_be_bytes()), encode(index))
                }
            }
        }
        for name in &overlay.touched_stats {
            let stat_key = key(PREFIX_STAT, name.as_bytes());
            match stats.get(name) {
                Some(value) if *value != 0 => batch.insert(stat_key, &value.to_le_bytes()),
                _ => batch.remove(stat_key),
            }
        }
        batch.insert(KEY_CURSOR, &cursor.to_le_bytes());
        self.tree.apply_batch(batch)?;
        Ok(())
    }

    /// Removes every record (before a rebuild).
    pub fn clear(&self) -> Result<(), NodeError> {
        self.tree.clear()?;
        self.db.flush()?;
        Ok(())
    }

    pub fn flush(&self) -> Result<(), NodeError> {
        self.db.flush()?;
        Ok(())
    }

    /// SHA-256 over every key and value in key order: equal digests mean equal projections.
    pub fn digest(&self) -> Result<[u8; 32], NodeError> {
        let mut hasher = Sha256::new();
        for item in self.tree.iter() {
            let (key, value) = item?;
            hasher.update((key.len() as u32).to_le_bytes());
            hasher.update(&key);
            hasher.update((value.len() as u32).to_le_bytes());
            hasher.update(&value);
        }
        Ok(hasher.finalize().into())
    }

    pub fn size_on_disk(&self) -> Result<u64, NodeError> {
        Ok(self.db.size_on_disk()?)
    }
}

/// A registry change as it is persisted.
#[derive(Clone, Debug)]
pub enum PersistedRegistryChange {
    Ledger(LedgerInfo),
    Body(Box<BodyRecord>),
    Catalogue(u64),
    Policy(u32, u64),
}

/// The records a batch has changed but not yet committed; reads look here first.
#[derive(Default)]
pub struct Overlay {
    pub credentials: HashMap<CertificateNumber, CredentialRecord>,
    pub persons: HashMap<SubjectId, PersonRecord>,
    pub event_indexes: HashMap<EventId, u64>,
    pub registry_changes: Vec<PersistedRegistryChange>,
    pub touched_stats: std::collections::BTreeSet<String>,
}

impl Overlay {
    pub fn is_empty(&self) -> bool {
        self.event_indexes.is_empty() && self.registry_changes.is_empty()
    }

    pub fn clear(&mut self) {
        self.credentials.clear();
        self.persons.clear();
        self.event_indexes.clear();
        self.registry_changes.clear();
        self.touched_stats.clear();
    }

    /// Takes in one event's changes, updating the working registry and statistics too.
    pub fn absorb(
        &mut self,
        changes: Changes,
        registry: &mut Registry,
        stats: &mut BTreeMap<String, i64>,
    ) {
        self.event_indexes.insert(changes.event_id, changes.index);
        if let Some(change) = changes.registry {
            let persisted = match &change {
                RegistryChange::Ledger(ledger) => PersistedRegistryChange::Ledger(ledger.clone()),
                RegistryChange::Body(body) => PersistedRegistryChange::Body(body.clone()),
                RegistryChange::Catalogue(_) => PersistedRegistryChange::Catalogue(changes.index),
                RegistryChange::Policy(version) => {
                    PersistedRegistryChange::Policy(version.policy.version, changes.index)
                }
            };
            self.registry_changes.push(persisted);
            registry.absorb(change);
        }
        if let Some(credential) = changes.credential {
            self.credentials
                .insert(credential.certificate_number, credential);
        }
        if let Some((subject, person)) = changes.person {
            self.persons.insert(subject, person);
        }
        for (name, delta) in changes.stats {
            *stats.entry(name.clone()).or_insert(0) += delta;
            self.touched_stats.insert(name);
        }
    }
}

/// Reads through the overlay to the store. Store failures here are fatal to the batch, so
/// they are remembered and surfaced by the sequencer after `decide` returns.
pub struct OverlayView<'a> {
    pub store: &'a Projection,
    pub overlay: &'a Overlay,
    pub failure: std::cell::RefCell<Option<NodeError>>,
}

impl<'a> OverlayView<'a> {
    pub fn new(store: &'a Projection, overlay: &'a Overlay) -> OverlayView<'a> {
        OverlayView {
            store,
            overlay,
            failure: std::cell::RefCell::new(None),
        }
    }

    fn remember<T>(&self, result: Result<Option<T>, NodeError>) -> Option<T> {
        match result {
            Ok(value) => value,
            Err(error) => {
                self.failure.borrow_mut().get_or_insert(error);
                None
            }
        }
    }

    pub fn take_failure(&self) -> Option<NodeError> {
        self.failure.borrow_mut().take()
    }
}

impl RecordView for OverlayView<'_> {
    fn credential(&self, number: &CertificateNumber) -> Option<CredentialRecord> {
        if let Some(record) = self.overlay.credentials.get(number) {
            return Some(record.clone());
        }
        self.remember(self.store.credential(number))
    }

    fn person(&self, subject: &SubjectId) -> Option<PersonRecord> {
        if let Some(record) = self.overlay.persons.get(subject) {
            return Some(record.clone());
        }
        self.remember(self.store.person(subject))
    }

    fn event_index(&self, id: &EventId) -> Option<u64> {
        if let Some(index) = self.overlay.event_indexes.get(id) {
            return Some(*index);
        }
        self.remember(self.store.event_index(id))
    }
}
