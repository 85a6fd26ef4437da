//! The pipeline: the threads that turn queued submissions into durable, decided, published
//! and projected batches.
//!
//! Five phases, each in its own module, in order:
//!
//! 1. [`verify`]: the verifier thread forms batches from the queue and checks their
//!    signatures on all cores.
//! 2. [`sequence`]: the sequencer thread decides each event in order against the state plus
//!    the batch so far (through the projection engine) and appends the accepted entries to the
//!    log with one fsync.
//! 3. [`integrate`]: the writer thread appends the batch's leaves to the Merkle tree,
//! 4. [`publish`]: signs a checkpoint covering them (persisted at most once a second),
//! 5. [`project`]: commits the projections with their cursor, and only then answers each
//!    submitter.
//!
//! Three threads run them as a pipeline: batch k+1 is verified while batch k is decided, and
//! batch k is decided while batch k−1 is integrated, published and projected. Batches are
//! taken strictly in order at every phase, so the order of the log is the order of the queue,
//! and a receipt is only given once its entry is durable, covered by a signed checkpoint and
//! readable. The channels between the phases are bounded by [`SequencerOptions`].
//! [`Pipeline::start`] starts them over what the node's recovery opened.

mod integrate;
mod project;
mod publish;
mod sequence;
mod verify;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use skill_ledger_domain::{EntryError, Registry, Rejection, SignedEvent};
use skill_ledger_log::{CheckpointSigner, Log, MerkleTree, SignedCheckpoint};

use crate::engine::layout::Projection;
use crate::engine::{Engine, Sealed};
use crate::error::{Failure, NodeError, NodeErrorKind};
use crate::metrics::Metrics;
use crate::Clock;
use integrate::Integrator;
use project::{answer, Projector};
use publish::Publisher;
use sequence::{Outcome, Sequencer};
use verify::Verifier;

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
    Malformed(EntryError),
    #[error("the submission queue is full: retry later")]
    Overloaded,
    /// The node stopped after a failure (named, with its kind), or is closing.
    #[error("the node has stopped accepting submissions: {0}")]
    Stopped(Failure),
    /// The disk holding the ledger is full: nothing was written; retry once space is freed.
    #[error("the disk is full: {0}")]
    StorageFull(Failure),
}

type Reply = tokio::sync::oneshot::Sender<Result<Receipt, SubmitError>>;

/// Where a flush reports that everything queued before it is committed and flushed.
pub(crate) type Flush = std::sync::mpsc::Sender<Result<(), NodeError>>;

/// One queued submission, encoded once by the submitter.
pub(crate) struct Submission {
    signed: SignedEvent,
    entry: Vec<u8>,
    event_offset: usize,
    enqueued: Instant,
    reply: Reply,
}

pub(crate) enum Message {
    Submit(Box<Submission>),
    Flush(Flush),
}

/// Bounds of the pipeline: batch sizes, the queue, and the channels between its phases.
#[derive(Clone, Copy, Debug)]
pub struct SequencerOptions {
    pub batch_events_max: usize,
    pub batch_delay_max: Duration,
    pub queue_events_max: usize,
    /// Batches are refused while the ledger's filesystem has less available.
    pub disk_free_min_bytes: u64,
    /// Verified batches waiting for the sequencer: the verifier runs this many batches ahead.
    pub verified_batches_max: usize,
    /// Sealed batches waiting for the writer (their overlays stay readable meanwhile).
    pub sealed_batches_max: usize,
    /// Most batches the writer integrates under one checkpoint and commits as one.
    pub writer_group_batches_max: usize,
}

impl Default for SequencerOptions {
    fn default() -> SequencerOptions {
        SequencerOptions {
            batch_events_max: 4_096,
            batch_delay_max: Duration::from_millis(2),
            queue_events_max: 65_536,
            disk_free_min_bytes: 64 << 20,
            verified_batches_max: 1,
            sealed_batches_max: 4,
            writer_group_batches_max: 8,
        }
    }
}

/// What the sequencer shares with readers.
pub(crate) struct Shared {
    pub(crate) registry: RwLock<Arc<Registry>>,
    pub(crate) checkpoint: RwLock<Option<Arc<SignedCheckpoint>>>,
    stopped: Mutex<Option<Failure>>,
    pub(crate) metrics: Metrics,
    /// Entries the projections hold (the cursor of the last projection commit).
    projected: AtomicU64,
    /// Whether the background scan of held keys (start-up work) is still running.
    pub(crate) scanning_known: std::sync::atomic::AtomicBool,
}

impl Shared {
    /// What readers share with a pipeline over a log of `entries` entries, whose projections
    /// hold them all and whose latest checkpoint is `checkpoint`.
    pub(crate) fn new(
        registry: Registry,
        checkpoint: Option<Arc<SignedCheckpoint>>,
        entries: u64,
    ) -> Shared {
        let shared = Shared {
            registry: RwLock::new(Arc::new(registry)),
            checkpoint: RwLock::new(checkpoint),
            stopped: Mutex::new(None),
            metrics: Metrics::default(),
            projected: AtomicU64::new(entries),
            scanning_known: std::sync::atomic::AtomicBool::new(true),
        };
        shared.metrics.tree_size.store(entries, Ordering::Relaxed);
        shared
    }

    /// Why the sequencer stopped accepting submissions, if it did.
    pub(crate) fn stopped_reason(&self) -> Option<Failure> {
        match self.stopped.lock() {
            Ok(stopped) => stopped.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
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

/// Stops the pipeline: no further submission is acknowledged.
fn stop(shared: &Shared, error: &NodeError) {
    tracing::error!(%error, "sequencer stopped: no further submissions are acknowledged");
    let mut stopped = match shared.stopped.lock() {
        Ok(stopped) => stopped,
        Err(poisoned) => poisoned.into_inner(),
    };
    stopped.get_or_insert_with(|| Failure::from(error));
}

/// What the writer does for one batch (already durable in the log): integrate it into the
/// Merkle tree, publish a checkpoint, commit the projections, then answer its submitters.
pub(crate) struct ProjectionWork {
    sealed: Sealed,
    batch: Vec<Submission>,
    outcomes: Vec<Outcome>,
}

pub(crate) enum WriterMessage {
    Commit(Box<ProjectionWork>),
    Flush(Flush),
}

/// The writer thread: phases 3 to 5 (integrate, publish, project) in batch order. It runs
/// while the sequencer decides and appends the next batch. Batches that queued up while the
/// last group was written share its successor's checkpoint: one signature for all of them.
struct Writer {
    integrator: Integrator,
    publisher: Publisher,
    projector: Projector,
    shared: Arc<Shared>,
    group_batches_max: usize,
}

impl Writer {
    fn run(mut self, receiver: Receiver<WriterMessage>) {
        let mut group: Vec<ProjectionWork> = Vec::new();
        loop {
            // Idle with an unpersisted checkpoint: persist it once the interval is up.
            let message = match self.publisher.persist_due_in() {
                Some(wait) => match receiver.recv_timeout(wait) {
                    Ok(message) => message,
                    Err(RecvTimeoutError::Timeout) => {
                        self.publisher.persist(false);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                None => match receiver.recv() {
                    Ok(message) => message,
                    Err(_) => break,
                },
            };
            let mut flush = None;
            match message {
                WriterMessage::Commit(work) => group.push(*work),
                WriterMessage::Flush(done) => flush = Some(done),
            }
            while flush.is_none() && group.len() < self.group_batches_max {
                match receiver.try_recv() {
                    Ok(WriterMessage::Commit(work)) => group.push(*work),
                    Ok(WriterMessage::Flush(done)) => flush = Some(done),
                    Err(_) => break,
                }
            }
            if !group.is_empty() {
                self.commit(&mut group);
            }
            self.publisher.persist(flush.is_some());
            if let Some(done) = flush {
                let _ = done.send(self.projector.flush());
            }
        }
        self.publisher.persist(true);
        if let Err(error) = self.projector.flush() {
            tracing::error!(%error, "flushing projections at shutdown failed");
        }
    }

    /// Integrates, publishes and projects the group, then answers its submitters; on a
    /// failure the node stops and the group's submitters are told so.
    fn commit(&mut self, group: &mut Vec<ProjectionWork>) {
        let fail_all = |group: &mut Vec<ProjectionWork>, reason: Failure| {
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
        let cursor = group.last().map_or(0, |work| work.sealed.cursor);
        let published = match self.publisher.latest_covering(cursor) {
            Some(latest) => Ok(latest),
            None => self
                .integrator
                .integrate(group, cursor)
                .and_then(|()| self.publisher.publish(&self.integrator.reader(), cursor)),
        };
        let checkpoint = match published {
            Ok(checkpoint) => checkpoint,
            Err(error) => {
                stop(&self.shared, &error);
                return fail_all(group, Failure::from(&error));
            }
        };
        let integrated = Instant::now();
        let metrics = &self.shared.metrics;
        metrics
            .merkle_us
            .fetch_add((integrated - started).as_micros() as u64, Ordering::Relaxed);
        if let Err(error) = self.projector.project(group, cursor) {
            stop(&self.shared, &error);
            return fail_all(group, Failure::from(&error));
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

/// What the node's recovery hands to [`Pipeline::start`]: the log, the tree and the
/// checkpoint signer level with each other, and the engine over projections level with them.
pub(crate) struct Recovered {
    pub(crate) origin: String,
    pub(crate) options: SequencerOptions,
    pub(crate) log: Log,
    pub(crate) log_dir: std::path::PathBuf,
    pub(crate) tree: MerkleTree,
    pub(crate) signer: CheckpointSigner,
    pub(crate) engine: Engine<Projection>,
    pub(crate) projection: Projection,
    pub(crate) clock: Arc<dyn Clock>,
}

/// The running pipeline: its queue and its threads.
pub(crate) struct Pipeline {
    sender: Option<SyncSender<Message>>,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl Pipeline {
    /// Starts the three threads of the five phases over `recovered`.
    pub(crate) fn start(recovered: Recovered, shared: Arc<Shared>) -> Result<Pipeline, NodeError> {
        let Recovered {
            origin,
            options,
            log,
            log_dir,
            tree,
            signer,
            engine,
            projection,
            clock,
        } = recovered;
        let spawn_error = |what: &str, error: std::io::Error| {
            NodeError::with_source(
                NodeErrorKind::Io,
                format!("cannot start the {what} thread: {error}"),
                error,
            )
        };
        let (sender, receiver) = sync_channel(options.queue_events_max);
        let verifier = Verifier::new(origin.clone(), options, shared.clone());
        let writer = Writer {
            integrator: Integrator::new(tree),
            publisher: Publisher::new(signer, clock, shared.clone()),
            projector: Projector::new(projection),
            shared: shared.clone(),
            group_batches_max: options.writer_group_batches_max.max(1),
        };
        let (writer_sender, writer_receiver) = sync_channel(options.sealed_batches_max);
        let writer_thread = std::thread::Builder::new()
            .name("projection-writer".to_string())
            .spawn(move || writer.run(writer_receiver))
            .map_err(|error| spawn_error("projection writer", error))?;
        let sequencer = Sequencer::new(
            writer_sender,
            origin,
            log,
            engine,
            shared.clone(),
            (log_dir, options.disk_free_min_bytes),
        );
        let (verified_sender, verified_receiver) = sync_channel(options.verified_batches_max);
        let verifier_thread = std::thread::Builder::new()
            .name("verifier".to_string())
            .spawn(move || verifier.run(receiver, verified_sender))
            .map_err(|error| spawn_error("verifier", error))?;
        let thread = std::thread::Builder::new()
            .name("sequencer".to_string())
            .spawn(move || {
                sequencer.run(verified_receiver);
                let _ = verifier_thread.join();
                let _ = writer_thread.join();
            })
            .map_err(|error| spawn_error("sequencer", error))?;
        Ok(Pipeline {
            sender: Some(sender),
            thread: Some(thread),
            shared,
        })
    }

    /// What the pipeline shares with readers.
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Queues one submission (`entry` is its encoding, its event's bytes from
    /// `event_offset`), waiting for queue space when `block`, else answering
    /// [`SubmitError::Overloaded`] when the queue is full.
    pub(crate) fn submit(
        &self,
        signed: SignedEvent,
        (entry, event_offset): (Vec<u8>, usize),
        block: bool,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<Receipt, SubmitError>>, SubmitError> {
        let (reply, receiver) = tokio::sync::oneshot::channel();
        let message = Message::Submit(Box::new(Submission {
            signed,
            entry,
            event_offset,
            enqueued: Instant::now(),
            reply,
        }));
        let sender = self.sender.as_ref().ok_or_else(|| {
            SubmitError::Stopped(Failure::new(NodeErrorKind::Stopped, "the node is closing"))
        })?;
        let depth = &self.shared.metrics.queue_depth;
        depth.fetch_add(1, Ordering::Relaxed);
        let sent = if block {
            sender
                .send(message)
                .map_err(|_| SubmitError::Stopped(Failure::sequencer_ended()))
        } else {
            sender.try_send(message).map_err(|error| match error {
                TrySendError::Full(_) => SubmitError::Overloaded,
                TrySendError::Disconnected(_) => SubmitError::Stopped(Failure::sequencer_ended()),
            })
        };
        if let Err(error) = sent {
            depth.fetch_sub(1, Ordering::Relaxed);
            return Err(error);
        }
        Ok(receiver)
    }

    /// Waits until everything queued so far is committed and the projections are flushed.
    /// `Ok(false)` when the pipeline is not running (nothing is queued then).
    pub(crate) fn flush(&self) -> Result<bool, NodeError> {
        let Some(sender) = &self.sender else {
            return Ok(false);
        };
        let (done, wait) = std::sync::mpsc::channel();
        if sender.send(Message::Flush(done)).is_err() {
            return Ok(false);
        }
        match wait.recv() {
            Ok(flushed) => flushed.map(|()| true),
            Err(_) => Err(NodeError::new(
                NodeErrorKind::Stopped,
                "the sequencer ended during a flush",
            )),
        }
    }

    /// Finishes the queued work and stops the threads.
    pub(crate) fn shutdown(&mut self) {
        self.sender.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.shutdown();
    }
}
