//! Projections in sled: everything derivable from the log, committed with its cursor.
//!
//! One sled tree, keys prefixed by record kind (layout in docs/formats.md). A batch of
//! accepted events becomes one `sled::Batch` that also moves the cursor, preceded by the
//! records that are a pure function of one entry (credentials, event ids), so whenever the
//! cursor is recovered, so is everything it covers ([`Projection::commit`]); sled is not
//! fsynced per batch because the log of record is: after a crash the node replays the log
//! from the cursor.
//!
//! sled costs a few microseconds and well over a hundred bytes on disk per key, so the layout
//! keeps keys per event few and values lean: a credential is the index of the entry that
//! issued it (and of the one that revoked it), read back from the log on a query; a person
//! is its subject and a packed list of 35-byte holdings, 32 entries' persons to a key; event
//! ids are packed 1,024 to a key by entry index and looked up in memory
//! ([`super::event_index::EventIndex`]). `m/format`
//! names the layout; a projection written with another layout is rebuilt from the log, never
//! misread.
//!
//! A person record is keyed by the index of the entry that created it, not by its subject: a
//! subject is a pseudonym, uniformly random, so subject keys put each new person on a random
//! page of sled's tree, and once the tree outgrows sled's cache every such write reads a page
//! back from disk (the writer's CPU per event doubled from 10⁶ to 10⁷ events). Keyed by entry,
//! new persons go to the tree's right edge, a few hot pages, and the persons of 32 consecutive
//! entries share one key ([`super::persons`]). The subject → entry map is held in memory
//! ([`super::event_index::SubjectIndex`], about 11 bytes a person), rebuilt from the `p`
//! chunks at open; a candidate it names is confirmed by the subject in its record.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use sha2::{Digest, Sha256};
use skill_ledger_domain::{
    BodyRecord, CareerRecord, Catalogue, CertificateNumber, CredentialRecord, CredentialStatus,
    Date, EventId, EventKind, Holding, LedgerInfo, Level, OccupationCode, PersonRecord, Policy,
    PolicyVersion, Registry, RouteKind, SignedEvent, SpecialAbilityRecord, SubjectId,
    BINCODE_CONFIG,
};
use skill_ledger_log::LogReader;

use super::credentials;
use super::event_index::SubjectIndex;
use super::known::{KeyScan, KIND_CREDENTIAL};
use super::overlay::{FastHash, Overlay, PersistedRegistryChange};
use super::persons;
use super::RecordStore;
use crate::error::{NodeError, NodeErrorKind};
use crate::store::{Store, StoreOptions, StoreTree};

const PREFIX_EVENT: u8 = b'e';
const PREFIX_BODY: u8 = b'b';
const PREFIX_POLICY: u8 = b'y';
const PREFIX_STAT: u8 = b's';
/// The status list bits that are set: `x` ‖ the entry index (u64 BE) of a credential revoked
/// or a recognition withdrawn, empty value. A credential's index in its ledger's W3C status
/// lists is the index of the entry that issued it, stable forever; the keys sort by it, so a
/// list is one range scan ([`Projection::status_bits_set`]).
const PREFIX_STATUS: u8 = b'x';
/// The keys the engine's filter of held keys covers (see [`super::known`]): the certificate
/// numbers of every kind. Persons need none: the subject index answers for them exactly.
const KNOWN_KEYS: KeyScan = &[(credentials::PREFIX, KIND_CREDENTIAL, credentials::expand)];
const KEY_LEDGER: &[u8] = b"g/ledger";
const KEY_CATALOGUE: &[u8] = b"g/catalogue";
/// The sled tree that holds the projections.
const TREE_NAME: &str = "projection";
const KEY_CURSOR: &[u8] = b"m/cursor";
const KEY_FORMAT: &[u8] = b"m/format";

/// The projection layout version, stored at `m/format`. Bump it whenever a key or a value
/// encoding changes: a projection of another version is rebuilt from the log at start-up.
/// Version 1 (no marker) had full bincode credential and person records and a key per event id.
/// Version 3 added the per-year holder counters (`holders.added.year.*`,
/// `holders.high_skill.added.year.*`).
/// Version 4 (issue 5, every route up the ladder): 35-byte holdings (route values 2 contest
/// and 3 conversion, a flags byte, the basis position), the `routes.*` counters, and the
/// career records, contests and appointment rights of `super::careers`.
/// Version 5 (issue 6, 互认): holdings with route value 6 (a recognised partner credential),
/// career records with their recognitions, the `recognitions.*` counters.
/// Version 6 (key compromise): body records with their revoked keys (`BodyKeyRevoked`).
/// Version 7 (the authority key's rotation): the ledger record with its recovery key and the
/// entry indexes of its authority changes (`LedgerInfo::authority_changes`, which offline
/// bundles carry); both came in the same unreleased version, so one bump covers them.
/// Version 8 (W3C Verifiable Credentials): the ledger record with its VC issuer keys
/// (`LedgerInfo::vc_issuer_keys`), and the `x` keys of the status list bits set.
/// Version 9 (every credential kind): holdings with route value 7 (a foreign comparison),
/// `c` keys of 专项职业能力证书 too, career records with their special abilities, the
/// `credentials.<kind>.*` counters.
/// Version 10 (issue 21, a cost per event flat with the log): person records keyed by the
/// index of the entry that created them (`p` ‖ u64 BE), their value led by the subject.
/// Version 11: the persons created by 32 consecutive entries share one `p` key
/// ([`super::persons`]).
pub const PROJECTION_FORMAT: u32 = 11;

/// Event ids per `e` key: the ids of entries `[k·1024, (k+1)·1024)`, in order.
pub const EVENT_IDS_PER_CHUNK: u64 = 1_024;

/// Bytes of one packed holding in a person value.
pub(crate) const HOLDING_BYTES: usize = 35;

/// Holding flags: revoked, built on a revoked credential, has a basis position.
const FLAG_REVOKED: u8 = 1;
const FLAG_BASIS_REVOKED: u8 = 2;
const FLAG_HAS_BASIS: u8 = 4;

fn corrupt(what: &str, detail: impl std::fmt::Display) -> NodeError {
    NodeError::new(
        NodeErrorKind::Projection,
        format!("projection record {what} is damaged: {detail}; run `skill-ledger rebuild`"),
    )
}

fn not_concerning(index: u64, number: &CertificateNumber) -> NodeError {
    NodeError::new(
        NodeErrorKind::Integrity,
        format!("entry {index} does not concern credential {number}; run `skill-ledger rebuild`"),
    )
}

fn route_byte(route: RouteKind) -> u8 {
    match route {
        RouteKind::Evaluation => 0,
        RouteKind::DirectRecognition => 1,
        RouteKind::Contest => 2,
        RouteKind::Conversion => 3,
        RouteKind::Appointment => 4,
        RouteKind::Apprenticeship => 5,
        RouteKind::Recognition => 6,
        RouteKind::ForeignComparison => 7,
    }
}

fn route_of_byte(byte: u8) -> Option<RouteKind> {
    RouteKind::ALL
        .into_iter()
        .find(|route| route_byte(*route) == byte)
}

/// A person value: each holding as certificate number (22) ‖ occupation (4) ‖ level rank (1) ‖
/// issued, days since 1970 (i32 LE, 4) ‖ route (1: 0 evaluation, 1 direct, 2 contest,
/// 3 conversion, 6 recognition, 7 foreign comparison) ‖ flags (1: bit 0 revoked, bit 1
/// basis revoked, bit 2 has a basis) ‖ basis position in the holdings (u16 LE, 2; 0 without
/// a basis).
pub(crate) fn encode_person(person: &PersonRecord, out: &mut Vec<u8>) {
    out.reserve(person.holdings.len() * HOLDING_BYTES);
    for holding in &person.holdings {
        out.extend_from_slice(holding.certificate_number.as_bytes());
        out.extend_from_slice(&encode(&holding.occupation));
        out.push(holding.level.rank());
        out.extend_from_slice(&holding.issued.days_since_unix_epoch().to_le_bytes());
        out.push(route_byte(holding.route));
        let mut flags = 0;
        if holding.revoked {
            flags |= FLAG_REVOKED;
        }
        if holding.basis_revoked {
            flags |= FLAG_BASIS_REVOKED;
        }
        if holding.basis.is_some() {
            flags |= FLAG_HAS_BASIS;
        }
        out.push(flags);
        out.extend_from_slice(&holding.basis.unwrap_or(0).to_le_bytes());
    }
}

pub(crate) fn decode_person(bytes: &[u8]) -> Result<PersonRecord, NodeError> {
    if !bytes.len().is_multiple_of(HOLDING_BYTES) {
        return Err(corrupt("person", format!("{} bytes", bytes.len())));
    }
    let mut holdings = Vec::with_capacity(bytes.len() / HOLDING_BYTES);
    for chunk in bytes.chunks_exact(HOLDING_BYTES) {
        let certificate_number: CertificateNumber = decode(&chunk[..22], "person")?;
        let occupation: OccupationCode = decode(&chunk[22..26], "person")?;
        let level = Level::from_rank(chunk[26]).ok_or_else(|| corrupt("person", "level"))?;
        let mut days = [0u8; 4];
        days.copy_from_slice(&chunk[27..31]);
        let issued = Date::from_days_since_unix_epoch(i32::from_le_bytes(days))
            .ok_or_else(|| corrupt("person", "date"))?;
        let route = route_of_byte(chunk[31])
            .ok_or_else(|| corrupt("person", format!("route {}", chunk[31])))?;
        let flags = chunk[32];
        if flags & !(FLAG_REVOKED | FLAG_BASIS_REVOKED | FLAG_HAS_BASIS) != 0 {
            return Err(corrupt("person", format!("flags {flags:#04x}")));
        }
        let basis = u16::from_le_bytes([chunk[33], chunk[34]]);
        holdings.push(Holding {
            certificate_number,
            occupation,
            level,
            issued,
            route,
            revoked: flags & FLAG_REVOKED != 0,
            basis: (flags & FLAG_HAS_BASIS != 0).then_some(basis),
            basis_revoked: flags & FLAG_BASIS_REVOKED != 0,
        });
    }
    Ok(PersonRecord { holdings })
}

/// The revoking entry of a certificate's status, if revoked.
fn revoked_at(status: &CredentialStatus) -> Option<u64> {
    match status {
        CredentialStatus::Revoked { entry_index, .. } => Some(*entry_index),
        _ => None,
    }
}

fn status_key(entry_index: u64) -> [u8; 9] {
    let mut key = [PREFIX_STATUS; 9];
    key[1..].copy_from_slice(&entry_index.to_be_bytes());
    key
}

pub(crate) fn key(prefix: u8, id: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + id.len());
    key.push(prefix);
    key.extend_from_slice(id);
    key
}

pub(crate) fn encode<T: bincode::Encode>(value: &T) -> Vec<u8> {
    match bincode::encode_to_vec(value, BINCODE_CONFIG) {
        Ok(bytes) => bytes,
        Err(error) => panic!("projection record encoding failed: {error}"),
    }
}

pub(crate) fn decode<T: bincode::Decode<()>>(bytes: &[u8], what: &str) -> Result<T, NodeError> {
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

/// The sled-backed projection store (cheap to clone: sled handles are shared). Credentials
/// are read back from the log, so it holds a log reader too.
#[derive(Clone)]
pub struct Projection {
    tree: StoreTree,
    log: LogReader,
    /// Which entry keys each subject's person record: loaded from the `p` keys at open,
    /// extended by each commit once sled holds it, shared by every clone.
    persons: Arc<RwLock<SubjectIndex>>,
}

/// The projections' sled database at `path`: flushed in the background every second (the log
/// of record is what is fsynced), in sled's high-throughput mode.
fn open_store(path: &Path, cache_bytes: u64) -> Result<Store, NodeError> {
    Store::open(
        path,
        StoreOptions {
            cache_bytes,
            flush_every_ms: Some(1_000),
            high_throughput: true,
        },
    )
}

/// SHA-256 over every key and value of `tree` in key order, each led by its length (u32 LE).
fn digest_tree(tree: &StoreTree) -> Result<[u8; 32], NodeError> {
    let mut hasher = Sha256::new();
    for item in tree.iter() {
        let (key, value) = item?;
        hasher.update((key.len() as u32).to_le_bytes());
        hasher.update(&key);
        hasher.update((value.len() as u32).to_le_bytes());
        hasher.update(&value);
    }
    Ok(hasher.finalize().into())
}

/// The subject index of the `p` chunks of `tree`.
fn load_persons(tree: &StoreTree) -> Result<SubjectIndex, NodeError> {
    let mut index = SubjectIndex::default();
    for item in tree.scan_prefix([persons::PREFIX]) {
        let (key, value) = item?;
        let first = persons::first_entry(&key)
            .ok_or_else(|| corrupt("person", format!("key of {} bytes", key.len())))?;
        let records = persons::records(&value)
            .map_err(|error| corrupt("person", format!("chunk from entry {first}: {error}")))?;
        for record in records {
            index.insert(&SubjectId(*record.subject), first + u64::from(record.slot));
        }
    }
    Ok(index)
}

impl Projection {
    /// Opens the projections; an error when they were written with another layout version
    /// (the node then rebuilds them from the log).
    pub fn open(path: &Path, log: LogReader, cache_bytes: u64) -> Result<Projection, NodeError> {
        let tree = open_store(path, cache_bytes)?.tree(TREE_NAME)?;
        let mut projection = Projection {
            tree,
            log,
            persons: Arc::default(),
        };
        let format = projection.tree.get(KEY_FORMAT)?.and_then(|bytes| {
            let array: [u8; 4] = bytes.as_ref().try_into().ok()?;
            Some(u32::from_le_bytes(array))
        });
        if format != Some(PROJECTION_FORMAT) && !projection.tree.is_empty() {
            return Err(NodeError::new(
                NodeErrorKind::Projection,
                format!(
                    "the projections have layout version {}, this build writes {PROJECTION_FORMAT}",
                    format.map_or("1".to_string(), |v| v.to_string())
                ),
            ));
        }
        projection.persons = Arc::new(RwLock::new(load_persons(&projection.tree)?));
        Ok(projection)
    }

    #[cfg(test)]
    /// Persons the subject index holds.
    fn persons_indexed(&self) -> usize {
        self.persons
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The entry that created the committed person record of `subject`, and the record's
    /// encoded holdings.
    fn find_person(&self, subject: &SubjectId) -> Result<Option<(u64, Vec<u8>)>, NodeError> {
        let index = self.persons.read().unwrap_or_else(PoisonError::into_inner);
        for at in index.candidates(subject) {
            let (chunk, slot) = persons::place(at);
            let Some(value) = self.tree.get(chunk)? else {
                continue;
            };
            let found = persons::find(&value, slot)
                .map_err(|error| corrupt("person", format!("entry {at}: {error}")))?;
            if let Some(record) = found.filter(|record| record.subject == &subject.0) {
                return Ok(Some((at, record.holdings.to_vec())));
            }
        }
        Ok(None)
    }

    /// The projection tree, for `super::careers` (its own key prefixes, same tree, same
    /// batches).
    pub(crate) fn tree(&self) -> &StoreTree {
        &self.tree
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

    fn read_entry(&self, index: u64) -> Result<SignedEvent, NodeError> {
        let entry = self.log.read(index)?;
        SignedEvent::from_entry(&entry).map_err(|error| {
            NodeError::new(
                NodeErrorKind::Integrity,
                format!("entry {index} does not decode: {error}"),
            )
        })
    }

    /// The entries that issued and (once revoked) revoked the certificate `number`, of any
    /// kind: the credential value holds their indexes.
    fn certificate_entries(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<(u64, EventKind, Option<CredentialStatus>)>, NodeError> {
        let (chunk, slot) = credentials::place(number);
        let Some(value) = self.tree.get(chunk)? else {
            return Ok(None);
        };
        let Some((issued_at, revoked_at)) =
            credentials::find(&value, slot).map_err(|error| corrupt("credential", error))?
        else {
            return Ok(None);
        };
        let status = match revoked_at {
            None => None,
            Some(index) => {
                let signed = self.read_entry(index)?;
                match signed.event.kind {
                    EventKind::CredentialRevoked(revoked)
                        if revoked.certificate_number == *number =>
                    {
                        Some(CredentialStatus::Revoked {
                            effective: revoked.effective,
                            reason: revoked.reason,
                            by: signed.signer,
                            entry_index: index,
                        })
                    }
                    _ => return Err(not_concerning(index, number)),
                }
            }
        };
        Ok(Some((
            issued_at,
            self.read_entry(issued_at)?.event.kind,
            status,
        )))
    }

    /// A credential with a level (skill level or qualification), rebuilt from the entry that
    /// issued it (and the one that revoked it).
    pub fn credential(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<CredentialRecord>, NodeError> {
        if number.kind() == skill_ledger_domain::CredentialKind::SpecialAbility {
            return Ok(None);
        }
        let Some((issued_at, kind, status)) = self.certificate_entries(number)? else {
            return Ok(None);
        };
        let EventKind::LevelCertified(certified) = kind else {
            return Err(not_concerning(issued_at, number));
        };
        if certified.certificate_number != *number {
            return Err(not_concerning(issued_at, number));
        }
        Ok(Some(CredentialRecord {
            certificate_number: certified.certificate_number,
            subject: certified.subject,
            name_commitment: certified.name_commitment,
            occupation: certified.occupation,
            work_type: certified.work_type,
            level: certified.level,
            issued: certified.issued,
            route: RouteKind::of(&certified.route),
            status: status.unwrap_or(CredentialStatus::Valid),
            entry_index: issued_at,
        }))
    }

    /// A 专项职业能力证书, rebuilt from its entries like a credential.
    pub fn special_ability(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<SpecialAbilityRecord>, NodeError> {
        if number.kind() != skill_ledger_domain::CredentialKind::SpecialAbility {
            return Ok(None);
        }
        let Some((issued_at, kind, status)) = self.certificate_entries(number)? else {
            return Ok(None);
        };
        let EventKind::SpecialAbilityCertified(certified) = kind else {
            return Err(not_concerning(issued_at, number));
        };
        if certified.certificate_number != *number {
            return Err(not_concerning(issued_at, number));
        }
        Ok(Some(SpecialAbilityRecord {
            certificate_number: certified.certificate_number,
            subject: certified.subject,
            name_commitment: certified.name_commitment,
            occupation: certified.occupation,
            ability: certified.ability,
            issued: certified.issued,
            status: status.unwrap_or(CredentialStatus::Valid),
            entry_index: issued_at,
        }))
    }

    pub fn person(&self, subject: &SubjectId) -> Result<Option<PersonRecord>, NodeError> {
        self.find_person(subject)?
            .map(|(_, holdings)| decode_person(&holdings))
            .transpose()
    }

    /// The event ids of the committed entries `[0, cursor)`, from the packed `e` chunks.
    /// Chunks may already hold ids of entries past the cursor (they are written ahead of the
    /// cursor's batch, see [`Projection::commit`]): those are left to the replay.
    fn committed_event_ids(
        &self,
        cursor: u64,
        each: &mut dyn FnMut(EventId, u64),
    ) -> Result<(), NodeError> {
        let mut expected = 0u64;
        for item in self.tree.scan_prefix([PREFIX_EVENT]) {
            if expected >= cursor {
                break;
            }
            let (key, value) = item?;
            let chunk = key
                .get(1..9)
                .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| corrupt("event ids", "bad key"))?;
            if chunk * EVENT_IDS_PER_CHUNK != expected || !value.len().is_multiple_of(16) {
                return Err(corrupt("event ids", format!("chunk {chunk}")));
            }
            for (offset, bytes) in value.chunks_exact(16).enumerate() {
                let index = expected + offset as u64;
                if index >= cursor {
                    break;
                }
                let mut id = [0u8; 16];
                id.copy_from_slice(bytes);
                each(EventId(id), index);
            }
            expected += (value.len() / 16) as u64;
        }
        if expected < cursor {
            return Err(corrupt(
                "event ids",
                format!("{expected} ids for a cursor of {cursor}"),
            ));
        }
        Ok(())
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

    /// The entry indexes in `[from, to)` whose status list bit is set (a credential revoked or
    /// a recognition withdrawn), in order, as committed (up to [`Projection::cursor`]).
    pub fn status_bits_set(&self, from: u64, to: u64) -> Result<Vec<u64>, NodeError> {
        let mut set = Vec::new();
        for item in self.tree.range(status_key(from)..status_key(to)) {
            let (key, _) = item?;
            let index = key
                .get(1..9)
                .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| corrupt("status bit", format!("key of {} bytes", key.len())))?;
            set.push(index);
        }
        Ok(set)
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

    /// Commits the changes of a batch and moves the cursor. `stats` holds the counters the
    /// batch touched (by name) with their values after it.
    ///
    /// Records that replaying an entry writes again with the same bytes (event-id chunks,
    /// status list bits) are written first, key by key; everything else (certificate chunks,
    /// persons, bodies, documents, counters) goes into one atomic `sled::Batch` with the
    /// cursor. sled recovers a prefix of its log, so whenever the cursor survives a crash, so
    /// do the records written before it; records of entries past the cursor may survive too,
    /// and replaying those entries rewrites them with the same bytes.
    pub fn commit(
        &self,
        overlay: &Overlay,
        stats: &[(String, i64)],
        cursor: u64,
    ) -> Result<(), NodeError> {
        self.commit_group(&[(overlay, stats)], cursor)
    }

    /// Commits several consecutive batches (oldest first) as one: their pure records key by
    /// key, then one atomic `sled::Batch` with the cursor after the last. Within that batch a
    /// later write of a key replaces an earlier one, so a person, a counter or a body changed
    /// by several of the batches is written once, as the last batch left it. The writer
    /// commits the batches that queued while it was busy this way: fewer, larger sled batches
    /// cost less CPU and leave less garbage in sled's log than one per sequencer batch.
    pub fn commit_group(
        &self,
        parts: &[(&Overlay, &[(String, i64)])],
        cursor: u64,
    ) -> Result<(), NodeError> {
        // The certificates of every kind, by chunk, in the order the batches changed them.
        let mut certificates: BTreeMap<credentials::ChunkKey, Vec<(u8, u64, Option<u64>)>> =
            BTreeMap::new();
        let mut certificate = |number: &CertificateNumber, issued: u64, status| {
            let (chunk, slot) = credentials::place(number);
            certificates
                .entry(chunk)
                .or_default()
                .push((slot, issued, revoked_at(status)));
        };
        for (overlay, _) in parts {
            for (number, record) in &overlay.credentials {
                certificate(number, record.entry_index, &record.status);
                if !record.is_valid() {
                    self.tree
                        .insert(status_key(record.entry_index), &[] as &[u8])?;
                }
            }
            // A special ability has no VC, so no status list bit.
            for (number, record) in &overlay.special_abilities {
                certificate(number, record.entry_index, &record.status);
            }
            // A withdrawn recognition sets its bit; its career record is rewritten whole, so
            // the bits of its earlier withdrawals are written again, with the same (empty) value.
            for career in overlay.careers.values() {
                for recognition in &career.recognitions {
                    if recognition.withdrawn.is_some() {
                        self.tree
                            .insert(status_key(recognition.entry_index), &[] as &[u8])?;
                    }
                }
            }
            self.pack_event_ids(&overlay.new_ids)?;
        }
        let mut batch = sled::Batch::default();
        // Each person as the last batch left it, under the key of the entry that created it:
        // that entry is in this group, or the subject index knows it.
        let mut created: HashMap<SubjectId, u64, FastHash> = HashMap::default();
        let mut persons: HashMap<SubjectId, &PersonRecord, FastHash> = HashMap::default();
        for (overlay, _) in parts {
            created.extend(overlay.new_persons.iter().map(|(s, at)| (*s, *at)));
            persons.extend(overlay.persons.iter().map(|(s, record)| (*s, record)));
        }
        // A chunk holds certificates of several entries, so it is rewritten with the cursor.
        for (chunk, changes) in certificates {
            let mut value = self.stored_value(&chunk)?;
            for (slot, issued, revoked) in changes {
                credentials::set(&mut value, slot, issued, revoked)
                    .map_err(|error| corrupt("credential", error))?;
            }
            batch.insert(&chunk[..], value);
        }
        // Persons by chunk; a chunk may hold persons of earlier batches, so it is read back.
        let mut chunks: BTreeMap<persons::ChunkKey, Vec<(u8, SubjectId, &PersonRecord)>> =
            BTreeMap::new();
        for (subject, record) in persons {
            let at = match created.get(&subject) {
                Some(at) => *at,
                None => self
                    .find_person(&subject)?
                    .map(|(at, _)| at)
                    .ok_or_else(|| corrupt("person", "a changed person has no record"))?,
            };
            let (chunk, slot) = persons::place(at);
            chunks
                .entry(chunk)
                .or_default()
                .push((slot, subject, record));
        }
        let mut holdings = Vec::new();
        for (chunk, changed) in chunks {
            let mut value = self.stored_value(&chunk)?;
            for (slot, subject, record) in changed {
                holdings.clear();
                encode_person(record, &mut holdings);
                persons::set(&mut value, slot, &subject.0, &holdings)
                    .map_err(|error| corrupt("person", error))?;
            }
            batch.insert(&chunk[..], value);
        }
        for (overlay, stats) in parts {
            for change in &overlay.registry_changes {
                match change {
                    PersistedRegistryChange::Ledger(ledger) => {
                        batch.insert(KEY_LEDGER, encode(ledger))
                    }
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
                    PersistedRegistryChange::Careers(change) => {
                        super::careers::persist_registry_change(change, &mut batch)
                    }
                }
            }
            super::careers::persist_careers(&overlay.careers, &mut batch);
            for (name, value) in stats.iter() {
                let stat_key = key(PREFIX_STAT, name.as_bytes());
                match value {
                    0 => batch.remove(stat_key),
                    value => batch.insert(stat_key, &value.to_le_bytes()),
                }
            }
        }
        batch.insert(KEY_CURSOR, &cursor.to_le_bytes());
        batch.insert(KEY_FORMAT, &PROJECTION_FORMAT.to_le_bytes());
        self.tree.apply_batch(batch)?;
        // Only once sled holds them: a fold that finds a person past the pending overlays
        // finds its record.
        let mut index = self.persons.write().unwrap_or_else(PoisonError::into_inner);
        for (subject, at) in created {
            index.insert(&subject, at);
        }
        Ok(())
    }

    /// The value stored under `key`, empty when there is none: a chunk to extend.
    fn stored_value(&self, key: &[u8]) -> Result<Vec<u8>, NodeError> {
        Ok(self
            .tree
            .get(key)?
            .map(|bytes| bytes.to_vec())
            .unwrap_or_default())
    }

    /// Appends the ids of new entries (consecutive, in index order) to their `e` chunks; a
    /// partly filled chunk is read back and rewritten whole.
    fn pack_event_ids(&self, new_ids: &[(u64, EventId)]) -> Result<(), NodeError> {
        let mut position = 0;
        while position < new_ids.len() {
            let first = new_ids[position].0;
            let chunk = first / EVENT_IDS_PER_CHUNK;
            let chunk_key = key(PREFIX_EVENT, &chunk.to_be_bytes());
            let mut value: Vec<u8> = if first.is_multiple_of(EVENT_IDS_PER_CHUNK) {
                Vec::new()
            } else {
                self.tree
                    .get(&chunk_key)?
                    .map(|bytes| bytes.to_vec())
                    .unwrap_or_default()
            };
            let in_chunk = (first % EVENT_IDS_PER_CHUNK) as usize;
            // Ids past `first` are from entries a crash left past the cursor: the replay
            // writes them again, identically.
            if value.len() > in_chunk * 16 {
                value.truncate(in_chunk * 16);
            }
            if value.len() != in_chunk * 16 {
                return Err(corrupt(
                    "event ids",
                    format!(
                        "chunk {chunk} holds {} ids, expected {in_chunk}",
                        value.len() / 16
                    ),
                ));
            }
            value.reserve(EVENT_IDS_PER_CHUNK as usize * 16 - value.len());
            let mut next = first;
            while position < new_ids.len() && new_ids[position].0 / EVENT_IDS_PER_CHUNK == chunk {
                let (index, id) = &new_ids[position];
                if *index != next {
                    return Err(corrupt("event ids", format!("entry {index} out of order")));
                }
                value.extend_from_slice(&id.0);
                next += 1;
                position += 1;
            }
            self.tree.insert(chunk_key, value)?;
        }
        Ok(())
    }

    pub fn flush(&self) -> Result<(), NodeError> {
        self.tree.store().flush()?;
        Ok(())
    }

    /// SHA-256 over every key and value in key order: equal digests mean equal projections.
    pub fn digest(&self) -> Result<[u8; 32], NodeError> {
        digest_tree(&self.tree)
    }

    /// [`Projection::digest`] of the database at `path` as stored, whatever its layout
    /// version, without loading its indexes (what a rebuild compares its result with).
    pub fn stored_digest(path: &Path, cache_bytes: u64) -> Result<[u8; 32], NodeError> {
        digest_tree(&open_store(path, cache_bytes)?.tree(TREE_NAME)?)
    }

    pub fn size_on_disk(&self) -> Result<u64, NodeError> {
        Ok(self.tree.store().db().size_on_disk()?)
    }
}

/// The node's layout as the engine reads it. Credentials are read back from the log;
/// registry documents too.
impl RecordStore for Projection {
    fn credential(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<CredentialRecord>, NodeError> {
        Projection::credential(self, number)
    }

    fn special_ability(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<SpecialAbilityRecord>, NodeError> {
        Projection::special_ability(self, number)
    }

    fn person(&self, subject: &SubjectId) -> Result<Option<PersonRecord>, NodeError> {
        Projection::person(self, subject)
    }

    fn career(&self, subject: &SubjectId) -> Result<Option<CareerRecord>, NodeError> {
        super::careers::career(&self.tree, subject)
    }

    fn keeps_careers(&self) -> bool {
        true
    }

    fn event_at(&self, index: u64) -> Result<Option<EventId>, NodeError> {
        if index >= self.log.entry_count() {
            return Ok(None);
        }
        Ok(Some(self.read_entry(index)?.event.id))
    }

    fn cursor(&self) -> Result<u64, NodeError> {
        Projection::cursor(self)
    }

    fn registry(&self) -> Result<Registry, NodeError> {
        load_registry(self)
    }

    fn stats(&self) -> Result<BTreeMap<String, i64>, NodeError> {
        Projection::stats(self)
    }

    fn event_ids(&self, cursor: u64, each: &mut dyn FnMut(EventId, u64)) -> Result<(), NodeError> {
        self.committed_event_ids(cursor, each)
    }

    fn key_scan(&self) -> Option<(StoreTree, KeyScan)> {
        Some((self.tree.clone(), KNOWN_KEYS))
    }
}

/// The registry: the bodies and ledger record the projections hold, the catalogue and policy
/// documents read back out of the log.
fn load_registry(projection: &Projection) -> Result<Registry, NodeError> {
    let (ledger, bodies, documents) = projection.load_registry_parts()?;
    let read_document = |index: u64| -> Result<EventKind, NodeError> {
        Ok(projection.read_entry(index)?.event.kind)
    };
    let integrity = |index: u64, what: &str| {
        NodeError::new(
            NodeErrorKind::Integrity,
            format!("entry {index} should hold a {what}; run `skill-ledger rebuild`"),
        )
    };
    let catalogue = match documents.catalogue {
        Some(index) => match read_document(index)? {
            EventKind::CatalogueAdopted(adopted) => Some(std::sync::Arc::new(
                Catalogue::from_toml(&adopted.source_toml)
                    .map_err(|_| integrity(index, "catalogue"))?,
            )),
            _ => return Err(integrity(index, "catalogue")),
        },
        None => None,
    };
    let mut policies = Vec::new();
    for index in documents.policies.values() {
        match read_document(*index)? {
            EventKind::PolicyAdopted(adopted) => policies.push(PolicyVersion {
                policy: std::sync::Arc::new(
                    Policy::from_toml(&adopted.source_toml)
                        .map_err(|_| integrity(*index, "policy"))?,
                ),
                entry_index: *index,
            }),
            _ => return Err(integrity(*index, "policy")),
        }
    }
    let (contests, appointment_rights) = super::careers::load_registry(&projection.tree)?;
    Ok(Registry {
        ledger,
        catalogue,
        policies,
        bodies,
        contests,
        appointment_rights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holding(serial: u32, revoked: bool) -> Holding {
        let body: skill_ledger_domain::RegistrationNumber =
            "Y000050000001".parse().expect("registration number");
        Holding {
            certificate_number: CertificateNumber::compose(body, 2024, Level::Senior, serial)
                .expect("certificate number"),
            occupation: "6-18-02-04".parse().expect("occupation"),
            level: Level::Senior,
            issued: Date::from_ymd(2024, 6, 30).expect("date"),
            route: RouteKind::DirectRecognition,
            revoked,
            basis: None,
            basis_revoked: false,
        }
    }

    /// Pins the person value layout documented in docs/formats.md.
    #[test]
    fn person_values_have_the_documented_bytes_and_round_trip() {
        let mut built_on = holding(18, true);
        built_on.route = RouteKind::Contest;
        built_on.basis = Some(0x0102);
        built_on.basis_revoked = true;
        let person = PersonRecord {
            holdings: vec![holding(17, false), built_on],
        };
        let mut bytes = Vec::new();
        encode_person(&person, &mut bytes);
        assert_eq!(bytes.len(), 2 * HOLDING_BYTES);
        assert_eq!(
            hex::encode(&bytes[..HOLDING_BYTES]),
            concat!(
                "59303030303530303030303031323433303030303137", // Y000050000001243000017
                "06120204",                                     // 6-18-02-04
                "03",                                           // Senior
                "c04d0000",                                     // 2024-06-30
                "01",                                           // direct recognition
                "00",                                           // flags: none
                "0000",                                         // no basis
            )
        );
        assert_eq!(
            hex::encode(&bytes[2 * HOLDING_BYTES - 4..]),
            concat!(
                "02",   // contest
                "07",   // revoked, basis revoked, has a basis
                "0201", // basis position 0x0102
            )
        );
        assert_eq!(decode_person(&bytes).expect("decode"), person);
        assert!(decode_person(&bytes[..HOLDING_BYTES + 1]).is_err());
        let mut bad = bytes.clone();
        bad[32] = 8;
        assert!(decode_person(&bad).is_err(), "an unknown flag");
        let mut bad = bytes.clone();
        bad[31] = 9;
        assert!(decode_person(&bad).is_err(), "an unknown route");
    }

    /// A batch's changes and the counters it touched.
    type Batch = (Overlay, Vec<(String, i64)>);

    /// Two overlays of consecutive batches, the second changing what the first wrote.
    fn two_batches() -> (Batch, Batch) {
        let subject = SubjectId([5; 32]);
        let mut first = Overlay::default();
        first.persons.insert(
            subject,
            PersonRecord {
                holdings: vec![holding(17, false)],
            },
        );
        first.new_persons.insert(subject, 0);
        first.new_ids.push((0, EventId([1; 16])));
        first.event_indexes.insert(EventId([1; 16]), 0);
        let mut second = Overlay::default();
        second.persons.insert(
            subject,
            PersonRecord {
                holdings: vec![holding(17, true), holding(18, false)],
            },
        );
        second.persons.insert(
            SubjectId([6; 32]),
            PersonRecord {
                holdings: vec![holding(19, false)],
            },
        );
        second.new_persons.insert(SubjectId([6; 32]), 1);
        second.new_ids.push((1, EventId([2; 16])));
        second.event_indexes.insert(EventId([2; 16]), 1);
        let first_stats = vec![("holders".to_string(), 1), ("revoked".to_string(), 0)];
        let second_stats = vec![("holders".to_string(), 2), ("revoked".to_string(), 1)];
        ((first, first_stats), (second, second_stats))
    }

    fn empty_store(dir: &Path) -> Projection {
        let (log, _) = skill_ledger_log::Log::open(
            &dir.join("log"),
            skill_ledger_log::LogOptions::default(),
            0,
        )
        .expect("log");
        Projection::open(&dir.join("projections"), log.reader(), 16 << 20).expect("store")
    }

    #[test]
    fn given_two_batches_when_committed_as_a_group_then_the_store_is_as_after_one_by_one() {
        let ((first, first_stats), (second, second_stats)) = two_batches();
        let (one_by_one, grouped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (one_by_one, grouped) = (empty_store(one_by_one.path()), empty_store(grouped.path()));

        one_by_one.commit(&first, &first_stats, 1).expect("first");
        one_by_one
            .commit(&second, &second_stats, 2)
            .expect("second");
        grouped
            .commit_group(&[(&first, &first_stats), (&second, &second_stats)], 2)
            .expect("group");

        assert_eq!(grouped.digest().unwrap(), one_by_one.digest().unwrap());
        assert_eq!(grouped.cursor().unwrap(), 2);
        let person = grouped
            .person(&SubjectId([5; 32]))
            .unwrap()
            .expect("person");
        assert_eq!(person.holdings.len(), 2, "the later batch's record wins");
        let stats = grouped.stats().unwrap();
        assert_eq!(stats.get("holders"), Some(&2));
        assert_eq!(stats.get("revoked"), Some(&1));
        let mut ids = 0;
        grouped
            .committed_event_ids(2, &mut |_, _| ids += 1)
            .unwrap();
        assert_eq!(ids, 2);
    }

    /// Given persons created by entries 0 and 1 (in two batches) and the first changed by the
    /// second batch, when the store is reopened, then both sit in the one chunk of entries
    /// 0–31, in the slots of their creating entries, each led by its subject, the second
    /// batch having read back the first's chunk; the subject index rebuilt from the chunk
    /// finds them.
    #[test]
    fn given_persons_committed_when_reopened_then_they_are_keyed_by_their_creating_entry() {
        let ((first, first_stats), (second, second_stats)) = two_batches();
        let dir = tempfile::tempdir().unwrap();
        {
            let store = empty_store(dir.path());
            store.commit(&first, &first_stats, 1).expect("first");
            store.commit(&second, &second_stats, 2).expect("second");
            store.flush().expect("flush");
        }
        let store = empty_store(dir.path());
        let keys: Vec<Vec<u8>> = store
            .tree
            .scan_prefix([persons::PREFIX])
            .map(|item| item.expect("item").0.to_vec())
            .collect();
        assert_eq!(keys, vec![persons::place(0).0.to_vec()]);
        let value = store.tree.get(persons::place(1).0).unwrap().expect("value");
        let records = persons::records(&value).expect("records");
        let slots: Vec<(u8, [u8; 32], usize)> = records
            .iter()
            .map(|record| (record.slot, *record.subject, record.holdings.len()))
            .collect();
        assert_eq!(
            slots,
            vec![(0, [5; 32], 2 * HOLDING_BYTES), (1, [6; 32], HOLDING_BYTES)]
        );
        assert_eq!(store.persons_indexed(), 2);
        let changed = store.person(&SubjectId([5; 32])).unwrap().expect("person");
        assert_eq!(
            changed.holdings.len(),
            2,
            "the change is under the first key"
        );
        assert!(store.person(&SubjectId([6; 32])).unwrap().is_some());
        assert!(store.person(&SubjectId([7; 32])).unwrap().is_none());
    }
}
