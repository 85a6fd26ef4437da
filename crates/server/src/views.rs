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
    #[schema(schema_with = crate::openapi::forms::entry)]
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

/// The issuing body's suspension or cancellation that covers a credential's issue date but
/// was logged after the credential (a retroactive status change,
/// `BodyRecord::retroactive_status_at`). The credential stands (it is not revoked by this),
/// but it was issued while the body, as the ledger now records, was not allowed to evaluate.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct IssuerStatusWarning {
    /// `suspended` or `cancelled`.
    #[schema(example = "suspended")]
    pub status: String,
    /// From when the change applies, `YYYY-MM-DD` (on or before the issue date).
    #[schema(example = "2025-06-01")]
    pub effective: String,
    pub reason: String,
    /// Index of the status change's entry in the log (after the credential's).
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
    /// Present only when the issuing body has a suspension or cancellation, logged after
    /// this credential, whose period covers the issue date: see [`IssuerStatusWarning`].
    /// Absent otherwise (an additive member: clients that ignore it read as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_status_warning: Option<IssuerStatusWarning>,
    /// The credential's kind, by its number's series: `skill_level` (职业技能等级证书) or
    /// `qualification` (职业资格证书).
    #[schema(example = "skill_level")]
    pub kind: String,
    /// The kind as printed, e.g. `职业技能等级证书`.
    pub kind_name: String,
    /// For route `foreign-comparison`: the foreign certificate compared and the catalogue
    /// version applied. Absent for the other routes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign: Option<ForeignComparisonView>,
}

/// The foreign certificate a `foreign-comparison` credential was compared from
/// (境外技能证书比照认定).
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct ForeignComparisonView {
    /// The policy version whose comparison catalogue was applied.
    pub catalogue_version: u32,
    pub certificate_type: String,
    /// The catalogue's name of the type, from that policy version.
    pub certificate_type_name: Option<String>,
    /// ISO 3166-1 alpha-2 code of the issuing country, from the catalogue.
    pub country: Option<String>,
    pub foreign_issuer: String,
    pub document_id: String,
}

impl ForeignComparisonView {
    pub fn new(
        basis: &skill_ledger_domain::ForeignComparisonBasis,
        registry: &Registry,
    ) -> ForeignComparisonView {
        let row = registry
            .policies
            .iter()
            .find(|version| version.policy.version == basis.catalogue_version)
            .and_then(|version| {
                version
                    .policy
                    .foreign_comparison(&basis.certificate_type)
                    .cloned()
            });
        ForeignComparisonView {
            catalogue_version: basis.catalogue_version,
            certificate_type: basis.certificate_type.clone(),
            certificate_type_name: row.as_ref().map(|row| row.name.clone()),
            country: row.map(|row| row.country),
            foreign_issuer: basis.foreign_issuer.clone(),
            document_id: basis.document_id.clone(),
        }
    }
}

/// A 专项职业能力证书 (special vocational ability): a named ability under an occupation,
/// without a level (`GET /v1/special-abilities/{cert_no}`, person views, verification).
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct SpecialAbilityView {
    #[schema(example = "S00005000000324Z000001")]
    pub certificate_number: String,
    /// Always `special_ability`.
    pub kind: String,
    /// `专项职业能力证书`.
    pub kind_name: String,
    /// `valid` or `revoked`.
    pub status: String,
    /// The policy's ability code, e.g. `4-03-02-01-Z01`.
    pub ability: String,
    /// The ability's name in the policy in force at the issue date, e.g. `重庆小面制作`.
    pub ability_name: Option<String>,
    pub occupation: String,
    pub occupation_name: Option<String>,
    pub issued: String,
    pub body: String,
    pub body_name: Option<String>,
    /// Index of the `SpecialAbilityCertified` entry in the log.
    pub entry_index: u64,
    pub revocation: Option<RevocationView>,
}

/// `GET /v1/special-abilities/{cert_no}`: the certificate and the checkpoint it was read
/// under.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SpecialAbilityResponse {
    #[serde(flatten)]
    pub special_ability: SpecialAbilityView,
    pub checkpoint: Option<CheckpointView>,
    /// This ledger's origin.
    pub ledger: String,
}

impl SpecialAbilityView {
    pub fn new(
        record: &skill_ledger_domain::SpecialAbilityRecord,
        registry: &Registry,
    ) -> SpecialAbilityView {
        let body = record.body();
        let (status, revocation) = status_and_revocation(&record.status);
        SpecialAbilityView {
            certificate_number: record.certificate_number.to_string(),
            kind: skill_ledger_domain::CredentialKind::SpecialAbility
                .id()
                .to_string(),
            kind_name: skill_ledger_domain::CredentialKind::SpecialAbility
                .name_zh()
                .to_string(),
            status: status.to_string(),
            ability: record.ability.clone(),
            ability_name: registry
                .policy_at(record.issued)
                .and_then(|policy| policy.special_ability(&record.ability))
                .map(|ability| ability.name.clone()),
            occupation: record.occupation.to_string(),
            occupation_name: occupation_name(registry, record.occupation),
            issued: record.issued.to_string(),
            body: body.to_string(),
            body_name: body_name(registry, &body),
            entry_index: record.entry_index,
            revocation,
        }
    }
}

/// An occupation's name in the catalogue in force.
fn occupation_name(
    registry: &Registry,
    code: skill_ledger_domain::OccupationCode,
) -> Option<String> {
    registry
        .catalogue
        .as_ref()
        .and_then(|catalogue| catalogue.get(code))
        .map(|occupation| occupation.name.clone())
}

/// A registered body's name.
fn body_name(
    registry: &Registry,
    number: &skill_ledger_domain::RegistrationNumber,
) -> Option<String> {
    registry.bodies.get(number).map(|body| body.name.clone())
}

/// `valid` or `revoked`, with how it was revoked.
fn status_and_revocation(status: &CredentialStatus) -> (&'static str, Option<RevocationView>) {
    match status {
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
                    // The rules let only the authority key or a body revoke.
                    Signer::Authority | Signer::Recovery => "authority".to_string(),
                    Signer::Body(number) => number.to_string(),
                },
                entry_index: *entry_index,
            }),
        ),
    }
}

impl CredentialView {
    /// With the foreign certificate of a `foreign-comparison` credential (read from its
    /// issuing entry by the caller).
    pub fn with_foreign(
        mut self,
        basis: Option<&skill_ledger_domain::ForeignComparisonBasis>,
        registry: &Registry,
    ) -> CredentialView {
        self.foreign = basis.map(|basis| ForeignComparisonView::new(basis, registry));
        self
    }

    pub fn new(credential: &CredentialRecord, registry: &Registry) -> CredentialView {
        let body = credential.body();
        let (status, revocation) = status_and_revocation(&credential.status);
        CredentialView {
            certificate_number: credential.certificate_number.to_string(),
            status: status.to_string(),
            level: credential.level.id().to_string(),
            level_name: credential.level.certificate_label(),
            occupation: credential.occupation.to_string(),
            occupation_name: occupation_name(registry, credential.occupation),
            work_type: credential.work_type.clone(),
            issued: credential.issued.to_string(),
            route: credential.route.id().to_string(),
            body: body.to_string(),
            body_name: body_name(registry, &body),
            entry_index: credential.entry_index,
            revocation,
            issuer_status_warning: registry
                .bodies
                .get(&body)
                .and_then(|record| credential.retroactive_body_status(record))
                .map(|change| IssuerStatusWarning {
                    status: change.status.id().to_string(),
                    effective: change.effective.to_string(),
                    reason: change.reason.clone(),
                    entry_index: change.entry_index,
                }),
            kind: credential.certificate_number.kind().id().to_string(),
            kind_name: credential.certificate_number.kind().name_zh().to_string(),
            foreign: None,
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

/// A body key declared compromised (`BodyKeyRevoked`): nothing signed with it is accepted
/// after entry `entry_index`, whatever its date.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RevokedKeyView {
    /// Ed25519 public key, hex.
    pub public_key: String,
    pub date: String,
    pub entry_index: u64,
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
    /// Keys declared compromised, in log order.
    pub revoked_keys: Vec<RevokedKeyView>,
    pub status_changes: Vec<StatusChangeView>,
    pub entry_index: u64,
    /// The partner ledger (origin) whose mirror this body was read from; absent for a body of
    /// this ledger. `entry_index` is then an index of that ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
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
            revoked_keys: body
                .revoked_keys
                .iter()
                .map(|revoked| RevokedKeyView {
                    public_key: hex::encode(revoked.public_key),
                    date: revoked.date.to_string(),
                    entry_index: revoked.entry_index,
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
            ledger: None,
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

/// One credential in a person's state.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct PersonCredentialView {
    pub certificate_number: String,
    pub occupation: String,
    pub level: String,
    pub issued: String,
    /// `evaluation`, `direct`, `contest`, `conversion`, `foreign-comparison` or
    /// `recognition` (a partner's credential recognised here; `recognitions` has its origin).
    pub route: String,
    /// `skill_level` or `qualification` (by the number's series).
    pub kind: String,
    /// `valid` or `revoked`.
    pub status: String,
    /// A credential it was built on was revoked: it stands, marked for review.
    pub basis_revoked: bool,
    /// The certificate number of the credential it was built on, if any.
    pub basis: Option<String>,
}

/// A post (评聘) of a person, current or held before.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct AppointmentView {
    pub id: String,
    pub body: String,
    pub occupation: String,
    pub level: String,
    pub term_start: String,
    pub term_end: String,
    pub current: bool,
    pub ended: Option<String>,
    /// `term_over`, `left_post` or `dismissed` once ended.
    pub end_reason: Option<String>,
    /// The 高级技师 certificate number or the 特级技师 post id it was built on.
    pub basis: String,
    pub basis_revoked: bool,
}

/// What a person may apply for next.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct NextStepView {
    pub route: String,
    pub occupation: Option<String>,
    pub level: Option<String>,
    /// A title reachable by conversion, e.g. `engineer (工程技术/机械工程)`.
    pub title: Option<String>,
    pub earliest: String,
    pub basis: String,
    pub policy_version: u32,
}

/// A person's state over every route (by pseudonymous subject; no name, no document number).
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct PersonView {
    pub subject: String,
    /// The highest level held now in any occupation, over every route.
    pub highest_level: Option<String>,
    /// Occupation → the highest level held now: credentials, current posts, 学徒工.
    #[schema(value_type = Object)]
    pub current_levels: serde_json::Map<String, serde_json::Value>,
    pub credentials: Vec<PersonCredentialView>,
    #[schema(value_type = Vec<Object>)]
    pub apprenticeships: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub contest_results: Vec<serde_json::Value>,
    pub appointments: Vec<AppointmentView>,
    #[schema(value_type = Vec<Object>)]
    pub titles: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub title_eligibilities: Vec<serde_json::Value>,
    pub next_steps: Vec<NextStepView>,
    /// Recognitions (互认) of partner credentials: `id`, `origin`, `certificate_number`,
    /// `origin_entry_index`, `level`, `partner_occupation`, `occupation`, `issued`, `date`,
    /// `status` (`active` or `withdrawn`) and, once withdrawn, `withdrawn` (`effective`,
    /// `reason`: `origin_revoked` with the origin's `revocation_index`, or
    /// `authority_decision` with its `note`).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub recognitions: Vec<serde_json::Value>,
    /// 专项职业能力证书 held, valid or revoked: abilities without a level, never counted in
    /// `current_levels` or `highest_level`.
    #[serde(default)]
    pub special_abilities: Vec<SpecialAbilityView>,
}

impl PersonView {
    pub fn new(
        subject: &skill_ledger_domain::SubjectId,
        person: &skill_ledger_domain::PersonRecord,
        career: &skill_ledger_domain::CareerRecord,
        registry: &Registry,
    ) -> PersonView {
        use serde_json::json;
        use skill_ledger_domain::AppointmentBasis;
        let levels = skill_ledger_domain::current_levels(person, career);
        let contest_name = |id: &skill_ledger_domain::EventId| {
            registry
                .contests
                .get(id)
                .map(|contest| contest.name.clone())
        };
        PersonView {
            subject: subject.to_hex(),
            highest_level: levels.values().max().map(|level| level.id().to_string()),
            current_levels: levels
                .iter()
                .map(|(occupation, level)| (occupation.to_string(), json!(level.id())))
                .collect(),
            credentials: person
                .holdings
                .iter()
                .map(|holding| PersonCredentialView {
                    certificate_number: holding.certificate_number.as_str().to_string(),
                    occupation: holding.occupation.to_string(),
                    level: holding.level.id().to_string(),
                    issued: holding.issued.to_string(),
                    route: holding.route.id().to_string(),
                    kind: holding.certificate_number.kind().id().to_string(),
                    status: if holding.revoked { "revoked" } else { "valid" }.to_string(),
                    basis_revoked: holding.basis_revoked,
                    basis: holding.basis.and_then(|at| {
                        person
                            .holdings
                            .get(usize::from(at))
                            .map(|basis| basis.certificate_number.as_str().to_string())
                    }),
                })
                .collect(),
            apprenticeships: career
                .apprenticeships
                .iter()
                .map(|a| {
                    json!({"id": a.id.to_hex(), "body": a.body.to_string(),
                        "occupation": a.occupation.to_string(), "started": a.started.to_string(),
                        "completed": a.completed.map(|d| d.to_string())})
                })
                .collect(),
            contest_results: career
                .contest_results
                .iter()
                .map(|r| {
                    json!({"id": r.id.to_hex(), "contest": r.contest.to_hex(),
                        "contest_name": contest_name(&r.contest), "tier": r.tier.id(),
                        "occupation": r.occupation.to_string(), "rank": r.rank, "award": r.award,
                        "date": r.date.to_string(),
                        "promoted_to": r.promoted.map(|(number, _)| number.as_str().to_string())})
                })
                .collect(),
            appointments: career
                .appointments
                .iter()
                .map(|a| AppointmentView {
                    id: a.id.to_hex(),
                    body: a.body.to_string(),
                    occupation: a.occupation.to_string(),
                    level: a.level.id().to_string(),
                    term_start: a.term_start.to_string(),
                    term_end: a.term_end.to_string(),
                    current: a.is_current(),
                    ended: a.ended.map(|(date, _)| date.to_string()),
                    end_reason: a.ended.map(|(_, reason)| reason.id().to_string()),
                    basis: match &a.basis {
                        AppointmentBasis::Credential(number) => number.as_str().to_string(),
                        AppointmentBasis::Appointment(id) => id.to_hex(),
                    },
                    basis_revoked: a.basis_revoked,
                })
                .collect(),
            titles: career
                .titles
                .iter()
                .map(|t| {
                    json!({"id": t.id.to_hex(), "title": t.title.id(), "name": t.title.name_zh(),
                        "series": t.series, "field": t.field, "obtained": t.obtained.to_string()})
                })
                .collect(),
            title_eligibilities: career
                .eligibilities
                .iter()
                .map(|e| {
                    json!({"id": e.id.to_hex(), "title": e.title.id(), "name": e.title.name_zh(),
                        "series": e.series, "field": e.field, "date": e.date.to_string(),
                        "basis": e.basis.as_str(), "basis_revoked": e.basis_revoked})
                })
                .collect(),
            recognitions: career.recognitions.iter().map(recognition_view).collect(),
            special_abilities: career
                .special_abilities
                .iter()
                .map(|record| SpecialAbilityView::new(record, registry))
                .collect(),
            next_steps: skill_ledger_domain::next_steps(registry, person, career)
                .into_iter()
                .map(|step| NextStepView {
                    route: step.route.id().to_string(),
                    occupation: step.occupation.map(|o| o.to_string()),
                    level: step.level.map(|l| l.id().to_string()),
                    title: step
                        .title
                        .map(|(title, series, field)| format!("{} ({series}/{field})", title.id())),
                    earliest: step.earliest.to_string(),
                    basis: step.basis,
                    policy_version: step.policy_version,
                })
                .collect(),
        }
    }
}

fn recognition_view(recognition: &skill_ledger_domain::RecognitionRecord) -> serde_json::Value {
    use serde_json::json;
    use skill_ledger_domain::WithdrawalReason;
    let withdrawn = recognition.withdrawn.as_ref().map(|withdrawal| {
        let mut view = json!({
            "effective": withdrawal.effective.to_string(),
            "reason": withdrawal.reason.id(),
        });
        match &withdrawal.reason {
            WithdrawalReason::OriginRevoked { revocation_index } => {
                view["revocation_index"] = json!(revocation_index)
            }
            WithdrawalReason::AuthorityDecision { reason } => view["note"] = json!(reason),
        }
        view
    });
    json!({
        "id": recognition.id.to_hex(),
        "origin": recognition.origin,
        "certificate_number": recognition.certificate_number.as_str(),
        "origin_entry_index": recognition.origin_entry_index,
        "leaf_hash": hex::encode(recognition.leaf_hash),
        "level": recognition.level.id(),
        "partner_occupation": recognition.partner_occupation.to_string(),
        "occupation": recognition.occupation.to_string(),
        "issued": recognition.issued.to_string(),
        "date": recognition.date.to_string(),
        "status": if recognition.is_active() { "active" } else { "withdrawn" },
        "withdrawn": withdrawn,
    })
}
