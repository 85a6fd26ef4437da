//! [`MirrorReader`]: reads of a mirror's store from other threads (the HTTP service answers
//! verifications while a background pull holds the [`super::Mirror`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use skill_ledger_domain::{CareerRecord, CertificateNumber, Registry, SubjectId};
use skill_ledger_log::{parse_and_verify_checkpoint_with_any, SignedCheckpoint};
use skill_ledger_node::store::StoreTree;

use super::checkpoint::{configured_key, decode_keys, held_keys};
use super::store::{
    committed_credential, load_registry, load_stats, store_error, stored_career, u64_value,
    KEY_CHECKPOINT, KEY_CREDENTIALS, KEY_CURSOR, KEY_FOLLOWED_KEYS, KEY_LAST_PULL,
};
use super::{ForeignCredential, MirrorStatus};
use crate::error::Result;
use crate::evidence::{self, EvidenceRecord};

/// The partner's registry as folded up to a cursor.
type RegistryAt = (u64, std::sync::Arc<Registry>);

/// A read-only view of a mirror's store that does not need the [`super::Mirror`] itself: the HTTP
/// service answers verifications from it while a background pull holds the `Mirror` and
/// talks to the partner. Reads see committed batches only (each batch commits with its
/// cursor), and the held checkpoint is written before any entry it covers, so a credential
/// read first is always covered by the checkpoint read second.
#[derive(Clone)]
pub struct MirrorReader {
    origin: String,
    vkey: String,
    evidence_dir: PathBuf,
    records: StoreTree,
    /// The held checkpoint as last verified (re-verified when the stored note changes).
    checkpoint: std::sync::Arc<std::sync::Mutex<Option<SignedCheckpoint>>>,
    /// The partner's registry as of a cursor (rebuilt when the cursor moves).
    registry: std::sync::Arc<std::sync::Mutex<Option<RegistryAt>>>,
}

impl std::fmt::Debug for MirrorReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorReader")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl MirrorReader {
    pub(super) fn new(
        origin: String,
        vkey: String,
        evidence_dir: PathBuf,
        records: StoreTree,
    ) -> MirrorReader {
        MirrorReader {
            origin,
            vkey,
            evidence_dir,
            records,
            checkpoint: Default::default(),
            registry: Default::default(),
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `mirrors/<origin>/evidence/`.
    pub fn evidence_dir(&self) -> &Path {
        &self.evidence_dir
    }

    fn read_u64(&self, key: &[u8], what: &str) -> Result<Option<u64>> {
        self.records
            .get(key)?
            .map(|bytes| u64_value(&bytes, what))
            .transpose()
    }

    /// Partner entries verified and folded (committed).
    pub fn cursor(&self) -> Result<u64> {
        Ok(self.read_u64(KEY_CURSOR, "the cursor")?.unwrap_or(0))
    }

    /// A partner credential by certificate number.
    pub fn credential(&self, number: &CertificateNumber) -> Result<Option<ForeignCredential>> {
        let found = committed_credential(&self.records, number, u64::MAX)?;
        match found {
            // Read the cursor after the record: a batch may have committed in between.
            Some(found) if found.record.entry_index >= self.cursor()? => Ok(None),
            found => Ok(found),
        }
    }

    /// A person's career record on the partner ledger (contest results and the other
    /// routes), when the store keeps them.
    pub fn career(&self, subject: &SubjectId) -> Result<Option<CareerRecord>> {
        stored_career(&self.records, subject)
    }

    /// The partner checkpoint held, verified with the configured key.
    /// The partner ledger's statistics counters as folded so far (names as the node's).
    pub fn stats(&self) -> Result<BTreeMap<String, i64>> {
        load_stats(&self.records)
    }

    pub fn checkpoint(&self) -> Result<Option<SignedCheckpoint>> {
        let Some(bytes) = self.records.get(KEY_CHECKPOINT)? else {
            return Ok(None);
        };
        let mut cached = lock(&self.checkpoint);
        if let Some(held) = cached.as_ref() {
            if held.note_text.as_bytes() == bytes.as_ref() {
                return Ok(Some(held.clone()));
            }
        }
        let note_text = String::from_utf8(bytes.to_vec())
            .map_err(|_| store_error("mirror store: the held checkpoint is not UTF-8".into()))?;
        let configured = configured_key(&self.vkey)?;
        let followed = self
            .records
            .get(KEY_FOLLOWED_KEYS)?
            .map(|bytes| decode_keys(&bytes))
            .unwrap_or_default();
        let registry = self.registry()?;
        let keys = held_keys(configured, &registry, &followed);
        let checkpoint = parse_and_verify_checkpoint_with_any(&note_text, &self.origin, &keys)
            .map_err(|error| {
                store_error(format!(
                    "the held checkpoint of {} does not verify: {error}",
                    self.origin
                ))
            })?;
        let held = SignedCheckpoint {
            checkpoint,
            note_text,
        };
        *cached = Some(held.clone());
        Ok(Some(held))
    }

    /// The partner's registry (bodies, catalogue) as far as the mirror has folded.
    pub fn registry(&self) -> Result<std::sync::Arc<Registry>> {
        let cursor = self.cursor()?;
        let mut cached = lock(&self.registry);
        if let Some((at, registry)) = cached.as_ref() {
            if *at == cursor {
                return Ok(registry.clone());
            }
        }
        let registry = std::sync::Arc::new(load_registry(&self.records)?);
        *cached = Some((cursor, registry.clone()));
        Ok(registry)
    }

    /// The oldest uncleared evidence record: while there is one, pulls are refused.
    pub fn alarm(&self) -> Result<Option<EvidenceRecord>> {
        evidence::active_alarm(&self.evidence_dir)
    }

    /// Freshness and state, as [`super::Mirror::status`] gives it.
    pub fn status(&self) -> Result<MirrorStatus> {
        // The cursor first: the checkpoint read after it covers at least that much.
        let cursor = self.cursor()?;
        Ok(MirrorStatus {
            partner: self.origin.clone(),
            checkpoint: self.checkpoint()?.map(|held| held.checkpoint),
            cursor,
            last_pull_unix_s: self.read_u64(KEY_LAST_PULL, "the last pull time")?,
            credentials: self
                .read_u64(KEY_CREDENTIALS, "the credential count")?
                .unwrap_or(0),
            alarm: self.alarm()?,
        })
    }
}
