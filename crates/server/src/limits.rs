//! Limits: the per-client verification rate, the request timeout, the concurrency bound, and
//! the JSON body and path extractors that answer every problem with the request as a problem
//! document.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::problem::{code, Problem};
use crate::state::AppState;

/// Clients remembered at most; past it, full buckets are forgotten first.
const CLIENTS_MAX: usize = 100_000;

/// Token buckets per client: by address for verifications, by registration number for the
/// pseudonym service.
pub struct RateLimiter<K = IpAddr> {
    rate_per_s: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl<K: Hash + Eq + Copy> RateLimiter<K> {
    /// `rate_per_s == 0` turns the limit off.
    pub fn new(rate_per_s: f64, burst: u32) -> RateLimiter<K> {
        RateLimiter {
            rate_per_s,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `client`; `Err(seconds)` says when the next token is due.
    pub fn check(&self, client: K, now: Instant) -> Result<(), u32> {
        self.take(client, 1, now)
    }

    /// Takes `tokens` tokens for `client` at once, or none; `Err(seconds)` says when that
    /// many are due (never, if `tokens` is over the burst: the caller bounds it).
    pub fn take(&self, client: K, tokens: u32, now: Instant) -> Result<(), u32> {
        let tokens = f64::from(tokens);
        if self.rate_per_s <= 0.0 {
            return Ok(());
        }
        let mut buckets = match self.buckets.lock() {
            Ok(buckets) => buckets,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= CLIENTS_MAX && !buckets.contains_key(&client) {
            let (rate, burst) = (self.rate_per_s, self.burst);
            buckets.retain(|_, bucket| {
                let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
                bucket.tokens + elapsed * rate < burst
            });
            if buckets.len() >= CLIENTS_MAX {
                // Every remembered client is active: refuse newcomers rather than grow.
                return Err(1);
            }
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate_per_s).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= tokens {
            bucket.tokens -= tokens;
            Ok(())
        } else {
            let wait = (tokens - bucket.tokens) / self.rate_per_s;
            Err(wait.ceil().clamp(1.0, 3_600.0) as u32)
        }
    }
}

/// The client address of a request: the peer's IP when the server recorded it.
pub fn client_address(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip())
}

/// Middleware: the per-client verification rate (429 with `Retry-After`).
pub async fn verify_rate_limit(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let client = client_address(&request);
    if let Err(seconds) = state.limiter.check(client, Instant::now()) {
        state.counters.count_rate_limited();
        return Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            code::RATE_LIMITED,
            "Too many verifications",
            format!(
                "this client may verify {} times per second (burst {}): retry after {seconds} s",
                state.config.verify_rate_per_s, state.config.verify_burst
            ),
        )
        .retry_after(seconds)
        .into_response();
    }
    next.run(request).await
}

/// Middleware: the whole request within twice `request_timeout_ms` (the body has the first
/// `request_timeout_ms`, answered 408 by [`ApiJson`]; the work the rest), else 503 with
/// `Retry-After`.
pub async fn request_timeout(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let limit = state.config.request_timeout() * 2;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            state.counters.count_overloaded();
            Problem::overloaded(
                format!(
                    "the request did not complete within {} ms; a submission may still commit: resubmit the same entry to learn its result",
                    limit.as_millis()
                ),
                state.config.retry_after_s,
            )
            .into_response()
        }
    }
}

/// Middleware: a request whose declared `Content-Length` is over `body_bytes_max` is answered
/// 413 at once, before any of its body is read, so the client neither waits for a timeout
/// nor, with `Expect: 100-continue`, is told to send it (hyper sends `100 Continue` only
/// when a handler starts reading the body). The connection is closed after the answer.
/// A length that is not a number never gets here (crate::request_head).
pub async fn declared_length(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let limit = state.config.body_bytes_max;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit => {
            let mut response = Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                code::BODY_TOO_LARGE,
                "Request body too large",
                format!(
                    "the request declares a body of {length} bytes (Content-Length), over the \
                     limit of {limit} bytes"
                ),
            )
            .with("declared_length", length)
            .with("limit_bytes", limit)
            .into_response();
            response.headers_mut().insert(
                header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            response
        }
        _ => next.run(request).await,
    }
}

/// A JSON body, read within the body size and time limits, answered as problems:
/// 413 too large, 408 too slow, 415 not JSON, 400 syntax (with line and column),
/// 422 a field missing or of the wrong type (naming it).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Problem> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|media| {
                let media = media.trim().to_ascii_lowercase();
                media == "application/json" || media.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                "the request body must be JSON: send Content-Type: application/json",
            ));
        }
        let body_limit = state.config.body_bytes_max;
        let read = Bytes::from_request(request, state);
        let bytes = match tokio::time::timeout(state.config.request_timeout(), read).await {
            Err(_) => {
                return Err(Problem::new(
                    StatusCode::REQUEST_TIMEOUT,
                    code::REQUEST_TIMEOUT,
                    "Request timeout",
                    format!(
                        "the request body did not arrive within {} ms",
                        state.config.request_timeout_ms
                    ),
                ))
            }
            Ok(Err(rejection)) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(body_too_large(body_limit))
            }
            Ok(Err(rejection)) => return Err(Problem::bad_request(rejection.body_text())),
            Ok(Ok(bytes)) => bytes,
        };
        parse_json(&bytes).map(ApiJson)
    }
}

/// A path parameter, refused as a problem document when it does not extract (a parameter that
/// is not UTF-8 once percent-decoded, `%FF`), where axum's own `Path` answers in plain text.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) if rejection.status().is_client_error() => Err(Problem::bad_request(
                format!("path parameter: {}", rejection.body_text()),
            )),
            Err(rejection) => Err(Problem::internal(rejection.body_text())),
        }
    }
}

/// A query string, refused as a `400 bad-request` problem document when it does not
/// deserialize (a repeated or malformed member), where axum's own `Query` answers in plain
/// text.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(Problem::bad_request(format!(
                "query string: {}",
                rejection.body_text()
            ))
            .with("position", "query")),
        }
    }
}

pub fn body_too_large(body_limit: u64) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::BODY_TOO_LARGE,
        "Request body too large",
        format!("the request body is over the limit of {body_limit} bytes"),
    )
}

/// Parses JSON, naming the position of a syntax error and the field of a data error.
///
/// A body that is not JSON at all is `400 bad-request` (a malformed request, RFC 9110), and
/// only well-formed JSON with a missing, unknown or mistyped field is `422 invalid-field`.
/// serde stops at the first error it meets, so a body like `{"unknown":` would surface as a
/// data error (the unknown field) before the syntax error (the missing value): the body's
/// syntax is checked on its own first whenever the typed parse fails on data.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(bytes).map_err(|error| {
        let error = match error.classify() {
            serde_json::error::Category::Data => {
                match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                    Err(syntax) if !syntax.is_data() => syntax,
                    _ => error,
                }
            }
            _ => error,
        };
        let position = format!("line {} column {}", error.line(), error.column());
        match error.classify() {
            serde_json::error::Category::Data => {
                let field = data_error_field(&error.to_string());
                let problem = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    code::INVALID_FIELD,
                    "Invalid field",
                    format!("request body: {error}"),
                )
                .with("position", position);
                match field {
                    Some(field) => problem.with_field(&field),
                    None => problem,
                }
            }
            _ => Problem::bad_request(format!("request body is not valid JSON: {error}"))
                .with("position", position),
        }
    })
}

/// The field a serde data error names (`missing field `name``, `unknown field `x``,
/// `duplicate field `x``); other data errors quote a value, not a field (`invalid type:
/// integer `5``), and name none.
fn data_error_field(message: &str) -> Option<String> {
    let rest = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))?;
    let length = rest.find('`')?;
    Some(rest[..length].to_string())
}

/// Retry-After for a 503 answered by the concurrency bound.
pub fn overloaded_response(retry_after_s: u32) -> Response {
    Problem::overloaded(
        "too many requests are in progress: retry later",
        retry_after_s,
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let limiter = RateLimiter::new(2.0, 3);
        let client = IpAddr::from([127, 0, 0, 1]);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(client, start).is_ok());
        }
        assert_eq!(limiter.check(client, start), Err(1));
        // Half a second later one token (2 per second) is back.
        assert!(limiter
            .check(client, start + Duration::from_millis(500))
            .is_ok());
        assert!(limiter
            .check(client, start + Duration::from_millis(500))
            .is_err());
        // Another client has its own bucket.
        assert!(limiter.check(IpAddr::from([127, 0, 0, 2]), start).is_ok());
    }

    #[test]
    fn a_request_of_several_tokens_takes_all_or_none() {
        let limiter: RateLimiter<u32> = RateLimiter::new(1.0, 10);
        let start = Instant::now();
        assert!(limiter.take(7, 8, start).is_ok());
        // Two left: a request for three waits one second, and takes nothing meanwhile.
        assert_eq!(limiter.take(7, 3, start), Err(1));
        assert!(limiter.take(7, 2, start).is_ok());
        assert_eq!(limiter.take(7, 4, start), Err(4));
    }

    #[test]
    fn a_zero_rate_is_no_limit() {
        let limiter = RateLimiter::new(0.0, 1);
        let client = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..1_000 {
            assert!(limiter.check(client, Instant::now()).is_ok());
        }
    }

    #[test]
    fn json_errors_name_the_position_or_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Query {
            name: String,
        }
        let syntax = parse_json::<Query>(b"{\"name\": ").unwrap_err();
        assert_eq!(syntax.status, StatusCode::BAD_REQUEST);
        assert!(syntax.detail.contains("line 1 column"), "{}", syntax.detail);
        let missing = parse_json::<Query>(b"{}").unwrap_err();
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(missing.extensions["field"], "name");
    }

    #[test]
    fn broken_json_is_400_even_where_serde_meets_a_field_error_first() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Query {
            name: String,
        }
        // serde reads the key and refuses it (unknown field, or wrong type) before it
        // reaches the end of the input: still a syntax error of the body, 400.
        for body in [
            &b"{\"cert_no\":"[..],
            b"{\"cert_no\": \"Y\"",
            b"{\"name\": 5",
            b"{\"name\": 5,,}",
            b"[1, 2",
            b"\"unterminated",
            b"{\"name\": \"x\"} trailing",
        ] {
            let problem = parse_json::<Query>(body).unwrap_err();
            let text = String::from_utf8_lossy(body);
            assert_eq!(
                problem.status,
                StatusCode::BAD_REQUEST,
                "{text}: {}",
                problem.detail
            );
            assert_eq!(problem.code, code::BAD_REQUEST, "{text}");
            assert!(problem.extensions["position"].is_string(), "{text}");
            assert!(!problem.extensions.contains_key("field"), "{text}");
        }
        // Well-formed JSON of the wrong shape stays 422, naming the field.
        for (body, field) in [
            (&b"{\"cert_no\": \"Y\"}"[..], Some("cert_no")),
            (b"{\"name\": 5}", None),
            (b"{\"name\": \"x\", \"name\": \"y\"}", Some("name")),
            (b"{}", Some("name")),
            (b"[1, 2]", None),
            (b"null", None),
        ] {
            let problem = parse_json::<Query>(body).unwrap_err();
            let text = String::from_utf8_lossy(body);
            assert_eq!(problem.status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
            assert_eq!(problem.code, code::INVALID_FIELD, "{text}");
            // A type error quotes the value, not the field: no field is named then.
            assert_eq!(
                problem.extensions.get("field").and_then(|f| f.as_str()),
                field,
                "{text}"
            );
        }
    }
}
