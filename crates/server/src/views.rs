//! The JSON shapes of the API (serde + OpenAPI schemas). Nothing here holds personal data:
//! credentials are shown by number, never with a subject or a name commitment.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use skill_ledger_domain::{BodyRecord, CredentialRecord, CredentialStatus, Registry, Signer};
use skill_ledger_log::SignedCheckpoint;
use utoipa::ToSchema;

/// `POST /v1/events`: one signed event as its canonical entry bytes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// Standard base64 (RFC 4648, with padding) of the entry: format version, signer,
    /// public key, signature and bincode(Event), exactly as docs/formats.md describes.
    /// The signature covers `"skill-ledger/event/v1\n" ‖ origin ‖ "\n" ‖ bincode(Event)`.
    #[schema(example = "AQEAAABZMDAwMDUwMDAwMDAx…")]
    pub entry: String,
}

/// The durable answer to a submission.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SubmitResponse {
    /// Index of the entry in the log (for a resubmission: the first acceptance).
    pub index: u64,
    /// True when the same event had already been accepted.
    pub duplicate: bool,
    /// The event id, 32 hex characters.
    pub event_id: String,
    /// The event kind, e.g. `level_certified`.
    pub event: String,
    /// A signed checkpoint whose tree contains the entry.
    pub checkpoint: CheckpointView,
}

/// A signed checkpoint (C2SP tlog-checkpoint), parsed and whole.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct CheckpointView {
    pub origin: String,
    /// Entries in the tree.
    pub size: u64,
    /// RFC 6962 root hash, standard base64.
    pub root: String,
    /// When it was signed, Unix seconds.
    pub time_unix_s: u64,
    /// The whole signed note, verifiable with the ledger's verifier key.
    pub note: String,
}

impl CheckpointView {
    pub fn new(signed: &SignedCheckpoint) -> CheckpointView {
        CheckpointView {
            origin: signed.checkpoint.origin.clone(),
            size: signed.checkpoint.size,
            root: base64::engine::general_purpose::STANDARD.encode(signed.checkpoint.root),
            time_unix_s: signed.checkpoint.time_unix_s,
            note: signed.note_text.clone(),
        }
    }
}

/// How a credential was revoked.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct RevocationView {
    pub effective: String,
    pub reason: String,
    /// `authority` or the registration number of the revoking body.
    pub by: String,
    pub entry_index: u64,
}

/// A credential as the ledger holds it (no holder data).
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct CredentialView {
    #[schema(example = "Y000050000001244000001")]
    pub certificate_number: String,
    /// `valid` or `revoked`.
    #[schema(example = "valid")]
    pub status: String,
    /// Level id, e.g. `intermediate`.
    pub level: String,
    /// The level as printed on certificates, e.g. `四级/中级工`.
    pub level_name: String,
    /// Occupation code `X-XX-XX-XX`.
    pub occupation: String,
    pub occupation_name: Option<String>,
    pub work_type: Option<String>,
    /// Issue date, `YYYY-MM-DD`.
    pub issued: String,
    /// `evaluation` or `direct`.
    pub route: String,
    /// Registration number of the issuing body.
    pub body: String,
    pub body_name: Option<String>,
    /// Index of the `LevelCertified` entry in the log.
    pub entry_index: u64,
    pub revocation: Option<RevocationView>,
}

impl CredentialView {
    pub fn new(credential: &CredentialRecord, registry: &Registry) -> CredentialView {
        let body = credential.body();
        let (status, revocation) = match &credential.status {
            CredentialStatus::Valid => ("valid", None),
            CredentialStatus::Revoked {
                effective,
                reason,
                by,
                entry_index,
            } => (
                "revoked",
                Some(RevocationView {
                    effective: effective.to_string(),
                    reason: reason.clone(),
                    by: match by {
                        Signer::Authority => "authority".to_string(),
                        Signer::Body(number) => number.to_string(),
                    },
                    entry_index: *entry_index,
                }),
            ),
        };
        CredentialView {
            certificate_number: credential.certificate_number.to_string(),
            status: status.to_string(),
            level: credential.level.id().to_string(),
            level_name: credential.level.certificate_label(),
            occupation: credential.occupation.to_string(),
            occupation_name: registry
                .catalogue
                .as_ref()
                .and_then(|catalogue| catalogue.get(credential.occupation))
                .map(|occupation| occupation.name.clone()),
            work_type: credential.work_type.clone(),
            issued: credential.issued.to_string(),
            route: credential.route.id().to_string(),
            body: body.to_string(),
            body_name: registry.bodies.get(&body).map(|record| record.name.clone()),
            entry_index: credential.entry_index,
            revocation,
        }
    }
}

/// `GET /v1/credentials/{cert_no}`: the credential and the checkpoint it was read under.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CredentialResponse {
    #[serde(flatten)]
    pub credential: CredentialView,
    /// For a partner's credential, the partner checkpoint the mirror holds.
    pub checkpoint: Option<CheckpointView>,
    /// The ledger the credential is on: this one's origin, or a partner's for a certificate
    /// of the partner's province (answered from the mirror).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// For a partner's credential: how fresh the mirror that answered is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<crate::federation::MirrorView>,
}

/// One occupation of a body's scope.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ScopeItemView {
    pub occupation: String,
    pub level_max: String,
}

/// A body's key and the date from which it signs.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct KeyPeriodView {
    pub from: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
}

/// A change of a body's registration status.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct StatusChangeView {
    pub effective: String,
    /// `active`, `suspended` or `cancelled`.
    pub status: String,
    pub reason: String,
    pub entry_index: u64,
}

/// `GET /v1/bodies/{reg_no}`: a registered evaluation body (评价机构).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BodyView {
    #[schema(example = "Y000050000001")]
    pub registration_number: String,
    pub name: String,
    /// `Y` enterprise or `S` social training-evaluation organisation.
    pub kind: String,
    pub province: String,
    /// Status now: `active`, `suspended` or `cancelled`.
    pub status: String,
    pub valid_from: String,
    pub valid_until: String,
    /// `staff`, `students` or `public`.
    pub audience: String,
    pub direct_recognition: bool,
    pub scope: Vec<ScopeItemView>,
    pub keys: Vec<KeyPeriodView>,
    pub status_changes: Vec<StatusChangeView>,
    pub entry_index: u64,
}

impl BodyView {
    pub fn new(body: &BodyRecord) -> BodyView {
        BodyView {
            registration_number: body.registration_number.to_string(),
            name: body.name.clone(),
            kind: body.registration_number.kind().letter().to_string(),
            province: body.registration_number.province().to_string(),
            status: body.status_now().id().to_string(),
            valid_from: body.valid_from.to_string(),
            valid_until: body.valid_until.to_string(),
            audience: body.audience.id().to_string(),
            direct_recognition: body.direct_recognition,
            scope: body
                .scope
                .iter()
                .map(|item| ScopeItemView {
                    occupation: item.occupation.to_string(),
                    level_max: item.level_max.id().to_string(),
                })
                .collect(),
            keys: body
                .keys
                .iter()
                .map(|key| KeyPeriodView {
                    from: key.from.to_string(),
                    public_key: hex::encode(key.public_key),
                })
                .collect(),
            status_changes: body
                .status_changes
                .iter()
                .map(|change| StatusChangeView {
                    effective: change.effective.to_string(),
                    status: change.status.id().to_string(),
                    reason: change.reason.clone(),
                    entry_index: change.entry_index,
                })
                .collect(),
            entry_index: body.entry_index,
        }
    }
}

/// `GET /healthz`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`; `stopped` when the node no longer accepts submissions; `storage-full` while the
    /// disk is too full to accept a batch (cleared as soon as space is freed); `alarm` when a
    /// partner's fork or rule violation was detected (evidence kept, mirroring of it stopped).
    pub status: String,
    pub origin: String,
    pub tree_size: u64,
    /// Why the node stopped, when it did.
    pub stopped: Option<String>,
    /// Why submissions are refused for lack of disk space, while they are.
    #[serde(default)]
    pub storage_full: Option<String>,
    /// The first raised partner alarm, in words.
    #[serde(default)]
    pub alarm: Option<String>,
    /// Each partner's mirror (partners.toml), empty without partners.
    #[serde(default)]
    pub partners: Vec<crate::federation::PartnerHealth>,
}
