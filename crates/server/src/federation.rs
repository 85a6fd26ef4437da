//! 川渝 federation in the HTTP service: the witness endpoint, the partners' mirrors kept up
//! to date in the background, cosigned checkpoints, and partner credentials for verifiers.
//!
//! * `POST /add-checkpoint` (C2SP tlog-witness): a partner asks this ledger's witness to
//!   cosign its checkpoint; [`skill_ledger_sync::Witness::add_checkpoint`] decides, this
//!   module only carries bytes and statuses.
//! * [`start`]: one background task per partner with a URL. Every `sync_interval_s` it pulls
//!   the partner's log into the mirror ([`skill_ledger_sync::Mirror`] over
//!   [`skill_ledger_sync::HttpLog`]) and, when this ledger's checkpoint has changed since the
//!   partner's witness last cosigned it, asks for a cosignature
//!   ([`skill_ledger_sync::request_cosignature`]). Failures back off (doubling up to
//!   `sync_backoff_max_s`). The work runs on the blocking pool: the partner is reached with a
//!   blocking client and the mirror writes sled and fsyncs. Nothing the handlers wait on is
//!   held meanwhile: they read the mirror through a [`MirrorReader`], and the node is never
//!   locked.
//! * [`Federation::cosignature_lines`]: the partners' cosignatures of the home checkpoint,
//!   appended to `/checkpoint` and to offline bundles when they are for the checkpoint served.
//! * [`Federation::partner_for`]: a partner's credential by certificate number, for
//!   `verify::verify` and `GET /v1/credentials/{cert_no}`.
//!
//! ## Starting it (the `serve` command and the demo do the same)
//! ```no_run
//! # use std::{collections::BTreeMap, sync::Arc};
//! # use skill_ledger_server::{federation::{self, Federation}, AppState, ServerConfig};
//! # async fn run(node: Arc<skill_ledger_node::Node>) -> Result<(), Box<dyn std::error::Error>> {
//! // Partner URLs come from partners.toml; `urls` overrides them (e.g. ports known only now).
//! let urls = BTreeMap::from([("skill-ledger/51".to_string(), "http://127.0.0.1:8051".to_string())]);
//! let federation = Federation::open(&node, &urls)?;
//! let state = AppState::new(node, ServerConfig::default()).with_federation(federation);
//! let tasks = federation::start(&state); // inside the tokio runtime
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8050").await?;
//! skill_ledger_server::serve(listener, state, std::future::pending()).await?;
//! tasks.shutdown().await; // before closing the node: the tasks hold it
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::{Deserialize, Serialize};
use skill_ledger_domain::CertificateNumber;
use skill_ledger_log::Bundle;
use skill_ledger_node::Node;
use skill_ledger_sync::witness::{cosigned_path, verify_cosignatures, REQUEST_BYTES_MAX};
use skill_ledger_sync::{check_against_mirror, RecognitionCheckError};
use skill_ledger_sync::{
    now_unix_s, request_cosignature, CosignatureVerifier, ForeignCredential, Home, HttpLog,
    HttpWitness, Mirror, MirrorReader, MirrorStatus, PartnerConfig, Partners, PullOptions,
    SyncError, SyncErrorKind, Witness, WitnessAnswer,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use utoipa::ToSchema;

use crate::limits::body_too_large;
use crate::problem::{Problem, ProblemDocument};
use crate::state::AppState;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// What the background task last did for a partner.
#[derive(Clone, Debug, Default)]
pub struct Activity {
    /// When the last cycle (pull, then cosignature) ended.
    pub last_attempt_unix_s: Option<u64>,
    /// The last cycle's failures (pull and cosignature), if it had any.
    pub last_error: Option<String>,
    /// Cycles failed in a row (the backoff grows with it).
    pub consecutive_failures: u32,
    pub pulls_failed_total: u64,
    pub entries_pulled_total: u64,
}

/// One partner as the service holds it.
pub struct Partner {
    config: PartnerConfig,
    reader: MirrorReader,
    /// Held by the background task while it pulls; handlers never take it.
    mirror: Mutex<Mirror>,
    activity: Mutex<Activity>,
    /// This ledger's checkpoint with the partner witness's cosignature line(s), as persisted.
    cosigned: RwLock<Option<String>>,
    /// The recognitions of this partner's credentials must be checked for revocations at
    /// the origin: at start-up, and after every pull that moved the mirror, until a check
    /// (and the withdrawals it called for) succeeded.
    recognitions_due: std::sync::atomic::AtomicBool,
    /// The partner's `certificates.revoked` counter (as mirrored) at the last complete check:
    /// while it stays the same, no recognised credential can have been revoked since.
    revocations_checked: Mutex<Option<i64>>,
}

impl Partner {
    pub fn config(&self) -> &PartnerConfig {
        &self.config
    }

    pub fn origin(&self) -> &str {
        &self.config.origin
    }

    pub fn reader(&self) -> &MirrorReader {
        &self.reader
    }

    pub fn activity(&self) -> Activity {
        lock(&self.activity).clone()
    }

    /// The cosignature line(s) of this partner's witness over exactly `note_text` (this
    /// ledger's signed note), if held.
    fn lines_for(&self, note_text: &str) -> Option<String> {
        let cosigned = match self.cosigned.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }?;
        cosigned
            .strip_prefix(note_text)
            .filter(|lines| !lines.is_empty())
            .map(str::to_string)
    }

    fn set_cosigned(&self, note_text: String) {
        match self.cosigned.write() {
            Ok(mut guard) => *guard = Some(note_text),
            Err(poisoned) => *poisoned.into_inner() = Some(note_text),
        }
    }

    /// The size of this ledger's checkpoint the partner's witness last cosigned.
    fn cosigned_size(&self) -> Option<u64> {
        let cosigned = match self.cosigned.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }?;
        cosigned.split('\n').nth(1)?.parse().ok()
    }
}

/// The partner that answers for a certificate, and the credential if its mirror holds it.
pub type PartnerAnswer = (Arc<Partner>, Option<ForeignCredential>);

/// A per-partner gauge: name, help, value.
type Gauge = (
    &'static str,
    &'static str,
    fn(&PartnerHealth) -> Option<u64>,
);

/// A partner's origin and the mirror of its ledger held under the home ledger directory.
#[derive(Clone, Copy, Debug)]
pub struct PartnerMirror<'a> {
    pub origin: &'a str,
    pub reader: &'a MirrorReader,
}

/// The partner answering for a certificate of another province, by its position in
/// `partners`: the first whose mirror holds it; otherwise the one whose origin ends in
/// `/<province code>`, or the only partner. `None` when no partner can answer. The one rule
/// behind [`Federation::partner_for`] (the API and the portal) and the CLI's `verify`,
/// which opens the mirrors itself.
pub fn answering_partner(
    partners: &[PartnerMirror<'_>],
    number: &CertificateNumber,
) -> Result<Option<(usize, Option<ForeignCredential>)>, SyncError> {
    for (index, partner) in partners.iter().enumerate() {
        if let Some(found) = partner.reader.credential(number)? {
            return Ok(Some((index, Some(found))));
        }
    }
    let chosen = partner_index_for_province(
        partners.iter().map(|partner| partner.origin),
        number.province(),
    );
    Ok(chosen.map(|index| (index, None)))
}

/// Among partners of these origins (in `partners.toml` order), the one that answers for a
/// province: the one whose origin ends `/<province>`, or the only partner.
fn partner_index_for_province<'a>(
    origins: impl ExactSizeIterator<Item = &'a str>,
    province: skill_ledger_domain::Province,
) -> Option<usize> {
    let suffix = format!("/{province}");
    let count = origins.len();
    let mut origins = origins;
    match (origins.position(|origin| origin.ends_with(&suffix)), count) {
        (Some(index), _) => Some(index),
        (None, 1) => Some(0),
        _ => None,
    }
}

/// What the partners' mirrors say of a certificate of another province.
pub enum PartnerCredential {
    /// No partner answers for the certificate's province: the home ledger answers.
    NoPartner,
    /// The answering partner's mirror does not hold it.
    NotHeld { origin: String, entries_held: u64 },
    /// The credential as the mirror holds it, with the mirror's checkpoint and freshness.
    Found(Box<crate::views::CredentialResponse>),
}

/// A certificate of another province as the partners' mirrors answer it: the one lookup
/// behind the API's `GET /v1/credentials/{cert_no}` and the CLI's `show credential`, on the
/// partner [`answering_partner`] chooses.
pub fn partner_credential(
    partners: &[PartnerMirror<'_>],
    number: &CertificateNumber,
) -> Result<PartnerCredential, SyncError> {
    let Some((index, found)) = answering_partner(partners, number)? else {
        return Ok(PartnerCredential::NoPartner);
    };
    let partner = partners[index];
    let status = partner.reader.status()?;
    let Some(found) = found else {
        return Ok(PartnerCredential::NotHeld {
            origin: partner.origin.to_string(),
            entries_held: status.cursor,
        });
    };
    let registry = partner.reader.registry()?;
    let checkpoint = partner
        .reader
        .checkpoint()?
        .map(|held| crate::views::CheckpointView::new(&held));
    Ok(PartnerCredential::Found(Box::new(
        crate::views::CredentialResponse {
            credential: crate::views::CredentialView::new(&found.record, &registry),
            checkpoint,
            ledger: Some(partner.origin.to_string()),
            mirror: Some(MirrorView::new(&status, now_unix_s())),
        },
    )))
}

/// A partner and the registry of its mirror.
pub type PartnerRegistry<'a> = (&'a Arc<Partner>, Arc<skill_ledger_domain::Registry>);

/// The federation state of a served ledger: its witness and its partners' mirrors.
#[derive(Default)]
pub struct Federation {
    home_dir: PathBuf,
    witness: Option<Arc<Witness>>,
    partners: Vec<Arc<Partner>>,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("home_dir", &self.home_dir)
            .field(
                "partners",
                &self.partners.iter().map(|p| p.origin()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Reads the cosigned home checkpoint kept for `partner`, keeping it only if the home key and
/// the partner's witness key both verify it.
fn load_cosigned(node: &Node, partner: &PartnerConfig) -> Option<String> {
    let path = cosigned_path(node.dir(), &partner.origin);
    let text = std::fs::read_to_string(&path).ok()?;
    let verifier = CosignatureVerifier::from_vkey(partner.witness_vkey.as_deref()?).ok()?;
    let valid = skill_ledger_log::parse_and_verify_checkpoint(&text, node.verifier_key_text())
        .is_ok()
        && verify_cosignatures(&text, &verifier).is_ok_and(|times| !times.is_empty());
    if !valid {
        tracing::warn!(path = %path.display(), "ignoring a cosigned checkpoint that does not verify");
    }
    valid.then_some(text)
}

impl Federation {
    /// No partners and no witness: `/add-checkpoint` answers 404 for every log.
    pub fn none() -> Federation {
        Federation::default()
    }

    /// The federation of the ledger `node` serves: `partners.toml` (a missing file means no
    /// partners), the witness (its key is created on first use when there are partners), and
    /// each partner's mirror, opened (taking its store's lock). `urls` sets or replaces
    /// partner URLs by origin; each must name a configured partner.
    pub fn open(node: &Node, urls: &BTreeMap<String, String>) -> Result<Federation, SyncError> {
        let home = Home::load(node.dir())?;
        let mut partners = Partners::load(&home)?;
        for (origin, url) in urls {
            let partner = partners
                .partners
                .iter_mut()
                .find(|partner| &partner.origin == origin)
                .ok_or_else(|| {
                    SyncError::new(
                        SyncErrorKind::Config,
                        format!("a URL is given for {origin}, which is not in partners.toml"),
                    )
                })?;
            partner.url = Some(url.clone());
            partner.validate(&home)?;
        }
        if partners.partners.is_empty() {
            return Ok(Federation {
                home_dir: home.dir,
                ..Federation::default()
            });
        }
        let witness = Witness::open(&home)?;
        let mut opened = Vec::with_capacity(partners.partners.len());
        for config in partners.partners {
            let mirror = Mirror::open(&home, &config)?;
            opened.push(Arc::new(Partner {
                reader: mirror.reader(),
                mirror: Mutex::new(mirror),
                activity: Mutex::new(Activity::default()),
                cosigned: RwLock::new(load_cosigned(node, &config)),
                recognitions_due: std::sync::atomic::AtomicBool::new(true),
                revocations_checked: Mutex::new(None),
                config,
            }));
        }
        Ok(Federation {
            home_dir: home.dir,
            witness: Some(Arc::new(witness)),
            partners: opened,
        })
    }

    /// Checks a recognition against the mirror of its origin ([`skill_ledger_sync::recognition`]).
    pub fn check_recognition(
        &self,
        recognised: &skill_ledger_domain::RecognitionRecorded,
    ) -> Result<(), RecognitionCheckError> {
        let partner = self
            .partners
            .iter()
            .find(|partner| partner.origin() == recognised.origin)
            .ok_or_else(|| RecognitionCheckError::unknown_partner(&recognised.origin))?;
        check_against_mirror(partner.reader(), recognised)
    }

    /// Checks a partner contest result accepted for a joint contest against the mirror of its
    /// origin.
    pub fn check_partner_result(
        &self,
        accepted: &skill_ledger_domain::PartnerContestResultAccepted,
        partner_contest: skill_ledger_domain::EventId,
    ) -> Result<(), RecognitionCheckError> {
        let partner = self
            .partners
            .iter()
            .find(|partner| partner.origin() == accepted.origin)
            .ok_or_else(|| RecognitionCheckError::unknown_partner(&accepted.origin))?;
        skill_ledger_sync::check_partner_result(partner.reader(), accepted, partner_contest)
    }

    pub fn partners(&self) -> &[Arc<Partner>] {
        &self.partners
    }

    pub fn witness(&self) -> Option<&Arc<Witness>> {
        self.witness.as_ref()
    }

    /// Every partner witness's cosignature line(s) over exactly `note_text`, the home
    /// checkpoint's signed note, concatenated (empty when none is held for it).
    pub fn cosignature_lines(&self, note_text: &str) -> String {
        self.partners
            .iter()
            .filter_map(|partner| partner.lines_for(note_text))
            .collect()
    }

    /// The bundle with the partners' cosignature lines added to its checkpoint note when they
    /// are held for that checkpoint; the bundle unchanged otherwise. The result is verified
    /// with the home key before it is returned (cosignature lines are ignored by it).
    pub fn cosign_bundle(&self, text: String, verifier_key_text: &str) -> String {
        let Ok(bundle) = Bundle::parse(&text) else {
            return text;
        };
        let Some(note) = bundle
            .sections()
            .first()
            .map(|section| section.proof.checkpoint_note.clone())
        else {
            return text;
        };
        let lines = self.cosignature_lines(&note);
        if lines.is_empty() {
            return text;
        }
        let sections = bundle
            .sections()
            .iter()
            .cloned()
            .map(|mut section| {
                section.proof.checkpoint_note = format!("{note}{lines}");
                section
            })
            .collect();
        match Bundle::new(sections)
            .and_then(|cosigned| cosigned.with_notes(bundle.notes().to_vec()))
        {
            Ok(cosigned) if cosigned.verify(verifier_key_text).is_ok() => cosigned.to_text(),
            _ => text,
        }
    }

    /// The partner answering for a certificate of another province: the partner whose
    /// mirror holds it; otherwise the one whose origin ends in `/<province code>`, or the only
    /// partner. `None` when no partner can answer.
    pub fn partner_for(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<PartnerAnswer>, SyncError> {
        let mirrors = self.mirrors();
        Ok(answering_partner(&mirrors, number)?
            .map(|(index, found)| (self.partners[index].clone(), found)))
    }

    /// Each partner's origin and mirror, in `partners.toml` order: what
    /// [`answering_partner`] and [`crate::verify::verify_with_mirrors`] read.
    pub fn mirrors(&self) -> Vec<PartnerMirror<'_>> {
        self.partners
            .iter()
            .map(|partner| PartnerMirror {
                origin: partner.origin(),
                reader: partner.reader(),
            })
            .collect()
    }

    /// The partner that answers for a province: the one whose origin ends `/<province>`, or
    /// the only partner.
    pub fn partner_for_province(
        &self,
        province: skill_ledger_domain::Province,
    ) -> Option<&Arc<Partner>> {
        partner_index_for_province(
            self.partners.iter().map(|partner| partner.origin()),
            province,
        )
        .map(|index| &self.partners[index])
    }

    /// The partner answering for `province` and the registry of its mirror (bodies,
    /// catalogue), as the API's and the portal's body lookups of a partner's body read it.
    pub fn partner_registry(
        &self,
        province: skill_ledger_domain::Province,
    ) -> Result<Option<PartnerRegistry<'_>>, SyncError> {
        let Some(partner) = self.partner_for_province(province) else {
            return Ok(None);
        };
        Ok(Some((partner, partner.reader().registry()?)))
    }

    /// Each partner's state for `/healthz`.
    pub fn health(&self) -> Vec<PartnerHealth> {
        let now = now_unix_s();
        self.partners
            .iter()
            .map(|partner| PartnerHealth::new(partner, now))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------

/// How fresh a partner's mirror is (answers about partner certificates carry it).
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct MirrorView {
    /// The partner's origin, e.g. `skill-ledger/51`.
    pub partner: String,
    /// Size of the partner checkpoint held (verified, consistent with every earlier one).
    pub checkpoint_size: Option<u64>,
    /// When the partner signed that checkpoint, Unix seconds.
    pub checkpoint_time_unix_s: Option<u64>,
    /// Partner entries verified and folded into the mirror.
    pub entries_held: u64,
    /// Whether the mirror holds every entry of the checkpoint it holds.
    pub caught_up: bool,
    /// The last successful pull, Unix seconds.
    pub last_pull_unix_s: Option<u64>,
    pub seconds_since_last_pull: Option<u64>,
    /// A fork or rule-violation alarm is raised: mirroring of this partner is stopped.
    pub alarm: bool,
}

impl MirrorView {
    pub fn new(status: &MirrorStatus, now_unix_s: u64) -> MirrorView {
        MirrorView {
            partner: status.partner.clone(),
            checkpoint_size: status.checkpoint.as_ref().map(|c| c.size),
            checkpoint_time_unix_s: status.checkpoint.as_ref().map(|c| c.time_unix_s),
            entries_held: status.cursor,
            caught_up: status.caught_up(),
            last_pull_unix_s: status.last_pull_unix_s,
            seconds_since_last_pull: status
                .last_pull_unix_s
                .map(|last| now_unix_s.saturating_sub(last)),
            alarm: status.alarm.is_some(),
        }
    }
}

/// A raised alarm: evidence of a partner's misbehaviour kept on disk.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct AlarmView {
    /// `fork` or `rule-violation`.
    pub kind: String,
    pub detail: String,
    pub detected_unix_s: u64,
    /// The evidence record's directory (`skill-ledger sync evidence` prints it).
    pub evidence: String,
}

/// One partner in `/healthz`.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct PartnerHealth {
    pub origin: String,
    /// Where its log is fetched; none: not synchronised while serving.
    pub url: Option<String>,
    pub mirror: Option<MirrorView>,
    /// Partner credentials held.
    pub credentials: u64,
    pub alarm: Option<AlarmView>,
    /// Size of this ledger's checkpoint the partner's witness last cosigned.
    pub cosigned_size: Option<u64>,
    pub last_attempt_unix_s: Option<u64>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
}

impl PartnerHealth {
    fn new(partner: &Partner, now: u64) -> PartnerHealth {
        let activity = partner.activity();
        let (mirror, credentials, alarm, store_error) = match partner.reader.status() {
            Ok(status) => (
                Some(MirrorView::new(&status, now)),
                status.credentials,
                status.alarm.as_ref().map(|record| AlarmView {
                    kind: record.summary.kind.id().to_string(),
                    detail: record.summary.detail.clone(),
                    detected_unix_s: record.summary.detected_unix_s,
                    evidence: record.path.display().to_string(),
                }),
                None,
            ),
            Err(error) => (None, 0, None, Some(error.to_string())),
        };
        PartnerHealth {
            origin: partner.origin().to_string(),
            url: partner.config.url.clone(),
            mirror,
            credentials,
            alarm,
            cosigned_size: partner.cosigned_size(),
            last_attempt_unix_s: activity.last_attempt_unix_s,
            last_error: store_error.or(activity.last_error),
            consecutive_failures: activity.consecutive_failures,
        }
    }
}

/// Per-partner gauges in the Prometheus text.
pub fn render_metrics(federation: &Federation, out: &mut String) {
    use std::fmt::Write as _;
    if federation.partners.is_empty() {
        return;
    }
    let health = federation.health();
    let gauges: [Gauge; 5] = [
        (
            "skill_ledger_partner_mirror_size",
            "Partner entries verified and held in the mirror.",
            |h| h.mirror.as_ref().map(|m| m.entries_held),
        ),
        (
            "skill_ledger_partner_checkpoint_size",
            "Size of the partner checkpoint held.",
            |h| h.mirror.as_ref().and_then(|m| m.checkpoint_size),
        ),
        (
            "skill_ledger_partner_seconds_since_last_pull",
            "Seconds since the last successful pull of the partner's log.",
            |h| h.mirror.as_ref().and_then(|m| m.seconds_since_last_pull),
        ),
        (
            "skill_ledger_partner_alarm",
            "1 while a fork or rule-violation alarm about the partner is raised.",
            |h| Some(u64::from(h.alarm.is_some())),
        ),
        (
            "skill_ledger_partner_cosigned_size",
            "Size of this ledger's checkpoint last cosigned by the partner's witness.",
            |h| h.cosigned_size,
        ),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for partner in &health {
            if let Some(value) = value(partner) {
                let _ = writeln!(out, "{name}{{partner=\"{}\"}} {value}", partner.origin);
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP skill_ledger_partner_pulls_failed_total Background pulls of the partner's log that failed."
    );
    let _ = writeln!(
        out,
        "# TYPE skill_ledger_partner_pulls_failed_total counter"
    );
    for partner in &federation.partners {
        let _ = writeln!(
            out,
            "skill_ledger_partner_pulls_failed_total{{partner=\"{}\"}} {}",
            partner.origin(),
            partner.activity().pulls_failed_total
        );
    }
}

// ---------------------------------------------------------------------------------------
// The witness endpoint
// ---------------------------------------------------------------------------------------

pub fn routes() -> Router<AppState> {
    Router::new().route("/add-checkpoint", post(add_checkpoint))
}

fn witness_response(answer: &WitnessAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Body::from(answer.body())).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(answer.content_type()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Witness a partner's checkpoint (C2SP tlog-witness `add-checkpoint`).
///
/// The body is `old <size>`, the consistency proof from that size (one base64 hash per
/// line), an empty line, and the partner's signed checkpoint note; at most 16 KiB. A
/// cosignature is given only for a checkpoint of a configured partner that verifies with its
/// key and is consistent with the one this witness last cosigned (which is persisted first).
#[utoipa::path(
    post, path = "/add-checkpoint", tag = "federation",
    request_body(content = inline(crate::openapi::AddCheckpointBody), content_type = "text/plain", description = "old <size>\\n, proof lines, an empty line, the signed checkpoint note"),
    responses(
        (status = 200, description = "The cosignature line(s) (C2SP tlog-cosignature, cosignature/v1)", body = String, content_type = "text/plain; charset=utf-8"),
        (status = 400, description = "Malformed request, or old size above the checkpoint size", body = String, content_type = "text/plain; charset=utf-8"),
        (status = 403, description = "No signature by the configured key of the origin", body = String, content_type = "text/plain; charset=utf-8"),
        (status = 404, description = "The origin is not a partner of this ledger", body = String, content_type = "text/plain; charset=utf-8"),
        (status = 409, description = "old is not the size last cosigned (given in the body), or a fork", body = String, content_type = "text/x.tlog.size"),
        (status = 413, description = "Body over 16 KiB", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The consistency proof does not verify", body = String, content_type = "text/plain; charset=utf-8"),
        (status = 500, description = "The witness could not read or persist its state", content(
            (String = "text/plain; charset=utf-8"),
            (ProblemDocument = "application/problem+json"),
        )),
    )
)]
pub async fn add_checkpoint(State(state): State<AppState>, request: Request) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > REQUEST_BYTES_MAX as u64) {
        return body_too_large(REQUEST_BYTES_MAX as u64).into_response();
    }
    let body = match axum::body::to_bytes(request.into_body(), REQUEST_BYTES_MAX).await {
        Ok(body) => body,
        Err(_) => return body_too_large(REQUEST_BYTES_MAX as u64).into_response(),
    };
    let Some(witness) = state.federation.witness().cloned() else {
        return witness_response(&WitnessAnswer::UnknownLog(
            "this ledger has no partners: it witnesses no log".to_string(),
        ));
    };
    // The witness verifies a signature and persists its state (fsync): off the executor.
    let answer =
        tokio::task::spawn_blocking(move || witness.add_checkpoint(&body, now_unix_s())).await;
    match answer {
        Ok(answer) => {
            if answer.status() != 200 {
                tracing::info!(status = answer.status(), answer = ?answer, "witness request refused");
            }
            witness_response(&answer)
        }
        Err(error) => Problem::internal(format!("the witness failed: {error}")).into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// Background synchronisation
// ---------------------------------------------------------------------------------------

/// The running background tasks; [`FederationTasks::shutdown`] stops them.
pub struct FederationTasks {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl FederationTasks {
    /// Asks every task to stop and waits for it (a pull in progress finishes first).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let _ = handle.await;
        }
    }

    /// How many partners are being synchronised.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }
}

/// The wait before the next cycle after `failures` failed cycles in a row: the interval,
/// doubled per failure up to `backoff_max`.
pub fn next_delay(interval: Duration, backoff_max: Duration, failures: u32) -> Duration {
    if failures == 0 {
        return interval;
    }
    let factor = 1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX);
    interval
        .saturating_mul(factor)
        .min(backoff_max.max(interval))
}

/// Starts one background task per partner that has a URL, on the current tokio runtime.
/// The first cycle runs at once.
pub fn start(state: &AppState) -> FederationTasks {
    let (stop, stopped) = watch::channel(false);
    let interval = Duration::from_secs(state.config.sync_interval_s.max(1));
    let backoff_max = Duration::from_secs(state.config.sync_backoff_max_s);
    let handles = state
        .federation
        .partners
        .iter()
        .filter(|partner| partner.config.url.is_some())
        .map(|partner| {
            let node = state.node.clone();
            let partner = partner.clone();
            let home_dir = state.federation.home_dir.clone();
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                tracing::info!(partner = partner.origin(), url = ?partner.config.url, "synchronising with partner");
                loop {
                    let cycle = {
                        let (node, partner, home_dir) =
                            (node.clone(), partner.clone(), home_dir.clone());
                        tokio::task::spawn_blocking(move || {
                            sync_once(&node, &home_dir, &partner)
                        })
                    };
                    if let Err(error) = cycle.await {
                        tracing::error!(partner = partner.origin(), %error, "a sync cycle panicked");
                        let mut activity = lock(&partner.activity);
                        activity.consecutive_failures += 1;
                        activity.last_error = Some(format!("the sync cycle failed: {error}"));
                    }
                    let failures = partner.activity().consecutive_failures;
                    let delay = next_delay(interval, backoff_max, failures);
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        _ = stopped.changed() => break,
                    }
                }
            })
        })
        .collect();
    FederationTasks { stop, handles }
}

/// One cycle for one partner, blocking: pull its log into the mirror, then have its witness
/// cosign this ledger's checkpoint if that changed since the last cosignature.
pub fn sync_once(node: &Node, home_dir: &std::path::Path, partner: &Partner) {
    let Some(url) = partner.config.url.clone() else {
        return;
    };
    let mut failures = Vec::new();
    let options = PullOptions {
        retries_max: 2,
        backoff_ms_initial: 200,
        backoff_ms_max: 2_000,
        ..PullOptions::default()
    };
    // Only this task takes the mirror; handlers read through the reader meanwhile.
    let pulled = {
        let mut mirror = lock(&partner.mirror);
        HttpLog::new(&url).and_then(|log| mirror.pull(&log, &options, &mut |_| {}))
    };
    let mut new_entries = 0;
    match pulled {
        Ok(report) => {
            new_entries = report.cursor_after - report.cursor_before;
            if new_entries > 0 {
                tracing::info!(
                    partner = partner.origin(),
                    new_entries,
                    held = report.cursor_after,
                    size = report.checkpoint.size,
                    "partner entries verified and mirrored"
                );
            }
        }
        Err(error) => {
            match error.kind() {
                SyncErrorKind::Fork | SyncErrorKind::RuleViolation | SyncErrorKind::Alarm => {
                    tracing::error!(partner = partner.origin(), %error, "partner alarm")
                }
                _ => tracing::warn!(partner = partner.origin(), %error, "pull failed"),
            }
            failures.push(format!("pull: {error}"));
            lock(&partner.activity).pulls_failed_total += 1;
        }
    }
    if new_entries > 0 {
        partner.recognitions_due.store(true, Ordering::SeqCst);
    }
    if partner.recognitions_due.load(Ordering::SeqCst) {
        match withdraw_revoked_recognitions(node, partner) {
            Ok(_) => partner.recognitions_due.store(false, Ordering::SeqCst),
            Err(error) => {
                tracing::warn!(partner = partner.origin(), %error, "recognition withdrawal failed");
                failures.push(format!("recognitions: {error}"));
            }
        }
    }
    if partner.config.witness_vkey.is_some() {
        if let Some(current) = node.checkpoint() {
            if partner.lines_for(&current.note_text).is_none() {
                let cosigned = HttpWitness::new(&url).and_then(|witness| {
                    request_cosignature(home_dir, node, &partner.config, &witness)
                });
                match cosigned {
                    Ok(cosigned) => {
                        tracing::info!(
                            partner = partner.origin(),
                            size = cosigned.checkpoint.size,
                            "checkpoint cosigned by the partner's witness"
                        );
                        partner.set_cosigned(cosigned.note_text);
                    }
                    Err(error) => {
                        tracing::warn!(partner = partner.origin(), %error, "cosignature failed");
                        failures.push(format!("cosignature: {error}"));
                    }
                }
            }
        }
    }
    let mut activity = lock(&partner.activity);
    activity.last_attempt_unix_s = Some(now_unix_s());
    activity.entries_pulled_total += new_entries;
    if failures.is_empty() {
        activity.consecutive_failures = 0;
        activity.last_error = None;
    } else {
        activity.consecutive_failures = activity.consecutive_failures.saturating_add(1);
        activity.last_error = Some(failures.join("; "));
    }
}

/// 互认 follows the origin: signs and submits, as the home authority, the withdrawal of every
/// active recognition of `partner`'s credentials that its mirror now holds revoked. The
/// withdrawal's id and content are derived from the recognition and the revocation, so
/// doing this again (another cycle, a restart) submits the same entry: a duplicate. Returns
/// how many recognitions were newly withdrawn.
pub fn withdraw_revoked_recognitions(
    node: &Node,
    partner: &Partner,
) -> Result<usize, skill_ledger_sync::WithdrawalError> {
    // Listing the recognitions scans the career records: skip it while the partner has
    // revoked nothing new since the last complete check.
    let revoked = partner
        .reader()
        .stats()?
        .get(skill_ledger_domain::stat::REVOKED)
        .copied()
        .unwrap_or(0);
    if *lock(&partner.revocations_checked) == Some(revoked) {
        return Ok(0);
    }
    let withdrawn = skill_ledger_sync::withdraw_revoked_recognitions(node, partner.reader())?;
    *lock(&partner.revocations_checked) = Some(revoked);
    Ok(withdrawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_the_interval_up_to_its_bound() {
        let s = Duration::from_secs;
        assert_eq!(next_delay(s(10), s(300), 0), s(10));
        assert_eq!(next_delay(s(10), s(300), 1), s(20));
        assert_eq!(next_delay(s(10), s(300), 3), s(80));
        assert_eq!(next_delay(s(10), s(300), 5), s(300));
        assert_eq!(next_delay(s(10), s(300), u32::MAX), s(300));
        assert_eq!(
            next_delay(s(10), s(5), 2),
            s(10),
            "never below the interval"
        );
    }
}
