//! Typed rejections: one variant per rule, each with a stable code.

use crate::date::Date;
use crate::event::{ContestTier, EventId, Signer, TitleLevel};
use crate::ids::{CertificateNumber, CredentialKind, RegistrationNumber};
use crate::ladder::Level;
use crate::occupation::OccupationCode;
use crate::state::BodyStatus;

/// Why an event was refused. Nothing is written for a rejected event.
///
/// [`Rejection::code`] is stable: the HTTP API uses it as the problem `type` and the CLI
/// prints it, so clients may match on it. New rules add variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    #[error("the ledger is not established: entry 0 must be LedgerEstablished")]
    LedgerNotEstablished,
    #[error("the ledger is already established")]
    LedgerAlreadyEstablished,
    #[error("origin '{found}' does not match this ledger's origin '{expected}'")]
    OriginMismatch { expected: String, found: String },
    #[error("event id {} was already used by entry {first_index} for different content", event_id.to_hex())]
    DuplicateEventId { event_id: EventId, first_index: u64 },
    #[error("the signature does not verify for the ledger origin and the given public key")]
    BadSignature,
    #[error("{event} must be signed by {expected}, not by {found:?}")]
    WrongSigner {
        event: &'static str,
        expected: &'static str,
        found: Signer,
    },
    #[error("public key is weak (small order) and cannot be used")]
    WeakKey,
    #[error("body {registration_number} is not registered on this ledger")]
    UnknownBody {
        registration_number: RegistrationNumber,
    },
    #[error("the key that signed is not the key of {signer} valid at {date}")]
    KeyNotValidAtDate { signer: String, date: Date },
    #[error("the key that signed was declared compromised for {signer} by entry {revoked_by}: nothing signed with it is accepted since")]
    KeyRevoked { signer: String, revoked_by: u64 },
    #[error("the key is not one body {registration_number} ever held")]
    NotABodyKey {
        registration_number: RegistrationNumber,
    },
    #[error("the key was already declared compromised by entry {revoked_by}")]
    KeyAlreadyRevoked { revoked_by: u64 },
    #[error("the key was already {used_as}: an authority key or recovery key is used once")]
    KeyReused { used_as: &'static str },
    #[error("this ledger has no recovery key: an authority key can be recovered only with the recovery key set at init")]
    NoRecoveryKey,
    #[error("this node does not hold the new authority key: rotate with `skill-ledger authority rotate-key` (or `recover`), which makes the key before the rotation is logged")]
    AuthorityKeyNotHeld,
    #[error("body {registration_number} is {} at {date}", status.id())]
    BodyNotActive {
        registration_number: RegistrationNumber,
        status: BodyStatus,
        date: Date,
    },
    #[error("{date} is outside the registration window of {registration_number} ({valid_from} to {valid_until})")]
    OutsideRegistrationWindow {
        registration_number: RegistrationNumber,
        date: Date,
        valid_from: Date,
        valid_until: Date,
    },
    #[error("body {registration_number} may not certify {} in {occupation} (its scope allows {})", level.id(), level_max.map_or("nothing in this occupation", |l| l.id()))]
    OutOfScope {
        registration_number: RegistrationNumber,
        occupation: OccupationCode,
        level: Level,
        level_max: Option<Level>,
    },
    #[error("no occupation catalogue has been adopted")]
    NoCatalogue,
    #[error("occupation {occupation} is not in the catalogue in force")]
    UnknownOccupation { occupation: OccupationCode },
    #[error("work type '{work_type}' is not listed for occupation {occupation}")]
    UnknownWorkType {
        occupation: OccupationCode,
        work_type: String,
    },
    #[error("no policy is in force at {date}")]
    NoPolicyInForce { date: Date },
    #[error("certificate number {certificate_number}: {reason}")]
    BadCertificateNumber {
        certificate_number: String,
        reason: String,
    },
    #[error("certificate number {certificate_number} belongs to body {}, but {signer} signed it", certificate_number.registration_number())]
    CertificateBodyMismatch {
        certificate_number: CertificateNumber,
        signer: RegistrationNumber,
    },
    #[error("certificate number {certificate_number} says year 20{:02}, but the issue date is {issued}", certificate_number.year_two_digits())]
    CertificateYearMismatch {
        certificate_number: CertificateNumber,
        issued: Date,
    },
    #[error("certificate number {certificate_number} says level {}, but the credential is {}", certificate_number.level_number(), level.id())]
    CertificateLevelMismatch {
        certificate_number: CertificateNumber,
        level: Level,
    },
    #[error("level {} carries no state certificate and cannot be certified here", level.id())]
    LevelNotCertifiable { level: Level },
    #[error("certificate number {certificate_number} is already on the ledger")]
    DuplicateCertificate {
        certificate_number: CertificateNumber,
    },
    #[error("the subject already holds {} in {occupation}", held.id())]
    AlreadyHoldsLevel {
        occupation: OccupationCode,
        held: Level,
    },
    #[error("{} in {occupation} is not reachable by evaluation from {} (policy v{policy_version}: one level at a time)", requested.id(), held.map_or("no level held", |l| l.id()))]
    LevelNotReachable {
        occupation: OccupationCode,
        held: Option<Level>,
        requested: Level,
        policy_version: u32,
    },
    #[error("{} in {occupation} needs {required_years} full years after {since}: earliest {earliest} (policy v{policy_version})", level.id())]
    TooFewYears {
        occupation: OccupationCode,
        level: Level,
        required_years: u32,
        since: Date,
        earliest: Date,
        policy_version: u32,
    },
    #[error("an attested basis allows at most {} (policy v{policy_version}), not {}", attested_entry_max.id(), level.id())]
    AttestedBasisNotAllowed {
        level: Level,
        attested_entry_max: Level,
        policy_version: u32,
    },
    #[error("body {registration_number} may not recognise directly: {reason} (policy v{policy_version})")]
    DirectRecognitionNotAllowed {
        registration_number: RegistrationNumber,
        reason: String,
        policy_version: u32,
    },
    #[error("direct recognition goes up to {} (policy v{policy_version}), not {}", level_max.id(), level.id())]
    AboveDirectRecognitionLimit {
        level: Level,
        level_max: Level,
        policy_version: u32,
    },
    #[error("field {field} must not be empty")]
    EmptyField { field: &'static str },
    #[error("field {field} is {length} characters, over the limit of {length_max}")]
    FieldTooLong {
        field: &'static str,
        length: usize,
        length_max: usize,
    },
    #[error("field {field} is malformed: {reason}")]
    Malformed { field: &'static str, reason: String },
    #[error("body {registration_number} is already registered")]
    DuplicateBody {
        registration_number: RegistrationNumber,
    },
    #[error("body {registration_number} is registered in province {found}, but this ledger serves {expected}")]
    ProvinceMismatch {
        registration_number: RegistrationNumber,
        expected: String,
        found: String,
    },
    #[error("registration window is empty: valid_from {valid_from} is not before valid_until {valid_until}")]
    InvalidValidityWindow { valid_from: Date, valid_until: Date },
    #[error("scope lists occupation {occupation} twice")]
    DuplicateScopeOccupation { occupation: OccupationCode },
    #[error("body {registration_number} cannot become {} while {}", to.id(), from.id())]
    StatusChangeNotAllowed {
        registration_number: RegistrationNumber,
        from: BodyStatus,
        to: BodyStatus,
    },
    #[error("{what} dated {date} is before the last change of the same kind ({last})")]
    DateBeforeLastChange {
        what: &'static str,
        date: Date,
        last: Date,
    },
    #[error("credential {certificate_number} is not on the ledger")]
    UnknownCredential {
        certificate_number: CertificateNumber,
    },
    #[error("credential {certificate_number} is already revoked")]
    AlreadyRevoked {
        certificate_number: CertificateNumber,
    },
    #[error("credential {certificate_number} was issued by {issuer}: only its issuer or the authority may revoke it")]
    NotIssuer {
        certificate_number: CertificateNumber,
        issuer: RegistrationNumber,
    },
    #[error("revocation dated {effective} is before the credential's issue date {issued}")]
    RevocationBeforeIssue { effective: Date, issued: Date },
    #[error("policy refused: {message}")]
    InvalidPolicy { message: String },
    #[error("policy version {version} is not above the latest adopted version {latest}")]
    PolicyVersionNotIncreasing { version: u32, latest: u32 },
    #[error("catalogue refused: {message}")]
    InvalidCatalogue { message: String },
    #[error("catalogue version {version} is not above the version in force {latest}")]
    CatalogueVersionNotIncreasing { version: u32, latest: u32 },
    /// Refused at admission by the node's clock, never by `decide` (see
    /// [`crate::check_not_dated_in_future`]): a log entry records what has happened.
    #[error("the event is dated {date}, after the ledger's date {today}: events cannot be dated in the future")]
    DatedInFuture { date: Date, today: Date },
    /// Refused at admission by the node's clock, when the ledger bounds backdating (see
    /// [`crate::check_not_backdated`]).
    #[error("an evaluation body may date an event at most {days_max} days back: {date} is before {earliest}")]
    DatedTooFarBack {
        date: Date,
        earliest: Date,
        days_max: u32,
    },
    // Issue 5: the other routes up the ladder.
    #[error("contest {} is not registered on this ledger", contest.to_hex())]
    UnknownContest { contest: EventId },
    #[error("contest result refused: {reason}")]
    ContestResultNotAllowed { reason: String },
    #[error("{what} {} is not a record of this subject", id.to_hex())]
    UnknownBasis { what: &'static str, id: EventId },
    #[error("contest promotion refused: {reason} (policy v{policy_version})")]
    ContestPromotionNotAllowed {
        tier: ContestTier,
        rank: u16,
        reason: String,
        policy_version: u32,
    },
    #[error("the subject already had {granted} contest promotion(s) in {year}, the most the policy allows is {promotions_max} (policy v{policy_version})")]
    ContestPromotionLimit {
        year: i32,
        granted: u32,
        promotions_max: u32,
        policy_version: u32,
    },
    #[error("apprenticeship refused: {reason} (policy v{policy_version})")]
    ApprenticeshipNotAllowed { reason: String, policy_version: u32 },
    #[error("apprenticeship {} is not completed by {date}", apprenticeship.to_hex())]
    ApprenticeshipNotCompleted { apprenticeship: EventId, date: Date },
    #[error("apprenticeship {} was already completed on {completed}", apprenticeship.to_hex())]
    ApprenticeshipAlreadyCompleted {
        apprenticeship: EventId,
        completed: Date,
    },
    #[error("body {registration_number} may not appoint to {}: {reason} (policy v{policy_version})", level.id())]
    AppointmentNotAllowed {
        registration_number: RegistrationNumber,
        level: Level,
        reason: String,
        policy_version: u32,
    },
    #[error("term {term_start} to {term_end} refused: {reason} (policy v{policy_version})")]
    InvalidTerm {
        term_start: Date,
        term_end: Date,
        reason: String,
        policy_version: u32,
    },
    #[error("appointment to {} refused: its basis {reason} (policy v{policy_version})", level.id())]
    AppointmentBasisInvalid {
        level: Level,
        reason: String,
        policy_version: u32,
    },
    #[error("appointment {} already ended on {ended}", appointment.to_hex())]
    AppointmentAlreadyEnded { appointment: EventId, ended: Date },
    #[error("appointment {} was made by {appointed_by}: only it or the authority may end it", appointment.to_hex())]
    NotAppointingBody {
        appointment: EventId,
        appointed_by: RegistrationNumber,
    },
    #[error("conversion refused: {reason} (policy v{policy_version})")]
    ConversionNotAllowed { reason: String, policy_version: u32 },
    #[error("the subject already holds {} ({series}/{field})", title.name_zh())]
    AlreadyHoldsTitle {
        title: TitleLevel,
        series: String,
        field: String,
    },
    #[error("recognition refused: {reason} (policy v{policy_version})")]
    RecognitionNotAllowed { reason: String, policy_version: u32 },
    #[error("{origin} is this ledger: only a partner's credential can be recognised")]
    RecognitionOfHomeCredential { origin: String },
    #[error("a credential of {partner_occupation} from {origin} counts in {expected} on this ledger, not in {occupation} (policy v{policy_version})")]
    RecognitionOccupationMismatch {
        origin: String,
        partner_occupation: OccupationCode,
        occupation: OccupationCode,
        expected: OccupationCode,
        policy_version: u32,
    },
    #[error("credential {certificate_number} of {origin} is already recognised by {}", recognition.to_hex())]
    DuplicateRecognition {
        origin: String,
        certificate_number: CertificateNumber,
        recognition: EventId,
    },
    #[error("recognition {} was already withdrawn on {withdrawn}", recognition.to_hex())]
    RecognitionNotActive {
        recognition: EventId,
        withdrawn: Date,
    },
    #[error("contest {} is not joint with a contest of {origin}", contest.to_hex())]
    ContestNotJoint { contest: EventId, origin: String },
    #[error("contest {} is already joint with contest {} of {origin}", contest.to_hex(), partner_contest.to_hex())]
    ContestAlreadyJoint {
        contest: EventId,
        origin: String,
        partner_contest: EventId,
    },
    #[error("certificate number {certificate_number} is of the {} series; this event certifies a {}", certificate_number.kind().name_zh(), expected.name_zh())]
    CertificateKindMismatch {
        certificate_number: CertificateNumber,
        expected: CredentialKind,
    },
    #[error("occupation {occupation} is not access-controlled (准入类) in policy v{policy_version}: it has no 职业资格证书; certify a skill level instead")]
    NotAccessControlled {
        occupation: OccupationCode,
        policy_version: u32,
    },
    #[error("qualification refused: {reason} (policy v{policy_version})")]
    QualificationNotAllowed { reason: String, policy_version: u32 },
    #[error("special ability '{ability}' is not in policy v{policy_version}")]
    UnknownSpecialAbility {
        ability: String,
        policy_version: u32,
    },
    #[error("special ability '{ability}' is under occupation {listed}, not {occupation} (policy v{policy_version})")]
    SpecialAbilityOccupationMismatch {
        ability: String,
        listed: OccupationCode,
        occupation: OccupationCode,
        policy_version: u32,
    },
    #[error("body {registration_number} has no occupation {occupation} in its scope")]
    SpecialAbilityOutOfScope {
        registration_number: RegistrationNumber,
        occupation: OccupationCode,
    },
    #[error("the comparison names catalogue version {named}, but version {in_force} is in force at {date}")]
    ForeignCatalogueVersion {
        named: u32,
        in_force: u32,
        date: Date,
    },
    #[error("foreign certificate type '{certificate_type}' is not in the comparison catalogue of policy v{policy_version}")]
    UnknownForeignCertificate {
        certificate_type: String,
        policy_version: u32,
    },
    #[error("the catalogue compares '{certificate_type}' with {} in {listed_occupation}, not {} in {occupation} (policy v{policy_version})", listed_level.id(), level.id())]
    ForeignComparisonMismatch {
        certificate_type: String,
        listed_occupation: OccupationCode,
        listed_level: Level,
        occupation: OccupationCode,
        level: Level,
        policy_version: u32,
    },
    #[error("a foreign comparison's event id must be {} (derived from the certificate type and document id), found {}", expected.to_hex(), found.to_hex())]
    ForeignDocumentIdMismatch { expected: EventId, found: EventId },
    #[error("foreign document '{document_id}' ({certificate_type}) was already compared by entry {first_index}")]
    ForeignDocumentUsed {
        certificate_type: String,
        document_id: String,
        first_index: u64,
    },
}

impl Rejection {
    /// Every code [`Rejection::code`] can return, in declaration order.
    pub const ALL_CODES: &'static [&'static str] = &[
        "ledger-not-established",
        "ledger-already-established",
        "origin-mismatch",
        "duplicate-event-id",
        "bad-signature",
        "wrong-signer",
        "weak-key",
        "unknown-body",
        "key-not-valid-at-date",
        "key-revoked",
        "not-a-body-key",
        "key-already-revoked",
        "key-reused",
        "no-recovery-key",
        "authority-key-not-held",
        "body-not-active",
        "outside-registration-window",
        "out-of-scope",
        "no-catalogue",
        "unknown-occupation",
        "unknown-work-type",
        "no-policy-in-force",
        "bad-certificate-number",
        "certificate-body-mismatch",
        "certificate-year-mismatch",
        "certificate-level-mismatch",
        "level-not-certifiable",
        "duplicate-certificate",
        "already-holds-level",
        "level-not-reachable",
        "too-few-years",
        "attested-basis-not-allowed",
        "direct-recognition-not-allowed",
        "above-direct-recognition-limit",
        "empty-field",
        "field-too-long",
        "malformed",
        "duplicate-body",
        "province-mismatch",
        "invalid-validity-window",
        "duplicate-scope-occupation",
        "status-change-not-allowed",
        "date-before-last-change",
        "unknown-credential",
        "already-revoked",
        "not-issuer",
        "revocation-before-issue",
        "invalid-policy",
        "policy-version-not-increasing",
        "invalid-catalogue",
        "catalogue-version-not-increasing",
        "dated-in-future",
        "dated-too-far-back",
        "unknown-contest",
        "contest-result-not-allowed",
        "unknown-basis",
        "contest-promotion-not-allowed",
        "contest-promotion-limit",
        "apprenticeship-not-allowed",
        "apprenticeship-not-completed",
        "apprenticeship-already-completed",
        "appointment-not-allowed",
        "invalid-term",
        "appointment-basis-invalid",
        "appointment-already-ended",
        "not-appointing-body",
        "conversion-not-allowed",
        "already-holds-title",
        "recognition-not-allowed",
        "recognition-of-home-credential",
        "recognition-occupation-mismatch",
        "duplicate-recognition",
        "recognition-not-active",
        "contest-not-joint",
        "contest-already-joint",
        "certificate-kind-mismatch",
        "not-access-controlled",
        "qualification-not-allowed",
        "unknown-special-ability",
        "special-ability-mismatch",
        "special-ability-out-of-scope",
        "foreign-catalogue-version",
        "unknown-foreign-certificate",
        "foreign-comparison-mismatch",
        "foreign-document-id-mismatch",
        "foreign-document-used",
    ];

    /// The stable identifier of the rule (kebab-case).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::LedgerNotEstablished => "ledger-not-established",
            Rejection::LedgerAlreadyEstablished => "ledger-already-established",
            Rejection::OriginMismatch { .. } => "origin-mismatch",
            Rejection::DuplicateEventId { .. } => "duplicate-event-id",
            Rejection::BadSignature => "bad-signature",
            Rejection::WrongSigner { .. } => "wrong-signer",
            Rejection::WeakKey => "weak-key",
            Rejection::UnknownBody { .. } => "unknown-body",
            Rejection::KeyNotValidAtDate { .. } => "key-not-valid-at-date",
            Rejection::KeyRevoked { .. } => "key-revoked",
            Rejection::NotABodyKey { .. } => "not-a-body-key",
            Rejection::KeyAlreadyRevoked { .. } => "key-already-revoked",
            Rejection::KeyReused { .. } => "key-reused",
            Rejection::NoRecoveryKey => "no-recovery-key",
            Rejection::AuthorityKeyNotHeld => "authority-key-not-held",
            Rejection::BodyNotActive { .. } => "body-not-active",
            Rejection::OutsideRegistrationWindow { .. } => "outside-registration-window",
            Rejection::OutOfScope { .. } => "out-of-scope",
            Rejection::NoCatalogue => "no-catalogue",
            Rejection::UnknownOccupation { .. } => "unknown-occupation",
            Rejection::UnknownWorkType { .. } => "unknown-work-type",
            Rejection::NoPolicyInForce { .. } => "no-policy-in-force",
            Rejection::BadCertificateNumber { .. } => "bad-certificate-number",
            Rejection::CertificateBodyMismatch { .. } => "certificate-body-mismatch",
            Rejection::CertificateYearMismatch { .. } => "certificate-year-mismatch",
            Rejection::CertificateLevelMismatch { .. } => "certificate-level-mismatch",
            Rejection::LevelNotCertifiable { .. } => "level-not-certifiable",
            Rejection::DuplicateCertificate { .. } => "duplicate-certificate",
            Rejection::AlreadyHoldsLevel { .. } => "already-holds-level",
            Rejection::LevelNotReachable { .. } => "level-not-reachable",
            Rejection::TooFewYears { .. } => "too-few-years",
            Rejection::AttestedBasisNotAllowed { .. } => "attested-basis-not-allowed",
            Rejection::DirectRecognitionNotAllowed { .. } => "direct-recognition-not-allowed",
            Rejection::AboveDirectRecognitionLimit { .. } => "above-direct-recognition-limit",
            Rejection::EmptyField { .. } => "empty-field",
            Rejection::FieldTooLong { .. } => "field-too-long",
            Rejection::Malformed { .. } => "malformed",
            Rejection::DuplicateBody { .. } => "duplicate-body",
            Rejection::ProvinceMismatch { .. } => "province-mismatch",
            Rejection::InvalidValidityWindow { .. } => "invalid-validity-window",
            Rejection::DuplicateScopeOccupation { .. } => "duplicate-scope-occupation",
            Rejection::StatusChangeNotAllowed { .. } => "status-change-not-allowed",
            Rejection::DateBeforeLastChange { .. } => "date-before-last-change",
            Rejection::UnknownCredential { .. } => "unknown-credential",
            Rejection::AlreadyRevoked { .. } => "already-revoked",
            Rejection::NotIssuer { .. } => "not-issuer",
            Rejection::RevocationBeforeIssue { .. } => "revocation-before-issue",
            Rejection::InvalidPolicy { .. } => "invalid-policy",
            Rejection::PolicyVersionNotIncreasing { .. } => "policy-version-not-increasing",
            Rejection::InvalidCatalogue { .. } => "invalid-catalogue",
            Rejection::CatalogueVersionNotIncreasing { .. } => "catalogue-version-not-increasing",
            Rejection::DatedInFuture { .. } => "dated-in-future",
            Rejection::DatedTooFarBack { .. } => "dated-too-far-back",
            Rejection::UnknownContest { .. } => "unknown-contest",
            Rejection::ContestResultNotAllowed { .. } => "contest-result-not-allowed",
            Rejection::UnknownBasis { .. } => "unknown-basis",
            Rejection::ContestPromotionNotAllowed { .. } => "contest-promotion-not-allowed",
            Rejection::ContestPromotionLimit { .. } => "contest-promotion-limit",
            Rejection::ApprenticeshipNotAllowed { .. } => "apprenticeship-not-allowed",
            Rejection::ApprenticeshipNotCompleted { .. } => "apprenticeship-not-completed",
            Rejection::ApprenticeshipAlreadyCompleted { .. } => "apprenticeship-already-completed",
            Rejection::AppointmentNotAllowed { .. } => "appointment-not-allowed",
            Rejection::InvalidTerm { .. } => "invalid-term",
            Rejection::AppointmentBasisInvalid { .. } => "appointment-basis-invalid",
            Rejection::AppointmentAlreadyEnded { .. } => "appointment-already-ended",
            Rejection::NotAppointingBody { .. } => "not-appointing-body",
            Rejection::ConversionNotAllowed { .. } => "conversion-not-allowed",
            Rejection::AlreadyHoldsTitle { .. } => "already-holds-title",
            Rejection::RecognitionNotAllowed { .. } => "recognition-not-allowed",
            Rejection::RecognitionOfHomeCredential { .. } => "recognition-of-home-credential",
            Rejection::RecognitionOccupationMismatch { .. } => "recognition-occupation-mismatch",
            Rejection::DuplicateRecognition { .. } => "duplicate-recognition",
            Rejection::RecognitionNotActive { .. } => "recognition-not-active",
            Rejection::ContestNotJoint { .. } => "contest-not-joint",
            Rejection::ContestAlreadyJoint { .. } => "contest-already-joint",
            Rejection::CertificateKindMismatch { .. } => "certificate-kind-mismatch",
            Rejection::NotAccessControlled { .. } => "not-access-controlled",
            Rejection::QualificationNotAllowed { .. } => "qualification-not-allowed",
            Rejection::UnknownSpecialAbility { .. } => "unknown-special-ability",
            Rejection::SpecialAbilityOccupationMismatch { .. } => "special-ability-mismatch",
            Rejection::SpecialAbilityOutOfScope { .. } => "special-ability-out-of-scope",
            Rejection::ForeignCatalogueVersion { .. } => "foreign-catalogue-version",
            Rejection::UnknownForeignCertificate { .. } => "unknown-foreign-certificate",
            Rejection::ForeignComparisonMismatch { .. } => "foreign-comparison-mismatch",
            Rejection::ForeignDocumentIdMismatch { .. } => "foreign-document-id-mismatch",
            Rejection::ForeignDocumentUsed { .. } => "foreign-document-used",
        }
    }

    /// The version of the policy whose rule refused the event, for the rejections a policy
    /// decides (the API puts it in the problem document as `policy_version`).
    pub fn policy_version(&self) -> Option<u32> {
        match self {
            Rejection::LevelNotReachable { policy_version, .. }
            | Rejection::TooFewYears { policy_version, .. }
            | Rejection::AttestedBasisNotAllowed { policy_version, .. }
            | Rejection::DirectRecognitionNotAllowed { policy_version, .. }
            | Rejection::AboveDirectRecognitionLimit { policy_version, .. }
            | Rejection::ContestPromotionNotAllowed { policy_version, .. }
            | Rejection::ContestPromotionLimit { policy_version, .. }
            | Rejection::ApprenticeshipNotAllowed { policy_version, .. }
            | Rejection::AppointmentNotAllowed { policy_version, .. }
            | Rejection::InvalidTerm { policy_version, .. }
            | Rejection::AppointmentBasisInvalid { policy_version, .. }
            | Rejection::ConversionNotAllowed { policy_version, .. }
            | Rejection::RecognitionNotAllowed { policy_version, .. }
            | Rejection::RecognitionOccupationMismatch { policy_version, .. }
            | Rejection::NotAccessControlled { policy_version, .. }
            | Rejection::QualificationNotAllowed { policy_version, .. }
            | Rejection::UnknownSpecialAbility { policy_version, .. }
            | Rejection::SpecialAbilityOccupationMismatch { policy_version, .. }
            | Rejection::UnknownForeignCertificate { policy_version, .. }
            | Rejection::ForeignComparisonMismatch { policy_version, .. } => Some(*policy_version),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rejection;

    /// `code` is an exhaustive match, so a new variant adds a line there; this keeps
    /// [`Rejection::ALL_CODES`] equal to the codes that match returns.
    #[test]
    fn all_codes_lists_every_code_once() {
        let source = include_str!("rejection.rs");
        let start = source.find("pub fn code(&self)").expect("fn code");
        let returned: Vec<&str> = source[start..]
            .lines()
            .filter_map(|line| line.split_once("=> \""))
            .map(|(_, rest)| rest.split('"').next().expect("a code"))
            .collect();
        assert_eq!(returned, Rejection::ALL_CODES);
        let mut unique = Rejection::ALL_CODES.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            Rejection::ALL_CODES.len(),
            "a code is listed twice"
        );
        assert_eq!(Rejection::WeakKey.code(), "weak-key");
    }
}
