//! The issuer's controller document: which keys may sign credentials in its name.
//!
//! # Form
//! ```json
//! {
//!   "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
//!   "assertionMethod": ["https://issuer.example/#z6Mk…", …],
//!   "id": "https://issuer.example/",
//!   "verificationMethod": [{"controller": "https://issuer.example/", "id": "https://issuer.example/#z6Mk…",
//!                           "publicKeyMultibase": "z6Mk…", "type": "Multikey"}, …]
//! }
//! ```
//! The id is an https URL (did:web style, without being a DID). The W3C Controlled Identifiers
//! context (`https://www.w3.org/ns/cid/v1`) would be the exact fit, but no npm package ships it,
//! and contexts may only come from registry packages. With the DID v1 context first,
//! jsonld-signatures reads `assertionMethod` directly instead of framing the document with
//! `https://w3id.org/security/v2` (one context fewer to bundle), and Digital Bazaar's verifier
//! accepts it (tests/interop_js.rs). Every key, oldest first, stays an assertion method, so
//! credentials signed before a key rotation keep verifying; the last key is the current one.

use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use crate::contexts::{DID_V1, MULTIKEY_V1};
use crate::credential::object;
use crate::{decode_multikey_public, encode_multikey_public, validate, VcError};

/// An issuer's id and its Ed25519 assertion keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerDocument {
    /// An https URL (or any IRI [`validate::iri`] accepts).
    pub id: String,
    /// Oldest first; the last is the current key.
    pub keys: Vec<VerifyingKey>,
}

impl ControllerDocument {
    /// The verification method id of `key`: `{id}#{multikey}`.
    pub fn method_id(&self, key: &VerifyingKey) -> String {
        format!("{}#{}", self.id, encode_multikey_public(key))
    }

    /// The key that `method_id` names, if it is one of this document's assertion methods.
    pub fn assertion_key(&self, method_id: &str) -> Option<VerifyingKey> {
        let multikey = method_id
            .strip_prefix(self.id.as_str())?
            .strip_prefix('#')?;
        self.keys
            .iter()
            .find(|k| encode_multikey_public(k) == multikey)
            .copied()
    }

    /// The current (last) key.
    pub fn current_key(&self) -> Option<&VerifyingKey> {
        self.keys.last()
    }

    /// The verification method object of `key`, as the document lists it.
    pub fn verification_method(&self, key: &VerifyingKey) -> Value {
        object(vec![
            ("controller", self.id.as_str().into()),
            ("id", self.method_id(key).into()),
            ("publicKeyMultibase", encode_multikey_public(key).into()),
            ("type", "Multikey".into()),
        ])
    }

    /// The document (see the module documentation for the form).
    pub fn to_json(&self) -> Value {
        object(vec![
            ("@context", Value::from(vec![DID_V1, MULTIKEY_V1])),
            ("id", self.id.as_str().into()),
            (
                "verificationMethod",
                self.keys
                    .iter()
                    .map(|k| self.verification_method(k))
                    .collect::<Vec<_>>()
                    .into(),
            ),
            (
                "assertionMethod",
                self.keys
                    .iter()
                    .map(|k| Value::from(self.method_id(k)))
                    .collect::<Vec<_>>()
                    .into(),
            ),
        ])
    }

    /// Reads a document in the form [`to_json`](Self::to_json) writes. The keys are the
    /// `Multikey` verification methods listed in `assertionMethod` (by id or embedded), in
    /// `verificationMethod` order; each method id must be `{id}#{publicKeyMultibase}`.
    pub fn from_json(doc: &Value) -> Result<Self, VcError> {
        let obj = doc.as_object().ok_or_else(|| {
            VcError::NotJson("the controller document is not a JSON object".into())
        })?;
        let id = match obj.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(VcError::WrongType {
                    field: "id".into(),
                    expected: "a string",
                })
            }
            None => return Err(VcError::MissingField("id".into())),
        };
        validate::iri("id", &id)?;
        let list = |name: &str| -> Result<Vec<Value>, VcError> {
            match obj.get(name) {
                None => Ok(Vec::new()),
                Some(Value::Array(a)) => Ok(a.clone()),
                Some(v @ (Value::Object(_) | Value::String(_))) => Ok(vec![v.clone()]),
                Some(_) => Err(VcError::WrongType {
                    field: name.into(),
                    expected: "an array",
                }),
            }
        };
        let mut assertion_ids = Vec::new();
        let mut methods = list("verificationMethod")?;
        for a in list("assertionMethod")? {
            match a {
                Value::String(s) => assertion_ids.push(s),
                Value::Object(ref m) => {
                    if let Some(Value::String(s)) = m.get("id") {
                        assertion_ids.push(s.clone());
                    }
                    methods.push(a.clone());
                }
                _ => {
                    return Err(VcError::WrongType {
                        field: "assertionMethod".into(),
                        expected: "ids or objects",
                    })
                }
            }
        }
        let mut keys: Vec<VerifyingKey> = Vec::new();
        for (i, m) in methods.iter().enumerate() {
            let field = |name: &str| format!("verificationMethod[{i}].{name}");
            let m = m.as_object().ok_or_else(|| VcError::WrongType {
                field: format!("verificationMethod[{i}]"),
                expected: "an object",
            })?;
            let get = |name: &str| match m.get(name) {
                Some(Value::String(s)) => Ok(s.as_str()),
                Some(_) => Err(VcError::WrongType {
                    field: field(name),
                    expected: "a string",
                }),
                None => Err(VcError::MissingField(field(name))),
            };
            let method_id = get("id")?;
            if !assertion_ids.iter().any(|a| a == method_id) {
                continue;
            }
            if get("type")? != "Multikey" {
                return Err(VcError::invalid(field("type"), "must be \"Multikey\""));
            }
            if get("controller")? != id {
                return Err(VcError::invalid(
                    field("controller"),
                    format!("must be the document's id {id}"),
                ));
            }
            let multikey = get("publicKeyMultibase")?;
            let key = decode_multikey_public(multikey)?;
            if method_id != format!("{id}#{multikey}") {
                return Err(VcError::invalid(
                    field("id"),
                    format!("must be {id}#{multikey}"),
                ));
            }
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Ok(ControllerDocument { id, keys })
    }
}
