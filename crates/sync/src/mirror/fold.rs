//! Feeding the engine: each fetched, authenticated and verified batch is admitted entry by
//! entry (it decodes, it is signed by its signer, it names this partner), folded by the
//! projection engine under the rules, and committed: the leaves to the mirror's tree (synced),
//! then the store's batch with the cursor on a thread of its own while the next batch folds.

use std::sync::Arc;

use skill_ledger_domain::{EventKind, Registry, SignedEvent};
use skill_ledger_log::{Hash, SignedCheckpoint};
use skill_ledger_node::engine::{Judge, Sealed};

use super::fetch::{FetchedBatch, TileFetcher};
use super::store::{engine_error, store_error, CommitBatch};
use super::{Mirror, PullOptions, PullProgress};
use crate::error::{Result, SyncError, SyncErrorKind};

/// A batch's commit under way on its own thread.
pub(super) struct PendingCommit {
    end: u64,
    credentials: u64,
    /// The registry as folded to `end`, when the batch changed it.
    registry: Option<Registry>,
    /// The sled batch's time in microseconds, or its failure.
    handle: std::thread::JoinHandle<Result<u64>>,
}

impl Mirror {
    /// Why entry `index` may not join the partner's ledger before the rules are asked, if it
    /// may not. `checked` is the entry decoded and its signature verified ([`crate::verify`]).
    fn admit(&self, checked: crate::verify::Checked, index: u64) -> Result<SignedEvent, String> {
        let (signed, signature_verifies) =
            checked.map_err(|error| format!("entry {index} does not decode: {error}"))?;
        if let EventKind::LedgerEstablished(established) = &signed.event.kind {
            if established.origin != self.origin {
                return Err(format!(
                    "entry {index} establishes origin {:?}, not {:?}",
                    established.origin, self.origin
                ));
            }
        }
        if !signature_verifies {
            return Err(format!(
                "entry {index} ({}): the signature does not verify for {}",
                signed.event.kind.name(),
                self.origin
            ));
        }
        Ok(signed)
    }

    /// The batches of one pull (see [`Mirror::pull`]); returns how many were folded. The
    /// last commit may still be under way in `pending`.
    pub(super) fn pull_batches(
        &mut self,
        fetcher: &TileFetcher<'_>,
        target: &SignedCheckpoint,
        options: &PullOptions,
        progress: &mut dyn FnMut(PullProgress),
        pending: &mut Option<PendingCommit>,
    ) -> Result<u64> {
        let size = target.checkpoint.size;
        // Whatever an earlier pull folded past the cursor (a commit that failed) is forgotten:
        // the engine starts from what the store holds.
        self.engine
            .reload(self.registry.clone())
            .map_err(engine_error)?;
        let mut start = self.cursor;
        let mut batches = 0;
        let mut next: Option<FetchedBatch> = None;
        while start < size {
            if options.batches_max.is_some_and(|max| batches >= max) {
                break;
            }
            let current = match next.take() {
                Some(fetched) => fetched,
                None => self.time(
                    |t| &mut t.fetch_us,
                    || fetcher.fetch_batch(&self.origin, target, start),
                )?,
            };
            let current_end = current.start + current.entries.len() as u64;
            let another = options.batches_max.is_none_or(|max| batches + 1 < max);
            let mut fetch_failure = None;
            if current_end < size && another {
                let fetched = self.time(
                    |t| &mut t.fetch_us,
                    || fetcher.fetch_batch(&self.origin, target, current_end),
                );
                match fetched {
                    Ok(fetched) => next = Some(fetched),
                    // This batch is good: commit it before reporting the next one's failure.
                    Err(error) => fetch_failure = Some(error),
                }
            }
            let FetchedBatch {
                start: current_start,
                entries,
                mut leaf_hashes,
                checked,
            } = current;
            let joined = self.time(|t| &mut t.verify_wait_us, || checked.join());
            let checked = match joined {
                Ok(checked) => checked,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            let fold_started = std::time::Instant::now();
            let violation = self.fold(current_start, checked)?;
            let folded = match &violation {
                Some((index, _)) => index - current_start,
                None => entries.len() as u64,
            };
            let end = current_start + folded;
            let registry_changed = self.engine.registry_changed();
            self.engine.confirm_ids();
            let sealed = self.engine.seal(end);
            let commit_started = std::time::Instant::now();
            // The batch before must be in the store first: this batch's counters follow its.
            self.finish_commit(pending.take())?;
            *pending = self.start_commit(
                sealed,
                registry_changed,
                (current_start, &entries, {
                    // The folded entries' leaves move to the commit; the rest are not needed.
                    leaf_hashes.truncate(folded as usize);
                    leaf_hashes
                }),
                target,
                fetcher,
            )?;
            let mut timings = self.timings.get();
            timings.fold_us += (commit_started - fold_started).as_micros() as u64;
            timings.commit_us += commit_started.elapsed().as_micros() as u64;
            self.timings.set(timings);
            batches += 1;
            start = end;
            progress(PullProgress {
                cursor: start,
                target: size,
            });
            if let Some((index, why)) = violation {
                // What came before the bad entry is held; then the evidence.
                self.finish_commit(pending.take())?;
                return Err(self.rule_violation(
                    index,
                    &entries[(index - current_start) as usize],
                    &why,
                    target,
                    fetcher,
                    options,
                ));
            }
            if let Some(error) = fetch_failure {
                return Err(error);
            }
        }
        Ok(batches)
    }

    /// Folds the entries of one batch from `start` through the engine, each admitted and then
    /// decided by the rules against the partner's registry and records. Stops at the first
    /// entry that may not join, returning it and why.
    fn fold(
        &mut self,
        start: u64,
        checked: Vec<crate::verify::Checked>,
    ) -> Result<Option<(u64, String)>> {
        self.engine.begin(self.cursor);
        for (offset, item) in checked.into_iter().enumerate() {
            let index = start + offset as u64;
            let signed = match self.admit(item, index) {
                Ok(signed) => signed,
                Err(why) => return Ok(Some((index, why))),
            };
            let decided = self
                .engine
                .fold(&signed, index, Judge::Rules)
                .map_err(engine_error)?;
            if let Err(rejection) = decided {
                let why = format!(
                    "entry {index} ({}) breaks the rules: {} ({rejection})",
                    signed.event.kind.name(),
                    rejection.code()
                );
                return Ok(Some((index, why)));
            }
        }
        Ok(None)
    }

    /// Appends the leaves of the folded entries `(start, entries, leaf_hashes)` to the tree
    /// and syncs it, then starts the
    /// store's batch ([`super::store::MirrorRecords::commit`]) on a thread of its own. The
    /// commit before must be finished.
    fn start_commit(
        &mut self,
        sealed: Sealed,
        registry_changed: bool,
        (start, entries, leaf_hashes): (u64, &Arc<Vec<Vec<u8>>>, Vec<Hash>),
        target: &SignedCheckpoint,
        fetcher: &TileFetcher<'_>,
    ) -> Result<Option<PendingCommit>> {
        let folded = leaf_hashes.len();
        if folded == 0 {
            return Ok(None);
        }
        assert_eq!(start, self.cursor, "batches commit in order");
        let end = sealed.cursor;
        // The tree first, synced: a tree ahead of the cursor is cut back (at open, and when a
        // pull starts), a tree behind it would be damage.
        let tree_started = std::time::Instant::now();
        self.tree
            .append(&leaf_hashes)
            .and_then(|_| self.tree.sync())
            .map_err(|error| store_error(format!("mirror tree: {error}")))?;
        let mut timings = self.timings.get();
        timings.tree_us += tree_started.elapsed().as_micros() as u64;
        self.timings.set(timings);
        let held_proof = self
            .held_proof(end, &target.checkpoint, fetcher)
            .map(|proof| proof.to_text());
        let certified = sealed
            .overlay
            .credentials
            .values()
            .filter(|credential| credential.entry_index >= start)
            .count() as u64;
        let credentials = self.credentials + certified;
        // Only a batch with registry events moves the registry: the others leave it be.
        let registry = registry_changed.then(|| self.engine.registry().clone());
        let records = self.engine.store().clone();
        let entries = Arc::clone(entries);
        let handle = std::thread::Builder::new()
            .name("mirror-commit".to_string())
            .spawn(move || {
                let started = std::time::Instant::now();
                records.commit(&CommitBatch {
                    sealed: &sealed,
                    start,
                    entries: &entries[..folded],
                    leaf_hashes: &leaf_hashes,
                    held_proof,
                    credentials,
                })?;
                Ok(started.elapsed().as_micros() as u64)
            })
            .map_err(|error| {
                SyncError::new(
                    SyncErrorKind::Io,
                    format!("starting a commit thread: {error}"),
                )
            })?;
        Ok(Some(PendingCommit {
            end,
            credentials,
            registry,
            handle,
        }))
    }

    /// Waits for a commit under way; once it is in the store, the mirror's cursor, count and
    /// registry move to it.
    pub(super) fn finish_commit(&mut self, pending: Option<PendingCommit>) -> Result<()> {
        let Some(pending) = pending else {
            return Ok(());
        };
        let store_us = match pending.handle.join() {
            Ok(written) => written?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let mut timings = self.timings.get();
        timings.store_us += store_us;
        self.timings.set(timings);
        self.engine.store().set_committed(pending.end);
        self.cursor = pending.end;
        self.credentials = pending.credentials;
        if let Some(registry) = pending.registry {
            self.registry = registry;
        }
        Ok(())
    }
}
