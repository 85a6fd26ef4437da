//! Counters and latency histograms the node keeps for `/metrics` and the benchmarks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// A log-linear histogram of microseconds: 8 buckets per power of two (±6 % resolution),
/// fixed size, lock-free to record.
pub struct Histogram {
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_us: AtomicU64,
}

const SUB_BUCKETS: u32 = 8;
const POWERS: u32 = 40;

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            buckets: (0..SUB_BUCKETS * POWERS)
                .map(|_| AtomicU64::new(0))
                .collect(),
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    fn bucket_of(value: u64) -> usize {
        if value < u64::from(SUB_BUCKETS) {
            return value as usize;
        }
        let power = 63 - value.leading_zeros();
        let shift = power - SUB_BUCKETS.trailing_zeros();
        let sub = (value >> shift) as u32 - SUB_BUCKETS;
        let index = (power - SUB_BUCKETS.trailing_zeros() + 1) * SUB_BUCKETS + sub;
        (index as usize).min((SUB_BUCKETS * POWERS) as usize - 1)
    }

    /// The largest value a bucket holds (what quantiles report: an upper bound).
    fn bucket_upper(index: usize) -> u64 {
        let index = index as u32;
        if index < SUB_BUCKETS {
            return u64::from(index);
        }
        let group = index / SUB_BUCKETS - 1;
        let sub = index % SUB_BUCKETS;
        let shift = group;
        ((u64::from(SUB_BUCKETS + sub) + 1) << shift) - 1
    }

    pub fn record(&self, value: u64) {
        self.buckets[Self::bucket_of(value)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(value, Ordering::Relaxed);
    }

    pub fn record_duration(&self, duration: Duration) {
        self.record(duration.as_micros().min(u128::from(u64::MAX)) as u64);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub fn sum(&self) -> u64 {
        self.sum_us.load(Ordering::Relaxed)
    }

    /// The value at quantile `q` (0–1), as the upper bound of its bucket.
    pub fn quantile(&self, q: f64) -> u64 {
        let count = self.count();
        if count == 0 {
            return 0;
        }
        let rank = ((count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, bucket) in self.buckets.iter().enumerate() {
            seen += bucket.load(Ordering::Relaxed);
            if seen >= rank {
                return Self::bucket_upper(index);
            }
        }
        Self::bucket_upper(self.buckets.len() - 1)
    }

    /// Cumulative counts at the given upper bounds (for Prometheus buckets).
    pub fn cumulative_at(&self, bounds: &[u64]) -> Vec<u64> {
        bounds
            .iter()
            .map(|bound| {
                self.buckets
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| Self::bucket_upper(*index) <= *bound)
                    .map(|(_, bucket)| bucket.load(Ordering::Relaxed))
                    .sum()
            })
            .collect()
    }
}

/// Everything the node counts.
#[derive(Default)]
pub struct Metrics {
    pub queue_depth: AtomicU64,
    pub batches: AtomicU64,
    pub accepted: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected_by_code: Mutex<BTreeMap<&'static str, u64>>,
    /// Events per batch.
    pub batch_events: Histogram,
    /// From enqueue to the durable answer, microseconds.
    pub commit_latency_us: Histogram,
    pub tree_size: AtomicU64,
    /// Time spent per stage, microseconds in total (where the time goes).
    /// Verifier stage: signature verification (wall time of the stage, on all cores).
    pub verify_us: AtomicU64,
    /// Sequencer thread: all of its work on batches (decide, log append).
    pub sequencer_us: AtomicU64,
    /// Sequencer thread: deciding the batch (rules, state reads, fold into the overlay).
    pub decide_us: AtomicU64,
    /// Sequencer thread: appending to the log of record, with its fsync.
    pub log_us: AtomicU64,
    /// Writer thread: all of its work on batches (Merkle, checkpoint, projections, answers).
    pub writer_us: AtomicU64,
    /// Writer thread: Merkle integration (leaf hashes, tree append) and checkpoint signing
    /// (with the checkpoint's atomic, fsynced replacement).
    pub merkle_us: AtomicU64,
    /// Writer thread: committing the projections (one sled batch).
    pub projection_us: AtomicU64,
}

impl Metrics {
    pub fn count_rejection(&self, code: &'static str) {
        let mut map = match self.rejected_by_code.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        *map.entry(code).or_insert(0) += 1;
    }

    pub fn rejections(&self) -> BTreeMap<&'static str, u64> {
        match self.rejected_by_code.lock() {
            Ok(map) => map.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_upper_bounds_within_resolution() {
        let histogram = Histogram::default();
        for value in 1..=10_000u64 {
            histogram.record(value);
        }
        let p50 = histogram.quantile(0.5);
        let p99 = histogram.quantile(0.99);
        assert!((5_000..=5_700).contains(&p50), "p50 {p50}");
        assert!((9_900..=11_000).contains(&p99), "p99 {p99}");
        for value in [0u64, 1, 7, 8, 9, 1_000, 123_456_789] {
            let index = Histogram::bucket_of(value);
            assert!(Histogram::bucket_upper(index) >= value, "{value}");
            if index > 0 {
                assert!(Histogram::bucket_upper(index - 1) < value, "{value}");
            }
        }
    }
}
