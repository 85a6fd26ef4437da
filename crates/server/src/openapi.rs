//! The OpenAPI 3.1 document served at `/openapi.json` (utoipa).

use utoipa::OpenApi;

use crate::federation::{AlarmView, MirrorView, PartnerHealth};
use crate::problem::ProblemDocument;
use crate::verify::{Verification, VerifyRequest, VerifyStatus};
use crate::views::{
    AppointmentView, BodyView, CheckpointView, CredentialResponse, CredentialView, Health,
    KeyPeriodView, NextStepView, PersonCredentialView, PersonView, RevocationView, RevokedKeyView,
    ScopeItemView, StatusChangeView, SubmitRequest, SubmitResponse,
};

/// Every route the router serves, with its schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "skill-ledger",
        description = "A tamper-evident ledger of vocational skill credentials (新八级, 川渝互认): \
            signed events, credential queries and verification, statistics, and the log in the \
            C2SP tlog-tiles layout. Errors are RFC 9457 problem documents whose `type` is \
            `urn:skill-ledger:problem:<code>`; a refused event's code is the rule's stable code.",
    ),
    paths(
        crate::api::submit,
        crate::api::credential,
        crate::api::credential_bundle,
        crate::api::verify_handler,
        crate::api::body,
        crate::api::person,
        crate::api::stats,
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
        VerifyRequest,
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
    )),
    tags(
        (name = "events", description = "Signed submissions (evaluation bodies and the authority)"),
        (name = "credentials", description = "Credentials by certificate number"),
        (name = "verification", description = "Holder verification (rate-limited per client)"),
        (name = "bodies", description = "Registered evaluation bodies"),
        (name = "persons", description = "A person's state over every route, by pseudonymous subject"),
        (name = "statistics", description = "Counts for the regional plans"),
        (name = "log", description = "C2SP tlog-tiles: checkpoint, hash tiles, entry bundles"),
        (name = "operations", description = "Health, metrics, this document"),
        (name = "federation", description = "川渝 federation: this ledger's witness (C2SP tlog-witness)"),
    )
)]
pub struct ApiDoc;

/// The document as JSON text.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}
