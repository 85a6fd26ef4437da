//! Data Integrity proofs (W3C VC Data Integrity 1.0, vc-di-eddsa 1.0): creating one over any
//! JSON-LD document, and checking one against a known key.
//!
//! Both suites sign `hashData = SHA-256(canonical proof configuration) || SHA-256(canonical
//! document)`, where the proof configuration is the proof's options (`type`, `cryptosuite`,
//! `created`, `verificationMethod`, `proofPurpose`) plus the document's `@context`. The signed
//! output keeps the options and adds `proofValue` (base58btc, `z…`); an eddsa-jcs-2022 proof
//! also keeps `@context`, as in the spec's test vector, and an eddsa-rdfc-2022 proof does not.

use std::sync::Arc;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::canon::{self, Extra};
use crate::validate;
use crate::{Suite, VcError};

/// What a verified proof says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofInfo {
    pub suite: Suite,
    pub verification_method: String,
    /// `created`, when the proof has one (it is optional in Data Integrity).
    pub created: Option<String>,
    pub proof_purpose: String,
}

/// Every intermediate value of a proof, for comparison with the W3C test vectors.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Intermediates {
    pub canonical_document: String,
    pub canonical_proof_config: String,
    pub document_hash: [u8; 32],
    pub proof_config_hash: [u8; 32],
    /// `proof_config_hash || document_hash`, 64 bytes.
    pub hash_data: Vec<u8>,
    pub signature: [u8; 64],
    pub proof_value: String,
}

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Hashes and signs two canonical forms; the core both paths share.
pub(crate) fn sign_canonical(
    canonical_document: String,
    canonical_proof_config: String,
    key: &SigningKey,
) -> Intermediates {
    let document_hash = sha256(canonical_document.as_bytes());
    let proof_config_hash = sha256(canonical_proof_config.as_bytes());
    let mut hash_data = Vec::with_capacity(64);
    hash_data.extend_from_slice(&proof_config_hash);
    hash_data.extend_from_slice(&document_hash);
    let signature = key.sign(&hash_data).to_bytes();
    let proof_value = format!("z{}", crate::multikey::base58btc(&signature));
    Intermediates {
        canonical_document,
        canonical_proof_config,
        document_hash,
        proof_config_hash,
        hash_data,
        signature,
        proof_value,
    }
}

fn canonicalize(suite: Suite, doc: &Value, extra: &Extra) -> Result<String, VcError> {
    match suite {
        Suite::EddsaRdfc2022 => canon::rdfc_document(doc, extra),
        Suite::EddsaJcs2022 => canon::jcs(doc),
    }
}

/// The proof options, keys inserted in sorted order (so the JSON text is the same whether or
/// not serde_json's `preserve_order` is on somewhere in the build).
pub(crate) fn proof_options(
    suite: Suite,
    verification_method: &str,
    created: &str,
) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("created".into(), created.into());
    o.insert("cryptosuite".into(), suite.as_str().into());
    o.insert("proofPurpose".into(), "assertionMethod".into());
    o.insert("type".into(), "DataIntegrityProof".into());
    o.insert("verificationMethod".into(), verification_method.into());
    o
}

/// The secured document: `unsecured` with `proof` (options + `proofValue`, and `@context` for
/// eddsa-jcs-2022) added; top-level keys in sorted order.
pub(crate) fn attach_proof(
    unsecured: Map<String, Value>,
    suite: Suite,
    mut options: Map<String, Value>,
    proof_value: String,
) -> Value {
    if suite == Suite::EddsaJcs2022 {
        if let Some(ctx) = unsecured.get("@context") {
            options.insert("@context".into(), ctx.clone());
        }
    }
    options.insert("proofValue".into(), proof_value.into());
    let sorted = |entries: &mut Vec<(String, Value)>| entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut proof: Vec<(String, Value)> = options.into_iter().collect();
    sorted(&mut proof);
    let mut entries: Vec<(String, Value)> = unsecured.into_iter().collect();
    entries.push((
        "proof".to_owned(),
        Value::Object(proof.into_iter().collect()),
    ));
    sorted(&mut entries);
    Value::Object(entries.into_iter().collect())
}

fn document_object<'a>(doc: &'a Value, what: &str) -> Result<&'a Map<String, Value>, VcError> {
    doc.as_object()
        .ok_or_else(|| VcError::NotJson(format!("{what} is not a JSON object")))
}

/// Signs any JSON-LD document (a status list credential, a controller document, anything):
/// returns it with a Data Integrity proof for `assertionMethod`.
///
/// `created` is an `xsd:dateTime` such as `2026-12-07T10:00:00Z`. The document must have an
/// `@context` and no `proof` yet; with eddsa-rdfc-2022 every context must be bundled and every
/// term defined (an undefined term would be dropped by JSON-LD, so not signed, and Digital
/// Bazaar's verifier rejects it).
pub fn sign_document(
    unsecured: &Value,
    suite: Suite,
    key: &SigningKey,
    verification_method: &str,
    created: &str,
) -> Result<Value, VcError> {
    sign_document_inner(unsecured, suite, key, verification_method, created, &None).map(|(v, _)| v)
}

fn sign_document_inner(
    unsecured: &Value,
    suite: Suite,
    key: &SigningKey,
    verification_method: &str,
    created: &str,
    extra: &Extra,
) -> Result<(Value, Intermediates), VcError> {
    let doc = document_object(unsecured, "the document to sign")?;
    let context = doc
        .get("@context")
        .ok_or_else(|| VcError::MissingField("@context".into()))?;
    if doc.contains_key("proof") {
        return Err(VcError::UnsupportedProof(
            "the document already has a proof (proof sets are not supported)".into(),
        ));
    }
    validate::iri("verificationMethod", verification_method)?;
    validate::date_time("created", created)?;
    let options = proof_options(suite, verification_method, created);
    let mut config = options.clone();
    config.insert("@context".into(), context.clone());
    let im = sign_canonical(
        canonicalize(suite, unsecured, extra)?,
        canonicalize(suite, &Value::Object(config), extra)?,
        key,
    );
    Ok((
        attach_proof(doc.clone(), suite, options, im.proof_value.clone()),
        im,
    ))
}

/// Verifies the single Data Integrity proof of `secured` with `key` (either suite, any
/// document). It checks the signature only: who may use the key is the caller's question (see
/// [`verify_credential`](crate::verify_credential)).
///
/// This is **not** a safe-mode check: with eddsa-rdfc-2022, a member that no context defines
/// is dropped by JSON-LD expansion, so it is not covered by the signature, and this function
/// still accepts a document that carries one (added before or after signing). Only
/// [`verify_credential`](crate::verify_credential), for the documents this crate issues,
/// refuses members outside the documented shape ([`VcError::UnexpectedMember`]).
pub fn verify_proof(secured: &Value, key: &VerifyingKey) -> Result<ProofInfo, VcError> {
    verify_proof_inner(secured, key, &None)
}

fn str_field<'a>(obj: &'a Map<String, Value>, path: &str, name: &str) -> Result<&'a str, VcError> {
    match obj.get(name) {
        None => Err(VcError::MissingField(format!("{path}{name}"))),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(VcError::WrongType {
            field: format!("{path}{name}"),
            expected: "a string",
        }),
    }
}

fn as_list(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) => a,
        other => std::slice::from_ref(other),
    }
}

pub(crate) fn verify_proof_inner(
    secured: &Value,
    key: &VerifyingKey,
    extra: &Extra,
) -> Result<ProofInfo, VcError> {
    let doc = document_object(secured, "the secured document")?;
    let mut unsecured = doc.clone();
    let proof = match unsecured.remove("proof") {
        None => return Err(VcError::MissingField("proof".into())),
        Some(Value::Object(p)) => p,
        Some(Value::Array(mut a)) if a.len() == 1 => match a.pop() {
            Some(Value::Object(p)) => p,
            _ => {
                return Err(VcError::WrongType {
                    field: "proof".into(),
                    expected: "an object",
                })
            }
        },
        Some(Value::Array(_)) => {
            return Err(VcError::UnsupportedProof(
                "proof sets and chains (several proofs) are not supported".into(),
            ))
        }
        Some(_) => {
            return Err(VcError::WrongType {
                field: "proof".into(),
                expected: "an object",
            })
        }
    };
    let doc_context = unsecured
        .get("@context")
        .ok_or_else(|| VcError::MissingField("@context".into()))?
        .clone();
    let proof_type = str_field(&proof, "proof.", "type")?;
    if proof_type != "DataIntegrityProof" {
        return Err(VcError::UnsupportedProof(format!(
            "the proof type is {proof_type:?}, not \"DataIntegrityProof\""
        )));
    }
    let suite: Suite = str_field(&proof, "proof.", "cryptosuite")?.parse()?;
    let verification_method = str_field(&proof, "proof.", "verificationMethod")?.to_owned();
    let proof_purpose = str_field(&proof, "proof.", "proofPurpose")?.to_owned();
    let created = match proof.get("created") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(VcError::WrongType {
                field: "proof.created".into(),
                expected: "a string",
            })
        }
    };
    let proof_value = str_field(&proof, "proof.", "proofValue")?;
    let signature = proof_value
        .strip_prefix('z')
        .and_then(|b| bs58::decode(b).into_vec().ok())
        .and_then(|raw| Signature::from_slice(&raw).ok())
        .ok_or(VcError::BadProofValue)?;

    let mut config = proof.clone();
    config.remove("proofValue");
    if suite == Suite::EddsaJcs2022 {
        if let Some(proof_context) = config.get("@context") {
            let (pc, dc) = (as_list(proof_context), as_list(&doc_context));
            if dc.len() < pc.len() || dc[..pc.len()] != pc[..] {
                return Err(VcError::ProofContextMismatch);
            }
        }
    }
    let canonical_config =
        match standard_rdfc_config(suite, &config, &doc_context, created.as_deref()) {
            Some(direct) => direct,
            None => {
                config.insert("@context".into(), doc_context);
                canonicalize(suite, &Value::Object(config), extra)?
            }
        };
    let unsecured = Value::Object(unsecured);
    let im = sign_free_hash(canonicalize(suite, &unsecured, extra)?, canonical_config);
    key.verify_strict(&im, &signature)
        .map_err(|_| VcError::SignatureInvalid)?;
    Ok(ProofInfo {
        suite,
        verification_method,
        created,
        proof_purpose,
    })
}

/// The canonical proof configuration without JSON-LD, when it is the standard one: an
/// eddsa-rdfc-2022 proof with exactly `type` DataIntegrityProof, `cryptosuite`, `created`,
/// `verificationMethod` and `proofPurpose` assertionMethod (valid values), under a document
/// `@context` of credentials/v2, optionally followed by skill-ledger-v1. Both contexts are
/// `@protected` and ours defines none of these terms, so the RDF is fixed; the property test
/// `direct_proof_config_equals_json_ld` checks the bytes. Anything else takes JSON-LD.
fn standard_rdfc_config(
    suite: Suite,
    config: &Map<String, Value>,
    doc_context: &Value,
    created: Option<&str>,
) -> Option<String> {
    use crate::contexts::{CREDENTIALS_V2, SKILL_LEDGER_V1};
    let contexts = doc_context.as_array()?;
    let standard_context = match contexts.as_slice() {
        [a] => a == CREDENTIALS_V2,
        [a, b] => a == CREDENTIALS_V2 && b == SKILL_LEDGER_V1,
        _ => false,
    };
    let keys = [
        "created",
        "cryptosuite",
        "proofPurpose",
        "type",
        "verificationMethod",
    ];
    if suite != Suite::EddsaRdfc2022
        || !standard_context
        || config.len() != keys.len()
        || !keys.iter().all(|k| config.contains_key(*k))
        || config.get("type")?.as_str()? != "DataIntegrityProof"
        || config.get("proofPurpose")?.as_str()? != "assertionMethod"
    {
        return None;
    }
    let method = config.get("verificationMethod")?.as_str()?;
    crate::credential::canonical_proof_config_direct(suite, method, created?).ok()
}

fn sign_free_hash(canonical_document: String, canonical_proof_config: String) -> Vec<u8> {
    let mut hash_data = Vec::with_capacity(64);
    hash_data.extend_from_slice(&sha256(canonical_proof_config.as_bytes()));
    hash_data.extend_from_slice(&sha256(canonical_document.as_bytes()));
    hash_data
}

fn extra_contexts(extra: &[(&str, &str)]) -> Extra {
    Some(Arc::new(
        extra
            .iter()
            .map(|(u, t)| ((*u).to_owned(), (*t).to_owned()))
            .collect(),
    ))
}

/// For the W3C test vectors only: the intermediate values of a proof over `unsecured` with the
/// given proof configuration (options plus `@context`), with contexts served besides the
/// bundled ones (the vectors use `https://www.w3.org/ns/credentials/examples/v2`).
#[doc(hidden)]
pub fn proof_intermediates(
    suite: Suite,
    unsecured: &Value,
    proof_config: &Value,
    key: &SigningKey,
    extra: &[(&str, &str)],
) -> Result<Intermediates, VcError> {
    let extra = extra_contexts(extra);
    Ok(sign_canonical(
        canonicalize(suite, unsecured, &extra)?,
        canonicalize(suite, proof_config, &extra)?,
        key,
    ))
}

/// For the W3C test vectors only: [`sign_document`] with extra contexts served.
#[doc(hidden)]
pub fn sign_document_with_contexts(
    unsecured: &Value,
    suite: Suite,
    key: &SigningKey,
    verification_method: &str,
    created: &str,
    extra: &[(&str, &str)],
) -> Result<Value, VcError> {
    sign_document_inner(
        unsecured,
        suite,
        key,
        verification_method,
        created,
        &extra_contexts(extra),
    )
    .map(|(v, _)| v)
}

/// For the W3C test vectors only: [`verify_proof`] with extra contexts served.
#[doc(hidden)]
pub fn verify_proof_with_contexts(
    secured: &Value,
    key: &VerifyingKey,
    extra: &[(&str, &str)],
) -> Result<ProofInfo, VcError> {
    verify_proof_inner(secured, key, &extra_contexts(extra))
}

/// RDFC-1.0 canonical N-Quads of any document through the general path (JSON-LD toRdf with the
/// bundled contexts). Exposed for tests and tools that compare canonical forms.
pub fn canonical_nquads(doc: &Value) -> Result<String, VcError> {
    canon::rdfc_document(doc, &None)
}

/// RFC 8785 (JCS) canonical text of any JSON document, as eddsa-jcs-2022 hashes it.
pub fn canonical_jcs(doc: &Value) -> Result<String, VcError> {
    canon::jcs_fast(doc).map_or_else(|| canon::jcs(doc), Ok)
}
