//! Offline verification of a credential against its issuer's controller document and,
//! optionally, its status list credential.
//!
//! The proof is checked by the general JSON-LD path ([`verify_proof`]), so nothing depends on
//! the document having been written by [`issue`](crate::issue). But before it, the strict shape
//! check (this crate's equivalent of Digital Bazaar's JSON-LD "safe mode") refuses any member
//! that is not part of the documented shape, with [`VcError::UnexpectedMember`] naming its
//! path. It guarantees that every member of an accepted document is one the issuer writes, in
//! the issuer's form, so that every member is covered by the proof (JSON-LD would drop an
//! undefined one silently, and an eddsa-rdfc-2022 proof would then not cover it):
//!
//! * a `SkillLevelCredential`, without `proof`, equals
//!   [`SkillCredential::from_json`](crate::SkillCredential::from_json)`(doc)?.to_json()`
//!   exactly: the same members, values and JSON types (a number given as a string is refused);
//! * a `BitstringStatusListCredential` (the credential's status list, or one given as the
//!   credential) has exactly the members [`status_list_credential`](crate::status_list_credential)
//!   writes;
//! * a proof has only `type`, `cryptosuite`, `created`, `verificationMethod`, `proofPurpose`
//!   and `proofValue`, and `@context` for eddsa-jcs-2022;
//! * a document of any other type is refused ([`verify_proof`] checks the proof of any
//!   document, but is not a safe-mode check).
//!
//! The check compares two small JSON trees, microseconds next to the milliseconds of JSON-LD.

use serde_json::{Map, Value};

use crate::contexts::{bundled_context, CREDENTIALS_V2};
use crate::proof::verify_proof;
use crate::{strict, validate, ControllerDocument, StatusList, Suite, VcError};

/// The documented shape a document must have (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    SkillLevelCredential,
    StatusListCredential,
}

impl Shape {
    /// The shape of a document by its `type`.
    fn of(doc: &Map<String, Value>, prefix: &str) -> Result<Shape, VcError> {
        if has_type(doc, "SkillLevelCredential") {
            Ok(Shape::SkillLevelCredential)
        } else if has_type(doc, "BitstringStatusListCredential") {
            Ok(Shape::StatusListCredential)
        } else {
            Err(VcError::invalid(
                format!("{prefix}type"),
                "includes neither \"SkillLevelCredential\" nor \"BitstringStatusListCredential\": \
                 verify_credential checks only documents of a documented shape (verify_proof checks \
                 the proof of any document)",
            ))
        }
    }
}

/// A credential's status on its status list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Valid,
    Revoked,
}

/// What [`verify_credential`] established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub suite: Suite,
    pub verification_method: String,
    /// `credentialSubject.certificateNumber`, when it is a string.
    pub certificate_number: Option<String>,
    /// `None` when no status list was given.
    pub status: Option<Status>,
    /// `validFrom`, not compared with any clock here: that is the caller's job.
    pub valid_from: Option<String>,
}

impl Verified {
    /// The proof holds and the credential is not revoked (as far as a status list was given).
    pub fn is_valid(&self) -> bool {
        self.status != Some(Status::Revoked)
    }
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, VcError> {
    v.as_object()
        .ok_or_else(|| VcError::NotJson(format!("{what} is not a JSON object")))
}

fn string<'a>(obj: &'a Map<String, Value>, path: &str) -> Result<&'a str, VcError> {
    let name = path.rsplit('.').next().unwrap_or(path);
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(VcError::WrongType {
            field: path.into(),
            expected: "a string",
        }),
        None => Err(VcError::MissingField(path.into())),
    }
}

/// `@context` is an array of bundled URLs that starts with credentials/v2.
fn check_contexts(doc: &Map<String, Value>, prefix: &str) -> Result<(), VcError> {
    let field = format!("{prefix}@context");
    let contexts = match doc.get("@context") {
        None => return Err(VcError::MissingField(field)),
        Some(Value::Array(a)) => a.as_slice(),
        Some(v) => std::slice::from_ref(v),
    };
    match contexts.first() {
        Some(Value::String(s)) if s == CREDENTIALS_V2 => {}
        other => {
            let found = other.map_or_else(|| "nothing".to_owned(), Value::to_string);
            return Err(VcError::NotACredential {
                expected: CREDENTIALS_V2,
                found,
            });
        }
    }
    for c in contexts {
        match c {
            Value::String(url) if bundled_context(url).is_some() => {}
            Value::String(url) => return Err(VcError::UnbundledContext(url.clone())),
            _ => {
                return Err(VcError::WrongType {
                    field,
                    expected: "an array of bundled context URLs (no inline contexts)",
                })
            }
        }
    }
    Ok(())
}

fn issuer_id(doc: &Map<String, Value>, prefix: &str) -> Result<String, VcError> {
    match doc.get("issuer") {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Object(o)) => match o.get("id") {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(VcError::MissingField(format!("{prefix}issuer.id"))),
        },
        Some(_) => Err(VcError::WrongType {
            field: format!("{prefix}issuer"),
            expected: "a URL or an object with an id",
        }),
        None => Err(VcError::MissingField(format!("{prefix}issuer"))),
    }
}

fn has_type(doc: &Map<String, Value>, t: &str) -> bool {
    match doc.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(t)),
        _ => false,
    }
}

/// Checks issuer, shape (the strict check, `shape` or else by `type`), proof purpose,
/// verification method and signature of one credential against `controller`. Returns the
/// proof's suite and method.
fn check_issued(
    doc: &Value,
    controller: &ControllerDocument,
    prefix: &str,
    shape: Option<Shape>,
) -> Result<(Suite, String), VcError> {
    let obj = object(doc, "the credential")?;
    check_contexts(obj, prefix)?;
    if !has_type(obj, "VerifiableCredential") {
        return Err(VcError::invalid(
            format!("{prefix}type"),
            "does not include \"VerifiableCredential\"",
        ));
    }
    let issuer = issuer_id(obj, prefix)?;
    if issuer != controller.id {
        return Err(VcError::IssuerMismatch {
            expected: controller.id.clone(),
            found: issuer,
        });
    }
    if let Some(Value::String(valid_from)) = obj.get("validFrom") {
        validate::date_time(&format!("{prefix}validFrom"), valid_from)?;
    }
    let shape = match shape {
        Some(s) => s,
        None => Shape::of(obj, prefix)?,
    };
    match shape {
        Shape::SkillLevelCredential => strict::check_credential(doc)?,
        Shape::StatusListCredential => strict::check_status_list(obj, prefix)?,
    }
    let (proof, proof_path) = match obj.get("proof") {
        Some(Value::Object(p)) => (p, format!("{prefix}proof")),
        Some(Value::Array(a)) if a.len() == 1 => {
            (object(&a[0], "the proof")?, format!("{prefix}proof[0]"))
        }
        Some(Value::Array(_)) => return Err(VcError::UnsupportedProof("several proofs".into())),
        Some(_) => {
            return Err(VcError::WrongType {
                field: format!("{prefix}proof"),
                expected: "an object",
            })
        }
        None => return Err(VcError::MissingField(format!("{prefix}proof"))),
    };
    strict::check_proof(proof, &proof_path)?;
    let method = string(proof, &format!("{prefix}proof.verificationMethod"))?;
    let purpose = string(proof, &format!("{prefix}proof.proofPurpose"))?;
    if purpose != "assertionMethod" {
        return Err(VcError::UnsupportedProof(format!(
            "the proof purpose is {purpose:?}, not \"assertionMethod\""
        )));
    }
    let key = controller
        .assertion_key(method)
        .ok_or_else(|| VcError::UnknownVerificationMethod(method.to_owned()))?;
    let info = verify_proof(doc, &key)?;
    Ok((info.suite, info.verification_method))
}

/// Verifies `vc` offline: `@context` starts with credentials/v2 and only names bundled
/// contexts; the issuer is `controller.id`; the document has its documented shape (the strict
/// check of the module documentation: a `SkillLevelCredential` is exactly what
/// [`SkillCredential::to_json`](crate::SkillCredential::to_json) writes, a
/// `BitstringStatusListCredential` exactly what [`status_list_credential`](crate::status_list_credential)
/// writes, and any other type is refused; else [`VcError::UnexpectedMember`]); the single proof
/// (either suite, no member but its own) is for `assertionMethod`, made with a key `controller`
/// lists, and verifies. With `status_list`, also: it is a `BitstringStatusListCredential` whose
/// id is the entry's `statusListCredential`, of the same issuer, with the entry's
/// `statusPurpose`, of its documented shape, its own proof verifies under `controller`, and
/// then the entry's bit gives [`Status`].
///
/// `validFrom` is returned, not compared with a clock.
pub fn verify_credential(
    vc: &Value,
    controller: &ControllerDocument,
    status_list: Option<&Value>,
) -> Result<Verified, VcError> {
    let (suite, verification_method) = check_issued(vc, controller, "", None)?;
    let obj = object(vc, "the credential")?;
    let certificate_number = obj
        .get("credentialSubject")
        .and_then(|s| s.get("certificateNumber"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let valid_from = obj
        .get("validFrom")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let status = match status_list {
        None => None,
        Some(list) => Some(check_status(obj, list, controller)?),
    };
    Ok(Verified {
        suite,
        verification_method,
        certificate_number,
        status,
        valid_from,
    })
}

fn check_status(
    vc: &Map<String, Value>,
    list: &Value,
    controller: &ControllerDocument,
) -> Result<Status, VcError> {
    let is_entry =
        |v: &Value| v.get("type").and_then(Value::as_str) == Some("BitstringStatusListEntry");
    let entry = match vc.get("credentialStatus") {
        None => return Err(VcError::MissingField("credentialStatus".into())),
        Some(Value::Array(a)) => a.iter().find(|e| is_entry(e)),
        Some(e) => Some(e).filter(|e| is_entry(e)),
    }
    .ok_or_else(|| {
        VcError::MissingField("credentialStatus (of type BitstringStatusListEntry)".into())
    })?;
    let entry = object(entry, "credentialStatus")?;
    let purpose = string(entry, "credentialStatus.statusPurpose")?;
    let list_url = string(entry, "credentialStatus.statusListCredential")?;
    let index_text = string(entry, "credentialStatus.statusListIndex")?;
    let index: u64 = index_text
        .parse()
        .ok()
        .filter(|_| index_text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            VcError::invalid(
                "credentialStatus.statusListIndex",
                format!("{index_text:?} is not a decimal integer"),
            )
        })?;

    let list_obj = object(list, "the status list credential")?;
    if !has_type(list_obj, "BitstringStatusListCredential") {
        let found = list_obj
            .get("type")
            .map_or_else(|| "nothing".into(), Value::to_string);
        return Err(VcError::StatusListMismatch {
            field: "type",
            expected: "BitstringStatusListCredential".into(),
            found,
        });
    }
    let list_id = string(list_obj, "statusList.id")?;
    if list_id != list_url {
        return Err(VcError::StatusListMismatch {
            field: "id",
            expected: list_url.into(),
            found: list_id.into(),
        });
    }
    let vc_issuer = issuer_id(vc, "")?;
    let list_issuer = issuer_id(list_obj, "statusList.")?;
    if list_issuer != vc_issuer {
        return Err(VcError::StatusListMismatch {
            field: "issuer",
            expected: vc_issuer,
            found: list_issuer,
        });
    }
    let subject = list_obj
        .get("credentialSubject")
        .ok_or_else(|| VcError::MissingField("statusList.credentialSubject".into()))
        .and_then(|s| object(s, "statusList.credentialSubject"))?;
    if subject.get("type").and_then(Value::as_str) != Some("BitstringStatusList") {
        let found = subject
            .get("type")
            .map_or_else(|| "nothing".into(), Value::to_string);
        return Err(VcError::StatusListMismatch {
            field: "credentialSubject.type",
            expected: "BitstringStatusList".into(),
            found,
        });
    }
    let list_purpose = string(subject, "statusList.credentialSubject.statusPurpose")?;
    if list_purpose != purpose {
        return Err(VcError::StatusListMismatch {
            field: "statusPurpose",
            expected: purpose.into(),
            found: list_purpose.into(),
        });
    }
    check_issued(
        list,
        controller,
        "statusList.",
        Some(Shape::StatusListCredential),
    )?;
    let bits = StatusList::decode(string(subject, "statusList.credentialSubject.encodedList")?)?;
    Ok(if bits.get(index)? {
        Status::Revoked
    } else {
        Status::Valid
    })
}
