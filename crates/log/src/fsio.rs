//! Every file-system call the crate makes lives here, so that a
//! fault-injecting layer (torn writes, failed fsyncs, short reads) can
//! replace this one module without touching the format code. Each function
//! maps `io::Error` to a [`LogError`] naming the path.
//!
//! With the `fault-injection` feature (tests only), [`faults`] makes chosen
//! operations on files under a directory fail: `EIO` on fsync or write, a write
//! cut short, or a full disk (`ENOSPC`, and no space available).

use crate::error::LogError;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub(crate) fn create_dir_all(dir: &Path) -> Result<(), LogError> {
    fs::create_dir_all(dir).map_err(|e| LogError::io(e, "create directory", dir))
}

/// File names (not paths) in `dir`, unsorted.
pub(crate) fn list_dir(dir: &Path) -> Result<Vec<String>, LogError> {
    let mut names = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| LogError::io(e, "read directory", dir))?;
    for entry in entries {
        let entry = entry.map_err(|e| LogError::io(e, "read directory", dir))?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// Opens an existing file for reading and writing.
pub(crate) fn open_rw(path: &Path) -> Result<File, LogError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| LogError::io(e, "open", path))
}

/// Opens a file for reading and writing, creating it empty if missing.
pub(crate) fn open_or_create_rw(path: &Path) -> Result<File, LogError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| LogError::io(e, "open or create", path))
}

pub(crate) fn file_len(file: &File, path: &Path) -> Result<u64, LogError> {
    file.metadata()
        .map(|m| m.len())
        .map_err(|e| LogError::io(e, "stat", path))
}

/// Reads exactly `buf.len()` bytes at `offset` (pread; no shared cursor, so
/// concurrent readers do not contend).
pub(crate) fn read_exact_at(
    file: &File,
    path: &Path,
    buf: &mut [u8],
    offset: u64,
) -> Result<(), LogError> {
    file.read_exact_at(buf, offset)
        .map_err(|e| LogError::io(e, "read", path).at_offset(offset))
}

/// Reads up to `buf.len()` bytes at `offset`; returns how many were read
/// (fewer only at end of file).
pub(crate) fn read_at_most(
    file: &File,
    path: &Path,
    buf: &mut [u8],
    offset: u64,
) -> Result<usize, LogError> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(LogError::io(e, "read", path).at_offset(offset)),
        }
    }
    Ok(filled)
}

/// Writes all of `bytes` at `offset`. A full filesystem is reported as
/// [`crate::LogErrorKind::NoSpace`]; the bytes before the failure may be on disk.
pub(crate) fn write_all_at(
    file: &File,
    path: &Path,
    bytes: &[u8],
    offset: u64,
) -> Result<(), LogError> {
    if let Some(fault) = faults::write_fault(path) {
        if fault.partial {
            let _ = file.write_all_at(&bytes[..bytes.len() / 2], offset);
        }
        return Err(LogError::write(fault.error(), path).at_offset(offset));
    }
    file.write_all_at(bytes, offset)
        .map_err(|e| LogError::write(e, path).at_offset(offset))
}

/// Bytes available to this process on the filesystem holding `path` (`statvfs`:
/// free blocks for unprivileged users times the fragment size).
pub fn available_bytes(path: &Path) -> Result<u64, LogError> {
    if faults::disk_full(path) {
        return Ok(0);
    }
    let stat = rustix::fs::statvfs(path)
        .map_err(|e| LogError::io(std::io::Error::from(e), "statvfs", path))?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// fdatasync: file contents (and the size, which data sync covers).
pub(crate) fn sync_data(file: &File, path: &Path) -> Result<(), LogError> {
    faults::check(path, faults::Operation::Fsync)
        .map_err(|e| LogError::io(e, "fdatasync", path))?;
    file.sync_data()
        .map_err(|e| LogError::io(e, "fdatasync", path))
}

/// fsync of a directory, so that a created or renamed name is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    faults::check(dir, faults::Operation::Fsync)
        .map_err(|e| LogError::io(e, "fsync directory", dir))?;
    let handle = File::open(dir).map_err(|e| LogError::io(e, "open directory", dir))?;
    handle
        .sync_all()
        .map_err(|e| LogError::io(e, "fsync directory", dir))
}

/// Shortens a file and makes the new length durable.
pub(crate) fn truncate_durably(file: &File, path: &Path, len: u64) -> Result<(), LogError> {
    file.set_len(len)
        .map_err(|e| LogError::io(e, "truncate", path).at_offset(len))?;
    faults::check(path, faults::Operation::Fsync).map_err(|e| LogError::io(e, "fsync", path))?;
    file.sync_all().map_err(|e| LogError::io(e, "fsync", path))
}

/// Shortens a file without syncing (for derived data such as the hashes).
pub(crate) fn truncate(file: &File, path: &Path, len: u64) -> Result<(), LogError> {
    file.set_len(len)
        .map_err(|e| LogError::io(e, "truncate", path).at_offset(len))
}

/// Reads a whole small file; `None` if it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, LogError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LogError::io(e, "read", path)),
    }
}

/// Writes `bytes` to `path` so that after a crash the file holds either the
/// old or the new contents: write `path.tmp`, fsync, rename, fsync the
/// directory. A stale `.tmp` from an earlier crash is overwritten; it never
/// held anything that had been made durable under the final name.
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), LogError> {
    let path = dir.join(name);
    let tmp = temp_path(&path);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| LogError::write(e, &tmp))?;
    if let Some(fault) = faults::write_fault(&tmp) {
        if fault.partial {
            let _ = file.write_all(&bytes[..bytes.len() / 2]);
        }
        return Err(LogError::write(fault.error(), &tmp));
    }
    file.write_all(bytes)
        .map_err(|e| LogError::write(e, &tmp))?;
    faults::check(&tmp, faults::Operation::Fsync).map_err(|e| LogError::io(e, "fsync", &tmp))?;
    file.sync_all()
        .map_err(|e| LogError::io(e, "fsync", &tmp))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(|e| LogError::io(e, "rename", &tmp))?;
    sync_dir(dir)
}

pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let mut os = path.as_os_str().to_owned();
    os.push(".tmp");
    PathBuf::from(os)
}

/// Injected storage faults, for tests of what the layers above do when the disk fails: the
/// one storage seam of every crate that writes a file.
///
/// Faults are armed per directory: every matching operation on a file under it fails until
/// `faults::clear` (tests in one process use separate directories). Without the
/// `fault-injection` feature nothing can be armed and the checks compile to nothing.
///
/// This crate's own files (segments, the tree, the checkpoint) are checked in this module.
/// Other crates call [`faults::check`] and [`faults::write_error`] before their own writes:
/// the node's sled stores (`skill_ledger_node::store`: a write or a flush under an armed
/// `Write`, `ShortWrite` or `Fsync` fails with `EIO`) and the sync crate's small files.
pub mod faults {
    use std::path::Path;

    /// What can be made to fail, and how.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Operation {
        /// fdatasync or fsync of a file or directory fails with `EIO`.
        Fsync,
        /// A write (positional or whole-file) fails with `EIO`, writing nothing.
        Write,
        /// A write is cut short: the first half of its bytes reach the file, then it fails
        /// with `EIO` (a device failing mid-write, or a crash, leaves such a torn tail).
        ShortWrite,
        /// The filesystem is full: a write stores the first half of its bytes and then fails
        /// with `ENOSPC`, as write(2) does when space runs out part-way, and
        /// [`crate::available_bytes`] reports 0.
        DiskFull,
    }

    /// How an armed write fails.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct WriteFault {
        /// Whether the first half of the bytes is written before the error.
        pub partial: bool,
        errno: i32,
    }

    impl WriteFault {
        pub fn error(&self) -> std::io::Error {
            std::io::Error::from_raw_os_error(self.errno)
        }
    }

    const EIO: i32 = 5;
    const ENOSPC: i32 = 28;

    #[cfg(feature = "fault-injection")]
    static ARMED: std::sync::Mutex<Vec<(std::path::PathBuf, Operation)>> =
        std::sync::Mutex::new(Vec::new());

    #[cfg(feature = "fault-injection")]
    fn armed() -> std::sync::MutexGuard<'static, Vec<(std::path::PathBuf, Operation)>> {
        ARMED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes `operation` fail on every file under `dir` from now on.
    #[cfg(feature = "fault-injection")]
    pub fn fail(dir: &Path, operation: Operation) {
        armed().push((dir.to_path_buf(), operation));
    }

    /// Disarms every fault under `dir`.
    #[cfg(feature = "fault-injection")]
    pub fn clear(dir: &Path) {
        armed().retain(|(armed_dir, _)| !armed_dir.starts_with(dir));
    }

    #[cfg(feature = "fault-injection")]
    fn is_armed(path: &Path, operation: Operation) -> bool {
        armed()
            .iter()
            .any(|(dir, armed)| *armed == operation && path.starts_with(dir))
    }

    /// `EIO` when `operation` is armed for `path`.
    #[cfg(feature = "fault-injection")]
    pub fn check(path: &Path, operation: Operation) -> std::io::Result<()> {
        if is_armed(path, operation) {
            return Err(std::io::Error::from_raw_os_error(EIO));
        }
        Ok(())
    }

    /// How a write to `path` fails, if a write fault is armed for it.
    #[cfg(feature = "fault-injection")]
    pub(crate) fn write_fault(path: &Path) -> Option<WriteFault> {
        if is_armed(path, Operation::Write) {
            Some(WriteFault {
                partial: false,
                errno: EIO,
            })
        } else if is_armed(path, Operation::ShortWrite) {
            Some(WriteFault {
                partial: true,
                errno: EIO,
            })
        } else if is_armed(path, Operation::DiskFull) {
            Some(WriteFault {
                partial: true,
                errno: ENOSPC,
            })
        } else {
            None
        }
    }

    /// Whether the filesystem under `path` is made to look full.
    #[cfg(feature = "fault-injection")]
    pub(crate) fn disk_full(path: &Path) -> bool {
        is_armed(path, Operation::DiskFull)
    }

    /// `EIO` when `operation` is armed for `path`.
    #[cfg(not(feature = "fault-injection"))]
    #[inline(always)]
    pub fn check(_path: &Path, _operation: Operation) -> std::io::Result<()> {
        Ok(())
    }

    /// The error a write to `path` fails with when a write fault (`Write`, `ShortWrite` or
    /// `DiskFull`) is armed for it: for writers that cannot write half their bytes.
    pub fn write_error(path: &Path) -> Option<std::io::Error> {
        write_fault(path).map(|fault| fault.error())
    }

    #[cfg(not(feature = "fault-injection"))]
    #[inline(always)]
    pub(crate) fn write_fault(_path: &Path) -> Option<WriteFault> {
        let _ = (EIO, ENOSPC);
        None
    }

    #[cfg(not(feature = "fault-injection"))]
    #[inline(always)]
    pub(crate) fn disk_full(_path: &Path) -> bool {
        false
    }
}
