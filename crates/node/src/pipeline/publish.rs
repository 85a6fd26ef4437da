//! Phase 4, publish: signs a checkpoint over the integrated tree and persists it.
//!
//! Every checkpoint is signed over entries that are already durable in the log, so it may be
//! handed out before it is persisted, and a persisted checkpoint older than the last one
//! handed out cannot lead to a fork (docs/ARCHITECTURE.md, invariants). It is persisted at
//! most every [`CHECKPOINT_PERSIST_INTERVAL`] while the node runs, at a flush and at shutdown:
//! two fsyncs saved per batch.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use skill_ledger_log::{CheckpointSigner, SignedCheckpoint, TreeReader};

use super::{stop, Shared};
use crate::error::NodeError;
use crate::Clock;

/// Longest time a signed checkpoint stays unpersisted while the node runs (it is persisted at
/// a flush and at shutdown too).
const CHECKPOINT_PERSIST_INTERVAL: Duration = Duration::from_secs(1);

/// The checkpoint signer of the writer.
pub(super) struct Publisher {
    signer: CheckpointSigner,
    clock: Arc<dyn Clock>,
    shared: Arc<Shared>,
    /// When the checkpoint was last persisted.
    persisted: Instant,
}

impl Publisher {
    pub(super) fn new(
        signer: CheckpointSigner,
        clock: Arc<dyn Clock>,
        shared: Arc<Shared>,
    ) -> Publisher {
        Publisher {
            signer,
            clock,
            shared,
            persisted: Instant::now(),
        }
    }

    /// How long the writer may wait for work before the checkpoint is due to be persisted
    /// (`None`: nothing to persist).
    pub(super) fn persist_due_in(&self) -> Option<Duration> {
        self.signer
            .is_unpersisted()
            .then(|| CHECKPOINT_PERSIST_INTERVAL.saturating_sub(self.persisted.elapsed()))
    }

    /// The latest checkpoint, if it covers exactly `cursor` entries (a group that accepted
    /// nothing new).
    pub(super) fn latest_covering(&self, cursor: u64) -> Option<Arc<SignedCheckpoint>> {
        let latest = self.shared.checkpoint.read().ok().and_then(|c| c.clone())?;
        (latest.checkpoint.size == cursor).then_some(latest)
    }

    /// A new checkpoint over `cursor` entries of `tree`, handed out at once (persisted later)
    /// and shared with readers.
    pub(super) fn publish(
        &mut self,
        tree: &TreeReader,
        cursor: u64,
    ) -> Result<Arc<SignedCheckpoint>, NodeError> {
        // A wall clock stepped back (NTP) must not stop the node: time never goes backwards.
        let time = (self.clock.now_unix_s())
            .max(self.signer.latest().map_or(0, |l| l.checkpoint.time_unix_s));
        let checkpoint = Arc::new(self.signer.sign_deferred(tree, cursor, time)?);
        if let Ok(mut shared) = self.shared.checkpoint.write() {
            *shared = Some(checkpoint.clone());
        }
        self.shared
            .metrics
            .tree_size
            .store(cursor, Ordering::Relaxed);
        Ok(checkpoint)
    }

    /// Persists the latest signed checkpoint when it is not yet persisted and `now` or the
    /// interval since the last persist is up. A failure stops the node like any storage
    /// failure, except a full disk: the previous checkpoint file is intact and may lag.
    pub(super) fn persist(&mut self, now: bool) {
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
}
