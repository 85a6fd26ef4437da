//! Phase 2, sequence: decides each batch in order and makes its accepted entries durable.
//!
//! The sequencer thread takes verified batches strictly in order, so the order of the log is
//! the order of the queue. Each event is decided against the state plus the batch so far by
//! the projection engine ([`crate::engine::Engine`]); the accepted entries are appended to
//! the log with one fsync; the sealed batch goes to the writer (integrate, publish, project).
//! A rejected event writes nothing. A storage failure stops the node: nothing after it is
//! acknowledged. A full disk does not: the batch is refused (`StorageFull`) with the log as
//! before it, and the next batch is tried again ([`Sequencer::recover_from_full_disk`]).

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use skill_ledger_domain::{EventKind, Registry, Rejection, SignedEvent};
use skill_ledger_log::Log;

use super::verify::Verified;
use super::{stop, storage_full, ProjectionWork, Shared, Submission, SubmitError, WriterMessage};
use crate::engine::layout::Projection;
use crate::engine::{Engine, Judge};
use crate::error::{Failure, NodeError, NodeErrorKind};

pub(super) struct Sequencer {
    writer: Option<SyncSender<WriterMessage>>,
    origin: String,
    log: Log,
    /// The fold of decided entries into the projections (its overlays of batches still with
    /// the writer stay readable until the projections hold them).
    engine: Engine<Projection>,
    shared: Arc<Shared>,
    /// The log directory, whose filesystem's free space is checked before each batch.
    log_dir: std::path::PathBuf,
    disk_free_min_bytes: u64,
    /// Whether the last batch was refused for lack of space (the log says so once per spell).
    disk_full: bool,
}

/// What became of one submission.
pub(super) enum Outcome {
    Accepted(u64),
    Duplicate(u64),
    Rejected(Rejection),
}

impl Sequencer {
    pub(super) fn new(
        writer: SyncSender<WriterMessage>,
        origin: String,
        log: Log,
        engine: Engine<Projection>,
        shared: Arc<Shared>,
        (log_dir, disk_free_min_bytes): (std::path::PathBuf, u64),
    ) -> Sequencer {
        Sequencer {
            writer: Some(writer),
            origin,
            log_dir,
            log,
            engine,
            shared,
            disk_free_min_bytes,
            disk_full: false,
        }
    }

    pub(super) fn run(mut self, receiver: Receiver<Verified>) {
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
                    .send(Err(SubmitError::StorageFull(Failure::new(
                        NodeErrorKind::StorageFull,
                        reason.clone(),
                    ))));
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
                        .send(Err(SubmitError::StorageFull(Failure::from(error))));
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
            Ok(flushed) => flushed?,
            Err(_) => return Err(stopped()),
        }
        match self.shared.stopped_reason() {
            Some(reason) => Err(reason.into()),
            None => Ok(()),
        }
    }

    fn fail(&mut self, batch: &mut Vec<Submission>, error: &NodeError) {
        self.stop(error);
        for submission in batch.drain(..) {
            let _ = submission
                .reply
                .send(Err(SubmitError::Stopped(Failure::from(error))));
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

/// The entries of a batch's accepted submissions, in order.
pub(super) fn accepted_entries<'a>(
    batch: &'a [Submission],
    outcomes: &'a [Outcome],
) -> impl Iterator<Item = &'a [u8]> + 'a {
    batch
        .iter()
        .zip(outcomes)
        .filter(|(_, outcome)| matches!(outcome, Outcome::Accepted(_)))
        .map(|(submission, _)| submission.entry.as_slice())
}
