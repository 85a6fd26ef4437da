//! Events, their signatures and the entry bytes the log stores.
//!
//! ## Entry layout (format version 1)
//! ```text
//! u8  format version = 1
//! Signer                (bincode: u32 tag; Body adds the 13-byte registration number)
//! [u8; 32] public key   (the signer's Ed25519 key)
//! [u8; 64] signature    (Ed25519 over the signing message below)
//! Event                 (bincode, the rest of the entry)
//! ```
//! Signing message: `"skill-ledger/event/v1\n" ‖ origin ‖ "\n" ‖ bincode(Event)`. The message
//! names the ledger origin and the encoding version, so an event signed for one ledger cannot
//! be replayed into another, and a future encoding cannot be confused with this one.
//!
//! bincode configuration: little-endian, fixed-width integers, 64 KiB limit (see
//! [`BINCODE_CONFIG`]). Variant order of every enum here is part of the format: new variants
//! are appended, existing ones never change their fields.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::date::Date;
use crate::ids::{CertificateNumber, Province, RegistrationNumber};
use crate::ladder::Level;
use crate::occupation::OccupationCode;
use crate::subject::{NameCommitment, SubjectId};

/// The entry format version written as the first byte of every entry.
pub const ENTRY_FORMAT_VERSION: u8 = 1;
/// The largest entry the log accepts (fits a C2SP entry-bundle length).
pub const ENTRY_BYTES_MAX: usize = 65_535;
/// Prefix of every signing message.
pub const SIGNING_CONTEXT: &[u8] = b"skill-ledger/event/v1\n";

/// bincode configuration for everything signed or stored: pinned, documented in docs/formats.md.
pub const BINCODE_CONFIG: bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Fixint,
    bincode::config::Limit<ENTRY_BYTES_MAX>,
> = bincode::config::standard()
    .with_little_endian()
    .with_fixed_int_encoding()
    .with_limit::<ENTRY_BYTES_MAX>();

/// A unique event id chosen by the submitter (16 random bytes): resubmitting the same event
/// is idempotent, and a different event under a used id is refused.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, bincode::Encode, bincode::Decode,
)]
pub struct EventId(pub [u8; 16]);

impl EventId {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<EventId> {
        Some(EventId(hex::decode(text).ok()?.try_into().ok()?))
    }
}

/// Who signed an event.
#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub enum Signer {
    /// The ledger authority (人力社保部门) that runs this ledger.
    Authority,
    /// A registered evaluation body.
    Body(RegistrationNumber),
}

/// An event: an id plus what happened. The variant order is part of the format.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct Event {
    pub id: EventId,
    pub kind: EventKind,
}

/// Everything that can happen on a ledger, format version 1.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub enum EventKind {
    LedgerEstablished(LedgerEstablished),
    CatalogueAdopted(CatalogueAdopted),
    PolicyAdopted(PolicyAdopted),
    BodyRegistered(BodyRegistered),
    BodyKeyRotated(BodyKeyRotated),
    BodySuspended(BodyStatusChange),
    BodyReinstated(BodyStatusChange),
    BodyCancelled(BodyStatusChange),
    LevelCertified(LevelCertified),
    CredentialRevoked(CredentialRevoked),
}

impl EventKind {
    /// A stable name for logs, metrics and statistics.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::LedgerEstablished(_) => "ledger_established",
            EventKind::CatalogueAdopted(_) => "catalogue_adopted",
            EventKind::PolicyAdopted(_) => "policy_adopted",
            EventKind::BodyRegistered(_) => "body_registered",
            EventKind::BodyKeyRotated(_) => "body_key_rotated",
            EventKind::BodySuspended(_) => "body_suspended",
            EventKind::BodyReinstated(_) => "body_reinstated",
            EventKind::BodyCancelled(_) => "body_cancelled",
            EventKind::LevelCertified(_) => "level_certified",
            EventKind::CredentialRevoked(_) => "credential_revoked",
        }
    }

    /// The date the event takes effect: what the rules in force are judged by.
    pub fn date(&self) -> Date {
        match self {
            EventKind::LedgerEstablished(event) => event.date,
            EventKind::CatalogueAdopted(event) => event.date,
            EventKind::PolicyAdopted(event) => event.date,
            EventKind::BodyRegistered(event) => event.date,
            EventKind::BodyKeyRotated(event) => event.effective,
            EventKind::BodySuspended(event)
            | EventKind::BodyReinstated(event)
            | EventKind::BodyCancelled(event) => event.effective,
            EventKind::LevelCertified(event) => event.issued,
            EventKind::CredentialRevoked(event) => event.effective,
        }
    }
}

/// Entry 0 of every ledger: who runs it, self-signed by the authority key.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct LedgerEstablished {
    pub origin: String,
    pub province: Province,
    pub authority_name: String,
    pub authority_key: [u8; 32],
    pub date: Date,
}

/// The occupation catalogue in force from now on (TOML text as signed).
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct CatalogueAdopted {
    pub source_toml: String,
    pub date: Date,
}

/// A policy version; its own `effective` date (inside the TOML) says from when it applies.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct PolicyAdopted {
    pub source_toml: String,
    pub date: Date,
}

/// Whom a body may evaluate.
#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub enum Audience {
    OwnStaff,
    OwnStudents,
    Public,
}

impl Audience {
    pub fn id(self) -> &'static str {
        match self {
            Audience::OwnStaff => "staff",
            Audience::OwnStudents => "students",
            Audience::Public => "public",
        }
    }

    pub fn from_id(id: &str) -> Option<Audience> {
        match id {
            "staff" => Some(Audience::OwnStaff),
            "students" => Some(Audience::OwnStudents),
            "public" => Some(Audience::Public),
            _ => None,
        }
    }
}

/// One occupation of a body's scope and the highest level it may certify in it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct ScopeItem {
    pub occupation: OccupationCode,
    pub level_max: Level,
}

/// Registration (备案) of an evaluation body by the authority.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct BodyRegistered {
    pub registration_number: RegistrationNumber,
    pub name: String,
    pub public_key: [u8; 32],
    pub valid_from: Date,
    pub valid_until: Date,
    pub audience: Audience,
    pub scope: Vec<ScopeItem>,
    /// Whether the body holds the right of direct recognition (enterprises only, per policy).
    pub direct_recognition: bool,
    pub date: Date,
}

/// A new signing key for a body, valid from `effective`; the old key is invalid from then on.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct BodyKeyRotated {
    pub registration_number: RegistrationNumber,
    pub public_key: [u8; 32],
    pub effective: Date,
    pub reason: String,
}

/// Suspension, reinstatement or cancellation of a body (动态调整).
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct BodyStatusChange {
    pub registration_number: RegistrationNumber,
    pub effective: Date,
    pub reason: String,
}

/// How a level was obtained.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub enum Route {
    /// 评价考核: evaluation, building on a level held or on an attested basis.
    Evaluation(EvaluationBasis),
    /// 直接认定: direct recognition by an enterprise, with its recorded justification.
    DirectRecognition { justification: String },
}

impl Route {
    pub fn id(&self) -> &'static str {
        match self {
            Route::Evaluation(_) => "evaluation",
            Route::DirectRecognition { .. } => "direct",
        }
    }
}

/// What an evaluation builds on.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub enum EvaluationBasis {
    /// The level directly below, held on this ledger in the same occupation.
    PriorLevel,
    /// A basis the body attests and keeps on file (diploma, years in the occupation).
    Attested { statement: String },
}

/// A credential (职业技能等级证书) issued by a body and signed by it.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct LevelCertified {
    pub certificate_number: CertificateNumber,
    pub subject: SubjectId,
    pub name_commitment: NameCommitment,
    pub occupation: OccupationCode,
    pub work_type: Option<String>,
    pub level: Level,
    pub issued: Date,
    pub route: Route,
}

/// Revocation of a credential by its issuer or by the authority.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct CredentialRevoked {
    pub certificate_number: CertificateNumber,
    pub effective: Date,
    pub reason: String,
}

/// An event with its signer and signature: what a submitter sends and an entry holds.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedEvent {
    pub signer: Signer,
    pub public_key: [u8; 32],
    pub signature: [u8; 64],
    pub event: Event,
}

/// Why bytes are not an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("entry is empty")]
    Empty,
    #[error("entry format version {0} is not supported (this build reads version 1)")]
    UnsupportedVersion(u8),
    #[error("entry does not decode: {0}")]
    Decode(String),
    #[error("entry has {0} trailing bytes after the event")]
    TrailingBytes(usize),
    #[error("entry is {0} bytes, over the {ENTRY_BYTES_MAX}-byte limit")]
    TooLarge(usize),
}

/// Encodes the event alone: the part the signature covers.
pub fn encode_event(event: &Event) -> Vec<u8> {
    match bincode::encode_to_vec(event, BINCODE_CONFIG) {
        Ok(bytes) => bytes,
        // Only the size limit can fail; events are bounded by field limits far below it.
        Err(error) => panic!("event encoding failed: {error}"),
    }
}

/// The exact message a signer signs for `origin`.
pub fn signing_message(origin: &str, event_bytes: &[u8]) -> Vec<u8> {
    let mut message =
        Vec::with_capacity(SIGNING_CONTEXT.len() + origin.len() + 1 + event_bytes.len());
    message.extend_from_slice(SIGNING_CONTEXT);
    message.extend_from_slice(origin.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(event_bytes);
    message
}

impl SignedEvent {
    /// Signs `event` for the ledger `origin`.
    pub fn sign(origin: &str, signer: Signer, key: &SigningKey, event: Event) -> SignedEvent {
        let message = signing_message(origin, &encode_event(&event));
        SignedEvent {
            signer,
            public_key: key.verifying_key().to_bytes(),
            signature: key.sign(&message).to_bytes(),
            event,
        }
    }

    /// Checks the signature alone (strict: rejects weak keys and malleable signatures).
    /// The node checks signatures in batches instead; this is for single checks and bundles.
    pub fn verify_signature(&self, origin: &str) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.public_key) else {
            return false;
        };
        if key.is_weak() {
            return false;
        }
        let message = signing_message(origin, &encode_event(&self.event));
        key.verify_strict(&message, &Signature::from_bytes(&self.signature))
            .is_ok()
    }

    /// The entry bytes (layout in the module documentation).
    pub fn to_entry(&self) -> Result<Vec<u8>, EntryError> {
        self.to_entry_with_offset().map(|(entry, _)| entry)
    }

    /// The entry bytes and the offset where the event (the signed part) starts.
    pub fn to_entry_with_offset(&self) -> Result<(Vec<u8>, usize), EntryError> {
        let mut entry = vec![ENTRY_FORMAT_VERSION];
        let header = (self.signer, self.public_key, self.signature);
        let too_large = |_| EntryError::TooLarge(ENTRY_BYTES_MAX + 1);
        bincode::encode_into_std_write(header, &mut entry, BINCODE_CONFIG).map_err(too_large)?;
        let offset = entry.len();
        bincode::encode_into_std_write(&self.event, &mut entry, BINCODE_CONFIG)
            .map_err(too_large)?;
        if entry.len() > ENTRY_BYTES_MAX {
            return Err(EntryError::TooLarge(entry.len()));
        }
        Ok((entry, offset))
    }

    /// Decodes an entry, refusing unknown versions and trailing bytes. Also returns the byte
    /// offset where the event starts, so the signing message can be built without re-encoding.
    pub fn from_entry_with_offset(entry: &[u8]) -> Result<(SignedEvent, usize), EntryError> {
        let (&version, rest) = entry.split_first().ok_or(EntryError::Empty)?;
        if version != ENTRY_FORMAT_VERSION {
            return Err(EntryError::UnsupportedVersion(version));
        }
        if entry.len() > ENTRY_BYTES_MAX {
            return Err(EntryError::TooLarge(entry.len()));
        }
        let decode_error =
            |error: bincode::error::DecodeError| EntryError::Decode(error.to_string());
        let ((signer, public_key, signature), header_length): (
            (Signer, [u8; 32], [u8; 64]),
            usize,
        ) = bincode::decode_from_slice(rest, BINCODE_CONFIG).map_err(decode_error)?;
        let (event, event_length): (Event, usize) =
            bincode::decode_from_slice(&rest[header_length..], BINCODE_CONFIG)
                .map_err(decode_error)?;
        let trailing = rest.len() - header_length - event_length;
        if trailing != 0 {
            return Err(EntryError::TrailingBytes(trailing));
        }
        Ok((
            SignedEvent {
                signer,
                public_key,
                signature,
                event,
            },
            1 + header_length,
        ))
    }

    pub fn from_entry(entry: &[u8]) -> Result<SignedEvent, EntryError> {
        Self::from_entry_with_offset(entry).map(|(event, _)| event)
    }
}
