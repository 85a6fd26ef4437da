//! Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes,
//! Ed25519, plus the persisted "latest signed checkpoint" that makes
//! signing two inconsistent checkpoints impossible, even across restarts.

use crate::error::{LogError, LogErrorKind};
use crate::fsio;
use crate::merkle::{verify_consistency, Hash, TreeReader};
use base64::prelude::{Engine, BASE64_STANDARD};
use ed25519_dalek::SigningKey;
use signed_note::{Note, Signer, StandardVerifier, VerifierList};
use std::path::{Path, PathBuf};

/// File (inside the signer's directory) holding the latest signed note.
pub const CHECKPOINT_FILE_NAME: &str = "checkpoint";

/// Signed-note algorithm byte for Ed25519.
const ALG_ED25519: u8 = 1;

/// A tree head: what a signed checkpoint commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `skills.example.org/ledger`; also the key name.
    pub origin: String,
    /// Number of entries in the tree.
    pub size: u64,
    /// RFC 6962 root of the first `size` entries.
    pub root: Hash,
    /// When it was signed (Unix seconds), in the `time <seconds>` extension line.
    pub time_unix_s: u64,
}

/// A checkpoint with the whole signed note it was parsed from or signed as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub note_text: String,
}

fn malformed(detail: impl Into<String>) -> LogError {
    LogError::new(LogErrorKind::Malformed, detail)
}

impl Checkpoint {
    /// The note body: origin, size, base64 root, `time <seconds>`, each
    /// followed by a newline.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\ntime {}\n",
            self.origin,
            self.size,
            BASE64_STANDARD.encode(self.root),
            self.time_unix_s
        )
    }

    /// Parses a body written by [`Checkpoint::body`]; only that exact,
    /// canonical form is accepted (so one checkpoint has one encoding).
    pub fn parse_body(body: &str) -> Result<Checkpoint, LogError> {
        let lines: Vec<&str> = body
            .strip_suffix('\n')
            .ok_or_else(|| malformed("checkpoint body does not end in a newline"))?
            .split('\n')
            .collect();
        let [origin, size, root, time] = lines[..] else {
            return Err(malformed("checkpoint body must have exactly 4 lines"));
        };
        if !signed_note::is_key_name_valid(origin) {
            return Err(malformed("checkpoint origin is not a valid key name"));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| malformed("checkpoint size is not a decimal number"))?;
        let root: Hash = BASE64_STANDARD
            .decode(root)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| malformed("checkpoint root is not 32 bytes of base64"))?;
        let time_unix_s: u64 = time
            .strip_prefix("time ")
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| malformed("checkpoint lacks the `time <unix seconds>` line"))?;
        let checkpoint = Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            time_unix_s,
        };
        if checkpoint.body() != body {
            return Err(malformed("checkpoint body is not in canonical form"));
        }
        Ok(checkpoint)
    }
}

/// Verifies `note_text` with the key `verifier_key_text`
/// (`name+hex(keyID)+base64(0x01‖pubkey)`) and parses its checkpoint. The
/// origin must equal the key name. Extra signatures by unknown keys (e.g.
/// witness cosignatures) are ignored.
pub fn parse_and_verify_checkpoint(
    note_text: &str,
    verifier_key_text: &str,
) -> Result<Checkpoint, LogError> {
    let verifier = checked_verifier(verifier_key_text)?;
    let name = signed_note::Verifier::name(&verifier).to_string();
    let note = Note::from_bytes(note_text.as_bytes())
        .map_err(|e| malformed(format!("signed note: {e}")))?;
    note.verify(&VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|e| LogError::new(LogErrorKind::BadSignature, e.to_string()))?;
    let body =
        std::str::from_utf8(note.text()).map_err(|_| malformed("checkpoint body is not UTF-8"))?;
    let checkpoint = Checkpoint::parse_body(body)?;
    if checkpoint.origin != name {
        return Err(LogError::new(
            LogErrorKind::BadSignature,
            format!(
                "checkpoint origin {:?} differs from key name {name:?}",
                checkpoint.origin
            ),
        ));
    }
    Ok(checkpoint)
}

/// Verifies a signed note (C2SP signed-note) with the key `verifier_key_text` and returns its
/// body text (the lines before the empty line, each ending in a newline). Signatures by other
/// keys are ignored. For notes that are not checkpoints: the caller reads the body.
pub fn verify_note(note_text: &str, verifier_key_text: &str) -> Result<String, LogError> {
    let verifier = checked_verifier(verifier_key_text)?;
    let note = Note::from_bytes(note_text.as_bytes())
        .map_err(|e| malformed(format!("signed note: {e}")))?;
    note.verify(&VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|e| LogError::new(LogErrorKind::BadSignature, e.to_string()))?;
    String::from_utf8(note.text().to_vec()).map_err(|_| malformed("note body is not UTF-8"))
}

/// Checks verifier key text (`name+hex(keyID)+base64(0x01‖pubkey)`) and returns its name.
pub fn parse_verifier_key_text(text: &str) -> Result<String, LogError> {
    let verifier = checked_verifier(text)?;
    Ok(signed_note::Verifier::name(&verifier).to_string())
}

/// The Ed25519 public key a verifier key text (`name+hex(keyID)+base64(0x01‖pubkey)`) names.
pub fn verifier_public_key(text: &str) -> Result<[u8; 32], LogError> {
    checked_verifier(text)?;
    let encoded = text.splitn(3, '+').nth(2).unwrap_or_default();
    let bytes = BASE64_STANDARD
        .decode(encoded)
        .map_err(|e| malformed(format!("verifier key: {e}")))?;
    match bytes.split_first() {
        Some((&ALG_ED25519, key)) => <[u8; 32]>::try_from(key)
            .map_err(|_| malformed("verifier key: not a 32-byte Ed25519 key")),
        _ => Err(malformed("verifier key: not an Ed25519 key")),
    }
}

/// The checkpoint in a signed note, **without verifying any signature**: for a log whose
/// key changed, the caller finds the key that signed it in the entries the checkpoint
/// commits to, then verifies with [`parse_and_verify_checkpoint_with_any`].
pub fn parse_checkpoint_unverified(note_text: &str) -> Result<Checkpoint, LogError> {
    let note = Note::from_bytes(note_text.as_bytes())
        .map_err(|e| malformed(format!("signed note: {e}")))?;
    let body =
        std::str::from_utf8(note.text()).map_err(|_| malformed("checkpoint body is not UTF-8"))?;
    Checkpoint::parse_body(body)
}

/// Checks verifier key text (`name+hex(keyID)+base64(0x01‖pubkey)`) and returns its name and
/// its Ed25519 public key: what a caller compares with keys it learned elsewhere (a ledger's
/// chain of authority keys).
pub fn parse_verifier_key(text: &str) -> Result<(String, [u8; 32]), LogError> {
    Ok((parse_verifier_key_text(text)?, verifier_public_key(text)?))
}

/// Verifier key text `name+hex(keyID)+base64(0x01‖pubkey)` of a public key given as bytes
/// (a key named in a log entry); refused if the bytes are not an Ed25519 point.
pub fn verifier_key_text_of(name: &str, public_key: &[u8; 32]) -> Result<String, LogError> {
    if !signed_note::is_key_name_valid(name) {
        return Err(malformed(format!(
            "verifier key: {name:?} is not a valid key name"
        )));
    }
    let key = ed25519_dalek::VerifyingKey::from_bytes(public_key)
        .map_err(|_| malformed("verifier key: the bytes are not an Ed25519 public key"))?;
    Ok(signed_note::new_ed25519_verifier_key(name, &key))
}

/// The signed-note key id of an Ed25519 public key named `name`:
/// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[..4], as signature lines carry it.
pub fn verifier_key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut public = vec![ALG_ED25519];
    public.extend_from_slice(public_key);
    signed_note::key_id(name, &public)
}

/// Key ids of the signature lines of `note_text` by keys named `name`, in note order
/// (several during a key rotation, when a log signs with its old and new keys). Nothing is
/// verified: this says which keys claim to have signed.
pub fn note_signature_key_ids(note_text: &str, name: &str) -> Result<Vec<u32>, LogError> {
    // The whole note must parse; its signature lines are then read again for their ids,
    // which `Note` does not expose.
    Note::from_bytes(note_text.as_bytes()).map_err(|e| malformed(format!("signed note: {e}")))?;
    Ok(note_signatures(note_text)?
        .into_iter()
        .filter(|signature| signature.name() == name)
        .map(|signature| signature.id())
        .collect())
}

/// The signature lines of a signed note, parsed (the note's own shape is checked by the
/// caller with `Note::from_bytes`).
fn note_signatures(note_text: &str) -> Result<Vec<signed_note::Signature>, LogError> {
    let (_, lines) = note_text
        .rsplit_once("\n\n")
        .ok_or_else(|| malformed("signed note: no empty line before the signatures"))?;
    lines
        .strip_suffix('\n')
        .unwrap_or(lines)
        .split('\n')
        .map(|line| {
            signed_note::Signature::from_bytes(line.as_bytes())
                .map_err(|e| malformed(format!("signed note: signature line: {e}")))
        })
        .collect()
}

/// A signed-note verifier from its key text, which must spell its key id canonically
/// (8 lowercase hex digits: signed_note itself also takes capitals, so one key would have
/// several texts).
fn checked_verifier(text: &str) -> Result<StandardVerifier, LogError> {
    let key_id = text.split('+').nth(1).unwrap_or_default();
    if key_id.len() != 8 || !is_lower_hex(key_id) {
        return Err(malformed(
            "verifier key: key id must be 8 lowercase hex digits".to_string(),
        ));
    }
    StandardVerifier::new(text).map_err(|e| malformed(format!("verifier key: {e}")))
}

/// The signed-note key id: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[..4].
fn key_id(name: &str, key: &SigningKey) -> u32 {
    verifier_key_id(name, key.verifying_key().as_bytes())
}

/// Verifier key text `name+hex(keyID)+base64(0x01‖pubkey)`.
pub fn verifier_key_text(name: &str, key: &SigningKey) -> String {
    signed_note::new_ed25519_verifier_key(name, &key.verifying_key())
}

/// Private key text `PRIVATE+KEY+name+hex(keyID)+base64(0x01‖seed)`, the
/// form used by Go's golang.org/x/mod/sumdb/note. Keep it secret.
pub fn signer_key_text(name: &str, key: &SigningKey) -> String {
    let mut private = vec![ALG_ED25519];
    private.extend_from_slice(&key.to_bytes());
    format!(
        "PRIVATE+KEY+{name}+{:08x}+{}",
        key_id(name, key),
        BASE64_STANDARD.encode(private)
    )
}

/// Whether `text` is lowercase hexadecimal digits only: the one spelling of a key id, as
/// [`signer_key_text`] and signed-note verifier keys write it (`from_str_radix` alone would
/// also take capitals and a leading `+`).
pub fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// Parses [`signer_key_text`]'s form, checking the key id; returns the
/// key name and the signing key.
pub fn parse_signer_key_text(text: &str) -> Result<(String, SigningKey), LogError> {
    let bad = |why: &str| malformed(format!("signer key: {why}"));
    let rest = text
        .trim_end_matches('\n')
        .strip_prefix("PRIVATE+KEY+")
        .ok_or_else(|| bad("missing PRIVATE+KEY+ prefix"))?;
    // base64 may itself contain '+': split off name and id only.
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("expected name+id+key"));
    };
    if !signed_note::is_key_name_valid(name) {
        return Err(bad("invalid name"));
    }
    if id_hex.len() != 8 || !is_lower_hex(id_hex) {
        return Err(bad("key id must be 8 lowercase hex digits"));
    }
    let id = u32::from_str_radix(id_hex, 16).map_err(|_| bad("key id is not hex"))?;
    let bytes = BASE64_STANDARD
        .decode(key_b64)
        .map_err(|_| bad("key is not base64"))?;
    let (Some(&ALG_ED25519), Ok(seed)) = (
        bytes.first(),
        <[u8; 32]>::try_from(&bytes[1.min(bytes.len())..]),
    ) else {
        return Err(bad("not an Ed25519 key (0x01 ‖ 32-byte seed)"));
    };
    let key = SigningKey::from_bytes(&seed);
    if key_id(name, &key) != id {
        return Err(bad("key id does not match the key"));
    }
    Ok((name.to_string(), key))
}

/// Adapts an Ed25519 key to signed_note's `Signer`.
struct NoteSigner<'a> {
    name: &'a str,
    id: u32,
    key: &'a SigningKey,
}

impl Signer for NoteSigner<'_> {
    fn name(&self) -> &str {
        self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        Ok(ed25519_dalek::Signer::sign(self.key, msg)
            .to_bytes()
            .to_vec())
    }
}

/// Signs `text` (which must end in a newline) as a signed note by `name`.
pub fn sign_note(text: &str, name: &str, key: &SigningKey) -> Result<String, LogError> {
    sign_note_with_keys(text, name, &[key])
}

/// Signs `text` as a signed note by `name` with each of `keys`, in that order: one
/// signature line per key, all under the same name, told apart by their key IDs (C2SP
/// signed-note). A verifier that knows any one of the keys accepts the note.
pub fn sign_note_with_keys(
    text: &str,
    name: &str,
    keys: &[&SigningKey],
) -> Result<String, LogError> {
    let mut note =
        Note::new(text.as_bytes(), &[]).map_err(|e| malformed(format!("note text: {e}")))?;
    let signers: Vec<NoteSigner<'_>> = keys
        .iter()
        .map(|key| NoteSigner {
            name,
            id: key_id(name, key),
            key,
        })
        .collect();
    let signers: Vec<&dyn Signer> = signers.iter().map(|signer| signer as &dyn Signer).collect();
    note.add_sigs(&signers)
        .map_err(|e| malformed(format!("signing: {e}")))?;
    String::from_utf8(note.to_bytes()).map_err(|_| malformed("signed note is not UTF-8"))
}

/// Verifies `note_text` with whichever of `keys` (Ed25519 public keys of the log `origin`)
/// signed it, and parses its checkpoint: a log whose key rotated is verified with every key
/// a verifier accepts for it.
pub fn parse_and_verify_checkpoint_with_any(
    note_text: &str,
    origin: &str,
    keys: &[[u8; 32]],
) -> Result<Checkpoint, LogError> {
    let mut last_error = LogError::new(
        LogErrorKind::BadSignature,
        format!("no key of {origin} to verify the checkpoint with"),
    );
    for key in keys {
        let Ok(text) = verifier_key_text_of(origin, key) else {
            continue;
        };
        match parse_and_verify_checkpoint(note_text, &text) {
            Ok(checkpoint) => return Ok(checkpoint),
            Err(error) if *error.kind() == LogErrorKind::Malformed => return Err(error),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

/// Holds the log's signing key and the latest signed checkpoint, persisted
/// in `dir/checkpoint`.
///
/// [`CheckpointSigner::sign`] persists every checkpoint before returning it.
/// [`CheckpointSigner::sign_deferred`] keeps the new checkpoint in memory only,
/// until [`CheckpointSigner::persist`]: the persisted file may then be older
/// than the last checkpoint handed out. That is safe when (as in the node)
/// every signed size is already durable in the log of record before it is
/// signed: after a crash the tree is recomputed from the log, which extends
/// every checkpoint ever signed, and the signer's consistency check runs
/// against the persisted one, which the new tree also extends.
pub struct CheckpointSigner {
    dir: PathBuf,
    origin: String,
    key: SigningKey,
    /// Keys that sign every checkpoint beside `key` (a retired key during a rotation).
    cosigning_keys: Vec<SigningKey>,
    latest: Option<SignedCheckpoint>,
    /// Size of the checkpoint in `dir/checkpoint` (`None`: no file yet).
    persisted_size: Option<u64>,
    /// `latest` was signed after the persisted one.
    unpersisted: bool,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("CheckpointSigner")
            .field("dir", &self.dir)
            .field("origin", &self.origin)
            .field("latest", &self.latest)
            .field("persisted_size", &self.persisted_size)
            .finish_non_exhaustive()
    }
}

impl CheckpointSigner {
    /// Opens the signer, loading and verifying the latest signed checkpoint
    /// if one exists. A checkpoint file that does not verify with this key
    /// and origin refuses to open: signing without knowing what was signed
    /// before could fork the log.
    pub fn open(dir: &Path, origin: &str, key: SigningKey) -> Result<CheckpointSigner, LogError> {
        Self::open_accepting(dir, origin, key, &[])
    }

    /// Like [`CheckpointSigner::open`], but the persisted checkpoint may also have been signed
    /// by one of `earlier_keys` (keys this log signed with before its key rotated).
    pub fn open_accepting(
        dir: &Path,
        origin: &str,
        key: SigningKey,
        earlier_keys: &[[u8; 32]],
    ) -> Result<CheckpointSigner, LogError> {
        if !signed_note::is_key_name_valid(origin) {
            return Err(LogError::new(
                LogErrorKind::InvalidArgument,
                "origin must be non-empty, without spaces or '+'",
            ));
        }
        fsio::create_dir_all(dir)?;
        let path = dir.join(CHECKPOINT_FILE_NAME);
        let latest = match fsio::read_optional(&path)? {
            None => None,
            Some(bytes) => {
                let note_text = String::from_utf8(bytes)
                    .map_err(|_| malformed("checkpoint file is not UTF-8").at_path(&path))?;
                let mut keys = vec![key.verifying_key().to_bytes()];
                keys.extend_from_slice(earlier_keys);
                let checkpoint = parse_and_verify_checkpoint_with_any(&note_text, origin, &keys)
                    .map_err(|e| e.at_path(&path))?;
                Some(SignedCheckpoint {
                    checkpoint,
                    note_text,
                })
            }
        };
        let persisted_size = latest.as_ref().map(|l| l.checkpoint.size);
        Ok(CheckpointSigner {
            dir: dir.to_path_buf(),
            origin: origin.to_string(),
            key,
            cosigning_keys: Vec::new(),
            latest,
            persisted_size,
            unpersisted: false,
        })
    }

    /// The latest signed checkpoint, if any.
    pub fn latest(&self) -> Option<&SignedCheckpoint> {
        self.latest.as_ref()
    }

    /// True when the latest signed checkpoint is not yet the persisted one.
    pub fn is_unpersisted(&self) -> bool {
        self.unpersisted
    }

    /// Size of the persisted checkpoint (what a restart audits the log against).
    pub fn persisted_size(&self) -> Option<u64> {
        self.persisted_size
    }

    /// Persists the latest signed checkpoint atomically (temporary file, fsync,
    /// rename, directory fsync), if it is not persisted already.
    pub fn persist(&mut self) -> Result<(), LogError> {
        if !self.is_unpersisted() {
            return Ok(());
        }
        if let Some(latest) = &self.latest {
            fsio::write_atomically(&self.dir, CHECKPOINT_FILE_NAME, latest.note_text.as_bytes())?;
            self.persisted_size = Some(latest.checkpoint.size);
        }
        self.unpersisted = false;
        Ok(())
    }

    /// This signer's verifier key text.
    pub fn verifier_key_text(&self) -> String {
        verifier_key_text(&self.origin, &self.key)
    }

    /// Signs later checkpoints with `key` (the log's key rotated); what was signed before is
    /// kept, and later checkpoints must extend it as always.
    pub fn replace_key(&mut self, key: SigningKey) {
        self.key = key;
    }

    /// Keys that sign every later checkpoint beside this signer's own (none: only its own).
    pub fn set_cosigning_keys(&mut self, keys: Vec<SigningKey>) {
        self.cosigning_keys = keys;
    }

    /// Whether the latest signed checkpoint carries this signer's own signature and every
    /// cosigning key's (after a key change it may carry only the old key's).
    pub fn latest_signed_by_every_key(&self) -> bool {
        let Some(latest) = &self.latest else {
            return true;
        };
        std::iter::once(&self.key)
            .chain(&self.cosigning_keys)
            .all(|key| {
                parse_and_verify_checkpoint(
                    &latest.note_text,
                    &verifier_key_text(&self.origin, key),
                )
                .is_ok()
            })
    }

    /// Signs the tree at `size`, after checking it is consistent with the
    /// latest signed checkpoint (size not smaller; same root at the same
    /// size; a consistency proof from the tree verifies against the *signed*
    /// old root; time not earlier), then persists it atomically before
    /// returning it.
    pub fn sign(
        &mut self,
        tree: &TreeReader,
        size: u64,
        time_unix_s: u64,
    ) -> Result<SignedCheckpoint, LogError> {
        let signed = self.sign_deferred(tree, size, time_unix_s)?;
        self.persist()?;
        Ok(signed)
    }

    /// Like [`CheckpointSigner::sign`] (same checks against the latest signed
    /// checkpoint, persisted or not), but leaves persisting it to a later
    /// [`CheckpointSigner::persist`]. Only for trees whose first `size`
    /// leaves are already durable where the tree is recomputed from after a
    /// crash (the node's log of record, fdatasynced before signing): a
    /// restart then signs a tree that extends this checkpoint even if the
    /// persisted file is older.
    pub fn sign_deferred(
        &mut self,
        tree: &TreeReader,
        size: u64,
        time_unix_s: u64,
    ) -> Result<SignedCheckpoint, LogError> {
        let root = tree.root(size)?;
        if let Some(latest) = &self.latest {
            let old = &latest.checkpoint;
            let refuse = |why: String| Err(LogError::new(LogErrorKind::Inconsistent, why));
            if size < old.size {
                return refuse(format!(
                    "size {size} is below the latest signed size {}",
                    old.size
                ));
            }
            if time_unix_s < old.time_unix_s {
                return refuse(format!(
                    "time {time_unix_s} is before the latest signed time {}",
                    old.time_unix_s
                ));
            }
            if size == old.size {
                if root != old.root {
                    return refuse(format!("root at size {size} differs from the signed one"));
                }
            } else if old.size > 0 {
                let proof = tree.consistency_proof(old.size, size)?;
                verify_consistency(old.size, size, old.root, root, &proof).map_err(|e| {
                    LogError::new(
                        LogErrorKind::Inconsistent,
                        format!("tree does not extend the latest signed checkpoint: {e}"),
                    )
                })?;
            }
        }
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size,
            root,
            time_unix_s,
        };
        let keys: Vec<&SigningKey> = std::iter::once(&self.key)
            .chain(&self.cosigning_keys)
            .collect();
        let note_text = sign_note_with_keys(&checkpoint.body(), &self.origin, &keys)?;
        // What we hand out must verify with our own published key.
        let reparsed = parse_and_verify_checkpoint(&note_text, &self.verifier_key_text());
        assert!(
            matches!(&reparsed, Ok(c) if *c == checkpoint),
            "freshly signed checkpoint does not verify: {reparsed:?}"
        );
        let signed = SignedCheckpoint {
            checkpoint,
            note_text,
        };
        self.latest = Some(signed.clone());
        self.unpersisted = true;
        Ok(signed)
    }
}
