//! The request-head guard: every request head is checked here, with `httparse` (the parser
//! hyper uses), before hyper sees a byte of it, so that a head hyper would refuse is refused
//! by us instead, with a problem document.
//!
//! hyper answers a head it cannot parse itself, with an empty body and no content type, and
//! offers no hook to change that answer. [`GuardedStream`] sits between the socket and hyper:
//! it holds each request head back until it is complete and [`check_head`] has passed it,
//! then hands hyper the head and the body that follows, counting the body's bytes
//! (`Content-Length`, or the chunked framing) so that it knows where the next head of a
//! keep-alive or pipelined connection starts. When a head is refused, hyper gets the end of
//! the stream at the place where that head began: it finishes the requests before it (with
//! `half_close`, connections.rs), then shuts the stream down, and the guard writes the
//! problem answer at that moment, after every earlier answer, and closes the connection.
//!
//! The checks are at least as strict as hyper's (the same parser, lower limits, the same
//! `Content-Length` and `Transfer-Encoding` rules, stricter where the framing is ambiguous),
//! so hyper never refuses a head the guard let through; if it ever did, connections.rs logs
//! it as a warning.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::http::{Method, StatusCode, Uri};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::problem::{code, Problem};

/// Longest request target read (`/path?query`), bytes; longer is 414.
pub const TARGET_BYTES_MAX: usize = 8 * 1024;
/// Largest request head read (request line and header fields), bytes; larger is 431.
pub const HEAD_BYTES_MAX: usize = 32 * 1024;
/// Most header fields read; more is 431.
pub const HEADER_FIELDS_MAX: usize = 64;
/// Longest chunk extension, bytes (a chunked body with a longer one is cut).
const CHUNK_EXTENSION_BYTES_MAX: usize = 4 * 1024;
/// Largest trailer section of a chunked body, bytes.
const TRAILER_BYTES_MAX: usize = 16 * 1024;
/// After a refusal, the client's remaining bytes are read and dropped for at most this long
/// (and this many), so that closing does not reset the connection before the answer is read.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES_MAX: usize = 1024 * 1024;
/// Bytes read from the socket at once.
const READ_BYTES: usize = 8 * 1024;

/// How the body after a head is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
}

/// What [`check_head`] found at the start of the bytes.
#[derive(Debug)]
pub enum HeadCheck {
    /// The head is not complete yet, and nothing wrong was seen so far.
    Incomplete,
    /// A head hyper will accept, `head_bytes` long, followed by a body framed so.
    Valid {
        head_bytes: usize,
        body: BodyFraming,
    },
    /// A head to refuse, with the answer.
    Refused(Problem),
}

fn malformed(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        code::MALFORMED_REQUEST,
        "Malformed request",
        detail,
    )
}

fn headers_too_large(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        code::HEADERS_TOO_LARGE,
        "Request header fields too large",
        detail,
    )
}

fn uri_too_long(length: usize) -> Problem {
    Problem::new(
        StatusCode::URI_TOO_LONG,
        code::URI_TOO_LONG,
        "Request target too long",
        format!(
            "the request target is {} bytes, over the limit of {TARGET_BYTES_MAX} bytes",
            if length > TARGET_BYTES_MAX {
                length.to_string()
            } else {
                format!("more than {TARGET_BYTES_MAX}")
            }
        ),
    )
    .with("limit_bytes", TARGET_BYTES_MAX as u64)
}

/// Checks the request head at the start of `bytes` (a head may be preceded by empty lines).
/// `body_bytes_max` only names the limit in the answer to a length that does not fit in 64
/// bits; a declared length over the limit is the router's to refuse
/// ([`crate::limits::declared_length`]).
pub fn check_head(bytes: &[u8], body_bytes_max: u64) -> HeadCheck {
    if bytes.first() == Some(&0x16) {
        // A TLS record of type handshake: a ClientHello sent to the plain-HTTP port.
        return HeadCheck::Refused(malformed(
            "a TLS handshake arrived on the plain-HTTP port: this port speaks HTTP/1.1 without \
             TLS (use http://, or put a TLS proxy in front)",
        ));
    }
    let mut fields = [httparse::EMPTY_HEADER; HEADER_FIELDS_MAX];
    let mut request = httparse::Request::new(&mut fields);
    match request.parse(bytes) {
        Ok(httparse::Status::Partial) => match partial_limits(bytes) {
            Some(problem) => HeadCheck::Refused(problem),
            None => HeadCheck::Incomplete,
        },
        Ok(httparse::Status::Complete(head_bytes)) => {
            let target_bytes = request.path.map_or(0, str::len);
            if target_bytes > TARGET_BYTES_MAX {
                return HeadCheck::Refused(uri_too_long(target_bytes));
            }
            if head_bytes > HEAD_BYTES_MAX {
                return HeadCheck::Refused(head_too_large());
            }
            match check_complete(&request, body_bytes_max) {
                Ok(body) => HeadCheck::Valid { head_bytes, body },
                Err(problem) => HeadCheck::Refused(problem),
            }
        }
        Err(error) => {
            let method_seen = request.method.is_some();
            HeadCheck::Refused(parse_problem(error, method_seen, bytes))
        }
    }
}

fn head_too_large() -> Problem {
    headers_too_large(format!(
        "the request head is over the limit of {HEAD_BYTES_MAX} bytes"
    ))
    .with("limit_bytes", HEAD_BYTES_MAX as u64)
}

/// An incomplete head already over a limit: a request line longer than any target allowed
/// (414), or a head longer than allowed (431).
fn partial_limits(bytes: &[u8]) -> Option<Problem> {
    let start = bytes
        .iter()
        .position(|byte| !matches!(byte, b'\r' | b'\n'))
        .unwrap_or(bytes.len());
    let line = &bytes[start..];
    if !line.contains(&b'\n') {
        // The target starts after the method's space; the version needs about 10 more bytes.
        let target = line
            .iter()
            .position(|byte| *byte == b' ')
            .map_or(line.len(), |space| line.len() - space - 1);
        if target > TARGET_BYTES_MAX + 10 {
            return Some(uri_too_long(target));
        }
    }
    (bytes.len() >= HEAD_BYTES_MAX).then(head_too_large)
}

/// The version text of a request line whose version httparse refused.
fn version_text(bytes: &[u8]) -> String {
    let line_end = bytes
        .iter()
        .position(|byte| matches!(byte, b'\r' | b'\n'))
        .unwrap_or(bytes.len());
    let line = &bytes[..line_end];
    let version = line
        .iter()
        .rposition(|byte| *byte == b' ')
        .map_or(line, |space| &line[space + 1..]);
    String::from_utf8_lossy(&version[..version.len().min(16)]).into_owned()
}

fn parse_problem(error: httparse::Error, method_seen: bool, bytes: &[u8]) -> Problem {
    match error {
        httparse::Error::Token if !method_seen => malformed(
            "the request does not start with an HTTP method (a token such as GET or POST) \
             followed by one space",
        ),
        httparse::Error::Token => match target_byte_not_allowed(bytes) {
            Some(problem) => problem,
            None => malformed(
                "the request target holds a space, a control character or DEL, or is not \
                 followed by one space and the HTTP version",
            ),
        },
        httparse::Error::Version => {
            let version = version_text(bytes);
            let numbered = version
                .strip_prefix("HTTP/")
                .is_some_and(|rest| rest.bytes().next().is_some_and(|b| b.is_ascii_digit()));
            if numbered {
                Problem::new(
                    StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                    code::HTTP_VERSION_NOT_SUPPORTED,
                    "HTTP version not supported",
                    format!(
                        "{version} is not supported: this server speaks HTTP/1.1 (and HTTP/1.0)"
                    ),
                )
                .with("version", version)
            } else {
                malformed(format!(
                    "the request line does not end in an HTTP version such as HTTP/1.1 (found {version:?})"
                ))
            }
        }
        httparse::Error::HeaderName => malformed(
            "a header field name holds a byte that is not allowed (a name is a token: letters, \
             digits and !#$%&'*+-.^_`|~, with no space before the colon)",
        ),
        httparse::Error::HeaderValue => malformed("a header field value holds a control character"),
        httparse::Error::NewLine => malformed("a line of the request head does not end in CRLF"),
        httparse::Error::TooManyHeaders => headers_too_large(format!(
            "the request has more than {HEADER_FIELDS_MAX} header fields"
        ))
        .with("limit_fields", HEADER_FIELDS_MAX as u64),
        httparse::Error::Status => malformed("the request line is malformed"),
    }
}

/// hyper's reading of a `Content-Length` value: decimal digits only (no sign, no spaces, no
/// list). `Err(true)` for digits that overflow 64 bits.
fn content_length(value: &[u8]) -> Result<u64, bool> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(false);
    }
    value.iter().try_fold(0u64, |length, digit| {
        length
            .checked_mul(10)
            .and_then(|length| length.checked_add(u64::from(digit - b'0')))
            .ok_or(true)
    })
}

/// The first byte of the request target that is not visible ASCII, as a problem.
fn target_byte_not_allowed(bytes: &[u8]) -> Option<Problem> {
    let start = bytes
        .iter()
        .position(|byte| !matches!(byte, b'\r' | b'\n'))?;
    let line = &bytes[start..];
    let target_start = line.iter().position(|byte| *byte == b' ')? + 1;
    let target = &line[target_start..];
    let target = &target[..target
        .iter()
        .position(|byte| matches!(byte, b' ' | b'\r' | b'\n'))
        .unwrap_or(target.len())];
    target_bytes_problem(target)
}

fn target_bytes_problem(target: &[u8]) -> Option<Problem> {
    let position = target.iter().position(|byte| !byte.is_ascii_graphic())?;
    Some(malformed(format!(
        "byte 0x{:02X} at position {position} of the request target is not allowed: bytes \
         outside visible ASCII must be percent-encoded",
        target[position]
    )))
}

fn check_complete(
    request: &httparse::Request<'_, '_>,
    body_bytes_max: u64,
) -> Result<BodyFraming, Problem> {
    let (Some(method), Some(target), Some(version)) =
        (request.method, request.path, request.version)
    else {
        return Err(malformed("the request line is incomplete"));
    };
    if target.len() > TARGET_BYTES_MAX {
        return Err(uri_too_long(target.len()));
    }
    if let Some(problem) = target_bytes_problem(target.as_bytes()) {
        return Err(problem);
    }
    if let Err(error) = Uri::try_from(target) {
        return Err(malformed(format!(
            "the request target is not a valid URI: {error}"
        )));
    }
    if Method::from_bytes(method.as_bytes()).is_err() {
        return Err(malformed("the method is not a token"));
    }
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut transfer_codings = 0;
    let mut hosts = 0;
    for field in request.headers.iter() {
        if field.name.eq_ignore_ascii_case("content-length") {
            let value = String::from_utf8_lossy(field.value);
            let this = match content_length(field.value) {
                Ok(this) => this,
                Err(true) => {
                    return Err(crate::limits::body_too_large(body_bytes_max)
                        .with("declared_length", value.into_owned()))
                }
                Err(false) => {
                    return Err(malformed(format!(
                        "Content-Length {value:?} is not a length: decimal digits only"
                    ))
                    .with("field", "content-length"))
                }
            };
            match length {
                Some(previous) if previous != this => {
                    return Err(malformed(format!(
                        "two different Content-Length values, {previous} and {this}: the body's \
                         length is ambiguous"
                    ))
                    .with("field", "content-length"))
                }
                _ => length = Some(this),
            }
        } else if field.name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_codings += 1;
            let value = String::from_utf8_lossy(field.value);
            if version == 0 {
                return Err(malformed(
                    "Transfer-Encoding is not allowed in an HTTP/1.0 request",
                ));
            }
            if !value.trim().eq_ignore_ascii_case("chunked") || transfer_codings > 1 {
                return Err(Problem::new(
                    StatusCode::NOT_IMPLEMENTED,
                    code::UNSUPPORTED_TRANSFER_CODING,
                    "Transfer coding not implemented",
                    format!("Transfer-Encoding {value:?}: only a single \"chunked\" is supported"),
                )
                .with("field", "transfer-encoding"));
            }
            chunked = true;
        } else if field.name.eq_ignore_ascii_case("host") {
            hosts += 1;
        }
    }
    if chunked && length.is_some() {
        return Err(malformed(
            "both Content-Length and Transfer-Encoding: the body's length is ambiguous",
        ));
    }
    if version == 1 && hosts != 1 {
        return Err(malformed(format!(
            "an HTTP/1.1 request needs exactly one Host header field, this one has {hosts}"
        ))
        .with("field", "host"));
    }
    Ok(if chunked {
        BodyFraming::Chunked
    } else {
        match length {
            None | Some(0) => BodyFraming::None,
            Some(length) => BodyFraming::Length(length),
        }
    })
}

/// Where a chunked body's framing is (RFC 9112 section 7.1, as hyper's decoder reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunked {
    Size {
        size: u64,
        digits: u8,
    },
    SizeSpace {
        size: u64,
    },
    Extension {
        size: u64,
        bytes: usize,
    },
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// After the last chunk, at the start of a trailer line (or the final CRLF).
    LineStart {
        bytes: usize,
    },
    Trailer {
        bytes: usize,
    },
    TrailerLf {
        bytes: usize,
    },
    EndLf,
}

#[derive(Debug, PartialEq, Eq)]
enum ChunkProgress {
    /// All bytes belong to the body; it goes on.
    More,
    /// The body ends after this many bytes.
    Done(usize),
    /// Malformed after this many bytes (the offending byte included).
    Malformed(usize),
}

impl Chunked {
    const START: Chunked = Chunked::Size { size: 0, digits: 0 };

    fn advance(&mut self, bytes: &[u8]) -> ChunkProgress {
        let mut used = 0;
        while used < bytes.len() {
            if let Chunked::Data { left } = *self {
                let take = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len() - used);
                used += take;
                let left = left - take as u64;
                *self = if left == 0 {
                    Chunked::DataCr
                } else {
                    Chunked::Data { left }
                };
                continue;
            }
            let byte = bytes[used];
            used += 1;
            let next = match (*self, byte) {
                (Chunked::Size { size, digits }, _) if byte.is_ascii_hexdigit() && digits < 16 => {
                    let digit = u64::from(char::from(byte).to_digit(16).unwrap_or(0));
                    Some(Chunked::Size {
                        size: size * 16 + digit,
                        digits: digits + 1,
                    })
                }
                (Chunked::Size { size, digits }, b' ' | b'\t') if digits > 0 => {
                    Some(Chunked::SizeSpace { size })
                }
                (Chunked::Size { size, digits }, b';') if digits > 0 => {
                    Some(Chunked::Extension { size, bytes: 0 })
                }
                (Chunked::Size { size, digits }, b'\r') if digits > 0 => {
                    Some(Chunked::SizeLf { size })
                }
                (Chunked::SizeSpace { size }, b' ' | b'\t') => Some(Chunked::SizeSpace { size }),
                (Chunked::SizeSpace { size }, b';') => Some(Chunked::Extension { size, bytes: 0 }),
                (Chunked::SizeSpace { size }, b'\r') => Some(Chunked::SizeLf { size }),
                (Chunked::Extension { size, .. }, b'\r') => Some(Chunked::SizeLf { size }),
                (Chunked::Extension { size, bytes }, _)
                    if byte != b'\n' && bytes < CHUNK_EXTENSION_BYTES_MAX =>
                {
                    Some(Chunked::Extension {
                        size,
                        bytes: bytes + 1,
                    })
                }
                (Chunked::SizeLf { size: 0 }, b'\n') => Some(Chunked::LineStart { bytes: 0 }),
                (Chunked::SizeLf { size }, b'\n') => Some(Chunked::Data { left: size }),
                (Chunked::DataCr, b'\r') => Some(Chunked::DataLf),
                (Chunked::DataLf, b'\n') => Some(Chunked::START),
                (Chunked::LineStart { .. }, b'\r') => Some(Chunked::EndLf),
                (Chunked::Trailer { bytes }, b'\r') => Some(Chunked::TrailerLf { bytes }),
                (Chunked::LineStart { bytes } | Chunked::Trailer { bytes }, _)
                    if byte != b'\n' && bytes < TRAILER_BYTES_MAX =>
                {
                    Some(Chunked::Trailer { bytes: bytes + 1 })
                }
                (Chunked::TrailerLf { bytes }, b'\n') => Some(Chunked::LineStart { bytes }),
                (Chunked::EndLf, b'\n') => return ChunkProgress::Done(used),
                _ => None,
            };
            match next {
                Some(next) => *self = next,
                None => return ChunkProgress::Malformed(used),
            }
        }
        ChunkProgress::More
    }
}

/// Where the guard is in the stream of requests.
#[derive(Clone, Copy, Debug)]
enum Reading {
    /// At (or inside) a request head.
    Head,
    /// In a body of this many bytes more.
    Length(u64),
    Chunked(Chunked),
    /// A head was refused: hyper gets the end of the stream, the answer waits for shutdown.
    Refused,
    /// The client ended the stream, or a chunked body was malformed (hyper sees it cut off).
    Ended,
}

/// The problem answer of a refused head, and how much of it is written.
struct Answer {
    bytes: Vec<u8>,
    written: usize,
}

/// Closing after a refusal: answer written, write side shut, the client's rest drained.
enum Closing {
    Answering,
    ShuttingDown,
    Draining {
        deadline: Pin<Box<tokio::time::Sleep>>,
        drained: usize,
    },
}

/// A connection's stream with every request head checked before hyper reads it (module
/// docs). Writes go straight through.
pub struct GuardedStream<S> {
    inner: S,
    /// Bytes from the client not yet handed to hyper, from `start`; the first `approved` of
    /// them are checked and may be handed over.
    pending: Vec<u8>,
    start: usize,
    approved: usize,
    /// How many of the unapproved bytes the head check has already looked at.
    head_seen: usize,
    reading: Reading,
    body_bytes_max: u64,
    answer: Option<Answer>,
    closing: Closing,
    /// The peer, when refusals are to be logged (`access_log` other than `off`).
    log_refusals_of: Option<std::net::SocketAddr>,
}

impl<S> GuardedStream<S> {
    pub fn new(inner: S, body_bytes_max: u64) -> GuardedStream<S> {
        GuardedStream {
            inner,
            pending: Vec::new(),
            start: 0,
            approved: 0,
            head_seen: 0,
            reading: Reading::Head,
            body_bytes_max,
            answer: None,
            closing: Closing::Answering,
            log_refusals_of: None,
        }
    }

    /// Logs each refused head (one line, on the access log's target) naming `peer`.
    pub fn log_refusals(mut self, peer: std::net::SocketAddr) -> GuardedStream<S> {
        self.log_refusals_of = Some(peer);
        self
    }

    fn refuse(&mut self, problem: Problem) {
        if let Some(peer) = self.log_refusals_of {
            tracing::info!(
                target: crate::access_log::TARGET,
                %peer,
                status = problem.status.as_u16(),
                code = problem.code,
                detail = %problem.detail,
                "request head refused"
            );
        }
        let body = problem.document().to_string();
        let mut bytes = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            problem.status.as_u16(),
            problem.status.canonical_reason().unwrap_or(""),
            crate::problem::PROBLEM_CONTENT_TYPE,
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        self.answer = Some(Answer { bytes, written: 0 });
        self.reading = Reading::Refused;
        // What follows the refused head is never handed over.
        self.pending.truncate(self.start + self.approved);
    }

    /// Moves the reading state over what is pending; returns false when more bytes from the
    /// client are needed.
    fn advance(&mut self) -> bool {
        let unapproved_start = self.start + self.approved;
        let unapproved = self.pending.len() - unapproved_start;
        match self.reading {
            Reading::Refused | Reading::Ended => true,
            Reading::Length(0) => {
                self.reading = Reading::Head;
                true
            }
            _ if unapproved == 0 => false,
            Reading::Head => {
                // Parsing again only when a line ended or a limit was crossed keeps a head
                // trickled a byte at a time from costing a parse per byte.
                let seen = self.head_seen.min(unapproved);
                let worth_parsing = seen == 0
                    || self.pending[unapproved_start + seen..].contains(&b'\n')
                    || (seen <= TARGET_BYTES_MAX && unapproved > TARGET_BYTES_MAX)
                    || (seen < HEAD_BYTES_MAX && unapproved >= HEAD_BYTES_MAX);
                self.head_seen = unapproved;
                if !worth_parsing {
                    return false;
                }
                match check_head(&self.pending[unapproved_start..], self.body_bytes_max) {
                    HeadCheck::Incomplete => false,
                    HeadCheck::Refused(problem) => {
                        self.refuse(problem);
                        true
                    }
                    HeadCheck::Valid { head_bytes, body } => {
                        self.head_seen = 0;
                        self.approved += head_bytes;
                        self.reading = match body {
                            BodyFraming::None => Reading::Head,
                            BodyFraming::Length(length) => Reading::Length(length),
                            BodyFraming::Chunked => Reading::Chunked(Chunked::START),
                        };
                        true
                    }
                }
            }
            Reading::Length(left) => {
                let take = usize::try_from(left).unwrap_or(usize::MAX).min(unapproved);
                self.reading = Reading::Length(left - take as u64);
                self.approved += take;
                true
            }
            Reading::Chunked(mut framing) => {
                match framing.advance(&self.pending[unapproved_start..]) {
                    ChunkProgress::More => {
                        self.approved += unapproved;
                        self.reading = Reading::Chunked(framing);
                    }
                    ChunkProgress::Done(used) => {
                        self.approved += used;
                        self.reading = Reading::Head;
                    }
                    ChunkProgress::Malformed(used) => {
                        self.approved += used;
                        self.pending.truncate(self.start + self.approved);
                        self.reading = Reading::Ended;
                    }
                }
                true
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for GuardedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.approved > 0 {
                let count = this.approved.min(buf.remaining());
                buf.put_slice(&this.pending[this.start..this.start + count]);
                this.start += count;
                this.approved -= count;
                if this.start == this.pending.len() {
                    this.pending.clear();
                    this.start = 0;
                } else if this.start > READ_BYTES && this.start * 2 > this.pending.len() {
                    this.pending.drain(..this.start);
                    this.start = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if matches!(this.reading, Reading::Refused | Reading::Ended) {
                // The end of the stream for hyper.
                return Poll::Ready(Ok(()));
            }
            if this.advance() {
                continue;
            }
            let mut scratch = [0u8; READ_BYTES];
            let mut read = ReadBuf::new(&mut scratch);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                // The client ended the stream; an incomplete head is dropped with it.
                this.pending.truncate(this.start + this.approved);
                this.reading = Reading::Ended;
                continue;
            }
            this.pending.extend_from_slice(read.filled());
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for GuardedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    /// hyper shuts the stream down once every answer it owes is written: the answer to a
    /// refused head goes out now, then the write side closes, then what the client still
    /// sends is drained for a moment, so that the close does not reset the connection
    /// before the client has read the answer.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(answer) = this.answer.as_mut() else {
            return Pin::new(&mut this.inner).poll_shutdown(cx);
        };
        loop {
            match &mut this.closing {
                Closing::Answering => {
                    while answer.written < answer.bytes.len() {
                        let written = ready!(Pin::new(&mut this.inner)
                            .poll_write(cx, &answer.bytes[answer.written..]))?;
                        if written == 0 {
                            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                        }
                        answer.written += written;
                    }
                    ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
                    this.closing = Closing::ShuttingDown;
                }
                Closing::ShuttingDown => {
                    ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
                    this.closing = Closing::Draining {
                        deadline: Box::pin(tokio::time::sleep(LINGER)),
                        drained: 0,
                    };
                }
                Closing::Draining { deadline, drained } => {
                    if deadline.as_mut().poll(cx).is_ready() || *drained >= LINGER_BYTES_MAX {
                        return Poll::Ready(Ok(()));
                    }
                    let mut scratch = [0u8; READ_BYTES];
                    let mut read = ReadBuf::new(&mut scratch);
                    match ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read)) {
                        Ok(()) if !read.filled().is_empty() => *drained += read.filled().len(),
                        // The client closed (or reset): done.
                        _ => return Poll::Ready(Ok(())),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(head: &[u8]) -> HeadCheck {
        check_head(head, 131_072)
    }

    fn refused(head: &[u8]) -> Problem {
        match check(head) {
            HeadCheck::Refused(problem) => problem,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(head)),
        }
    }

    #[test]
    fn good_heads_pass_with_their_framing() {
        let cases: [(&[u8], BodyFraming); 5] = [
            (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", BodyFraming::None),
            (b"\r\nGET / HTTP/1.0\r\n\r\n", BodyFraming::None),
            (
                b"POST /v1/events HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n",
                BodyFraming::Length(12),
            ),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n",
                BodyFraming::Length(3),
            ),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n",
                BodyFraming::Chunked,
            ),
        ];
        for (head, framing) in cases {
            match check(head) {
                HeadCheck::Valid { head_bytes, body } => {
                    assert_eq!(head_bytes, head.len());
                    assert_eq!(body, framing);
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(head)),
            }
        }
        assert!(matches!(
            check(b"GET / HTTP/1.1\r\nHost: a\r\n"),
            HeadCheck::Incomplete
        ));
    }

    #[test]
    fn bad_heads_are_refused_with_the_status_and_code_that_name_them() {
        let long_target = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(70_000));
        let many_fields = format!(
            "GET / HTTP/1.1\r\nHost: a\r\n{}\r\n",
            "X-A: b\r\n".repeat(100)
        );
        let cases: Vec<(Vec<u8>, u16, &str)> = vec![
            (long_target.into_bytes(), 414, code::URI_TOO_LONG),
            (many_fields.into_bytes(), 431, code::HEADERS_TOO_LARGE),
            (
                b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
                400,
                code::MALFORMED_REQUEST,
            ),
            (
                b"GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
                400,
                code::MALFORMED_REQUEST,
            ),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n"
                    .to_vec(),
                413,
                code::BODY_TOO_LARGE,
            ),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
                    .to_vec(),
                400,
                code::MALFORMED_REQUEST,
            ),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n".to_vec(),
                400,
                code::MALFORMED_REQUEST,
            ),
            (
                b"GET / HTTP/9.9\r\nHost: a\r\n\r\n".to_vec(),
                505,
                code::HTTP_VERSION_NOT_SUPPORTED,
            ),
            (
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
                505,
                code::HTTP_VERSION_NOT_SUPPORTED,
            ),
            (
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(),
                400,
                code::MALFORMED_REQUEST,
            ),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                    .to_vec(),
                400,
                code::MALFORMED_REQUEST,
            ),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(),
                501,
                code::UNSUPPORTED_TRANSFER_CODING,
            ),
            (
                b"GET / HTTP/1.1\r\n\r\n".to_vec(),
                400,
                code::MALFORMED_REQUEST,
            ),
            (
                b"GET / HTTP/1.1\r\nHost : a\r\n\r\n".to_vec(),
                400,
                code::MALFORMED_REQUEST,
            ),
        ];
        for (head, status, code) in cases {
            let problem = refused(&head);
            assert_eq!(
                (problem.status.as_u16(), problem.code),
                (status, code),
                "{:?}: {}",
                String::from_utf8_lossy(&head[..head.len().min(80)]),
                problem.detail
            );
            assert!(!problem.detail.is_empty());
        }
        let raw_byte = refused(b"GET /a\xffb HTTP/1.1\r\nHost: a\r\n\r\n");
        assert!(
            raw_byte.detail.contains("0xFF at position 2"),
            "{}",
            raw_byte.detail
        );
    }

    #[test]
    fn an_overlong_head_is_refused_before_it_ends() {
        let line = format!("GET /{}", "a".repeat(TARGET_BYTES_MAX + 100));
        assert_eq!(refused(line.as_bytes()).status.as_u16(), 414);
        let fields = format!(
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: {}",
            "b".repeat(HEAD_BYTES_MAX)
        );
        assert_eq!(refused(fields.as_bytes()).status.as_u16(), 431);
    }

    async fn read_some<S: AsyncRead + Unpin>(stream: &mut S, out: &mut Vec<u8>) -> bool {
        let mut buffer = [0u8; 7];
        let mut read = ReadBuf::new(&mut buffer);
        std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, &mut read))
            .await
            .expect("read");
        out.extend_from_slice(read.filled());
        !read.filled().is_empty()
    }

    #[test]
    fn a_trickled_pipeline_passes_unchanged_and_a_bad_head_ends_it_with_its_answer() {
        let good: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\
            POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc\
            POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let bad: &[u8] = b"GET / HTTP/9.9\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("listen on loopback");
            let address = listener.local_addr().expect("address");
            let mut client = tokio::net::TcpStream::connect(address)
                .await
                .expect("connect");
            let (server, _) = listener.accept().await.expect("accept");
            let mut guarded = GuardedStream::new(server, 1_024);
            let sent: Vec<u8> = [good, bad].concat();
            let writer = tokio::spawn(async move {
                // A byte at a time, as a slow client would.
                for byte in sent {
                    std::future::poll_fn(|cx| Pin::new(&mut client).poll_write(cx, &[byte]))
                        .await
                        .expect("write");
                }
                client
            });
            let mut handed_over = Vec::new();
            while read_some(&mut guarded, &mut handed_over).await {}
            assert_eq!(
                String::from_utf8_lossy(&handed_over),
                String::from_utf8_lossy(good)
            );
            let mut client = writer.await.expect("writer");
            let shutdown = std::future::poll_fn(|cx| Pin::new(&mut guarded).poll_shutdown(cx));
            let answer = async move {
                let mut answer = Vec::new();
                while read_some(&mut client, &mut answer).await {}
                answer
            };
            let (shut, answer) = tokio::join!(shutdown, answer);
            shut.expect("shutdown");
            let answer = String::from_utf8_lossy(&answer).into_owned();
            assert!(answer.starts_with("HTTP/1.1 505 "), "{answer}");
            assert!(answer.contains("application/problem+json"), "{answer}");
            assert!(answer.contains("HTTP/9.9 is not supported"), "{answer}");
        });
    }

    #[test]
    fn chunked_framing_finds_the_end_of_the_body() {
        let fresh = || Chunked::START;
        let body = b"5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nTrailer: x\r\n\r\nGET";
        let end = body.len() - 3;
        // Whole, and a byte at a time.
        assert_eq!(fresh().advance(body), ChunkProgress::Done(end));
        let mut framing = Chunked::START;
        for (at, byte) in body.iter().enumerate() {
            match framing.advance(std::slice::from_ref(byte)) {
                ChunkProgress::More => assert!(at < end - 1),
                ChunkProgress::Done(1) => {
                    assert_eq!(at, end - 1);
                    break;
                }
                other => panic!("at {at}: {other:?}"),
            }
        }
        assert_eq!(fresh().advance(b"0\r\n\r\n"), ChunkProgress::Done(5));
        assert_eq!(fresh().advance(b"zz\r\n"), ChunkProgress::Malformed(1));
        assert_eq!(fresh().advance(b"2\r\nabc"), ChunkProgress::Malformed(6));
    }
}
