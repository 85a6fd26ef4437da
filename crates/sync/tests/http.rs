//! The HTTP transport against a tiny static-file server on loopback that follows the C2SP
//! paths (`/checkpoint`, `/tile/<L>/<N>[.p/<W>]`, `/tile/entries/<N>[.p/<W>]`, and the
//! witness's `POST /add-checkpoint`). Bounded: the server answers a fixed number of
//! connections and stops.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use common::*;
use ed25519_dalek::SigningKey;
use skill_ledger_log::{parse_tile_path, TileLevel};
use skill_ledger_sync::witness::witness_name;
use skill_ledger_sync::{
    request_cosignature, Cosigner, HttpLog, HttpWitness, Mirror, NodeLog, PartnerLog,
    SyncErrorKind, Witness,
};

/// Serves one request on an accepted connection.
fn serve_one(
    stream: std::net::TcpStream,
    log: &(dyn PartnerLog + Sync),
    witness: Option<&Witness>,
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    reader.read_line(&mut request_line).expect("request line");
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("header");
        if line.trim().is_empty() {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            content_length = value.trim().parse().expect("length");
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body).expect("body");
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.trim_start_matches('/');
    let (status, content_type, bytes) = match (method, path) {
        ("GET", "checkpoint") => match log.checkpoint() {
            Ok(text) => (200, "text/plain; charset=utf-8", text.into_bytes()),
            Err(_) => (404, "text/plain", b"not found".to_vec()),
        },
        ("POST", "add-checkpoint") => match witness {
            Some(witness) => {
                let answer = witness.add_checkpoint(&body, 1_750_000_900);
                (answer.status(), answer.content_type(), answer.body())
            }
            None => (404, "text/plain", Vec::new()),
        },
        ("GET", tile) => {
            let fetched = match parse_tile_path(tile) {
                Ok((TileLevel::Hashes(level), index, width)) => log.tile(level, index, width),
                Ok((TileLevel::Entries, index, width)) => log.entry_bundle(index, width),
                Err(_) => Err(skill_ledger_sync::TransportError::new(
                    skill_ledger_sync::TransportErrorKind::NotFound,
                    "no such path",
                )),
            };
            match fetched {
                Ok(bytes) => (200, "application/octet-stream", bytes),
                Err(_) => (404, "text/plain", b"not found".to_vec()),
            }
        }
        _ => (405, "text/plain", Vec::new()),
    };
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&bytes);
}

/// Runs `client` against a server on 127.0.0.1 answering at most `connections` requests.
fn with_server<T>(
    log: &(dyn PartnerLog + Sync),
    witness: Option<&Witness>,
    connections: usize,
    client: impl FnOnce(String) -> T,
) -> T {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::scope(|scope| {
        let server = scope.spawn(move || {
            for stream in listener.incoming().take(connections) {
                let stream = stream.expect("accept");
                if stream.peer_addr().is_err() {
                    break;
                }
                serve_one(stream, log, witness);
            }
        });
        let result = client(url.clone());
        // Wake the server if the client used fewer connections than allowed.
        for _ in 0..connections {
            if server.is_finished() {
                break;
            }
            let _ = std::net::TcpStream::connect(url.trim_start_matches("http://"))
                .and_then(|mut stream| stream.write_all(b"GET /stop HTTP/1.1\r\n\r\n"));
        }
        server.join().expect("server thread");
        result
    })
}

#[test]
fn given_a_partner_served_over_http_when_the_mirror_pulls_then_it_matches_the_partner() {
    let partner = Partner::sichuan();
    let numbers = partner.issue(300, "h");
    let home = HomeLedger::chongqing();
    let log = NodeLog::new(&partner.node);
    let report = with_server(&log, None, 64, |url| {
        let http = HttpLog::new(&url).expect("url");
        let mut mirror = Mirror::open(&home.home, &partner.config()).expect("open");
        mirror
            .pull(&http, &options(), &mut |_| {})
            .expect("pull over HTTP")
    });
    assert!(report.caught_up(), "{report:?}");
    let mirror = Mirror::open(&home.home, &partner.config()).expect("reopen");
    for number in &numbers {
        assert!(
            mirror.credential(number).expect("query").is_some(),
            "{number}"
        );
    }
}

#[test]
fn given_a_witness_served_over_http_when_the_home_asks_then_it_gets_a_verified_cosignature() {
    let sichuan = Partner::sichuan();
    let chongqing = HomeLedger::chongqing();
    let cosigner = Cosigner::new(
        &witness_name("skill-ledger/50"),
        SigningKey::from_bytes(&[7; 32]),
    )
    .expect("cosigner");
    let witness = Witness::new(
        chongqing.dir(),
        cosigner,
        [(
            sichuan.node.origin().to_string(),
            sichuan.node.verifier_key_text().to_string(),
        )]
        .into(),
    );
    let mut config = sichuan.config();
    config.origin = "skill-ledger/50".to_string();
    config.witness_vkey = Some(witness.verifier_key_text());
    let log = NodeLog::new(&sichuan.node);
    let cosigned = with_server(&log, Some(&witness), 4, |url| {
        let http = HttpWitness::new(&url).expect("url");
        request_cosignature(&sichuan.dir(), &sichuan.node, &config, &http)
    })
    .expect("cosigned over HTTP");
    assert_eq!(cosigned.cosigned_unix_s, 1_750_000_900);
}

#[test]
fn given_nothing_listening_when_pulled_then_the_error_is_a_transport_error_naming_the_url() {
    let partner = Partner::sichuan();
    let home = HomeLedger::chongqing();
    // Bind then drop: the port is very likely closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port();
    let http = HttpLog::new(&format!("http://127.0.0.1:{port}")).expect("url");
    let mut mirror = Mirror::open(&home.home, &partner.config()).expect("open");
    let mut quick = options();
    quick.retries_max = 1;
    let error = mirror
        .pull(&http, &quick, &mut |_| {})
        .expect_err("refused");
    assert_eq!(error.kind(), SyncErrorKind::Transport, "{error}");
    assert!(
        error.message().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
}
