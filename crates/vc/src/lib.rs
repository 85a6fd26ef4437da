//! # skill-ledger-vc: skill credentials as W3C Verifiable Credentials 2.0
//!
//! A credential on a skill ledger is already tamper-evident; this crate makes it readable by
//! the rest of the world's wallets and verifiers. It turns a [`SkillCredential`] into a
//! Verifiable Credential 2.0 with a Data Integrity proof (W3C vc-di-eddsa: `eddsa-rdfc-2022` or
//! `eddsa-jcs-2022`), publishes revocations as a Bitstring Status List, and verifies all of it
//! offline against the issuer's [`ControllerDocument`].
//!
//! * [`issue`] signs a [`SkillCredential`]; [`sign_document`] / [`verify_proof`] do the same
//!   for any JSON-LD document (status lists, anything).
//! * [`verify_credential`] checks contexts, issuer, the document's shape (strictly), verification
//!   method, proof and status; [`SkillCredential::from_json`] reads a credential back.
//! * [`StatusList`] and [`status_list_credential`] make the revocation list.
//! * [`contexts`] holds the JSON-LD contexts, bundled and pinned.
//!
//! ## Decisions
//! * **Pure.** No file, network or clock: contexts are compiled in and never fetched (an
//!   unknown one is [`VcError::UnbundledContext`]); dates are the caller's.
//! * **Interoperable, and tested so.** The W3C vc-di-eddsa test vectors are reproduced byte for
//!   byte, and `tests/interop_js.rs` has Digital Bazaar's JavaScript verifier check what we
//!   issue (`tests/interop/vc/`).
//! * **Fast issuance.** eddsa-rdfc-2022 issuance builds the RDF of a [`SkillCredential`]
//!   directly and canonicalizes it without JSON-LD (see [`issue`]); property tests hold the bytes equal to the general path
//!   (JSON-LD + rdf-canon), which verification always uses.
//! * **Every term defined.** JSON-LD drops undefined terms silently (so an RDFC proof would not
//!   cover them) and Digital Bazaar's verifier rejects them; the crate only writes terms of
//!   credentials/v2 and of its own context, `skill-ledger-v1` (a placeholder domain until a
//!   persistent identifier is registered).
//! * **Strict verification (our "safe mode").** For the same reason, [`verify_credential`]
//!   refuses, before it checks the proof, any member that is not part of the documented shape,
//!   as [`VcError::UnexpectedMember`] with its path: a `SkillLevelCredential` without `proof`
//!   must equal `SkillCredential::from_json(doc)?.to_json()` exactly (members, values, JSON
//!   types), a status list credential must have exactly the members of
//!   [`status_list_credential`], a proof only its own members, and other document types are
//!   refused. So whatever an accepted credential says is covered by its proof, and is what a
//!   [`SkillCredential`] can hold. [`verify_proof`] stays general (any document, any terms) and
//!   is not such a check. The comparison costs microseconds.
//!
//! ## Example
//! ```
//! use skill_ledger_vc::{issue, sample, verify_credential, ControllerDocument, Suite};
//! use ed25519_dalek::SigningKey;
//!
//! let key = SigningKey::from_bytes(&sample::SEED);
//! let controller = ControllerDocument { id: sample::ISSUER.into(), keys: vec![key.verifying_key()] };
//! let method = controller.method_id(&key.verifying_key());
//! let vc = issue(&sample::credential(1), Suite::EddsaRdfc2022, &key, &method, sample::CREATED).unwrap();
//! let verified = verify_credential(&vc, &controller, None).unwrap();
//! assert_eq!(verified.certificate_number.as_deref(), Some("S000050010100001A0001"));
//! ```

#![forbid(unsafe_code)]

pub mod bench;
mod canon;
pub mod contexts;
mod controller;
mod credential;
mod error;
mod multikey;
mod proof;
pub mod sample;
mod status;
mod strict;
mod suite;
pub mod validate;
mod verify;

pub use controller::ControllerDocument;
pub use credential::{
    canonical_nquads_direct, canonical_proof_config_direct, issue, CredentialSubject, IssuingBody,
    LedgerEvidence, RecognisedCredential, SkillCredential, StatusEntry,
};
pub use error::VcError;
pub use multikey::{decode_multikey_public, decode_multikey_secret, encode_multikey_public};
pub use proof::{
    canonical_jcs, canonical_nquads, proof_intermediates, sign_document,
    sign_document_with_contexts, verify_proof, verify_proof_with_contexts, Intermediates,
    ProofInfo,
};
pub use status::{status_list_credential, StatusList};
pub use suite::Suite;
pub use verify::{verify_credential, Status, Verified};

/// Parses a document's text: [`VcError::NotJson`] unless it is a JSON object.
pub fn parse_document(text: &str) -> Result<serde_json::Value, VcError> {
    match serde_json::from_str(text) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        Ok(_) => Err(VcError::NotJson(
            "the text is JSON but not an object".into(),
        )),
        Err(e) => Err(VcError::NotJson(e.to_string())),
    }
}
