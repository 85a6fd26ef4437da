//! C2SP tlog-cosignature, Ed25519 `cosignature/v1`: what a witness signs, its note signature
//! line, and its verifier key.
//!
//! * Signed message: `cosignature/v1\n` ‖ `time <T>\n` ‖ the whole checkpoint body (every line
//!   above the blank line, with its final newline).
//! * Signature line: `— <name> base64(key ID (4, BE) ‖ T (u64 BE) ‖ Ed25519 signature (64))\n`.
//! * Key ID: SHA-256(name ‖ `\n` ‖ `0x04` ‖ 32-byte public key)[..4].
//! * Verifier key text: `<name>+<key ID, 8 hex>+base64(0x04 ‖ public key)`.
//!
//! The pinned `signed_note` 0.2.0 knows only the log's own Ed25519 signatures (type 0x01), so
//! this module implements the cosignature type itself.

use base64::prelude::{Engine, BASE64_STANDARD};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::error::{Result, SyncError, SyncErrorKind};

/// Signature type byte of Ed25519 cosignatures in key IDs and verifier keys.
pub const COSIGNATURE_TYPE: u8 = 0x04;
/// The header line of the signed message (domain separation).
pub const COSIGNATURE_HEADER: &str = "cosignature/v1\n";
/// The em dash (U+2014) and space that start every note signature line.
pub const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";
/// Bytes of the decoded signature: key ID, timestamp, Ed25519 signature.
pub const COSIGNATURE_BYTES: usize = 4 + 8 + 64;
/// Largest timestamp the spec allows (2^63 − 1).
pub const TIMESTAMP_MAX: u64 = i64::MAX as u64;

fn witness_error(message: impl Into<String>) -> SyncError {
    SyncError::new(SyncErrorKind::Witness, message)
}

/// SHA-256(name ‖ `\n` ‖ 0x04 ‖ public key)[..4] as a big-endian u32.
pub fn cosigner_key_id(name: &str, public_key: &VerifyingKey) -> u32 {
    let mut encoded = vec![COSIGNATURE_TYPE];
    encoded.extend_from_slice(public_key.as_bytes());
    signed_note::key_id(name, &encoded)
}

/// The message a cosigner signs for `checkpoint_body` at `timestamp`.
pub fn cosigned_message(checkpoint_body: &str, timestamp: u64) -> Vec<u8> {
    format!("{COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_body}").into_bytes()
}

/// A witness's signing key and name.
pub struct Cosigner {
    name: String,
    key: SigningKey,
    key_id: u32,
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Cosigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl Cosigner {
    pub fn new(name: &str, key: SigningKey) -> Result<Cosigner> {
        if !signed_note::is_key_name_valid(name) {
            return Err(witness_error(format!(
                "cosigner name {name:?} is not a valid key name"
            )));
        }
        let key_id = cosigner_key_id(name, &key.verifying_key());
        Ok(Cosigner {
            name: name.to_string(),
            key,
            key_id,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// `<name>+<key ID hex>+base64(0x04 ‖ public key)`.
    pub fn verifier_key_text(&self) -> String {
        let mut encoded = vec![COSIGNATURE_TYPE];
        encoded.extend_from_slice(self.key.verifying_key().as_bytes());
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            BASE64_STANDARD.encode(encoded)
        )
    }

    /// The cosignature line (ending in a newline) over `checkpoint_body` at `timestamp`.
    pub fn cosign(&self, checkpoint_body: &str, timestamp: u64) -> Result<String> {
        if timestamp > TIMESTAMP_MAX {
            return Err(witness_error(format!(
                "timestamp {timestamp} exceeds 2^63 - 1"
            )));
        }
        let signature = self.key.sign(&cosigned_message(checkpoint_body, timestamp));
        let mut bytes = Vec::with_capacity(COSIGNATURE_BYTES);
        bytes.extend_from_slice(&self.key_id.to_be_bytes());
        bytes.extend_from_slice(&timestamp.to_be_bytes());
        bytes.extend_from_slice(&signature.to_bytes());
        Ok(format!(
            "{SIGNATURE_LINE_PREFIX}{} {}\n",
            self.name,
            BASE64_STANDARD.encode(bytes)
        ))
    }
}

/// A note signature line split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureLine {
    pub name: String,
    pub key_id: u32,
    /// The bytes after the key ID.
    pub signature: Vec<u8>,
}

/// Parses `— <name> <base64>` (with or without the final newline).
pub fn parse_signature_line(line: &str) -> Result<SignatureLine> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let rest = line.strip_prefix(SIGNATURE_LINE_PREFIX).ok_or_else(|| {
        witness_error(format!(
            "signature line {line:?} does not start with '\u{2014} '"
        ))
    })?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or_else(|| witness_error(format!("signature line {line:?} lacks a signature")))?;
    if !signed_note::is_key_name_valid(name) {
        return Err(witness_error(format!(
            "signature line {line:?} has an invalid key name"
        )));
    }
    let bytes = BASE64_STANDARD
        .decode(encoded)
        .map_err(|_| witness_error(format!("signature line {line:?}: signature is not base64")))?;
    if bytes.len() < 4 {
        return Err(witness_error(format!(
            "signature line {line:?}: shorter than a key ID"
        )));
    }
    let (id, signature) = bytes.split_at(4);
    Ok(SignatureLine {
        name: name.to_string(),
        key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
        signature: signature.to_vec(),
    })
}

/// A cosigner's public key, from its verifier key text.
#[derive(Clone, Debug)]
pub struct CosignatureVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Parses `<name>+<key ID hex>+base64(0x04 ‖ public key)`, checking the key ID.
    pub fn from_vkey(text: &str) -> Result<CosignatureVerifier> {
        let bad = |why: &str| witness_error(format!("cosigner key {text:?}: {why}"));
        let (name, rest) = text
            .split_once('+')
            .ok_or_else(|| bad("expected name+id+key"))?;
        let (id_hex, key_b64) = rest
            .split_once('+')
            .ok_or_else(|| bad("expected name+id+key"))?;
        if !signed_note::is_key_name_valid(name) {
            return Err(bad("invalid name"));
        }
        if id_hex.len() != 8 || !skill_ledger_log::is_lower_hex(id_hex) {
            return Err(bad("key id must be 8 lowercase hex digits"));
        }
        let key_id = u32::from_str_radix(id_hex, 16).map_err(|_| bad("key id is not hex"))?;
        let encoded = BASE64_STANDARD
            .decode(key_b64)
            .map_err(|_| bad("key is not base64"))?;
        let (Some(&COSIGNATURE_TYPE), Ok(public)) = (
            encoded.first(),
            <[u8; 32]>::try_from(&encoded[1.min(encoded.len())..]),
        ) else {
            return Err(bad(
                "not an Ed25519 cosignature/v1 key (type 0x04 then 32 bytes)",
            ));
        };
        let key = VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 point"))?;
        if key.is_weak() {
            return Err(bad("weak key"));
        }
        if cosigner_key_id(name, &key) != key_id {
            return Err(bad("key id does not match the key"));
        }
        Ok(CosignatureVerifier {
            name: name.to_string(),
            key_id,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether a signature line is by this cosigner (name and key ID match).
    pub fn is_mine(&self, line: &SignatureLine) -> bool {
        line.name == self.name && line.key_id == self.key_id
    }

    /// Verifies a line of this cosigner over `checkpoint_body`; returns its timestamp.
    pub fn verify(&self, checkpoint_body: &str, line: &SignatureLine) -> Result<u64> {
        if !self.is_mine(line) {
            return Err(witness_error(format!(
                "signature by {}+{:08x} is not from cosigner {}+{:08x}",
                line.name, line.key_id, self.name, self.key_id
            )));
        }
        let Ok(bytes) = <[u8; 72]>::try_from(line.signature.as_slice()) else {
            return Err(witness_error(format!(
                "cosignature by {} has {} bytes after the key ID, expected 72",
                self.name,
                line.signature.len()
            )));
        };
        let mut time = [0u8; 8];
        time.copy_from_slice(&bytes[..8]);
        let timestamp = u64::from_be_bytes(time);
        if timestamp > TIMESTAMP_MAX {
            return Err(witness_error(format!(
                "cosignature by {} has a timestamp over 2^63 - 1",
                self.name
            )));
        }
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&bytes[8..]);
        self.key
            .verify_strict(
                &cosigned_message(checkpoint_body, timestamp),
                &Signature::from_bytes(&signature),
            )
            .map_err(|_| {
                witness_error(format!(
                    "cosignature by {} (time {timestamp}) does not verify",
                    self.name
                ))
            })?;
        Ok(timestamp)
    }
}

/// Splits a signed note into its body (up to and including the last text line's newline)
/// and its signature lines.
pub fn split_note(note: &str) -> Result<(&str, Vec<&str>)> {
    let separator = note
        .find("\n\n")
        .ok_or_else(|| witness_error("signed note has no blank line before its signatures"))?;
    let body = &note[..separator + 1];
    let signatures = note[separator + 2..]
        .split_inclusive('\n')
        .filter(|line| !line.is_empty())
        .collect();
    Ok((body, signatures))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str =
        "skill-ledger/50\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 1700000000\n";

    fn cosigner() -> Cosigner {
        Cosigner::new("skill-ledger/51/witness", SigningKey::from_bytes(&[3; 32]))
            .expect("valid cosigner")
    }

    /// Golden vector (docs/formats.md, Part 6): seed `[0x03; 32]`, name
    /// `skill-ledger/51/witness`, the checkpoint body above, time 1700000100.
    #[test]
    fn cosignature_line_golden() {
        let cosigner = cosigner();
        assert_eq!(
            cosigner.verifier_key_text(),
            GOLDEN_VKEY,
            "cosigner verifier key text"
        );
        let line = cosigner.cosign(BODY, 1_700_000_100).expect("cosign");
        assert_eq!(line, GOLDEN_LINE, "cosignature line");
        let verifier = CosignatureVerifier::from_vkey(GOLDEN_VKEY).expect("parse vkey");
        let parsed = parse_signature_line(&line).expect("parse line");
        assert_eq!(
            verifier.verify(BODY, &parsed).expect("verifies"),
            1_700_000_100
        );
    }

    const GOLDEN_VKEY: &str =
        "skill-ledger/51/witness+d8c1e354+BO1JKMYo0cLG6ukDOJBZlWEpWSc6XGP5NjbBRhSshzfR";
    /// Checked independently of this code (Python `cryptography`, RFC 8032 Ed25519).
    const GOLDEN_LINE: &str = "\u{2014} skill-ledger/51/witness 2MHjVAAAAABlU/FkFTq9KyreKPYPj5faGJSofmjm2rtUAXMWdTCR4llA8HV4HOqXtwU/AXZ5iZRoTE1Xvv5NZdWNe1NUyOzJw/q7BA==\n";

    #[test]
    fn the_signed_message_is_header_time_and_body() {
        assert_eq!(
            cosigned_message("o\n1\nroot\n", 7),
            b"cosignature/v1\ntime 7\no\n1\nroot\n".to_vec()
        );
    }

    /// The example line of the C2SP tlog-cosignature text decodes to its documented key ID
    /// layout and timestamp (1679315147, the example's `time` line).
    #[test]
    fn the_specification_example_line_has_our_layout() {
        let line = parse_signature_line(
            "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==",
        )
        .expect("parse the example");
        assert_eq!(line.name, "witness.example.com/w1");
        assert_eq!(line.signature.len(), 72);
        let mut time = [0u8; 8];
        time.copy_from_slice(&line.signature[..8]);
        assert_eq!(u64::from_be_bytes(time), 1_679_315_147);
    }

    #[test]
    fn a_changed_body_time_or_key_does_not_verify() {
        let cosigner = cosigner();
        let verifier = CosignatureVerifier::from_vkey(&cosigner.verifier_key_text()).expect("vkey");
        let line =
            parse_signature_line(&cosigner.cosign(BODY, 10).expect("cosign")).expect("parse");
        assert!(verifier
            .verify(&BODY.replace("\n5\n", "\n6\n"), &line)
            .is_err());
        let mut later = line.clone();
        later.signature[7] ^= 1;
        assert!(verifier.verify(BODY, &later).is_err());
        let other = Cosigner::new("skill-ledger/51/witness", SigningKey::from_bytes(&[4; 32]))
            .expect("cosigner");
        let other = CosignatureVerifier::from_vkey(&other.verifier_key_text()).expect("vkey");
        assert!(other.verify(BODY, &line).is_err(), "another key's verifier");
    }

    #[test]
    fn log_keys_are_not_cosigner_keys() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let log_vkey = skill_ledger_log::verifier_key_text("skill-ledger/51", &key);
        let error = CosignatureVerifier::from_vkey(&log_vkey).expect_err("type 0x01 refused");
        assert!(error.message().contains("type 0x04"), "{error}");
    }
}
