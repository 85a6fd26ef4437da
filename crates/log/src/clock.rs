//! The one clock of every crate that reads the time: wall-clock seconds, the calendar day, and
//! waiting, behind a trait so tests and the federation simulation drive them all from one
//! source.
//!
//! The ledger rules read no clock (every date a rule needs is a field of an event). What
//! does read one: a node's admission (no event dated in the future) and checkpoint times, a
//! mirror's pull (its timestamps and its retry backoff), a witness's cosignatures, evidence
//! records. Each takes a `&dyn Clock` (or an `Arc<dyn Clock>`) rather than calling the system
//! clock.

use std::time::Duration;

/// Wall-clock time and waiting.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix_s(&self) -> u64;

    /// The UTC calendar day of [`Clock::now_unix_s`], as days since 1970-01-01.
    fn days_since_unix_epoch(&self) -> i64 {
        (self.now_unix_s() / 86_400) as i64
    }

    /// Waits `duration` (a retry's backoff). A simulated clock advances instead.
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_s(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|duration| duration.as_secs())
            .unwrap_or(0)
    }
}
