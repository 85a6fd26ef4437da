//! Bitstring Status List v1.0 (W3C Recommendation): one bit per credential, 1 = revoked.
//!
//! The list is a fixed [`StatusList::BITS`] = 2^20 bits (128 KiB; the spec asks for at least
//! 131,072 bits, 16 KiB, so that one credential hides among many). Bit `i` is bit `7 - i % 8`
//! of byte `i / 8`: index 0 is the most significant bit of the first byte, as the spec's
//! algorithm reads it. `encodedList` is multibase base64url without padding (`u…`) of a GZIP
//! member of the raw bits. The GZIP framing is written here (fixed header, mtime 0, OS
//! "unknown") around miniz_oxide's DEFLATE, so the bytes a status list credential signs do not
//! depend on which zlib backend a build happens to select. Decoding bounds the decompressed size
//! to the list's length, so a small hostile `encodedList` cannot inflate into gigabytes.

use base64::Engine as _;
use serde_json::Value;

use crate::contexts::CREDENTIALS_V2;
use crate::credential::object;
use crate::VcError;

const BYTES: usize = (StatusList::BITS / 8) as usize;
/// An `encodedList` longer than this cannot be ours (incompressible bits, GZIP overhead and
/// base64 included, fit with room to spare).
const MAX_ENCODED_LEN: usize = BYTES * 2 + 1024;
/// DEFLATE level: 6 is zlib's default; one pass over 128 KiB takes about a millisecond.
const LEVEL: u8 = 6;

/// A revocation list of [`StatusList::BITS`] entries.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: Vec<u8>,
}

impl std::fmt::Debug for StatusList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set: u32 = self.bits.iter().map(|b| b.count_ones()).sum();
        write!(f, "StatusList {{ bits: {}, set: {set} }}", Self::BITS)
    }
}

impl Default for StatusList {
    fn default() -> Self {
        Self::new()
    }
}

impl StatusList {
    /// Entries in a list: 2^20 (1,048,576).
    pub const BITS: u64 = 1 << 20;

    /// A list with every entry 0 (not revoked).
    pub fn new() -> Self {
        StatusList {
            bits: vec![0; BYTES],
        }
    }

    fn position(index: u64) -> Result<(usize, u8), VcError> {
        if index >= Self::BITS {
            return Err(VcError::IndexOutOfRange {
                index,
                bits: Self::BITS,
            });
        }
        Ok(((index / 8) as usize, 0x80 >> (index % 8)))
    }

    /// Sets entry `index` to 1 (revoked). O(1).
    pub fn set(&mut self, index: u64) -> Result<(), VcError> {
        let (byte, mask) = Self::position(index)?;
        self.bits[byte] |= mask;
        Ok(())
    }

    /// Entry `index`: true if revoked.
    pub fn get(&self, index: u64) -> Result<bool, VcError> {
        let (byte, mask) = Self::position(index)?;
        Ok(self.bits[byte] & mask != 0)
    }

    /// The number of entries set.
    pub fn count_set(&self) -> u64 {
        self.bits.iter().map(|b| u64::from(b.count_ones())).sum()
    }

    /// The raw bitstring (index 0 = most significant bit of byte 0).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bits
    }

    /// `encodedList`: `u` + base64url (no padding) of GZIP of the bits, in one pass.
    pub fn encode(&self) -> String {
        let deflated = miniz_oxide::deflate::compress_to_vec(&self.bits, LEVEL);
        let mut gz = Vec::with_capacity(deflated.len() + 18);
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown)
        gz.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        gz.extend_from_slice(&deflated);
        gz.extend_from_slice(&crc32fast::hash(&self.bits).to_le_bytes());
        gz.extend_from_slice(&(BYTES as u32).to_le_bytes());
        let mut out = String::with_capacity(1 + gz.len() * 4 / 3 + 4);
        out.push('u');
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&gz, &mut out);
        out
    }

    /// Reads an `encodedList`. Refuses another multibase than `u`, bad base64url, a damaged
    /// GZIP member (header, DEFLATE data, CRC-32 or length), and any length but
    /// [`BITS`](Self::BITS) bits; it never inflates more than that.
    pub fn decode(encoded: &str) -> Result<Self, VcError> {
        let bad = |why: String| VcError::BadEncodedList(why);
        if encoded.len() > MAX_ENCODED_LEN {
            return Err(bad(format!(
                "{} characters is longer than any list of {} bits",
                encoded.len(),
                Self::BITS
            )));
        }
        let body = encoded
            .strip_prefix('u')
            .ok_or_else(|| bad("not multibase base64url (no 'u' prefix)".into()))?;
        let gz = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|e| bad(format!("not base64url without padding: {e}")))?;
        let bits = gunzip(&gz, BYTES).map_err(bad)?;
        if bits.len() != BYTES {
            return Err(bad(format!(
                "the list has {} bits, not {}",
                bits.len() * 8,
                Self::BITS
            )));
        }
        Ok(StatusList { bits })
    }
}

/// One GZIP member (RFC 1952), inflating at most `limit` bytes.
fn gunzip(gz: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    if gz.len() < 18 || gz[0] != 0x1f || gz[1] != 0x8b {
        return Err("not GZIP (bad magic bytes)".into());
    }
    if gz[2] != 8 {
        return Err("GZIP compression method is not DEFLATE".into());
    }
    let flags = gz[3];
    if flags & 0xe0 != 0 {
        return Err("GZIP header has reserved flags set".into());
    }
    let mut pos = 10;
    let truncated = || "GZIP header is truncated".to_string();
    if flags & 0x04 != 0 {
        let xlen = usize::from(u16::from_le_bytes([
            *gz.get(pos).ok_or_else(truncated)?,
            *gz.get(pos + 1).ok_or_else(truncated)?,
        ]));
        pos += 2 + xlen;
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            let end = gz
                .get(pos..)
                .and_then(|r| r.iter().position(|&b| b == 0))
                .ok_or_else(truncated)?;
            pos += end + 1;
        }
    }
    if flags & 0x02 != 0 {
        pos += 2;
    }
    if pos + 8 > gz.len() {
        return Err(truncated());
    }
    let (data, trailer) = gz[pos..].split_at(gz.len() - pos - 8);
    let out =
        miniz_oxide::inflate::decompress_to_vec_with_limit(data, limit).map_err(|e| {
            match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                    format!("inflates to more than {limit} bytes")
                }
                status => format!("bad DEFLATE data ({status:?})"),
            }
        })?;
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if crc != crc32fast::hash(&out) {
        return Err("GZIP CRC-32 does not match".into());
    }
    if size as usize != out.len() {
        return Err("GZIP length does not match".into());
    }
    Ok(out)
}

/// The unsecured `BitstringStatusListCredential` of `list` for `statusPurpose` `revocation`:
/// id `list_url`, subject `{list_url}#list`. Sign it with [`sign_document`](crate::sign_document).
///
/// These are exactly the members [`verify_credential`](crate::verify_credential) accepts in a
/// status list credential (besides its `proof`).
pub fn status_list_credential(
    list_url: &str,
    issuer: &str,
    valid_from: &str,
    list: &StatusList,
) -> Value {
    status_list_shape(list_url, issuer, valid_from, list.encode())
}

/// [`status_list_credential`] with `encodedList` given (the strict check compares a list's
/// members with this, without encoding a list).
pub(crate) fn status_list_shape(
    list_url: &str,
    issuer: &str,
    valid_from: &str,
    encoded_list: String,
) -> Value {
    object(vec![
        ("@context", Value::from(vec![CREDENTIALS_V2])),
        ("id", list_url.into()),
        (
            "type",
            Value::from(vec![
                "VerifiableCredential",
                "BitstringStatusListCredential",
            ]),
        ),
        ("issuer", issuer.into()),
        ("validFrom", valid_from.into()),
        (
            "credentialSubject",
            object(vec![
                ("id", format!("{list_url}#list").into()),
                ("type", "BitstringStatusList".into()),
                ("statusPurpose", "revocation".into()),
                ("encodedList", encoded_list.into()),
            ]),
        ),
    ])
}
