//! Pseudonyms: identity-document numbers and names never enter the log in clear.
//!
//! A subject is HMAC-SHA-256 of the normalised identity document under the pseudonym key
//! that partner authorities share, so the same person has the same subject on every ledger.
//! A holder name is stored as a keyed commitment bound to one certificate number, so equal
//! names on two certificates do not look equal in the public log; a verifier who types the
//! name is checked against the commitment by a node that holds the key, or offline with the
//! certificate's own [`NameKey`], which an offline bundle carries when it was requested with
//! the holder's name.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The pseudonym key (32 bytes) shared by partner authorities. Never logged.
#[derive(Clone)]
pub struct PseudonymKey([u8; 32]);

impl PseudonymKey {
    pub fn from_bytes(bytes: [u8; 32]) -> PseudonymKey {
        PseudonymKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        hmac_parts(&self.0, parts)
    }

    /// The subject of an identity document: HMAC over "skill-ledger/subject/v1", the
    /// document type and the normalised number.
    pub fn subject(&self, document_type: IdDocumentType, document_number: &str) -> SubjectId {
        let number = normalise_document_number(document_number);
        SubjectId(self.mac(&[
            b"skill-ledger/subject/v1",
            document_type.code().as_bytes(),
            number.as_bytes(),
        ]))
    }

    /// The holder-name key of one certificate: HMAC over "skill-ledger/name-key/v1" and the
    /// certificate number. It opens that certificate's name commitment and nothing else, so
    /// the node can hand it to whoever proved they know the name (an offline bundle binds its
    /// holder with it) without exposing any other name or the pseudonym key.
    pub fn name_key(&self, certificate_number: &str) -> NameKey {
        NameKey(self.mac(&[b"skill-ledger/name-key/v1", certificate_number.as_bytes()]))
    }

    /// The commitment to a holder name on one certificate: under the certificate's
    /// [`NameKey`].
    pub fn commit_name(&self, certificate_number: &str, name: &str) -> NameCommitment {
        self.name_key(certificate_number)
            .commit(certificate_number, name)
    }

    /// The commitment as ledgers wrote it before name keys: one HMAC under the pseudonym key
    /// over "skill-ledger/name/v1", the certificate number and the normalised name. Only
    /// checked, never written, so that credentials already on a ledger keep verifying.
    pub fn commit_name_v1(&self, certificate_number: &str, name: &str) -> NameCommitment {
        let name = normalise_name(name);
        NameCommitment(self.mac(&[
            b"skill-ledger/name/v1",
            certificate_number.as_bytes(),
            name.as_bytes(),
        ]))
    }

    /// Whether `name` is the holder `commitment` was made for on this certificate: under the
    /// certificate's name key, or in the form written before name keys
    /// ([`PseudonymKey::commit_name_v1`]).
    pub fn name_matches(
        &self,
        certificate_number: &str,
        name: &str,
        commitment: &NameCommitment,
    ) -> bool {
        self.commit_name(certificate_number, name) == *commitment
            || self.commit_name_v1(certificate_number, name) == *commitment
    }
}

/// HMAC-SHA-256 under `key` over each part prefixed with its length as u32 little-endian.
fn hmac_parts(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail for a 32-byte key.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA-256 takes any key length"),
    };
    for part in parts {
        mac.update(&(part.len() as u32).to_le_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The key of one certificate's holder-name commitment ([`PseudonymKey::name_key`]). Whoever
/// holds it and is told a name can check the name against the certificate's commitment
/// offline; it reveals nothing about other certificates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NameKey(pub [u8; 32]);

impl NameKey {
    /// HMAC under this key over "skill-ledger/name/v2", the certificate number and the
    /// normalised name.
    pub fn commit(&self, certificate_number: &str, name: &str) -> NameCommitment {
        let name = normalise_name(name);
        NameCommitment(hmac_parts(
            &self.0,
            &[
                b"skill-ledger/name/v2",
                certificate_number.as_bytes(),
                name.as_bytes(),
            ],
        ))
    }
}

impl fmt::Debug for NameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NameKey(..)")
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(..)")
    }
}

/// Identity-document types as printed on certificates.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IdDocumentType {
    /// 居民身份证
    ResidentIdCard,
    /// 港澳台居民居住证 / 通行证
    HongKongMacaoTaiwan,
    /// 护照
    Passport,
    /// 外国人永久居留身份证
    ForeignPermanentResident,
}

impl IdDocumentType {
    pub fn code(self) -> &'static str {
        match self {
            IdDocumentType::ResidentIdCard => "resident_id",
            IdDocumentType::HongKongMacaoTaiwan => "hmt",
            IdDocumentType::Passport => "passport",
            IdDocumentType::ForeignPermanentResident => "foreign_permanent",
        }
    }

    pub fn from_code(code: &str) -> Option<IdDocumentType> {
        [
            IdDocumentType::ResidentIdCard,
            IdDocumentType::HongKongMacaoTaiwan,
            IdDocumentType::Passport,
            IdDocumentType::ForeignPermanentResident,
        ]
        .into_iter()
        .find(|kind| kind.code() == code)
    }
}

/// Upper-case ASCII, no white space or hyphens: "5001 0119900101 123x" equals "50010119900101123X".
pub fn normalise_document_number(number: &str) -> String {
    number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Names compare without white space and with the middle dots of transcribed names unified.
pub fn normalise_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '•' | '．' | '・' | '.' => '·',
            other => other,
        })
        .collect()
}

macro_rules! hash_newtype {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(
            Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode,
        )]
        pub struct $name(pub [u8; 32]);

        impl $name {
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            pub fn from_hex(text: &str) -> Option<$name> {
                let bytes = hex::decode(text).ok()?;
                Some($name(bytes.try_into().ok()?))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({}…)", stringify!($name), &self.to_hex()[..12])
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
    };
}
hash_newtype!(SubjectId, "A person's pseudonym on every partner ledger.");
hash_newtype!(
    NameCommitment,
    "A keyed commitment to the holder name on one certificate."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_ignores_formatting_but_not_the_key() {
        let key = PseudonymKey::from_bytes([7; 32]);
        let a = key.subject(IdDocumentType::ResidentIdCard, "500101199001011234 x");
        let b = key.subject(IdDocumentType::ResidentIdCard, "5001011990010112-34X");
        assert_eq!(a, b);
        let other_key = PseudonymKey::from_bytes([8; 32]);
        assert_ne!(
            a,
            other_key.subject(IdDocumentType::ResidentIdCard, "500101199001011234X")
        );
        assert_ne!(
            a,
            key.subject(IdDocumentType::Passport, "500101199001011234X")
        );
    }

    #[test]
    fn name_commitment_is_bound_to_the_certificate() {
        let key = PseudonymKey::from_bytes([7; 32]);
        let a = key.commit_name("S000050000123243000017", "张 三");
        assert_eq!(a, key.commit_name("S000050000123243000017", "张三"));
        assert_ne!(a, key.commit_name("S000050000123243000018", "张三"));
        assert_ne!(a, key.commit_name("S000050000123243000017", "张四"));
    }

    #[test]
    fn a_commitment_written_before_name_keys_still_matches_its_name() {
        // given a commitment in the form ledgers wrote before name keys
        let key = PseudonymKey::from_bytes([7; 32]);
        let number = "S000050000123243000017";
        let old = key.commit_name_v1(number, "张三");
        // then the name still matches it, another name does not, and new commitments differ
        assert!(key.name_matches(number, " 张 三 ", &old));
        assert!(!key.name_matches(number, "张四", &old));
        assert_ne!(old, key.commit_name(number, "张三"));
        assert!(key.name_matches(number, "张三", &key.commit_name(number, "张三")));
        // and a name key does not open it: such a bundle cannot bind its holder
        assert_ne!(key.name_key(number).commit(number, "张三"), old);
    }

    #[test]
    fn golden_subject_vector() {
        // Pinned: partners must derive the same subject forever (docs/formats.md (part 3)).
        let key = PseudonymKey::from_bytes([0x11; 32]);
        let subject = key.subject(IdDocumentType::ResidentIdCard, "11010519491231002X");
        assert_eq!(subject.to_hex(), GOLDEN_SUBJECT_HEX);
    }

    const GOLDEN_SUBJECT_HEX: &str =
        "5d7dd90e1a892e5bff6cc95483c0c2304f7f0a7279f11419eb626c5b5586d470";
}
