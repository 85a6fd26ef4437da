//! The authority key's files, and its rotation and recovery (docs/security.md, "The
//! authority key").
//!
//! `keys/authority.key` holds the key in force. A change of key always makes the new key
//! first, in `keys/authority.next.key` (fsynced), then logs `AuthorityKeyRotated` naming it:
//!
//! * **planned** ([`rotate_authority_key`]): signed by the key in force; once logged,
//!   `authority.key` becomes `authority.previous.key` and the new key `authority.key`. For
//!   [`ROTATION_OVERLAP_DAYS`] after the rotation's date the retired key cosigns every
//!   checkpoint, so a mirror, a witness or a bundle verifier that knows only the old key
//!   verifies the checkpoints that bring it the rotation.
//! * **recovery** ([`recover_authority_key`]): the key in force is lost or stolen; the
//!   rotation is signed by the offline recovery key set at `init`. The old key file, if any,
//!   is moved to `authority.compromised.key` and never signs again, not even as a cosigner.
//!
//! A crash anywhere in between is finished by the next open ([`settle`]): the new key is
//! taken once the log names it, and kept waiting in `authority.next.key` until then. The node
//! admits an `AuthorityKeyRotated` only for the key it holds in `authority.next.key`
//! ([`skill_ledger_domain::Rejection::AuthorityKeyNotHeld`]), so a rotation can never be
//! logged to a key the node cannot sign with. `tree/signing-keys` lists every public key
//! the checkpoints were signed with, so the persisted checkpoint verifies after a change.

use std::path::Path;

use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    AuthorityKeyRotated, Date, Event, EventKind, LedgerInfo, SignedEvent, Signer,
};
use skill_ledger_log::{parse_signer_key_text, signer_key_text};

use crate::config::LedgerConfig;
use crate::error::{LedgerPaths, NodeError, NodeErrorKind};
use crate::node::{new_event_id, write_secret_file, Node};

/// Days after a planned rotation's date during which the retired key cosigns checkpoints.
pub const ROTATION_OVERLAP_DAYS: i32 = 30;

/// The key name of a ledger's recovery key file.
pub fn recovery_key_name(origin: &str) -> String {
    format!("{origin}/recovery")
}

/// The key files found in `keys/`.
pub(crate) struct KeyFiles {
    /// The key the node signs with: `authority.key`, or `authority.next.key` while a
    /// recovery waits to be logged (the old key file was moved away).
    pub primary: SigningKey,
    pub primary_is_next: bool,
    pub previous: Option<SigningKey>,
    pub next: Option<SigningKey>,
}

fn config_error(message: String) -> NodeError {
    NodeError::new(NodeErrorKind::Config, message)
}

fn read_named_key(path: &Path, name: &str) -> Result<Option<SigningKey>, NodeError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(NodeError::io(path, "read key file", error)),
    };
    let (key_name, key) = parse_signer_key_text(text.trim())
        .map_err(|error| config_error(format!("{}: {error}", path.display())))?;
    if key_name != name {
        return Err(config_error(format!(
            "{} names '{key_name}', but the ledger origin is '{name}'",
            path.display()
        )));
    }
    Ok(Some(key))
}

/// Reads a recovery key file (`skill-ledger init` writes it; keep it offline).
pub fn load_recovery_key(path: &Path, origin: &str) -> Result<SigningKey, NodeError> {
    read_named_key(path, &recovery_key_name(origin))?.ok_or_else(|| {
        config_error(format!(
            "the recovery key file {} does not exist",
            path.display()
        ))
    })
}

pub(crate) fn load_key_files(
    paths: &LedgerPaths,
    config: &LedgerConfig,
) -> Result<KeyFiles, NodeError> {
    let origin = &config.origin;
    let current = read_named_key(&paths.authority_key(), origin)?;
    let next = read_named_key(&paths.authority_next_key(), origin)?;
    let previous = read_named_key(&paths.authority_previous_key(), origin)?;
    let (primary, primary_is_next) = match (current, &next) {
        (Some(current), _) => (current, false),
        (None, Some(next)) => (next.clone(), true),
        (None, None) => {
            return Err(NodeError::io(
                &paths.authority_key(),
                "read key file",
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ))
        }
    };
    Ok(KeyFiles {
        primary,
        primary_is_next,
        previous,
        next,
    })
}

/// The public keys the persisted checkpoint may be signed with besides the primary one.
pub(crate) fn earlier_signing_keys(
    paths: &LedgerPaths,
    files: &KeyFiles,
) -> Result<Vec<[u8; 32]>, NodeError> {
    let mut keys = Vec::new();
    let path = paths.signing_keys();
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            for (number, line) in text.lines().enumerate() {
                let key = hex::decode(line.trim())
                    .ok()
                    .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                    .ok_or_else(|| {
                        NodeError::new(
                            NodeErrorKind::Integrity,
                            format!(
                                "{} line {}: not a 64-hex-digit public key",
                                path.display(),
                                number + 1
                            ),
                        )
                    })?;
                keys.push(key);
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(NodeError::io(&path, "read", error)),
    }
    keys.extend(
        files
            .previous
            .iter()
            .chain(&files.next)
            .map(|key| key.verifying_key().to_bytes()),
    );
    Ok(keys)
}

/// Adds `key` to `tree/signing-keys` if it is not there (appended, fsynced).
pub(crate) fn record_signing_key(paths: &LedgerPaths, key: &[u8; 32]) -> Result<(), NodeError> {
    use std::io::Write;
    let path = paths.signing_keys();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(NodeError::io(&path, "read", error)),
    };
    let line = hex::encode(key);
    if text.lines().any(|existing| existing.trim() == line) {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|error| NodeError::io(&path, "open", error))?;
    file.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| NodeError::io(&path, "append to", error))
}

/// What the node signs with once the key files and the log agree.
pub(crate) struct Settled {
    pub primary: SigningKey,
    pub cosigners: Vec<SigningKey>,
    /// The public key of `authority.next.key`, the only new key the node admits a rotation to.
    pub next: Option<[u8; 32]>,
}

/// Renames `from` to `to` and fsyncs the directory, so the rename survives a crash.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<(), NodeError> {
    std::fs::rename(from, to).map_err(|error| NodeError::io(from, "rename", error))?;
    if let Some(dir) = to.parent() {
        std::fs::File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|error| NodeError::io(dir, "sync", error))?;
    }
    Ok(())
}

/// Brings the key files level with the log (finishing a change the log already names) and
/// decides which keys sign the checkpoints. `ledger` is the ledger record folded from the log.
pub(crate) fn settle(
    paths: &LedgerPaths,
    files: KeyFiles,
    ledger: Option<&LedgerInfo>,
    today: Date,
) -> Result<Settled, NodeError> {
    let next_public = files
        .next
        .as_ref()
        .map(|key| key.verifying_key().to_bytes());
    let Some(ledger) = ledger else {
        // A ledger being created: entry 0 names the primary key.
        return Ok(Settled {
            primary: files.primary,
            cosigners: Vec::new(),
            next: next_public,
        });
    };
    let Some(in_force) = ledger.authority_key() else {
        return Err(NodeError::new(
            NodeErrorKind::Integrity,
            "the ledger record names no authority key",
        ));
    };
    let (primary, previous) = if files.primary.verifying_key().to_bytes() == in_force {
        (files.primary, files.previous)
    } else if next_public == Some(in_force) {
        // The rotation is logged: take the new key.
        let Some(next) = files.next.clone() else {
            unreachable!("next_public is Some")
        };
        let previous = if files.primary_is_next {
            None
        } else {
            rename(&paths.authority_key(), &paths.authority_previous_key())?;
            Some(files.primary)
        };
        rename(&paths.authority_next_key(), &paths.authority_key())?;
        tracing::info!("the authority key rotation is logged: keys/authority.key is the new key");
        (next, previous)
    } else if files.primary_is_next {
        // A recovery waiting to be logged: the node signs with the new key from now on.
        return Ok(Settled {
            primary: files.primary,
            cosigners: Vec::new(),
            next: next_public,
        });
    } else {
        return Err(config_error(format!(
            "{} holds the public key {}, but the ledger's authority key in force is {}: \
             the key was changed on the log without this node's key file (restore the file \
             that holds it, or recover with `skill-ledger authority recover`)",
            paths.authority_key().display(),
            hex::encode(files.primary.verifying_key().to_bytes()),
            hex::encode(in_force)
        )));
    };
    let keys = &ledger.authority_keys;
    let cosigners = match (previous, keys.len().checked_sub(2).map(|k| &keys[k])) {
        (Some(previous), Some(retired))
            if previous.verifying_key().to_bytes() == retired.public_key
                && today.days_since_unix_epoch()
                    <= keys[keys.len() - 1]
                        .from
                        .days_since_unix_epoch()
                        .saturating_add(ROTATION_OVERLAP_DAYS) =>
        {
            vec![previous]
        }
        _ => Vec::new(),
    };
    let next = next_public.filter(|next| *next != in_force);
    Ok(Settled {
        primary,
        cosigners,
        next,
    })
}

/// An authority key change, as logged.
#[derive(Clone, Debug)]
pub struct AuthorityKeyChange {
    pub entry_index: u64,
    pub old_public_key: [u8; 32],
    pub new_public_key: [u8; 32],
    /// The new checkpoint verifier key text to give partners and verifiers.
    pub verifier_key_text: String,
    /// Whether the retired key cosigns checkpoints (planned rotations, for
    /// [`ROTATION_OVERLAP_DAYS`]).
    pub cosigned: bool,
}

fn make_next_key(paths: &LedgerPaths, origin: &str) -> Result<SigningKey, NodeError> {
    if let Some(existing) = read_named_key(&paths.authority_next_key(), origin)? {
        // An earlier run made it and stopped before the rotation was logged: use it.
        return Ok(existing);
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    write_secret_file(&paths.authority_next_key(), &signer_key_text(origin, &key))?;
    Ok(key)
}

fn submit_rotation(
    dir: &Path,
    signer: Signer,
    signing_key: Option<&SigningKey>,
    new_key: &SigningKey,
    date: Date,
    reason: &str,
) -> Result<(u64, [u8; 32]), NodeError> {
    let (node, _) = Node::open(dir)?;
    let old = node.authority_key().verifying_key().to_bytes();
    let in_force = node
        .registry()
        .ledger
        .as_ref()
        .and_then(LedgerInfo::authority_key)
        .unwrap_or(old);
    let kind = EventKind::AuthorityKeyRotated(AuthorityKeyRotated {
        public_key: new_key.verifying_key().to_bytes(),
        date,
        reason: reason.to_string(),
    });
    let event = Event {
        id: new_event_id(),
        kind,
    };
    let key = signing_key.unwrap_or(node.authority_key());
    let signed = SignedEvent::sign(node.origin(), signer, key, event);
    let receipt = node.submit(signed).map_err(|error| {
        NodeError::new(
            NodeErrorKind::Config,
            format!("the authority key rotation was refused: {error}"),
        )
    })?;
    drop(node);
    Ok((receipt.index, in_force))
}

fn finish(dir: &Path, entry_index: u64, old: [u8; 32]) -> Result<AuthorityKeyChange, NodeError> {
    // Opening settles the key files and signs the latest checkpoint with the new key (and
    // the retired one, for a planned rotation).
    let (node, _) = Node::open(dir)?;
    Ok(AuthorityKeyChange {
        entry_index,
        old_public_key: old,
        new_public_key: node.authority_key().verifying_key().to_bytes(),
        verifier_key_text: node.verifier_key_text().to_string(),
        cosigned: node.checkpoint_cosigned(),
    })
}

/// A planned rotation of the authority key: a new key in `keys/authority.next.key`, the
/// rotation signed by the key in force and logged, then the files swapped. The ledger must
/// not be open elsewhere (the directory lock). Repeating an interrupted run is safe.
pub fn rotate_authority_key(
    dir: &Path,
    date: Date,
    reason: &str,
) -> Result<AuthorityKeyChange, NodeError> {
    let paths = LedgerPaths::new(dir);
    let config = LedgerConfig::load(&paths.config())?;
    let new_key = make_next_key(&paths, &config.origin)?;
    let (entry_index, old) = submit_rotation(dir, Signer::Authority, None, &new_key, date, reason)?;
    finish(dir, entry_index, old)
}

/// Recovery of a lost or stolen authority key with the offline recovery key: the key file
/// in force (if any) is moved to `keys/authority.compromised.key` and never signs again; a
/// new key is made and the rotation to it, signed by the recovery key, logged.
pub fn recover_authority_key(
    dir: &Path,
    recovery_key: &SigningKey,
    date: Date,
    reason: &str,
) -> Result<AuthorityKeyChange, NodeError> {
    let paths = LedgerPaths::new(dir);
    let config = LedgerConfig::load(&paths.config())?;
    let new_key = make_next_key(&paths, &config.origin)?;
    // The recovery key must be the ledger's before any key file is touched.
    {
        let (node, _) = Node::open(dir)?;
        let registry = node.registry();
        let held = registry
            .ledger
            .as_ref()
            .and_then(|ledger| ledger.recovery_key);
        let given = recovery_key.verifying_key().to_bytes();
        match held {
            None => {
                return Err(config_error(
                    "this ledger has no recovery key (it was made without one): its authority \
                     key cannot be recovered"
                        .to_string(),
                ))
            }
            Some(held) if held != given => {
                return Err(config_error(format!(
                    "the given key ({}) is not this ledger's recovery key ({})",
                    hex::encode(given),
                    hex::encode(held)
                )))
            }
            Some(_) => {}
        }
    }
    if paths.authority_key().exists() {
        rename(&paths.authority_key(), &paths.authority_compromised_key())?;
    }
    if paths.authority_previous_key().exists() {
        // A retired key must not cosign for a ledger whose key was stolen.
        rename(
            &paths.authority_previous_key(),
            &paths.keys().join("authority.previous.compromised.key"),
        )?;
    }
    let (entry_index, old) = submit_rotation(
        dir,
        Signer::Recovery,
        Some(recovery_key),
        &new_key,
        date,
        reason,
    )?;
    finish(dir, entry_index, old)
}
