//! The partner's checkpoints: which keys verify them, how a newer one is checked against the
//! one held (same size, same root; a larger one extends it; an older one is a prefix of it),
//! following the partner's authority key from its own log, and the evidence kept when two
//! signed checkpoints, or a signed entry and the rules, disagree.

use base64::prelude::{Engine, BASE64_STANDARD};
use skill_ledger_domain::{apply, decide, EventKind, MemoryLedger, Registry};
use skill_ledger_log::{
    parse_and_verify_checkpoint_with_any, parse_checkpoint_unverified, verifier_public_key,
    Checkpoint, Hash, SignedCheckpoint,
};

use super::fetch::TileFetcher;
use super::store::{store_error, KEY_CHECKPOINT, KEY_FOLLOWED_KEYS, KEY_HELD_PROOF};
use super::{Mirror, PullOptions, AUTHORITY_KEYS_FILE};
use crate::error::{Result, SyncError, SyncErrorKind};
use crate::evidence::{self, EvidenceKind};
use crate::fsutil;
use crate::transport::PartnerLog;

/// The configured key of a partner (its `vkey` in partners.toml, checked when loaded).
pub(super) fn configured_key(vkey: &str) -> Result<[u8; 32]> {
    verifier_public_key(vkey).map_err(|error| {
        SyncError::new(
            SyncErrorKind::Config,
            format!("vkey {vkey:?} is not an Ed25519 verifier key: {error}"),
        )
    })
}

pub(super) fn decode_keys(bytes: &[u8]) -> Vec<[u8; 32]> {
    bytes
        .chunks_exact(32)
        .filter_map(|chunk| <[u8; 32]>::try_from(chunk).ok())
        .collect()
}

/// Every key a checkpoint the mirror already held may be signed with: the configured one,
/// every authority key the partner's log named, and those learned ahead of the fold.
pub(super) fn held_keys(
    configured: [u8; 32],
    registry: &Registry,
    followed: &[[u8; 32]],
) -> Vec<[u8; 32]> {
    let mut keys = vec![configured];
    if let Some(ledger) = &registry.ledger {
        keys.extend(ledger.authority_keys.iter().map(|period| period.public_key));
    }
    keys.extend_from_slice(followed);
    keys
}

/// The keys a *new* checkpoint of the partner is verified with: the partner's authority key
/// in force as its log says (and keys learned ahead of the fold), and the configured key
/// unless the log retired it — a retired key may be a stolen one.
fn trusted_keys(
    configured: [u8; 32],
    registry: &Registry,
    followed: &[[u8; 32]],
) -> (Vec<[u8; 32]>, Vec<[u8; 32]>) {
    let Some(ledger) = &registry.ledger else {
        let mut keys = vec![configured];
        keys.extend_from_slice(followed);
        return (keys, Vec::new());
    };
    let all: Vec<[u8; 32]> = ledger
        .authority_keys
        .iter()
        .map(|period| period.public_key)
        .collect();
    let (retired, current) = all.split_at(all.len().saturating_sub(1));
    // A key learned ahead of the fold is retired once a later key is folded.
    let followed_position = followed
        .iter()
        .rposition(|key| current.contains(key))
        .map_or(0, |k| k + 1);
    let mut keys = current.to_vec();
    keys.extend(
        followed[followed_position..]
            .iter()
            .filter(|key| !retired.contains(key)),
    );
    if !retired.contains(&configured) && !keys.contains(&configured) {
        keys.push(configured);
    }
    (keys, retired.to_vec())
}

impl Mirror {
    pub(super) fn verify_checkpoint(
        &self,
        note_text: String,
        log: &dyn PartnerLog,
    ) -> Result<SignedCheckpoint> {
        let (keys, _) = trusted_keys(self.configured, &self.registry, &self.followed);
        let checkpoint = parse_and_verify_checkpoint_with_any(&note_text, &self.origin, &keys)
            .map_err(|error| {
                SyncError::new(
                    SyncErrorKind::BadCheckpoint,
                    format!(
                        "checkpoint from {} does not verify with the configured key of {} \
                         nor the key its log has in force: {error}",
                        log.describe(),
                        self.origin
                    ),
                )
            })?;
        Ok(SignedCheckpoint {
            checkpoint,
            note_text,
        })
    }

    /// A checkpoint signed by a key the mirror does not know yet: the partner's authority key
    /// changed in entries not folded yet. The entries from the cursor to the checkpoint's size
    /// (authenticated against its root) are read for `AuthorityRecoveryKeySet` and
    /// `AuthorityKeyRotated`, each judged by the domain's own rules against the registry as
    /// it would be when it is folded (signed by the key in force, or the recovery key in
    /// force). If the key they lead to signed the checkpoint, it is accepted and the keys
    /// persisted (they are folded again, by every rule, as the pull goes on); otherwise the
    /// original error stands. The chain starts at keys the mirror trusts already, so a
    /// checkpoint signed by anyone else is refused as before.
    pub(super) fn follow_key_change(
        &mut self,
        note_text: String,
        fetcher: &TileFetcher<'_>,
        unverified: SyncError,
    ) -> Result<SignedCheckpoint> {
        let Ok(candidate) = parse_checkpoint_unverified(&note_text) else {
            return Err(unverified);
        };
        if candidate.origin != self.origin || candidate.size <= self.cursor || self.cursor == 0 {
            return Err(unverified);
        }
        let target = SignedCheckpoint {
            checkpoint: candidate,
            note_text,
        };
        let empty = MemoryLedger::default();
        let mut scratch = self.registry.clone();
        let mut learned: Vec<[u8; 32]> = Vec::new();
        let mut start = self.cursor;
        while start < target.checkpoint.size {
            let batch = fetcher.fetch_batch(&self.origin, &target, start)?;
            let checked = batch
                .checked
                .join()
                .map_err(|_| SyncError::new(SyncErrorKind::Io, "a verification thread panicked"))?;
            for (offset, item) in checked.into_iter().enumerate() {
                let index = start + offset as u64;
                let Ok((signed, true)) = item else { continue };
                if !matches!(
                    signed.event.kind,
                    EventKind::AuthorityRecoveryKeySet(_) | EventKind::AuthorityKeyRotated(_)
                ) {
                    continue;
                }
                if decide(&scratch, &empty, &signed).is_err() {
                    continue;
                }
                if let Some(change) = apply(&scratch, &empty, &signed, index).registry {
                    scratch.absorb(change);
                }
                if let EventKind::AuthorityKeyRotated(rotated) = &signed.event.kind {
                    learned.push(rotated.public_key);
                }
            }
            start += batch.entries.len() as u64;
        }
        let Some(in_force) = learned.last().copied() else {
            return Err(unverified);
        };
        let checkpoint =
            parse_and_verify_checkpoint_with_any(&target.note_text, &self.origin, &[in_force])
                .map_err(|error| {
                    SyncError::new(
                        SyncErrorKind::BadCheckpoint,
                        format!(
                    "checkpoint of {} does not verify with the authority key its log rotates \
                     to ({}): {error}",
                    self.origin,
                    hex::encode(in_force)
                ),
                    )
                })?;
        tracing::info!(partner = %self.origin, key = %hex::encode(in_force),
            "the partner's authority key changed: following it from its log");
        self.followed.extend(learned);
        let bytes: Vec<u8> = self.followed.iter().flatten().copied().collect();
        self.records.insert(KEY_FOLLOWED_KEYS, bytes)?;
        self.records.store().flush()?;
        Ok(SignedCheckpoint {
            checkpoint,
            note_text: target.note_text,
        })
    }

    /// Writes [`AUTHORITY_KEYS_FILE`] for this home's witness when it would change.
    pub(super) fn publish_authority_keys(&self) -> Result<()> {
        let (trusted, retired) = trusted_keys(self.configured, &self.registry, &self.followed);
        let mut text = String::new();
        for key in &trusted {
            text.push_str(&format!("trusted {}\n", hex::encode(key)));
        }
        for key in &retired {
            text.push_str(&format!("retired {}\n", hex::encode(key)));
        }
        let path = self.dir.join(AUTHORITY_KEYS_FILE);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        fsutil::write_atomically(&self.dir, AUTHORITY_KEYS_FILE, text.as_bytes())
    }

    /// Checks the seen checkpoint against the held one and holds it if it is newer. Returns
    /// whether it was older than the held one.
    pub(super) fn advance_checkpoint(
        &mut self,
        seen: &SignedCheckpoint,
        fetcher: &TileFetcher<'_>,
        options: &PullOptions,
    ) -> Result<bool> {
        let Some(held) = self.checkpoint.clone() else {
            self.hold(seen, fetcher)?;
            return Ok(false);
        };
        let (old, new) = (&held.checkpoint, &seen.checkpoint);
        if new.size == old.size {
            if new.root != old.root {
                return Err(self.fork(
                    &held,
                    seen,
                    None,
                    &format!(
                        "two signed checkpoints of size {} with different roots",
                        new.size
                    ),
                    options,
                ));
            }
            return Ok(false);
        }
        if new.size > old.size {
            let root = fetcher.root_at(old.size, new)?;
            if root != old.root {
                let proof = fetcher.consistency_proof(old.size, new)?;
                return Err(self.fork(
                    &held,
                    seen,
                    Some(&[evidence::ConsistencyProof {
                        size: old.size,
                        root_at_size: root,
                        larger_size: new.size,
                        hashes: proof,
                    }]),
                    &format!(
                        "the signed tree of size {} does not extend the signed tree of size {}: \
                         its first {} leaves have root {}, the held checkpoint says {}",
                        new.size,
                        old.size,
                        old.size,
                        BASE64_STANDARD.encode(root),
                        BASE64_STANDARD.encode(old.root)
                    ),
                    options,
                ));
            }
            self.hold(seen, fetcher)?;
            return Ok(false);
        }
        // An older checkpoint (a stale cache, or a rollback): it must be a prefix of ours.
        let tree_error =
            |error: skill_ledger_log::LogError| store_error(format!("mirror tree: {error}"));
        let root = if new.size <= self.cursor {
            Some(self.tree.reader().root(new.size).map_err(tree_error)?)
        } else {
            fetcher.root_at(new.size, old).ok()
        };
        if let Some(root) = root {
            if root != new.root {
                // The proof that the held tree's first leaves have another root: from the
                // mirror's own tree when it holds the whole held tree, else the partner's.
                let proof = self.smaller_fork_proof(new.size, root, old, fetcher)?;
                return Err(self.fork(
                    &held,
                    seen,
                    proof.as_deref(),
                    &format!(
                        "the signed tree of size {} is not a prefix of the signed tree of size {}",
                        new.size, old.size
                    ),
                    options,
                ));
            }
        }
        Ok(true)
    }

    /// The proof from the mirror's tree at the cursor to `checkpoint`, from its tiles, when
    /// the cursor is short of it (`None` if the tiles cannot be had).
    pub(super) fn held_proof(
        &self,
        cursor: u64,
        checkpoint: &Checkpoint,
        fetcher: &TileFetcher<'_>,
    ) -> Option<evidence::ConsistencyProof> {
        if cursor == 0 || cursor >= checkpoint.size {
            return None;
        }
        let root_at_size = self.tree.reader().root(cursor).ok()?;
        let hashes = fetcher.consistency_proof(cursor, checkpoint).ok()?;
        Some(evidence::ConsistencyProof {
            size: cursor,
            root_at_size,
            larger_size: checkpoint.size,
            hashes,
        })
    }

    /// The proof that the held tree's first `size` leaves have root `root` (which a smaller
    /// checkpoint contradicts): from the mirror's own tree when it holds the whole held tree;
    /// else from its own tree up to the cursor chained with the proof kept from the cursor to
    /// the held checkpoint; else from the partner's tiles of the held tree, if served.
    fn smaller_fork_proof(
        &self,
        size: u64,
        root: Hash,
        held: &Checkpoint,
        fetcher: &TileFetcher<'_>,
    ) -> Result<Option<Vec<evidence::ConsistencyProof>>> {
        let own_proof = |to: u64| -> Result<evidence::ConsistencyProof> {
            let hashes = self
                .tree
                .reader()
                .consistency_proof(size, to)
                .map_err(|error| store_error(format!("mirror tree: {error}")))?;
            Ok(evidence::ConsistencyProof {
                size,
                root_at_size: root,
                larger_size: to,
                hashes,
            })
        };
        if size == 0 {
            return Ok(None);
        }
        if self.cursor == held.size {
            return Ok(Some(vec![own_proof(held.size)?]));
        }
        let kept = self
            .records
            .get(KEY_HELD_PROOF)?
            .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
            .and_then(|text| evidence::ConsistencyProof::parse(&text).ok())
            .filter(|kept| kept.size == self.cursor && kept.larger_size == held.size);
        if let Some(kept) = kept {
            if size <= self.cursor {
                let mut chain = Vec::new();
                if size < self.cursor {
                    chain.push(own_proof(self.cursor)?);
                }
                chain.push(kept);
                return Ok(Some(chain));
            }
        }
        Ok(fetcher.consistency_proof(size, held).ok().map(|hashes| {
            vec![evidence::ConsistencyProof {
                size,
                root_at_size: root,
                larger_size: held.size,
                hashes,
            }]
        }))
    }

    fn hold(&mut self, seen: &SignedCheckpoint, fetcher: &TileFetcher<'_>) -> Result<()> {
        let mut batch = sled::Batch::default();
        batch.insert(KEY_CHECKPOINT, seen.note_text.as_bytes());
        match self.held_proof(self.cursor, &seen.checkpoint, fetcher) {
            Some(proof) => batch.insert(KEY_HELD_PROOF, proof.to_text().as_bytes()),
            None => batch.remove(KEY_HELD_PROOF),
        }
        self.records.apply_batch(batch)?;
        self.records.store().flush()?;
        self.checkpoint = Some(seen.clone());
        Ok(())
    }

    fn fork(
        &self,
        held: &SignedCheckpoint,
        seen: &SignedCheckpoint,
        proof: Option<&[evidence::ConsistencyProof]>,
        detail: &str,
        options: &PullOptions,
    ) -> SyncError {
        let proof_text = proof.map(evidence::chain_text);
        let mut files = vec![
            ("held.checkpoint", held.note_text.as_bytes()),
            ("seen.checkpoint", seen.note_text.as_bytes()),
        ];
        if let Some(text) = &proof_text {
            files.push((evidence::CONSISTENCY_PROOF_FILE, text.as_bytes()));
        }
        let recorded = evidence::record(
            &self.evidence_dir(),
            EvidenceKind::Fork,
            &self.origin,
            detail,
            &files,
            options.clock.now_unix_s(),
        );
        match recorded {
            Ok(path) => SyncError::new(
                SyncErrorKind::Fork,
                format!(
                    "fork of {} detected: {detail}; both signed checkpoints kept in {}; \
                     mirroring stopped until an operator clears the alarm",
                    self.origin,
                    path.display()
                ),
            ),
            Err(error) => error.context(format!(
                "fork of {} detected ({detail}) but its evidence could not be written",
                self.origin
            )),
        }
    }

    pub(super) fn rule_violation(
        &self,
        index: u64,
        entry: &[u8],
        why: &str,
        target: &SignedCheckpoint,
        fetcher: &TileFetcher<'_>,
        options: &PullOptions,
    ) -> SyncError {
        // The inclusion proof makes the evidence self-contained: the partner signed a tree
        // that holds this entry at this index.
        let proof = fetcher
            .record_proof(index, &target.checkpoint)
            .map(|proof| {
                proof
                    .iter()
                    .map(|hash| format!("{}\n", BASE64_STANDARD.encode(hash)))
                    .collect::<String>()
            })
            .unwrap_or_else(|error| format!("(no proof: {error})\n"));
        let proof_text = format!("index {index}\n{proof}");
        let entry_hex = format!("{}\n", hex::encode(entry));
        let recorded = evidence::record(
            &self.evidence_dir(),
            EvidenceKind::RuleViolation,
            &self.origin,
            why,
            &[
                ("checkpoint", target.note_text.as_bytes()),
                ("entry.hex", entry_hex.as_bytes()),
                ("inclusion-proof.txt", proof_text.as_bytes()),
            ],
            options.clock.now_unix_s(),
        );
        match recorded {
            Ok(path) => SyncError::new(
                SyncErrorKind::RuleViolation,
                format!(
                    "partner {} signed a checkpoint over an entry the rules refuse: {why}; \
                     evidence kept in {}; mirroring stopped at entry {index} until an operator \
                     clears the alarm",
                    self.origin,
                    path.display()
                ),
            ),
            Err(error) => error.context(format!(
                "rule violation by {} ({why}) but its evidence could not be written",
                self.origin
            )),
        }
    }
}
