//! The JSON API under `/v1`: submit signed events (one, or a batch: `POST /v1/events/batch`,
//! which can also decide without writing), read credentials and bodies, verify, statistics.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use skill_ledger_domain::{
    apply, check_not_backdated, check_not_dated_in_future, decide, CareerRecord, CertificateNumber,
    CredentialRecord, EventId, IdParseError, PersonRecord, RecordView, RegistrationNumber,
    Registry, Rejection, SignedEvent, SubjectId,
};
use skill_ledger_node::{stats_document, Failure, HolderBundle, Node, NodeError, SubmitError};

use crate::federation::PartnerCredential;
use crate::limits::{verify_rate_limit, ApiJson, ApiPath, ApiQuery};
use crate::openapi::{CertificateNumberPath, RegistrationNumberPath, SubjectPath};
use crate::problem::{code, Problem, ProblemDocument};
use crate::state::AppState;
use crate::verify::{
    check_holder_text, verify, HolderBundleRequest, Verification, VerifyQuery, VerifyRequest,
};
use crate::views::{
    BodyView, CheckpointView, CredentialResponse, CredentialView, PersonView, SubmitRequest,
    SubmitResponse,
};

/// The `/v1` routes.
pub fn routes(state: AppState) -> Router<AppState> {
    let verify_route = post(verify_handler).route_layer(middleware::from_fn_with_state(
        state.clone(),
        verify_rate_limit,
    ));
    // A holder-bound bundle checks a name like a verification: the same rate limit.
    let bundle_route = get(credential_bundle).merge(
        post(holder_bundle).route_layer(middleware::from_fn_with_state(state, verify_rate_limit)),
    );
    Router::new()
        .route("/v1/events", post(submit))
        .route("/v1/events/batch", post(submit_batch))
        .route("/v1/credentials/{cert_no}", get(credential))
        .route("/v1/credentials/{cert_no}/bundle", bundle_route)
        .route("/v1/special-abilities/{cert_no}", get(special_ability))
        .route("/v1/verify", verify_route)
        .route("/v1/bodies/{reg_no}", get(body))
        .route("/v1/persons/{subject}", get(person))
        .route("/v1/stats", get(stats))
        .route("/v1/pseudonyms", post(crate::pseudonyms::pseudonyms))
        .route(
            "/v1/partner-credentials/{cert_no}/recognition",
            get(recognition_draft),
        )
}

pub(crate) fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Submit a signed event.
///
/// Answers after the durable commit (fsync) with the entry index and a signed checkpoint
/// whose tree contains it, or with a typed rejection (`type` ends in the rule's code; nothing
/// is stored). Resubmitting the same entry returns the first result (`duplicate: true`).
/// A recognition of a partner credential (互认) or an accepted joint-contest result is first
/// checked against the partner's mirror: `unknown-partner`, `credential-not-in-mirror`,
/// `credential-revoked-at-origin`, `mirror-disagrees` (422) or `mirror-unavailable` (503).
#[utoipa::path(
    post, path = "/v1/events", tag = "events",
    request_body = SubmitRequest,
    responses(
        (status = 200, description = "Committed durably", body = SubmitResponse),
        (status = 400, description = "The body is not JSON (bad-request, with position)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within request_timeout_ms", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body over body_bytes_max", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not application/json (or +json)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A member missing, unknown or of the wrong type (invalid-field); entry not base64 or not an entry (malformed-entry); event rejected by a rule (type = urn:skill-ledger:problem:<rule code>); or a recognition the partner's mirror does not confirm", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, description = "Queue full, disk full, node stopped or partner mirror unreadable; Retry-After says when to retry", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> Result<Response, Problem> {
    state.counters.submissions.fetch_add(1, Ordering::Relaxed);
    let retry = state.config.retry_after_s;
    let (signed, entry) = admit(&state, &request.entry)?;
    let pending = state.node.try_submit_entry(entry).map_err(|error| {
        if matches!(error, SubmitError::Overloaded) {
            state.counters.count_overloaded();
        }
        Problem::submit_error(&error, retry)
    })?;
    let receipt = pending
        .into_receiver()
        .await
        .map_err(|_| {
            Problem::submit_error(&SubmitError::Stopped(Failure::sequencer_ended()), retry)
        })?
        .map_err(|error| Problem::submit_error(&error, retry))?;
    Ok(no_store(
        Json(SubmitResponse {
            index: receipt.index,
            duplicate: receipt.duplicate,
            event_id: signed.event.id.to_hex(),
            event: signed.event.kind.name().to_string(),
            checkpoint: CheckpointView::new(&receipt.checkpoint),
        })
        .into_response(),
    ))
}

/// Admission of one submitted entry, before the node queues it: base64, the entry's form,
/// and the partner-mirror checks of 互认 and joint contests. The one path of `POST /v1/events`
/// and each entry of `POST /v1/events/batch`.
fn admit(state: &AppState, text: &str) -> Result<(SignedEvent, Vec<u8>), Problem> {
    let entry = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|error| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code::MALFORMED_ENTRY,
                "Malformed entry",
                format!("field entry is not standard base64: {error}"),
            )
            .with_field("entry")
        })?;
    let retry = state.config.retry_after_s;
    let signed = SignedEvent::from_entry(&entry)
        .map_err(|error| Problem::submit_error(&SubmitError::Malformed(error), retry))?;
    // The mirror checks of 互认 and of joint contests happen here, at admission, not in
    // `decide` (replays must not depend on a mirror). What the home ledger alone refuses (a
    // recognition naming this ledger, a contest that is not joint) goes on to `decide`, which
    // refuses it with its own rule.
    let mirror_problem = |error: skill_ledger_sync::RecognitionCheckError| {
        let problem = Problem::recognition(&error);
        if problem.status == StatusCode::SERVICE_UNAVAILABLE {
            problem.retry_after(retry)
        } else {
            problem
        }
    };
    match &signed.event.kind {
        skill_ledger_domain::EventKind::RecognitionRecorded(recognised)
            if recognised.origin != state.node.origin() =>
        {
            state
                .federation
                .check_recognition(recognised)
                .map_err(mirror_problem)?;
        }
        skill_ledger_domain::EventKind::PartnerContestResultAccepted(accepted) => {
            let partner_contest = state
                .node
                .registry()
                .contests
                .get(&accepted.contest)
                .and_then(|contest| contest.joint_contest_of(&accepted.origin));
            if let Some(partner_contest) = partner_contest {
                state
                    .federation
                    .check_partner_result(accepted, partner_contest)
                    .map_err(mirror_problem)?;
            }
        }
        _ => {}
    }
    Ok((signed, entry))
}

fn parse_certificate_number(text: &str) -> Result<CertificateNumber, Problem> {
    text.parse().map_err(|error: IdParseError| {
        Problem::bad_request(format!("path parameter cert_no: {error}")).with_field("cert_no")
    })
}

fn unknown_certificate(number: &CertificateNumber) -> Problem {
    let detail = if number.kind() == skill_ledger_domain::CredentialKind::SpecialAbility {
        format!(
            "certificate {number} is a 专项职业能力证书 number (Z series), which has no level: \
             see GET /v1/special-abilities/{number}"
        )
    } else {
        format!("certificate {number} is not on this ledger")
    };
    Problem::new(
        StatusCode::NOT_FOUND,
        code::UNKNOWN_CERTIFICATE,
        "Unknown certificate",
        detail,
    )
    .with("certificate_number", number.to_string())
    .with("certificate_status", "unknown")
}

/// A credential by certificate number: status, level, occupation, body, dates, entry index.
///
/// An unknown certificate is a 404 problem with `certificate_status: "unknown"`. Holder data is never
/// shown; to check a holder, use `POST /v1/verify`.
#[utoipa::path(
    get, path = "/v1/credentials/{cert_no}", tag = "credentials",
    params(CertificateNumberPath),
    responses(
        (status = 200, description = "The credential (valid or revoked)", body = CredentialResponse),
        (status = 400, description = "Malformed certificate number", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Not on this ledger (certificate_status unknown)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The ledger or the partner's mirror could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn credential(
    State(state): State<AppState>,
    ApiPath(cert_no): ApiPath<String>,
) -> Result<Response, Problem> {
    let number = parse_certificate_number(&cert_no)?;
    if number.province() != state.node.province() {
        if let Some(response) = partner_credential(&state, &number)? {
            return Ok(no_store(Json(response).into_response()));
        }
    }
    let record = state
        .node
        .credential(&number)?
        .ok_or_else(|| unknown_certificate(&number))?;
    let checkpoint = state
        .node
        .checkpoint()
        .map(|signed| CheckpointView::new(&signed));
    let registry = state.node.registry();
    let foreign = state.node.foreign_basis(&record)?;
    Ok(no_store(
        Json(CredentialResponse {
            credential: CredentialView::new(&record, &registry)
                .with_foreign(foreign.as_ref(), &registry),
            checkpoint,
            ledger: Some(state.node.origin().to_string()),
            mirror: None,
        })
        .into_response(),
    ))
}

/// A 专项职业能力证书 (special vocational ability, Z-series number) by certificate number:
/// status, ability, occupation, body, dates, entry index. Such a certificate has no level; a
/// certificate with a level is at `GET /v1/credentials/{cert_no}`.
#[utoipa::path(
    get, path = "/v1/special-abilities/{cert_no}", tag = "credentials",
    params(CertificateNumberPath),
    responses(
        (status = 200, description = "The certificate (valid or revoked)", body = crate::views::SpecialAbilityResponse),
        (status = 400, description = "Malformed certificate number", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Not on this ledger (certificate_status unknown)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The ledger could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn special_ability(
    State(state): State<AppState>,
    ApiPath(cert_no): ApiPath<String>,
) -> Result<Response, Problem> {
    let number = parse_certificate_number(&cert_no)?;
    let record = state.node.special_ability(&number)?.ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            code::UNKNOWN_CERTIFICATE,
            "Unknown certificate",
            format!("certificate {number} is not a 专项职业能力证书 on this ledger"),
        )
        .with("certificate_number", number.to_string())
        .with("certificate_status", "unknown")
    })?;
    let checkpoint = state
        .node
        .checkpoint()
        .map(|signed| CheckpointView::new(&signed));
    Ok(no_store(
        Json(crate::views::SpecialAbilityResponse {
            special_ability: crate::views::SpecialAbilityView::new(&record, &state.node.registry()),
            checkpoint,
            ledger: state.node.origin().to_string(),
        })
        .into_response(),
    ))
}

/// A credential of a partner's province from its mirror; `None` when no partner answers for
/// that province (the home ledger then answers, unknown).
fn partner_credential(
    state: &AppState,
    number: &CertificateNumber,
) -> Result<Option<CredentialResponse>, Problem> {
    let mirrors = state.federation.mirrors();
    match crate::federation::partner_credential(&mirrors, number) {
        Err(error) => {
            tracing::error!(%error, "partner mirror query failed");
            Err(Problem::internal(format!(
                "the partner mirror could not answer: {error}"
            )))
        }
        Ok(PartnerCredential::NoPartner) => Ok(None),
        Ok(PartnerCredential::Found(response)) => Ok(Some(*response)),
        Ok(PartnerCredential::NotHeld {
            origin,
            entries_held,
        }) => Err(Problem::new(
            StatusCode::NOT_FOUND,
            code::UNKNOWN_CERTIFICATE,
            "Unknown certificate",
            format!(
                "certificate {number} is not in this ledger's mirror of {origin} ({entries_held} \
                 entries held)"
            ),
        )
        .with("certificate_number", number.to_string())
        .with("certificate_status", "unknown")
        .with("ledger", origin)),
    }
}

/// The offline bundle of a credential: its entry, the issuing body's registration entries and
/// the ledger's entry 0, its revocation if one is logged, each with a C2SP `tlog-proof@v1`
/// inclusion proof against one signed checkpoint, and the ledger's signed `status` note of the
/// credential as of that checkpoint (docs/formats.md, Part 4).
///
/// When partners' witnesses have cosigned that checkpoint, their cosignature lines follow the
/// ledger's signature in every section's note (verifiers ignore signatures by keys they do not
/// trust). `skill-ledger verify-bundle FILE --trust VKEY` checks it without the network and
/// says valid or revoked as of the checkpoint; a revocation recorded after the checkpoint
/// cannot be seen offline. This bundle carries no holder key: see the POST form.
#[utoipa::path(
    get, path = "/v1/credentials/{cert_no}/bundle", tag = "credentials",
    params(CertificateNumberPath),
    responses(
        (status = 200, description = "The bundle (text, skill-ledger/bundle/v2)", body = String, content_type = "text/plain; charset=utf-8"),
        (status = 400, description = "Malformed certificate number", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Not on this ledger", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The ledger could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn credential_bundle(
    State(state): State<AppState>,
    ApiPath(cert_no): ApiPath<String>,
) -> Result<Response, Problem> {
    let number = parse_certificate_number(&cert_no)?;
    match built_bundle(&state, number, None).await? {
        HolderBundle::Bundle(text) => Ok(bundle_response(&number, text)),
        _ => Err(unknown_certificate(&number)),
    }
}

/// The offline bundle of `number`, built off the async runtime, with the partners'
/// cosignatures on its checkpoint when held: by number alone (`holder` `None`; never
/// `NameMismatch`), or bound to the holder named. The one way the API and the portal build
/// a bundle.
pub(crate) async fn built_bundle(
    state: &AppState,
    number: CertificateNumber,
    holder: Option<String>,
) -> Result<HolderBundle, Problem> {
    let node = state.node.clone();
    let federation = state.federation.clone();
    let built = tokio::task::spawn_blocking(move || {
        let built = match &holder {
            None => node
                .credential_bundle(&number)
                .map(|text| text.map_or(HolderBundle::Unknown, HolderBundle::Bundle)),
            Some(name) => node.credential_bundle_for_holder(&number, name),
        };
        built.map(|outcome| match outcome {
            HolderBundle::Bundle(text) => {
                HolderBundle::Bundle(federation.cosign_bundle(text, node.verifier_key_text()))
            }
            other => other,
        })
    })
    .await
    .map_err(|error| Problem::internal(format!("building the bundle failed: {error}")))?;
    Ok(built?)
}

/// The offline bundle bound to its holder: given the holder's name, the bundle's status note
/// also carries the certificate's name key, so whoever the holder hands it to can check a name
/// offline (`skill-ledger verify-bundle --name`). A name that is not the holder's gets 422
/// `name-mismatch` and no bundle. Rate-limited like `/v1/verify` (429 with Retry-After).
#[utoipa::path(
    post, path = "/v1/credentials/{cert_no}/bundle", tag = "credentials",
    params(CertificateNumberPath),
    request_body = HolderBundleRequest,
    responses(
        (status = 200, description = "The bundle (text, skill-ledger/bundle/v2) with the holder key", body = String, content_type = "text/plain; charset=utf-8"),
        (status = 400, description = "Malformed certificate number, or the body is not JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Not on this ledger", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within request_timeout_ms", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body over body_bytes_max", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not application/json (or +json)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing, unknown or invalid (named in field), or the name is not the holder's (name-mismatch)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "Over the per-client verification rate; Retry-After says when to retry", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The ledger could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn holder_bundle(
    State(state): State<AppState>,
    ApiPath(cert_no): ApiPath<String>,
    ApiJson(request): ApiJson<HolderBundleRequest>,
) -> Result<Response, Problem> {
    let number = parse_certificate_number(&cert_no)?;
    check_holder_text("name", &request.name)?;
    state.counters.verifications.fetch_add(1, Ordering::Relaxed);
    match built_bundle(&state, number, Some(request.name)).await? {
        HolderBundle::Bundle(text) => Ok(bundle_response(&number, text)),
        HolderBundle::Unknown => Err(unknown_certificate(&number)),
        HolderBundle::NameMismatch => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::NAME_MISMATCH,
            "Name does not match",
            format!("certificate {number} is not held under this name"),
        )
        .with_field("name")),
    }
}

/// A bundle as a downloaded file (`Content-Disposition: attachment`, `no-store`).
pub(crate) fn bundle_response(number: &CertificateNumber, text: String) -> Response {
    let disposition = format!("attachment; filename=\"{}.bundle\"", number.as_str());
    no_store(
        (
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_string(),
                ),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            text,
        )
            .into_response(),
    )
}

/// Verify a certificate number against the holder's name (and optionally document number).
///
/// The name is compared with the stored commitment; nothing personal is echoed back.
/// `status` is `valid` or `revoked` when the holder data matches, `mismatch` when the
/// certificate exists but the data does not match, `unknown` when no such certificate is on
/// the ledger. Rate-limited per client address (429 with Retry-After).
#[utoipa::path(
    post, path = "/v1/verify", tag = "verification",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "Checked against the signed checkpoint in checked_against", body = Verification),
        (status = 400, description = "The body is not JSON (bad-request, with position)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within request_timeout_ms", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body over body_bytes_max", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not application/json (or +json)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing, unknown or invalid (named in field)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "Over the per-client verification rate; Retry-After says when to retry", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The ledger or the partner's mirror could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn verify_handler(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> Result<Response, Problem> {
    state.counters.verifications.fetch_add(1, Ordering::Relaxed);
    let query = VerifyQuery::from_request(&request)?;
    let verification: Verification = verify(&state, &query)?;
    Ok(no_store(Json(verification).into_response()))
}

fn parse_registration_number(text: &str) -> Result<RegistrationNumber, Problem> {
    text.parse().map_err(|error: IdParseError| {
        Problem::bad_request(format!("path parameter reg_no: {error}")).with_field("reg_no")
    })
}

/// A registered evaluation body by registration number: of this ledger, or of a partner's
/// province from this node's mirror of that partner's ledger.
#[utoipa::path(
    get, path = "/v1/bodies/{reg_no}", tag = "bodies",
    params(RegistrationNumberPath),
    responses(
        (status = 200, description = "The body as registered, with its status history; a body of a partner's province from the mirror of that partner's ledger (`ledger` names it)", body = BodyView),
        (status = 400, description = "Malformed registration number", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Not registered on this ledger or in the partner's mirror", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The partner's mirror could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn body(
    State(state): State<AppState>,
    ApiPath(reg_no): ApiPath<String>,
) -> Result<Response, Problem> {
    let number = parse_registration_number(&reg_no)?;
    let unknown = || {
        Problem::new(
            StatusCode::NOT_FOUND,
            code::UNKNOWN_BODY,
            "Unknown body",
            format!("body {number} is not registered on this ledger or a partner's mirror"),
        )
        .with("registration_number", number.to_string())
    };
    if let Some(record) = state.node.body(&number) {
        return Ok(no_store(Json(BodyView::new(&record)).into_response()));
    }
    // A body of a partner's province: read from the mirror of that partner's ledger, the
    // answer the portal's body page gives.
    if number.province() == state.node.province() {
        return Err(unknown());
    }
    let (partner, registry) = state
        .federation
        .partner_registry(number.province())
        .map_err(|error| Problem::internal(format!("reading a partner's mirror: {error}")))?
        .ok_or_else(unknown)?;
    let record = registry.bodies.get(&number).ok_or_else(unknown)?;
    let mut view = BodyView::new(record);
    view.ledger = Some(partner.origin().to_string());
    Ok(no_store(Json(view).into_response()))
}

/// A person's state over every route, by pseudonymous subject (the keyed hash of the
/// identity document; the ledger never holds the document number).
#[utoipa::path(
    get, path = "/v1/persons/{subject}", tag = "persons",
    params(SubjectPath),
    responses(
        (status = 200, description = "Every route's history, current levels and next steps", body = PersonView),
        (status = 400, description = "Malformed subject", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Nothing on this ledger for the subject", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The ledger could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn person(
    State(state): State<AppState>,
    ApiPath(subject): ApiPath<String>,
) -> Result<Response, Problem> {
    let parsed = hex::decode(&subject)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .map(skill_ledger_domain::SubjectId)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                code::BAD_REQUEST,
                "Bad request",
                "the subject is 64 hex characters".to_string(),
            )
            .with("position", "path")
        })?;
    let person = state.node.person(&parsed)?;
    let career = state.node.career(&parsed)?;
    if person.is_none() && career.is_none() {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            code::UNKNOWN_PERSON,
            "Unknown person",
            "this ledger holds nothing for the subject".to_string(),
        ));
    }
    let view = PersonView::new(
        &parsed,
        &person.unwrap_or_default(),
        &career.unwrap_or_default(),
        &state.node.registry(),
    );
    Ok(no_store(Json(view).into_response()))
}

/// Which statistics: `by=route` for the route dimension.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// `route`: how the talent standing now was produced (evaluation, direct, contest,
    /// conversion, appointment, apprenticeship).
    #[param(schema_with = crate::openapi::forms::stats_dimension)]
    pub by: Option<String>,
}

/// Statistics: certificates per level, province, occupation group and year; holders per
/// highest level; the high-skill share (高技能人才占比).
#[utoipa::path(
    get, path = "/v1/stats", tag = "statistics",
    params(StatsQuery),
    responses(
        (status = 200, description = "The statistics document (sorted keys, no timestamps)", body = Object,
         example = json!({"certificates": {"issued": 2, "revoked": 0, "valid": 2, "issued_by_year": {"2024": 2},
            "valid_by_level": {"junior": 1, "intermediate": 1}, "valid_by_province": {"50": 2},
            "valid_by_occupation_group": {"6": 2}, "valid_by_year": {"2024": 2}, "valid_by_route": {"evaluation": 2}},
            "holders": {"total": 1, "by_highest_level": {"intermediate": 1}, "high_skill": 0, "high_skill_share": 0.0}})),
        (status = 400, description = "A dimension other than route and kind, or a malformed query string", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The ledger could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn stats(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<Response, Problem> {
    let counters = state.node.stats()?;
    let document = match query.by.as_deref() {
        None => stats_document(&counters),
        Some("route") => skill_ledger_node::stats_by_route(&counters),
        Some("kind") => skill_ledger_node::stats_by_kind(&counters),
        Some(other) => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                code::BAD_REQUEST,
                "Bad request",
                format!("by={other}: the dimensions are route and kind"),
            ))
        }
    };
    let mut response = Json(document).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=5"),
    );
    Ok(response)
}

/// The recognition (互认) this ledger would record for a partner's credential.
#[derive(serde::Serialize, Deserialize, utoipa::ToSchema, Clone, Debug)]
pub struct RecognitionDraft {
    /// The partner's origin, e.g. `skill-ledger/51`.
    pub origin: String,
    /// The credential's entry in the partner's log.
    pub entry_index: u64,
    /// RFC 6962 leaf hash of that entry, 64 hex characters.
    pub leaf_hash: String,
    pub certificate_number: String,
    /// The holder's subject, 64 hex characters.
    pub subject: String,
    /// Level id, e.g. `junior`.
    pub level: String,
    /// The occupation on the partner's ledger.
    pub partner_occupation: String,
    /// The home occupation it maps to (the policy's `[recognition]` mapping in force today).
    pub occupation: String,
    /// The issue date at the origin, `YYYY-MM-DD`.
    pub issued: String,
    /// Today by the node's clock, `YYYY-MM-DD`: the signer may date the recognition otherwise.
    pub date: String,
}

/// The unsigned recognition of a partner's credential, built from this ledger's mirror of the
/// partner: what `skill-ledger recognize --node` signs with the authority key and submits to
/// `POST /v1/events`, which checks it against the mirror again.
///
/// Nothing here is secret: every member is in the partner's public log. A credential the
/// origin revoked is refused (422 `credential-revoked-at-origin`).
#[utoipa::path(
    get, path = "/v1/partner-credentials/{cert_no}/recognition", tag = "federation",
    params(CertificateNumberPath),
    responses(
        (status = 200, description = "The recognition, unsigned", body = RecognitionDraft),
        (status = 400, description = "Malformed certificate number", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No partner answers for the certificate's province (unknown-partner), or its mirror does not hold it (credential-not-in-mirror)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The origin revoked the credential (credential-revoked-at-origin), or no policy is in force today (no-policy)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The partner's mirror could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn recognition_draft(
    State(state): State<AppState>,
    ApiPath(cert_no): ApiPath<String>,
) -> Result<Response, Problem> {
    use skill_ledger_sync::RecognitionCheckKind as Kind;
    let number = parse_certificate_number(&cert_no)?;
    let mirror_problem = |error: skill_ledger_sync::SyncError| {
        tracing::error!(%error, "partner mirror query failed");
        Problem::internal(format!("the partner mirror could not answer: {error}"))
    };
    let Some((partner, _)) = state
        .federation
        .partner_for(&number)
        .map_err(mirror_problem)?
    else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            code::UNKNOWN_PARTNER,
            "Unknown partner",
            format!(
                "no partner of this ledger answers for province {} of certificate {number}",
                number.province()
            ),
        ));
    };
    let today = state.node.today();
    let registry = state.node.registry();
    let policy = registry.policy_at(today).ok_or_else(|| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::NO_POLICY,
            "No policy in force",
            format!("no policy is in force on {today}"),
        )
    })?;
    let recognised =
        skill_ledger_sync::recognition_from_mirror(partner.reader(), policy, &number, today)
            .map_err(|error| {
                let problem = Problem::recognition(&error);
                match error.kind {
                    Kind::UnknownPartner | Kind::NotInMirror => Problem {
                        status: StatusCode::NOT_FOUND,
                        ..problem
                    },
                    Kind::Store => Problem {
                        status: StatusCode::INTERNAL_SERVER_ERROR,
                        ..problem
                    },
                    _ => problem,
                }
            })?;
    Ok(no_store(
        Json(RecognitionDraft {
            origin: recognised.origin,
            entry_index: recognised.entry_index,
            leaf_hash: hex::encode(recognised.leaf_hash),
            certificate_number: recognised.certificate_number.to_string(),
            subject: recognised.subject.to_hex(),
            level: recognised.level.id().to_string(),
            partner_occupation: recognised.partner_occupation.to_string(),
            occupation: recognised.occupation.to_string(),
            issued: recognised.issued.to_string(),
            date: recognised.date.to_string(),
        })
        .into_response(),
    ))
}

// ---------------------------------------------------------------------------------------
// Batches: many entries per request, answered entry by entry; and the dry run
// ---------------------------------------------------------------------------------------

/// Most entries one `POST /v1/events/batch` carries (the body limit usually binds first:
/// about 270 certifications fit in the default 128 KiB).
pub const BATCH_ENTRIES_MAX: usize = 10_000;

/// A batch of signed entries, submitted in order.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchSubmitRequest {
    /// The entries, each the standard base64 of an entry as `POST /v1/events` takes it, in
    /// the order the node is to decide them.
    #[schema(schema_with = crate::openapi::forms::entries)]
    pub entries: Vec<String>,
    /// Decide every entry against the ledger's current state (and the entries before it in
    /// this batch) without writing anything: the answer says, entry by entry, what a real
    /// submission would answer.
    #[serde(default)]
    pub dry_run: bool,
}

/// What became of one entry of a batch.
#[derive(Serialize, Deserialize, utoipa::ToSchema, Clone, Debug, PartialEq)]
pub struct BatchEntryResult {
    /// Position of the entry in the request, from 0.
    pub position: usize,
    /// `accepted` (committed durably; in a dry run: would be), `duplicate` (the same entry
    /// is already on the ledger at `index`), `rejected` (`code` says by which rule or check),
    /// or `unavailable` (the node could not take it now: retry the same entry later).
    pub outcome: String,
    /// Entry index in the log (accepted or duplicate; none for an accepted dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The event id, 32 hex characters (when the entry decoded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// The event kind, e.g. `level_certified` (when the entry decoded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The problem code of a refused entry: a rule's code, `malformed-entry`, a mirror check,
    /// or for `unavailable` `overloaded`, `stopped`, `storage-full`, `mirror-unavailable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The HTTP status `POST /v1/events` would have answered for this entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The rule in Chinese, for a rule's rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail_zh: Option<String>,
}

/// The answer to a batch: one result per entry, in order.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchSubmitResponse {
    pub dry_run: bool,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub unavailable: u64,
    pub results: Vec<BatchEntryResult>,
    /// A signed checkpoint whose tree contains every accepted and duplicate entry (none in a
    /// dry run, or when nothing was committed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointView>,
}

impl BatchEntryResult {
    fn new(position: usize, outcome: &str, signed: Option<&SignedEvent>) -> BatchEntryResult {
        BatchEntryResult {
            position,
            outcome: outcome.to_string(),
            index: None,
            event_id: signed.map(|signed| signed.event.id.to_hex()),
            event: signed.map(|signed| signed.event.kind.name().to_string()),
            code: None,
            status: None,
            detail: None,
            detail_zh: None,
        }
    }

    fn refused(
        position: usize,
        signed: Option<&SignedEvent>,
        problem: &Problem,
    ) -> BatchEntryResult {
        let outcome = if problem.status == StatusCode::SERVICE_UNAVAILABLE {
            "unavailable"
        } else {
            "rejected"
        };
        BatchEntryResult {
            code: Some(problem.code.to_string()),
            status: Some(problem.status.as_u16()),
            detail: Some(problem.detail.clone()),
            detail_zh: problem
                .extensions
                .get("detail_zh")
                .and_then(|value| value.as_str())
                .map(str::to_string),
            ..BatchEntryResult::new(position, outcome, signed)
        }
    }
}

/// Submit a batch of signed entries, or decide them without writing (`dry_run`).
///
/// The entries are decided in order, each after the ones before it (a person's 四级 earlier
/// in the batch counts for their 三级 later), exactly as if each had been posted to
/// `POST /v1/events` one after the other; the answer comes after the durable commit of all
/// of them, one result per entry. A refused entry refuses nothing else. Resubmitting an entry
/// already on the ledger answers `duplicate` with its first index, so a batch interrupted
/// half-way is safely sent again whole. With `dry_run: true` nothing is written: each entry
/// is checked (form, signature, the mirror checks of 互认, the admission dates, every rule)
/// against the ledger as it stands plus the entries before it in the batch.
#[utoipa::path(
    post, path = "/v1/events/batch", tag = "events",
    request_body = BatchSubmitRequest,
    responses(
        (status = 200, description = "One result per entry (committed durably unless dry_run)", body = BatchSubmitResponse),
        (status = 400, description = "The body is not JSON (bad-request, with position)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within request_timeout_ms", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body over body_bytes_max", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not application/json (or +json)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A member missing, unknown or of the wrong type, or no entry, or more than 10000 (invalid-field); a member of entries that is not standard base64 (malformed-entry, naming it: the whole request is refused)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The ledger could not be read (dry run)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, description = "The node has stopped or its disk is full before any entry was taken; Retry-After says when to retry", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn submit_batch(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<BatchSubmitRequest>,
) -> Result<Response, Problem> {
    let count = request.entries.len();
    if count == 0 || count > BATCH_ENTRIES_MAX {
        return Err(Problem::invalid_field(
            "entries",
            format!("field entries: {count} entries; a batch carries 1 to {BATCH_ENTRIES_MAX}"),
        ));
    }
    // A member that is not base64 at all breaks the request's own form (the document's
    // pattern): the whole request is refused, naming it, as `POST /v1/events` refuses it.
    // Base64 that is not an entry is that entry's answer below.
    if let Some(position) = request.entries.iter().position(|text| {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .is_err()
    }) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::MALFORMED_ENTRY,
            "Malformed entry",
            format!("field entries[{position}] is not standard base64"),
        )
        .with_field("entries"));
    }
    state
        .counters
        .submissions
        .fetch_add(count as u64, Ordering::Relaxed);
    let retry = state.config.retry_after_s;
    if let Some(reason) = state.node.stopped() {
        return Err(Problem::submit_error(&SubmitError::Stopped(reason), retry));
    }
    let admitted: Vec<Result<(SignedEvent, Vec<u8>), Problem>> = request
        .entries
        .iter()
        .map(|text| admit(&state, text))
        .collect();
    let node = state.node.clone();
    let dry_run = request.dry_run;
    let mut results: Vec<BatchEntryResult> = Vec::with_capacity(count);
    let mut checkpoint = None;
    if dry_run {
        let decided = tokio::task::spawn_blocking(move || {
            let candidates: Vec<Option<(&SignedEvent, &[u8])>> = admitted
                .iter()
                .map(|admitted| {
                    admitted
                        .as_ref()
                        .ok()
                        .map(|(signed, entry)| (signed, entry.as_slice()))
                })
                .collect();
            decide_without_writing(&node, &candidates).map(|decisions| (admitted, decisions))
        })
        .await
        .map_err(|error| Problem::internal(format!("the dry run failed: {error}")))?;
        let (admitted, decisions) = decided?;
        for (position, (admitted, decision)) in admitted.iter().zip(decisions).enumerate() {
            results.push(match (admitted, decision) {
                (Err(problem), _) => BatchEntryResult::refused(position, None, problem),
                (Ok((signed, _)), Some(DryRun::Accepted)) => {
                    BatchEntryResult::new(position, "accepted", Some(signed))
                }
                (Ok((signed, _)), Some(DryRun::Duplicate(index))) => BatchEntryResult {
                    index: Some(index),
                    ..BatchEntryResult::new(position, "duplicate", Some(signed))
                },
                (Ok((signed, _)), Some(DryRun::Rejected(rejection))) => BatchEntryResult::refused(
                    position,
                    Some(signed),
                    &Problem::rejection(&rejection),
                ),
                (Ok((signed, _)), None) => {
                    BatchEntryResult::new(position, "rejected", Some(signed))
                }
            });
        }
    } else {
        // Queued in order from one thread (waiting for queue space rather than shedding: the
        // batch is one request), then every answer awaited.
        let queued = tokio::task::spawn_blocking(move || {
            admitted
                .into_iter()
                .map(|admitted| {
                    admitted.map(|(signed, entry)| {
                        let pending = node.submit_entry_pending(entry);
                        (signed, pending)
                    })
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|error| Problem::internal(format!("queueing the batch failed: {error}")))?;
        for (position, queued) in queued.into_iter().enumerate() {
            let result = match queued {
                Err(problem) => BatchEntryResult::refused(position, None, &problem),
                Ok((signed, Err(error))) => BatchEntryResult::refused(
                    position,
                    Some(&signed),
                    &Problem::submit_error(&error, retry),
                ),
                Ok((signed, Ok(pending))) => match pending.into_receiver().await {
                    Err(_) => BatchEntryResult::refused(
                        position,
                        Some(&signed),
                        &Problem::submit_error(
                            &SubmitError::Stopped(Failure::sequencer_ended()),
                            retry,
                        ),
                    ),
                    Ok(Err(error)) => BatchEntryResult::refused(
                        position,
                        Some(&signed),
                        &Problem::submit_error(&error, retry),
                    ),
                    Ok(Ok(receipt)) => {
                        let outcome = if receipt.duplicate {
                            "duplicate"
                        } else {
                            "accepted"
                        };
                        checkpoint = Some(receipt.checkpoint.clone());
                        BatchEntryResult {
                            index: Some(receipt.index),
                            ..BatchEntryResult::new(position, outcome, Some(&signed))
                        }
                    }
                },
            };
            results.push(result);
        }
    }
    let count_of = |outcome: &str| results.iter().filter(|r| r.outcome == outcome).count() as u64;
    let response = BatchSubmitResponse {
        dry_run,
        accepted: count_of("accepted"),
        duplicates: count_of("duplicate"),
        rejected: count_of("rejected"),
        unavailable: count_of("unavailable"),
        checkpoint: checkpoint.map(|signed| CheckpointView::new(&signed)),
        results,
    };
    Ok(no_store(Json(response).into_response()))
}

/// What the node would answer to one entry of a dry run.
#[derive(Clone, Debug, PartialEq)]
pub enum DryRun {
    /// Every check and rule passes: a submission would be accepted.
    Accepted,
    /// The same entry is already on the ledger (or earlier in the batch), at this index.
    Duplicate(u64),
    /// Refused by this rule (or by an admission check the node runs with its clock).
    Rejected(Rejection),
}

/// The records as the node holds them, plus the changes of the entries decided before in
/// this dry run: what `decide` reads, with nothing written anywhere.
struct DryRunView<'a> {
    node: &'a Node,
    credentials: HashMap<CertificateNumber, CredentialRecord>,
    special_abilities: HashMap<CertificateNumber, skill_ledger_domain::SpecialAbilityRecord>,
    persons: HashMap<SubjectId, PersonRecord>,
    careers: HashMap<SubjectId, CareerRecord>,
    /// Event ids known to be on the ledger or earlier in the batch, and their index.
    event_ids: HashMap<EventId, u64>,
    /// A store read that failed while deciding: the dry run fails rather than answer from it.
    failure: RefCell<Option<NodeError>>,
}

impl DryRunView<'_> {
    fn read<T>(&self, read: Result<Option<T>, NodeError>) -> Option<T> {
        read.unwrap_or_else(|error| {
            self.failure.borrow_mut().get_or_insert(error);
            None
        })
    }
}

impl RecordView for DryRunView<'_> {
    fn credential(&self, number: &CertificateNumber) -> Option<CredentialRecord> {
        match self.credentials.get(number) {
            Some(record) => Some(record.clone()),
            None => self.read(self.node.credential(number)),
        }
    }

    fn special_ability(
        &self,
        number: &CertificateNumber,
    ) -> Option<skill_ledger_domain::SpecialAbilityRecord> {
        match self.special_abilities.get(number) {
            Some(record) => Some(record.clone()),
            None => self.read(self.node.special_ability(number)),
        }
    }

    fn person(&self, subject: &SubjectId) -> Option<PersonRecord> {
        match self.persons.get(subject) {
            Some(record) => Some(record.clone()),
            None => self.read(self.node.person(subject)),
        }
    }

    fn event_index(&self, id: &EventId) -> Option<u64> {
        self.event_ids.get(id).copied()
    }

    fn career(&self, subject: &SubjectId) -> Option<CareerRecord> {
        match self.careers.get(subject) {
            Some(record) => Some(record.clone()),
            None => self.read(self.node.career(subject)),
        }
    }

    fn keeps_careers(&self) -> bool {
        true
    }
}

/// Decides each entry (`None`: not decodable, skipped) as the node's sequencer would, in
/// order, each after the accepted ones before it, without writing: the signature, the
/// admission dates by the node's clock and `ledger.toml`, duplicates, and `decide`. The
/// dry run of `POST /v1/events/batch` and of `skill-ledger issue-batch --dry-run --dir`.
///
/// The node keeps no public index of event ids, so an entry's duplicate is found the way the
/// entries of a batch issue are identified: a certification whose certificate number is on
/// the ledger is compared with the entry that issued it (same bytes: duplicate; same event
/// id, other bytes: `duplicate-event-id`). Other kinds reusing an event id are found by
/// `decide`'s own rules where it has them.
pub fn decide_without_writing(
    node: &Node,
    entries: &[Option<(&SignedEvent, &[u8])>],
) -> Result<Vec<Option<DryRun>>, NodeError> {
    let config = skill_ledger_node::LedgerConfig::load(&node.paths().config())?;
    let today = node.today();
    let mut registry: Registry = (*node.registry()).clone();
    let mut view = DryRunView {
        node,
        credentials: HashMap::new(),
        special_abilities: HashMap::new(),
        persons: HashMap::new(),
        careers: HashMap::new(),
        event_ids: HashMap::new(),
        failure: RefCell::new(None),
    };
    // The entry bytes behind each id of `view.event_ids`, to tell a duplicate from a reuse.
    let mut entry_of: HashMap<EventId, Cow<'_, [u8]>> = HashMap::new();
    let mut next_index = node.entry_count();
    let mut decisions = Vec::with_capacity(entries.len());
    for candidate in entries {
        let Some((signed, entry)) = candidate else {
            decisions.push(None);
            continue;
        };
        let id = signed.event.id;
        // The entry that issued the certificate number, of either kind of certification.
        let issued_at = match &signed.event.kind {
            skill_ledger_domain::EventKind::LevelCertified(certified) => node
                .credential(&certified.certificate_number)?
                .map(|record| record.entry_index),
            skill_ledger_domain::EventKind::SpecialAbilityCertified(certified) => node
                .special_ability(&certified.certificate_number)?
                .map(|record| record.entry_index),
            _ => None,
        };
        if let Some(index) = issued_at {
            if let std::collections::hash_map::Entry::Vacant(vacant) = view.event_ids.entry(id) {
                let first = node.log_reader().read(index)?;
                if SignedEvent::from_entry(&first).is_ok_and(|first| first.event.id == id) {
                    vacant.insert(index);
                    entry_of.insert(id, Cow::Owned(first));
                }
            }
        }
        // In the node's order: admission by its clock (before queueing), then duplicates,
        // the signature, the rules.
        let admitted = check_not_dated_in_future(&signed.event.kind, today)
            .and_then(|()| check_not_backdated(signed, today, config.sequencer.backdate_days_max));
        let decision = if let Err(rejection) = admitted {
            DryRun::Rejected(rejection)
        } else if let Some(first) = view.event_ids.get(&id).copied() {
            if entry_of
                .get(&id)
                .is_some_and(|bytes| bytes.as_ref() == *entry)
            {
                DryRun::Duplicate(first)
            } else {
                DryRun::Rejected(skill_ledger_domain::reused_event_id(signed, first))
            }
        } else if !signed.verify_signature(node.origin()) {
            DryRun::Rejected(Rejection::BadSignature)
        } else {
            match decide(&registry, &view, signed) {
                Err(rejection) => DryRun::Rejected(rejection),
                Ok(()) => {
                    let changes = apply(&registry, &view, signed, next_index);
                    next_index += 1;
                    view.event_ids.insert(changes.event_id, changes.index);
                    entry_of.insert(id, Cow::Borrowed(*entry));
                    if let Some(change) = changes.registry {
                        registry.absorb(change);
                    }
                    if let Some(credential) = changes.credential {
                        view.credentials
                            .insert(credential.certificate_number, credential);
                    }
                    if let Some(record) = changes.special_ability {
                        view.special_abilities
                            .insert(record.certificate_number, record);
                    }
                    if let Some((subject, person)) = changes.person {
                        view.persons.insert(subject, person);
                    }
                    if let Some((subject, career)) = changes.career {
                        view.careers.insert(subject, career);
                    }
                    DryRun::Accepted
                }
            }
        };
        if let Some(error) = view.failure.take() {
            return Err(error);
        }
        decisions.push(Some(decision));
    }
    Ok(decisions)
}
