//! Certificates packed a hundred to a key (`c` keys of the node's layout, docs/formats.md).
//!
//! A certificate record is two entry indexes: the entry that issued it and, once revoked,
//! the one that revoked it; everything else is read back from those entries. One sled key
//! per certificate cost a sled write per event, and sled's cost is per key written: each
//! write copies the leaf it lands in and frees the old copy. Numbers that differ only in
//! their last two digits (the low digits of one body's serial for one year and level) share
//! a key instead: `c` ‖ the first 20 characters of the number, its value the slots held,
//! in slot order, each
//!
//! `slot` (u8, the last two digits as a number 0–99) ‖ issuing entry (u64 LE) ‖ revoking entry
//! (u64 LE, `u64::MAX` while not revoked)
//!
//! A body numbers its certificates in sequence, so consecutive certifications of a series
//! fill one key, and a batch writes a key per hundred certificates of a series rather than
//! one per certificate; the keys a batch writes are the newest of each series, the right
//! edge of their part of the tree.

use skill_ledger_domain::CertificateNumber;

/// The key prefix of certificate chunks.
pub(crate) const PREFIX: u8 = b'c';

/// Bytes of one slot in a chunk value.
pub(crate) const SLOT_BYTES: usize = 17;

/// The revoking-entry value of a certificate not revoked.
const NOT_REVOKED: u64 = u64::MAX;

/// A chunk key: `c` ‖ the first 20 characters of the number.
pub(crate) type ChunkKey = [u8; 21];

/// The chunk key of `number` and its slot there. A certificate number ends in digits (its
/// serial, [`CertificateNumber`]), so the slot is 0–99.
pub(crate) fn place(number: &CertificateNumber) -> (ChunkKey, u8) {
    let bytes = number.as_bytes();
    let mut key = [PREFIX; 21];
    key[1..].copy_from_slice(&bytes[..20]);
    let digit = |byte: u8| byte.wrapping_sub(b'0');
    (key, digit(bytes[20]) * 10 + digit(bytes[21]))
}

fn slot_at(value: &[u8], position: usize) -> (u8, u64, Option<u64>) {
    let bytes = &value[position * SLOT_BYTES..(position + 1) * SLOT_BYTES];
    let mut issued = [0u8; 8];
    issued.copy_from_slice(&bytes[1..9]);
    let mut revoked = [0u8; 8];
    revoked.copy_from_slice(&bytes[9..17]);
    let revoked = u64::from_le_bytes(revoked);
    (
        bytes[0],
        u64::from_le_bytes(issued),
        (revoked != NOT_REVOKED).then_some(revoked),
    )
}

/// Checks a chunk value's shape: whole slots, in strictly increasing slot order.
fn check(value: &[u8]) -> Result<usize, String> {
    if !value.len().is_multiple_of(SLOT_BYTES) {
        return Err(format!("a chunk of {} bytes", value.len()));
    }
    let slots = value.len() / SLOT_BYTES;
    for position in 1..slots {
        if value[position * SLOT_BYTES] <= value[(position - 1) * SLOT_BYTES] {
            return Err(format!(
                "slot {} out of order",
                value[position * SLOT_BYTES]
            ));
        }
    }
    Ok(slots)
}

/// Where `slot` is in a checked chunk of `slots` slots: `Ok(position)` when held, else
/// `Err(position)` where it would go.
fn search(value: &[u8], slots: usize, slot: u8) -> Result<usize, usize> {
    let (mut low, mut high) = (0, slots);
    while low < high {
        let middle = (low + high) / 2;
        match value[middle * SLOT_BYTES].cmp(&slot) {
            std::cmp::Ordering::Less => low = middle + 1,
            std::cmp::Ordering::Greater => high = middle,
            std::cmp::Ordering::Equal => return Ok(middle),
        }
    }
    Err(low)
}

/// The issuing and revoking entries `slot` holds in a chunk value, if any.
pub(crate) fn find(value: &[u8], slot: u8) -> Result<Option<(u64, Option<u64>)>, String> {
    let slots = check(value)?;
    Ok(search(value, slots, slot).ok().map(|position| {
        let (_, issued, revoked) = slot_at(value, position);
        (issued, revoked)
    }))
}

/// Sets `slot` of a chunk value (added in order, or replaced).
pub(crate) fn set(
    value: &mut Vec<u8>,
    slot: u8,
    issued: u64,
    revoked: Option<u64>,
) -> Result<(), String> {
    let slots = check(value)?;
    let mut bytes = [0u8; SLOT_BYTES];
    bytes[0] = slot;
    bytes[1..9].copy_from_slice(&issued.to_le_bytes());
    bytes[9..].copy_from_slice(&revoked.unwrap_or(NOT_REVOKED).to_le_bytes());
    match search(value, slots, slot) {
        Ok(position) => {
            value[position * SLOT_BYTES..(position + 1) * SLOT_BYTES].copy_from_slice(&bytes)
        }
        Err(position) => {
            let at = position * SLOT_BYTES;
            value.splice(at..at, bytes);
        }
    }
    Ok(())
}

/// The certificate numbers a chunk holds (for the filter of held keys): `key` is the chunk
/// key after its prefix. A damaged value yields the numbers of its whole slots; the record
/// read that follows a "maybe present" reports the damage.
pub(crate) fn expand(key: &[u8], value: &[u8], each: &mut dyn FnMut(&[u8])) {
    if key.len() != 20 {
        return;
    }
    let mut number = [0u8; 22];
    number[..20].copy_from_slice(key);
    for bytes in value.chunks_exact(SLOT_BYTES) {
        number[20] = b'0' + bytes[0] / 10 % 10;
        number[21] = b'0' + bytes[0] % 10;
        each(&number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skill_ledger_domain::Level;

    fn number(serial: u32) -> CertificateNumber {
        let body = "Y000050000001".parse().expect("registration number");
        CertificateNumber::compose(body, 2024, Level::Senior, serial).expect("number")
    }

    /// Pins the chunk layout documented in docs/formats.md.
    #[test]
    fn numbers_share_a_key_by_all_but_their_last_two_digits_in_slot_order() {
        let (key, slot) = place(&number(1_742));
        assert_eq!(&key[..], b"cY0000500000012430017");
        assert_eq!(slot, 42);
        assert_eq!(place(&number(1_799)).0, key);
        assert_ne!(place(&number(1_800)).0, key);
        assert_eq!(place(&number(1_700)).1, 0);

        let mut value = Vec::new();
        set(&mut value, 42, 0x0102, None).expect("set");
        set(&mut value, 7, 9, Some(12)).expect("set");
        assert_eq!(
            hex::encode(&value),
            concat!(
                "07",
                "0900000000000000",
                "0c00000000000000", // slot 7, revoked by 12
                "2a",
                "0201000000000000",
                "ffffffffffffffff", // slot 42, not revoked
            )
        );
        assert_eq!(find(&value, 42), Ok(Some((0x0102, None))));
        assert_eq!(find(&value, 7), Ok(Some((9, Some(12)))));
        assert_eq!(find(&value, 8), Ok(None));
        set(&mut value, 42, 0x0102, Some(77)).expect("replace");
        assert_eq!(find(&value, 42), Ok(Some((0x0102, Some(77)))));
        assert_eq!(value.len(), 2 * SLOT_BYTES, "replaced in place");

        let mut numbers = Vec::new();
        expand(&key[1..], &value, &mut |bytes| numbers.push(bytes.to_vec()));
        assert_eq!(
            numbers,
            vec![
                number(1_707).as_bytes().to_vec(),
                number(1_742).as_bytes().to_vec()
            ]
        );
    }

    #[test]
    fn a_damaged_chunk_is_an_error_not_a_wrong_answer() {
        let mut value = Vec::new();
        set(&mut value, 3, 1, None).expect("set");
        set(&mut value, 4, 2, None).expect("set");
        assert!(find(&value[..SLOT_BYTES + 1], 3).is_err(), "a partial slot");
        let mut swapped = value[SLOT_BYTES..].to_vec();
        swapped.extend_from_slice(&value[..SLOT_BYTES]);
        assert!(find(&swapped, 3).is_err(), "slots out of order");
        assert!(set(&mut swapped, 5, 1, None).is_err());
    }
}
