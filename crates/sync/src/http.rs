//! A small blocking HTTP/1.1 client, enough for C2SP static resources and the witness call:
//! `GET` and `POST` over plain TCP, `Content-Length`, chunked or close-delimited bodies, with
//! timeouts and a body size limit. No TLS: everything fetched is public and verified by
//! signatures; a deployment that wants transport privacy puts a TLS proxy in front.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::error::{Result, SyncError, SyncErrorKind};
use crate::transport::{FetchResult, PartnerLog, TransportError, TransportErrorKind};
use crate::witness::WitnessTransport;
use skill_ledger_log::{entry_bundle_path, tile_path};

/// Largest response body accepted (a full entry bundle of 256 maximal entries fits).
pub const RESPONSE_BYTES_MAX: usize = 256 * (2 + 65_535) + 4096;
/// Longest header section accepted.
const HEADER_BYTES_MAX: usize = 16 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// `http://host[:port][/prefix]`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash (empty for the root).
    pub prefix: String,
}

impl BaseUrl {
    pub fn parse(url: &str) -> Result<BaseUrl> {
        let bad = |why: &str| SyncError::new(SyncErrorKind::Config, format!("url {url:?}: {why}"));
        if url.starts_with("https://") {
            return Err(bad(
                "https is not supported by the built-in client; use http:// (behind a TLS proxy if needed)",
            ));
        }
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| bad("must start with http://"))?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        if authority.is_empty()
            || authority.contains('@')
            || path.contains(['?', '#', ' '])
            || !authority
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
        {
            return Err(bad("expected http://host[:port][/prefix]"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                let port: u16 = port.parse().map_err(|_| bad("port is not a number"))?;
                (host.to_string(), port)
            }
            _ => (authority.to_string(), 80),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(BaseUrl {
            host,
            port,
            prefix: path.trim_end_matches('/').to_string(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}:{}{}/{path}", self.host, self.port, self.prefix)
    }
}

/// One HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

fn unavailable(message: String) -> TransportError {
    TransportError::new(TransportErrorKind::Unavailable, message)
}

fn refused(message: String) -> TransportError {
    TransportError::new(TransportErrorKind::Refused, message)
}

/// Sends one request (`Connection: close`) and reads the whole answer.
pub fn request(
    base: &BaseUrl,
    method: &str,
    path: &str,
    body: Option<(&str, &[u8])>,
) -> FetchResult<Response> {
    let url = base.url(path);
    let address = (
        base.host.trim_start_matches('[').trim_end_matches(']'),
        base.port,
    )
        .to_socket_addrs()
        .map_err(|error| unavailable(format!("{url}: cannot resolve the host: {error}")))?
        .next()
        .ok_or_else(|| unavailable(format!("{url}: the host has no address")))?;
    let mut stream = TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)
        .map_err(|error| unavailable(format!("{url}: connect: {error}")))?;
    let io = |error: std::io::Error| unavailable(format!("{url}: {error}"));
    stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(IO_TIMEOUT)).map_err(io)?;
    let mut head = format!(
        "{method} {}/{path} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: skill-ledger-sync\r\nAccept-Encoding: identity\r\nConnection: close\r\n",
        base.prefix, base.host, base.port
    );
    if let Some((content_type, bytes)) = body {
        head.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            bytes.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(io)?;
    if let Some((_, bytes)) = body {
        stream.write_all(bytes).map_err(io)?;
    }
    stream.flush().map_err(io)?;
    read_response(BufReader::new(stream), &url)
}

fn read_line(reader: &mut impl BufRead, url: &str, budget: &mut usize) -> FetchResult<String> {
    let mut line = Vec::new();
    let read = reader
        .by_ref()
        .take(*budget as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(|error| unavailable(format!("{url}: {error}")))?;
    if read > *budget {
        return Err(refused(format!("{url}: response header too long")));
    }
    *budget -= read;
    if !line.ends_with(b"\n") {
        return Err(unavailable(format!("{url}: connection closed mid-header")));
    }
    String::from_utf8(line)
        .map(|text| text.trim_end_matches(['\r', '\n']).to_string())
        .map_err(|_| refused(format!("{url}: response header is not UTF-8")))
}

fn read_response(mut reader: impl BufRead, url: &str) -> FetchResult<Response> {
    let mut budget = HEADER_BYTES_MAX;
    let status_line = read_line(&mut reader, url, &mut budget)?;
    let status: u16 = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            refused(format!(
                "{url}: not an HTTP/1.x status line: {status_line:?}"
            ))
        })?;
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    let mut content_type = None;
    loop {
        let line = read_line(&mut reader, url, &mut budget)?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(refused(format!("{url}: malformed header line {line:?}")));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                content_length = Some(value.parse().map_err(|_| {
                    refused(format!("{url}: Content-Length {value:?} is not a number"))
                })?)
            }
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "content-encoding" if !value.eq_ignore_ascii_case("identity") => {
                return Err(refused(format!(
                    "{url}: Content-Encoding {value:?} is not supported (identity was asked for)"
                )))
            }
            "content-type" => content_type = Some(value.to_string()),
            _ => {}
        }
    }
    let too_large = || refused(format!("{url}: body over {RESPONSE_BYTES_MAX} bytes"));
    let io = |error: std::io::Error| unavailable(format!("{url}: reading the body: {error}"));
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let size_line = read_line(&mut reader, url, &mut HEADER_BYTES_MAX.clone())?;
            let size_text = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| refused(format!("{url}: bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers end with an empty line.
                while !read_line(&mut reader, url, &mut HEADER_BYTES_MAX.clone())?.is_empty() {}
                break;
            }
            if body.len() + size > RESPONSE_BYTES_MAX {
                return Err(too_large());
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..]).map_err(io)?;
            read_line(&mut reader, url, &mut HEADER_BYTES_MAX.clone())?;
        }
        body
    } else if let Some(length) = content_length {
        if length > RESPONSE_BYTES_MAX {
            return Err(too_large());
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).map_err(io)?;
        body
    } else {
        let mut body = Vec::new();
        reader
            .take(RESPONSE_BYTES_MAX as u64 + 1)
            .read_to_end(&mut body)
            .map_err(io)?;
        if body.len() > RESPONSE_BYTES_MAX {
            return Err(too_large());
        }
        body
    };
    Ok(Response {
        status,
        content_type,
        body,
    })
}

/// Maps a non-200 status of a GET to a transport error.
fn expect_ok(response: Response, url: &str) -> FetchResult<Vec<u8>> {
    match response.status {
        200 => Ok(response.body),
        404 | 410 => Err(TransportError::new(
            TransportErrorKind::NotFound,
            format!("{url}: HTTP {}", response.status),
        )),
        429 | 500..=599 => Err(unavailable(format!("{url}: HTTP {}", response.status))),
        status => Err(refused(format!("{url}: HTTP {status}"))),
    }
}

/// A partner's log over HTTP (C2SP tlog-tiles paths under a base URL).
pub struct HttpLog {
    base: BaseUrl,
}

impl HttpLog {
    pub fn new(url: &str) -> Result<HttpLog> {
        Ok(HttpLog {
            base: BaseUrl::parse(url)?,
        })
    }

    fn get(&self, path: &str) -> FetchResult<Vec<u8>> {
        let response = request(&self.base, "GET", path, None)?;
        expect_ok(response, &self.base.url(path))
    }
}

impl PartnerLog for HttpLog {
    fn checkpoint(&self) -> FetchResult<String> {
        let bytes = self.get("checkpoint")?;
        String::from_utf8(bytes).map_err(|_| {
            refused(format!(
                "{}: checkpoint is not UTF-8",
                self.base.url("checkpoint")
            ))
        })
    }

    fn tile(&self, level: u8, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        self.get(&tile_path(level, index, width))
    }

    fn entry_bundle(&self, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        self.get(&entry_bundle_path(index, width))
    }

    fn describe(&self) -> String {
        self.base.url("").trim_end_matches('/').to_string()
    }
}

/// A partner's witness over HTTP: `POST <url>/add-checkpoint`.
pub struct HttpWitness {
    base: BaseUrl,
}

impl HttpWitness {
    pub fn new(url: &str) -> Result<HttpWitness> {
        Ok(HttpWitness {
            base: BaseUrl::parse(url)?,
        })
    }
}

impl WitnessTransport for HttpWitness {
    fn add_checkpoint(&self, body: &[u8]) -> FetchResult<(u16, Vec<u8>)> {
        let response = request(
            &self.base,
            "POST",
            "add-checkpoint",
            Some(("text/plain; charset=utf-8", body)),
        )?;
        Ok((response.status, response.body))
    }

    fn describe(&self) -> String {
        self.base.url("add-checkpoint")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_parse_or_name_the_fault() {
        let parsed = BaseUrl::parse("http://127.0.0.1:8080/ledger/").expect("parse");
        assert_eq!(
            parsed,
            BaseUrl {
                host: "127.0.0.1".into(),
                port: 8080,
                prefix: "/ledger".into()
            }
        );
        assert_eq!(
            BaseUrl::parse("http://example.org").expect("parse").port,
            80
        );
        for (url, fault) in [
            ("https://example.org", "https"),
            ("ftp://example.org", "http://"),
            ("http://", "expected"),
            ("http://host:port", "port"),
            ("http://a b", "expected"),
        ] {
            let error = BaseUrl::parse(url).expect_err(url);
            assert!(error.message().contains(fault), "{url}: {error}");
        }
    }

    #[test]
    fn responses_with_length_chunks_or_close_parse() {
        let url = "http://test/";
        let with_length = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc".as_slice();
        assert_eq!(
            read_response(with_length, url).expect("length").body,
            b"abc"
        );
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1;x\r\nc\r\n0\r\n\r\n"
                .as_slice();
        assert_eq!(read_response(chunked, url).expect("chunked").body, b"abc");
        let closed =
            b"HTTP/1.0 409 Conflict\r\nContent-Type: text/x.tlog.size\r\n\r\n12\n".as_slice();
        let response = read_response(closed, url).expect("close-delimited");
        assert_eq!(
            (response.status, response.body.as_slice()),
            (409, b"12\n".as_slice())
        );
        assert_eq!(response.content_type.as_deref(), Some("text/x.tlog.size"));
        let gzip = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n".as_slice();
        assert!(read_response(gzip, url)
            .expect_err("gzip")
            .message
            .contains("gzip"));
        let short = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab".as_slice();
        assert!(
            read_response(short, url).is_err(),
            "a truncated body is an error"
        );
    }
}
