//! In-memory tag tables: which log entry carried an event id, and which entry first named a
//! subject (the key of its person record, see `super::layout`).
//!
//! Every submission asks "was this id seen before?" (idempotent resubmission), and almost every
//! answer is "no". Asking sled costs a tree descent per event and a key per event on disk;
//! instead the projections keep the ids packed by entry index (`e` chunks, docs/formats.md),
//! and this table, loaded from them at start-up, answers in memory.
//!
//! The table is compact: one `u64` slot per id, holding a 32-bit tag of a keyed hash of the id
//! and the entry index. The slot position is derived from the tag alone, so the table can grow
//! without the ids. A tag match is only a *candidate*: the caller confirms it by reading the
//! id of that entry from where it keeps them (the node from its log, a partner's mirror from
//! its packed id chunks). Tags are keyed per process (`RandomState`), so crafted ids
//! cannot be made to collide. About 11 bytes per event at the highest load (0.75), e.g.
//! 128 MiB for 10⁷ events. The same table, keyed by subject, finds a person record
//! ([`SubjectIndex`]).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use skill_ledger_domain::{EventId, SubjectId};

/// A key a [`TagIndex`] takes: hashed by its bytes, kept exactly only in the overflow map.
pub trait TagKey: Copy + Eq + Hash {
    fn tag_bytes(&self) -> &[u8];
}

impl TagKey for EventId {
    fn tag_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl TagKey for SubjectId {
    fn tag_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Event id → the entry that carried it.
pub type EventIndex = TagIndex<EventId>;
/// Subject → the entry that first named it, which keys its person record.
pub type SubjectIndex = TagIndex<SubjectId>;

/// Entry indexes at or above this go to the exact overflow map (slots hold `index + 1` in 32
/// bits, 0 meaning empty).
const SLOT_INDEX_MAX: u64 = u32::MAX as u64 - 1;

pub struct TagIndex<K> {
    slots: Vec<u64>,
    len: usize,
    hasher: std::collections::hash_map::RandomState,
    /// Keys whose index does not fit a slot (more than 4·10⁹ entries): exact.
    overflow: HashMap<K, u64>,
}

impl<K> Default for TagIndex<K> {
    fn default() -> TagIndex<K> {
        TagIndex {
            slots: vec![0; 1 << 10],
            len: 0,
            hasher: std::collections::hash_map::RandomState::new(),
            overflow: HashMap::new(),
        }
    }
}

impl<K: TagKey> TagIndex<K> {
    /// A table that takes `keys` keys without growing (growing re-places every slot).
    pub fn with_capacity(keys: usize) -> TagIndex<K> {
        let keys = keys.min(SLOT_INDEX_MAX as usize);
        let slots = (keys.saturating_mul(4) / 3 + 1)
            .next_power_of_two()
            .max(1 << 10);
        TagIndex {
            slots: vec![0; slots],
            ..TagIndex::default()
        }
    }

    fn tag(&self, id: &K) -> u32 {
        let mut hasher = self.hasher.build_hasher();
        hasher.write(id.tag_bytes());
        (hasher.finish() >> 32) as u32
    }

    fn home(tag: u32, mask: usize) -> usize {
        // Fibonacci hashing of the tag spreads it over every table size.
        ((u64::from(tag).wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 20) as usize & mask
    }

    /// Entry indexes whose id may be `id` (to be confirmed by the caller), in probe order.
    pub fn candidates(&self, id: &K) -> impl Iterator<Item = u64> + '_ {
        let tag = self.tag(id);
        let mask = self.slots.len() - 1;
        let mut position = Self::home(tag, mask);
        let exact = self.overflow.get(id).copied();
        let mut done = false;
        exact.into_iter().chain(std::iter::from_fn(move || {
            while !done {
                let slot = self.slots[position];
                position = (position + 1) & mask;
                if slot == 0 {
                    done = true;
                    return None;
                }
                if (slot >> 32) as u32 == tag {
                    return Some((slot & u64::from(u32::MAX)) - 1);
                }
            }
            None
        }))
    }

    /// Records that entry `index` carries `id` (which the caller knows to be new).
    pub fn insert(&mut self, id: &K, index: u64) {
        if index > SLOT_INDEX_MAX {
            self.overflow.insert(*id, index);
            return;
        }
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let tag = self.tag(id);
        self.place((u64::from(tag) << 32) | (index + 1));
        self.len += 1;
    }

    fn place(&mut self, slot: u64) {
        let mask = self.slots.len() - 1;
        let mut position = Self::home((slot >> 32) as u32, mask);
        while self.slots[position] != 0 {
            position = (position + 1) & mask;
        }
        self.slots[position] = slot;
    }

    fn grow(&mut self) {
        let doubled = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        for slot in old.into_iter().filter(|slot| *slot != 0) {
            self.place(slot);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len + self.overflow.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u64) -> EventId {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&i.to_le_bytes());
        bytes[15] = 0x5a;
        EventId(bytes)
    }

    #[test]
    fn every_inserted_id_is_a_candidate_of_its_index_and_absent_ids_rarely_are() {
        let mut index = EventIndex::default();
        for i in 0..100_000u64 {
            index.insert(&id(i), i * 3);
        }
        assert_eq!(index.len(), 100_000);
        for i in 0..100_000u64 {
            assert!(index.candidates(&id(i)).any(|c| c == i * 3), "{i}");
        }
        let false_candidates: usize = (100_000..200_000u64)
            .map(|i| index.candidates(&id(i)).count())
            .sum();
        assert!(false_candidates < 20, "{false_candidates}");
    }

    #[test]
    fn indexes_beyond_the_slot_range_are_kept_exactly() {
        let mut index = EventIndex::default();
        index.insert(&id(1), u64::from(u32::MAX) + 7);
        assert_eq!(
            index.candidates(&id(1)).collect::<Vec<_>>(),
            vec![u64::from(u32::MAX) + 7]
        );
        assert_eq!(index.candidates(&id(2)).count(), 0);
    }
}
