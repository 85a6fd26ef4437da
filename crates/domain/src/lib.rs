//! # skill-ledger-domain: the rules of skill credentials
//!
//! This crate is the part of skill-ledger that knows what a vocational skill credential is and
//! when one may be issued. It holds the eight-level ladder ([`Level`]), occupation codes and
//! the catalogue ([`OccupationCode`], [`Catalogue`]), evaluation bodies and their registration
//! numbers ([`RegistrationNumber`], [`BodyRecord`]), certificate numbers per 人社鉴发〔2019〕2号
//! ([`CertificateNumber`]), pseudonyms ([`PseudonymKey`], [`SubjectId`]), the events of a
//! ledger ([`Event`], [`SignedEvent`]), the policy ([`Policy`]), and the two functions every
//! node is built around:
//!
//! * [`decide`]`(registry, records, event) -> Result<(), Rejection>`: may this event join the
//!   log after everything before it? Each rule has its own [`Rejection`] variant.
//! * [`apply`]`(registry, records, event, index) -> Changes`: what an accepted event changes in
//!   the projections. A node's state is the fold of `apply` over its log.
//!
//! ## The key decision: no I/O, no clock
//! Nothing here reads a file, a socket or the time. Every date a rule needs is a field of the
//! event (issue date, effective date), and the policy that judges an event is the one in force
//! at *that* date. So replaying a log always gives the same decisions and the same state,
//! whichever machine does it and however much later. The large records (credentials, persons)
//! are read through the [`RecordView`] trait, so a node can keep them in an embedded database
//! while tests use [`MemoryLedger`].
//!
//! ## Where the rules live
//! `events/` holds one module per kind of event (or small family), each with the kind's
//! checks for `decide` next to its step of `apply`; `events/mod.rs` holds the two functions
//! themselves, as dispatch tables over [`EventKind`]. What the kinds share sits beside it and
//! never imports an event module: `guards.rs` (signers, text and size limits, lookups),
//! `changes.rs` ([`Changes`], [`StatKey`]), `careers.rs` (the basis of a holding, the
//! revocation cascade, [`current_levels`], [`next_steps`]). `admission.rs` holds the checks a
//! node runs with its own clock before `decide` ([`check_not_dated_in_future`],
//! [`check_not_backdated`]).
//!
//! ## Example
//! ```
//! use skill_ledger_domain::{CertificateNumber, Level};
//!
//! let number: CertificateNumber = "S000050000123243000017".parse().unwrap();
//! assert_eq!(number.level_number(), 3);
//! assert_eq!(Level::from_national_number(3), Some(Level::Senior));
//! assert_eq!(number.registration_number().as_str(), "S000050000123");
//! ```

mod admission;
mod batch_verify;
mod careers;
mod changes;
mod date;
mod event;
mod events;
mod guards;
mod holder;
mod ids;
mod ladder;
mod memory;
mod occupation;
mod offline;
mod policy;
mod pseudonym_request;
mod rejection;
mod rejection_zh;
mod state;
mod subject;

pub use admission::{check_not_backdated, check_not_dated_in_future, FUTURE_DATE_TOLERANCE_DAYS};
pub use batch_verify::{
    verify_batch_grouped, verify_each, verify_signed, verify_signed_on, KeyCache, SignedBytes,
};
pub use careers::{current_levels, next_steps, NextStep};
pub use changes::{stat, Changes, RegistryChange, StatKey};
pub use date::{Date, DateParseError};
pub use event::{
    encode_event, signing_message, AppointmentBasis, AppointmentEndReason, AppointmentEnded,
    AppointmentMade, AppointmentRightGranted, ApprenticeshipCompleted, ApprenticeshipStarted,
    Audience, AuthorityKeyRotated, AuthorityRecoveryKeySet, BodyKeyRevoked, BodyKeyRotated,
    BodyRegistered, BodyStatusChange, CatalogueAdopted, ContestJoined, ContestRegistered,
    ContestResultRecorded, ContestTier, CredentialRevoked, EntryError, EvaluationBasis, Event,
    EventId, EventKind, ForeignComparisonBasis, LedgerEstablished, LevelCertified,
    PartnerContestResultAccepted, PolicyAdopted, RecognitionRecorded, RecognitionWithdrawn, Route,
    ScopeItem, SignedEvent, Signer, SpecialAbilityCertified, TitleEligibilityGranted, TitleLevel,
    TitleRecorded, VcIssuerKeySet, WithdrawalReason, BINCODE_CONFIG, ENTRY_BYTES_MAX,
    ENTRY_FORMAT_VERSION, SIGNING_CONTEXT,
};
pub use events::{apply, check_certification_by_body, decide, reused_event_id};
pub use guards::{
    CONTROLLER_ID_CHARS_MAX, DOCUMENT_BYTES_MAX, NAME_CHARS_MAX, SCOPE_ITEMS_MAX, TEXT_CHARS_MAX,
};
pub use holder::{
    check_document_number, check_holder_name, DocumentNumberError, DocumentNumberErrorKind,
    HolderNameError, DOCUMENT_NUMBER_CHARS_MAX, DOCUMENT_NUMBER_CHARS_MIN, HOLDER_NAME_CHARS_MAX,
    RESIDENT_ID_CHARS,
};
pub use ids::{
    BodyKind, CertificateNumber, CredentialKind, IdParseError, Province, RegistrationNumber,
};
pub use ladder::{Level, LevelParseError};
pub use memory::MemoryLedger;
pub use occupation::{
    Catalogue, CatalogueError, Occupation, OccupationCode, OccupationCodeParseError,
    SAMPLE_CATALOGUE_TOML,
};
pub use offline::{
    check_authority_chain_offline, check_credential_offline, check_holder_offline,
    check_status_offline, BundleRole, OfflineCredential, OfflineError, OfflineStatus, ProvenEvent,
    StatedStatus, StatusNoteError, StatusStatement, TrustedKey, STATUS_NOTE_HEADER,
    STATUS_NOTE_LABEL,
};
pub use policy::{
    AppointmentPolicy, ApprenticeshipPolicy, ContestPolicy, ContestPromotion, ConversionPolicy,
    ForeignComparison, OccupationMapping, Policy, PolicyError, QualificationOccupation,
    QualificationPolicy, RecognitionMapping, RecognitionPolicy, SkillToTitle, SpecialAbility,
    TitleToSkill, DEFAULT_POLICY_TOML,
};
pub use pseudonym_request::{
    pseudonym_request_message, sign_pseudonym_request, verify_pseudonym_request, PseudonymItemText,
    PSEUDONYM_REQUEST_CONTEXT,
};
pub use rejection::Rejection;
pub use rejection_zh::{rejection_message_zh, REJECTION_MESSAGES_ZH};
pub use state::{
    key_at, AppointmentRecord, AppointmentRight, ApprenticeshipRecord, BodyRecord, BodyStatus,
    CareerRecord, ContestRecord, ContestResultRecord, CredentialRecord, CredentialStatus,
    EligibilityRecord, Holding, KeyPeriod, LedgerInfo, PersonRecord, PolicyVersion,
    RecognitionRecord, RecognitionWithdrawal, RecordView, Registry, RevokedKey, RightPeriod,
    RouteKind, SpecialAbilityRecord, StatusChange, TitleRecord, VcIssuerKey,
};
pub use subject::{
    normalise_document_number, normalise_name, IdDocumentType, NameCommitment, NameKey,
    PseudonymKey, SubjectId,
};
