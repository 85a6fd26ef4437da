//! `ledger.toml`: what a ledger directory is, and its tuning.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{NodeError, NodeErrorKind};
use crate::sequencer::SequencerOptions;

/// The contents of `ledger.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// The log origin, e.g. `skill-ledger/50`: named in every signature and checkpoint.
    pub origin: String,
    /// Two-digit province code of the authority.
    pub province: u8,
    #[serde(default)]
    pub sequencer: SequencerConfig,
}

/// Sequencer bounds, all optional.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequencerConfig {
    #[serde(default = "default_batch_events_max")]
    pub batch_events_max: u32,
    #[serde(default = "default_batch_delay_ms_max")]
    pub batch_delay_ms_max: u32,
    #[serde(default = "default_queue_events_max")]
    pub queue_events_max: u32,
    /// Batches are refused (`storage-full`, retried by the client) while the filesystem
    /// holding the ledger has less than this many MiB available, so the log, the tree and the
    /// projections never run into a full disk part-way through a batch.
    #[serde(default = "default_disk_free_min_mb")]
    pub disk_free_min_mb: u32,
    /// Events signed by an evaluation body may be dated at most this many days before the
    /// node's date (`dated-too-far-back`); 0, the default, bounds nothing. Bounds what a
    /// stolen body key can backdate before its revocation is logged (docs/security.md).
    #[serde(default)]
    pub backdate_days_max: u32,
}

fn default_batch_events_max() -> u32 {
    4_096
}
fn default_batch_delay_ms_max() -> u32 {
    2
}
fn default_queue_events_max() -> u32 {
    65_536
}
fn default_disk_free_min_mb() -> u32 {
    64
}

impl Default for SequencerConfig {
    fn default() -> SequencerConfig {
        SequencerConfig {
            batch_events_max: default_batch_events_max(),
            batch_delay_ms_max: default_batch_delay_ms_max(),
            queue_events_max: default_queue_events_max(),
            disk_free_min_mb: default_disk_free_min_mb(),
            backdate_days_max: 0,
        }
    }
}

impl SequencerConfig {
    pub fn options(&self) -> SequencerOptions {
        SequencerOptions {
            batch_events_max: self.batch_events_max.clamp(1, 1 << 16) as usize,
            batch_delay_max: Duration::from_millis(u64::from(self.batch_delay_ms_max.min(1_000))),
            queue_events_max: self.queue_events_max.clamp(1, 1 << 22) as usize,
            disk_free_min_bytes: u64::from(self.disk_free_min_mb) << 20,
        }
    }
}

impl LedgerConfig {
    pub fn load(path: &Path) -> Result<LedgerConfig, NodeError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                NodeError::new(
                    NodeErrorKind::Directory,
                    format!(
                        "{} not found: is this a ledger directory? (create one with `skill-ledger init`)",
                        path.display()
                    ),
                )
            } else {
                NodeError::io(path, "read", error)
            }
        })?;
        toml::from_str(&text).map_err(|error| {
            NodeError::new(
                NodeErrorKind::Config,
                format!("{}: {error}", path.display()),
            )
        })
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}
