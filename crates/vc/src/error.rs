//! The one error type of this crate. Each variant names what is wrong, so that a verifier can
//! tell a holder *why* a credential failed (and tests can assert the exact reason).

/// Everything that can go wrong issuing, signing, encoding or verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VcError {
    /// The text is not JSON, or not a JSON object where a document was expected.
    #[error("the document is not a JSON object: {0}")]
    NotJson(String),
    /// A required member is absent (the path is written with dots, e.g. `proof.proofValue`).
    #[error("the document has no {0}")]
    MissingField(String),
    /// A member is there but of the wrong JSON type or shape.
    #[error("{field} must be {expected}")]
    WrongType {
        field: String,
        expected: &'static str,
    },
    /// A member that is not part of the documented shape of the document (verify_credential's
    /// strict check, the equivalent of JSON-LD "safe mode"): a member the issuer does not write,
    /// which no context may define, so that an eddsa-rdfc-2022 proof need not cover it; or a
    /// value in another form than the issuer's. The path is written with dots and indexes, e.g.
    /// `credentialSubject.skillLevelOverride`, `evidence[0].note`, `statusList.proof.note`.
    #[error("{path} is not part of the document's documented shape (a member the issuer does not write, which the proof need not cover, or a value not in the issuer's form)")]
    UnexpectedMember { path: String },
    /// A value that this crate would have to sign or check is not acceptable.
    #[error("{field} is not valid: {reason}")]
    InvalidField { field: String, reason: String },
    /// The document's `@context` does not start with the VC 2.0 context.
    #[error("the @context must start with {expected}, found {found}")]
    NotACredential {
        expected: &'static str,
        found: String,
    },
    /// A context that is not bundled was referenced: it is never fetched.
    #[error("the context {0} is not bundled with this verifier (contexts are never fetched)")]
    UnbundledContext(String),
    /// JSON-LD processing failed for another reason than an unbundled context.
    #[error("JSON-LD processing failed: {0}")]
    JsonLd(String),
    /// RDF Dataset Canonicalization (RDFC-1.0) or JCS failed.
    #[error("canonicalization failed: {0}")]
    Canonicalization(String),
    /// The proof names a cryptosuite that this crate does not implement.
    #[error("unknown cryptosuite {0:?}: the accepted values are \"eddsa-rdfc-2022\" and \"eddsa-jcs-2022\"")]
    UnknownSuite(String),
    /// The proof is not a single `DataIntegrityProof` for `assertionMethod`.
    #[error("unsupported proof: {0}")]
    UnsupportedProof(String),
    /// `proofValue` is not base58btc multibase of a 64-byte Ed25519 signature.
    #[error("the proofValue is not a base58btc-encoded Ed25519 signature")]
    BadProofValue,
    /// An eddsa-jcs-2022 proof's `@context` is not a prefix of the document's.
    #[error("the proof's @context does not match the document's @context")]
    ProofContextMismatch,
    /// The signature does not verify: the document was changed, or another key signed it.
    #[error("the signature does not verify with the verification method's key")]
    SignatureInvalid,
    /// A `publicKeyMultibase` that is not an Ed25519 Multikey.
    #[error("not an Ed25519 Multikey public key: {0}")]
    BadMultikey(String),
    /// The proof's verification method is not an assertion method of the controller document.
    #[error("the verification method {0} is not an assertion method of the issuer's controller document")]
    UnknownVerificationMethod(String),
    /// The credential's issuer is not the controller document's subject.
    #[error("the issuer is {found}, but the controller document is that of {expected}")]
    IssuerMismatch { expected: String, found: String },
    /// The status list credential is not the one the credential's status entry names.
    #[error("the status list does not match the credential's status entry: {field} is {found}, expected {expected}")]
    StatusListMismatch {
        field: &'static str,
        expected: String,
        found: String,
    },
    /// An `encodedList` that cannot be a Bitstring Status List.
    #[error("the encoded status list is damaged: {0}")]
    BadEncodedList(String),
    /// A status list index beyond the list's length.
    #[error("status list index {index} is out of range: the list has {bits} entries")]
    IndexOutOfRange { index: u64, bits: u64 },
}

impl VcError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        VcError::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
