//! The signed request an evaluation body sends for the pseudonyms of its holders
//! (`POST /v1/pseudonyms`, docs/formats.md part 5): bodies never hold the pseudonym key, so
//! the node computes the subject and the name commitment for them, and the body proves with
//! its registered Ed25519 key that it asks.
//!
//! The signed bytes are a length-prefixed sequence, like the pseudonym MAC's input, so that
//! no field can run into the next:
//!
//! ```text
//! "skill-ledger/pseudonym-request/v1\n"
//! ‖ text(origin) ‖ text(registration number) ‖ u64_le(timestamp, Unix seconds)
//! ‖ u32_le(item count) ‖ for each item: text(id_type) ‖ text(id_number) ‖ text(name)
//!                                        ‖ text(certificate_number)
//! text(x) = u32_le(len(x)) ‖ UTF-8 bytes of x, exactly as sent (not normalised)
//! ```
//!
//! The context differs from the event signing context (`skill-ledger/event/v1\n`), so a
//! request signature is never an event signature, and the origin binds it to one ledger.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

/// The first bytes of every signed pseudonym request.
pub const PSEUDONYM_REQUEST_CONTEXT: &[u8] = b"skill-ledger/pseudonym-request/v1\n";

/// One holder a body asks pseudonyms for, as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PseudonymItemText<'a> {
    /// An `IdDocumentType` code (`resident_id`, ...).
    pub id_type: &'a str,
    pub id_number: &'a str,
    pub name: &'a str,
    pub certificate_number: &'a str,
}

fn push_text(message: &mut Vec<u8>, text: &str) {
    // A request body is bounded far below 4 GiB (body_bytes_max), so the length fits.
    let length = u32::try_from(text.len()).unwrap_or(u32::MAX);
    message.extend_from_slice(&length.to_le_bytes());
    message.extend_from_slice(text.as_bytes());
}

/// The bytes a body signs (layout in the module documentation).
pub fn pseudonym_request_message(
    origin: &str,
    registration_number: &str,
    timestamp_unix_s: u64,
    items: &[PseudonymItemText<'_>],
) -> Vec<u8> {
    let mut message = Vec::with_capacity(128 + items.len() * 96);
    message.extend_from_slice(PSEUDONYM_REQUEST_CONTEXT);
    push_text(&mut message, origin);
    push_text(&mut message, registration_number);
    message.extend_from_slice(&timestamp_unix_s.to_le_bytes());
    let count = u32::try_from(items.len()).unwrap_or(u32::MAX);
    message.extend_from_slice(&count.to_le_bytes());
    for item in items {
        push_text(&mut message, item.id_type);
        push_text(&mut message, item.id_number);
        push_text(&mut message, item.name);
        push_text(&mut message, item.certificate_number);
    }
    message
}

/// Signs a request message with a body's key.
pub fn sign_pseudonym_request(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    key.sign(message).to_bytes()
}

/// Checks a request signature (strict, weak keys refused, like event signatures).
pub fn verify_pseudonym_request(
    public_key: &[u8; 32],
    message: &[u8],
    signature: &[u8; 64],
) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    if key.is_weak() {
        return false;
    }
    key.verify_strict(message, &Signature::from_bytes(signature))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> PseudonymItemText<'static> {
        PseudonymItemText {
            id_type: "resident_id",
            id_number: "11010519491231002X",
            name: "张三",
            certificate_number: "Y000050000001244000001",
        }
    }

    #[test]
    fn golden_request_vector() {
        // Pinned: a body's system outside this code base builds these bytes
        // (docs/formats.md part 5, "Pseudonyms for a body").
        let message =
            pseudonym_request_message("skill-ledger/50", "Y000050000001", 1_765_000_000, &[item()]);
        assert_eq!(hex::encode(&message), GOLDEN_MESSAGE_HEX);
        let key = SigningKey::from_bytes(&[0x02; 32]);
        let signature = sign_pseudonym_request(&key, &message);
        assert_eq!(hex::encode(signature), GOLDEN_SIGNATURE_HEX);
        assert!(verify_pseudonym_request(
            &key.verifying_key().to_bytes(),
            &message,
            &signature
        ));
    }

    #[test]
    fn every_field_and_the_origin_are_signed() {
        let key = SigningKey::from_bytes(&[0x02; 32]);
        let public = key.verifying_key().to_bytes();
        let message =
            pseudonym_request_message("skill-ledger/50", "Y000050000001", 1_765_000_000, &[item()]);
        let signature = sign_pseudonym_request(&key, &message);
        let mut changed = item();
        changed.id_number = "11010519491231003X";
        for other in [
            pseudonym_request_message("skill-ledger/51", "Y000050000001", 1_765_000_000, &[item()]),
            pseudonym_request_message("skill-ledger/50", "Y000050000002", 1_765_000_000, &[item()]),
            pseudonym_request_message("skill-ledger/50", "Y000050000001", 1_765_000_001, &[item()]),
            pseudonym_request_message(
                "skill-ledger/50",
                "Y000050000001",
                1_765_000_000,
                &[changed],
            ),
            pseudonym_request_message("skill-ledger/50", "Y000050000001", 1_765_000_000, &[]),
        ] {
            assert!(!verify_pseudonym_request(&public, &other, &signature));
        }
        // A field's bytes cannot slide into the next one: the lengths are signed.
        let mut slid = item();
        slid.name = "张";
        slid.certificate_number = "三Y000050000001244000001";
        assert_ne!(
            pseudonym_request_message("o", "r", 0, &[item()]),
            pseudonym_request_message("o", "r", 0, &[slid])
        );
    }

    const GOLDEN_MESSAGE_HEX: &str = "736b696c6c2d6c65646765722f70736575646f6e796d2d726571756573742f76310a0f000000736b696c6c2d6c65646765722f35300d0000005930303030353030303030303140c3336900000000010000000b0000007265736964656e745f69641200000031313031303531393439313233313030325806000000e5bca0e4b8891600000059303030303530303030303031323434303030303031";
    const GOLDEN_SIGNATURE_HEX: &str = "3330a09eaeb460cbaf6d2d63702c0d47bd5201b46feaabaeb40a02fbe556bd974ad3246c7c3aa6b97210799bcc59d494ff751d28a8477fe05f96aaf14380120c";
}
