//! RFC 9457 problem details: every error the service answers, as `application/problem+json`.
//!
//! The `type` of a problem is `urn:skill-ledger:problem:<code>`, where `<code>` is stable:
//! for a refused event it is [`Rejection::code`], for everything else one of the constants
//! below. Clients match on `type` (or the `code` extension member, the same text).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use skill_ledger_domain::Rejection;
use skill_ledger_node::SubmitError;
use utoipa::ToSchema;

/// Prefix of every problem `type`.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:skill-ledger:problem:";
/// The media type of every error answer.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Stable codes of the problems that are not rule rejections.
pub mod code {
    /// The request body is not JSON (syntax), or a parameter is malformed.
    pub const BAD_REQUEST: &str = "bad-request";
    /// The JSON is well formed but a field is missing, of the wrong type, or invalid.
    pub const INVALID_FIELD: &str = "invalid-field";
    /// The submitted entry is not base64, or its bytes do not decode as an entry (422: the
    /// JSON is well formed, the value of its `entry` member is not an entry).
    pub const MALFORMED_ENTRY: &str = "malformed-entry";
    /// The request body is larger than `body_bytes_max`.
    pub const BODY_TOO_LARGE: &str = "body-too-large";
    /// The request body is not `application/json`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported-media-type";
    /// The request body did not arrive within the request timeout.
    pub const REQUEST_TIMEOUT: &str = "request-timeout";
    /// The service is at its limit (queue full, too many requests in flight, slow commit).
    pub const OVERLOADED: &str = "overloaded";
    /// A client sent more verifications than its rate allows.
    pub const RATE_LIMITED: &str = "rate-limited";
    /// The node stopped accepting submissions (an I/O failure in the sequencer).
    pub const STOPPED: &str = "stopped";
    /// The disk holding the ledger is full: nothing was written; retry once space is freed.
    pub const STORAGE_FULL: &str = "storage-full";
    /// No certificate with this number is on the ledger.
    pub const UNKNOWN_CERTIFICATE: &str = "unknown-certificate";
    /// A holder-bound bundle was asked for with a name that is not the holder's.
    pub const NAME_MISMATCH: &str = "name-mismatch";
    /// No body with this registration number is registered.
    pub const UNKNOWN_BODY: &str = "unknown-body";
    /// The ledger holds nothing for this subject.
    pub const UNKNOWN_PERSON: &str = "unknown-person";
    /// The path names no resource (including tiles beyond the published tree).
    pub const NOT_FOUND: &str = "not-found";
    /// The path exists but not with this method.
    pub const METHOD_NOT_ALLOWED: &str = "method-not-allowed";
    /// The request head is not HTTP/1.1: a malformed request line, header field or
    /// `Content-Length`, ambiguous framing, a missing `Host`, or not HTTP at all (a TLS
    /// handshake on the plain-HTTP port). Refused before routing; the connection is closed.
    pub const MALFORMED_REQUEST: &str = "malformed-request";
    /// The request target is longer than the server reads (414).
    pub const URI_TOO_LONG: &str = "uri-too-long";
    /// Too many header fields, or a request head larger than the server reads (431).
    pub const HEADERS_TOO_LARGE: &str = "headers-too-large";
    /// An HTTP version other than 1.0 and 1.1 (505).
    pub const HTTP_VERSION_NOT_SUPPORTED: &str = "http-version-not-supported";
    /// A `Transfer-Encoding` other than `chunked` (501).
    pub const UNSUPPORTED_TRANSFER_CODING: &str = "unsupported-transfer-coding";
    /// The ledger itself failed to answer (storage error).
    pub const INTERNAL: &str = "internal";
    /// A recognition names an origin that is not a partner of this ledger.
    pub const UNKNOWN_PARTNER: &str = "unknown-partner";
    /// A recognition names a certificate the partner's mirror does not hold.
    pub const CREDENTIAL_NOT_IN_MIRROR: &str = "credential-not-in-mirror";
    /// A recognition states another entry, leaf hash, subject, level, occupation or issue
    /// date than the partner's mirror holds.
    pub const MIRROR_DISAGREES: &str = "mirror-disagrees";
    /// A recognition names a credential its origin revoked.
    pub const CREDENTIAL_REVOKED_AT_ORIGIN: &str = "credential-revoked-at-origin";
    /// The partner's mirror could not be read.
    pub const MIRROR_UNAVAILABLE: &str = "mirror-unavailable";
    /// A pseudonym request's body is suspended, cancelled or outside its validity today.
    pub const BODY_NOT_ACTIVE: &str = "body-not-active";
    /// A pseudonym request names a key that is not the body's key in force today (or one
    /// declared compromised).
    pub const KEY_NOT_CURRENT: &str = "key-not-current";
    /// A pseudonym request's signature does not verify with the key it names.
    pub const BAD_SIGNATURE: &str = "bad-signature";
    /// A pseudonym request's timestamp is outside the window of the node's clock.
    pub const STALE_TIMESTAMP: &str = "stale-timestamp";
    /// A pseudonym request names a certificate number of another body.
    pub const NOT_OWN_CERTIFICATE: &str = "not-own-certificate";
    /// A pseudonym request holds more items than `pseudonym_items_max`.
    pub const TOO_MANY_ITEMS: &str = "too-many-items";
    /// No policy is in force on the day asked.
    pub const NO_POLICY: &str = "no-policy";
    /// An identity-document number that cannot be one.
    pub const BAD_IDENTITY_NUMBER: &str = "bad-identity-number";
    /// The ledger's authority has set up no VC issuer key (`skill-ledger vc setup`).
    pub const VC_NOT_SET_UP: &str = "vc-not-set-up";
    /// The entry is logged but no signed checkpoint covers it yet: retry in a moment.
    pub const NOT_YET_CHECKPOINTED: &str = "not-yet-checkpointed";
}

/// An RFC 9457 problem, ready to answer.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: String,
    pub detail: String,
    /// Seconds for the `Retry-After` header (503 and 429).
    pub retry_after_s: Option<u32>,
    /// Extension members (e.g. `field`, `certificate_number`).
    pub extensions: Map<String, Value>,
}

/// The JSON shape of a problem (for the OpenAPI document).
#[derive(Serialize, ToSchema)]
pub struct ProblemDocument {
    /// `urn:skill-ledger:problem:<code>`.
    #[schema(example = "urn:skill-ledger:problem:bad-signature")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    /// What is wrong, naming the field or position at fault.
    pub detail: String,
    /// The stable code alone (the last part of `type`).
    #[schema(example = "bad-signature")]
    pub code: String,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// For a rule's rejection (422 typed by a rejection code): the rule in Chinese, from the
    /// domain's table of messages per code (`REJECTION_MESSAGES_ZH`).
    #[schema(example = "签名验证失败")]
    pub detail_zh: Option<String>,
}

impl Problem {
    /// A recognition refused at admission because the partner's mirror disagrees (422; 503
    /// when the mirror cannot be read).
    pub fn recognition(error: &skill_ledger_sync::RecognitionCheckError) -> Problem {
        use skill_ledger_sync::RecognitionCheckKind as Kind;
        let (status, code, title) = match error.kind {
            Kind::UnknownPartner => (
                StatusCode::UNPROCESSABLE_ENTITY,
                code::UNKNOWN_PARTNER,
                "Unknown partner",
            ),
            Kind::NotInMirror => (
                StatusCode::UNPROCESSABLE_ENTITY,
                code::CREDENTIAL_NOT_IN_MIRROR,
                "Credential not in the partner's mirror",
            ),
            Kind::MirrorDisagrees => (
                StatusCode::UNPROCESSABLE_ENTITY,
                code::MIRROR_DISAGREES,
                "The partner's mirror disagrees",
            ),
            Kind::RevokedAtOrigin => (
                StatusCode::UNPROCESSABLE_ENTITY,
                code::CREDENTIAL_REVOKED_AT_ORIGIN,
                "Credential revoked at its origin",
            ),
            _ => (
                StatusCode::SERVICE_UNAVAILABLE,
                code::MIRROR_UNAVAILABLE,
                "Mirror unavailable",
            ),
        };
        let problem = Problem::new(status, code, title, error.message.clone());
        match error.field {
            Some(field) => problem.with_field(field),
            None => problem,
        }
    }

    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: impl Into<String>,
        detail: impl Into<String>,
    ) -> Problem {
        Problem {
            status,
            code,
            title: title.into(),
            detail: detail.into(),
            retry_after_s: None,
            extensions: Map::new(),
        }
    }

    /// Adds an extension member.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Problem {
        self.extensions.insert(name.to_string(), value.into());
        self
    }

    pub fn with_field(self, field: &str) -> Problem {
        self.with("field", field)
    }

    pub fn retry_after(mut self, seconds: u32) -> Problem {
        self.retry_after_s = Some(seconds.max(1));
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            code::BAD_REQUEST,
            "Bad request",
            detail,
        )
    }

    pub fn invalid_field(field: &str, detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::INVALID_FIELD,
            "Invalid field",
            detail,
        )
        .with_field(field)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, code::NOT_FOUND, "Not found", detail)
    }

    pub fn overloaded(detail: impl Into<String>, retry_after_s: u32) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::OVERLOADED,
            "Overloaded: retry later",
            detail,
        )
        .retry_after(retry_after_s)
    }

    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL,
            "Internal error",
            detail,
        )
    }

    /// A refused event: 422 with the rule's stable code as the type.
    pub fn rejection(rejection: &Rejection) -> Problem {
        let problem = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            rejection.code(),
            "Event rejected",
            rejection.to_string(),
        )
        // The rule in Chinese, from the domain's one table per code (as the CLI's --lang zh).
        .with("detail_zh", rejection.message_zh());
        // A rule a policy decides names the policy version that refused the event.
        match rejection.policy_version() {
            Some(version) => problem.with("policy_version", version),
            None => problem,
        }
    }

    /// Why a submission got no receipt.
    pub fn submit_error(error: &SubmitError, retry_after_s: u32) -> Problem {
        match error {
            SubmitError::Rejected(rejection) => Problem::rejection(rejection),
            SubmitError::Malformed(detail) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code::MALFORMED_ENTRY,
                "Malformed entry",
                format!("field entry: {detail}"),
            )
            .with_field("entry"),
            SubmitError::Overloaded => Problem::overloaded(
                "the submission queue is full: retry later with the same entry (resubmission is idempotent)",
                retry_after_s,
            ),
            SubmitError::Stopped(reason) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                code::STOPPED,
                "The node has stopped accepting submissions",
                reason.to_string(),
            )
            .retry_after(retry_after_s),
            SubmitError::StorageFull(reason) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                code::STORAGE_FULL,
                "The disk holding the ledger is full",
                format!(
                    "{reason}; nothing was written: retry later with the same entry \
                     (resubmission is idempotent)"
                ),
            )
            .retry_after(retry_after_s),
        }
    }

    /// The JSON body.
    pub fn document(&self) -> Value {
        // Extensions first: they can never replace a member RFC 9457 defines.
        let mut body = self.extensions.clone();
        body.insert(
            "type".to_string(),
            Value::from(format!("{PROBLEM_TYPE_PREFIX}{}", self.code)),
        );
        body.insert("title".to_string(), Value::from(self.title.clone()));
        body.insert("status".to_string(), Value::from(self.status.as_u16()));
        body.insert("detail".to_string(), Value::from(self.detail.clone()));
        body.insert("code".to_string(), Value::from(self.code));
        Value::Object(body)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = self.document().to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = self.retry_after_s {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<skill_ledger_node::NodeError> for Problem {
    fn from(error: skill_ledger_node::NodeError) -> Problem {
        tracing::error!(%error, "node query failed");
        Problem::internal(format!("the ledger could not answer: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_becomes_a_problem_typed_by_its_code() {
        let problem = Problem::rejection(&Rejection::BadSignature);
        let document = problem.document();
        assert_eq!(document["type"], "urn:skill-ledger:problem:bad-signature");
        assert_eq!(document["code"], "bad-signature");
        assert_eq!(document["status"], 422);
        let shadowing = Problem::rejection(&Rejection::BadSignature).with("status", "x");
        assert_eq!(
            shadowing.document()["status"],
            422,
            "extensions never replace members"
        );
        assert!(document["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("signature")));
        assert_eq!(document["detail_zh"], "签名验证失败");
    }

    #[test]
    fn overload_carries_retry_after() {
        let response = Problem::submit_error(&SubmitError::Overloaded, 3).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            PROBLEM_CONTENT_TYPE
        );
    }
}
