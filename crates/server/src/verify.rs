//! Verification of a certificate by number and holder name (and optionally the identity
//! document): the one function behind `POST /v1/verify` and the portal's lookup form.
//!
//! The name is compared with the stored commitment (HMAC bound to the certificate number);
//! an identity-document number is pseudonymised and compared with the subject. The answer
//! echoes nothing personal: not the name, not the document number, not the subject.

use serde::{Deserialize, Serialize};
use skill_ledger_domain::{CertificateNumber, IdDocumentType};
use skill_ledger_node::{NameCheck, Node, NodeError};
use utoipa::ToSchema;

use crate::problem::Problem;
use crate::views::{CheckpointView, CredentialView};

/// Longest holder name or document number accepted (characters), far above any real one.
pub const HOLDER_TEXT_CHARS_MAX: usize = 200;

/// `POST /v1/verify`.
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The 22-character certificate number.
    #[schema(example = "Y000050000001244000001")]
    pub certificate_number: String,
    /// The holder's name as printed on the certificate (white space is ignored).
    #[schema(example = "张三")]
    pub name: String,
    /// Optionally, the identity-document number printed on the certificate.
    #[serde(default)]
    pub id_number: Option<String>,
    /// The document type of `id_number`: `resident_id` (default), `hmt`, `passport`,
    /// `foreign_permanent`.
    #[serde(default)]
    pub id_type: Option<String>,
}

/// The outcome of a verification.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum VerifyStatus {
    /// The holder data matches and the credential stands.
    Valid,
    /// The holder data matches and the credential was revoked.
    Revoked,
    /// No certificate with this number is on the ledger.
    Unknown,
    /// The certificate exists but the name (or document number) given does not match it.
    Mismatch,
}

/// The answer of `POST /v1/verify`.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct Verification {
    /// The certificate number the caller sent.
    pub certificate_number: String,
    /// Whether the holder data matches the credential.
    pub matched: bool,
    pub status: VerifyStatus,
    /// The credential (level, occupation, body, dates, entry index), only when matched.
    pub credential: Option<CredentialView>,
    /// The signed checkpoint the answer was read under: its tree contains the credential's
    /// entries (the projections are committed after the checkpoint is signed).
    pub checked_against: Option<CheckpointView>,
}

/// A verification query, checked: what [`verify`] takes.
#[derive(Clone, Debug)]
pub struct VerifyQuery {
    pub certificate_number: CertificateNumber,
    pub name: String,
    pub identity: Option<(IdDocumentType, String)>,
}

impl VerifyQuery {
    /// Checks the request's fields; the problem names the field at fault.
    pub fn from_request(request: &VerifyRequest) -> Result<VerifyQuery, Problem> {
        let certificate_number: CertificateNumber =
            request.certificate_number.trim().parse().map_err(
                |error: skill_ledger_domain::IdParseError| {
                    Problem::invalid_field(
                        "certificate_number",
                        format!("field certificate_number: {error}"),
                    )
                },
            )?;
        check_holder_text("name", &request.name)?;
        let identity = match &request.id_number {
            None => {
                if request.id_type.is_some() {
                    return Err(Problem::invalid_field(
                        "id_type",
                        "field id_type is given without id_number",
                    ));
                }
                None
            }
            Some(number) => {
                check_holder_text("id_number", number)?;
                let code = request.id_type.as_deref().unwrap_or("resident_id");
                let kind = IdDocumentType::from_code(code).ok_or_else(|| {
                    Problem::invalid_field(
                        "id_type",
                        format!(
                            "field id_type: '{code}' is not a document type (resident_id, hmt, passport, foreign_permanent)"
                        ),
                    )
                })?;
                Some((kind, number.clone()))
            }
        };
        Ok(VerifyQuery {
            certificate_number,
            name: request.name.clone(),
            identity,
        })
    }
}

fn check_holder_text(field: &'static str, text: &str) -> Result<(), Problem> {
    if text.trim().is_empty() {
        return Err(Problem::invalid_field(
            field,
            format!("field {field} must not be empty"),
        ));
    }
    let length = text.chars().count();
    if length > HOLDER_TEXT_CHARS_MAX {
        return Err(Problem::invalid_field(
            field,
            format!(
                "field {field} is {length} characters, over the limit of {HOLDER_TEXT_CHARS_MAX}"
            ),
        ));
    }
    Ok(())
}

/// Verifies a certificate against the holder data, reading the projections first and the
/// checkpoint second, so the checkpoint covers every entry the answer reflects.
pub fn verify(node: &Node, query: &VerifyQuery) -> Result<Verification, NodeError> {
    let check = node.check_name(&query.certificate_number, &query.name)?;
    let (matched, status, credential) = match check {
        NameCheck::Unknown => (false, VerifyStatus::Unknown, None),
        NameCheck::Mismatch => (false, VerifyStatus::Mismatch, None),
        NameCheck::Matched(credential) => {
            let identity_matches = query.identity.as_ref().is_none_or(|(kind, number)| {
                node.pseudonym_key().subject(*kind, number) == credential.subject
            });
            if identity_matches {
                let status = if credential.is_valid() {
                    VerifyStatus::Valid
                } else {
                    VerifyStatus::Revoked
                };
                (
                    true,
                    status,
                    Some(CredentialView::new(&credential, &node.registry())),
                )
            } else {
                (false, VerifyStatus::Mismatch, None)
            }
        }
    };
    let checked_against = node.checkpoint().map(|signed| CheckpointView::new(&signed));
    Ok(Verification {
        certificate_number: query.certificate_number.to_string(),
        matched,
        status,
        credential,
        checked_against,
    })
}
