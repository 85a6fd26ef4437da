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
    format!("z{}", bs58::encode(raw).into_string())
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
