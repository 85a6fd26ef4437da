//! Durable small files: write to a temporary name, fsync, rename, fsync the directory, so a
//! reader sees the old content or the new, never a mix.
//!
//! Writes and fsyncs go through the storage seam of `skill_ledger_log::faults`, so a test or
//! the federation simulation can make them fail like the log's own files.

use std::io::Write;
use std::path::Path;

use skill_ledger_log::faults::{self, Operation};

use crate::error::{Result, SyncError};

/// Replaces `dir/name` with `contents` atomically and durably.
pub fn write_atomically(dir: &Path, name: &str, contents: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|error| SyncError::io(dir, "create", error))?;
    let temporary = dir.join(format!("{name}.tmp"));
    let target = dir.join(name);
    let mut file =
        std::fs::File::create(&temporary).map_err(|e| SyncError::io(&temporary, "create", e))?;
    if let Some(error) = faults::write_error(&temporary) {
        return Err(SyncError::io(&temporary, "write", error));
    }
    file.write_all(contents)
        .and_then(|()| faults::check(&temporary, Operation::Fsync))
        .and_then(|()| file.sync_all())
        .map_err(|e| SyncError::io(&temporary, "write", e))?;
    drop(file);
    std::fs::rename(&temporary, &target).map_err(|e| SyncError::io(&target, "rename to", e))?;
    sync_directory(dir)
}

/// fsync of a directory, so a rename or a new entry in it survives a crash.
pub fn sync_directory(dir: &Path) -> Result<()> {
    faults::check(dir, Operation::Fsync)
        .and_then(|()| std::fs::File::open(dir))
        .and_then(|directory| directory.sync_all())
        .map_err(|error| SyncError::io(dir, "sync directory", error))
}

/// Reads a file that may be absent.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(SyncError::io(path, "read", error)),
    }
}

/// Seconds since the Unix epoch by the system clock ([`skill_ledger_log::SystemClock`]), for
/// callers that hold no clock of their own (the CLI, the service's handlers).
pub fn now_unix_s() -> u64 {
    use skill_ledger_log::Clock;
    skill_ledger_log::SystemClock.now_unix_s()
}
