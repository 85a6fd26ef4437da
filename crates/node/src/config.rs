//! `ledger.toml`: what a ledger directory is, and its tuning.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{NodeError, NodeErrorKind};
use crate::pipeline::SequencerOptions;

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
    #[serde(default)]
    pub projections: ProjectionsConfig,
    #[serde(default, skip_serializing_if = "VcConfig::is_empty")]
    pub vc: VcConfig,
}

/// W3C Verifiable Credentials (`[vc]`), all optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VcConfig {
    /// The public base URL the VC issuer's controller document, the VCs' ids and the status
    /// lists are under (`{base_url}/v1/vc/issuer`, …), e.g. `https://zscx.example.cn`:
    /// what `skill-ledger vc setup` logs. The node serves those paths; a proxy may front it.
    pub base_url: Option<String>,
}

impl VcConfig {
    fn is_empty(&self) -> bool {
        self.base_url.is_none()
    }
}

/// The projection store's tuning, all optional.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionsConfig {
    /// sled's page cache, MiB (16 to 65,536), of the projections and of each partner's mirror
    /// store. More keeps more of a large ledger's pages in memory (faster ingest past a few
    /// million events) at the cost of resident memory.
    #[serde(default = "default_projection_cache_mb")]
    pub cache_mb: u32,
}

/// The projections' sled page cache by default, MiB. sled holds several times its cache in
/// memory: with 96 MiB a node of 10⁷ events peaks at about 550 MiB resident during ingest
/// and a rebuild at under 700 MiB (docs/benchmarks.md, projection layout 11).
pub const DEFAULT_PROJECTION_CACHE_MB: u32 = 96;

fn default_projection_cache_mb() -> u32 {
    DEFAULT_PROJECTION_CACHE_MB
}

impl Default for ProjectionsConfig {
    fn default() -> ProjectionsConfig {
        ProjectionsConfig {
            cache_mb: default_projection_cache_mb(),
        }
    }
}

impl ProjectionsConfig {
    pub fn cache_bytes(&self) -> u64 {
        u64::from(self.cache_mb.clamp(16, 65_536)) << 20
    }
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
    /// node's date (`dated-too-far-back`). Bounds what a stolen body key can backdate before
    /// its revocation is logged (docs/security.md, "Bounding backdating"). The default,
    /// [`BACKDATE_DAYS_DEFAULT`], covers an exam session's whole path from result to logged
    /// certificate; 0 bounds nothing, for a ledger importing a body's earlier certificates.
    #[serde(default = "default_backdate_days_max")]
    pub backdate_days_max: u32,
    /// Verified batches waiting for the sequencer: the verifier runs this many batches ahead
    /// (1 to 64). Written to `ledger.toml` only when it is not the default.
    #[serde(
        default = "default_verified_batches_max",
        skip_serializing_if = "is_default_verified_batches_max"
    )]
    pub verified_batches_max: u32,
    /// Decided batches waiting for the writer, their overlays readable meanwhile (1 to 64).
    #[serde(
        default = "default_sealed_batches_max",
        skip_serializing_if = "is_default_sealed_batches_max"
    )]
    pub sealed_batches_max: u32,
    /// Most batches the writer integrates under one checkpoint and commits as one (1 to 64).
    #[serde(
        default = "default_writer_group_batches_max",
        skip_serializing_if = "is_default_writer_group_batches_max"
    )]
    pub writer_group_batches_max: u32,
}

/// One batch ahead: the verifier checks batch k+1 while the sequencer decides batch k.
fn default_verified_batches_max() -> u32 {
    1
}
fn is_default_verified_batches_max(value: &u32) -> bool {
    *value == default_verified_batches_max()
}
/// Four decided batches may wait for the writer.
fn default_sealed_batches_max() -> u32 {
    4
}
fn is_default_sealed_batches_max(value: &u32) -> bool {
    *value == default_sealed_batches_max()
}
/// Eight batches under one checkpoint signature at most.
fn default_writer_group_batches_max() -> u32 {
    8
}
fn is_default_writer_group_batches_max(value: &u32) -> bool {
    *value == default_writer_group_batches_max()
}

/// Large batches keep throughput whatever the clients keep in flight. Batches of 512 halve
/// the commit latency when about 2,048 events are in flight, but cost a quarter of the
/// throughput when 4,096 are (docs/benchmarks.md, "Summary: 2026-12-04").
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

/// 90 days: a certificate is logged after the session's results are reviewed, published
/// for objections (公示), and the certificates made, which takes weeks, not seasons; a body
/// that logs later than a quarter after the issue date is importing history, which is an
/// operator's explicit choice (`backdate_days_max = 0` for the import).
pub const BACKDATE_DAYS_DEFAULT: u32 = 90;

fn default_backdate_days_max() -> u32 {
    BACKDATE_DAYS_DEFAULT
}

impl Default for SequencerConfig {
    fn default() -> SequencerConfig {
        SequencerConfig {
            batch_events_max: default_batch_events_max(),
            batch_delay_ms_max: default_batch_delay_ms_max(),
            queue_events_max: default_queue_events_max(),
            disk_free_min_mb: default_disk_free_min_mb(),
            backdate_days_max: default_backdate_days_max(),
            verified_batches_max: default_verified_batches_max(),
            sealed_batches_max: default_sealed_batches_max(),
            writer_group_batches_max: default_writer_group_batches_max(),
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
            verified_batches_max: self.verified_batches_max.clamp(1, 64) as usize,
            sealed_batches_max: self.sealed_batches_max.clamp(1, 64) as usize,
            writer_group_batches_max: self.writer_group_batches_max.clamp(1, 64) as usize,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LedgerConfig, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }

    #[test]
    fn a_ledger_toml_of_an_older_version_gets_the_defaults_and_unknown_fields_are_named() {
        // Given a ledger.toml written before [projections] and backdate_days_max existed.
        let old = parse(
            "origin = \"skill-ledger/50\"\nprovince = 50\n\n[sequencer]\nbatch_events_max = 4096\n",
        )
        .expect("parses");
        assert_eq!(old.projections.cache_mb, 96);
        assert_eq!(old.projections.cache_bytes(), 96 << 20);
        assert_eq!(
            old.sequencer.backdate_days_max, BACKDATE_DAYS_DEFAULT,
            "a ledger.toml without the key is bounded by default"
        );
        // When it sets them, they are read; out-of-range caches are clamped.
        let set = parse(
            "origin = \"skill-ledger/50\"\nprovince = 50\n[sequencer]\nbackdate_days_max = 30\n[projections]\ncache_mb = 4\n",
        )
        .expect("parses");
        assert_eq!(set.sequencer.backdate_days_max, 30);
        assert_eq!(set.projections.cache_bytes(), 16 << 20);
        // A misspelt field is refused by name.
        let error =
            parse("origin = \"skill-ledger/50\"\nprovince = 50\n[projections]\ncache_mib = 64\n")
                .expect_err("unknown field");
        assert!(error.contains("cache_mib"), "{error}");
        // And what init writes reads back the same.
        let written = LedgerConfig {
            origin: "skill-ledger/51".to_string(),
            province: 51,
            sequencer: SequencerConfig::default(),
            projections: ProjectionsConfig { cache_mb: 512 },
            vc: VcConfig {
                base_url: Some("https://zscx.example.cn".to_string()),
            },
        }
        .to_toml();
        let read = parse(&written).expect("parses");
        assert_eq!(read.projections.cache_mb, 512);
        assert_eq!(read.vc.base_url.as_deref(), Some("https://zscx.example.cn"));
    }
}
