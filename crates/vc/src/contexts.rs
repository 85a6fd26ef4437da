//! The JSON-LD contexts this crate knows, bundled in the binary.
//!
//! An eddsa-rdfc-2022 signature covers the RDF that the contexts give a document, so a context
//! that changed (or one fetched from a server that lies) would change what every signature
//! means. So contexts are never fetched: the JSON-LD document loader answers only from
//! [`CONTEXTS`], and any other URL is [`VcError::UnbundledContext`](crate::VcError). Each file
//! under `crates/vc/contexts/` is pinned by its SHA-256 in the test `bundled_contexts_are_pinned`;
//! `crates/vc/contexts/README.md` names where each one came from.

/// W3C Verifiable Credentials Data Model v2.0. Also defines `DataIntegrityProof`,
/// `BitstringStatusListEntry` and `BitstringStatusListCredential`.
pub const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// W3C Data Integrity v2 (the terms of `DataIntegrityProof` on their own).
pub const DATA_INTEGRITY_V2: &str = "https://w3id.org/security/data-integrity/v2";
/// The `Multikey` verification method type, used in controller documents.
pub const MULTIKEY_V1: &str = "https://w3id.org/security/multikey/v1";
/// W3C DID v1.0: the context of our controller documents (see [`ControllerDocument`](crate::ControllerDocument)).
pub const DID_V1: &str = "https://www.w3.org/ns/did/v1";
/// skill-ledger's own terms (`crates/vc/contexts/skill-ledger-v1.jsonld`).
///
/// The domain `skill-ledger.example` is a **placeholder** until the authorities register a
/// persistent identifier; the term IRIs (`https://skill-ledger.example/ns#…`) change with it,
/// and so then do this context's pinned digest and every golden file.
pub const SKILL_LEDGER_V1: &str = "https://skill-ledger.example/ns/credentials/v1";

/// The bundled contexts: (URL, the exact JSON text served for it).
pub const CONTEXTS: &[(&str, &str)] = &[
    (
        CREDENTIALS_V2,
        include_str!("../contexts/credentials-v2.jsonld"),
    ),
    (
        DATA_INTEGRITY_V2,
        include_str!("../contexts/data-integrity-v2.jsonld"),
    ),
    (MULTIKEY_V1, include_str!("../contexts/multikey-v1.jsonld")),
    (DID_V1, include_str!("../contexts/did-v1.jsonld")),
    (
        SKILL_LEDGER_V1,
        include_str!("../contexts/skill-ledger-v1.jsonld"),
    ),
];

/// The bundled context for `url`, if there is one (exact match; no normalisation).
pub fn bundled_context(url: &str) -> Option<&'static str> {
    CONTEXTS
        .iter()
        .find(|(u, _)| *u == url)
        .map(|(_, text)| *text)
}
