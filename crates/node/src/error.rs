//! The node's error type.

use std::path::PathBuf;

/// What went wrong in a node operation; [`NodeError::kind`] says which kind.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct NodeError {
    kind: NodeErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The kinds of node error. Callers match on these; the message carries the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeErrorKind {
    /// A file or directory could not be read or written.
    Io,
    /// The log of record refused to open or append (damage, torn tail elsewhere, fsync failure).
    Log,
    /// The projection database failed.
    Projection,
    /// The ledger directory is missing, incomplete or already initialised.
    Directory,
    /// Configuration or key material is malformed.
    Config,
    /// The stored state disagrees with itself (e.g. a checkpoint larger than the log).
    Integrity,
    /// The node stopped after a storage failure and accepts no more submissions.
    Stopped,
    /// The submission queue is full: retry later.
    Overloaded,
    /// The filesystem holding the ledger is full: the batch was not appended, and submissions
    /// are accepted again once space is freed.
    StorageFull,
    /// A database is held by another handle in this process or by another process.
    Locked,
}

impl NodeError {
    pub fn new(kind: NodeErrorKind, message: impl Into<String>) -> NodeError {
        NodeError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub fn with_source(
        kind: NodeErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> NodeError {
        NodeError {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub fn io(path: &std::path::Path, action: &str, source: std::io::Error) -> NodeError {
        NodeError::with_source(
            NodeErrorKind::Io,
            format!("cannot {action} {}: {source}", path.display()),
            source,
        )
    }

    pub fn kind(&self) -> NodeErrorKind {
        self.kind
    }
}

/// A node failure as a value that can be kept and sent to every submitter it concerns: the
/// kind and the message of the [`NodeError`] that caused it (which itself is not `Clone`, for
/// its source).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    kind: NodeErrorKind,
    message: String,
}

impl Failure {
    pub fn new(kind: NodeErrorKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }

    /// The sequencer ended before it answered a submission (the node closed or stopped).
    pub fn sequencer_ended() -> Failure {
        Failure::new(
            NodeErrorKind::Stopped,
            "the sequencer ended before answering",
        )
    }

    pub fn kind(&self) -> NodeErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<&NodeError> for Failure {
    fn from(error: &NodeError) -> Failure {
        Failure::new(error.kind(), error.to_string())
    }
}

impl From<Failure> for NodeError {
    fn from(failure: Failure) -> NodeError {
        NodeError::new(failure.kind, failure.message)
    }
}

impl From<skill_ledger_log::LogError> for NodeError {
    fn from(error: skill_ledger_log::LogError) -> NodeError {
        let kind = match error.kind() {
            skill_ledger_log::LogErrorKind::NoSpace => NodeErrorKind::StorageFull,
            _ => NodeErrorKind::Log,
        };
        NodeError::new(kind, error.to_string())
    }
}

impl From<sled::Error> for NodeError {
    fn from(error: sled::Error) -> NodeError {
        NodeError::with_source(
            NodeErrorKind::Projection,
            format!("projection database: {error}"),
            error,
        )
    }
}

/// Where a ledger keeps its parts (see docs/formats.md).
#[derive(Clone, Debug)]
pub struct LedgerPaths {
    pub root: PathBuf,
}

impl LedgerPaths {
    pub fn new(root: impl Into<PathBuf>) -> LedgerPaths {
        LedgerPaths { root: root.into() }
    }
    pub fn config(&self) -> PathBuf {
        self.root.join("ledger.toml")
    }
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }
    pub fn authority_key(&self) -> PathBuf {
        self.keys().join("authority.key")
    }
    /// The authority key made for a rotation or recovery before it is logged
    /// (`skill-ledger authority rotate-key` / `recover`).
    pub fn authority_next_key(&self) -> PathBuf {
        self.keys().join("authority.next.key")
    }
    /// The key a planned rotation retired: it cosigns checkpoints for a while.
    pub fn authority_previous_key(&self) -> PathBuf {
        self.keys().join("authority.previous.key")
    }
    /// Where a recovery moves the authority key it replaces (presumed stolen: never used).
    pub fn authority_compromised_key(&self) -> PathBuf {
        self.keys().join("authority.compromised.key")
    }
    /// The public keys this ledger's checkpoints were ever signed with (hex, one a line).
    pub fn signing_keys(&self) -> PathBuf {
        self.tree().join("signing-keys")
    }
    /// The VC issuer key in force (crate::vc), 64 hex characters.
    pub fn vc_issuer_key(&self) -> PathBuf {
        self.keys().join("vc-issuer.key")
    }
    /// A new VC issuer key before its `VcIssuerKeySet` is logged.
    pub fn vc_issuer_next_key(&self) -> PathBuf {
        self.keys().join("vc-issuer.next.key")
    }
    pub fn pseudonym_key(&self) -> PathBuf {
        self.keys().join("pseudonym.key")
    }
    pub fn log(&self) -> PathBuf {
        self.root.join("log")
    }
    pub fn tree(&self) -> PathBuf {
        self.root.join("tree")
    }
    pub fn projections(&self) -> PathBuf {
        self.root.join("projections")
    }
}
