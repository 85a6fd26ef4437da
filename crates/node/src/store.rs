//! Opening and closing sled databases, so that closing ends with the file lock released.
//!
//! sled 0.34 locks its `db` file (an OS file lock) for as long as the file is open, and the
//! file stays open until the last of sled's own references to it is gone. Dropping the last
//! `Db` and `Tree` handle flushes and joins sled's flusher thread, but a write or truncation
//! sled handed to its internal thread pool still holds a reference for a moment after the
//! flush that waited for it returns. Under load that moment is long enough for a reopen in
//! the same process to find the file locked (`WouldBlock`), although nothing holds the store
//! any more.
//!
//! [`Store`] closes deterministically instead of hoping the moment passed: when its last
//! clone is dropped, the database handle goes first, then the closing thread waits for the
//! file lock itself (a blocking lock of the same file, taken and released at once), so the
//! drop returns only once the lock is free. The wait is bounded
//! ([`RELEASE_WAIT_MAX`]); past it, the close logs an error naming the path.
//!
//! Opening never retries: this process keeps a registry of the stores it holds, so a second
//! open of a store still held here is refused at once as a double open
//! ([`NodeErrorKind::Locked`], naming the path), and a lock held by another process is
//! refused at once too, naming the path. A store one thread has just closed is free as soon
//! as its drop returned.
//!
//! Trees are opened as [`StoreTree`]s, which hold a clone of their store and drop their sled
//! handle before it, so no order of drops can leave a tree open after its store closed. A raw
//! `sled::Tree` cloned out of one and kept after the store closed would keep the file open:
//! the close waits its bound, then reports it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use skill_ledger_log::faults::{self, Operation};

use crate::{NodeError, NodeErrorKind};

/// How long a close waits for sled to let go of the file lock before it reports it.
pub const RELEASE_WAIT_MAX: Duration = Duration::from_secs(10);

/// How a store is opened: sled's page cache and flushing.
#[derive(Clone, Copy, Debug)]
pub struct StoreOptions {
    pub cache_bytes: u64,
    /// sled's background flush interval (`None`: only explicit flushes).
    pub flush_every_ms: Option<u64>,
    /// sled's `Mode::HighThroughput` rather than its default `LowSpace`.
    pub high_throughput: bool,
}

impl StoreOptions {
    /// sled's defaults (flush every 500 ms, low-space mode) with the given cache.
    pub fn with_cache(cache_bytes: u64) -> StoreOptions {
        StoreOptions {
            cache_bytes,
            flush_every_ms: Some(500),
            high_throughput: false,
        }
    }
}

/// The stores this process holds open, by canonical path.
static OPEN: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

fn registry<T>(work: impl FnOnce(&mut HashSet<PathBuf>) -> T) -> T {
    let mut guard = OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    work(guard.get_or_insert_with(HashSet::new))
}

/// A sled database, shared by cloning; the last clone dropped closes it and waits for its
/// file lock to be released (see the module documentation).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// Field order matters: the database is dropped before the release waits.
struct Inner {
    db: sled::Db,
    release: Release,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.release.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the sled database in directory `path`. Refused at once, naming the
    /// path, when this process already holds it or another process does.
    pub fn open(path: &Path, options: StoreOptions) -> Result<Store, NodeError> {
        std::fs::create_dir_all(path).map_err(|error| NodeError::io(path, "create", error))?;
        let canonical = path
            .canonicalize()
            .map_err(|error| NodeError::io(path, "resolve", error))?;
        let claimed = registry(|open| open.insert(canonical.clone()));
        if !claimed {
            return Err(NodeError::new(
                NodeErrorKind::Locked,
                format!(
                    "the database {} is already open in this process (a second open of one store)",
                    path.display()
                ),
            ));
        }
        // From here on the claim is released by `Release::drop`, whatever happens.
        let mut release = Release {
            path: canonical,
            wait: false,
        };
        let mut config = sled::Config::new()
            .path(path)
            .cache_capacity(options.cache_bytes)
            .flush_every_ms(options.flush_every_ms);
        if options.high_throughput {
            config = config.mode(sled::Mode::HighThroughput);
        }
        match config.open() {
            Ok(db) => {
                release.wait = true;
                Ok(Store {
                    inner: Arc::new(Inner { db, release }),
                })
            }
            // sled reports a held lock as an `Other` I/O error with this text.
            Err(sled::Error::Io(error)) if error.to_string().contains("could not acquire lock") => {
                Err(NodeError::new(
                    NodeErrorKind::Locked,
                    format!(
                        "the database {} is locked by another process (is another skill-ledger \
                         using this directory?)",
                        path.display()
                    ),
                ))
            }
            Err(error) => Err(NodeError::with_source(
                NodeErrorKind::Projection,
                format!("cannot open the database {}: {error}", path.display()),
                error,
            )),
        }
    }

    pub fn db(&self) -> &sled::Db {
        &self.inner.db
    }

    /// Flushes the database to disk, through the storage seam: a flush under an armed
    /// `Fsync`, `Write` or `ShortWrite` fault ([`skill_ledger_log::faults`]) fails with `EIO`.
    /// A full disk is not modelled here: the node refuses batches below its free-space floor
    /// before a write could meet one.
    pub fn flush(&self) -> Result<usize, sled::Error> {
        let path = self.path();
        for operation in [Operation::Fsync, Operation::Write, Operation::ShortWrite] {
            faults::check(path, operation)?;
        }
        self.inner.db.flush()
    }

    /// Whether a write to this store is made to fail (see [`Store::flush`]).
    fn check_write(&self) -> Result<(), sled::Error> {
        let path = self.path();
        faults::check(path, Operation::Write)?;
        faults::check(path, Operation::ShortWrite)?;
        Ok(())
    }

    /// Opens (or creates) the tree `name`, holding this store open while it lives.
    pub fn tree(&self, name: &str) -> Result<StoreTree, NodeError> {
        Ok(StoreTree {
            tree: self.inner.db.open_tree(name)?,
            store: self.clone(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.release.path
    }
}

/// A tree of a [`Store`]; dereferences to the sled tree. Cloning it clones the store handle
/// too, so a thread given a clone keeps the store open until it drops it.
#[derive(Clone)]
pub struct StoreTree {
    /// Declared before the store: dropped first.
    tree: sled::Tree,
    store: Store,
}

impl StoreTree {
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// sled's `insert`, through the storage seam (see [`Store::flush`]).
    pub fn insert<K, V>(&self, key: K, value: V) -> Result<Option<sled::IVec>, sled::Error>
    where
        K: AsRef<[u8]>,
        V: Into<sled::IVec>,
    {
        self.store.check_write()?;
        self.tree.insert(key, value)
    }

    /// sled's `remove`, through the storage seam.
    pub fn remove<K: AsRef<[u8]>>(&self, key: K) -> Result<Option<sled::IVec>, sled::Error> {
        self.store.check_write()?;
        self.tree.remove(key)
    }

    /// sled's `apply_batch`, through the storage seam: all of the batch or none of it.
    pub fn apply_batch(&self, batch: sled::Batch) -> Result<(), sled::Error> {
        self.store.check_write()?;
        self.tree.apply_batch(batch)
    }
}

impl std::ops::Deref for StoreTree {
    type Target = sled::Tree;

    fn deref(&self) -> &sled::Tree {
        &self.tree
    }
}

/// Releases the claim on a path once sled has let go of its file.
struct Release {
    path: PathBuf,
    /// Whether a database was opened (and so a lock may be held).
    wait: bool,
}

impl Drop for Release {
    fn drop(&mut self) {
        if self.wait {
            if let Err(error) = wait_until_unlocked(&self.path.join("db"), RELEASE_WAIT_MAX) {
                tracing::error!(path = %self.path.display(), %error, "closing a sled database");
            }
        }
        registry(|open| open.remove(&self.path));
    }
}

/// Waits until no one holds the OS lock of `file`: takes the lock (blocking) on a thread of
/// its own and releases it at once. Bounded by `wait_max`; a file that is gone is unlocked.
fn wait_until_unlocked(file: &Path, wait_max: Duration) -> Result<(), String> {
    let handle = match std::fs::File::open(file) {
        Ok(handle) => handle,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(format!(
                "cannot open {} to wait for its lock: {error}",
                file.display()
            ))
        }
    };
    let (done, waited) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("store-close".to_string())
        .spawn(move || {
            let locked = handle.lock();
            let _ = handle.unlock();
            let _ = done.send(locked);
        });
    if let Err(error) = spawned {
        return Err(format!(
            "cannot start a thread to wait for the lock: {error}"
        ));
    }
    match waited.recv_timeout(wait_max) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!(
            "waiting for the lock of {}: {error}",
            file.display()
        )),
        Err(_) => Err(format!(
            "{} is still locked {} s after the database was closed: a handle on it outlived \
             its store, or another process took it",
            file.display(),
            wait_max.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> StoreOptions {
        StoreOptions::with_cache(1 << 20)
    }

    #[test]
    fn a_closed_store_reopens_at_once_many_times_over() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("db");
        // Enough written per round that sled seals and writes buffers on its thread pool,
        // whose tasks hold the file a moment after the flush that waited for them.
        for round in 0..40u32 {
            let store = Store::open(&path, options()).expect("open");
            let tree = store.tree("t").expect("tree");
            let mut batch = sled::Batch::default();
            for key in 0..1_000u32 {
                batch.insert(
                    [round.to_be_bytes(), key.to_be_bytes()].concat(),
                    &[1u8; 300][..],
                );
            }
            tree.apply_batch(batch).expect("insert");
            store.db().flush().expect("flush");
            // The store first: the tree keeps it open, and closes it when dropped.
            drop(store);
            assert!(Store::open(&path, options()).is_err(), "the tree holds it");
            drop(tree);
        }
        let store = Store::open(&path, options()).expect("open");
        assert_eq!(store.tree("t").expect("tree").len(), 40_000);
    }

    #[test]
    fn a_second_open_in_this_process_is_refused_at_once_naming_the_path() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("db");
        let store = Store::open(&path, options()).expect("open");
        let started = std::time::Instant::now();
        let error = Store::open(&path, options()).expect_err("a double open");
        assert_eq!(error.kind(), NodeErrorKind::Locked);
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
        assert!(
            error.to_string().contains("already open in this process"),
            "{error}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused without waiting"
        );
        let clone = store.clone();
        drop(store);
        assert!(
            Store::open(&path, options()).is_err(),
            "a clone still holds it"
        );
        drop(clone);
        Store::open(&path, options()).expect("free once the last clone is gone");
    }

    #[test]
    fn a_lock_held_elsewhere_is_refused_at_once_naming_the_path() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("db");
        drop(Store::open(&path, options()).expect("create"));
        // Another holder of the OS lock, as another process would be.
        let other = std::fs::File::open(path.join("db")).expect("open the file");
        other.lock().expect("lock");
        let error = Store::open(&path, options()).expect_err("locked");
        assert_eq!(error.kind(), NodeErrorKind::Locked);
        assert!(error.to_string().contains("another process"), "{error}");
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
        other.unlock().expect("unlock");
        drop(other);
        Store::open(&path, options()).expect("free again");
    }

    #[test]
    fn a_close_waits_for_the_lock_and_reports_a_holder_that_outlives_it() {
        let dir = tempfile::tempdir().expect("temp");
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").expect("write");
        let holder = std::fs::File::open(&file).expect("open");
        holder.lock().expect("lock");
        let error = wait_until_unlocked(&file, Duration::from_millis(200)).expect_err("held");
        assert!(error.contains("still locked"), "{error}");
        holder.unlock().expect("unlock");
        wait_until_unlocked(&file, Duration::from_secs(5)).expect("released");
        assert!(wait_until_unlocked(&dir.path().join("gone"), Duration::from_secs(1)).is_ok());
    }
}
