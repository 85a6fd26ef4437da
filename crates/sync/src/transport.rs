//! "A partner's log as C2SP static files": the checkpoint, hash tiles and entry bundles,
//! behind a trait so the mirror can read them over HTTP ([`crate::http::HttpLog`]), from a
//! node in this process or another ledger directory ([`NodeLog`]), or from a test double.

use skill_ledger_log::{entry_bundle, entry_bundle_path, tile_path, TILE_WIDTH_MAX};
use skill_ledger_node::Node;

/// Why a fetch failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// The resource does not exist (HTTP 404): e.g. a partial tile the log has replaced
    /// with the full one.
    NotFound,
    /// The partner is unreachable, timed out or overloaded (HTTP 5xx, 429): worth a retry.
    Unavailable,
    /// Any other refusal or a malformed answer: not worth a retry.
    Refused,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

impl TransportError {
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> TransportError {
        TransportError {
            kind,
            message: message.into(),
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.kind == TransportErrorKind::Unavailable
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub type FetchResult<T> = Result<T, TransportError>;

/// A partner's log as C2SP tlog-tiles static resources. Implementations return bytes as
/// served; the mirror trusts none of them until it has verified them.
pub trait PartnerLog {
    /// `<prefix>/checkpoint`: the signed note text.
    fn checkpoint(&self) -> FetchResult<String>;
    /// `<prefix>/tile/<level>/<index>[.p/<width>]`: `width` hashes of 32 bytes.
    fn tile(&self, level: u8, index: u64, width: u16) -> FetchResult<Vec<u8>>;
    /// `<prefix>/tile/entries/<index>[.p/<width>]`: `width` entries, each u16 BE length ‖ bytes.
    fn entry_bundle(&self, index: u64, width: u16) -> FetchResult<Vec<u8>>;
    /// Where the files come from, for messages (`http://…`, a directory).
    fn describe(&self) -> String;
}

/// A node's log, read in process: for `sync pull --from-dir` (the CLI opens the partner's
/// directory as a [`Node`], which takes its lock) and for tests.
pub struct NodeLog<'a> {
    node: &'a Node,
}

impl<'a> NodeLog<'a> {
    pub fn new(node: &'a Node) -> NodeLog<'a> {
        NodeLog { node }
    }
}

fn not_found(what: String) -> TransportError {
    TransportError::new(TransportErrorKind::NotFound, what)
}

impl PartnerLog for NodeLog<'_> {
    fn checkpoint(&self) -> FetchResult<String> {
        self.node
            .checkpoint()
            .map(|signed| signed.note_text.clone())
            .ok_or_else(|| not_found(format!("{} has no signed checkpoint", self.describe())))
    }

    fn tile(&self, level: u8, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        if !(1..=TILE_WIDTH_MAX).contains(&width) {
            return Err(TransportError::new(
                TransportErrorKind::Refused,
                format!("no tile of width {width}"),
            ));
        }
        self.node
            .tree_reader()
            .tile(level, index, width)
            .map_err(|error| not_found(format!("{}: {error}", tile_path(level, index, width))))
    }

    fn entry_bundle(&self, index: u64, width: u16) -> FetchResult<Vec<u8>> {
        if !(1..=TILE_WIDTH_MAX).contains(&width) {
            return Err(TransportError::new(
                TransportErrorKind::Refused,
                format!("no entry bundle of width {width}"),
            ));
        }
        let path = entry_bundle_path(index, width);
        let start = index
            .checked_mul(u64::from(TILE_WIDTH_MAX))
            .ok_or_else(|| not_found(format!("{path}: index out of range")))?;
        let end = start + u64::from(width);
        let checkpoint_size = self
            .node
            .checkpoint()
            .map_or(0, |signed| signed.checkpoint.size);
        // Like a static file server: only what a signed checkpoint covers is published.
        if end > checkpoint_size {
            return Err(not_found(format!(
                "{path}: beyond the signed checkpoint ({checkpoint_size} entries)"
            )));
        }
        let mut entries: Vec<Vec<u8>> = Vec::with_capacity(usize::from(width));
        self.node
            .log_reader()
            .for_each(start, end, |_, entry| {
                entries.push(entry.to_vec());
                Ok(())
            })
            .map_err(|error| {
                TransportError::new(TransportErrorKind::Refused, format!("{path}: {error}"))
            })?;
        let slices: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        Ok(entry_bundle(&slices))
    }

    fn describe(&self) -> String {
        format!("ledger directory {}", self.node.dir().display())
    }
}
