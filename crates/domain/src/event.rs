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

    /// The id every comparison of the foreign document `document_id` of `certificate_type`
    /// carries: the first 16 bytes of SHA-256(`"skill-ledger/foreign-document/v1\n"` ‖ type ‖
    /// `"\n"` ‖ document id). So a foreign certificate is recognised at most once per ledger:
    /// a second comparison of it reuses the id and is refused.
    pub fn foreign_document(certificate_type: &str, document_id: &str) -> EventId {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"skill-ledger/foreign-document/v1\n");
        hasher.update(certificate_type.as_bytes());
        hasher.update(b"\n");
        hasher.update(document_id.as_bytes());
        let digest = hasher.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        EventId(id)
    }

    /// The id of the withdrawal of the recognition `recognition` for its origin's revocation:
    /// the first 16 bytes of SHA-256(`"skill-ledger/recognition-withdrawal/v1\n"` ‖ the
    /// recognition's id). Derived, so every node (and every restart) names it alike.
    pub fn withdrawal_of(recognition: &EventId) -> EventId {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"skill-ledger/recognition-withdrawal/v1\n");
        hasher.update(recognition.0);
        let digest = hasher.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        EventId(id)
    }
}

/// Who signed an event.
#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub enum Signer {
    /// The ledger authority (人力社保部门) that runs this ledger.
    Authority,
    /// A registered evaluation body.
    Body(RegistrationNumber),
    /// The authority's offline recovery key (`AuthorityRecoveryKeySet`). It signs only an
    /// `AuthorityKeyRotated` that replaces a lost or stolen authority key, and the
    /// `AuthorityRecoveryKeySet` that replaces it. Appended, so the tags above keep their values.
    Recovery,
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
    // Issue 5 (every route up the ladder): appended, so the tags above keep their values.
    ContestRegistered(ContestRegistered),
    ContestResultRecorded(ContestResultRecorded),
    ApprenticeshipStarted(ApprenticeshipStarted),
    ApprenticeshipCompleted(ApprenticeshipCompleted),
    AppointmentRightGranted(AppointmentRightGranted),
    AppointmentMade(AppointmentMade),
    AppointmentEnded(AppointmentEnded),
    TitleRecorded(TitleRecorded),
    TitleEligibilityGranted(TitleEligibilityGranted),
    // Issue 6 (川渝 互认): appended, so every tag above keeps its value.
    RecognitionRecorded(RecognitionRecorded),
    RecognitionWithdrawn(RecognitionWithdrawn),
    ContestJoined(ContestJoined),
    PartnerContestResultAccepted(PartnerContestResultAccepted),
    // Key compromise: appended, so every tag above keeps its value.
    BodyKeyRevoked(BodyKeyRevoked),
    // The authority key's rotation and recovery: appended, so every tag above keeps its value.
    AuthorityRecoveryKeySet(AuthorityRecoveryKeySet),
    AuthorityKeyRotated(AuthorityKeyRotated),
    // W3C Verifiable Credentials: appended, so every tag above keeps its value.
    VcIssuerKeySet(VcIssuerKeySet),
    // Every credential kind the policy names (issue 19): appended, so every tag above keeps
    // its value. (A 职业资格证书 is a `LevelCertified` with a Q-series number.)
    SpecialAbilityCertified(SpecialAbilityCertified),
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
            EventKind::ContestRegistered(_) => "contest_registered",
            EventKind::ContestResultRecorded(_) => "contest_result_recorded",
            EventKind::ApprenticeshipStarted(_) => "apprenticeship_started",
            EventKind::ApprenticeshipCompleted(_) => "apprenticeship_completed",
            EventKind::AppointmentRightGranted(_) => "appointment_right_granted",
            EventKind::AppointmentMade(_) => "appointment_made",
            EventKind::AppointmentEnded(_) => "appointment_ended",
            EventKind::TitleRecorded(_) => "title_recorded",
            EventKind::TitleEligibilityGranted(_) => "title_eligibility_granted",
            EventKind::RecognitionRecorded(_) => "recognition_recorded",
            EventKind::RecognitionWithdrawn(_) => "recognition_withdrawn",
            EventKind::ContestJoined(_) => "contest_joined",
            EventKind::PartnerContestResultAccepted(_) => "partner_contest_result_accepted",
            EventKind::BodyKeyRevoked(_) => "body_key_revoked",
            EventKind::AuthorityRecoveryKeySet(_) => "authority_recovery_key_set",
            EventKind::AuthorityKeyRotated(_) => "authority_key_rotated",
            EventKind::VcIssuerKeySet(_) => "vc_issuer_key_set",
            EventKind::SpecialAbilityCertified(_) => "special_ability_certified",
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
            EventKind::ContestRegistered(event) => event.date,
            EventKind::ContestResultRecorded(event) => event.date,
            EventKind::ApprenticeshipStarted(event) => event.started,
            EventKind::ApprenticeshipCompleted(event) => event.completed,
            EventKind::AppointmentRightGranted(event) => event.effective,
            EventKind::AppointmentMade(event) => event.term_start,
            EventKind::AppointmentEnded(event) => event.effective,
            EventKind::TitleRecorded(event) => event.obtained,
            EventKind::TitleEligibilityGranted(event) => event.date,
            EventKind::RecognitionRecorded(event) => event.date,
            EventKind::RecognitionWithdrawn(event) => event.effective,
            EventKind::ContestJoined(event) => event.date,
            EventKind::PartnerContestResultAccepted(event) => event.date,
            EventKind::BodyKeyRevoked(event) => event.date,
            EventKind::AuthorityRecoveryKeySet(event) => event.date,
            EventKind::AuthorityKeyRotated(event) => event.date,
            EventKind::VcIssuerKeySet(event) => event.date,
            EventKind::SpecialAbilityCertified(event) => event.issued,
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

/// The authority's offline recovery key. The first is signed by the authority key (at
/// `init`, right after the ledger is established); a later one replaces it and must be
/// signed by the recovery key in force (`Signer::Recovery`), so a thief of the authority key
/// cannot replace the recovery key.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct AuthorityRecoveryKeySet {
    pub public_key: [u8; 32],
    pub date: Date,
}

/// A new authority key. Signed by the authority key in force (a planned rotation) or by the
/// recovery key (`Signer::Recovery`: the authority key was lost or stolen). From the entry that
/// logs it, only the new key signs the authority's events, whatever date they carry, and
/// the ledger's checkpoints (during a planned rotation the node signs its checkpoints with
/// both keys for a while, so those who know only the old key can follow).
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct AuthorityKeyRotated {
    pub public_key: [u8; 32],
    pub date: Date,
    pub reason: String,
}

/// The key with which the authority signs the W3C Verifiable Credentials it exports, and the
/// id of its controller document (an http(s) URL under the node's public base URL, did:web
/// style). Signed by the authority key in force. A later one replaces it: VCs are signed with
/// the last one logged, and the controller document lists every one (so VCs signed before a
/// rotation keep verifying), which is how a verifier that trusts only the ledger's checkpoint
/// key ties a VC's key to the ledger: this entry and its inclusion proof.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct VcIssuerKeySet {
    pub controller: String,
    pub public_key: [u8; 32],
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

/// A body key declared compromised by the authority. From the entry that logs this on, the
/// ledger refuses every event signed with that key, whatever date the event carries: the key
/// is judged at log position as well as at the event's date, so a thief cannot backdate
/// around it. What the key signed before stays as it is until revoked (`skill-ledger
/// revoke-key` revokes the credentials it signed from a given entry on, in one batch).
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct BodyKeyRevoked {
    pub registration_number: RegistrationNumber,
    pub public_key: [u8; 32],
    /// The day the authority records the revocation.
    pub date: Date,
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
    /// 竞赛晋升: promotion for a contest result (the id of its `ContestResultRecorded` event),
    /// as far as the policy's promotion table allows.
    Contest { result: EventId },
    /// 贯通: a skill level from a professional title (the id of its `TitleRecorded` event),
    /// per the policy's conversion table and occupation mapping.
    Conversion { title: EventId },
    /// 境外技能证书比照认定: a foreign certificate recognised as a level per the comparison
    /// catalogue of the policy version named. Appended, so the tags above keep their values.
    ForeignComparison(ForeignComparisonBasis),
}

/// The foreign certificate a comparison recognises, and the catalogue it was compared by.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct ForeignComparisonBasis {
    /// The version of the policy whose `[[foreign_comparison]]` table was applied; it must be
    /// the version in force at the issue date.
    pub catalogue_version: u32,
    /// The catalogue row's `certificate_type`.
    pub certificate_type: String,
    /// Who issued the foreign certificate (e.g. "IHK München und Oberbayern").
    pub foreign_issuer: String,
    /// The foreign certificate's own number. One foreign document is recognised once per
    /// ledger: the event's id must be [`EventId::foreign_document`] of the type and number.
    pub document_id: String,
}

impl ForeignComparisonBasis {
    /// The id every comparison of this document carries ([`EventId::foreign_document`]).
    pub fn event_id(&self) -> EventId {
        EventId::foreign_document(&self.certificate_type, &self.document_id)
    }
}

impl Route {
    /// For a foreign comparison, the event id its document fixes; `None` for the other routes
    /// (whose ids the submitter chooses).
    pub fn foreign_document_id(&self) -> Option<EventId> {
        match self {
            Route::ForeignComparison(basis) => Some(basis.event_id()),
            _ => None,
        }
    }

    pub fn id(&self) -> &'static str {
        match self {
            Route::Evaluation(_) => "evaluation",
            Route::DirectRecognition { .. } => "direct",
            Route::Contest { .. } => "contest",
            Route::Conversion { .. } => "conversion",
            Route::ForeignComparison(_) => "foreign-comparison",
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
    /// A completed enterprise apprenticeship (the id of its `ApprenticeshipStarted` event) in
    /// the same occupation: counts toward the first level (policy `apprenticeship.level_max`).
    Apprenticeship { apprenticeship: EventId },
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

/// A 专项职业能力证书 (special vocational ability) issued by a body and signed by it: a named
/// ability of the policy under an occupation, without a level. Its number is of the Z series.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct SpecialAbilityCertified {
    pub certificate_number: CertificateNumber,
    pub subject: SubjectId,
    pub name_commitment: NameCommitment,
    pub occupation: OccupationCode,
    /// The policy's `[[special_ability]]` code.
    pub ability: String,
    pub issued: Date,
}

/// Revocation of a credential (of any kind) by its issuer or by the authority.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct CredentialRevoked {
    pub certificate_number: CertificateNumber,
    pub effective: Date,
    pub reason: String,
}

/// The tier of a contest (竞赛级别), which the policy's promotion table is keyed by.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, bincode::Encode, bincode::Decode,
)]
pub enum ContestTier {
    /// 世界技能大赛 and other world contests.
    World,
    /// 国家级 (一类/二类) contests.
    National,
    /// 省级一类.
    ProvincialClass1,
    /// 省级二类.
    ProvincialClass2,
    /// 市级.
    City,
    /// 企业/行业 contests.
    Enterprise,
}

impl ContestTier {
    pub const ALL: [ContestTier; 6] = [
        ContestTier::World,
        ContestTier::National,
        ContestTier::ProvincialClass1,
        ContestTier::ProvincialClass2,
        ContestTier::City,
        ContestTier::Enterprise,
    ];

    pub fn id(self) -> &'static str {
        match self {
            ContestTier::World => "world",
            ContestTier::National => "national",
            ContestTier::ProvincialClass1 => "provincial_1",
            ContestTier::ProvincialClass2 => "provincial_2",
            ContestTier::City => "city",
            ContestTier::Enterprise => "enterprise",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            ContestTier::World => "世界级",
            ContestTier::National => "国家级",
            ContestTier::ProvincialClass1 => "省级一类",
            ContestTier::ProvincialClass2 => "省级二类",
            ContestTier::City => "市级",
            ContestTier::Enterprise => "企业级",
        }
    }

    pub fn from_id(id: &str) -> Option<ContestTier> {
        ContestTier::ALL
            .into_iter()
            .find(|tier| tier.id() == id || tier.name_zh() == id)
    }
}

impl serde::Serialize for ContestTier {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for ContestTier {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ContestTier::from_id(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{text}' is not a contest tier (world, national, provincial_1, provincial_2, city, enterprise)"
            ))
        })
    }
}

/// A contest registered by the authority (赛项); results name it by this event's id.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct ContestRegistered {
    pub name: String,
    pub tier: ContestTier,
    pub occupations: Vec<OccupationCode>,
    /// The day the contest (its final) was held.
    pub date: Date,
}

/// One person's result in a registered contest, recorded by the authority.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct ContestResultRecorded {
    /// The id of the `ContestRegistered` event.
    pub contest: EventId,
    pub subject: SubjectId,
    pub occupation: OccupationCode,
    /// Placing, 1 for first; the promotion table compares it with `rank_max`.
    pub rank: u16,
    /// The award as announced (金牌, 一等奖, 优胜奖, ...).
    pub award: String,
    pub date: Date,
}

/// An enterprise apprenticeship (企业新型学徒制) begins; the completion names this event.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct ApprenticeshipStarted {
    pub subject: SubjectId,
    pub occupation: OccupationCode,
    pub started: Date,
}

/// The apprenticeship begun by `apprenticeship` (its start event's id) is completed.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct ApprenticeshipCompleted {
    pub apprenticeship: EventId,
    pub subject: SubjectId,
    pub completed: Date,
}

/// The authority grants an enterprise body the right to appoint (评聘) to the post levels
/// listed (特级技师, 首席技师), from `effective`. A later grant replaces the levels from its date.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct AppointmentRightGranted {
    pub registration_number: RegistrationNumber,
    pub levels: Vec<Level>,
    pub effective: Date,
}

/// What an appointment builds on.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub enum AppointmentBasis {
    /// A 高级技师 credential (for 特级技师).
    Credential(CertificateNumber),
    /// A current 特级技师 appointment (the id of its `AppointmentMade` event), for 首席技师.
    Appointment(EventId),
}

/// Appointment (评聘) to a post level by an enterprise with that right, for a term.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct AppointmentMade {
    pub subject: SubjectId,
    pub occupation: OccupationCode,
    /// 特级技师 or 首席技师.
    pub level: Level,
    pub term_start: Date,
    pub term_end: Date,
    pub basis: AppointmentBasis,
    /// The review board's decision and public notice (评审, 公示), as recorded.
    pub review: String,
}

/// Why an appointment ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub enum AppointmentEndReason {
    /// 聘期届满: the term is over.
    TermOver,
    /// 离岗: the person left the post.
    LeftPost,
    /// 解聘: dismissed.
    Dismissed,
}

impl AppointmentEndReason {
    pub fn id(self) -> &'static str {
        match self {
            AppointmentEndReason::TermOver => "term_over",
            AppointmentEndReason::LeftPost => "left_post",
            AppointmentEndReason::Dismissed => "dismissed",
        }
    }
}

/// The appointment made by `appointment` (its event id) ends, by its body or the authority.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct AppointmentEnded {
    pub appointment: EventId,
    pub subject: SubjectId,
    pub effective: Date,
    pub reason: AppointmentEndReason,
    pub note: String,
}

/// A professional title level (职称) of the engineering series.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, bincode::Encode, bincode::Decode,
)]
pub enum TitleLevel {
    /// 助理工程师 (初级).
    Assistant,
    /// 工程师 (中级).
    Intermediate,
    /// 高级工程师 (副高).
    Associate,
    /// 正高级工程师 (正高).
    Full,
}

impl TitleLevel {
    pub const ALL: [TitleLevel; 4] = [
        TitleLevel::Assistant,
        TitleLevel::Intermediate,
        TitleLevel::Associate,
        TitleLevel::Full,
    ];

    pub fn id(self) -> &'static str {
        match self {
            TitleLevel::Assistant => "assistant_engineer",
            TitleLevel::Intermediate => "engineer",
            TitleLevel::Associate => "senior_engineer",
            TitleLevel::Full => "professor_engineer",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            TitleLevel::Assistant => "助理工程师",
            TitleLevel::Intermediate => "工程师",
            TitleLevel::Associate => "高级工程师",
            TitleLevel::Full => "正高级工程师",
        }
    }

    pub fn from_id(text: &str) -> Option<TitleLevel> {
        TitleLevel::ALL
            .into_iter()
            .find(|title| title.id() == text.trim() || title.name_zh() == text.trim())
    }
}

impl serde::Serialize for TitleLevel {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for TitleLevel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TitleLevel::from_id(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{text}' is not a title (assistant_engineer, engineer, senior_engineer, professor_engineer)"
            ))
        })
    }
}

/// A professional title (职称) held, recorded by the authority.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct TitleRecorded {
    pub subject: SubjectId,
    pub title: TitleLevel,
    /// 系列, e.g. 工程技术.
    pub series: String,
    /// 专业, e.g. 机械工程: the policy's occupation mapping is keyed by it.
    pub field: String,
    pub obtained: Date,
}

/// 贯通, skill to title: the right to be evaluated for `title` in `field`, granted by the
/// authority on the basis of a skill credential, per the policy's conversion table.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct TitleEligibilityGranted {
    pub subject: SubjectId,
    pub basis: CertificateNumber,
    pub title: TitleLevel,
    pub series: String,
    pub field: String,
    pub date: Date,
}

/// 互认: the home authority recognises a credential of a partner ledger (`origin`), naming
/// the partner's entry that certified it (`entry_index`, and its RFC 6962 `leaf_hash`) so
/// anyone holding the partner's log can check what was recognised. `occupation` is the home
/// occupation the credential counts in: the partner's own unless the policy's
/// `[recognition]` mapping names another.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct RecognitionRecorded {
    pub origin: String,
    pub entry_index: u64,
    pub leaf_hash: [u8; 32],
    pub certificate_number: CertificateNumber,
    pub subject: SubjectId,
    pub level: Level,
    pub partner_occupation: OccupationCode,
    pub occupation: OccupationCode,
    /// The issue date at the origin: years after a level count from it.
    pub issued: Date,
    /// The day of the recognition.
    pub date: Date,
}

/// Why a recognition was withdrawn.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub enum WithdrawalReason {
    /// The origin revoked the credential, by its entry `revocation_index`.
    OriginRevoked { revocation_index: u64 },
    /// The home authority decided so, for the reason given.
    AuthorityDecision { reason: String },
}

impl WithdrawalReason {
    pub fn id(&self) -> &'static str {
        match self {
            WithdrawalReason::OriginRevoked { .. } => "origin_revoked",
            WithdrawalReason::AuthorityDecision { .. } => "authority_decision",
        }
    }
}

/// The recognition recorded by `recognition` (its event id) is withdrawn by the home
/// authority. A withdrawal for an origin's revocation carries the event id
/// [`EventId::withdrawal_of`] the recognition, so a node that submits it again (after a
/// restart) gets a duplicate, not a second withdrawal.
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct RecognitionWithdrawn {
    pub recognition: EventId,
    pub subject: SubjectId,
    pub effective: Date,
    pub reason: WithdrawalReason,
}

/// 赛项共定: the home authority declares its registered contest `contest` joint with the
/// partner `partner_origin`'s contest `partner_contest` (the id of the partner's
/// `ContestRegistered`). Each authority records it on its own ledger; results of either side
/// may then be accepted by the other ([`PartnerContestResultAccepted`]).
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct ContestJoined {
    pub contest: EventId,
    pub partner_origin: String,
    pub partner_contest: EventId,
    pub date: Date,
}

/// 结果互认: a result recorded on the partner ledger (its `ContestResultRecorded`
/// `partner_result`, at its entry `entry_index`) in the partner's side of the joint contest is
/// accepted on the home ledger as a result in the home contest `contest`, so the home
/// promotion table applies to it (a credential by `Route::Contest` names this event's id).
#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub struct PartnerContestResultAccepted {
    pub contest: EventId,
    pub origin: String,
    pub partner_result: EventId,
    pub entry_index: u64,
    pub subject: SubjectId,
    pub occupation: OccupationCode,
    pub rank: u16,
    pub award: String,
    pub date: Date,
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
