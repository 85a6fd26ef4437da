//! Phase 5, project: commits the group's projections with their cursor, then answers.
//!
//! The batches of a group are committed as one ([`crate::engine::layout::Projection::commit_group`]):
//! their cursors are consecutive, and a record several of them changed is written once. Only
//! then is each submitter answered, so a receipt is given once the entry is durable, covered by
//! a signed checkpoint, and readable.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use skill_ledger_log::SignedCheckpoint;

use super::sequence::Outcome;
use super::{ProjectionWork, Receipt, Submission, SubmitError};
use crate::engine::layout::Projection;
use crate::engine::overlay::Overlay;
use crate::error::NodeError;
use crate::metrics::Metrics;

/// The projection store the writer commits to.
pub(super) struct Projector {
    projection: Projection,
}

impl Projector {
    pub(super) fn new(projection: Projection) -> Projector {
        Projector { projection }
    }

    /// Commits the group's batches (oldest first) and moves the cursor to `cursor`.
    pub(super) fn project(&self, group: &[ProjectionWork], cursor: u64) -> Result<(), NodeError> {
        let parts: Vec<(&Overlay, &[(String, i64)])> = group
            .iter()
            .filter(|work| !work.sealed.overlay.is_empty())
            .map(|work| (work.sealed.overlay.as_ref(), work.sealed.stats.as_slice()))
            .collect();
        if parts.is_empty() {
            return Ok(());
        }
        self.projection.commit_group(&parts, cursor)
    }

    pub(super) fn flush(&self) -> Result<(), NodeError> {
        self.projection.flush()
    }
}

pub(super) fn answer(
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
