//! Person records packed by the entries that created them (`p` keys of the node's layout,
//! docs/formats.md).
//!
//! A person is keyed by the index of the entry that created it (a subject is a uniformly
//! random pseudonym, so keys by subject land on random pages of sled's tree). One key per
//! person still cost a sled insert per person and batch, and sled's cost is per key: each
//! insert links a delta to its leaf, and the leaves of a growing tree are copied and split.
//! Persons created by the same run of [`ENTRIES_PER_CHUNK`] entries share a key instead:
//! `p` ‖ (creating entry / 32, u64 BE), its value the persons held, in slot order, each
//!
//! `slot` (u8, creating entry mod 32) ‖ holdings (u16 LE, the count) ‖ subject (32 bytes) ‖
//! the holdings (35 bytes each, `super::layout::encode_person`)
//!
//! An entry creates at most one person, so a chunk holds at most 32. New persons fill the
//! chunks at the tree's right edge; a batch writes a chunk per 32 entries that created or
//! changed persons, rather than a key per person.

/// The key prefix of person chunks.
pub(crate) const PREFIX: u8 = b'p';

/// Entries whose persons share a chunk.
pub(crate) const ENTRIES_PER_CHUNK: u64 = 32;

/// Bytes of a record's head: slot, holdings count, subject.
const HEAD_BYTES: usize = 1 + 2 + 32;

/// A chunk key: `p` ‖ chunk number (u64 BE).
pub(crate) type ChunkKey = [u8; 9];

/// The chunk key of the person created by entry `at`, and its slot there.
pub(crate) fn place(at: u64) -> (ChunkKey, u8) {
    let mut key = [PREFIX; 9];
    key[1..].copy_from_slice(&(at / ENTRIES_PER_CHUNK).to_be_bytes());
    (key, (at % ENTRIES_PER_CHUNK) as u8)
}

/// The first entry a chunk key covers, if `key` is one.
pub(crate) fn first_entry(key: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = key.get(1..)?.try_into().ok()?;
    u64::from_be_bytes(bytes).checked_mul(ENTRIES_PER_CHUNK)
}

/// One record of a chunk value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    pub slot: u8,
    pub subject: &'a [u8; 32],
    /// The encoded holdings.
    pub holdings: &'a [u8],
    /// Where the record lies in the value.
    span: (usize, usize),
}

/// The records of a chunk value, in slot order; an error names the first flaw (a cut
/// record, a slot out of range or out of order).
pub(crate) fn records(value: &[u8]) -> Result<Vec<Record<'_>>, String> {
    let mut records: Vec<Record<'_>> = Vec::new();
    let mut at = 0;
    while at < value.len() {
        let head = value
            .get(at..at + HEAD_BYTES)
            .ok_or_else(|| format!("a record cut at byte {at}"))?;
        let slot = head[0];
        if u64::from(slot) >= ENTRIES_PER_CHUNK {
            return Err(format!("slot {slot}"));
        }
        if records.last().is_some_and(|last| last.slot >= slot) {
            return Err(format!("slot {slot} out of order"));
        }
        let count = usize::from(u16::from_le_bytes([head[1], head[2]]));
        let end = at + HEAD_BYTES + count * super::layout::HOLDING_BYTES;
        let holdings = value
            .get(at + HEAD_BYTES..end)
            .ok_or_else(|| format!("slot {slot}: its holdings are cut"))?;
        let subject: &[u8; 32] = head[3..]
            .try_into()
            .map_err(|_| format!("slot {slot}: no subject"))?;
        records.push(Record {
            slot,
            subject,
            holdings,
            span: (at, end),
        });
        at = end;
    }
    Ok(records)
}

/// The record of `slot` in a chunk value, if held.
pub(crate) fn find(value: &[u8], slot: u8) -> Result<Option<Record<'_>>, String> {
    Ok(records(value)?
        .into_iter()
        .find(|record| record.slot == slot))
}

/// Sets the person of `slot` in a chunk value (added in slot order, or replaced) to
/// `subject` with the encoded `holdings`.
pub(crate) fn set(
    value: &mut Vec<u8>,
    slot: u8,
    subject: &[u8; 32],
    holdings: &[u8],
) -> Result<(), String> {
    if u64::from(slot) >= ENTRIES_PER_CHUNK {
        return Err(format!("slot {slot}"));
    }
    let count = holdings.len() / super::layout::HOLDING_BYTES;
    let count = u16::try_from(count)
        .ok()
        .filter(|_| holdings.len().is_multiple_of(super::layout::HOLDING_BYTES))
        .ok_or_else(|| format!("slot {slot}: {} bytes of holdings", holdings.len()))?;
    let (from, to) = {
        let records = records(value)?;
        match records.iter().find(|record| record.slot >= slot) {
            Some(record) if record.slot == slot => record.span,
            Some(record) => (record.span.0, record.span.0),
            None => (value.len(), value.len()),
        }
    };
    let mut bytes = Vec::with_capacity(HEAD_BYTES + holdings.len());
    bytes.push(slot);
    bytes.extend_from_slice(&count.to_le_bytes());
    bytes.extend_from_slice(subject);
    bytes.extend_from_slice(holdings);
    value.splice(from..to, bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOLDING: [u8; 35] = [7; 35];

    /// Given persons created by entries 64, 65 and 95, when placed, then they share the
    /// chunk of entries 64–95 (`p` ‖ 2 BE) in slots 0, 1 and 31; entry 96 starts the next.
    #[test]
    fn persons_share_a_key_by_their_creating_entry_divided_by_thirty_two() {
        assert_eq!(place(64), ([b'p', 0, 0, 0, 0, 0, 0, 0, 2], 0));
        assert_eq!(place(65).1, 1);
        assert_eq!(place(95), ([b'p', 0, 0, 0, 0, 0, 0, 0, 2], 31));
        assert_eq!(place(96), ([b'p', 0, 0, 0, 0, 0, 0, 0, 3], 0));
        assert_eq!(first_entry(&place(95).0), Some(64));
        assert_eq!(first_entry(b"p"), None);
    }

    /// Given an empty chunk, when slot 3 then slot 1 are set and slot 3 is replaced with two
    /// holdings, then the value is the golden bytes: slot order, count u16 LE, subject, the
    /// holdings.
    #[test]
    fn records_are_kept_in_slot_order_with_their_count_and_subject() {
        let mut value = Vec::new();
        set(&mut value, 3, &[3; 32], &HOLDING).unwrap();
        set(&mut value, 1, &[1; 32], &[]).unwrap();
        let two: Vec<u8> = [HOLDING, HOLDING].concat();
        set(&mut value, 3, &[3; 32], &two).unwrap();
        let mut golden = vec![1, 0, 0];
        golden.extend_from_slice(&[1; 32]);
        golden.extend_from_slice(&[3, 2, 0]);
        golden.extend_from_slice(&[3; 32]);
        golden.extend_from_slice(&two);
        assert_eq!(hex::encode(&value), hex::encode(&golden));
        let found = find(&value, 3).unwrap().expect("slot 3");
        assert_eq!((found.subject, found.holdings), (&[3; 32], &two[..]));
        assert!(find(&value, 2).unwrap().is_none());
    }

    /// Given damaged chunk values, when read, then each is refused, naming the flaw.
    #[test]
    fn a_damaged_chunk_is_refused() {
        let mut value = Vec::new();
        set(&mut value, 1, &[1; 32], &HOLDING).unwrap();
        set(&mut value, 2, &[2; 32], &HOLDING).unwrap();
        let cut = &value[..value.len() - 1];
        assert!(records(cut).unwrap_err().contains("cut"));
        let mut swapped = value.clone();
        swapped[0] = 5;
        assert!(records(&swapped).unwrap_err().contains("out of order"));
        let mut high = value.clone();
        high[0] = 40;
        assert!(records(&high).unwrap_err().contains("slot 40"));
        assert!(set(&mut value, 32, &[0; 32], &[]).is_err());
        assert!(set(&mut value, 0, &[0; 32], &[1, 2]).is_err());
    }
}
