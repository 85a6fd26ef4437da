//! W3C Verifiable Credentials over HTTP: a credential's VC, the issuer's controller document,
//! the project's JSON-LD context and the status lists (docs/vc.md). The documents are made
//! by `skill_ledger_node` (what goes in) and `skill_ledger_vc` (the proofs); this module only
//! finds the credential (home, or a recognised partner credential through the mirror) and
//! carries bytes, statuses and caching headers.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use skill_ledger_domain::CertificateNumber;
use skill_ledger_node::{Node, VcExportError};
use skill_ledger_vc::Suite;

use crate::federation::{answering_partner, PartnerMirror};
use crate::limits::{ApiPath, ApiQuery};
use crate::openapi::CertificateNumberPath;
use crate::problem::{code, Problem, ProblemDocument};
use crate::state::AppState;

/// The media type of a VC (W3C VC Data Model 2.0, §6.3).
pub const VC_MEDIA_TYPE: &str = "application/vc";
/// JSON-LD contexts.
pub const JSON_LD_MEDIA_TYPE: &str = "application/ld+json";
/// `Cache-Control` of a status list: verifiers may hold it a minute.
pub const STATUS_LIST_CACHE: &str = "public, max-age=60";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/credentials/{cert_no}/vc", get(credential_vc_handler))
        .route("/v1/vc/issuer", get(issuer))
        .route("/v1/vc/contexts/{name}", get(context))
        .route("/v1/vc/status/{list}", get(status_list))
}

/// Why no VC was made for a certificate number.
#[derive(Debug, thiserror::Error)]
pub enum VcLookupError {
    /// Neither this ledger's credential nor a partner credential recognised here.
    #[error("certificate {0} is neither on this ledger nor a partner credential recognised here")]
    Unknown(CertificateNumber),
    #[error(transparent)]
    Export(#[from] VcExportError),
    #[error("the partner mirror could not answer: {0}")]
    Mirror(#[from] skill_ledger_sync::SyncError),
}

/// The VC of certificate `number`: this ledger's credential, or a partner's credential this
/// ledger recognised (互认), issued by this ledger's authority with the origin's credential
/// referenced. The one lookup behind `GET /v1/credentials/{cert_no}/vc` and `vc issue`.
pub fn credential_vc(
    node: &Node,
    partners: &[PartnerMirror<'_>],
    number: &CertificateNumber,
    suite: Suite,
) -> Result<serde_json::Value, VcLookupError> {
    match node.verifiable_credential(number, suite) {
        Err(VcExportError::UnknownCredential(_)) => {}
        other => return Ok(other?),
    }
    let Some((index, Some(found))) = answering_partner(partners, number)? else {
        return Err(VcLookupError::Unknown(*number));
    };
    let registry = partners[index].reader.registry()?;
    let body_name = registry
        .bodies
        .get(&number.registration_number())
        .map(|body| body.name.clone());
    match node.recognition_credential(&found.record, body_name.as_deref(), suite) {
        Err(VcExportError::UnknownCredential(_)) => Err(VcLookupError::Unknown(*number)),
        other => Ok(other?),
    }
}

/// Query of `GET /v1/credentials/{cert_no}/vc`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VcQuery {
    /// The Data Integrity cryptosuite of the proof: `eddsa-rdfc-2022` (default) or
    /// `eddsa-jcs-2022`.
    #[param(pattern = "^eddsa-(rdfc|jcs)-2022$")]
    pub suite: Option<String>,
}

fn problem_of(error: VcLookupError) -> Problem {
    let detail = error.to_string();
    match error {
        VcLookupError::Unknown(number) => Problem::new(
            StatusCode::NOT_FOUND,
            code::UNKNOWN_CERTIFICATE,
            "Unknown certificate",
            detail,
        )
        .with("certificate_number", number.to_string())
        .with("certificate_status", "unknown"),
        VcLookupError::Export(VcExportError::NoIssuerKey) => Problem::new(
            StatusCode::NOT_FOUND,
            code::VC_NOT_SET_UP,
            "No VC issuer",
            "this ledger issues no Verifiable Credentials yet: its authority has not set up a \
             VC issuer key (skill-ledger vc setup)",
        ),
        VcLookupError::Export(VcExportError::NotYetCheckpointed { .. }) => Problem::new(
            StatusCode::CONFLICT,
            code::NOT_YET_CHECKPOINTED,
            "Not yet checkpointed",
            detail,
        ),
        other => {
            tracing::error!(error = %other, "making a VC failed");
            Problem::internal(format!("the VC could not be made: {other}"))
        }
    }
}

fn vc_response(document: &serde_json::Value, cache: &'static str) -> Response {
    let body = serde_json::to_vec_pretty(document).unwrap_or_default();
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(VC_MEDIA_TYPE),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// A credential as a W3C Verifiable Credential 2.0, signed now by this ledger's VC issuer
/// key, with a Data Integrity proof (`eddsa-rdfc-2022` by default, `eddsa-jcs-2022` with
/// `?suite=`), its `BitstringStatusListEntry` and the ledger evidence (entry, leaf hash, the
/// signed checkpoint). A revoked credential's VC is served too: its status list says revoked.
/// A partner's credential recognised here (互认) is issued by this ledger's authority, with
/// the origin's credential referenced. No name or identity number is in it: the subject is
/// the pseudonym, the name a commitment.
#[utoipa::path(
    get, path = "/v1/credentials/{cert_no}/vc", tag = "credentials",
    params(CertificateNumberPath, VcQuery),
    responses(
        (status = 200, description = "The VC (JSON-LD, W3C VC 2.0)", body = Object, content_type = "application/vc"),
        (status = 400, description = "Malformed certificate number, or an unknown suite", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Not on this ledger nor recognised here (unknown-certificate), or no VC issuer key is set up (vc-not-set-up)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Logged, but no signed checkpoint covers it yet (not-yet-checkpointed): retry in a moment", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The ledger could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn credential_vc_handler(
    State(state): State<AppState>,
    ApiPath(cert_no): ApiPath<String>,
    ApiQuery(query): ApiQuery<VcQuery>,
) -> Result<Response, Problem> {
    let number: CertificateNumber =
        cert_no
            .parse()
            .map_err(|error: skill_ledger_domain::IdParseError| {
                Problem::bad_request(format!("path parameter cert_no: {error}"))
                    .with_field("cert_no")
            })?;
    let suite = match query.suite.as_deref() {
        None => Suite::EddsaRdfc2022,
        Some(text) => text.parse::<Suite>().map_err(|error| {
            Problem::bad_request(format!("query parameter suite: {error}")).with_field("suite")
        })?,
    };
    let node = state.node.clone();
    let federation = state.federation.clone();
    let document = tokio::task::spawn_blocking(move || {
        credential_vc(&node, &federation.mirrors(), &number, suite)
    })
    .await
    .map_err(|error| Problem::internal(format!("making the VC failed: {error}")))?
    .map_err(problem_of)?;
    Ok(vc_response(&document, "no-store"))
}

/// The controller document of this ledger's VC issuer: every VC issuer key the log holds
/// (`VcIssuerKeySet`, oldest first) as a Multikey verification method, each an
/// `assertionMethod`. A VC's `issuer` is this document's id; a verifier that trusts only the
/// ledger's checkpoint key ties each key to the ledger by its `VcIssuerKeySet` entry and that
/// entry's inclusion proof (`GET /v1/vc/issuer` names the entries in `skill-ledger vc
/// controller --json`).
#[utoipa::path(
    get, path = "/v1/vc/issuer", tag = "credentials",
    responses(
        (status = 200, description = "The controller document", body = Object, content_type = "application/json"),
        (status = 404, description = "No VC issuer key is set up (vc-not-set-up)", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn issuer(State(state): State<AppState>) -> Result<Response, Problem> {
    let document = state
        .node
        .vc_controller_document()
        .map_err(|error| problem_of(error.into()))?;
    let mut response = axum::Json(document.to_json()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

/// The JSON-LD contexts the node serves, by the last segment of their path: the project's
/// own (`v1`, the context `https://skill-ledger.example/ns/credentials/v1`). Every VC
/// verifier should bundle it rather than fetch it; it is served so that one can be checked
/// against the copy in the repository (`crates/vc/contexts/`).
const SERVED_CONTEXTS: &[(&str, &str)] = &[("v1", skill_ledger_vc::contexts::SKILL_LEDGER_V1)];

/// A JSON-LD context of the VCs, as bundled (byte for byte the file in the repository).
#[utoipa::path(
    get, path = "/v1/vc/contexts/{name}", tag = "credentials",
    params(("name" = String, Path, description = "The context: `v1`", pattern = "^v1$")),
    responses(
        (status = 200, description = "The context", body = Object, content_type = "application/ld+json"),
        (status = 404, description = "No such context", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn context(ApiPath(name): ApiPath<String>) -> Result<Response, Problem> {
    let text = SERVED_CONTEXTS
        .iter()
        .find(|(served, _)| *served == name)
        .and_then(|(_, url)| skill_ledger_vc::contexts::bundled_context(url))
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                code::NOT_FOUND,
                "Not found",
                format!("no context {name:?}: the node serves v1"),
            )
        })?;
    let mut response = (StatusCode::OK, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_LD_MEDIA_TYPE),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(response)
}

/// Status list `list`: a `BitstringStatusListCredential` (statusPurpose `revocation`) of the
/// entries `[list·2²⁰, (list+1)·2²⁰)` of this ledger, a bit set for each credential revoked
/// (by itself or a cascade) and each recognition withdrawn, signed with `eddsa-rdfc-2022`.
/// It is made again when a bit changed; meanwhile the same document is served, with an
/// `ETag` (answer `If-None-Match` with 304) and `Cache-Control: public, max-age=60`.
#[utoipa::path(
    get, path = "/v1/vc/status/{list}", tag = "credentials",
    params(("list" = u64, Path, description = "The list number: a credential's entry index divided by 2²⁰ (at most 2⁴⁴ − 1)", minimum = 0, maximum = 17592186044415_u64)),
    responses(
        (status = 200, description = "The status list credential", body = Object, content_type = "application/vc"),
        (status = 304, description = "Not modified since the ETag given in If-None-Match"),
        (status = 400, description = "The list is not a number", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No entry of the log falls in that list yet (not-found), or no VC issuer key is set up (vc-not-set-up)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The ledger could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn status_list(
    State(state): State<AppState>,
    ApiPath(list): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let list: u64 = list.parse().map_err(|_| {
        Problem::bad_request(format!(
            "path parameter list: {list:?} is not a list number (0, 1, …)"
        ))
        .with_field("list")
    })?;
    if list.saturating_mul(skill_ledger_node::STATUS_LIST_ENTRIES) >= state.node.entry_count() {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            "Not found",
            format!(
                "status list {list} starts past the log's {} entries",
                state.node.entry_count()
            ),
        ));
    }
    let node = state.node.clone();
    let document = tokio::task::spawn_blocking(move || node.vc_status_list(list))
        .await
        .map_err(|error| Problem::internal(format!("making the status list failed: {error}")))?
        .map_err(|error| problem_of(error.into()))?;
    let body = serde_json::to_vec_pretty(document.as_ref()).unwrap_or_default();
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..16]));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = (StatusCode::OK, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(VC_MEDIA_TYPE),
        );
        response
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(STATUS_LIST_CACHE),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    Ok(response)
}
