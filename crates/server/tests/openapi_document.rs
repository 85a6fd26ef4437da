//! The OpenAPI document is a contract: a client or a schema-driven fuzzer (`.ci/schemathesis.sh`)
//! holds the server to it. These tests hold the document to the server:
//!
//! * every route the router serves (found in the source, so a new route cannot be forgotten)
//!   is in the document with exactly the methods it answers, and nothing else is;
//! * every operation declares what its layers answer (503 with `Retry-After`), every POST
//!   400/413/422, every JSON POST 408 and 415 too, and `/v1/verify` 429;
//! * the inputs carry the server's constraints (patterns, lengths, enums), and those agree
//!   with what the server accepts: a request valid by the document is never refused as
//!   malformed, and one the document calls invalid is refused.
//!
//! The router runs in-process (`tower::ServiceExt::oneshot`) on a fresh ledger.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Value};
use skill_ledger_node::{InitOptions, Node};
use skill_ledger_server::openapi::{document, forms};
use skill_ledger_server::{router, AppState, ServerConfig};
use tower::ServiceExt as _;

struct Served {
    app: axum::Router,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// One router on a fresh ledger, shared by the tests of this file.
fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        // Node::init waits for its first commits: outside the runtime.
        let node = Node::init(&dir.path().join("ledger"), InitOptions::chongqing()).expect("init");
        let config = ServerConfig {
            verify_rate_per_s: 0.0,
            ..ServerConfig::default()
        };
        let app = router(AppState::new(Arc::new(node), config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        Served {
            app,
            runtime,
            _dir: dir,
        }
    })
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The router's own fallback (no route), not a handler's 404.
    fn is_fallback(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
            && self.json()["detail"]
                .as_str()
                .is_some_and(|detail| detail.starts_with("no resource at"))
    }
}

fn call(method: Method, uri: &str, content_type: Option<&str>, body: &[u8]) -> Reply {
    let served = served();
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let request = request.body(Body::from(body.to_vec())).expect("request");
    served.runtime.block_on(async {
        let response = served
            .app
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .expect("body")
            .to_vec();
        Reply {
            status,
            content_type,
            body,
        }
    })
}

// ---------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------

/// Routes that are deliberately not in the document: the portal's HTML pages for people.
const PORTAL_DIR: &str = "portal";

/// Router paths with a wildcard, and the name the document gives them (OpenAPI has no
/// wildcard parameter: the tile index is a parameter whose slashes are part of the path).
const WILDCARDS: &[(&str, &str)] = &[("/tile/{*path}", "/tile/{level}/{index}")];

/// Every path given to `.route(...)` in the server's source, outside the portal.
fn routes_in_source() -> BTreeSet<String> {
    fn walk(dir: &Path, found: &mut BTreeSet<String>, route: &regex::Regex) {
        for entry in std::fs::read_dir(dir).expect("source directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != PORTAL_DIR) {
                    walk(&path, found, route);
                }
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let source = std::fs::read_to_string(&path).expect("source file");
                // Code only: doc comments show routes that are not this router's.
                let text: String = source
                    .lines()
                    .filter(|line| !line.trim_start().starts_with("//"))
                    .map(|line| format!("{line}\n"))
                    .collect();
                for captures in route.captures_iter(&text) {
                    found.insert(captures[1].to_string());
                }
            }
        }
    }
    let route = regex::Regex::new(r#"\.route\(\s*"([^"]+)""#).expect("regex");
    let mut found = BTreeSet::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
        &route,
    );
    found
        .into_iter()
        .map(|path| {
            WILDCARDS
                .iter()
                .find(|(router_path, _)| *router_path == path)
                .map_or(path, |(_, documented)| documented.to_string())
        })
        .collect()
}

/// A concrete URI for a documented path: each parameter replaced by a well-formed value.
fn concrete(path: &str) -> String {
    path.replace("{cert_no}", "Y000050000001244000001")
        .replace("{reg_no}", "Y000050000001")
        .replace("{subject}", &"0".repeat(64))
        .replace("{level}/{index}", "0/000.p/1")
        .replace("{name}", "v1")
        .replace("{list}", "0")
}

fn paths(document: &Value) -> &serde_json::Map<String, Value> {
    document["paths"].as_object().expect("paths")
}

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

#[test]
fn every_route_of_the_router_is_documented_with_exactly_its_methods() {
    let document = document();
    let documented: BTreeSet<String> = paths(&document).keys().cloned().collect();
    let in_source = routes_in_source();
    assert!(in_source.len() >= 13, "{in_source:?}");
    assert_eq!(
        in_source, documented,
        "the router's routes (left) and the document's paths (right) differ: document a \
         new route with #[utoipa::path] and list it in openapi.rs"
    );
    for (path, item) in paths(&document) {
        let uri = concrete(path);
        assert!(
            !uri.contains('{'),
            "{path}: a parameter without a value here"
        );
        for method in METHODS {
            let reply = call(
                Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"),
                &uri,
                Some("application/json"),
                b"{}",
            );
            assert!(!reply.is_fallback(), "{method} {uri}: {}", reply.text());
            if item.get(method).is_some() {
                assert_ne!(
                    reply.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is documented but not served"
                );
            } else {
                assert_eq!(
                    reply.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is served but not documented: {}",
                    reply.text()
                );
            }
        }
    }
}

#[test]
fn the_served_document_is_the_one_built_here() {
    let reply = call(Method::GET, "/openapi.json", None, b"");
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type, "application/json");
    assert_eq!(reply.json(), document());
    assert!(document()["openapi"]
        .as_str()
        .is_some_and(|version| version.starts_with("3.1.")));
}

// ---------------------------------------------------------------------------------------
// Statuses
// ---------------------------------------------------------------------------------------

fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in paths(document) {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((method.to_string(), path.clone(), operation.clone()));
            }
        }
    }
    found
}

fn declares(operation: &Value, status: &str) -> bool {
    operation["responses"].get(status).is_some()
}

fn declares_problem(operation: &Value, status: &str) -> bool {
    operation["responses"][status]["content"]
        .get("application/problem+json")
        .is_some()
}

#[test]
fn every_operation_declares_what_the_layers_and_the_extractors_answer() {
    let document = document();
    let all = operations(&document);
    assert_eq!(all.len(), 22);
    for (method, path, operation) in &all {
        let label = format!("{method} {path}");
        // The concurrency bound and the request timeout answer every route.
        assert!(declares_problem(operation, "503"), "{label}: 503");
        let retry_after = &operation["responses"]["503"]["headers"]["Retry-After"];
        assert_eq!(retry_after["schema"]["type"], "integer", "{label}");
        assert_eq!(retry_after["required"], path != "/healthz", "{label}");
        if path.contains('{') {
            assert!(
                declares(operation, "400") || declares(operation, "404"),
                "{label}"
            );
        }
        if method == "post" {
            for status in ["400", "413", "422"] {
                assert!(declares(operation, status), "{label}: {status}");
            }
            let body = &operation["requestBody"]["content"];
            if body.get("application/json").is_some() {
                // ApiJson: 415 not JSON, 408 slow body, 413 large, 400 syntax, 422 data.
                for status in ["400", "408", "413", "415", "422"] {
                    assert!(declares_problem(operation, status), "{label}: {status}");
                }
            } else {
                assert!(body.get("text/plain").is_some(), "{label}: {body}");
            }
        }
    }
    for rate_limited in ["/v1/verify", "/v1/pseudonyms"] {
        let operation = &document["paths"][rate_limited]["post"];
        assert!(declares_problem(operation, "429"), "{rate_limited}");
        assert_eq!(
            operation["responses"]["429"]["headers"]["Retry-After"]["required"],
            true
        );
    }
    // The pseudonym service refuses a signer it does not answer for (403) and cannot answer
    // unrecorded (500).
    let pseudonyms = &document["paths"]["/v1/pseudonyms"]["post"];
    assert!(declares_problem(pseudonyms, "403"));
    assert!(declares_problem(pseudonyms, "500"));
    assert!(declares_problem(
        &document["paths"]["/v1/stats"]["get"],
        "400"
    ));
}

#[test]
fn the_declared_statuses_are_the_answers() {
    let json = Some("application/json");
    // 415: not JSON; 400: not JSON syntax (even where serde meets a field first); 422: JSON
    // of the wrong shape; 413: over the body limit.
    for path in ["/v1/events", "/v1/verify"] {
        assert_eq!(call(Method::POST, path, None, b"{}").status, 415, "{path}");
        assert_eq!(
            call(Method::POST, path, Some("text/plain"), b"{}").status,
            415
        );
        for broken in [&b"{\"cert_no\":"[..], b"{\"entry\": 5", b"{", b""] {
            let reply = call(Method::POST, path, json, broken);
            assert_eq!(reply.status, 400, "{path} {}", reply.text());
            assert_eq!(reply.json()["code"], "bad-request");
        }
        for shape in [&b"{}"[..], b"[]", b"{\"cert_no\": 1}", b"null"] {
            let reply = call(Method::POST, path, json, shape);
            assert_eq!(reply.status, 422, "{path} {}", reply.text());
            assert_eq!(reply.json()["code"], "invalid-field");
        }
        let large = vec![b' '; 200 * 1024];
        assert_eq!(call(Method::POST, path, json, &large).status, 413);
    }
    let large = vec![b'a'; 17 * 1024];
    assert_eq!(
        call(Method::POST, "/add-checkpoint", Some("text/plain"), &large).status,
        413
    );
    // A dimension the statistics do not have, a repeated one: 400 problems.
    for query in ["by=year", "by=", "by=route&by=route"] {
        let reply = call(Method::GET, &format!("/v1/stats?{query}"), None, b"");
        assert_eq!(reply.status, 400, "{query}: {}", reply.text());
        assert_eq!(reply.content_type, "application/problem+json", "{query}");
    }
    assert_eq!(
        call(Method::GET, "/v1/stats?by=route", None, b"").status,
        200
    );
}

// ---------------------------------------------------------------------------------------
// Constraints
// ---------------------------------------------------------------------------------------

fn parameter<'a>(document: &'a Value, path: &str, name: &str) -> &'a Value {
    document["paths"][path]["get"]["parameters"]
        .as_array()
        .and_then(|list| list.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("{path}: no parameter {name}"))
}

#[test]
fn the_inputs_carry_the_servers_constraints() {
    let document = document();
    for path in [
        "/v1/credentials/{cert_no}",
        "/v1/special-abilities/{cert_no}",
        "/v1/credentials/{cert_no}/bundle",
    ] {
        let cert_no = parameter(&document, path, "cert_no");
        assert_eq!(cert_no["in"], "path");
        assert_eq!(cert_no["required"], true);
        assert_eq!(
            cert_no["schema"]["pattern"],
            forms::certificate_number_pattern()
        );
        assert_eq!(cert_no["schema"]["minLength"], 22);
        assert_eq!(cert_no["schema"]["maxLength"], 22);
    }
    let reg_no = parameter(&document, "/v1/bodies/{reg_no}", "reg_no");
    assert_eq!(
        reg_no["schema"]["pattern"],
        forms::registration_number_pattern()
    );
    assert_eq!(reg_no["schema"]["maxLength"], 13);
    let subject = parameter(&document, "/v1/persons/{subject}", "subject");
    assert_eq!(subject["schema"]["pattern"], forms::SUBJECT_PATTERN);
    assert_eq!(subject["schema"]["minLength"], 64);
    let by = parameter(&document, "/v1/stats", "by");
    assert_eq!(by["in"], "query");
    assert_eq!(by["schema"]["enum"], json!(["route", "kind"]));

    let schemas = &document["components"]["schemas"];
    let verify = &schemas["VerifyRequest"];
    assert_eq!(verify["additionalProperties"], false);
    assert_eq!(verify["required"], json!(["certificate_number", "name"]));
    let properties = &verify["properties"];
    assert!(properties["certificate_number"]["pattern"]
        .as_str()
        .is_some_and(|p| p.contains("[1-5][0-9]{6}")));
    for field in ["name", "id_number"] {
        assert_eq!(properties[field]["minLength"], 1, "{field}");
        assert_eq!(
            properties[field]["maxLength"],
            skill_ledger_server::verify::HOLDER_TEXT_CHARS_MAX,
            "{field}"
        );
        assert_eq!(
            properties[field]["pattern"],
            forms::holder_text_pattern(),
            "{field}"
        );
    }
    let mut id_types = forms::ID_TYPES.map(|code| json!(code)).to_vec();
    id_types.push(Value::Null);
    assert_eq!(properties["id_type"]["enum"], Value::Array(id_types));
    for code in forms::ID_TYPES {
        assert!(skill_ledger_domain::IdDocumentType::from_code(code).is_some());
    }
    assert!(
        verify["anyOf"].is_array(),
        "id_type needs id_number: {verify}"
    );

    let entry = &schemas["SubmitRequest"]["properties"]["entry"];
    assert_eq!(entry["pattern"], forms::entry_pattern());
    assert_eq!(entry["maxLength"], forms::ENTRY_CHARS_MAX);
    assert_eq!(schemas["SubmitRequest"]["additionalProperties"], false);

    let witness = &document["paths"]["/add-checkpoint"]["post"]["requestBody"]["content"]
        ["text/plain"]["schema"];
    assert_eq!(witness["pattern"], forms::add_checkpoint_pattern());
    assert_eq!(
        witness["maxLength"],
        skill_ledger_sync::witness::REQUEST_BYTES_MAX
    );
}

// ---------------------------------------------------------------------------------------
// The patterns agree with the server
// ---------------------------------------------------------------------------------------

fn regex(pattern: &str) -> regex::Regex {
    regex::Regex::new(pattern).expect("the document's pattern is a regex")
}

/// Values drawn from a pattern (without its anchors, which proptest does not generate).
fn from_pattern(pattern: &str) -> impl Strategy<Value = String> {
    let inner = pattern.trim_start_matches('^').trim_end_matches('$');
    proptest::string::string_regex(inner).expect("a pattern proptest can generate from")
}

/// The white space `str::trim` removes, one character each.
const WHITE_SPACE_CHARS: &[char] = &[
    '\t', '\n', '\u{0B}', '\u{0C}', '\r', ' ', '\u{85}', '\u{A0}', '\u{1680}', '\u{2000}',
    '\u{2005}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}',
];

#[test]
fn the_white_space_class_is_what_trim_removes() {
    let class = regex(&format!("^[{}]$", forms::WHITE_SPACE));
    for code in 0..=0x10FFFF_u32 {
        let Some(c) = char::from_u32(code) else {
            continue;
        };
        assert_eq!(
            class.is_match(c.encode_utf8(&mut [0; 4])),
            c.is_whitespace(),
            "U+{code:04X}"
        );
    }
}

fn path_status(path: &str) -> StatusCode {
    call(Method::GET, path, None, b"").status
}

fn verify_reply(body: &Value) -> Reply {
    call(
        Method::POST,
        "/v1/verify",
        Some("application/json"),
        body.to_string().as_bytes(),
    )
}

fn identifier_texts(length: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex(&format!("[YS][0-9]{{{}}}", length - 1)).expect("regex"),
        proptest::string::string_regex(&format!("[YSQ0][0-9]{{{},{}}}", length - 2, length))
            .expect("regex"),
        proptest::string::string_regex(&format!("[YS][0-9A]{{{}}}", length - 1)).expect("regex"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn a_certificate_number_is_accepted_exactly_when_the_pattern_matches(text in identifier_texts(22)) {
        let matches = regex(&forms::certificate_number_pattern()).is_match(&text);
        let status = path_status(&format!("/v1/credentials/{text}"));
        // 404: well formed, not on the ledger; 400: malformed.
        prop_assert_eq!(status != StatusCode::BAD_REQUEST, matches, "{} {}", text, status);
        let bundle = path_status(&format!("/v1/credentials/{text}/bundle"));
        prop_assert_eq!(bundle != StatusCode::BAD_REQUEST, matches);
        let reply = verify_reply(&json!({"certificate_number": format!(" {text}\n"), "name": "张三"}));
        prop_assert_eq!(reply.status == StatusCode::OK, matches, "{}", reply.text());
        prop_assert_eq!(
            regex(properties_pattern("certificate_number").as_str()).is_match(&format!(" {text}\n")),
            matches
        );
    }

    #[test]
    fn generated_certificate_numbers_are_accepted(text in from_pattern(&forms::certificate_number_pattern())) {
        prop_assert_ne!(path_status(&format!("/v1/credentials/{text}")), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_registration_number_is_accepted_exactly_when_the_pattern_matches(text in identifier_texts(13)) {
        let matches = regex(&forms::registration_number_pattern()).is_match(&text);
        let status = path_status(&format!("/v1/bodies/{text}"));
        prop_assert_eq!(status != StatusCode::BAD_REQUEST, matches, "{} {}", text, status);
    }

    #[test]
    fn a_subject_is_accepted_exactly_when_the_pattern_matches(text in "[0-9a-fA-Fg]{62,66}") {
        let matches = regex(forms::SUBJECT_PATTERN).is_match(&text);
        let status = path_status(&format!("/v1/persons/{text}"));
        prop_assert_eq!(status != StatusCode::BAD_REQUEST, matches, "{} {}", text, status);
    }

    #[test]
    fn a_holder_text_is_accepted_exactly_when_the_schema_says(
        text in proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(WHITE_SPACE_CHARS.to_vec()),
                proptest::sample::select(vec!['a', '张', '\u{FEFF}', '\u{1C}', '\u{0}', '·']),
            ],
            0..8,
        ).prop_map(|chars| chars.into_iter().collect::<String>()),
        long in 195usize..205,
    ) {
        let valid = |text: &str| {
            let length = text.chars().count();
            regex(&forms::holder_text_pattern()).is_match(text)
                && (1..=skill_ledger_server::verify::HOLDER_TEXT_CHARS_MAX).contains(&length)
        };
        let long_text = "张".repeat(long);
        for name in [text.as_str(), long_text.as_str()] {
            let reply = verify_reply(&json!({"certificate_number": "Y000050000001244000001", "name": name}));
            prop_assert_eq!(reply.status == StatusCode::OK, valid(name), "{:?}: {}", name, reply.text());
            let reply = verify_reply(&json!({
                "certificate_number": "Y000050000001244000001", "name": "张三", "id_number": name,
            }));
            prop_assert_eq!(reply.status == StatusCode::OK, valid(name), "{:?}: {}", name, reply.text());
        }
    }

    #[test]
    fn an_entry_is_base64_exactly_when_the_pattern_matches(
        text in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes)),
            "[ \n]?[A-Za-z0-9+/=]{0,12}[ \t]?",
        ],
    ) {
        let matches = regex(&forms::entry_pattern()).is_match(&text);
        let reply = call(
            Method::POST,
            "/v1/events",
            Some("application/json"),
            json!({"entry": text}).to_string().as_bytes(),
        );
        // Base64 of bytes that are not an entry is malformed-entry too, but not for its base64.
        let document = reply.json();
        prop_assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        prop_assert_eq!(&document["code"], "malformed-entry");
        let not_base64 = document["detail"].as_str().is_some_and(|d| d.contains("not standard base64"));
        prop_assert_eq!(!not_base64, matches, "{:?}: {}", text, document);
    }

    #[test]
    fn an_add_checkpoint_body_of_the_documented_form_is_never_malformed(
        text in from_pattern(&forms::add_checkpoint_pattern()),
    ) {
        prop_assert!(regex(&forms::add_checkpoint_pattern()).is_match(&text));
        // The witness parses first (400 only for what does not parse); a parsed request
        // goes on to the origin (404), the signature (403) and the sizes, and the one 400
        // after parsing (old size above the checkpoint's) needs a checkpoint that verifies.
        let parsed = skill_ledger_sync::witness::AddCheckpointRequest::parse(text.as_bytes());
        prop_assert!(parsed.is_ok(), "{:?}: {:?}", text, parsed.err());
    }

    #[test]
    fn an_add_checkpoint_body_is_well_formed_exactly_when_the_pattern_matches(
        old in "0|00|1|[1-9][0-9]{0,3}| 1|",
        proof in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 32)
                    .prop_map(|hash| base64::engine::general_purpose::STANDARD.encode(hash)),
                "[A-Za-z0-9+/=]{42,45}",
                Just(String::new()),
            ],
            0..3,
        ),
        note in "[a-z/0-9\n]{0,20}",
    ) {
        let mut text = format!("old {old}\n");
        for line in &proof {
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&note);
        let matches = regex(&forms::add_checkpoint_pattern()).is_match(&text);
        let parsed = skill_ledger_sync::witness::AddCheckpointRequest::parse(text.as_bytes());
        prop_assert_eq!(parsed.is_ok(), matches, "{:?}: {:?}", text, parsed.err());
    }
}

fn properties_pattern(field: &str) -> String {
    document()["components"]["schemas"]["VerifyRequest"]["properties"][field]["pattern"]
        .as_str()
        .expect("a pattern")
        .to_string()
}

#[test]
fn id_type_is_one_of_the_codes_and_needs_an_id_number() {
    let base = json!({"certificate_number": "Y000050000001244000001", "name": "张三"});
    let with = |members: Value| {
        let mut body = base.clone();
        for (key, value) in members.as_object().expect("members") {
            body[key] = value.clone();
        }
        body
    };
    for code in forms::ID_TYPES {
        let reply = verify_reply(&with(
            json!({"id_number": "500101199001011234", "id_type": code}),
        ));
        assert_eq!(reply.status, 200, "{code}: {}", reply.text());
    }
    let cases: BTreeMap<&str, (Value, u16)> = BTreeMap::from([
        ("no document", (json!({}), 200)),
        ("nulls", (json!({"id_number": null, "id_type": null}), 200)),
        ("number alone", (json!({"id_number": "X1"}), 200)),
        ("type alone", (json!({"id_type": "passport"}), 422)),
        (
            "type with a null number",
            (json!({"id_type": "passport", "id_number": null}), 422),
        ),
        (
            "unknown type",
            (json!({"id_type": "licence", "id_number": "X1"}), 422),
        ),
    ]);
    for (case, (members, status)) in cases {
        let reply = verify_reply(&with(members));
        assert_eq!(reply.status.as_u16(), status, "{case}: {}", reply.text());
    }
}
