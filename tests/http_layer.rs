//! The HTTP layer below and around the routes, over loopback TCP with raw bytes, against
//! `skill-ledger serve`: request heads hyper would refuse get problem documents and a closed
//! connection (while keep-alive and pipelining keep working for good requests), a declared
//! body over the limit is refused before it is sent, only canonical tile paths are served,
//! the portal's lookup is posted and names no one in an address, and the access log is off
//! by default and samples what it is told to.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{
    get, given_ledger_with_a_body, issue_junior, parse_reply, request, s, serve_with, Ledger,
    Reply, Served,
};

/// The certificate issued by [`given_a_served_ledger_with_a_credential`].
const CERT_NO: &str = "Y000050000001205000001";
const NAME: &str = "张三";
const NAME_ENCODED: &str = "%E5%BC%A0%E4%B8%89";

/// Longest the server may take to answer a refused head and close.
const PROMPTLY: Duration = Duration::from_secs(4);

fn given_a_served_ledger(extra: &[&str]) -> (Ledger, Served) {
    let ledger = given_ledger_with_a_body();
    let stderr = ledger.temp.path().join("serve.stderr");
    let served = serve_with(&ledger.dir, extra, &stderr);
    (ledger, served)
}

fn given_a_served_ledger_with_a_credential(extra: &[&str]) -> (Ledger, Served) {
    let ledger = given_ledger_with_a_body();
    let key = ledger.temp.path().join("K");
    issue_junior(&ledger.dir, &key, CERT_NO);
    let stderr = ledger.temp.path().join("serve.stderr");
    let served = serve_with(&ledger.dir, extra, &stderr);
    (ledger, served)
}

/// What the server sent on one connection, and whether it closed the connection.
struct Exchange {
    raw: Vec<u8>,
    closed: bool,
    took: Duration,
}

/// Sends `bytes` on a new connection and reads until the server closes it (or 8 s pass).
fn raw_exchange(address: &str, bytes: &[u8]) -> Exchange {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(8)))
        .expect("read timeout");
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(bytes);
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    let closed = loop {
        match stream.read(&mut buffer) {
            Ok(0) => break true,
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break false
            }
            // A reset after the answer still counts as closed.
            Err(_) => break true,
        }
    };
    Exchange {
        raw,
        closed,
        took: started.elapsed(),
    }
}

/// The length of the first whole answer in `raw`, or `None` when it is not all there.
fn answer_length(raw: &[u8]) -> Option<usize> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&raw[..head_end])
        .ok()?
        .to_ascii_lowercase();
    let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
    if (100..200).contains(&status) {
        return Some(head_end);
    }
    if head.contains("transfer-encoding: chunked") {
        let mut at = head_end;
        loop {
            let line_end = at + raw[at..].windows(2).position(|w| w == b"\r\n")?;
            let size =
                usize::from_str_radix(std::str::from_utf8(&raw[at..line_end]).ok()?, 16).ok()?;
            at = line_end + 2 + size + 2;
            if size == 0 {
                return (raw.len() >= at).then_some(at);
            }
        }
    }
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(Some(0), |value| value.trim().parse::<usize>().ok())?;
    (raw.len() >= head_end + length).then_some(head_end + length)
}

/// Every whole answer in `raw`, in order.
fn answers(raw: &[u8]) -> Vec<Reply> {
    let mut rest = raw;
    let mut replies = Vec::new();
    while let Some(length) = answer_length(rest) {
        replies.push(parse_reply(&rest[..length]).expect("a whole answer"));
        rest = &rest[length..];
    }
    assert!(
        rest.is_empty(),
        "bytes after the last whole answer: {:?}",
        String::from_utf8_lossy(rest)
    );
    replies
}

/// Reads one whole answer from a connection kept open.
fn read_answer(stream: &mut TcpStream, buffered: &mut Vec<u8>) -> Reply {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if let Some(length) = answer_length(buffered) {
            let reply = parse_reply(&buffered[..length]).expect("a whole answer");
            buffered.drain(..length);
            return reply;
        }
        let n = stream.read(&mut buffer).expect("an answer");
        assert!(n > 0, "closed before a whole answer: {buffered:?}");
        buffered.extend_from_slice(&buffer[..n]);
    }
}

// ---------------------------------------------------------------------------------------
// Request heads hyper would refuse
// ---------------------------------------------------------------------------------------

/// A TLS 1.2 ClientHello's first bytes, as a browser sends them to `https://` on this port.
const CLIENT_HELLO: &[u8] = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x5e\x6b\x1b\x1f\x9a\x4b\x2e\x83\x00\x00\x20\xc0\x2b\xc0\x2f\x00\x9e\xc0\x0a";

#[test]
fn request_heads_below_the_application_get_problem_documents_and_a_closed_connection() {
    let (_ledger, served) = given_a_served_ledger(&[]);
    let address = served.address.as_str();
    let long_target = format!(
        "GET /v1/credentials/{} HTTP/1.1\r\nHost: {address}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let many_fields = format!(
        "GET /healthz HTTP/1.1\r\nHost: {address}\r\n{}\r\n",
        (0..200)
            .map(|n| format!("X-Filler-{n}: {n}\r\n"))
            .collect::<String>()
    );
    let large_field = format!(
        "GET /healthz HTTP/1.1\r\nHost: {address}\r\nX-Large: {}\r\n\r\n",
        "b".repeat(40 * 1024)
    );
    let post = |fields: &str| {
        format!(
            "POST /v1/events HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n{fields}\r\n"
        )
        .into_bytes()
    };
    let raw_byte_in_path = {
        let mut bytes = b"GET /v1/credentials/Y0000500000012050\xff0001 HTTP/1.1\r\n".to_vec();
        bytes.extend_from_slice(format!("Host: {address}\r\n\r\n").as_bytes());
        bytes
    };
    let cases: Vec<(&str, Vec<u8>, u16, &str, &str)> = vec![
        (
            "a target over 64 KiB",
            long_target.into_bytes(),
            414,
            "uri-too-long",
            "request target",
        ),
        (
            "200 header fields",
            many_fields.into_bytes(),
            431,
            "headers-too-large",
            "header fields",
        ),
        (
            "a 40 KiB header field",
            large_field.into_bytes(),
            431,
            "headers-too-large",
            "request head",
        ),
        (
            "a raw 0xFF byte in the path",
            raw_byte_in_path,
            400,
            "malformed-request",
            "0xFF",
        ),
        (
            "Content-Length 2^64",
            post("Content-Length: 18446744073709551616\r\n"),
            413,
            "body-too-large",
            "limit",
        ),
        (
            "two different Content-Lengths",
            post("Content-Length: 5\r\nContent-Length: 6\r\n"),
            400,
            "malformed-request",
            "two different Content-Length",
        ),
        (
            "a negative Content-Length",
            post("Content-Length: -1\r\n"),
            400,
            "malformed-request",
            "Content-Length \"-1\"",
        ),
        (
            "HTTP/9.9",
            format!("GET /healthz HTTP/9.9\r\nHost: {address}\r\n\r\n").into_bytes(),
            505,
            "http-version-not-supported",
            "HTTP/9.9",
        ),
        (
            "a TLS ClientHello",
            CLIENT_HELLO.to_vec(),
            400,
            "malformed-request",
            "TLS",
        ),
        (
            "both Content-Length and Transfer-Encoding",
            post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
            400,
            "malformed-request",
            "ambiguous",
        ),
        (
            "a transfer coding other than chunked",
            post("Transfer-Encoding: gzip\r\n"),
            501,
            "unsupported-transfer-coding",
            "chunked",
        ),
        (
            "an HTTP/1.1 request without Host",
            b"GET /healthz HTTP/1.1\r\n\r\n".to_vec(),
            400,
            "malformed-request",
            "Host",
        ),
    ];
    for (what, bytes, status, code, named) in cases {
        let exchange = raw_exchange(address, &bytes);
        let replies = answers(&exchange.raw);
        assert_eq!(
            replies.len(),
            1,
            "{what}: {:?}",
            String::from_utf8_lossy(&exchange.raw)
        );
        let document = replies[0].problem(status, code);
        assert!(
            document["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains(named)),
            "{what}: the detail names {named:?}: {document}"
        );
        assert!(exchange.closed, "{what}: the connection was left open");
        assert!(exchange.took < PROMPTLY, "{what}: took {:?}", exchange.took);
        assert_eq!(replies[0].header("connection"), Some("close"), "{what}");
    }
    // Still serving.
    assert_eq!(get(address, "/healthz").status, 200);
}

#[test]
fn keep_alive_and_pipelining_still_work_and_a_bad_head_is_answered_after_the_good_ones() {
    let (_ledger, served) = given_a_served_ledger(&[]);
    let address = served.address.as_str();
    let verify = format!("{{\"certificate_number\": \"{CERT_NO}\", \"name\": \"{NAME}\"}}");
    let (first, second) = verify.as_bytes().split_at(10);

    // Given one connection kept alive, answered one request at a time,
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut buffered = Vec::new();
    for _ in 0..3 {
        stream
            .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())
            .expect("send");
        assert_eq!(read_answer(&mut stream, &mut buffered).status, 200);
    }
    // a chunked body on it,
    let mut chunked = format!(
        "POST /v1/verify HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        first.len()
    )
    .into_bytes();
    chunked.extend_from_slice(first);
    chunked.extend_from_slice(format!("\r\n{:x}\r\n", second.len()).as_bytes());
    chunked.extend_from_slice(second);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    stream.write_all(&chunked).expect("send");
    let reply = read_answer(&mut stream, &mut buffered);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["matched"], false, "{}", reply.text());
    // and a body with a length.
    let mut sized = format!(
        "POST /v1/verify HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        verify.len()
    )
    .into_bytes();
    sized.extend_from_slice(verify.as_bytes());
    stream.write_all(&sized).expect("send");
    assert_eq!(read_answer(&mut stream, &mut buffered).status, 200);

    // When requests are pipelined on another, the last of them with a bad head,
    let mut pipelined = Vec::new();
    for _ in 0..3 {
        pipelined.extend_from_slice(
            format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes(),
        );
    }
    pipelined.extend_from_slice(&chunked);
    pipelined.extend_from_slice(&sized);
    pipelined
        .extend_from_slice(format!("GET /healthz HTTP/9.9\r\nHost: {address}\r\n\r\n").as_bytes());
    pipelined
        .extend_from_slice(format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes());
    let exchange = raw_exchange(address, &pipelined);

    // then each good one is answered in order, the bad one last with its problem, nothing
    // after it is read, and the connection closes.
    let replies = answers(&exchange.raw);
    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 505], "{statuses:?}");
    replies[5].problem(505, "http-version-not-supported");
    assert!(exchange.closed && exchange.took < PROMPTLY);

    // The first connection is still open and serving.
    stream
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())
        .expect("send");
    assert_eq!(read_answer(&mut stream, &mut buffered).status, 200);
}

// ---------------------------------------------------------------------------------------
// Declared body lengths
// ---------------------------------------------------------------------------------------

#[test]
fn a_declared_length_over_the_limit_is_refused_at_once_and_never_invited() {
    let (_ledger, served) = given_a_served_ledger(&[]);
    let address = served.address.as_str();
    let head = |length: u64, expect: bool| {
        format!(
            "POST /v1/events HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{}\r\n",
            if expect { "Expect: 100-continue\r\n" } else { "" }
        )
    };

    // A declared 10 MB body with only its first bytes sent: 413 at once, not 408 later.
    let started = Instant::now();
    let mut bytes = head(10_000_000, false).into_bytes();
    bytes.extend_from_slice(&[b'{'; 100]);
    let exchange = raw_exchange(address, &bytes);
    let replies = answers(&exchange.raw);
    assert_eq!(
        replies.len(),
        1,
        "{:?}",
        String::from_utf8_lossy(&exchange.raw)
    );
    let document = replies[0].problem(413, "body-too-large");
    assert_eq!(document["declared_length"], 10_000_000, "{document}");
    assert!(started.elapsed() < PROMPTLY, "took {:?}", started.elapsed());
    assert!(exchange.closed, "the connection was left open");

    // With Expect: 100-continue over the limit: 413 and no 100 Continue.
    let exchange = raw_exchange(address, head(10_000_000, true).as_bytes());
    let replies = answers(&exchange.raw);
    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    assert_eq!(
        statuses,
        [413],
        "{:?}",
        String::from_utf8_lossy(&exchange.raw)
    );
    assert!(exchange.took < PROMPTLY, "took {:?}", exchange.took);

    // Within the limit: 100 Continue, then the body is read and answered.
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    stream.write_all(head(2, true).as_bytes()).expect("send");
    let mut buffered = Vec::new();
    assert_eq!(read_answer(&mut stream, &mut buffered).status, 100);
    stream.write_all(b"{}").expect("send the body");
    read_answer(&mut stream, &mut buffered).problem(422, "invalid-field");
}

// ---------------------------------------------------------------------------------------
// Tile paths
// ---------------------------------------------------------------------------------------

#[test]
fn only_canonical_tile_paths_are_served() {
    let (_ledger, served) = given_a_served_ledger(&[]);
    let address = served.address.as_str();
    let size = get(address, "/healthz").json()["tree_size"]
        .as_u64()
        .expect("tree size");
    assert!((1..256).contains(&size), "{size}");

    for canonical in [
        format!("/tile/entries/000.p/{size}"),
        format!("/tile/0/000.p/{size}"),
    ] {
        let reply = get(address, &canonical);
        assert_eq!(reply.status, 200, "{canonical}: {}", reply.text());
    }
    for spelling in [
        format!("/tile/entries%2F000.p%2F{size}"),
        format!("/tile/entries%2F000.p/{size}"),
        format!("/tile/entries/%30%30%30.p/{size}"),
        format!("/tile/entries/000%2Ep/{size}"),
        format!("/tile/%30/000.p/{size}"),
        format!("/tile/0/000.p/%3{size}"),
        format!("/tile/entries/0000.p/{size}"),
        format!("/tile/entries/x000.p/{size}"),
        format!("/tile/00/000.p/{size}"),
        format!("/tile/0/000.p/0{size}"),
        format!("/tile/0/000.p/{size}/"),
        format!("/tile/entries/000.p/{size}/"),
        "/tile/entries%2F000".to_string(),
        "/tile/0/x000/000".to_string(),
    ] {
        let document = get(address, &spelling).problem(404, "not-found");
        assert!(
            document["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains("canonical")),
            "{spelling}: {document}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The portal's lookup form
// ---------------------------------------------------------------------------------------

fn post_form(address: &str, body: &str) -> Reply {
    request(
        address,
        "POST",
        "/query",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
}

#[test]
fn the_lookup_form_is_posted_and_no_address_carries_the_holders_name() {
    // Given a ledger with 张三's certificate, one lookup token per 100 s, a burst of 3,
    let (_ledger, served) = given_a_served_ledger_with_a_credential(&[
        "--verify-rate-per-s",
        "0.01",
        "--verify-burst",
        "3",
    ]);
    let address = served.address.as_str();

    // the form posts to /query,
    let form = get(address, "/");
    assert_eq!(form.status, 200);
    assert!(
        form.text().contains(r#"method="post" action="/query""#),
        "{}",
        form.text()
    );

    // and the posted lookup is answered directly, not stored, its QR code without the name.
    let reply = post_form(
        address,
        &format!("cert_no={CERT_NO}&name={NAME_ENCODED}&id_no="),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert!(reply
        .header("content-type")
        .is_some_and(|value| value.starts_with("text/html")));
    let page = reply.text();
    assert!(page.contains(r#"data-status="valid""#), "{page}");
    let qr_address = format!("http://{address}/?cert_no={CERT_NO}");
    assert!(page.contains(&qr_address), "{page}");
    assert!(
        !page.contains(NAME_ENCODED),
        "the name in an address: {page}"
    );
    assert!(
        !page.contains("&amp;name=") && !page.contains("?name="),
        "a name parameter in an address: {page}"
    );

    // The QR code's address opens the form with only the number filled in.
    let prefilled = get(address, &format!("/?cert_no={CERT_NO}"));
    assert_eq!(prefilled.status, 200);
    assert!(
        prefilled.text().contains(&format!(r#"value="{CERT_NO}""#)),
        "{}",
        prefilled.text()
    );

    // An old address with the name in it looks nothing up and keeps only the number.
    let old = get(
        address,
        &format!("/query?cert_no={CERT_NO}&name={NAME_ENCODED}"),
    );
    assert_eq!(old.status, 200, "{}", old.text());
    assert!(
        !old.text().contains("data-status"),
        "a lookup by GET: {}",
        old.text()
    );
    assert!(
        !old.text().contains(NAME),
        "the name echoed: {}",
        old.text()
    );
    assert!(old.text().contains(&format!(r#"value="{CERT_NO}""#)));
    assert_eq!(old.header("cache-control"), Some("no-store"));

    // A lookup that is not a form is refused, saying so.
    let json = request(
        address,
        "POST",
        "/query",
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(json.status, 415, "{}", json.text());

    // The rate limit still holds for posted lookups (3 so far, counting the refused one),
    // and not for the form; a visitor is told in Chinese when to retry.
    post_form(address, &format!("cert_no={CERT_NO}&name=x"));
    let limited = post_form(address, &format!("cert_no={CERT_NO}&name=x"));
    assert_eq!(limited.status, 429, "{}", limited.text());
    assert!(limited.header("retry-after").is_some());
    assert_eq!(
        limited.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        limited.text().contains("查询过于频繁"),
        "{}",
        limited.text()
    );
    assert_eq!(get(address, "/query").status, 200);
}

// ---------------------------------------------------------------------------------------
// The access log
// ---------------------------------------------------------------------------------------

fn access_lines(stderr: &Path) -> Vec<String> {
    std::fs::read_to_string(stderr)
        .expect("the server's stderr")
        .lines()
        .filter(|line| line.contains("skill_ledger_server::access"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_access_log_is_off_by_default_and_samples_the_share_it_is_told() {
    // Given a server with the default configuration,
    let ledger = given_ledger_with_a_body();
    let stderr = ledger.temp.path().join("default.stderr");
    let served = serve_with(&ledger.dir, &[], &stderr);
    // when it answers 200 requests and 20 errors,
    for _ in 0..200 {
        assert_eq!(get(&served.address, "/healthz").status, 200);
    }
    for _ in 0..20 {
        assert_eq!(get(&served.address, "/no-such-page").status, 404);
    }
    // then its log has no line for any of them.
    let lines = access_lines(&stderr);
    assert!(lines.is_empty(), "{lines:#?}");
    let log = std::fs::read_to_string(&stderr).expect("stderr");
    assert!(!log.contains("/healthz"), "{log}");
    served.kill();

    // Given the access log sampled at 10%,
    let config = ledger.temp.path().join("serve.toml");
    std::fs::write(
        &config,
        "access_log = \"sampled\"\naccess_log_sample_rate = 0.1\n",
    )
    .expect("config");
    let stderr = ledger.temp.path().join("sampled.stderr");
    let served = serve_with(&ledger.dir, &["--config", s(&config)], &stderr);
    for _ in 0..300 {
        assert_eq!(get(&served.address, "/healthz").status, 200);
    }
    for _ in 0..20 {
        assert_eq!(get(&served.address, "/no-such-page").status, 404);
    }
    // and a head refused before routing,
    let refused = raw_exchange(&served.address, b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n");
    assert!(!refused.raw.is_empty());
    // then about a tenth of the successes have a line, and every error.
    let lines = access_lines(&stderr);
    let successes = lines
        .iter()
        .filter(|line| line.contains("status=200"))
        .count();
    let errors = lines
        .iter()
        .filter(|line| line.contains("status=404"))
        .count();
    let refusals = lines
        .iter()
        .filter(|line| line.contains("status=505"))
        .count();
    assert!(
        (25..=35).contains(&successes),
        "{successes} of 300: {lines:#?}"
    );
    assert_eq!((errors, refusals), (20, 1), "{lines:#?}");
    assert!(
        lines.iter().any(|line| line.contains("path=/healthz")),
        "a line names the path: {lines:#?}"
    );
}
