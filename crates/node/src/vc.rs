//! W3C Verifiable Credentials 2.0 exported from the ledger (the `skill-ledger-vc` crate makes
//! and checks the documents; this module finds what goes in them).
//!
//! * **The issuer.** The authority's VC issuer key is its own Ed25519 key, kept in
//!   `keys/vc-issuer.key` (64 hex characters, the seed) and registered in the log by a
//!   `VcIssuerKeySet` signed by the authority key, which names the controller document id:
//!   `{base}/v1/vc/issuer`, where `{base}` is `[vc] base_url` of `ledger.toml` when the key
//!   was set up ([`Node::vc_setup`]). The controller document lists every VC issuer key the
//!   log holds (oldest first), so a VC signed before a rotation keeps verifying; VCs are signed
//!   with the last one. Every URL of a VC (its id, its status list) is under the `{base}` of
//!   the last logged controller, never under a request's `Host`.
//! * **The credential.** Everything comes from the credential's record and its issuing entry:
//!   the pseudonymous subject and the name commitment (never a name or an identity number),
//!   the occupation, the level, the route, the body, and the evidence: the entry's index and
//!   leaf hash and the signed checkpoint it is proven against (the latest one; a credential
//!   no signed checkpoint covers yet is refused, `VcExportError::NotYetCheckpointed`).
//! * **The status.** A credential's index in the W3C Bitstring Status Lists of its ledger is
//!   the index of the entry that issued it (a `LevelCertified`, or a `RecognitionRecorded` for
//!   a recognised partner credential): stable forever, and checkable against the evidence.
//!   List `n` holds the entries `[n·2²⁰, (n+1)·2²⁰)`. Its bits are the projections' `x` keys
//!   (a credential revoked, by itself or by a cascade, or a recognition withdrawn); a list is
//!   regenerated and signed when its bits changed since it was last made, and kept otherwise.

use std::sync::Mutex;

use ed25519_dalek::{SigningKey, VerifyingKey};
use skill_ledger_domain::{
    CertificateNumber, CredentialRecord, EventKind, RecognitionRecord, Registry, SubjectId,
    VcIssuerKey, VcIssuerKeySet,
};
use skill_ledger_vc::{
    ControllerDocument, LedgerEvidence, RecognisedCredential, SkillCredential, StatusEntry,
    StatusList, Suite,
};

use crate::error::{NodeError, NodeErrorKind};
use crate::node::{write_secret_file, Node};
use crate::pipeline::SubmitError;

/// The path of the controller document under a ledger's public base URL.
pub const VC_ISSUER_PATH: &str = "/v1/vc/issuer";
/// The path of status list `n` is this, then `n`.
pub const VC_STATUS_PATH: &str = "/v1/vc/status/";

/// Entries per status list (the bits of one `BitstringStatusListCredential`).
pub const STATUS_LIST_ENTRIES: u64 = StatusList::BITS;

/// Why a VC could not be made.
#[derive(Debug, thiserror::Error)]
pub enum VcExportError {
    /// No `VcIssuerKeySet` is logged yet.
    #[error(
        "this ledger has no VC issuer key yet: run `skill-ledger vc setup --dir DIR` (with \
         `[vc] base_url` in ledger.toml or `--base-url`)"
    )]
    NoIssuerKey,
    /// The credential is not on this ledger.
    #[error("credential {0} is not on this ledger")]
    UnknownCredential(CertificateNumber),
    /// The issuing entry is logged but no signed checkpoint covers it yet.
    #[error("entry {entry_index} is not covered by a signed checkpoint yet: retry in a moment")]
    NotYetCheckpointed { entry_index: u64 },
    /// The base URL is not a plain `http(s)://host[:port][/path]`.
    #[error("VC base URL {url:?}: {reason}")]
    BadBaseUrl { url: String, reason: String },
    /// The VC key in force is not in the key files.
    #[error(
        "the VC issuer key logged at entry {entry_index} is not in {path}: restore that file \
         from the ledger's backup, or set up a new key (`skill-ledger vc setup --rotate`)"
    )]
    KeyFileMismatch { entry_index: u64, path: String },
    /// Submitting the `VcIssuerKeySet` failed.
    #[error("logging the VC issuer key failed: {0}")]
    Submit(#[from] SubmitError),
    /// The document could not be made.
    #[error(transparent)]
    Vc(#[from] skill_ledger_vc::VcError),
    #[error(transparent)]
    Node(#[from] NodeError),
}

/// What [`Node::vc_setup`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VcSetup {
    /// The key and controller in force were already these: nothing logged.
    Unchanged(VcIssuerKey),
    /// A `VcIssuerKeySet` was logged (a new key, or the same key under a new base URL).
    Logged(VcIssuerKey),
}

/// The VC issuer key in force, with its secret.
pub struct VcIssuer {
    pub logged: VcIssuerKey,
    pub key: SigningKey,
    /// The controller document: every logged key, oldest first.
    pub controller: ControllerDocument,
}

impl VcIssuer {
    /// The public base URL the controller id is under.
    pub fn base_url(&self) -> &str {
        base_of_controller(&self.logged.controller)
    }

    /// The verification method id of the key in force.
    pub fn verification_method(&self) -> String {
        self.controller.method_id(&self.key.verifying_key())
    }

    pub fn status_list_url(&self, list: u64) -> String {
        format!("{}{VC_STATUS_PATH}{list}", self.base_url())
    }

    pub fn credential_url(&self, number: &CertificateNumber) -> String {
        format!("{}/v1/credentials/{number}/vc", self.base_url())
    }

    /// The status list entry of the credential issued by entry `entry_index`.
    pub fn status_entry(&self, entry_index: u64) -> StatusEntry {
        StatusEntry {
            list_url: self.status_list_url(entry_index / STATUS_LIST_ENTRIES),
            index: entry_index % STATUS_LIST_ENTRIES,
        }
    }
}

fn base_of_controller(controller: &str) -> &str {
    controller
        .strip_suffix(VC_ISSUER_PATH)
        .unwrap_or(controller)
}

/// The checks `[vc] base_url` must pass: `http(s)://host[:port][/path]`, nothing a URL
/// could be misread by (no query, fragment, credentials or white space), no trailing `/`.
pub fn check_vc_base_url(url: &str) -> Result<String, VcExportError> {
    let bad = |reason: &str| VcExportError::BadBaseUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = url.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| bad("must start with http:// or https://"))?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~/:%[]".contains(c);
    if let Some(c) = rest.chars().find(|c| !allowed(*c)) {
        return Err(bad(&format!(
            "has {c:?}: only a host, a port and a path (no query, fragment or credentials)"
        )));
    }
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(bad("names no host"));
    }
    let controller_chars = trimmed.chars().count() + VC_ISSUER_PATH.len();
    if controller_chars > skill_ledger_domain::CONTROLLER_ID_CHARS_MAX {
        return Err(bad(&format!(
            "is too long: the controller id would have {controller_chars} characters, at most {}",
            skill_ledger_domain::CONTROLLER_ID_CHARS_MAX
        )));
    }
    Ok(trimmed.to_string())
}

fn read_seed(path: &std::path::Path) -> Result<Option<SigningKey>, NodeError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(NodeError::io(path, "read key file", error)),
    };
    let seed = crate::node::hex_key(path, &text)?;
    Ok(Some(SigningKey::from_bytes(&seed)))
}

/// The cached signed status lists: (list, the bits set it was made from, the document).
type StatusCache = Vec<(u64, Vec<u64>, std::sync::Arc<serde_json::Value>)>;

/// The node's VC state that is not in the log: the VC issuer key read from its file (read
/// again only when the log names another key), and the signed status lists last made.
#[derive(Default)]
pub struct VcCache {
    key: Mutex<Option<SigningKey>>,
    status_lists: Mutex<StatusCache>,
}

/// The time now as an XML Schema `dateTime` in UTC, to the second.
pub fn xsd_now(unix_s: u64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp(unix_s as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time.format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

impl Node {
    /// Sets up the VC issuer: makes `keys/vc-issuer.key` if there is none (or, with
    /// `rotate`, a new one), then logs a `VcIssuerKeySet` naming the key and the controller
    /// `{base_url}/v1/vc/issuer` unless exactly that is in force already. The key file is
    /// written (and fsynced) before the event is submitted, so a crash in between leaves a key
    /// the next setup logs, never a logged key without its secret.
    pub fn vc_setup(&self, base_url: &str, rotate: bool) -> Result<VcSetup, VcExportError> {
        let base = check_vc_base_url(base_url)?;
        let controller = format!("{base}{VC_ISSUER_PATH}");
        let path = self.paths().vc_issuer_key();
        let next = self.paths().vc_issuer_next_key();
        let logged = self
            .registry()
            .ledger
            .as_ref()
            .and_then(|ledger| ledger.vc_issuer_keys.last().cloned());
        let mut key = read_seed(&path)?;
        if rotate || key.is_none() {
            // A new key goes to the `next` file first; it replaces the key file once logged.
            let fresh = match read_seed(&next)? {
                Some(pending) if !rotate => pending,
                _ => {
                    let _ = std::fs::remove_file(&next);
                    let fresh = SigningKey::generate(&mut rand::rngs::OsRng);
                    write_secret_file(&next, &format!("{}\n", hex::encode(fresh.to_bytes())))?;
                    fresh
                }
            };
            key = Some(fresh);
        }
        let Some(key) = key else {
            unreachable!("a key was read or made above")
        };
        let public_key = key.verifying_key().to_bytes();
        if let Some(logged) = &logged {
            if logged.public_key == public_key && logged.controller == controller {
                return Ok(VcSetup::Unchanged(logged.clone()));
            }
        }
        let signed = self.sign_as_authority(EventKind::VcIssuerKeySet(VcIssuerKeySet {
            controller: controller.clone(),
            public_key,
            date: self.today(),
        }));
        let receipt = self.submit(signed)?;
        if read_seed(&next)?.map(|pending| pending.verifying_key().to_bytes()) == Some(public_key) {
            crate::authority::rename(&next, &path)?;
        }
        Ok(VcSetup::Logged(VcIssuerKey {
            controller,
            public_key,
            date: self.today(),
            entry_index: receipt.index,
        }))
    }

    /// Every logged VC issuer key, oldest first, and the one in force.
    fn logged_vc_keys(&self) -> Result<(Vec<VcIssuerKey>, VcIssuerKey), VcExportError> {
        let keys = self
            .registry()
            .ledger
            .as_ref()
            .map(|ledger| ledger.vc_issuer_keys.clone())
            .unwrap_or_default();
        let logged = keys.last().cloned().ok_or(VcExportError::NoIssuerKey)?;
        Ok((keys, logged))
    }

    /// The VC issuer key in force, its secret and the controller document.
    pub fn vc_issuer(&self) -> Result<VcIssuer, VcExportError> {
        let (keys, logged) = self.logged_vc_keys()?;
        let secret = self.vc_secret(&logged)?;
        let controller = controller_document(&logged.controller, &keys)?;
        Ok(VcIssuer {
            logged,
            key: secret,
            controller,
        })
    }

    /// Every `VcIssuerKeySet` the log holds, oldest first: the entries a verifier proves
    /// against a checkpoint to tie the controller document's keys to the ledger.
    pub fn vc_key_registrations(&self) -> Result<Vec<VcIssuerKey>, VcExportError> {
        Ok(self.logged_vc_keys()?.0)
    }

    /// The secret of the logged key `logged`: the cached one, or the key file (or the
    /// `next` file of a rotation a crash interrupted) that holds it.
    fn vc_secret(&self, logged: &VcIssuerKey) -> Result<SigningKey, VcExportError> {
        let mut cached = self
            .vc_cache
            .key
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(key) = cached.as_ref() {
            if key.verifying_key().to_bytes() == logged.public_key {
                return Ok(key.clone());
            }
        }
        let path = self.paths().vc_issuer_key();
        let secret = [path.clone(), self.paths().vc_issuer_next_key()]
            .iter()
            .map(|candidate| read_seed(candidate))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .find(|key| key.verifying_key().to_bytes() == logged.public_key)
            .ok_or_else(|| VcExportError::KeyFileMismatch {
                entry_index: logged.entry_index,
                path: path.display().to_string(),
            })?;
        *cached = Some(secret.clone());
        Ok(secret)
    }

    /// The controller document of the VC issuer (public: needs no key file).
    pub fn vc_controller_document(&self) -> Result<ControllerDocument, VcExportError> {
        let (keys, logged) = self.logged_vc_keys()?;
        controller_document(&logged.controller, &keys)
    }

    /// The VC of credential `number` of this ledger, signed now with `suite`. A revoked
    /// credential's VC is made too: its status list says revoked.
    pub fn verifiable_credential(
        &self,
        number: &CertificateNumber,
        suite: Suite,
    ) -> Result<serde_json::Value, VcExportError> {
        let issuer = self.vc_issuer()?;
        let Some(credential) = self.credential(number)? else {
            // Logged by a batch the projections have not committed yet: pending, not unknown.
            return Err(match self.logged_past_projections(number)? {
                Some(entry_index) => VcExportError::NotYetCheckpointed { entry_index },
                None => VcExportError::UnknownCredential(*number),
            });
        };
        let registry = self.registry();
        let evidence = self.ledger_evidence(credential.entry_index)?;
        let document = skill_credential(&issuer, &credential, &registry, evidence, None);
        self.signed_now(&issuer, &document, suite)
    }

    /// `document` signed with the VC key in force, dated now by the node's clock.
    fn signed_now(
        &self,
        issuer: &VcIssuer,
        document: &SkillCredential,
        suite: Suite,
    ) -> Result<serde_json::Value, VcExportError> {
        let created = xsd_now(self.now_unix_s());
        Ok(skill_ledger_vc::issue(
            document,
            suite,
            &issuer.key,
            &issuer.verification_method(),
            &created,
        )?)
    }

    /// The VC of a recognised partner credential (互认), issued by this ledger's authority:
    /// `partner` is the origin's record of the credential (from the partner's mirror), and
    /// the recognition is found in the career record of its subject.
    pub fn recognition_credential(
        &self,
        partner: &CredentialRecord,
        partner_body_name: Option<&str>,
        suite: Suite,
    ) -> Result<serde_json::Value, VcExportError> {
        let issuer = self.vc_issuer()?;
        let number = partner.certificate_number;
        let recognition = self
            .recognition_of(&partner.subject, &number)?
            .ok_or(VcExportError::UnknownCredential(number))?;
        let registry = self.registry();
        let evidence = self.ledger_evidence(recognition.entry_index)?;
        // The credential as it counts here: the home occupation, the recognition's entry.
        // (Its status is not in the VC: a withdrawal is the status list's bit.)
        let home = CredentialRecord {
            occupation: recognition.occupation,
            entry_index: recognition.entry_index,
            route: skill_ledger_domain::RouteKind::Recognition,
            ..partner.clone()
        };
        let mut document = skill_credential(
            &issuer,
            &home,
            &registry,
            evidence,
            Some(RecognisedCredential {
                origin: recognition.origin.clone(),
                certificate_number: number.to_string(),
                entry_index: recognition.origin_entry_index,
                leaf_hash: hex::encode(recognition.leaf_hash),
                issue_date: recognition.issued.to_string(),
                recognition_date: recognition.date.to_string(),
            }),
        );
        if let Some(name) = partner_body_name {
            document.subject.issuing_body.name = name.to_string();
        }
        self.signed_now(&issuer, &document, suite)
    }

    /// The entry that issued `number`, among the entries the projections have not committed
    /// yet (a few, between a batch's checkpoint and its projection commit).
    fn logged_past_projections(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<u64>, NodeError> {
        for index in self.projected_size()?..self.entry_count() {
            if let EventKind::LevelCertified(certified) = self.read_event(index)?.event.kind {
                if certified.certificate_number == *number {
                    return Ok(Some(index));
                }
            }
        }
        Ok(None)
    }

    /// The recognition of partner credential `number` held by `subject`, active or withdrawn.
    pub fn recognition_of(
        &self,
        subject: &SubjectId,
        number: &CertificateNumber,
    ) -> Result<Option<RecognitionRecord>, NodeError> {
        Ok(self.career(subject)?.and_then(|career| {
            career
                .recognitions
                .into_iter()
                .rev()
                .find(|recognition| recognition.certificate_number == *number)
        }))
    }

    /// The signed status list credential `list`, made again only when its bits changed.
    pub fn vc_status_list(
        &self,
        list: u64,
    ) -> Result<std::sync::Arc<serde_json::Value>, VcExportError> {
        let issuer = self.vc_issuer()?;
        let from = list.saturating_mul(STATUS_LIST_ENTRIES);
        let to = from.saturating_add(STATUS_LIST_ENTRIES);
        let set = self.status_bits_set(from, to)?;
        let mut cache = self
            .vc_cache
            .status_lists
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let method = issuer.verification_method();
        if let Some((_, _, document)) = cache.iter().find(|(cached, bits, document)| {
            *cached == list
                && *bits == set
                && document["proof"]["verificationMethod"].as_str() == Some(method.as_str())
        }) {
            return Ok(document.clone());
        }
        let document = std::sync::Arc::new(signed_status_list(
            &issuer,
            list,
            &set,
            &xsd_now(self.now_unix_s()),
        )?);
        cache.retain(|(cached, _, _)| *cached != list);
        cache.push((list, set, document.clone()));
        Ok(document)
    }

    /// The evidence of entry `index`: its leaf hash and the latest signed checkpoint, which
    /// must cover it.
    fn ledger_evidence(&self, index: u64) -> Result<LedgerEvidence, VcExportError> {
        let checkpoint = self
            .checkpoint()
            .filter(|signed| signed.checkpoint.size > index)
            .ok_or(VcExportError::NotYetCheckpointed { entry_index: index })?;
        Ok(LedgerEvidence {
            origin: self.origin().to_string(),
            entry_index: index,
            leaf_hash: hex::encode(
                self.tree_reader()
                    .leaf_hash(index)
                    .map_err(NodeError::from)?,
            ),
            tree_size: checkpoint.checkpoint.size,
            root_hash: hex::encode(checkpoint.checkpoint.root),
            checkpoint: checkpoint.note_text.clone(),
        })
    }
}

/// Status list `list` with the bits of `set` (entry indexes), signed with the key in force
/// (eddsa-rdfc-2022) at `created`.
pub fn signed_status_list(
    issuer: &VcIssuer,
    list: u64,
    set: &[u64],
    created: &str,
) -> Result<serde_json::Value, VcExportError> {
    let mut bits = StatusList::new();
    for index in set {
        bits.set(index % STATUS_LIST_ENTRIES)?;
    }
    let unsecured = skill_ledger_vc::status_list_credential(
        &issuer.status_list_url(list),
        &issuer.logged.controller,
        created,
        &bits,
    );
    Ok(skill_ledger_vc::sign_document(
        &unsecured,
        Suite::EddsaRdfc2022,
        &issuer.key,
        &issuer.verification_method(),
        created,
    )?)
}

fn controller_document(
    controller: &str,
    keys: &[VcIssuerKey],
) -> Result<ControllerDocument, VcExportError> {
    let mut public = Vec::with_capacity(keys.len());
    for logged in keys {
        let key = VerifyingKey::from_bytes(&logged.public_key).map_err(|error| {
            NodeError::new(
                NodeErrorKind::Integrity,
                format!(
                    "the VC issuer key logged at entry {} is not a valid Ed25519 key: {error}",
                    logged.entry_index
                ),
            )
        })?;
        if !public.contains(&key) {
            public.push(key);
        }
    }
    Ok(ControllerDocument {
        id: controller.to_string(),
        keys: public,
    })
}

/// The unsigned VC of `credential` (issued by entry `credential.entry_index`).
pub fn skill_credential(
    issuer: &VcIssuer,
    credential: &CredentialRecord,
    registry: &Registry,
    evidence: LedgerEvidence,
    recognised: Option<RecognisedCredential>,
) -> SkillCredential {
    let body = credential.body();
    SkillCredential {
        id: issuer.credential_url(&credential.certificate_number),
        issuer: issuer.logged.controller.clone(),
        valid_from: format!("{}T00:00:00+08:00", credential.issued),
        subject: skill_ledger_vc::CredentialSubject {
            id: format!("urn:skill-ledger:subject:{}", credential.subject.to_hex()),
            name_commitment: hex::encode(credential.name_commitment.0),
            certificate_number: credential.certificate_number.to_string(),
            occupation_code: credential.occupation.to_string(),
            occupation_name: registry
                .catalogue
                .as_ref()
                .and_then(|catalogue| catalogue.get(credential.occupation))
                .map(|occupation| occupation.name.clone())
                .unwrap_or_else(|| credential.occupation.to_string()),
            work_type: credential.work_type.clone(),
            skill_level: credential.level.name_zh().to_string(),
            national_level: credential.level.national_number().map(national_level_name),
            level_rank: credential.level.rank(),
            route: credential.route.id().to_string(),
            issuing_body: skill_ledger_vc::IssuingBody {
                registration_number: body.to_string(),
                name: registry
                    .bodies
                    .get(&body)
                    .map(|record| record.name.clone())
                    .unwrap_or_else(|| body.to_string()),
            },
            issue_date: credential.issued.to_string(),
            recognised,
        },
        status: Some(issuer.status_entry(credential.entry_index)),
        evidence: vec![evidence],
    }
}

/// The national level of a number: 一级 … 五级.
fn national_level_name(number: u8) -> String {
    const NUMERALS: [&str; 6] = ["", "一", "二", "三", "四", "五"];
    format!("{}级", NUMERALS.get(usize::from(number)).unwrap_or(&""))
}
