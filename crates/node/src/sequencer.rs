//! The sequencer: one thread that turns queued submissions into durable, decided batches.
//!
//! Per batch: verify every signature (batch verification, split across the cores), decide each
//! event in order against the state plus the batch so far, append the accepted entries to the
//! log with one fsync, integrate them into the Merkle tree, sign a checkpoint, commit the
//! projections with their cursor, and only then answer each submitter. A rejected event writes
//! nothing. A storage failure stops the sequencer: nothing after it is acknowledged. A full
//! disk does not: the batch is refused (`StorageFull`) with the log as before it, and the next
//! batch is tried again (see [`Sequencer::recover_from_full_disk`]).
//!
//! Two stages run as a pipeline: the verifier thread forms batch k+1 and checks its signatures
//! (on all cores) while the sequencer thread decides and commits batch k. The sequencer takes
//! batches strictly in order, so the order of the log is the order of the queue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use skill_ledger_domain::{
    verify_signed, EventKind, KeyCache, Registry, Rejection, SignedBytes, SignedEvent,
};
use skill_ledger_log::{leaf_hash, CheckpointSigner, Log, MerkleTree, SignedCheckpoint};

use crate::engine::layout::Projection;
use crate::engine::overlay::Overlay;
use crate::engine::{Engine, Judge, Sealed};
use crate::error::{NodeError, NodeErrorKind};
use crate::metrics::Metrics;
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
    /// The disk holding the ledger is full: nothing was written; retry once space is freed.
    #[error("the disk is full: {0}")]
    StorageFull(String),
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
    /// Batches are refused while the ledger's filesystem has less available.
    pub disk_free_min_bytes: u64,
}

impl Default for SequencerOptions {
    fn default() -> SequencerOptions {
        SequencerOptions {
            batch_events_max: 4_096,
            batch_delay_max: Duration::from_millis(2),
            queue_events_max: 65_536,
            disk_free_min_bytes: 64 << 20,
        }
    }
}

/// What the sequencer shares with readers.
pub(crate) struct Shared {
    pub registry: RwLock<Arc<Registry>>,
    pub checkpoint: RwLock<Option<Arc<SignedCheckpoint>>>,
    pub stopped: Mutex<Option<String>>,
    pub metrics: Metrics,
    /// Entries the projections hold (the cursor of the last projection commit).
    pub projected: AtomicU64,
    /// Whether the background scan of held keys (start-up work) is still running.
    pub scanning_known: std::sync::atomic::AtomicBool,
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
    pub writer: Option<SyncSender<WriterMessage>>,
    pub origin: String,
    pub log: Log,
    /// The fold of decided entries into the projections (its overlays of batches still with
    /// the writer stay readable until the projections hold them).
    pub engine: Engine,
    pub shared: Arc<Shared>,
    /// The log directory, whose filesystem's free space is checked before each batch.
    pub log_dir: std::path::PathBuf,
    pub disk_free_min_bytes: u64,
    /// Whether the last batch was refused for lack of space (the log says so once per spell).
    pub disk_full: bool,
}

/// Why the filesystem under `dir` is too full for another batch, if it is.
pub(crate) fn storage_full(dir: &std::path::Path, min_free_bytes: u64) -> Option<String> {
    match skill_ledger_log::available_bytes(dir) {
        Ok(available) if available < min_free_bytes => Some(format!(
            "{available} bytes available on the filesystem of {}, below the {} MiB the node \
             keeps free (ledger.toml [sequencer] disk_free_min_mb): free space, then retry",
            dir.display(),
            min_free_bytes >> 20
        )),
        Ok(_) => None,
        Err(error) => {
            // Not knowing is not a reason to refuse: the write itself reports a full disk.
            tracing::warn!(%error, "cannot read the free space of the ledger's filesystem");
            None
        }
    }
}

/// A batch whose signatures are checked, on its way from the verifier to the sequencer.
pub(crate) struct Verified {
    batch: Vec<Submission>,
    signature_ok: Vec<bool>,
    flushes: Vec<std::sync::mpsc::Sender<Result<(), String>>>,
}

/// The first stage: forms batches from the queue and verifies their signatures.
pub(crate) struct Verifier {
    pub origin: String,
    pub options: SequencerOptions,
    pub shared: Arc<Shared>,
    pub key_cache: KeyCache,
}

impl Verifier {
    pub fn run(mut self, receiver: Receiver<Message>, next: SyncSender<Verified>) {
        while let Ok(message) = receiver.recv() {
            let mut batch: Vec<Submission> = Vec::with_capacity(self.options.batch_events_max);
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
            let started = Instant::now();
            let signature_ok = if batch.is_empty() || self.shared.stopped_reason().is_some() {
                vec![false; batch.len()]
            } else {
                verify_signatures(&self.origin, &batch, &mut self.key_cache)
            };
            self.shared
                .metrics
                .verify_us
                .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            let verified = Verified {
                batch,
                signature_ok,
                flushes,
            };
            if next.send(verified).is_err() {
                break;
            }
        }
    }
}

enum Outcome {
    Accepted(u64),
    Duplicate(u64),
    Rejected(Rejection),
}

impl Sequencer {
    pub fn run(mut self, receiver: Receiver<Verified>) {
        while let Ok(Verified {
            mut batch,
            signature_ok,
            flushes,
        }) = receiver.recv()
        {
            if !batch.is_empty() {
                let started = Instant::now();
                self.process(&mut batch, &signature_ok);
                self.shared
                    .metrics
                    .sequencer_us
                    .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            }
            for done in flushes {
                // The writer flushes after the projection commits queued before it.
                if let Some(writer) = &self.writer {
                    let _ = writer.send(WriterMessage::Flush(done));
                }
            }
        }
        self.writer.take();
    }

    fn stop(&self, error: &NodeError) {
        stop(&self.shared, error);
    }

    fn process(&mut self, batch: &mut Vec<Submission>, signature_ok: &[bool]) {
        if let Some(reason) = self.shared.stopped_reason() {
            for submission in batch.drain(..) {
                let _ = submission
                    .reply
                    .send(Err(SubmitError::Stopped(reason.clone())));
            }
            return;
        }
        let full = storage_full(&self.log_dir, self.disk_free_min_bytes);
        if full.is_some() != self.disk_full {
            self.disk_full = full.is_some();
            match &full {
                Some(reason) => {
                    tracing::warn!(%reason, "disk full: refusing submissions, nothing written")
                }
                None => tracing::warn!("disk space is available again: accepting submissions"),
            }
        }
        if let Some(reason) = full {
            for submission in batch.drain(..) {
                let _ = submission
                    .reply
                    .send(Err(SubmitError::StorageFull(reason.clone())));
            }
            return;
        }
        let started = Instant::now();
        let decided = self.decide_batch(batch, signature_ok);
        self.shared
            .metrics
            .decide_us
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        match decided {
            Ok(outcomes) => match self.commit(batch, &outcomes) {
                Ok(cursor) => {
                    let work = ProjectionWork {
                        sealed: self.engine.seal(cursor),
                        batch: std::mem::take(batch),
                        outcomes,
                    };
                    let sent = self
                        .writer
                        .as_ref()
                        .map(|writer| writer.send(WriterMessage::Commit(Box::new(work))));
                    if let Some(Err(std::sync::mpsc::SendError(WriterMessage::Commit(work)))) = sent
                    {
                        let mut batch = work.batch;
                        let error =
                            NodeError::new(NodeErrorKind::Stopped, "the projection writer ended");
                        self.fail(&mut batch, &error);
                    }
                }
                Err(error) if error.kind() == NodeErrorKind::StorageFull => {
                    self.recover_from_full_disk(batch, &error)
                }
                Err(error) => self.fail(batch, &error),
            },
            Err(error) => self.fail(batch, &error),
        }
    }

    /// The log found the disk full while appending the batch and cut it off again: the log is
    /// exactly as before the batch. The batch's decisions are already folded into the
    /// in-memory registry and counters, so they are reloaded from what the projections hold
    /// once the writer has committed every earlier batch (the same state a restart would
    /// load). The batch is answered `StorageFull` and the node goes on: the next batch is
    /// appended once space is freed. Any failure on the way stops the node as usual.
    fn recover_from_full_disk(&mut self, batch: &mut Vec<Submission>, error: &NodeError) {
        tracing::warn!(%error, "disk full: batch refused, the log is as before it");
        let reloaded = self.drain_writer().and_then(|()| {
            let registry = match self.shared.registry.read() {
                Ok(registry) => Registry::clone(&registry),
                Err(poisoned) => Registry::clone(&poisoned.into_inner()),
            };
            self.engine.reload(registry)
        });
        match reloaded {
            Ok(()) => {
                for submission in batch.drain(..) {
                    let _ = submission
                        .reply
                        .send(Err(SubmitError::StorageFull(error.to_string())));
                }
            }
            Err(reload) => self.fail(batch, &reload),
        }
    }

    /// Waits until the writer has committed every batch sent to it.
    fn drain_writer(&self) -> Result<(), NodeError> {
        let stopped = || NodeError::new(NodeErrorKind::Stopped, "the projection writer ended");
        let writer = self.writer.as_ref().ok_or_else(stopped)?;
        let (done, wait) = std::sync::mpsc::channel();
        writer
            .send(WriterMessage::Flush(done))
            .map_err(|_| stopped())?;
        match wait.recv() {
            Ok(Ok(())) => {}
            Ok(Err(message)) => return Err(NodeError::new(NodeErrorKind::Projection, message)),
            Err(_) => return Err(stopped()),
        }
        match self.shared.stopped_reason() {
            Some(reason) => Err(NodeError::new(NodeErrorKind::Stopped, reason)),
            None => Ok(()),
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
        self.engine
            .begin(self.shared.projected.load(Ordering::Acquire));
        let base_index = self.log.entry_count();
        let mut next_index = base_index;
        let mut accepted_entries: Vec<usize> = Vec::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        for (position, submission) in batch.iter().enumerate() {
            let outcome =
                if let Some(first) = self.engine.first_index(&submission.signed.event.id)? {
                    let first_entry = if first >= base_index {
                        batch[accepted_entries[(first - base_index) as usize]]
                            .entry
                            .clone()
                    } else {
                        self.log.reader().read(first)?
                    };
                    if first_entry == submission.entry {
                        Outcome::Duplicate(first)
                    } else {
                        Outcome::Rejected(skill_ledger_domain::reused_event_id(
                            &submission.signed,
                            first,
                        ))
                    }
                } else if !signature_ok[position] {
                    Outcome::Rejected(Rejection::BadSignature)
                } else if let Err(rejection) = self.check_origin(&submission.signed) {
                    Outcome::Rejected(rejection)
                } else {
                    match self
                        .engine
                        .fold(&submission.signed, next_index, Judge::Rules)?
                    {
                        Ok(()) => {
                            accepted_entries.push(position);
                            next_index += 1;
                            Outcome::Accepted(next_index - 1)
                        }
                        Err(rejection) => Outcome::Rejected(rejection),
                    }
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
    /// Makes the accepted entries durable (one append, one fsync); returns the new log size.
    /// Merkle integration, the checkpoint and the projections follow in the writer.
    fn commit(&mut self, batch: &[Submission], outcomes: &[Outcome]) -> Result<u64, NodeError> {
        let entries: Vec<&[u8]> = accepted_entries(batch, outcomes).collect();
        if entries.is_empty() {
            return Ok(self.log.entry_count());
        }
        let started = Instant::now();
        let range = self.log.append_batch(&entries)?;
        self.shared
            .metrics
            .log_us
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        // The entries are in the log: the index can confirm candidates from now on.
        self.engine.confirm_ids();
        if self.engine.registry_changed() {
            let mut shared = match self.shared.registry.write() {
                Ok(shared) => shared,
                Err(poisoned) => poisoned.into_inner(),
            };
            *shared = Arc::new(self.engine.registry().clone());
        }
        Ok(range.end)
    }
}

fn accepted_entries<'a>(
    batch: &'a [Submission],
    outcomes: &'a [Outcome],
) -> impl Iterator<Item = &'a [u8]> + 'a {
    batch
        .iter()
        .zip(outcomes)
        .filter(|(_, outcome)| matches!(outcome, Outcome::Accepted(_)))
        .map(|(submission, _)| submission.entry.as_slice())
}

fn stop(shared: &Shared, error: &NodeError) {
    tracing::error!(%error, "sequencer stopped: no further submissions are acknowledged");
    let mut stopped = match shared.stopped.lock() {
        Ok(stopped) => stopped,
        Err(poisoned) => poisoned.into_inner(),
    };
    stopped.get_or_insert_with(|| error.to_string());
}

/// What the writer does for one batch (already durable in the log): integrate it into the
/// Merkle tree, sign a checkpoint, commit the projections, then answer its submitters.
pub(crate) struct ProjectionWork {
    sealed: Sealed,
    batch: Vec<Submission>,
    outcomes: Vec<Outcome>,
}

pub(crate) enum WriterMessage {
    Commit(Box<ProjectionWork>),
    Flush(std::sync::mpsc::Sender<Result<(), String>>),
}

/// The last stage, in batch order: integrates the batch's entries (durable in the log) into
/// the Merkle tree, signs a checkpoint covering them, commits the projections with their
/// cursor (one sled batch), then answers the batch's submitters, so a receipt is only given
/// once the entry is durable, covered by a signed checkpoint, and readable. It runs while the
/// sequencer decides and appends the next batch.
pub(crate) struct Writer {
    pub tree: MerkleTree,
    pub signer: CheckpointSigner,
    pub clock: Arc<dyn Clock>,
    pub projection: Projection,
    pub shared: Arc<Shared>,
    /// When the checkpoint was last persisted.
    pub persisted: Instant,
}

/// Longest time a signed checkpoint stays unpersisted while the node runs (it is persisted at
/// a flush and at shutdown too).
pub const CHECKPOINT_PERSIST_INTERVAL: Duration = Duration::from_secs(1);

impl Writer {
    pub fn run(mut self, receiver: Receiver<WriterMessage>) {
        let mut group: Vec<ProjectionWork> = Vec::new();
        loop {
            // Idle with an unpersisted checkpoint: persist it once the interval is up.
            let message = if self.signer.is_unpersisted() {
                let wait = CHECKPOINT_PERSIST_INTERVAL.saturating_sub(self.persisted.elapsed());
                match receiver.recv_timeout(wait) {
                    Ok(message) => message,
                    Err(RecvTimeoutError::Timeout) => {
                        self.persist_checkpoint(false);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match receiver.recv() {
                    Ok(message) => message,
                    Err(_) => break,
                }
            };
            let mut flush = None;
            match message {
                WriterMessage::Commit(work) => group.push(*work),
                WriterMessage::Flush(done) => flush = Some(done),
            }
            // Batches that queued up while the last group was written share its successor's
            // checkpoint: one signature for all of them.
            while flush.is_none() && group.len() < WRITER_GROUP_BATCHES_MAX {
                match receiver.try_recv() {
                    Ok(WriterMessage::Commit(work)) => group.push(*work),
                    Ok(WriterMessage::Flush(done)) => flush = Some(done),
                    Err(_) => break,
                }
            }
            if !group.is_empty() {
                self.commit(&mut group);
            }
            self.persist_checkpoint(flush.is_some());
            if let Some(done) = flush {
                let result = self.projection.flush().map_err(|error| error.to_string());
                let _ = done.send(result);
            }
        }
        self.persist_checkpoint(true);
        if let Err(error) = self.projection.flush() {
            tracing::error!(%error, "flushing projections at shutdown failed");
        }
    }

    /// Persists the latest signed checkpoint when it is not yet persisted and `now` or the
    /// interval since the last persist is up. Every checkpoint is signed over entries that are
    /// already durable in the log, so a persisted checkpoint older than the last one handed
    /// out cannot lead to a fork (docs/ARCHITECTURE.md, invariants); persisting less often
    /// saves two fsyncs per batch. A failure stops the node like any storage failure.
    fn persist_checkpoint(&mut self, now: bool) {
        if !self.signer.is_unpersisted()
            || !(now || self.persisted.elapsed() >= CHECKPOINT_PERSIST_INTERVAL)
        {
            return;
        }
        let started = Instant::now();
        match self.signer.persist() {
            Ok(()) => {}
            // The disk is full: the previous checkpoint file is intact (the new one is written
            // under a temporary name first) and may lag, since every size signed is durable in
            // the log. Retried after the interval, once space is freed.
            Err(error) if *error.kind() == skill_ledger_log::LogErrorKind::NoSpace => {
                tracing::warn!(%error, "disk full: the checkpoint file is persisted later");
            }
            Err(error) => stop(&self.shared, &NodeError::from(error)),
        }
        self.persisted = Instant::now();
        self.shared
            .metrics
            .merkle_us
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        self.shared
            .metrics
            .writer_us
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    /// Brings the tree level with the log at the group's last cursor; returns the checkpoint
    /// covering the whole group.
    fn integrate(&mut self, group: &[ProjectionWork]) -> Result<Arc<SignedCheckpoint>, NodeError> {
        let cursor = group.last().map_or(0, |work| work.sealed.cursor);
        let latest = self.shared.checkpoint.read().ok().and_then(|c| c.clone());
        if let Some(latest) = latest {
            if latest.checkpoint.size == cursor {
                return Ok(latest);
            }
        }
        let leaves: Vec<_> = group
            .iter()
            .flat_map(|work| accepted_entries(&work.batch, &work.outcomes))
            .map(leaf_hash)
            .collect();
        self.tree.append(&leaves)?;
        assert_eq!(self.tree.size(), cursor, "tree and log sizes diverged");
        // The group's entries are durable in the log (the sequencer's fdatasync): the
        // checkpoint may be handed out before it is persisted. A wall clock stepped back
        // (NTP) must not stop the node: time never goes backwards.
        let time = (self.clock.now_unix_s())
            .max(self.signer.latest().map_or(0, |l| l.checkpoint.time_unix_s));
        let checkpoint = Arc::new(
            self.signer
                .sign_deferred(&self.tree.reader(), cursor, time)?,
        );
        if let Ok(mut shared) = self.shared.checkpoint.write() {
            *shared = Some(checkpoint.clone());
        }
        self.shared
            .metrics
            .tree_size
            .store(cursor, Ordering::Relaxed);
        Ok(checkpoint)
    }

    fn commit(&mut self, group: &mut Vec<ProjectionWork>) {
        let fail_all = |group: &mut Vec<ProjectionWork>, reason: String| {
            for work in group.drain(..) {
                for submission in work.batch {
                    let _ = submission
                        .reply
                        .send(Err(SubmitError::Stopped(reason.clone())));
                }
            }
        };
        if let Some(reason) = self.shared.stopped_reason() {
            return fail_all(group, reason);
        }
        let started = Instant::now();
        let checkpoint = match self.integrate(group) {
            Ok(checkpoint) => checkpoint,
            Err(error) => {
                stop(&self.shared, &error);
                return fail_all(group, error.to_string());
            }
        };
        let integrated = Instant::now();
        let metrics = &self.shared.metrics;
        metrics
            .merkle_us
            .fetch_add((integrated - started).as_micros() as u64, Ordering::Relaxed);
        // The group's batches in one projection commit (their cursors are consecutive).
        let parts: Vec<(&Overlay, &[(String, i64)])> = group
            .iter()
            .filter(|work| !work.sealed.overlay.is_empty())
            .map(|work| (work.sealed.overlay.as_ref(), work.sealed.stats.as_slice()))
            .collect();
        let cursor = group.last().map_or(0, |work| work.sealed.cursor);
        if !parts.is_empty() {
            if let Err(error) = self.projection.commit_group(&parts, cursor) {
                stop(&self.shared, &error);
                return fail_all(group, error.to_string());
            }
        }
        self.shared.projected.store(cursor, Ordering::Release);
        metrics
            .projection_us
            .fetch_add(integrated.elapsed().as_micros() as u64, Ordering::Relaxed);
        for work in group.drain(..) {
            let mut batch = work.batch;
            answer(metrics, &mut batch, work.outcomes, checkpoint.clone());
        }
        metrics
            .writer_us
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    }
}

/// Most batches the writer integrates under one checkpoint.
const WRITER_GROUP_BATCHES_MAX: usize = 8;

fn answer(
    metrics: &Metrics,
    batch: &mut Vec<Submission>,
    outcomes: Vec<Outcome>,
    checkpoint: Arc<SignedCheckpoint>,
) {
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

/// Checks every signature of the batch with the one verifier of every path
/// ([`skill_ledger_domain::verify_signed`]).
pub(crate) fn verify_signatures(
    origin: &str,
    batch: &[Submission],
    key_cache: &mut KeyCache,
) -> Vec<bool> {
    let items: Vec<SignedBytes<'_>> = batch
        .iter()
        .map(|submission| SignedBytes {
            event: &submission.entry[submission.event_offset..],
            public_key: &submission.signed.public_key,
            signature: &submission.signed.signature,
        })
        .collect();
    verify_signed(origin, &items, key_cache)
}
