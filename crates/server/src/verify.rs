//! Verification of a certificate by number and holder name (and optionally the identity
//! document): the one function behind `POST /v1/verify`, the portal's lookup form and the
//! CLI's `verify` ([`verify_with_mirrors`], with the mirrors it opens).
//!
//! The name is compared with the stored commitment (HMAC bound to the certificate number);
//! an identity-document number is pseudonymised and compared with the subject. The answer
//! echoes nothing personal: not the name, not the document number, not the subject.
//!
//! A certificate of another province (its number's province digits are not this ledger's)
//! is answered from the mirror of the partner ledger that holds it: the partner's own fold,
//! checked with the same name commitment (the partners share the pseudonym key), read under
//! the partner checkpoint the mirror holds; `ledger` names the partner and `mirror` says how
//! fresh the mirror is.

use serde::{Deserialize, Serialize};
use skill_ledger_domain::{CertificateNumber, CredentialRecord, IdDocumentType, PseudonymKey};
use skill_ledger_node::{NameCheck, Node, NodeError, NodeErrorKind};
use skill_ledger_sync::SyncError;
use utoipa::ToSchema;

use crate::federation::{answering_partner, MirrorView, PartnerMirror};
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::{CheckpointView, CredentialView};

/// Longest holder name or document number accepted (characters), far above any real one.
pub const HOLDER_TEXT_CHARS_MAX: usize = 200;

/// `POST /v1/verify`.
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The 22-character certificate number.
    #[schema(schema_with = crate::openapi::forms::certificate_number_in_body)]
    pub certificate_number: String,
    /// The holder's name as printed on the certificate (white space is ignored).
    #[schema(schema_with = crate::openapi::forms::holder_name)]
    pub name: String,
    /// Optionally, the identity-document number printed on the certificate.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::forms::id_number)]
    pub id_number: Option<String>,
    /// The document type of `id_number`: `resident_id` (default), `hmt`, `passport`,
    /// `foreign_permanent`.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::forms::id_type)]
    pub id_type: Option<String>,
}

/// `POST /v1/credentials/{cert_no}/bundle`: the bundle bound to its holder.
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct HolderBundleRequest {
    /// The holder's name as printed on the certificate (white space is ignored).
    #[schema(schema_with = crate::openapi::forms::holder_name)]
    pub name: String,
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
    /// entries (the projections are committed after the checkpoint is signed). For a
    /// partner's certificate, the partner checkpoint the mirror holds.
    pub checked_against: Option<CheckpointView>,
    /// The ledger that answered: this one's origin, or a partner's (e.g. `skill-ledger/51`)
    /// for a certificate of the partner's province, answered from the mirror.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// For a partner's certificate: how fresh the mirror that answered is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<MirrorView>,
    /// For a 专项职业能力证书 (Z-series number), only when matched: the ability certified
    /// (`credential` is then absent: such a certificate has no level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_ability: Option<crate::views::SpecialAbilityView>,
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

pub(crate) fn check_holder_text(field: &'static str, text: &str) -> Result<(), Problem> {
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

/// The outcome of comparing the holder data with a credential record.
fn holder_check(
    key: &PseudonymKey,
    credential: CredentialRecord,
    query: &VerifyQuery,
) -> (bool, VerifyStatus, Option<CredentialRecord>) {
    let name_matches = key.name_matches(
        query.certificate_number.as_str(),
        &query.name,
        &credential.name_commitment,
    );
    let identity_matches = query
        .identity
        .as_ref()
        .is_none_or(|(kind, number)| key.subject(*kind, number) == credential.subject);
    if !(name_matches && identity_matches) {
        return (false, VerifyStatus::Mismatch, None);
    }
    let status = if credential.is_valid() {
        VerifyStatus::Valid
    } else {
        VerifyStatus::Revoked
    };
    (true, status, Some(credential))
}

fn mirror_error(error: SyncError) -> NodeError {
    NodeError::new(
        NodeErrorKind::Projection,
        format!("partner mirror: {error}"),
    )
}

/// Verifies a certificate against the holder data, reading the projections first and the
/// checkpoint second, so the checkpoint covers every entry the answer reflects. A
/// certificate of another province is answered from the partner's mirror when a partner is
/// configured for it (see the module documentation).
pub fn verify(state: &AppState, query: &VerifyQuery) -> Result<Verification, NodeError> {
    verify_with_mirrors(&state.node, &state.federation.mirrors(), query)
}

/// [`verify`] on a node and the partner mirrors given (see
/// [`crate::federation::answering_partner`]): what the CLI's `verify` calls with the mirrors
/// it opens, so the command line, the API and the portal give one answer.
pub fn verify_with_mirrors(
    node: &Node,
    partners: &[PartnerMirror<'_>],
    query: &VerifyQuery,
) -> Result<Verification, NodeError> {
    if query.certificate_number.province() != node.province() {
        if let Some(answer) = verify_partner(node, partners, query)? {
            return Ok(answer);
        }
    }
    if query.certificate_number.kind() == skill_ledger_domain::CredentialKind::SpecialAbility {
        return verify_special_ability(node, query);
    }
    let check = node.check_name(&query.certificate_number, &query.name)?;
    let (matched, status, credential) = match check {
        NameCheck::Unknown => (false, VerifyStatus::Unknown, None),
        NameCheck::Mismatch => (false, VerifyStatus::Mismatch, None),
        NameCheck::Matched(credential) => {
            let (matched, status, credential) =
                holder_check(node.pseudonym_key(), *credential, query);
            let view = match credential {
                Some(record) => {
                    let registry = node.registry();
                    let foreign = node.foreign_basis(&record)?;
                    Some(
                        CredentialView::new(&record, &registry)
                            .with_foreign(foreign.as_ref(), &registry),
                    )
                }
                None => None,
            };
            (matched, status, view)
        }
    };
    let checked_against = node.checkpoint().map(|signed| CheckpointView::new(&signed));
    Ok(Verification {
        certificate_number: query.certificate_number.to_string(),
        matched,
        status,
        credential,
        checked_against,
        ledger: Some(node.origin().to_string()),
        mirror: None,
        special_ability: None,
    })
}

/// A 专项职业能力证书 of this ledger against the holder data, like a credential.
fn verify_special_ability(node: &Node, query: &VerifyQuery) -> Result<Verification, NodeError> {
    let key = node.pseudonym_key();
    let (matched, status, view) = match node.special_ability(&query.certificate_number)? {
        None => (false, VerifyStatus::Unknown, None),
        Some(record) => {
            let name_matches = key.name_matches(
                query.certificate_number.as_str(),
                &query.name,
                &record.name_commitment,
            );
            let identity_matches = query
                .identity
                .as_ref()
                .is_none_or(|(kind, number)| key.subject(*kind, number) == record.subject);
            if !(name_matches && identity_matches) {
                (false, VerifyStatus::Mismatch, None)
            } else {
                let status = if record.is_valid() {
                    VerifyStatus::Valid
                } else {
                    VerifyStatus::Revoked
                };
                let view = crate::views::SpecialAbilityView::new(&record, &node.registry());
                (true, status, Some(view))
            }
        }
    };
    let checked_against = node.checkpoint().map(|signed| CheckpointView::new(&signed));
    Ok(Verification {
        certificate_number: query.certificate_number.to_string(),
        matched,
        status,
        credential: None,
        checked_against,
        ledger: Some(node.origin().to_string()),
        mirror: None,
        special_ability: view,
    })
}

/// The answer from a partner's mirror, or `None` when no partner answers for the province.
fn verify_partner(
    node: &Node,
    partners: &[PartnerMirror<'_>],
    query: &VerifyQuery,
) -> Result<Option<Verification>, NodeError> {
    let Some((index, found)) =
        answering_partner(partners, &query.certificate_number).map_err(mirror_error)?
    else {
        return Ok(None);
    };
    let partner = partners[index];
    let reader = partner.reader;
    let (matched, status, credential) = match found {
        None => (false, VerifyStatus::Unknown, None),
        Some(foreign) => {
            let (matched, status, record) =
                holder_check(node.pseudonym_key(), foreign.record, query);
            let view = match record {
                Some(record) => Some(CredentialView::new(
                    &record,
                    &*reader.registry().map_err(mirror_error)?,
                )),
                None => None,
            };
            (matched, status, view)
        }
    };
    // Read after the credential: the held checkpoint covers every committed entry.
    let mirror_status = reader.status().map_err(mirror_error)?;
    let checked_against = reader
        .checkpoint()
        .map_err(mirror_error)?
        .map(|held| CheckpointView::new(&held));
    Ok(Some(Verification {
        certificate_number: query.certificate_number.to_string(),
        matched,
        status,
        credential,
        checked_against,
        ledger: Some(partner.origin.to_string()),
        mirror: Some(MirrorView::new(
            &mirror_status,
            skill_ledger_sync::now_unix_s(),
        )),
        special_ability: None,
    }))
}
