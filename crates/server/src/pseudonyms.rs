//! `POST /v1/pseudonyms`: the pseudonym service for evaluation bodies.
//!
//! A credential carries the holder's subject and name commitment, both keyed with the
//! pseudonym key that partner authorities share (docs/security.md, "The pseudonym key").
//! Bodies never hold that key: a body's system sends the holder's document and name with the
//! certificate number, signed with the body's current registered Ed25519 key over
//! [`pseudonym_request_message`] (docs/formats.md part 5), and the node answers the subject and
//! the commitment. What a rogue body can then learn is bounded here:
//!
//! * only a registered body that is active today, with its key in force today (not revoked);
//! * only for certificate numbers of its own (a name commitment of another body's certificate
//!   would let it test names against the public log);
//! * a timestamp within `pseudonym_timestamp_window_s` of the node's clock;
//! * at most `pseudonym_items_max` items a request and `pseudonym_rate_per_s` items a second
//!   (token bucket per body, burst `pseudonym_burst`; 429 with `Retry-After` beyond);
//! * every answered request is appended, before the answer leaves, to
//!   `pseudonym-requests.log` in the ledger directory ([`PseudonymAudit`]): the body, the
//!   key, the times, the item count, the certificate numbers and the subjects answered, never
//!   a document number or a name. A request that cannot be recorded is not answered (500).

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use skill_ledger_domain::{
    normalise_document_number, pseudonym_request_message, verify_pseudonym_request, BodyRecord,
    BodyStatus, CertificateNumber, IdDocumentType, IdParseError, PseudonymItemText,
    RegistrationNumber, NAME_CHARS_MAX,
};
use utoipa::ToSchema;

use crate::limits::ApiJson;
use crate::problem::{code, Problem, ProblemDocument};
use crate::state::AppState;

/// The audit file's name in the ledger directory.
pub const AUDIT_FILE_NAME: &str = "pseudonym-requests.log";

/// Longest identity-document number accepted, in characters once normalised.
pub const ID_NUMBER_CHARS_MAX: usize = 64;

/// `POST /v1/pseudonyms`: a body asks for its holders' pseudonyms.
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct PseudonymRequest {
    /// The asking body's registration number.
    #[schema(schema_with = crate::openapi::forms::registration_number)]
    pub registration_number: String,
    /// The body's public key that signed (its key in force today), 64 hex characters.
    #[schema(schema_with = crate::openapi::forms::public_key)]
    pub public_key: String,
    /// When the request was made, Unix seconds; within `pseudonym_timestamp_window_s` of the
    /// node's clock.
    #[schema(minimum = 0)]
    pub timestamp_unix_s: u64,
    /// The holders, at least one, at most `pseudonym_items_max` (100 by default).
    #[schema(min_items = 1)]
    pub items: Vec<PseudonymItem>,
    /// Standard base64 of the Ed25519 signature over the request message (docs/formats.md
    /// part 5, "Pseudonyms for a body").
    #[schema(schema_with = crate::openapi::forms::signature)]
    pub signature: String,
}

/// One holder of one certificate of the asking body.
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct PseudonymItem {
    /// The identity-document type.
    #[schema(schema_with = crate::openapi::forms::document_type)]
    pub id_type: String,
    /// The identity-document number (white space and `-` are ignored).
    #[schema(schema_with = crate::openapi::forms::document_number)]
    pub id_number: String,
    /// The holder's name as it will be printed.
    #[schema(schema_with = crate::openapi::forms::holder_name)]
    pub name: String,
    /// The certificate number the name commitment is bound to; one of the asking body's.
    #[schema(schema_with = crate::openapi::forms::certificate_number)]
    pub certificate_number: String,
}

/// The pseudonyms, item by item in the order asked.
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug)]
pub struct PseudonymResponse {
    pub registration_number: String,
    pub items: Vec<PseudonymAnswer>,
}

/// What a credential of this holder carries.
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug)]
pub struct PseudonymAnswer {
    pub certificate_number: String,
    /// The holder's subject, 64 hex characters.
    pub subject: String,
    /// The commitment to the holder's name on this certificate, 64 hex characters.
    pub name_commitment: String,
}

/// A request checked for shape, before the body is authenticated.
struct Checked {
    body: RegistrationNumber,
    public_key: [u8; 32],
    signature: [u8; 64],
    items: Vec<(IdDocumentType, CertificateNumber)>,
}

fn item_field(index: usize, field: &str) -> String {
    format!("items[{index}].{field}")
}

fn invalid_item(index: usize, field: &str, detail: String) -> Problem {
    Problem::invalid_field(&item_field(index, field), detail)
}

/// What is wrong with an identity number, if anything: it normalises to something, not longer
/// than [`ID_NUMBER_CHARS_MAX`], of ASCII letters and digits, and passes the domain's check
/// by document type (GB 11643-1999 for a resident ID card: length, province, birth date, the
/// ISO 7064 MOD 11-2 check character), the same check `issue` applies.
fn identity_number_problem(kind: IdDocumentType, number: &str) -> Option<String> {
    let normalised = normalise_document_number(number);
    if normalised.is_empty() {
        return Some("is empty once white space and '-' are removed".to_string());
    }
    if normalised.chars().count() > ID_NUMBER_CHARS_MAX {
        return Some(format!("is over {ID_NUMBER_CHARS_MAX} characters"));
    }
    if !normalised.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Some(format!(
            "is not a {} number: only letters and digits (with white space or '-')",
            kind.code()
        ));
    }
    // The domain's check by document type (GB 11643 for resident ID cards: length, province,
    // birth date, check character); the reason names no part of the number.
    skill_ledger_domain::check_document_number(kind, number)
        .err()
        .map(|error| format!("is refused: {}", error.kind))
}

fn bad_identity_number(index: usize, kind: IdDocumentType, why: String) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code::BAD_IDENTITY_NUMBER,
        "Bad identity number",
        format!(
            "field {}: the {} number {why}",
            item_field(index, "id_number"),
            kind.code()
        ),
    )
    .with_field(&item_field(index, "id_number"))
}

fn check_shape(request: &PseudonymRequest, items_max: u32) -> Result<Checked, Problem> {
    let body: RegistrationNumber =
        request
            .registration_number
            .parse()
            .map_err(|error: IdParseError| {
                Problem::invalid_field(
                    "registration_number",
                    format!("field registration_number: {error}"),
                )
            })?;
    let public_key = hex::decode(&request.public_key)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| {
            Problem::invalid_field("public_key", "field public_key is not 64 hex characters")
        })?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(&request.signature)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .ok_or_else(|| {
            Problem::invalid_field(
                "signature",
                "field signature is not the standard base64 of 64 bytes",
            )
        })?;
    if request.items.is_empty() {
        return Err(Problem::invalid_field(
            "items",
            "field items must hold at least one item",
        ));
    }
    if request.items.len() > items_max as usize {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::TOO_MANY_ITEMS,
            "Too many items",
            format!(
                "the request holds {} items, over the limit of {items_max} a request: split it",
                request.items.len()
            ),
        )
        .with_field("items")
        .with("items_max", items_max));
    }
    let mut items = Vec::with_capacity(request.items.len());
    for (index, item) in request.items.iter().enumerate() {
        let kind = IdDocumentType::from_code(&item.id_type).ok_or_else(|| {
            invalid_item(
                index,
                "id_type",
                format!(
                    "field {}: '{}' is not a document type (resident_id, hmt, passport, foreign_permanent)",
                    item_field(index, "id_type"),
                    item.id_type
                ),
            )
        })?;
        crate::verify::check_holder_text("id_number", &item.id_number)
            .map_err(|_| bad_identity_number(index, kind, "is empty or too long".to_string()))?;
        if let Some(why) = identity_number_problem(kind, &item.id_number) {
            return Err(bad_identity_number(index, kind, why));
        }
        crate::verify::check_holder_text("name", &item.name).map_err(|problem| {
            invalid_item(
                index,
                "name",
                problem
                    .detail
                    .replace("field name", &item_field(index, "name")),
            )
        })?;
        if item.name.chars().count() > NAME_CHARS_MAX {
            return Err(invalid_item(
                index,
                "name",
                format!(
                    "field {} is over {NAME_CHARS_MAX} characters",
                    item_field(index, "name")
                ),
            ));
        }
        let number: CertificateNumber =
            item.certificate_number
                .parse()
                .map_err(|error: IdParseError| {
                    invalid_item(
                        index,
                        "certificate_number",
                        format!("field {}: {error}", item_field(index, "certificate_number")),
                    )
                })?;
        items.push((kind, number));
    }
    Ok(Checked {
        body,
        public_key,
        signature,
        items,
    })
}

fn forbidden(code: &'static str, title: &str, detail: String, body: RegistrationNumber) -> Problem {
    Problem::new(StatusCode::FORBIDDEN, code, title, detail)
        .with("registration_number", body.to_string())
}

/// The body, active today with `public_key` in force today, or why not.
fn check_body(
    record: Option<BodyRecord>,
    checked: &Checked,
    today: skill_ledger_domain::Date,
) -> Result<BodyRecord, Problem> {
    let number = checked.body;
    let body = record.ok_or_else(|| {
        forbidden(
            code::UNKNOWN_BODY,
            "Unknown body",
            format!("body {number} is not registered on this ledger"),
            number,
        )
    })?;
    let status = body.status_at(today);
    if status != BodyStatus::Active || today < body.valid_from || today > body.valid_until {
        let why = if status == BodyStatus::Active {
            format!(
                "its registration is valid from {} to {}, and today is {today}",
                body.valid_from, body.valid_until
            )
        } else {
            format!("it is {} on {today}", status.id())
        };
        return Err(forbidden(
            code::BODY_NOT_ACTIVE,
            "Body not active",
            format!("body {number} may not ask for pseudonyms: {why}"),
            number,
        ));
    }
    if let Some(revoked) = body.revocation_of(&checked.public_key) {
        return Err(forbidden(
            code::KEY_NOT_CURRENT,
            "Key not current",
            format!(
                "key {} of body {number} was declared compromised by entry {}",
                hex::encode(checked.public_key),
                revoked.entry_index
            ),
            number,
        ));
    }
    match body.key_at(today) {
        Some(current) if current == checked.public_key => Ok(body),
        Some(current) => Err(forbidden(
            code::KEY_NOT_CURRENT,
            "Key not current",
            format!(
                "key {} is not body {number}'s key in force today ({})",
                hex::encode(checked.public_key),
                hex::encode(current)
            ),
            number,
        )),
        None => Err(forbidden(
            code::KEY_NOT_CURRENT,
            "Key not current",
            format!("body {number} has no key in force today"),
            number,
        )),
    }
}

/// The append-only audit of answered pseudonym requests: one JSON line each, written and
/// synced (`fdatasync`) before the answer is sent.
pub struct PseudonymAudit {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl PseudonymAudit {
    /// The audit of the ledger in `dir` (the file is created on the first request).
    pub fn new(dir: &Path) -> PseudonymAudit {
        PseudonymAudit {
            path: dir.join(AUDIT_FILE_NAME),
            file: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record and syncs it.
    pub fn append(&self, record: &serde_json::Value) -> std::io::Result<()> {
        let mut line = record.to_string();
        line.push('\n');
        let mut file = match self.file.lock() {
            Ok(file) => file,
            Err(poisoned) => poisoned.into_inner(),
        };
        let open = match file.take() {
            Some(open) => open,
            None => {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .mode(0o600)
                    .open(&self.path)?
            }
        };
        let written = (&open)
            .write_all(line.as_bytes())
            .and_then(|()| open.sync_data());
        // After a failed write the file is opened again on the next request: the handle
        // may be in any state.
        if written.is_ok() {
            *file = Some(open);
        }
        written
    }
}

/// Pseudonyms for an evaluation body's holders.
///
/// The request is signed by the body's key in force today (docs/formats.md part 5,
/// "Pseudonyms for a body"); the node answers each item's subject and name commitment, so the
/// body never holds the pseudonym key. Only the body's own certificate numbers; rate-limited
/// per body (items per second); every answered request is recorded in the node's audit file
/// with its subjects (never a document number or a name).
#[utoipa::path(
    post, path = "/v1/pseudonyms", tag = "pseudonyms",
    request_body = PseudonymRequest,
    responses(
        (status = 200, description = "The pseudonyms, item by item", body = PseudonymResponse),
        (status = 400, description = "The body is not JSON (bad-request, with position)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Not answered for this signer: unknown-body, body-not-active (suspended, cancelled or outside its validity), key-not-current (not the body's key in force today, or revoked), bad-signature, stale-timestamp (outside the window of the node's clock), not-own-certificate (a certificate number of another body)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within request_timeout_ms", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body over body_bytes_max", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not application/json (or +json)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A member missing, unknown or invalid (invalid-field, named in field); too-many-items (over pseudonym_items_max); bad-identity-number", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "Over the body's pseudonym rate; Retry-After says when to retry", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The request could not be recorded in the audit file: nothing is answered", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn pseudonyms(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<PseudonymRequest>,
) -> Result<Response, Problem> {
    let config = &state.config;
    let checked = check_shape(&request, config.pseudonym_items_max)?;
    let number = checked.body;
    let now = state.node.now_unix_s();
    let today = state.node.today();
    check_body(state.node.body(&number), &checked, today)?;
    let texts: Vec<PseudonymItemText<'_>> = request
        .items
        .iter()
        .map(|item| PseudonymItemText {
            id_type: &item.id_type,
            id_number: &item.id_number,
            name: &item.name,
            certificate_number: &item.certificate_number,
        })
        .collect();
    let message = pseudonym_request_message(
        state.node.origin(),
        &request.registration_number,
        request.timestamp_unix_s,
        &texts,
    );
    if !verify_pseudonym_request(&checked.public_key, &message, &checked.signature) {
        return Err(forbidden(
            code::BAD_SIGNATURE,
            "Bad signature",
            format!(
                "the signature does not verify with key {} over the request message for ledger {} \
                 (docs/formats.md part 5, \"Pseudonyms for a body\")",
                request.public_key,
                state.node.origin()
            ),
            number,
        ));
    }
    let window = config.pseudonym_timestamp_window_s;
    if now.abs_diff(request.timestamp_unix_s) > window {
        return Err(forbidden(
            code::STALE_TIMESTAMP,
            "Stale timestamp",
            format!(
                "timestamp_unix_s {} is {} s from the node's clock ({now}), over the window of {window} s: \
                 sign a new request with the current time",
                request.timestamp_unix_s,
                now.abs_diff(request.timestamp_unix_s)
            ),
            number,
        )
        .with("node_time_unix_s", now));
    }
    if let Some((index, (_, other))) = checked
        .items
        .iter()
        .enumerate()
        .find(|(_, (_, certificate))| certificate.registration_number() != number)
    {
        return Err(forbidden(
            code::NOT_OWN_CERTIFICATE,
            "Not the body's certificate",
            format!(
                "field {}: certificate {other} belongs to body {}, not to {number}",
                item_field(index, "certificate_number"),
                other.registration_number()
            ),
            number,
        )
        .with_field(&item_field(index, "certificate_number")));
    }
    let count = checked.items.len() as u32;
    if let Err(seconds) = state.pseudonym_limiter.take(number, count, Instant::now()) {
        state.counters.count_rate_limited();
        return Err(Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            code::RATE_LIMITED,
            "Too many pseudonyms",
            format!(
                "body {number} may ask for {} pseudonyms a second (burst {}); this request asks for {count}: retry after {seconds} s",
                config.pseudonym_rate_per_s, config.pseudonym_burst
            ),
        )
        .with("registration_number", number.to_string())
        .retry_after(seconds));
    }
    let key = state.node.pseudonym_key();
    let answers: Vec<PseudonymAnswer> = request
        .items
        .iter()
        .zip(&checked.items)
        .map(|(item, (kind, certificate))| PseudonymAnswer {
            certificate_number: certificate.to_string(),
            subject: key.subject(*kind, &item.id_number).to_hex(),
            name_commitment: key.commit_name(certificate.as_str(), &item.name).to_hex(),
        })
        .collect();
    let record = serde_json::json!({
        "time_unix_s": now,
        "request_timestamp_unix_s": request.timestamp_unix_s,
        "body": number.to_string(),
        "public_key": hex::encode(checked.public_key),
        "items": count,
        "certificate_numbers": answers.iter().map(|answer| answer.certificate_number.as_str()).collect::<Vec<_>>(),
        "subjects": answers.iter().map(|answer| answer.subject.as_str()).collect::<Vec<_>>(),
    });
    let audit = state.pseudonym_audit.clone();
    let appended = tokio::task::spawn_blocking(move || audit.append(&record))
        .await
        .map_err(|error| std::io::Error::other(error.to_string()))
        .and_then(|result| result);
    if let Err(error) = appended {
        tracing::error!(%error, path = %state.pseudonym_audit.path().display(), "the pseudonym audit could not be written");
        return Err(Problem::internal(format!(
            "the request could not be recorded in the audit file ({error}): no pseudonym is answered unrecorded"
        )));
    }
    state
        .counters
        .pseudonyms
        .fetch_add(u64::from(count), std::sync::atomic::Ordering::Relaxed);
    tracing::info!(body = %number, items = count, "pseudonyms answered");
    Ok(crate::api::no_store(
        Json(PseudonymResponse {
            registration_number: number.to_string(),
            items: answers,
        })
        .into_response(),
    ))
}
