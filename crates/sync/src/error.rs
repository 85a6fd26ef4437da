//! The crate's one error type: a kind callers match on, and a message that names what is
//! wrong (which partner, which checkpoint, tile, bundle or entry, which file).

/// What went wrong in a sync operation; [`SyncError::kind`] says which kind.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SyncError {
    kind: SyncErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The kinds of sync error. Every kind except `Io`, `Store` and `Transport` means the
/// partner (or whoever stands between us) sent something that does not verify; nothing of it
/// was taken into the mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncErrorKind {
    /// A local file or directory could not be read or written.
    Io,
    /// `partners.toml`, a key file or an argument is malformed or inconsistent.
    Config,
    /// The partner could not be reached or answered with an unexpected HTTP status; retrying
    /// later may help.
    Transport,
    /// A checkpoint does not parse or its signature does not verify with the configured key.
    BadCheckpoint,
    /// A hash tile has the wrong size or does not hash to the signed root.
    BadTile,
    /// An entry bundle does not parse, or an entry does not hash to the partner's leaf.
    BadEntry,
    /// An entry covered by the partner's signed checkpoint breaks the ledger rules (or does
    /// not decode, or carries a bad signature): the partner's ledger misbehaved. Evidence is
    /// kept and mirroring of that partner stops.
    RuleViolation,
    /// Two signed checkpoints of the partner are inconsistent: a fork. Evidence is kept and
    /// mirroring of that partner stops.
    Fork,
    /// Mirroring of this partner is stopped by an alarm (fork or rule violation) until an
    /// operator clears it.
    Alarm,
    /// The mirror's own store (sled, tree file) failed or disagrees with itself.
    Store,
    /// The mirror's store is held by another handle in this process or by another process
    /// (e.g. `serve` runs while `skill-ledger sync pull` is asked for).
    Locked,
    /// A witness request or answer is malformed or refused.
    Witness,
    /// An evidence record, or a consistency proof in it, is malformed or does not show what
    /// it claims.
    Evidence,
}

impl SyncError {
    pub fn new(kind: SyncErrorKind, message: impl Into<String>) -> SyncError {
        SyncError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub fn with_source(
        kind: SyncErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> SyncError {
        SyncError {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub fn io(path: &std::path::Path, action: &str, source: std::io::Error) -> SyncError {
        SyncError::with_source(
            SyncErrorKind::Io,
            format!("{action} {}: {source}", path.display()),
            source,
        )
    }

    pub fn kind(&self) -> SyncErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `context` put in front of its message.
    pub fn context(self, context: impl std::fmt::Display) -> SyncError {
        SyncError {
            message: format!("{context}: {}", self.message),
            ..self
        }
    }
}

impl From<sled::Error> for SyncError {
    fn from(error: sled::Error) -> SyncError {
        SyncError::new(SyncErrorKind::Store, format!("mirror store: {error}"))
    }
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;
