//! Phase 1, verify: forms batches from the submission queue and checks their signatures.
//!
//! The verifier thread runs one batch ahead of the sequencer: while batch k is decided and
//! appended, batch k+1's signatures are checked on all cores by the one verifier of every
//! path ([`skill_ledger_domain::verify_signed`]).

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use skill_ledger_domain::{verify_signed, KeyCache, SignedBytes};

use super::{Flush, Message, SequencerOptions, Shared, Submission};

/// A batch whose signatures are checked, on its way from the verifier to the sequencer.
pub(super) struct Verified {
    pub(super) batch: Vec<Submission>,
    pub(super) signature_ok: Vec<bool>,
    pub(super) flushes: Vec<Flush>,
}

/// The first stage: forms batches from the queue and verifies their signatures.
pub(super) struct Verifier {
    origin: String,
    options: SequencerOptions,
    shared: Arc<Shared>,
    key_cache: KeyCache,
}

impl Verifier {
    pub(super) fn new(origin: String, options: SequencerOptions, shared: Arc<Shared>) -> Verifier {
        Verifier {
            origin,
            options,
            shared,
            key_cache: KeyCache::default(),
        }
    }

    pub(super) fn run(mut self, receiver: Receiver<Message>, next: SyncSender<Verified>) {
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

/// Checks every signature of the batch with the one verifier of every path
/// ([`skill_ledger_domain::verify_signed`]).
fn verify_signatures(origin: &str, batch: &[Submission], key_cache: &mut KeyCache) -> Vec<bool> {
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
