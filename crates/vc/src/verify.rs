//! Offline verification of a credential against its issuer's controller document and,
//! optionally, its status list credential. Verification takes the general JSON-LD path, so it
//! checks any document, not only what [`issue`](crate::issue) writes.

use serde_json::{Map, Value};

use crate::contexts::{bundled_context, CREDENTIALS_V2};
use crate::proof::verify_proof;
use crate::{validate, ControllerDocument, StatusList, Suite, VcError};

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

/// Checks issuer, proof purpose, verification method and signature of one credential against
/// `controller`. Returns the proof's suite and method.
fn check_issued(
    doc: &Value,
    controller: &ControllerDocument,
    prefix: &str,
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
    let proof = match obj.get("proof") {
        Some(Value::Object(p)) => p,
        Some(Value::Array(a)) if a.len() == 1 => object(&a[0], "the proof")?,
        Some(Value::Array(_)) => return Err(VcError::UnsupportedProof("several proofs".into())),
        Some(_) => {
            return Err(VcError::WrongType {
                field: format!("{prefix}proof"),
                expected: "an object",
            })
        }
        None => return Err(VcError::MissingField(format!("{prefix}proof"))),
    };
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
/// contexts; the issuer is `controller.id`; the single proof (either suite) is for
/// `assertionMethod`, made with a key `controller` lists, and verifies. With `status_list`,
/// also: it is a `BitstringStatusListCredential` whose id is the entry's
/// `statusListCredential`, of the same issuer, its own proof verifies under `controller`, its
/// `statusPurpose` is the entry's, and then the entry's bit gives [`Status`].
///
/// `validFrom` is returned, not compared with a clock.
pub fn verify_credential(
    vc: &Value,
    controller: &ControllerDocument,
    status_list: Option<&Value>,
) -> Result<Verified, VcError> {
    let (suite, verification_method) = check_issued(vc, controller, "")?;
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
    check_issued(list, controller, "statusList.")?;
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
    let bits = StatusList::decode(string(subject, "statusList.credentialSubject.encodedList")?)?;
    Ok(if bits.get(index)? {
        Status::Revoked
    } else {
        Status::Valid
    })
}
