//! The OpenAPI 3.1 document served at `/openapi.json` (utoipa).
//!
//! The document is a contract a client (or a schema-driven fuzzer) can hold the server to:
//! every status a route answers is declared, and every input is described with the
//! constraints the server itself enforces, so that a request valid by the document is never
//! refused as malformed. Three sources put it together:
//!
//! * each handler's `#[utoipa::path]` (its own statuses) and the `ToSchema` types, whose
//!   constrained fields take their schema from [`forms`] (one place for the patterns);
//! * [`LayerResponses`]: what the layers of [`crate::router`] answer on every route (503 from
//!   the concurrency bound and the request timeout, with `Retry-After`), so a new route
//!   cannot lack them;
//! * [`document`]: the few statements utoipa cannot make (a header's `required`, the rule that
//!   `id_type` needs `id_number`), applied to the JSON.
//!
//! The portal's HTML pages (`/`, `/query`, `/stats`, `/bodies`) are for people and are not in
//! the document; `crates/server/tests/openapi_document.rs` checks that every other route is.

use std::sync::OnceLock;

use serde_json::{json, Value};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::Object;
use utoipa::openapi::{Content, RefOr, Required};
use utoipa::{IntoParams, Modify, OpenApi};

use crate::federation::{AlarmView, MirrorView, PartnerHealth};
use crate::problem::{ProblemDocument, PROBLEM_CONTENT_TYPE};
use crate::pseudonyms::{PseudonymAnswer, PseudonymItem, PseudonymRequest, PseudonymResponse};
use crate::verify::{HolderBundleRequest, Verification, VerifyRequest, VerifyStatus};
use crate::views::{
    AppointmentView, BodyView, CheckpointView, CredentialResponse, CredentialView, Health,
    IssuerStatusWarning, KeyPeriodView, NextStepView, PersonCredentialView, PersonView,
    RevocationView, RevokedKeyView, ScopeItemView, StatusChangeView, SubmitRequest, SubmitResponse,
};

/// The forms of the inputs the server accepts, as JSON Schema (ECMA-262 patterns, which
/// Rust's `regex` reads the same way). Each matches exactly what the server's own parser
/// accepts; `crates/server/tests/openapi_document.rs` holds them to that.
pub mod forms {
    use serde_json::json;
    use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

    /// The white space Rust's `str::trim` removes (Unicode `White_Space`), as a class body.
    pub const WHITE_SPACE: &str =
        r"\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
    /// Province codes 11–82 (positions 6–7 of both numbers).
    const PROVINCE: &str = "(1[1-9]|[2-7][0-9]|8[0-2])";

    /// A registration number (备案编号): `Y` or `S`, a 4-digit ministry code or `0000`, the
    /// province, a 6-digit serial; 13 characters.
    pub fn registration_number_pattern() -> String {
        format!("^[YS][0-9]{{4}}{PROVINCE}[0-9]{{6}}$")
    }

    /// A certificate number (docs/formats.md): the body's registration number, the 2-digit
    /// year, the national level number 1–5, a 6-digit serial; 22 characters.
    pub fn certificate_number_pattern() -> String {
        format!(
            "^[YS][0-9]{{4}}{PROVINCE}[0-9]{{8}}([1-5][0-9]{{6}}|Q[1-5][0-9]{{5}}|Z[0-9]{{6}})$"
        )
    }

    /// The subject pseudonym: 32 bytes in hex (either case).
    pub const SUBJECT_PATTERN: &str = "^[0-9A-Fa-f]{64}$";

    /// Standard base64 with canonical padding and zero trailing bits (what the server's
    /// decoder accepts), with surrounding white space (the server trims it).
    pub fn entry_pattern() -> String {
        let ws = WHITE_SPACE;
        format!(
            "^[{ws}]*([A-Za-z0-9+/]{{4}})*([A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{{2}}[AEIMQUYcgkosw048]=)?[{ws}]*$"
        )
    }

    /// Longest `entry` member: the base64 of an entry of `ENTRY_BYTES_MAX` bytes.
    pub const ENTRY_CHARS_MAX: usize = skill_ledger_domain::ENTRY_BYTES_MAX.div_ceil(3) * 4;

    /// A holder text (name, document number): one character at least that is not white
    /// space (the server refuses a text that trims to nothing).
    pub fn holder_text_pattern() -> String {
        format!("[^{WHITE_SPACE}]")
    }

    /// The C2SP tlog-witness `add-checkpoint` body: `old <size>` (a decimal without leading
    /// zeros), at most 63 proof lines (base64 of 32-byte hashes; none from size 0), an empty
    /// line, the signed checkpoint note (printable ASCII lines).
    pub fn add_checkpoint_pattern() -> String {
        let hash = "[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=";
        format!(
            "^old (0|[1-9][0-9]{{0,18}}(\\n{hash}){{0,{}}})\\n\\n[\\x20-\\x7E\\n]*$",
            skill_ledger_sync::witness::PROOF_LINES_MAX
        )
    }

    fn string(pattern: String, description: &str) -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .description(Some(description))
    }

    pub fn certificate_number() -> Object {
        string(
            certificate_number_pattern(),
            "22-character certificate number: registration number, year, level 1-5, serial",
        )
        .min_length(Some(22))
        .max_length(Some(22))
        .examples([json!("Y000050000001244000001")])
        .build()
    }

    /// A certificate number in a JSON body, where surrounding white space is ignored.
    pub fn certificate_number_in_body() -> Object {
        let ws = WHITE_SPACE;
        let number = certificate_number_pattern();
        let inner = number.trim_start_matches('^').trim_end_matches('$');
        string(
            format!("^[{ws}]*{inner}[{ws}]*$"),
            "The 22-character certificate number (surrounding white space is ignored)",
        )
        .min_length(Some(22))
        .examples([json!("Y000050000001244000001")])
        .build()
    }

    pub fn registration_number() -> Object {
        string(
            registration_number_pattern(),
            "13-character registration number of an evaluation body",
        )
        .min_length(Some(13))
        .max_length(Some(13))
        .examples([json!("Y000050000001")])
        .build()
    }

    pub fn subject() -> Object {
        string(
            SUBJECT_PATTERN.to_string(),
            "The subject pseudonym, 64 hex characters",
        )
        .min_length(Some(64))
        .max_length(Some(64))
        .build()
    }

    pub fn entry() -> Object {
        string(
            entry_pattern(),
            "Standard base64 (RFC 4648, with padding) of the entry: format version, signer, \
             public key, signature and bincode(Event), exactly as docs/formats.md describes. \
             The signature covers `\"skill-ledger/event/v1\\n\" ‖ origin ‖ \"\\n\" ‖ bincode(Event)`.",
        )
        .max_length(Some(ENTRY_CHARS_MAX))
        .build()
    }

    /// The entries of a batch: 1 to `BATCH_ENTRIES_MAX`, each as `entry`.
    pub fn entries() -> utoipa::openapi::schema::Array {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(entry())
            .min_items(Some(1))
            .max_items(Some(crate::api::BATCH_ENTRIES_MAX))
            .description(Some(
                "The entries, each as `POST /v1/events` takes it, in the order the node is to \
                 decide them",
            ))
            .build()
    }

    fn holder_text(nullable: bool, description: &str) -> ObjectBuilder {
        let builder = string(holder_text_pattern(), description)
            .min_length(Some(1))
            .max_length(Some(crate::verify::HOLDER_TEXT_CHARS_MAX));
        if nullable {
            builder.schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        } else {
            builder
        }
    }

    pub fn holder_name() -> Object {
        holder_text(
            false,
            "The holder's name as printed on the certificate (white space is ignored)",
        )
        .examples([json!("张三")])
        .build()
    }

    pub fn id_number() -> Object {
        holder_text(
            true,
            "Optionally, the identity-document number printed on the certificate",
        )
        .build()
    }

    /// The codes of `IdDocumentType`.
    pub const ID_TYPES: [&str; 4] = ["resident_id", "hmt", "passport", "foreign_permanent"];

    pub fn id_type() -> Object {
        let mut values: Vec<serde_json::Value> = ID_TYPES.iter().map(|code| json!(code)).collect();
        values.push(serde_json::Value::Null);
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .enum_values(Some(values))
            .description(Some(
                "The document type of `id_number` (default `resident_id`); only with `id_number`",
            ))
            .build()
    }

    pub fn stats_dimension() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["route", "kind"]))
            .description(Some(
                "`route`: how the talent standing now was produced (evaluation, direct, \
                 contest, conversion, appointment, apprenticeship, recognition, \
                 foreign-comparison); `kind`: per credential kind (skill_level, \
                 qualification, special_ability)",
            ))
            .build()
    }

    /// An Ed25519 public key, 32 bytes in hex (either case).
    pub fn public_key() -> Object {
        string(
            "^[0-9A-Fa-f]{64}$".to_string(),
            "An Ed25519 public key, 64 hex characters",
        )
        .min_length(Some(64))
        .max_length(Some(64))
        .build()
    }

    /// An Ed25519 signature: the standard base64 (with padding) of 64 bytes.
    pub fn signature() -> Object {
        string(
            "^[A-Za-z0-9+/]{85}[AQgw]==$".to_string(),
            "An Ed25519 signature, standard base64 of 64 bytes",
        )
        .min_length(Some(88))
        .max_length(Some(88))
        .build()
    }

    /// A document type of a pseudonym request (required there).
    pub fn document_type() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ID_TYPES))
            .description(Some("The identity-document type"))
            .build()
    }

    /// A document number of a pseudonym request.
    pub fn document_number() -> Object {
        holder_text(
            false,
            "The identity-document number (white space and '-' are ignored)",
        )
        .build()
    }

    pub fn add_checkpoint_body() -> Object {
        string(
            add_checkpoint_pattern(),
            "`old <size>`, the consistency proof from that size (one base64 hash per line), an \
             empty line, and the partner's signed checkpoint note",
        )
        .max_length(Some(skill_ledger_sync::witness::REQUEST_BYTES_MAX))
        .build()
    }
}

/// A required path parameter of the given schema (utoipa's `schema_with` in `IntoParams`
/// drops `required`, which OpenAPI demands of path parameters).
fn path_parameter(name: &str, description: &str, schema: Object) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// The path parameter `cert_no`.
pub struct CertificateNumberPath;

impl IntoParams for CertificateNumberPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_parameter(
            "cert_no",
            "22-character certificate number",
            forms::certificate_number(),
        )]
    }
}

/// The path parameter `reg_no`.
pub struct RegistrationNumberPath;

impl IntoParams for RegistrationNumberPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_parameter(
            "reg_no",
            "13-character registration number",
            forms::registration_number(),
        )]
    }
}

/// The path parameter `subject`.
pub struct SubjectPath;

impl IntoParams for SubjectPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_parameter(
            "subject",
            "The subject pseudonym (the keyed hash of the identity document), 64 hex characters",
            forms::subject(),
        )]
    }
}

/// The body of `POST /add-checkpoint` (text), for the document.
pub struct AddCheckpointBody;

impl utoipa::PartialSchema for AddCheckpointBody {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        RefOr::T(utoipa::openapi::schema::Schema::Object(
            forms::add_checkpoint_body(),
        ))
    }
}

impl utoipa::ToSchema for AddCheckpointBody {}

/// Every route the router serves, with its schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "skill-ledger",
        description = "A tamper-evident ledger of vocational skill credentials (新八级, 川渝互认): \
            signed events, credential queries and verification, statistics, and the log in the \
            C2SP tlog-tiles layout. Errors are RFC 9457 problem documents whose `type` is \
            `urn:skill-ledger:problem:<code>`; a refused event's code is the rule's stable code. \
            Every route may answer 503 with `Retry-After` when the node is at its concurrency \
            bound or a request overruns twice the request timeout. A JSON body that is not JSON \
            is 400; well-formed JSON with a missing, unknown or invalid member is 422. A \
            credential (`GET /v1/credentials/{cert_no}`, `POST /v1/verify`) carries \
            `issuer_status_warning` when its body was suspended or cancelled, by a change \
            logged after the credential, over a period that covers its issue date.",
    ),
    modifiers(&LayerResponses),
    paths(
        crate::api::submit,
        crate::api::submit_batch,
        crate::api::credential,
        crate::api::credential_bundle,
        crate::api::special_ability,
        crate::api::holder_bundle,
        crate::api::verify_handler,
        crate::api::body,
        crate::api::person,
        crate::api::stats,
        crate::pseudonyms::pseudonyms,
        crate::api::recognition_draft,
        crate::vc::credential_vc_handler,
        crate::vc::issuer,
        crate::vc::context,
        crate::vc::status_list,
        crate::log_routes::checkpoint,
        crate::log_routes::tile,
        crate::ops::healthz,
        crate::ops::metrics,
        crate::ops::openapi,
        crate::federation::add_checkpoint,
    ),
    components(schemas(
        ProblemDocument,
        SubmitRequest,
        SubmitResponse,
        CheckpointView,
        CredentialView,
        CredentialResponse,
        RevocationView,
        IssuerStatusWarning,
        crate::views::ForeignComparisonView,
        crate::views::SpecialAbilityView,
        crate::views::SpecialAbilityResponse,
        VerifyRequest,
        HolderBundleRequest,
        Verification,
        VerifyStatus,
        BodyView,
        PersonView,
        PersonCredentialView,
        AppointmentView,
        NextStepView,
        ScopeItemView,
        KeyPeriodView,
        RevokedKeyView,
        StatusChangeView,
        Health,
        PartnerHealth,
        MirrorView,
        AlarmView,
        PseudonymRequest,
        PseudonymItem,
        PseudonymResponse,
        PseudonymAnswer,
        crate::api::RecognitionDraft,
        crate::api::BatchSubmitRequest,
        crate::api::BatchEntryResult,
        crate::api::BatchSubmitResponse,
    )),
    tags(
        (name = "events", description = "Signed submissions (evaluation bodies and the authority)"),
        (name = "credentials", description = "Credentials by certificate number"),
        (name = "verification", description = "Holder verification (rate-limited per client)"),
        (name = "bodies", description = "Registered evaluation bodies"),
        (name = "persons", description = "A person's state over every route, by pseudonymous subject"),
        (name = "statistics", description = "Counts for the regional plans"),
        (name = "pseudonyms", description = "Subjects and name commitments for evaluation bodies, signed by the body (rate-limited per body, audited)"),
        (name = "log", description = "C2SP tlog-tiles: checkpoint, hash tiles, entry bundles"),
        (name = "operations", description = "Health, metrics, this document"),
        (name = "federation", description = "川渝 federation: this ledger's witness (C2SP tlog-witness)"),
    )
)]
pub struct ApiDoc;

/// What the layers of [`crate::router`] answer on every route: 503 `overloaded` with
/// `Retry-After` (the concurrency bound sheds at once; a request that overruns twice the
/// request timeout is cut off). Added to each operation, merged into a 503 it declares itself.
pub struct LayerResponses;

const LAYER_503: &str = "Overloaded: too many requests in flight, or the request overran twice \
    request_timeout_ms; Retry-After says when to retry";

impl Modify for LayerResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let problem = Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "ProblemDocument",
        ))));
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                match responses.get_mut("503") {
                    Some(RefOr::T(declared)) => {
                        declared.description = format!("{}; or: {LAYER_503}", declared.description);
                        declared
                            .content
                            .entry(PROBLEM_CONTENT_TYPE.to_string())
                            .or_insert_with(|| problem.clone());
                    }
                    Some(RefOr::Ref(_)) => {}
                    None => {
                        let response: Response = ResponseBuilder::new()
                            .description(LAYER_503)
                            .content(PROBLEM_CONTENT_TYPE, problem.clone())
                            .build();
                        responses.insert("503".to_string(), RefOr::T(response));
                    }
                }
            }
        }
    }
}

/// The statuses whose answers always carry `Retry-After` (seconds); `/healthz` answers 503
/// without it when the node itself is unhealthy, so there it is optional.
fn retry_after_header(required: bool) -> Value {
    json!({
        "description": "Seconds to wait before retrying",
        "required": required,
        "schema": {"type": "integer", "minimum": 1},
    })
}

/// The document, with what utoipa cannot state: `Retry-After` required on 429 and 503, and
/// the rule that `id_type` of a verification needs a string `id_number`.
pub fn document() -> Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|error| {
        json!({"openapi": "3.1.0", "info": {"title": "skill-ledger", "version": "0", "description": error.to_string()}, "paths": {}})
    });
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for operation in item.values_mut() {
                let Some(responses) = operation
                    .get_mut("responses")
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                for (status, response) in responses.iter_mut() {
                    if status == "429" || status == "503" {
                        let required = !(status == "503" && path == "/healthz");
                        response["headers"]["Retry-After"] = retry_after_header(required);
                    }
                }
            }
        }
    }
    // `id_type` alone names the type of a document that is not given: refused (422), so
    // either `id_type` is absent (or null), or `id_number` is a string.
    if let Some(schema) = document.pointer_mut("/components/schemas/VerifyRequest") {
        schema["anyOf"] = json!([
            {"properties": {"id_type": {"type": "null"}}},
            {"required": ["id_number"], "properties": {"id_number": {"type": "string"}}},
        ]);
    }
    document
}

/// The document as JSON text, computed once.
pub fn openapi_json() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        serde_json::to_string_pretty(&document())
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    })
}
