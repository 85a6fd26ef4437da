//! The overlay of decided but uncommitted batches, and the view `decide` and `apply` read.
//!
//! An [`Overlay`] holds what one batch changed, by record; an [`OverlayView`] reads the batch
//! being decided first, then the batches whose commit is still under way (newest first), then
//! the store ([`super::RecordStore`]). A store failure while reading is remembered and
//! surfaced once the rule returns: a decision based on a failed read would be a wrong answer.

use std::collections::{BTreeMap, HashMap};

use skill_ledger_domain::{
    BodyRecord, CareerRecord, CertificateNumber, Changes, CredentialRecord, EventId, LedgerInfo,
    PersonRecord, RecordView, Registry, RegistryChange, SpecialAbilityRecord, StatKey, SubjectId,
};

use super::event_index::EventIndex;
use super::known::KnownKeys;
use super::RecordStore;
use crate::error::NodeError;

/// A registry change as it is persisted.
#[derive(Clone, Debug)]
pub enum PersistedRegistryChange {
    Ledger(LedgerInfo),
    Body(Box<BodyRecord>),
    Catalogue(u64),
    Policy(u32, u64),
    /// Contests and appointment rights (see [`crate::engine::careers`]).
    Careers(RegistryChange),
}

/// The hasher of the per-batch maps: foldhash, seeded per process (keys such as event ids
/// and certificate numbers come from submitters, so the seed matters), and several times
/// cheaper than the standard SipHash on these short keys, which every event hashes a few times.
pub type FastHash = foldhash::fast::RandomState;

/// The records a batch has changed but not yet committed; reads look here first.
#[derive(Default)]
pub struct Overlay {
    pub credentials: HashMap<CertificateNumber, CredentialRecord, FastHash>,
    pub special_abilities: HashMap<CertificateNumber, SpecialAbilityRecord, FastHash>,
    pub persons: HashMap<SubjectId, PersonRecord, FastHash>,
    /// The persons this batch created, with the entry that created each: the node's layout
    /// keys a person record by that entry (`super::layout`).
    pub new_persons: HashMap<SubjectId, u64, FastHash>,
    pub careers: HashMap<SubjectId, skill_ledger_domain::CareerRecord, FastHash>,
    pub event_indexes: HashMap<EventId, u64, FastHash>,
    /// The accepted entries' ids in index order (what the `e` chunks and the index take in).
    pub new_ids: Vec<(u64, EventId)>,
    pub registry_changes: Vec<PersistedRegistryChange>,
    /// The indexes of the entries that changed the registry, in order.
    pub registry_entries: Vec<u64>,
    pub touched_stats: std::collections::HashSet<StatKey, FastHash>,
}

/// The statistics counters. The sequencer updates them by [`StatKey`] (no allocation per
/// event); a counter's name, under which it is persisted (`s` keys) and printed, is rendered
/// once, when the counter is first touched.
#[derive(Default)]
pub struct Counters {
    touched: HashMap<StatKey, (String, i64), FastHash>,
    /// Values as read from the store, by name, for counters not touched since.
    stored: BTreeMap<String, i64>,
}

impl Counters {
    pub fn from_stored(stored: BTreeMap<String, i64>) -> Counters {
        Counters {
            touched: HashMap::default(),
            stored,
        }
    }

    pub fn add(&mut self, key: StatKey, delta: i64) {
        if let Some((_, value)) = self.touched.get_mut(&key) {
            *value += delta;
            return;
        }
        let name = key.to_string();
        let value = self.stored.remove(&name).unwrap_or(0) + delta;
        self.touched.insert(key, (name, value));
    }

    /// The named values of `keys` (counters touched by a batch), in name order.
    pub fn named(&self, keys: &std::collections::HashSet<StatKey, FastHash>) -> Vec<(String, i64)> {
        let mut named: Vec<(String, i64)> = keys
            .iter()
            .filter_map(|key| self.touched.get(key).cloned())
            .collect();
        named.sort_unstable();
        named
    }
}

impl Overlay {
    pub fn is_empty(&self) -> bool {
        self.event_indexes.is_empty() && self.registry_changes.is_empty()
    }

    pub fn clear(&mut self) {
        self.credentials.clear();
        self.special_abilities.clear();
        self.persons.clear();
        self.new_persons.clear();
        self.careers.clear();
        self.event_indexes.clear();
        self.new_ids.clear();
        self.registry_changes.clear();
        self.registry_entries.clear();
        self.touched_stats.clear();
    }

    /// Takes in one event's changes, updating the working registry and statistics too.
    pub fn absorb(&mut self, changes: Changes, registry: &mut Registry, stats: &mut Counters) {
        self.event_indexes.insert(changes.event_id, changes.index);
        self.new_ids.push((changes.index, changes.event_id));
        if let Some(change) = changes.registry {
            let persisted = match &change {
                RegistryChange::Ledger(ledger) => PersistedRegistryChange::Ledger(ledger.clone()),
                RegistryChange::Body(body) => PersistedRegistryChange::Body(body.clone()),
                RegistryChange::Catalogue(_) => PersistedRegistryChange::Catalogue(changes.index),
                RegistryChange::Policy(version) => {
                    PersistedRegistryChange::Policy(version.policy.version, changes.index)
                }
                RegistryChange::Contest(_) | RegistryChange::AppointmentRight(_) => {
                    PersistedRegistryChange::Careers(change.clone())
                }
            };
            self.registry_changes.push(persisted);
            self.registry_entries.push(changes.index);
            registry.absorb(change);
        }
        if let Some(credential) = changes.credential {
            self.credentials
                .insert(credential.certificate_number, credential);
        }
        if let Some(record) = changes.special_ability {
            self.special_abilities
                .insert(record.certificate_number, record);
        }
        if let Some((subject, person)) = changes.person {
            self.persons.insert(subject, person);
        }
        if let Some((subject, career)) = changes.career {
            self.careers.insert(subject, career);
        }
        for (key, delta) in changes.stats {
            stats.add(key, delta);
            self.touched_stats.insert(key);
        }
    }
}

/// Reads through the overlays to the store. Store failures here are fatal to the fold, so
/// they are remembered and surfaced by the engine after `decide` and `apply` return.
pub struct OverlayView<'a, S: RecordStore> {
    store: &'a S,
    overlay: &'a Overlay,
    ids: &'a EventIndex,
    /// Overlays of earlier batches not yet in the store (oldest first), with their cursors.
    pending: &'a [(u64, std::sync::Arc<Overlay>)],
    /// What the store certainly does not hold (no store read for those).
    known: Option<&'a KnownKeys>,
    /// The last person read from the store: `decide` and `apply` of one event read the same
    /// person, and the second read is then free.
    person_read: std::cell::RefCell<Option<(SubjectId, Option<PersonRecord>)>>,
    failure: std::cell::RefCell<Option<NodeError>>,
}

impl<'a, S: RecordStore> OverlayView<'a, S> {
    pub(crate) fn new(
        store: &'a S,
        overlay: &'a Overlay,
        ids: &'a EventIndex,
        pending: &'a [(u64, std::sync::Arc<Overlay>)],
        known: Option<&'a KnownKeys>,
    ) -> OverlayView<'a, S> {
        OverlayView {
            store,
            overlay,
            ids,
            pending,
            known,
            person_read: std::cell::RefCell::new(None),
            failure: std::cell::RefCell::new(None),
        }
    }

    /// The overlays to read before the store, newest first.
    fn overlays(&self) -> impl Iterator<Item = &Overlay> {
        std::iter::once(self.overlay).chain(self.pending.iter().rev().map(|(_, o)| o.as_ref()))
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

    /// False only when the store certainly lacks the certificate `number`.
    fn may_hold_credential(&self, number: &CertificateNumber) -> bool {
        self.known
            .is_none_or(|known| known.may_hold_credential(number))
    }
}

impl<S: RecordStore> RecordView for OverlayView<'_, S> {
    fn credential(&self, number: &CertificateNumber) -> Option<CredentialRecord> {
        for overlay in self.overlays() {
            if let Some(record) = overlay.credentials.get(number) {
                return Some(record.clone());
            }
        }
        if !self.may_hold_credential(number) {
            return None;
        }
        self.remember(self.store.credential(number))
    }

    fn special_ability(&self, number: &CertificateNumber) -> Option<SpecialAbilityRecord> {
        for overlay in self.overlays() {
            if let Some(record) = overlay.special_abilities.get(number) {
                return Some(record.clone());
            }
        }
        if !self.may_hold_credential(number) {
            return None;
        }
        self.remember(self.store.special_ability(number))
    }

    fn person(&self, subject: &SubjectId) -> Option<PersonRecord> {
        for overlay in self.overlays() {
            if let Some(record) = overlay.persons.get(subject) {
                return Some(record.clone());
            }
        }
        if self
            .known
            .is_some_and(|known| !known.may_hold_subject(subject))
        {
            return None;
        }
        if let Some((read, record)) = &*self.person_read.borrow() {
            if read == subject {
                return record.clone();
            }
        }
        let record = self.remember(self.store.person(subject));
        if self.failure.borrow().is_none() {
            *self.person_read.borrow_mut() = Some((*subject, record.clone()));
        }
        record
    }

    fn event_index(&self, id: &EventId) -> Option<u64> {
        for overlay in self.overlays() {
            if let Some(index) = overlay.event_indexes.get(id) {
                return Some(*index);
            }
        }
        // A candidate is confirmed by the id the store holds for its entry. The index can
        // name an entry the store does not hold: one of a batch whose commit failed.
        for candidate in self.ids.candidates(id) {
            match self.store.event_at(candidate) {
                Ok(Some(held)) if held == *id => return Some(candidate),
                Ok(_) => {}
                Err(error) => return self.remember(Err(error)),
            }
        }
        None
    }

    fn career(&self, subject: &SubjectId) -> Option<CareerRecord> {
        for overlay in self.overlays() {
            if let Some(record) = overlay.careers.get(subject) {
                return Some(record.clone());
            }
        }
        if self
            .known
            .is_some_and(|known| !known.may_hold_career(subject))
        {
            return None;
        }
        self.remember(self.store.career(subject))
    }

    fn keeps_careers(&self) -> bool {
        self.store.keeps_careers()
    }
}
