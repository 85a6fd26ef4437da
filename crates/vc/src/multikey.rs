//! Ed25519 keys as Multikey (W3C Controlled Identifiers, "Multikey"): base58btc multibase
//! (`z`) of the multicodec prefix `0xed 0x01` followed by the 32 key bytes, so every public key
//! reads `z6Mk…`. This is how a controller document publishes a key and how the verification
//! method id names it.

use ed25519_dalek::VerifyingKey;

use crate::VcError;

const ED25519_PUB: [u8; 2] = [0xed, 0x01];

/// `z6Mk…` for an Ed25519 public key.
pub fn encode_multikey_public(key: &VerifyingKey) -> String {
    let mut raw = Vec::with_capacity(34);
    raw.extend_from_slice(&ED25519_PUB);
    raw.extend_from_slice(key.as_bytes());
    format!("z{}", base58btc(&raw))
}

/// The Ed25519 public key of a `z6Mk…` Multikey; any other key type or encoding is refused.
pub fn decode_multikey_public(multikey: &str) -> Result<VerifyingKey, VcError> {
    let bad = |why: &str| VcError::BadMultikey(format!("{multikey:?}: {why}"));
    let body = multikey
        .strip_prefix('z')
        .ok_or_else(|| bad("not base58btc multibase (no 'z' prefix)"))?;
    let raw = bs58::decode(body)
        .into_vec()
        .map_err(|_| bad("not base58btc"))?;
    if raw.len() != 34 || raw[..2] != ED25519_PUB {
        return Err(bad(
            "not an Ed25519 public key (multicodec 0xed01, 32 bytes)",
        ));
    }
    let bytes: [u8; 32] = raw[2..].try_into().map_err(|_| bad("wrong length"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad("not a point on the curve"))
}

/// Decodes a Multikey secret key (`z3u2…`: multicodec `0x80 0x26` + the 32-byte seed), the form
/// the W3C test vectors publish. Not used for anything skill-ledger stores.
pub fn decode_multikey_secret(multikey: &str) -> Result<ed25519_dalek::SigningKey, VcError> {
    let bad = |why: &str| VcError::BadMultikey(format!("secret key: {why}"));
    let body = multikey
        .strip_prefix('z')
        .ok_or_else(|| bad("no 'z' prefix"))?;
    let raw = bs58::decode(body)
        .into_vec()
        .map_err(|_| bad("not base58btc"))?;
    if raw.len() != 34 || raw[..2] != [0x80, 0x26] {
        return Err(bad(
            "not an Ed25519 secret key (multicodec 0x8026, 32 bytes)",
        ));
    }
    let seed: [u8; 32] = raw[2..].try_into().map_err(|_| bad("wrong length"))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// base58btc (the Bitcoin alphabet), the same output as `bs58::encode`, in limbs of 58^5 with
/// 32 bits taken at a time: about twenty times faster on a 64-byte signature, which every
/// issued proof encodes.
pub(crate) fn base58btc(input: &[u8]) -> String {
    const LIMB: u64 = 58 * 58 * 58 * 58 * 58; // 656,356,768 < 2^30
    let zeros = input.iter().take_while(|&&b| b == 0).count();
    let rest = &input[zeros..];
    // Little-endian limbs of the number, base 58^5.
    let mut limbs: Vec<u64> = Vec::with_capacity(rest.len() / 3 + 1);
    let head = rest.len() % 4;
    let mut feed = |value: u64, shift: u32| {
        let mut carry = value;
        for l in limbs.iter_mut() {
            let v = (*l << shift) | carry;
            *l = v % LIMB;
            carry = v / LIMB;
        }
        while carry > 0 {
            limbs.push(carry % LIMB);
            carry /= LIMB;
        }
    };
    for &b in &rest[..head] {
        feed(u64::from(b), 8);
    }
    for chunk in rest[head..].chunks_exact(4) {
        feed(
            u64::from(u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])),
            32,
        );
    }
    let mut digits: Vec<u8> = Vec::with_capacity(limbs.len() * 5 + zeros);
    for (i, &l) in limbs.iter().enumerate() {
        let mut l = l;
        let last = i + 1 == limbs.len();
        for _ in 0..5 {
            if last && l == 0 {
                break;
            }
            digits.push(ALPHABET[(l % 58) as usize]);
            l /= 58;
        }
    }
    digits.extend(std::iter::repeat_n(b'1', zeros));
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn base58btc_equals_bs58(bytes in proptest::collection::vec(any::<u8>(), 0..100), zeros in 0usize..4) {
            let mut input = vec![0u8; zeros];
            input.extend(bytes);
            prop_assert_eq!(super::base58btc(&input), bs58::encode(&input).into_string());
        }
    }

    #[test]
    fn base58btc_edge_cases() {
        for input in [
            &[][..],
            &[0],
            &[0, 0, 1],
            &[255; 64],
            &[1, 0, 0, 0, 0],
            &[0, 0, 0, 0, 0, 0],
        ] {
            assert_eq!(
                super::base58btc(input),
                bs58::encode(input).into_string(),
                "{input:?}"
            );
        }
    }
}
