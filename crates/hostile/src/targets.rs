//! One function per kind of hostile input. Each takes arbitrary bytes, feeds them to the
//! parser a node, a verifier or a partner really runs, and asserts what must hold for any
//! input: no panic, and the stated property. A failed assertion is a panic, which libFuzzer
//! reports as a crash and the corpus replay reports as a failed test.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use skill_ledger_domain::{
    apply, decide, encode_event, Catalogue, CertificateNumber, CredentialKind, Date, Event,
    EventKind, Level, MemoryLedger, OccupationCode, Policy, PolicyAdopted, RegistrationNumber,
    SignedEvent, BINCODE_CONFIG,
};
use skill_ledger_log::{
    entry_bundle, entry_bundle_path, leaf_hash, parse_and_verify_checkpoint, parse_signer_key_text,
    parse_tile_path, parse_verifier_key_text, signer_key_text, tile_path, Bundle, Checkpoint,
    TileLevel, TILE_WIDTH_MAX,
};
use skill_ledger_node::verify_credential_bundle;
use skill_ledger_server::limits::parse_json;
use skill_ledger_server::verify::{VerifyQuery, VerifyRequest};
use skill_ledger_server::views::SubmitRequest;
use skill_ledger_sync::cosignature::{parse_signature_line, split_note};
use skill_ledger_sync::mirror::parse_bundle;
use skill_ledger_sync::transport::FetchResult;
use skill_ledger_sync::witness::verify_cosignatures;
use skill_ledger_sync::{
    AddCheckpointRequest, Mirror, PartnerLog, PullOptions, TransportError, TransportErrorKind,
    WitnessAnswer,
};
use tower::ServiceExt as _;

use crate::fixture::{self, ORIGIN};

/// A target: its name (the directory under `fuzz/corpus/`) and its function.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order `fuzz/run.sh` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "entry",
        run: entry,
    },
    Target {
        name: "event",
        run: event,
    },
    Target {
        name: "checkpoint",
        run: checkpoint,
    },
    Target {
        name: "tile",
        run: tile,
    },
    Target {
        name: "bundle",
        run: bundle,
    },
    Target {
        name: "certificate_number",
        run: certificate_number,
    },
    Target {
        name: "policy",
        run: policy,
    },
    Target {
        name: "api_json",
        run: api_json,
    },
];

/// Judges `signed` against the fixture ledger as a node would, and if the rules accept it,
/// applies it and checks that the fold of the log gives the same state (apply is the whole
/// story of the projections).
fn judge(ledger: &MemoryLedger, signed: &SignedEvent) -> Option<MemoryLedger> {
    if decide(&ledger.registry, ledger, signed).is_err() {
        return None;
    }
    let index = ledger.entries.len() as u64;
    let changes = apply(&ledger.registry, ledger, signed, index);
    let mut next = ledger.clone();
    next.absorb(changes);
    next.entries.push(signed.clone());
    assert_eq!(
        MemoryLedger::fold(&next.entries),
        next,
        "deciding and applying an event gives the state a fold of the log gives"
    );
    Some(next)
}

/// Entry decoding (what the log holds, a submission carries and a mirror fetches):
/// decoding never panics; a decoded entry re-encodes to exactly the same bytes (one entry,
/// one encoding: the signature covers bytes, not values); the event offset is where the
/// signed bytes start; checking the signature and judging the event never panic.
pub fn entry(data: &[u8]) {
    let Ok((signed, offset)) = SignedEvent::from_entry_with_offset(data) else {
        return;
    };
    let (bytes, encoded_offset) = signed
        .to_entry_with_offset()
        .expect("a decoded entry encodes");
    assert_eq!(
        bytes, data,
        "decode then encode gives back the entry's bytes"
    );
    assert_eq!(offset, encoded_offset);
    assert_eq!(
        &data[offset..],
        encode_event(&signed.event).as_slice(),
        "the signed bytes are the event's encoding"
    );
    let _ = signed.verify_signature(ORIGIN);
    let _ = (
        signed.event.kind.name(),
        signed.event.kind.date(),
        signed.event.id.to_hex(),
    );
    judge(fixture::ledger(), &signed);
}

/// Event decoding and the rules: the first byte picks the signer (authority, Y body,
/// S body, with its registered key), the rest is `bincode(Event)`. Decoding never panics and
/// round-trips; the rules judge any decodable event without panicking; an accepted event
/// applies consistently (see `judge`), and a second event after it is judged too.
pub fn event(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let Ok((event, used)) = bincode::decode_from_slice::<Event, _>(bytes, BINCODE_CONFIG) else {
        return;
    };
    assert_eq!(
        encode_event(&event).as_slice(),
        &bytes[..used],
        "decode then encode gives back the event's bytes"
    );
    let (signer, public_key) = fixture::signer_for(selector);
    let signed = SignedEvent {
        signer,
        public_key,
        signature: [0; 64],
        event,
    };
    if let Some(next) = judge(fixture::ledger(), &signed) {
        // The state after a hostile-but-accepted event must still judge later events.
        for later in fixture::next_events() {
            judge(&next, &later);
        }
    }
}

/// Signed notes and checkpoints, cosignatures, key texts and witness requests.
///
/// A checkpoint body parses only in its canonical form; a note verifies with the fixture
/// key only if the fixture signed it (no forgery: the body must be one the fixture signed);
/// a key text that parses prints back the same; an `add-checkpoint` request re-serialises
/// identically; the witness cosigns only a checkpoint the fixture key signed.
pub fn checkpoint(data: &[u8]) {
    let witness = fixture::witness();
    if let Ok(request) = AddCheckpointRequest::parse(data) {
        assert_eq!(
            request.to_bytes(),
            data,
            "an add-checkpoint request has one encoding"
        );
    }
    // The witness persists what it cosigns: start each input from an empty witness.
    let guard = witness
        .lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let _ = std::fs::remove_dir_all(witness.home.path().join("witness"));
    match witness
        .witness
        .add_checkpoint(data, fixture::CHECKPOINT_TIME_UNIX_S + 10)
    {
        WitnessAnswer::Cosigned { lines } => {
            let request = AddCheckpointRequest::parse(data).expect("a cosigned request parses");
            let checkpoint =
                parse_and_verify_checkpoint(&request.checkpoint_note, fixture::verifier_key())
                    .expect("only a verified checkpoint is cosigned");
            assert!(
                fixture::is_known(&checkpoint),
                "cosigned a checkpoint the log never signed"
            );
            // The witness answers with its one new cosignature line; the request's note may
            // already carry older cosignatures of the same witness (a client resending a
            // cosigned note), which stay valid beside the new one.
            assert_eq!(lines.lines().count(), 1, "one cosignature line: {lines:?}");
            // Signature lines of other keys in the request (even ones claiming the witness's
            // name) are not the witness's business: check the new line on the log-signed note.
            let (body, signatures) = request
                .checkpoint_note
                .split_once("\n\n")
                .expect("a verified note has a body and signatures");
            let log_signatures: String = signatures
                .lines()
                .filter(|line| line.split(' ').nth(1) == Some(checkpoint.origin.as_str()))
                .map(|line| format!("{line}\n"))
                .collect();
            let note = format!("{body}\n\n{log_signatures}{lines}");
            let times =
                verify_cosignatures(&note, &witness.verifier).expect("cosignature verifies");
            assert!(
                times.contains(&(fixture::CHECKPOINT_TIME_UNIX_S + 10)),
                "the new cosignature is dated by the witness's clock: {times:?}"
            );
        }
        answer => {
            let _ = (answer.status(), answer.body());
        }
    }
    drop(guard);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = Checkpoint::parse_body(text) {
        assert_eq!(parsed.body(), text, "a checkpoint body has one encoding");
    }
    if let Ok(checkpoint) = parse_and_verify_checkpoint(text, fixture::verifier_key()) {
        assert!(
            fixture::is_known(&checkpoint),
            "a note verified that the fixture key never signed: {checkpoint:?}"
        );
        assert!(text.starts_with(&checkpoint.body()));
    }
    if let Ok((body, lines)) = split_note(text) {
        assert!(text.starts_with(body));
        for line in lines {
            if let Ok(parsed) = parse_signature_line(line) {
                if let Ok(time) = witness.verifier.verify(body, &parsed) {
                    // Only the fixture witness signs with this key, and it signs only
                    // fixture checkpoints.
                    assert!(
                        fixture::known_logs()
                            .iter()
                            .any(|log| log.checkpoint.body() == body),
                        "a cosignature verified over a body the witness never saw (time {time})"
                    );
                }
            }
        }
    }
    let _ = verify_cosignatures(text, &witness.verifier);
    if let Ok(name) = parse_verifier_key_text(text) {
        assert!(text.starts_with(&format!("{name}+")));
    }
    if let Ok((name, key)) = parse_signer_key_text(text) {
        assert_eq!(
            signer_key_text(&name, &key),
            text.trim_end_matches('\n'),
            "a signer key text has one encoding"
        );
    }
}

/// Tiles: tile paths (what a server parses from a request, what a mirror asks for) and entry
/// bundles (what a mirror parses from a partner). A tile path parses only in canonical form,
/// and then prints back the same; a hash tile of the fixture tree is served without panic at
/// any level, index and width, of the right length; an entry bundle that splits into
/// `count` entries joins back into the same bytes.
pub fn tile(data: &[u8]) {
    if let Ok(path) = std::str::from_utf8(data) {
        if let Ok((level, n, width)) = parse_tile_path(path) {
            let printed = match level {
                TileLevel::Entries => entry_bundle_path(n, width),
                TileLevel::Hashes(level) => tile_path(level, n, width),
            };
            assert_eq!(printed, path, "a tile path has one spelling");
            assert!((1..=TILE_WIDTH_MAX).contains(&width));
            if let TileLevel::Hashes(level) = level {
                let reader = fixture::signed_tree().tree.reader();
                if let Ok(bytes) = reader.tile(level, n, width) {
                    assert_eq!(bytes.len(), usize::from(width) * 32);
                }
            }
        }
    }
    let Some((&count, bytes)) = data.split_first() else {
        return;
    };
    if let Ok(entries) = parse_bundle(bytes, usize::from(count)) {
        assert_eq!(entries.len(), usize::from(count));
        let slices: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        assert_eq!(
            entry_bundle(&slices),
            bytes,
            "an entry bundle has one encoding"
        );
    }
}

/// The fixture log as a partner serves it, with one response altered: byte 0 picks the
/// fetch (in the order the mirror makes them: checkpoint, tiles, entry bundles), bytes 1-2
/// the offset (big-endian; the top bit set truncates the response there), the rest is
/// written over the response from that offset.
struct HostileLog<'a> {
    fetch: u8,
    offset: usize,
    truncate: bool,
    patch: &'a [u8],
    fetches: std::cell::Cell<u8>,
}

impl HostileLog<'_> {
    fn serve(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        let number = self.fetches.get();
        self.fetches.set(number.wrapping_add(1));
        if number != self.fetch {
            return bytes;
        }
        if self.truncate {
            bytes.truncate(self.offset);
            return bytes;
        }
        let end = self.offset + self.patch.len();
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        bytes[self.offset..end].copy_from_slice(self.patch);
        bytes
    }
}

impl PartnerLog for HostileLog<'_> {
    fn checkpoint(&self) -> FetchResult<String> {
        let bytes = self.serve(fixture::signed_tree().note.clone().into_bytes());
        String::from_utf8(bytes)
            .map_err(|_| TransportError::new(TransportErrorKind::Refused, "not UTF-8"))
    }

    fn tile(&self, level: u8, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        let bytes = fixture::signed_tree()
            .tree
            .reader()
            .tile(level, index, width)
            .map_err(|e| TransportError::new(TransportErrorKind::NotFound, e.to_string()))?;
        Ok(self.serve(bytes))
    }

    fn entry_bundle(&self, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        let entries = &fixture::signed_tree().entries;
        let start = usize::try_from(index * u64::from(TILE_WIDTH_MAX)).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::from(width));
        if end > entries.len() {
            return Err(TransportError::new(
                TransportErrorKind::NotFound,
                "beyond the log",
            ));
        }
        let slices: Vec<&[u8]> = entries[start..end].iter().map(Vec::as_slice).collect();
        Ok(self.serve(entry_bundle(&slices)))
    }

    fn describe(&self) -> String {
        "hostile partner".to_string()
    }
}

/// Hostile tiles, entry bundles and checkpoints from a partner: a mirror pulling the fixture
/// log with one response altered never panics, and whatever it holds afterwards (pull
/// refused or not) is the honest log: the signed checkpoint, and each mirrored credential with
/// the leaf hash of the entry the partner really logged.
pub fn mirror(data: &[u8]) {
    let [fetch, high, low, patch @ ..] = data else {
        return;
    };
    let fixture = fixture::mirror_home();
    let tree = fixture::signed_tree();
    let _guard = fixture
        .lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let _ = std::fs::remove_dir_all(fixture.home.mirror_dir(ORIGIN));
    let mut mirror = Mirror::open(&fixture.home, &fixture.partner).expect("open the mirror");
    let log = HostileLog {
        fetch: *fetch,
        offset: usize::from(u16::from_be_bytes([*high & 0x7f, *low])),
        truncate: *high & 0x80 != 0,
        patch,
        fetches: std::cell::Cell::new(0),
    };
    let options = PullOptions {
        retries_max: 0,
        clock: std::sync::Arc::new(FixtureClock),
        ..PullOptions::default()
    };
    let pulled = mirror.pull(&log, &options, &mut |_| {});
    let status = mirror.status().expect("mirror status");
    let complete = pulled.is_ok();
    if complete {
        assert_eq!(
            status.cursor, tree.checkpoint.size,
            "a pull that succeeds is complete"
        );
    }
    assert!(status.cursor <= tree.checkpoint.size);
    if let Some(held) = &status.checkpoint {
        assert_eq!(
            held, &tree.checkpoint,
            "the mirror holds a checkpoint never signed"
        );
    }
    assert!(
        status.alarm.is_none(),
        "honest entries raised an alarm: {:?}",
        status.alarm
    );
    let credential = SignedEvent::from_entry(&tree.entries[5]).expect("fixture entry");
    let EventKind::LevelCertified(certified) = credential.event.kind else {
        unreachable!("entry 5 of the fixture is a credential")
    };
    if let Some(found) = mirror
        .credential(&certified.certificate_number)
        .expect("a read")
    {
        assert_eq!(
            found.leaf_hash,
            leaf_hash(&tree.entries[5]),
            "a forged credential is mirrored"
        );
        assert_eq!(
            found.record.certificate_number,
            certified.certificate_number
        );
        assert_eq!(found.record.subject, certified.subject);
    }
    MIRROR_PULLS_COMPLETE.with(|cell| cell.set(complete));
}

thread_local! {
    static MIRROR_PULLS_COMPLETE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the last [`mirror`] input on this thread was pulled completely (for the test that
/// the seeds reach a full pull).
pub fn last_mirror_pull_complete() -> bool {
    MIRROR_PULLS_COMPLETE.with(std::cell::Cell::get)
}

/// Offline bundles: parse, verify and judge, as `skill-ledger bundle verify` and the portal do.
/// A bundle parses only in canonical form; verifying never panics; a bundle that verifies
/// with the fixture key proves the fixture checkpoint and a credential that is the one the
/// fixture log holds at that index (no forged credential passes).
pub fn bundle(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = Bundle::parse(text) {
        assert_eq!(parsed.to_text(), text, "a bundle has one encoding");
        let _ = parsed.verify(fixture::verifier_key());
    }
    match verify_credential_bundle(text, fixture::verifier_key()) {
        Ok(verified) => {
            let log = fixture::known_logs()
                .iter()
                .find(|log| log.checkpoint == verified.checkpoint)
                .expect("a verified bundle proves a checkpoint the fixture key signed");
            let entry = log
                .entries
                .get(&verified.credential.entry_index)
                .expect("a verified credential is at a known index of that log");
            let logged = SignedEvent::from_entry(entry).expect("fixture entry");
            assert_eq!(
                logged.event.kind,
                EventKind::LevelCertified(verified.credential.credential.clone()),
                "a verified bundle's credential is the one in the log at its index"
            );
        }
        Err(error) => {
            let _ = (error.code(), error.to_string());
        }
    }
}

/// Certificate numbers and the other identifiers of the ledger: a parsed certificate number
/// prints back identically, its parts are consistent (registration number, year, level,
/// serial recompose it), and its entry encoding round-trips. Registration numbers likewise;
/// dates, occupation codes and levels parse back to the same value from their printed form.
/// Arbitrary 22 bytes decoded as a number (what an entry may carry) are judged well-formed
/// or not without panicking.
pub fn certificate_number(data: &[u8]) {
    if data.len() >= 22 {
        if let Ok((number, _)) =
            bincode::decode_from_slice::<CertificateNumber, _>(data, BINCODE_CONFIG)
        {
            if number.is_well_formed() {
                let text = number.to_string();
                assert_eq!(text.parse::<CertificateNumber>().ok(), Some(number));
            } else {
                let _ = (number.as_str(), format!("{number} {number:?}"));
            }
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(number) = text.parse::<CertificateNumber>() {
        assert_eq!(
            number.to_string(),
            text,
            "a certificate number prints as parsed"
        );
        assert!(number.is_well_formed());
        let body = number.registration_number();
        assert_eq!(body.as_str(), &text[..13]);
        assert!(body.is_well_formed());
        let year = 2000 + i32::from(number.year_two_digits());
        let level = || {
            Level::from_national_number(number.level_number())
                .expect("a parsed number of a kind with levels has a level 1-5")
        };
        // Each series recomposes from its own parts (docs/formats.md, certificate numbers).
        let recomposed = match number.kind() {
            CredentialKind::SkillLevel => {
                CertificateNumber::compose(body, year, level(), number.serial())
            }
            CredentialKind::Qualification => {
                CertificateNumber::compose_qualification(body, year, level(), number.serial())
            }
            CredentialKind::SpecialAbility => {
                assert_eq!(number.level_number(), 0, "a special ability has no level");
                CertificateNumber::compose_special_ability(body, year, number.serial())
            }
        };
        assert_eq!(
            recomposed,
            Some(number),
            "a certificate number recomposes from its parts"
        );
        let bytes = bincode::encode_to_vec(number, BINCODE_CONFIG).expect("encodes");
        assert_eq!(bytes, text.as_bytes());
        let _ = number.province().name_zh();
    }
    if let Ok(number) = text.parse::<RegistrationNumber>() {
        assert_eq!(number.to_string(), text);
        assert!(number.is_well_formed());
        let _ = (number.kind(), number.province().name_zh());
    }
    if let Ok(date) = text.parse::<Date>() {
        assert_eq!(date.to_string(), text, "a date prints as parsed");
        assert_eq!(
            Date::from_days_since_unix_epoch(date.days_since_unix_epoch()),
            Some(date)
        );
    }
    if let Ok(code) = text.parse::<OccupationCode>() {
        assert_eq!(
            code.to_string(),
            text,
            "an occupation code prints as parsed"
        );
    }
    if let Ok(level) = text.parse::<Level>() {
        assert_eq!(level.id().parse::<Level>().ok(), Some(level));
    }
}

/// The policy file (and the catalogue, the other TOML a ledger adopts): parsing never
/// panics; a parsed policy is usable (every lookup answers); adopting it through a signed
/// `PolicyAdopted` event is judged without panicking, and the ledger keeps judging
/// credentials under it.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Catalogue::from_toml(text);
    let Ok(policy) = Policy::from_toml(text) else {
        return;
    };
    assert!(policy.version >= 1);
    assert!(policy
        .evaluation
        .attested_entry_max
        .national_number()
        .is_some());
    assert!(policy
        .direct_recognition
        .level_max
        .national_number()
        .is_some());
    for level in Level::ALL {
        let _ = policy.min_years_after_previous(fixture::welder(), level);
    }
    let adopted = fixture::ledger_entries()[2].clone();
    let event = Event {
        id: skill_ledger_domain::EventId([0x70; 16]),
        kind: EventKind::PolicyAdopted(PolicyAdopted {
            source_toml: text.to_string(),
            date: fixture::date("2024-01-01"),
        }),
    };
    let signed = SignedEvent { event, ..adopted };
    if let Some(next) = judge(fixture::ledger(), &signed) {
        for later in fixture::next_events() {
            judge(&next, &later);
        }
    }
}

const CONTENT_TYPES: [&str; 6] = [
    "application/json",
    "application/problem+json; charset=utf-8",
    "text/plain",
    "",
    "APPLICATION/JSON ; q=1",
    "multipart/form-data; boundary=x",
];

/// Percent-encodes everything but unreserved characters (and `/` when `keep_slash`).
fn percent_encode(bytes: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The JSON API bodies (and the other request inputs of the served routes), through the real
/// router of `skill-ledger serve` with all its layers, in process. Byte 0 picks the route,
/// byte 1 the content type, the rest is the body (or the path parameter).
///
/// The service never answers 500; every API error is an RFC 9457 problem document whose
/// `status` is the HTTP status; and the log grows only by an accepted submission (200), by
/// one entry at most. The pure layer is checked first: the body parsers and the holder
/// checks never panic.
pub fn api_json(data: &[u8]) {
    let [route, content_type, body @ ..] = data else {
        return;
    };
    if let Ok(request) = parse_json::<SubmitRequest>(body) {
        if let Ok(entry) = base64::engine::general_purpose::STANDARD.decode(request.entry.trim()) {
            let _ = SignedEvent::from_entry(&entry);
        }
    }
    if let Ok(request) = parse_json::<VerifyRequest>(body) {
        if let Ok(query) = VerifyQuery::from_request(&request) {
            let key = fixture::pseudonym_key();
            let _ = key.commit_name(query.certificate_number.as_str(), &query.name);
            if let Some((kind, number)) = &query.identity {
                let _ = key.subject(*kind, number);
            }
        }
    }

    let served = fixture::served();
    let (method, uri, body, is_api) = match route % 6 {
        0 => (Method::POST, "/v1/events".to_string(), body.to_vec(), true),
        1 => (Method::POST, "/v1/verify".to_string(), body.to_vec(), true),
        2 => (
            Method::POST,
            "/add-checkpoint".to_string(),
            body.to_vec(),
            false,
        ),
        3 => (
            Method::GET,
            format!("/v1/credentials/{}", percent_encode(body, false)),
            Vec::new(),
            true,
        ),
        4 => (
            Method::GET,
            format!("/v1/bodies/{}", percent_encode(body, false)),
            Vec::new(),
            true,
        ),
        _ => (
            Method::GET,
            format!("/tile/{}", percent_encode(body, true)),
            Vec::new(),
            false,
        ),
    };
    let mut request = Request::builder().method(method).uri(&uri);
    let content_type = CONTENT_TYPES[usize::from(*content_type) % CONTENT_TYPES.len()];
    if !content_type.is_empty() {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let request = request.body(Body::from(body)).expect("a request");
    let _guard = served
        .lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let before = served.node.entry_count();
    let (status, headers, bytes) = served.runtime.block_on(async {
        let response = served
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("a body").to_bytes();
        (parts.status, parts.headers, bytes)
    });
    let after = served.node.entry_count();
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{uri}: {}",
        String::from_utf8_lossy(&bytes)
    );
    if status == StatusCode::OK && route % 6 == 0 {
        assert!(after <= before + 1, "one submission, at most one entry");
    } else {
        assert_eq!(after, before, "{uri} answered {status} but the log changed");
    }
    if is_api && status.as_u16() >= 400 {
        assert_eq!(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok()),
            Some("application/problem+json"),
            "{uri} answered {status}"
        );
        let document: serde_json::Value =
            serde_json::from_slice(&bytes).expect("a problem document is JSON");
        assert_eq!(
            document["status"].as_u64(),
            Some(u64::from(status.as_u16()))
        );
    }
}

/// The names of the targets, for the scripts and the replay test.
pub fn names() -> BTreeSet<&'static str> {
    TARGETS.iter().map(|target| target.name).collect()
}

/// The mirror's clock in the fixtures: a minute after the checkpoints were signed; retries
/// do not wait.
struct FixtureClock;

impl skill_ledger_log::Clock for FixtureClock {
    fn now_unix_s(&self) -> u64 {
        fixture::CHECKPOINT_TIME_UNIX_S + 60
    }

    fn sleep(&self, _: std::time::Duration) {}
}
