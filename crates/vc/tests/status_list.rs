//! Bitstring Status List v1.0: bit order, length, encoding, and refusal of damaged or hostile
//! `encodedList` values.

use base64::Engine as _;
use proptest::prelude::*;
use skill_ledger_vc::{StatusList, VcError};

fn b64(bytes: &[u8]) -> String {
    format!(
        "u{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A GZIP member of `data` (fixed header), as any gzip tool would write.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gz.extend(miniz_oxide::deflate::compress_to_vec(data, 9));
    gz.extend(crc32fast::hash(data).to_le_bytes());
    gz.extend((data.len() as u32).to_le_bytes());
    gz
}

#[test]
fn set_get_and_bounds() {
    let mut list = StatusList::new();
    assert_eq!(list.count_set(), 0);
    for i in [0, 1, 7, 8, 131_071, StatusList::BITS - 1] {
        assert_eq!(list.get(i), Ok(false));
        list.set(i).expect("in range");
        assert_eq!(list.get(i), Ok(true));
    }
    assert_eq!(list.get(2), Ok(false));
    assert_eq!(list.count_set(), 6);
    let out = VcError::IndexOutOfRange {
        index: StatusList::BITS,
        bits: StatusList::BITS,
    };
    assert_eq!(list.set(StatusList::BITS), Err(out.clone()));
    assert_eq!(list.get(StatusList::BITS), Err(out));
}

#[test]
fn the_spec_minimum_of_16_kib_is_met() {
    // Bitstring Status List v1.0 §: "a minimum of 131,072 entries" (16 KB of bits).
    const { assert!(StatusList::BITS >= 131_072) };
    assert_eq!(
        StatusList::new().as_bytes().len() as u64 * 8,
        StatusList::BITS
    );
}

#[test]
fn index_zero_is_the_most_significant_bit_of_the_first_byte() {
    let mut list = StatusList::new();
    list.set(0).expect("in range");
    list.set(9).expect("in range");
    list.set(15).expect("in range");
    assert_eq!(&list.as_bytes()[..2], &[0b1000_0000, 0b0100_0001]);
    // And the encoding carries exactly those bytes through GZIP.
    let decoded = StatusList::decode(&list.encode()).expect("decodes");
    assert_eq!(decoded, list);
    // A list written by another implementation (plain GZIP of the bits) reads the same.
    assert_eq!(StatusList::decode(&b64(&gzip(list.as_bytes()))), Ok(list));
}

#[test]
fn encoding_is_multibase_base64url_of_gzip() {
    let enc = StatusList::new().encode();
    assert!(enc.starts_with('u'), "{enc}");
    assert!(
        !enc.contains('=') && !enc.contains('+') && !enc.contains('/'),
        "{enc}"
    );
    let gz = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&enc[1..])
        .expect("base64url");
    assert_eq!(&gz[..3], &[0x1f, 0x8b, 8]);
    let raw = miniz_oxide::inflate::decompress_to_vec(&gz[10..gz.len() - 8]).expect("inflates");
    assert_eq!(raw.len() as u64 * 8, StatusList::BITS);
    assert!(
        enc.len() < 300,
        "an empty list compresses well: {} characters",
        enc.len()
    );
}

#[test]
fn damaged_encodings_are_refused() {
    let good = StatusList::new().encode();
    let bits = StatusList::new().as_bytes().to_vec();
    let reason = |enc: &str| match StatusList::decode(enc) {
        Err(VcError::BadEncodedList(why)) => why,
        other => panic!("expected BadEncodedList, got {other:?}"),
    };
    assert!(reason(&good.replacen('u', "z", 1)).contains("'u'"));
    assert!(reason(&format!("{good}=")).contains("base64url"));
    assert!(reason("u!!!!").contains("base64url"));
    assert!(reason(&b64(b"not gzip at all, but long enough")).contains("magic"));
    let mut gz = gzip(&bits);
    let n = gz.len();
    gz[n - 8] ^= 1; // CRC
    assert!(reason(&b64(&gz)).contains("CRC"));
    let mut gz = gzip(&bits);
    gz[12] ^= 0xff; // DEFLATE data
    let why = reason(&b64(&gz));
    assert!(
        why.contains("DEFLATE") || why.contains("CRC") || why.contains("length"),
        "{why}"
    );
    let short = gzip(&bits[..bits.len() / 2]);
    assert!(reason(&b64(&short)).contains("bits, not"));
    let gz = gzip(&bits);
    assert!(
        reason(&b64(&gz[..gz.len() - 3])).contains("GZIP")
            || reason(&b64(&gz[..gz.len() - 3])).contains("DEFLATE")
    );
}

#[test]
fn a_gzip_bomb_is_not_inflated() {
    // 64 MiB of zeros compress to ~64 KiB; decoding must stop at the list's 128 KiB.
    let bomb = gzip(&vec![0u8; 64 << 20]);
    let enc = b64(&bomb);
    assert!(enc.len() < 200_000, "{}", enc.len());
    match StatusList::decode(&enc) {
        Err(VcError::BadEncodedList(why)) => {
            assert!(why.contains("inflates to more than"), "{why}")
        }
        other => panic!("expected BadEncodedList, got {other:?}"),
    }
    // And an encodedList too long to be a list is refused before decoding.
    let huge = format!("u{}", "A".repeat(1 << 20));
    assert!(
        matches!(StatusList::decode(&huge), Err(VcError::BadEncodedList(why)) if why.contains("longer"))
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn set_bits_round_trip(indexes in proptest::collection::vec(0..StatusList::BITS, 0..200)) {
        let mut list = StatusList::new();
        for &i in &indexes {
            list.set(i).expect("in range");
        }
        let decoded = StatusList::decode(&list.encode()).expect("decodes");
        for &i in &indexes {
            prop_assert_eq!(decoded.get(i), Ok(true));
        }
        let distinct: std::collections::BTreeSet<_> = indexes.iter().collect();
        prop_assert_eq!(decoded.count_set(), distinct.len() as u64);
        prop_assert_eq!(decoded, list);
    }
}
