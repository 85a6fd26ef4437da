//! Witnessing per C2SP tlog-witness: each partner cosigns the other's checkpoints.
//!
//! **Witness side** ([`Witness`]): `add-checkpoint` requests are parsed
//! ([`AddCheckpointRequest`]), the checkpoint's signature is checked against the partner's
//! configured key, the old size against the latest checkpoint this witness cosigned for that
//! origin, the consistency proof against that checkpoint's root; then a `cosignature/v1` line
//! is returned and the new checkpoint persisted (`witness/<origin>/checkpoint`, atomically,
//! under a lock so two requests cannot roll each other back). [`WitnessAnswer`] carries the
//! HTTP status the spec asks for: 200, 400, 403, 404, 409 (with the known size,
//! `text/x.tlog.size`) or 422. A signed checkpoint of the same size as the cosigned one with a
//! different root is a fork: it is also recorded as evidence in `mirrors/<origin>/evidence/`.
//!
//! **Client side** ([`request_cosignature`]): builds the request from the home node's latest
//! checkpoint and a consistency proof from the size the witness last cosigned, follows one
//! 409 to the size the witness knows, verifies the returned cosignature with the partner's
//! `witness_vkey`, and persists the home checkpoint with the cosignature attached
//! (`cosigned/<partner origin>/checkpoint`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::prelude::{Engine, BASE64_STANDARD};
use ed25519_dalek::SigningKey;
use skill_ledger_log::{
    parse_and_verify_checkpoint, parse_and_verify_checkpoint_with_any, parse_signer_key_text,
    signer_key_text, verify_consistency, Checkpoint, Hash, SignedCheckpoint,
};
use skill_ledger_node::Node;

use crate::config::{Home, PartnerConfig, Partners};
use crate::cosignature::{parse_signature_line, split_note, CosignatureVerifier, Cosigner};
use crate::error::{Result, SyncError, SyncErrorKind};
use crate::evidence::{self, EvidenceKind};
use crate::fsutil;
use crate::transport::FetchResult;

/// Largest request body a witness reads.
pub const REQUEST_BYTES_MAX: usize = 16 * 1024;
/// Most consistency proof lines (the spec's bound).
pub const PROOF_LINES_MAX: usize = 63;
/// The witness key file of a ledger, created on first use.
pub const WITNESS_KEY_FILE: &str = "keys/witness.key";
/// Content type of a 409 answer.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

fn witness_error(message: impl Into<String>) -> SyncError {
    SyncError::new(SyncErrorKind::Witness, message)
}

/// The name of a ledger's witness: `<origin>/witness`.
pub fn witness_name(origin: &str) -> String {
    format!("{origin}/witness")
}

/// A parsed `add-checkpoint` request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    /// The checkpoint, a signed note (possibly with several signatures).
    pub checkpoint_note: String,
}

impl AddCheckpointRequest {
    /// `old <size>\n`, one base64 hash per line, an empty line, the checkpoint note.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            text.push_str(&BASE64_STANDARD.encode(hash));
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&self.checkpoint_note);
        text.into_bytes()
    }

    /// Parses a request body; the error (kind `Witness`) says what is malformed (an HTTP 400).
    pub fn parse(body: &[u8]) -> Result<AddCheckpointRequest, SyncError> {
        AddCheckpointRequest::parse_text(body)
            .map_err(|why| SyncError::new(SyncErrorKind::Witness, why))
    }

    fn parse_text(body: &[u8]) -> Result<AddCheckpointRequest, String> {
        if body.len() > REQUEST_BYTES_MAX {
            return Err(format!("request body over {REQUEST_BYTES_MAX} bytes"));
        }
        let text =
            std::str::from_utf8(body).map_err(|_| "request body is not UTF-8".to_string())?;
        let (head, checkpoint_note) = text
            .split_once("\n\n")
            .ok_or_else(|| "no empty line before the checkpoint".to_string())?;
        let mut lines = head.split('\n');
        let old_line = lines.next().unwrap_or_default();
        let old_text = old_line
            .strip_prefix("old ")
            .ok_or_else(|| format!("first line {old_line:?} is not `old <size>`"))?;
        if old_text.is_empty()
            || !old_text.bytes().all(|b| b.is_ascii_digit())
            || (old_text.len() > 1 && old_text.starts_with('0'))
        {
            return Err(format!(
                "old size {old_text:?} is not a decimal without leading zeros"
            ));
        }
        let old_size: u64 = old_text
            .parse()
            .map_err(|_| format!("old size {old_text:?} is out of range"))?;
        let mut proof = Vec::new();
        for (number, line) in lines.enumerate() {
            if proof.len() == PROOF_LINES_MAX {
                return Err(format!("more than {PROOF_LINES_MAX} proof lines"));
            }
            let hash = BASE64_STANDARD
                .decode(line)
                .ok()
                .and_then(|bytes| Hash::try_from(bytes).ok())
                .ok_or_else(|| format!("proof line {} is not a base64 hash", number + 1))?;
            proof.push(hash);
        }
        if old_size == 0 && !proof.is_empty() {
            return Err("a proof from size 0 must be empty".to_string());
        }
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            checkpoint_note: checkpoint_note.to_string(),
        })
    }
}

/// The witness's answer, with the HTTP status the spec gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WitnessAnswer {
    /// 200: the cosignature line(s).
    Cosigned { lines: String },
    /// 400: the request is malformed, or the old size exceeds the checkpoint size.
    BadRequest(String),
    /// 403: no signature verifies with the log's key.
    Forbidden(String),
    /// 404: the origin is not a log this witness witnesses.
    UnknownLog(String),
    /// 409: the old size is not the size this witness last cosigned (given here), or the
    /// checkpoint has that size with another root.
    Conflict { known_size: u64, detail: String },
    /// 422: the consistency proof does not verify.
    Unprocessable(String),
    /// 500: the witness could not persist its state; nothing was cosigned.
    Failed(String),
}

impl WitnessAnswer {
    pub fn status(&self) -> u16 {
        match self {
            WitnessAnswer::Cosigned { .. } => 200,
            WitnessAnswer::BadRequest(_) => 400,
            WitnessAnswer::Forbidden(_) => 403,
            WitnessAnswer::UnknownLog(_) => 404,
            WitnessAnswer::Conflict { .. } => 409,
            WitnessAnswer::Unprocessable(_) => 422,
            WitnessAnswer::Failed(_) => 500,
        }
    }

    pub fn content_type(&self) -> &'static str {
        match self {
            WitnessAnswer::Conflict { .. } => SIZE_CONTENT_TYPE,
            _ => "text/plain; charset=utf-8",
        }
    }

    /// The response body: the lines, the known size and a newline, or a message.
    pub fn body(&self) -> Vec<u8> {
        match self {
            WitnessAnswer::Cosigned { lines } => lines.clone().into_bytes(),
            WitnessAnswer::Conflict { known_size, .. } => format!("{known_size}\n").into_bytes(),
            WitnessAnswer::BadRequest(message)
            | WitnessAnswer::Forbidden(message)
            | WitnessAnswer::UnknownLog(message)
            | WitnessAnswer::Unprocessable(message)
            | WitnessAnswer::Failed(message) => format!("{message}\n").into_bytes(),
        }
    }
}

/// Loads the ledger's witness key (`keys/witness.key`), creating it (mode 0600) if absent.
pub fn load_or_create_cosigner(home: &Home) -> Result<Cosigner> {
    let path = home.dir.join(WITNESS_KEY_FILE);
    let name = witness_name(&home.origin);
    let key = match fsutil::read_optional(&path)? {
        Some(bytes) => {
            let text = String::from_utf8(bytes)
                .map_err(|_| witness_error(format!("{} is not UTF-8", path.display())))?;
            let (key_name, key) = parse_signer_key_text(text.trim())
                .map_err(|error| witness_error(format!("{}: {error}", path.display())))?;
            if key_name != name {
                return Err(witness_error(format!(
                    "{} names {key_name:?}, expected {name:?}",
                    path.display()
                )));
            }
            key
        }
        None => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            write_secret(&path, &signer_key_text(&name, &key))?;
            key
        }
    };
    Cosigner::new(&name, key)
}

fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| SyncError::io(parent, "create", error))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| SyncError::io(path, "create", error))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|error| SyncError::io(path, "write", error))
}

/// The witness of a home ledger: cosigns the checkpoints of its configured partners.
pub struct Witness {
    home_dir: PathBuf,
    cosigner: Cosigner,
    /// Log origin → checkpoint verifier key text.
    logs: BTreeMap<String, String>,
    /// Held across check-and-persist so concurrent requests cannot roll the state back.
    state: Mutex<()>,
}

impl Witness {
    /// The witness of the ledger in `home.dir`, for the partners of its `partners.toml`.
    pub fn open(home: &Home) -> Result<Witness> {
        let partners = Partners::load(home)?;
        let logs = partners
            .partners
            .iter()
            .map(|partner| (partner.origin.clone(), partner.vkey.clone()))
            .collect();
        Ok(Witness::new(
            &home.dir,
            load_or_create_cosigner(home)?,
            logs,
        ))
    }

    /// A witness with an explicit key and log list (state kept under `home_dir/witness/`).
    pub fn new(home_dir: &Path, cosigner: Cosigner, logs: BTreeMap<String, String>) -> Witness {
        Witness {
            home_dir: home_dir.to_path_buf(),
            cosigner,
            logs,
            state: Mutex::new(()),
        }
    }

    /// The cosigner verifier key to give partners (`witness_vkey` in their partners.toml).
    pub fn verifier_key_text(&self) -> String {
        self.cosigner.verifier_key_text()
    }

    fn state_dir(&self, origin: &str) -> PathBuf {
        self.home_dir.join("witness").join(origin)
    }

    /// The keys `origin`'s checkpoints are verified with: the configured one unless the
    /// partner's log retired it, and the keys this home's mirror learned from that log
    /// (`mirrors/<origin>/authority-keys`, written by the mirror as it folds): the witness
    /// follows the partner's authority key rotations without a change of partners.toml.
    /// With `held`, retired keys count too (a checkpoint cosigned before the rotation).
    fn log_keys(&self, origin: &str, vkey: &str, held: bool) -> Vec<[u8; 32]> {
        let mut trusted = Vec::new();
        let mut retired = Vec::new();
        let path = self
            .home_dir
            .join("mirrors")
            .join(origin)
            .join(crate::mirror::AUTHORITY_KEYS_FILE);
        if let Ok(text) = std::fs::read_to_string(&path) {
            for line in text.lines() {
                let (kind, key) = line.split_once(' ').unwrap_or_default();
                let Some(key) = hex::decode(key)
                    .ok()
                    .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                else {
                    continue;
                };
                match kind {
                    "trusted" => trusted.push(key),
                    "retired" => retired.push(key),
                    _ => {}
                }
            }
        }
        if let Ok(configured) = skill_ledger_log::verifier_public_key(vkey) {
            if held || !retired.contains(&configured) {
                trusted.push(configured);
            }
        }
        if held {
            trusted.extend(retired);
        }
        trusted
    }

    /// The latest checkpoint this witness cosigned for `origin`.
    pub fn latest(&self, origin: &str) -> Result<Option<SignedCheckpoint>> {
        let Some(vkey) = self.logs.get(origin) else {
            return Ok(None);
        };
        let path = self.state_dir(origin).join("checkpoint");
        let Some(bytes) = fsutil::read_optional(&path)? else {
            return Ok(None);
        };
        let note_text = String::from_utf8(bytes)
            .map_err(|_| witness_error(format!("{} is not UTF-8", path.display())))?;
        let keys = self.log_keys(origin, vkey, true);
        let checkpoint = parse_and_verify_checkpoint_with_any(&note_text, origin, &keys)
            .map_err(|error| witness_error(format!("{}: {error}", path.display())))?;
        Ok(Some(SignedCheckpoint {
            checkpoint,
            note_text,
        }))
    }

    /// Handles an `add-checkpoint` request body at time `now_unix_s`.
    pub fn add_checkpoint(&self, body: &[u8], now_unix_s: u64) -> WitnessAnswer {
        let request = match AddCheckpointRequest::parse(body) {
            Ok(request) => request,
            Err(error) => return WitnessAnswer::BadRequest(error.message().to_string()),
        };
        let origin = request
            .checkpoint_note
            .split('\n')
            .next()
            .unwrap_or_default()
            .to_string();
        let Some(vkey) = self.logs.get(&origin) else {
            return WitnessAnswer::UnknownLog(format!(
                "{origin:?} is not a log this witness witnesses"
            ));
        };
        let keys = self.log_keys(&origin, vkey, false);
        let checkpoint =
            match parse_and_verify_checkpoint_with_any(&request.checkpoint_note, &origin, &keys) {
                Ok(checkpoint) => checkpoint,
                Err(error) => {
                    return WitnessAnswer::Forbidden(format!(
                        "the checkpoint does not verify with the key of {origin}: {error}"
                    ))
                }
            };
        if request.old_size > checkpoint.size {
            return WitnessAnswer::BadRequest(format!(
                "old size {} exceeds the checkpoint size {}",
                request.old_size, checkpoint.size
            ));
        }
        let _guard = match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let latest = match self.latest(&origin) {
            Ok(latest) => latest,
            Err(error) => return WitnessAnswer::Failed(error.to_string()),
        };
        let known_size = latest.as_ref().map_or(0, |held| held.checkpoint.size);
        if request.old_size != known_size {
            return WitnessAnswer::Conflict {
                known_size,
                detail: format!(
                    "old size {} is not the size last cosigned ({known_size})",
                    request.old_size
                ),
            };
        }
        if let Some(held) = &latest {
            if let Err(answer) = self.check_consistency(held, &checkpoint, &request, now_unix_s) {
                return answer;
            }
        }
        let lines = match self.cosigner.cosign(&checkpoint.body(), now_unix_s) {
            Ok(lines) => lines,
            Err(error) => return WitnessAnswer::Failed(error.to_string()),
        };
        // Persist before answering: a cosignature the witness forgot could be contradicted.
        if let Err(error) = fsutil::write_atomically(
            &self.state_dir(&origin),
            "checkpoint",
            request.checkpoint_note.as_bytes(),
        ) {
            return WitnessAnswer::Failed(error.to_string());
        }
        WitnessAnswer::Cosigned { lines }
    }

    fn check_consistency(
        &self,
        held: &SignedCheckpoint,
        checkpoint: &Checkpoint,
        request: &AddCheckpointRequest,
        now_unix_s: u64,
    ) -> Result<(), WitnessAnswer> {
        let old = &held.checkpoint;
        if checkpoint.size == old.size {
            if checkpoint.root != old.root {
                let detail = format!(
                    "two signed checkpoints of size {} with different roots",
                    old.size
                );
                // Proof of a fork: keep both notes with the partner's other evidence.
                let recorded = evidence::record(
                    &self
                        .home_dir
                        .join("mirrors")
                        .join(&old.origin)
                        .join("evidence"),
                    EvidenceKind::Fork,
                    &old.origin,
                    &format!("witness: {detail}"),
                    &[
                        ("held.checkpoint", held.note_text.as_bytes()),
                        ("seen.checkpoint", request.checkpoint_note.as_bytes()),
                    ],
                    now_unix_s,
                );
                if let Err(error) = recorded {
                    tracing::error!(%error, "could not record fork evidence");
                }
                return Err(WitnessAnswer::Conflict {
                    known_size: old.size,
                    detail,
                });
            }
            if !request.proof.is_empty() {
                return Err(WitnessAnswer::Unprocessable(
                    "a proof between equal sizes must be empty".to_string(),
                ));
            }
            return Ok(());
        }
        verify_consistency(
            old.size,
            checkpoint.size,
            old.root,
            checkpoint.root,
            &request.proof,
        )
        .map_err(|error| {
            WitnessAnswer::Unprocessable(format!(
                "the consistency proof from the cosigned size {} does not verify: {error}",
                old.size
            ))
        })
    }
}

/// A partner's witness as the client sees it: one call, status and body back.
pub trait WitnessTransport {
    fn add_checkpoint(&self, body: &[u8]) -> FetchResult<(u16, Vec<u8>)>;
    fn describe(&self) -> String;
}

/// A witness in this process (tests, and `sync cosign --from-dir`).
pub struct LocalWitness<'a> {
    pub witness: &'a Witness,
    pub now_unix_s: u64,
}

impl WitnessTransport for LocalWitness<'_> {
    fn add_checkpoint(&self, body: &[u8]) -> FetchResult<(u16, Vec<u8>)> {
        let answer = self.witness.add_checkpoint(body, self.now_unix_s);
        Ok((answer.status(), answer.body()))
    }

    fn describe(&self) -> String {
        format!("witness {}", self.witness.cosigner.name())
    }
}

/// The home checkpoint with a partner's cosignature, as persisted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignedCheckpoint {
    pub checkpoint: Checkpoint,
    /// The home's signed note with the cosignature line(s) appended.
    pub note_text: String,
    /// The cosignature's timestamp.
    pub cosigned_unix_s: u64,
    pub path: PathBuf,
}

/// `cosigned/<partner origin>/checkpoint` in the home directory.
pub fn cosigned_path(home_dir: &Path, partner_origin: &str) -> PathBuf {
    home_dir
        .join("cosigned")
        .join(partner_origin)
        .join("checkpoint")
}

/// The latest home checkpoint cosigned by `partner`'s witness, as persisted.
pub fn load_cosigned(
    home_dir: &Path,
    node: &Node,
    partner: &PartnerConfig,
) -> Result<Option<Checkpoint>> {
    let path = cosigned_path(home_dir, &partner.origin);
    let Some(bytes) = fsutil::read_optional(&path)? else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| witness_error(format!("{} is not UTF-8", path.display())))?;
    parse_and_verify_checkpoint(&text, node.verifier_key_text())
        .map(Some)
        .map_err(|error| witness_error(format!("{}: {error}", path.display())))
}

/// Asks `partner`'s witness to cosign the home node's latest checkpoint, verifies the answer
/// with the partner's `witness_vkey`, and persists the cosigned checkpoint.
pub fn request_cosignature(
    home_dir: &Path,
    node: &Node,
    partner: &PartnerConfig,
    witness: &dyn WitnessTransport,
) -> Result<CosignedCheckpoint> {
    let verifier_text = partner.witness_vkey.as_deref().ok_or_else(|| {
        SyncError::new(
            SyncErrorKind::Config,
            format!(
                "partner {} has no witness_vkey in partners.toml: its cosignatures cannot be checked",
                partner.origin
            ),
        )
    })?;
    let verifier = CosignatureVerifier::from_vkey(verifier_text)?;
    let signed = node
        .checkpoint()
        .ok_or_else(|| witness_error("the home ledger has no signed checkpoint yet"))?;
    let checkpoint = signed.checkpoint.clone();
    let mut old_size = load_cosigned(home_dir, node, partner)?.map_or(0, |held| held.size);
    // At most one 409 is followed: the witness tells the size it knows.
    for attempt in 0..2 {
        if old_size > checkpoint.size {
            return Err(witness_error(format!(
                "witness {} has cosigned size {old_size} of {}, more than the home log's {}: \
                 the home log was rolled back or the witness saw another tree",
                witness.describe(),
                checkpoint.origin,
                checkpoint.size
            )));
        }
        let proof = if old_size == 0 || old_size == checkpoint.size {
            Vec::new()
        } else {
            node.tree_reader()
                .consistency_proof(old_size, checkpoint.size)
                .map_err(|error| witness_error(format!("consistency proof: {error}")))?
        };
        let request = AddCheckpointRequest {
            old_size,
            proof,
            checkpoint_note: signed.note_text.clone(),
        };
        let (status, body) = witness
            .add_checkpoint(&request.to_bytes())
            .map_err(|error| {
                SyncError::new(
                    SyncErrorKind::Transport,
                    format!("{}: {error}", witness.describe()),
                )
            })?;
        let text = String::from_utf8_lossy(&body);
        match status {
            200 => return attach(home_dir, &signed, partner, &verifier, &text),
            409 if attempt == 0 => {
                old_size = text.trim().parse().map_err(|_| {
                    witness_error(format!(
                        "{} answered 409 without a size: {text:?}",
                        witness.describe()
                    ))
                })?;
            }
            status => {
                return Err(witness_error(format!(
                    "{} refused checkpoint {} of {} (HTTP {status}): {}",
                    witness.describe(),
                    checkpoint.size,
                    checkpoint.origin,
                    text.trim()
                )))
            }
        }
    }
    Err(witness_error(format!(
        "{} kept answering 409 for checkpoint {}",
        witness.describe(),
        checkpoint.size
    )))
}

/// Verifies the returned lines and persists the home note with the valid cosignature(s).
fn attach(
    home_dir: &Path,
    signed: &SignedCheckpoint,
    partner: &PartnerConfig,
    verifier: &CosignatureVerifier,
    response: &str,
) -> Result<CosignedCheckpoint> {
    let (body, _) = split_note(&signed.note_text)?;
    let mut valid = Vec::new();
    let mut time = 0;
    for line in response
        .split_inclusive('\n')
        .filter(|l| !l.trim().is_empty())
    {
        let parsed = parse_signature_line(line)?;
        if !verifier.is_mine(&parsed) {
            continue; // The spec: ignore cosignatures from unknown keys.
        }
        time = verifier.verify(body, &parsed)?;
        valid.push(if line.ends_with('\n') {
            line.to_string()
        } else {
            format!("{line}\n")
        });
    }
    if valid.is_empty() {
        return Err(witness_error(format!(
            "the witness of {} returned no cosignature by {}",
            partner.origin,
            verifier.name()
        )));
    }
    let mut note_text = signed.note_text.clone();
    for line in &valid {
        note_text.push_str(line);
    }
    let path = cosigned_path(home_dir, &partner.origin);
    let dir = path.parent().unwrap_or(home_dir);
    fsutil::write_atomically(dir, "checkpoint", note_text.as_bytes())?;
    Ok(CosignedCheckpoint {
        checkpoint: signed.checkpoint.clone(),
        note_text,
        cosigned_unix_s: time,
        path,
    })
}

/// Verifies every cosignature by `verifier` on a checkpoint note; returns their timestamps.
pub fn verify_cosignatures(note_text: &str, verifier: &CosignatureVerifier) -> Result<Vec<u64>> {
    let (body, lines) = split_note(note_text)?;
    let mut times = Vec::new();
    for line in lines {
        let parsed = parse_signature_line(line)?;
        if verifier.is_mine(&parsed) {
            times.push(verifier.verify(body, &parsed)?);
        }
    }
    Ok(times)
}
