//! An in-memory ledger state: the reference fold, used by tests and property tests.

use std::collections::BTreeMap;

use crate::changes::Changes;
use crate::event::{EventId, EventKind, SignedEvent};
use crate::events::{apply, decide};
use crate::ids::CertificateNumber;
use crate::rejection::Rejection;
use crate::state::{
    CareerRecord, CredentialRecord, PersonRecord, RecordView, Registry, SpecialAbilityRecord,
};
use crate::subject::SubjectId;

/// The whole state in memory: registry, records, statistics, next index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryLedger {
    pub registry: Registry,
    pub credentials: BTreeMap<CertificateNumber, CredentialRecord>,
    pub special_abilities: BTreeMap<CertificateNumber, SpecialAbilityRecord>,
    pub persons: BTreeMap<SubjectId, PersonRecord>,
    pub careers: BTreeMap<SubjectId, CareerRecord>,
    pub event_indexes: BTreeMap<EventId, u64>,
    pub stats: BTreeMap<String, i64>,
    pub entries: Vec<SignedEvent>,
}

impl RecordView for MemoryLedger {
    fn credential(&self, number: &CertificateNumber) -> Option<CredentialRecord> {
        self.credentials.get(number).cloned()
    }

    fn special_ability(&self, number: &CertificateNumber) -> Option<SpecialAbilityRecord> {
        self.special_abilities.get(number).cloned()
    }

    fn person(&self, subject: &SubjectId) -> Option<PersonRecord> {
        self.persons.get(subject).cloned()
    }

    fn event_index(&self, id: &EventId) -> Option<u64> {
        self.event_indexes.get(id).copied()
    }

    fn career(&self, subject: &SubjectId) -> Option<CareerRecord> {
        self.careers.get(subject).cloned()
    }

    fn keeps_careers(&self) -> bool {
        true
    }
}

impl MemoryLedger {
    /// The origin signatures must name: this ledger's, or for entry 0 the one it establishes.
    fn origin_for<'a>(&'a self, signed: &'a SignedEvent) -> &'a str {
        match (&self.registry.ledger, &signed.event.kind) {
            (Some(ledger), _) => &ledger.origin,
            (None, EventKind::LedgerEstablished(established)) => &established.origin,
            (None, _) => "",
        }
    }

    /// Verifies the signature, decides, and applies: what a node does, without storage.
    pub fn submit(&mut self, signed: SignedEvent) -> Result<u64, Rejection> {
        if self.registry.ledger.is_some() && !signed.verify_signature(self.origin_for(&signed)) {
            return Err(Rejection::BadSignature);
        }
        decide(&self.registry, self, &signed)?;
        if self.registry.ledger.is_none() && !signed.verify_signature(self.origin_for(&signed)) {
            return Err(Rejection::BadSignature);
        }
        let index = self.entries.len() as u64;
        let changes = apply(&self.registry, self, &signed, index);
        self.absorb(changes);
        self.entries.push(signed);
        Ok(index)
    }

    /// Writes the changes of one event into this state.
    pub fn absorb(&mut self, changes: Changes) {
        self.event_indexes.insert(changes.event_id, changes.index);
        if let Some(change) = changes.registry {
            self.registry.absorb(change);
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
        for (name, delta) in changes.stats {
            *self.stats.entry(name.to_string()).or_insert(0) += delta;
        }
        // Absent and zero are the same counter: keeps folds comparable.
        self.stats.retain(|_, value| *value != 0);
    }

    /// Rebuilds a state by folding `entries` from scratch (no decisions: they were made).
    pub fn fold(entries: &[SignedEvent]) -> MemoryLedger {
        let mut state = MemoryLedger::default();
        for (index, signed) in entries.iter().enumerate() {
            let changes = apply(&state.registry, &state, signed, index as u64);
            state.absorb(changes);
            state.entries.push(signed.clone());
        }
        state
    }
}
