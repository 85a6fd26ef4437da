//! The sequencer: one thread that turns queued submissions into durable, decided batches.
//!
//! Per batch: verify every signature (batch verification, split across the cores), decide each
//! event in order against the state plus the batch so far, append the accepted entries to the
//! log with one fsync, integrate them into the Merkle tree, sign a checkpoint, commit the
//! projections with their cursor, and only then answer each submitter. A rejected event writes
//! nothing. A storage failure stops the sequencer: nothing after it is acknowledged.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, VerifyingKey};
use skill_ledger_domain::{
    apply, decide, signing_message, EventKind, RecordView, Registry, Rejection, SignedEvent,
};
use skill_ledger_log::{leaf_hash, CheckpointSigner, Log, MerkleTree, SignedCheckpoint};

use crate::error::NodeError;
use crate::metrics::Metrics;
use crate::projection::{Overlay, OverlayView, Projection};
use crate::Clock;

/// A durable acknowledgement: where the event is and the checkpoint that covers it.
#[derive(Clone, Debug)]
pub struct Receipt {
    pub index: u64,
    /// True when the same event had already been accepted: `index` is the first acceptance.
    pub duplicate: bool,
    pub checkpoint: Arc<SignedCheckpoint>,
}

/// Why a submission got no receipt.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SubmitError {
    #[error("rejected ({code}): {rejection}", code = .0.code(), rejection = .0)]
    Rejected(Rejection),
    #[error("the entry is malformed: {0}")]
    Malformed(String),
    #[error("the submission queue is full: retry later")]
    Overloaded,
    #[error("the node has stopped accepting submissions: {0}")]
    Stopped(String),
}

pub(crate) type Reply = tokio::sync::oneshot::Sender<Result<Receipt, SubmitError>>;

/// One queued submission, encoded once by the submitter.
pub(crate) struct Submission {
    pub signed: SignedEvent,
    pub entry: Vec<u8>,
    pub event_offset: usize,
    pub enqueued: Instant,
    pub reply: Reply,
}

pub(crate) enum Message {
    Submit(Box<Submission>),
    Flush(std::sync::mpsc::Sender<Result<(), String>>),
}

/// Bounds of the sequencer.
#[derive(Clone, Copy, Debug)]
pub struct SequencerOptions {
    pub batch_events_max: usize,
    pub batch_delay_max: Duration,
    pub queue_events_max: usize,
}

impl Default for SequencerOptions {
    fn default() -> SequencerOptions {
        SequencerOptions {
            batch_events_max: 4_096,
            batch_delay_max: Duration::from_millis(2),
            queue_events_max: 65_536,
        }
    }
}

/// What the sequencer shares with readers.
pub(crate) struct Shared {
    pub registry: RwLock<Arc<Registry>>,
    pub checkpoint: RwLock<Option<Arc<SignedCheckpoint>>>,
    pub stopped: Mutex<Option<String>>,
    pub metrics: Metrics,
}

impl Shared {
    /// Why the sequencer stopped accepting submissions, if it did.
    pub fn stopped_reason(&self) -> Option<String> {
        match self.stopped.lock() {
            Ok(stopped) => stopped.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

pub(crate) struct Sequencer {
    pub origin: String,
    pub log: Log,
    pub tree: MerkleTree,
    pub signer: CheckpointSigner,
    pub projection: Projection,
    pub registry: Registry,
    pub stats: BTreeMap<String, i64>,
    pub shared: Arc<Shared>,
    pub clock: Arc<dyn Clock>,
    pub options: SequencerOptions,
    pub overlay: Overlay,
    pub key_cache: KeyCache,
}

enum Outcome {
    Accepted(u64),
    Duplicate(u64),
    Rejected(Rejection),
}

impl Sequencer {
    pub fn run(mut self, receiver: Receiver<Message>) {
        let mut batch: Vec<Submission> = Vec::with_capacity(self.options.batch_events_max);
        while let Ok(message) = receiver.recv() {
            let mut flushes = Vec::new();
            match message {
                Message::Submit(submission) => batch.push(*submission),
                Message::Flush(done) => flushes.push(done),
            }
            let deadline = Instant::now() + self.options.batch_delay_max;
            while batch.len() < self.options.batch_events_max && flushes.is_empty() {
                let wait = deadline.saturating_duration_since(Instant::now());
                match receiver.recv_timeout(wait) {
                    Ok(Message::Submit(submission)) => batch.push(*submission),
                    Ok(Message::Flush(done)) => flushes.push(done),
                    Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            self.shared
                .metrics
                .queue_depth
                .fetch_sub(batch.len() as u64, Ordering::Relaxed);
            if !batch.is_empty() {
                self.process(&mut batch);
            }
            for done in flushes {
                let result = self.projection.flush().map_err(|error| error.to_string());
                let _ = done.send(result);
            }
        }
        if let Err(error) = self.projection.flush() {
            tracing::error!(%error, "flushing projections at shutdown failed");
        }
    }

    fn stop(&self, error: &NodeError) {
        tracing::error!(%error, "sequencer stopped: no further submissions are acknowledged");
        let mut stopped = match self.shared.stopped.lock() {
            Ok(stopped) => stopped,
            Err(poisoned) => poisoned.into_inner(),
        };
        stopped.get_or_insert_with(|| error.to_string());
    }

    fn process(&mut self, batch: &mut Vec<Submission>) {
        if let Some(reason) = self.shared.stopped_reason() {
            for submission in batch.drain(..) {
                let _ = submission
                    .reply
                    .send(Err(SubmitError::Stopped(reason.clone())));
            }
            return;
        }
        let signature_ok = verify_signatures(&self.origin, batch, &mut self.key_cache);
        match self.decide_batch(batch, &signature_ok) {
            Ok(outcomes) => match self.commit(batch, &outcomes) {
                Ok(checkpoint) => self.answer(batch, outcomes, checkpoint),
                Err(error) => self.fail(batch, &error),
            },
            Err(error) => self.fail(batch, &error),
        }
    }

    fn fail(&mut self, batch: &mut Vec<Submission>, error: &NodeError) {
        self.stop(error);
        for submission in batch.drain(..) {
            let _ = submission
                .reply
                .send(Err(SubmitError::Stopped(error.to_string())));
        }
    }

    fn decide_batch(
        &mut self,
        batch: &[Submission],
        signature_ok: &[bool],
    ) -> Result<Vec<Outcome>, NodeError> {
        self.overlay.clear();
        let base_index = self.log.entry_count();
        let mut next_index = base_index;
        let mut accepted_entries: Vec<usize> = Vec::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        for (position, submission) in batch.iter().enumerate() {
            let view = OverlayView::new(&self.projection, &self.overlay);
            // `Ok(changes)` when accepted, `Err(outcome)` otherwise.
            let decided = if let Some(first) = view.event_index(&submission.signed.event.id) {
                let first_entry = if first >= base_index {
                    batch[accepted_entries[(first - base_index) as usize]]
                        .entry
                        .clone()
                } else {
                    self.log.reader().read(first)?
                };
                if first_entry == submission.entry {
                    Err(Outcome::Duplicate(first))
                } else {
                    Err(Outcome::Rejected(Rejection::DuplicateEventId {
                        event_id: submission.signed.event.id,
                        first_index: first,
                    }))
                }
            } else if !signature_ok[position] {
                Err(Outcome::Rejected(Rejection::BadSignature))
            } else if let Err(rejection) = self.check_origin(&submission.signed) {
                Err(Outcome::Rejected(rejection))
            } else {
                match decide(&self.registry, &view, &submission.signed) {
                    Ok(()) => Ok(apply(&self.registry, &view, &submission.signed, next_index)),
                    Err(rejection) => Err(Outcome::Rejected(rejection)),
                }
            };
            // A store read that failed while deciding is fatal to the batch, whatever the
            // decision was: a rejection based on a failed read would be a wrong answer.
            if let Some(error) = view.take_failure() {
                return Err(error);
            }
            let outcome = match decided {
                Ok(changes) => {
                    self.overlay
                        .absorb(changes, &mut self.registry, &mut self.stats);
                    accepted_entries.push(position);
                    next_index += 1;
                    Outcome::Accepted(next_index - 1)
                }
                Err(outcome) => outcome,
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    fn check_origin(&self, signed: &SignedEvent) -> Result<(), Rejection> {
        if let EventKind::LedgerEstablished(established) = &signed.event.kind {
            if established.origin != self.origin {
                return Err(Rejection::OriginMismatch {
                    expected: self.origin.clone(),
                    found: established.origin.clone(),
                });
            }
        }
        Ok(())
    }

    /// Makes the accepted entries durable and visible; returns the checkpoint covering them.
    fn commit(
        &mut self,
        batch: &[Submission],
        outcomes: &[Outcome],
    ) -> Result<Arc<SignedCheckpoint>, NodeError> {
        let entries: Vec<&[u8]> = batch
            .iter()
            .zip(outcomes)
            .filter(|(_, outcome)| matches!(outcome, Outcome::Accepted(_)))
            .map(|(submission, _)| submission.entry.as_slice())
            .collect();
        let latest = self.shared.checkpoint.read().ok().and_then(|c| c.clone());
        if entries.is_empty() {
            if let Some(latest) = latest {
                return Ok(latest);
            }
        }
        let range = self.log.append_batch(&entries)?;
        let leaves: Vec<_> = entries.iter().map(|entry| leaf_hash(entry)).collect();
        self.tree.append(&leaves)?;
        assert_eq!(self.tree.size(), range.end, "tree and log sizes diverged");
        let checkpoint = Arc::new(self.signer.sign(
            &self.tree.reader(),
            range.end,
            self.clock.now_unix_s(),
        )?);
        self.projection
            .commit(&self.overlay, &self.stats, range.end)?;
        if !self.overlay.registry_changes.is_empty() {
            let mut shared = match self.shared.registry.write() {
                Ok(shared) => shared,
                Err(poisoned) => poisoned.into_inner(),
            };
            *shared = Arc::new(self.registry.clone());
        }
        if let Ok(mut shared) = self.shared.checkpoint.write() {
            *shared = Some(checkpoint.clone());
        }
        self.shared
            .metrics
            .tree_size
            .store(range.end, Ordering::Relaxed);
        Ok(checkpoint)
    }

    fn answer(
        &mut self,
        batch: &mut Vec<Submission>,
        outcomes: Vec<Outcome>,
        checkpoint: Arc<SignedCheckpoint>,
    ) {
        let metrics = &self.shared.metrics;
        metrics.batches.fetch_add(1, Ordering::Relaxed);
        metrics.batch_events.record(batch.len() as u64);
        for (submission, outcome) in batch.drain(..).zip(outcomes) {
            let result = match outcome {
                Outcome::Accepted(index) => {
                    metrics.accepted.fetch_add(1, Ordering::Relaxed);
                    Ok(Receipt {
                        index,
                        duplicate: false,
                        checkpoint: checkpoint.clone(),
                    })
                }
                Outcome::Duplicate(index) => {
                    metrics.duplicates.fetch_add(1, Ordering::Relaxed);
                    Ok(Receipt {
                        index,
                        duplicate: true,
                        checkpoint: checkpoint.clone(),
                    })
                }
                Outcome::Rejected(rejection) => {
                    metrics.count_rejection(rejection.code());
                    Err(SubmitError::Rejected(rejection))
                }
            };
            metrics
                .commit_latency_us
                .record_duration(submission.enqueued.elapsed());
            let _ = submission.reply.send(result);
        }
    }
}

/// Checks every signature of the batch: batch verification on two halves in parallel, and
/// one-by-one only for a half that fails, to find the culprits. Weak keys never verify.
pub(crate) fn verify_signatures(
    origin: &str,
    batch: &[Submission],
    key_cache: &mut KeyCache,
) -> Vec<bool> {
    let messages: Vec<Vec<u8>> = batch
        .iter()
        .map(|submission| signing_message(origin, &submission.entry[submission.event_offset..]))
        .collect();
    let keys: Vec<Option<VerifyingKey>> = batch
        .iter()
        .map(|submission| key_cache.get(&submission.signed.public_key))
        .collect();
    let signatures: Vec<Signature> = batch
        .iter()
        .map(|submission| Signature::from_bytes(&submission.signed.signature))
        .collect();
    let mut results = vec![false; batch.len()];
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = batch.len().div_ceil(threads).max(64);
    std::thread::scope(|scope| {
        for (chunk_index, out) in results.chunks_mut(chunk).enumerate() {
            let start = chunk_index * chunk;
            let messages = &messages[start..start + out.len()];
            let keys = &keys[start..start + out.len()];
            let signatures = &signatures[start..start + out.len()];
            scope.spawn(move || verify_chunk(messages, keys, signatures, out));
        }
    });
    results
}

/// Decompressed public keys by their bytes. Decompression costs about as much as a
/// verification, and a ledger has few signers (its bodies and its authority), so keys are
/// decompressed (and checked for weakness) once. Bounded: cleared when it grows too large.
#[derive(Default)]
pub(crate) struct KeyCache {
    keys: std::collections::HashMap<[u8; 32], Option<VerifyingKey>>,
}

const KEY_CACHE_ENTRIES_MAX: usize = 100_000;

impl KeyCache {
    fn get(&mut self, bytes: &[u8; 32]) -> Option<VerifyingKey> {
        if let Some(key) = self.keys.get(bytes) {
            return *key;
        }
        if self.keys.len() >= KEY_CACHE_ENTRIES_MAX {
            self.keys.clear();
        }
        let key = VerifyingKey::from_bytes(bytes)
            .ok()
            .filter(|key| !key.is_weak());
        self.keys.insert(*bytes, key);
        key
    }
}

fn verify_chunk(
    messages: &[Vec<u8>],
    keys: &[Option<VerifyingKey>],
    signatures: &[Signature],
    out: &mut [bool],
) {
    if keys.iter().all(Option::is_some) {
        let message_refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let key_values: Vec<VerifyingKey> = keys.iter().flatten().copied().collect();
        if ed25519_dalek::verify_batch(&message_refs, signatures, &key_values).is_ok() {
            out.fill(true);
            return;
        }
    }
    for (position, result) in out.iter_mut().enumerate() {
        *result = keys[position].is_some_and(|key| {
            key.verify_strict(&messages[position], &signatures[position])
                .is_ok()
        });
    }
}
