//! The crate's one error type: a kind the caller can match on, plus the
//! context (file, byte offset, entry index) an operator needs to find the
//! damage with a hex editor.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What went wrong. Callers match on this; the rest of [`LogError`] is
/// context for humans.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogErrorKind {
    /// An operating-system I/O call failed (the source error is attached).
    Io,
    /// Stored bytes are not what this crate wrote: a bad segment header, a
    /// frame whose checksum fails outside the torn tail, a gap in segment
    /// numbering, fewer entries than were acknowledged. The log refuses to
    /// open rather than guess; nothing is rewritten.
    Damaged,
    /// An entry is longer than `entry_bytes_max`.
    EntryTooLarge,
    /// An entry index, tree size or tile lies beyond what is committed.
    OutOfRange,
    /// An argument violates the documented preconditions.
    InvalidArgument,
    /// The filesystem is full: a write failed with `ENOSPC`. From
    /// [`crate::Log::append_batch`] it means the batch was not appended and the log
    /// is exactly as before it (the partial bytes were cut off again), so appending
    /// may be retried once space is freed.
    NoSpace,
    /// An earlier append failed part-way; the writer must be reopened so that
    /// recovery can decide what is on disk.
    Poisoned,
    /// The stored leaf hash of entry `index` differs from the hash of the
    /// entry in the log.
    TreeMismatch {
        /// Index of the first entry whose stored leaf hash differs.
        index: u64,
    },
    /// The root recomputed for tree size `size` differs from the expected one.
    RootMismatch {
        /// The tree size whose root was compared.
        size: u64,
    },
    /// An inclusion or consistency proof does not verify.
    ProofFailed,
    /// A note's signature is missing, made by another key, or invalid.
    BadSignature,
    /// A checkpoint body, key text or tile path does not parse.
    Malformed,
    /// Signing would produce a checkpoint inconsistent with the latest
    /// signed one (smaller size, different root at the same size, failed
    /// consistency proof, or an earlier time).
    Inconsistent,
}

impl fmt::Display for LogErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogErrorKind::Io => write!(f, "I/O error"),
            LogErrorKind::Damaged => write!(f, "log damaged"),
            LogErrorKind::EntryTooLarge => write!(f, "entry too large"),
            LogErrorKind::OutOfRange => write!(f, "out of range"),
            LogErrorKind::InvalidArgument => write!(f, "invalid argument"),
            LogErrorKind::NoSpace => write!(f, "no space left on the device"),
            LogErrorKind::Poisoned => write!(f, "writer poisoned by an earlier failed append"),
            LogErrorKind::TreeMismatch { index } => {
                write!(f, "stored leaf hash differs from log entry {index}")
            }
            LogErrorKind::RootMismatch { size } => write!(f, "root mismatch at tree size {size}"),
            LogErrorKind::ProofFailed => write!(f, "proof does not verify"),
            LogErrorKind::BadSignature => write!(f, "bad signature"),
            LogErrorKind::Malformed => write!(f, "malformed input"),
            LogErrorKind::Inconsistent => write!(f, "inconsistent with the latest checkpoint"),
        }
    }
}

/// An error with its kind and where it happened.
#[derive(Debug)]
pub struct LogError {
    kind: LogErrorKind,
    detail: String,
    path: Option<PathBuf>,
    byte_offset: Option<u64>,
    entry_index: Option<u64>,
    source: Option<io::Error>,
}

impl LogError {
    pub(crate) fn new(kind: LogErrorKind, detail: impl Into<String>) -> LogError {
        LogError {
            kind,
            detail: detail.into(),
            path: None,
            byte_offset: None,
            entry_index: None,
            source: None,
        }
    }

    pub(crate) fn io(source: io::Error, what: &str, path: &Path) -> LogError {
        LogError {
            source: Some(source),
            ..LogError::new(LogErrorKind::Io, what).at_path(path)
        }
    }

    /// A failed write: [`LogErrorKind::NoSpace`] when the filesystem is full, else
    /// [`LogErrorKind::Io`].
    pub(crate) fn write(source: io::Error, path: &Path) -> LogError {
        let kind = if source.kind() == io::ErrorKind::StorageFull {
            LogErrorKind::NoSpace
        } else {
            LogErrorKind::Io
        };
        LogError {
            source: Some(source),
            ..LogError::new(kind, "write").at_path(path)
        }
    }

    pub(crate) fn at_path(mut self, path: &Path) -> LogError {
        self.path = Some(path.to_path_buf());
        self
    }

    pub(crate) fn at_offset(mut self, byte_offset: u64) -> LogError {
        self.byte_offset = Some(byte_offset);
        self
    }

    pub(crate) fn at_entry(mut self, entry_index: u64) -> LogError {
        self.entry_index = Some(entry_index);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &LogErrorKind {
        &self.kind
    }

    /// Human-readable explanation.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The file involved, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Byte offset within [`LogError::path`], if known.
    pub fn byte_offset(&self) -> Option<u64> {
        self.byte_offset
    }

    /// Log entry index involved, if known.
    pub fn entry_index(&self) -> Option<u64> {
        self.entry_index
    }
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)?;
        if let Some(path) = &self.path {
            write!(f, " (file {}", path.display())?;
            if let Some(offset) = self.byte_offset {
                write!(f, ", byte offset {offset}")?;
            }
            write!(f, ")")?;
        } else if let Some(offset) = self.byte_offset {
            write!(f, " (byte offset {offset})")?;
        }
        if let Some(index) = self.entry_index {
            write!(f, " (entry {index})")?;
        }
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
