//! RFC 6962 Merkle tree stored in the C2SP tlog-tiles hash order.
//!
//! All hashes live in one flat append-only file, `hashes`: stored hash
//! index `i` (Go tlog's `StoredHashIndex` order) is the 32 bytes at byte
//! offset `32 * i`. Every level's nodes are therefore addressable, any tile
//! (full or partial, any level) is read straight out of the file, and
//! appending leaf `n` writes exactly the hashes that leaf completes.

use crate::error::{LogError, LogErrorKind};
use crate::fsio;
use std::cell::RefCell;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tlog_tiles::{HashReader, Tile};

/// A SHA-256 digest: leaf, interior node or tree root.
pub type Hash = [u8; 32];

/// Bytes per stored hash in the `hashes` file.
pub const HASH_BYTES: u64 = 32;
/// C2SP tlog-tiles tile height: a full tile holds 2^8 hashes.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH_MAX: u16 = 1 << TILE_HEIGHT;
/// Name of the flat hash file inside the tree directory.
pub const HASHES_FILE_NAME: &str = "hashes";

const _: () = assert!(HASH_BYTES as usize == tlog_tiles::HASH_SIZE);
const _: () = assert!(std::mem::size_of::<Hash>() == HASH_BYTES as usize);

/// RFC 6962 leaf hash: SHA-256(0x00 ‖ entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    tlog_tiles::record_hash(entry).0
}

/// RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: Hash, right: Hash) -> Hash {
    tlog_tiles::node_hash(tlog_tiles::Hash(left), tlog_tiles::Hash(right)).0
}

/// Root of the empty tree: SHA-256 of the empty string.
pub const EMPTY_TREE_ROOT: Hash = tlog_tiles::EMPTY_HASH.0;

struct TreeShared {
    path: PathBuf,
    file: File,
    /// Leaves whose stored hashes are all written; readers never look past.
    size: AtomicU64,
}

/// The writer of the tree, owned by the sequencer.
pub struct MerkleTree {
    shared: Arc<TreeShared>,
}

/// A cheap, cloneable, thread-safe view of the tree.
#[derive(Clone)]
pub struct TreeReader {
    shared: Arc<TreeShared>,
}

/// Adapts the hashes file (plus hashes computed but not yet written) to
/// tlog's `HashReader`. tlog's error type cannot carry an I/O error, so the
/// first one is parked here and surfaced by [`StoredHashes::finish`].
struct StoredHashes<'a> {
    shared: &'a TreeShared,
    /// Stored hashes below this index may be read from the file.
    file_hash_count: u64,
    /// Hashes with stored index `file_hash_count + k`, not yet written.
    pending: &'a [tlog_tiles::Hash],
    io_error: RefCell<Option<LogError>>,
}

impl<'a> StoredHashes<'a> {
    fn new(shared: &'a TreeShared, file_hash_count: u64) -> StoredHashes<'a> {
        StoredHashes {
            shared,
            file_hash_count,
            pending: &[],
            io_error: RefCell::new(None),
        }
    }

    fn read_one(&self, index: u64) -> Result<tlog_tiles::Hash, tlog_tiles::Error> {
        if index >= self.file_hash_count {
            let k = index - self.file_hash_count;
            return match self.pending.get(k as usize) {
                Some(h) => Ok(*h),
                None => Err(tlog_tiles::Error::IndexesNotInTree),
            };
        }
        let mut hash = [0u8; HASH_BYTES as usize];
        match fsio::read_exact_at(
            &self.shared.file,
            &self.shared.path,
            &mut hash,
            index * HASH_BYTES,
        ) {
            Ok(()) => Ok(tlog_tiles::Hash(hash)),
            Err(e) => {
                self.io_error.borrow_mut().get_or_insert(e);
                Err(tlog_tiles::Error::IndexesNotInTree)
            }
        }
    }

    /// Converts a tlog result, preferring a parked I/O error.
    fn finish<T>(&self, result: Result<T, tlog_tiles::Error>) -> Result<T, LogError> {
        if let Some(e) = self.io_error.borrow_mut().take() {
            return Err(e);
        }
        result.map_err(|e| {
            LogError::new(LogErrorKind::ProofFailed, e.to_string()).at_path(&self.shared.path)
        })
    }
}

impl HashReader for StoredHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes.iter().map(|&i| self.read_one(i)).collect()
    }
}

/// Largest tree size whose stored hashes fit in `hash_count` hashes.
fn size_for_hash_count(hash_count: u64) -> u64 {
    // stored_hash_count is increasing and ≥ n, so the answer is in
    // [0, hash_count].
    let (mut lo, mut hi) = (0u64, hash_count);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if tlog_tiles::stored_hash_count(mid) <= hash_count {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

fn to_tlog(proof: &[Hash]) -> Vec<tlog_tiles::Hash> {
    proof.iter().map(|h| tlog_tiles::Hash(*h)).collect()
}

fn out_of_range(detail: String) -> LogError {
    LogError::new(LogErrorKind::OutOfRange, detail)
}

impl MerkleTree {
    /// Opens or creates the tree in `dir`. A partial trailing hash record,
    /// or the hashes of a leaf whose completed-subtree hashes were not all
    /// written, are cut off: the tree is derived data and is rebuilt from
    /// the log.
    pub fn open(dir: &Path) -> Result<MerkleTree, LogError> {
        fsio::create_dir_all(dir)?;
        let path = dir.join(HASHES_FILE_NAME);
        let file = fsio::open_or_create_rw(&path)?;
        let file_len = fsio::file_len(&file, &path)?;
        let size = size_for_hash_count(file_len / HASH_BYTES);
        let keep_bytes = tlog_tiles::stored_hash_count(size) * HASH_BYTES;
        if keep_bytes != file_len {
            fsio::truncate(&file, &path, keep_bytes)?;
        }
        Ok(MerkleTree {
            shared: Arc::new(TreeShared {
                path,
                file,
                size: AtomicU64::new(size),
            }),
        })
    }

    /// Leaves in the tree.
    pub fn size(&self) -> u64 {
        self.shared.size.load(Ordering::Acquire)
    }

    /// Appends leaves, writing their stored hashes (no fsync: the tree is
    /// derivable from the log). Returns the new root.
    pub fn append(&mut self, leaf_hashes: &[Hash]) -> Result<Hash, LogError> {
        let old_size = self.size();
        let new_size = old_size + leaf_hashes.len() as u64;
        let base = tlog_tiles::stored_hash_count(old_size);
        let mut pending: Vec<tlog_tiles::Hash> = Vec::with_capacity(2 * leaf_hashes.len() + 64);
        for (k, leaf) in leaf_hashes.iter().enumerate() {
            let reader = StoredHashes {
                pending: &pending,
                ..StoredHashes::new(&self.shared, base)
            };
            let result = tlog_tiles::stored_hashes_for_record_hash(
                old_size + k as u64,
                tlog_tiles::Hash(*leaf),
                &reader,
            );
            let hashes = reader.finish(result)?;
            pending.extend(hashes);
        }
        assert_eq!(
            base + pending.len() as u64,
            tlog_tiles::stored_hash_count(new_size),
            "stored hash arithmetic"
        );
        let mut bytes = Vec::with_capacity(pending.len() * HASH_BYTES as usize);
        for h in &pending {
            bytes.extend_from_slice(&h.0);
        }
        fsio::write_all_at(
            &self.shared.file,
            &self.shared.path,
            &bytes,
            base * HASH_BYTES,
        )?;
        self.shared.size.store(new_size, Ordering::Release);
        self.reader().root(new_size)
    }

    /// fdatasync of the hashes file.
    pub fn sync(&self) -> Result<(), LogError> {
        fsio::sync_data(&self.shared.file, &self.shared.path)
    }

    /// Shrinks the tree to `size` leaves (used by recovery when the hashes
    /// ran ahead of the log).
    pub fn truncate_to(&mut self, size: u64) -> Result<(), LogError> {
        let current = self.size();
        if size > current {
            return Err(out_of_range(format!(
                "cannot truncate a tree of {current} leaves to {size}"
            )));
        }
        // Lower the visible size first so no reader asks for cut hashes.
        self.shared.size.store(size, Ordering::Release);
        fsio::truncate(
            &self.shared.file,
            &self.shared.path,
            tlog_tiles::stored_hash_count(size) * HASH_BYTES,
        )
    }

    /// A reader sharing this tree.
    pub fn reader(&self) -> TreeReader {
        TreeReader {
            shared: self.shared.clone(),
        }
    }
}

impl TreeReader {
    /// Leaves in the tree.
    pub fn size(&self) -> u64 {
        self.shared.size.load(Ordering::Acquire)
    }

    fn stored(&self) -> StoredHashes<'_> {
        StoredHashes::new(&self.shared, tlog_tiles::stored_hash_count(self.size()))
    }

    fn check_size(&self, size: u64) -> Result<(), LogError> {
        let have = self.size();
        if size > have {
            return Err(out_of_range(format!(
                "tree size {size} requested, tree holds {have}"
            )));
        }
        Ok(())
    }

    /// The stored leaf hash of entry `index`.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash, LogError> {
        if index >= self.size() {
            return Err(out_of_range(format!("leaf {index} is not in the tree")).at_entry(index));
        }
        let stored = self.stored();
        let result = stored.read_one(tlog_tiles::stored_hash_index(0, index));
        stored.finish(result).map(|h| h.0)
    }

    /// Root of the tree's first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, LogError> {
        self.check_size(size)?;
        let stored = self.stored();
        let result = tlog_tiles::tree_hash(size, &stored);
        stored.finish(result).map(|h| h.0)
    }

    /// RFC 6962 audit path for leaf `index` in the tree of `size` leaves,
    /// verified against that tree's root before it is returned.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(size)?;
        if index >= size {
            return Err(LogError::new(
                LogErrorKind::InvalidArgument,
                format!("leaf {index} is not in a tree of {size}"),
            ));
        }
        let stored = self.stored();
        let result = tlog_tiles::prove_record(size, index, &stored);
        let proof: Vec<Hash> = stored.finish(result)?.iter().map(|h| h.0).collect();
        // The proof and the root come from different stored hashes; if the
        // file is damaged they disagree, and we must not hand out a proof
        // that does not verify.
        let root = self.root(size)?;
        verify_inclusion(self.leaf_hash(index)?, index, size, &proof, root)
            .map_err(|e| e.at_path(&self.shared.path).at_entry(index))?;
        Ok(proof)
    }

    /// RFC 6962 consistency proof from the tree of `old` leaves to the tree
    /// of `new` leaves (`1 <= old <= new`), verified before it is returned.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(new)?;
        if old == 0 || old > new {
            return Err(LogError::new(
                LogErrorKind::InvalidArgument,
                format!("consistency proof needs 1 <= old <= new, got {old}, {new}"),
            ));
        }
        let stored = self.stored();
        let result = tlog_tiles::prove_tree(new, old, &stored);
        let proof: Vec<Hash> = stored.finish(result)?.iter().map(|h| h.0).collect();
        verify_consistency(old, new, self.root(old)?, self.root(new)?, &proof)
            .map_err(|e| e.at_path(&self.shared.path))?;
        Ok(proof)
    }

    /// The bytes of hash tile `(level, n)` of `width` hashes (C2SP
    /// tlog-tiles: concatenated 32-byte hashes at tree level `8 * level`,
    /// indexes `256 * n ..`). The tile must lie within the current tree.
    pub fn tile(&self, level: u8, n: u64, width: u16) -> Result<Vec<u8>, LogError> {
        if !(1..=TILE_WIDTH_MAX).contains(&width) || level >= 8 {
            return Err(LogError::new(
                LogErrorKind::InvalidArgument,
                format!("no tile at level {level} of width {width}"),
            ));
        }
        // The last hash of the tile covers leaves up to this (exclusive).
        let leaves_needed = (u128::from(n) * u128::from(TILE_WIDTH_MAX) + u128::from(width))
            << (u32::from(TILE_HEIGHT) * u32::from(level));
        let size = self.size();
        if leaves_needed > u128::from(size) {
            return Err(out_of_range(format!(
                "tile {} needs {leaves_needed} leaves, tree holds {size}",
                tile_path(level, n, width)
            )));
        }
        let tile = Tile::new(TILE_HEIGHT, level, n, u32::from(width), false);
        let stored = self.stored();
        let result = tile.read_data(&stored);
        stored.finish(result)
    }
}

/// Checks an RFC 6962 inclusion proof.
pub fn verify_inclusion(
    leaf: Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: Hash,
) -> Result<(), LogError> {
    if index >= size {
        return Err(LogError::new(
            LogErrorKind::ProofFailed,
            format!("leaf {index} cannot be in a tree of {size}"),
        ));
    }
    tlog_tiles::check_record(
        &to_tlog(proof),
        size,
        tlog_tiles::Hash(root),
        index,
        tlog_tiles::Hash(leaf),
    )
    .map_err(|e| {
        LogError::new(
            LogErrorKind::ProofFailed,
            format!("inclusion of leaf {index} in tree {size}: {e}"),
        )
    })
}

/// Checks an RFC 6962 consistency proof. `old == 0` is accepted only with
/// an empty proof and the empty-tree root: every tree extends the empty one.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: Hash,
    new_root: Hash,
    proof: &[Hash],
) -> Result<(), LogError> {
    let fail = |why: String| {
        Err(LogError::new(
            LogErrorKind::ProofFailed,
            format!("consistency {old} -> {new}: {why}"),
        ))
    };
    if old > new {
        return fail("old size exceeds new size".into());
    }
    if old == 0 {
        if proof.is_empty() && old_root == EMPTY_TREE_ROOT {
            return Ok(());
        }
        return fail("a proof from the empty tree is empty".into());
    }
    match tlog_tiles::check_tree(
        &to_tlog(proof),
        new,
        tlog_tiles::Hash(new_root),
        old,
        tlog_tiles::Hash(old_root),
    ) {
        Ok(()) => Ok(()),
        Err(e) => fail(e.to_string()),
    }
}

/// What a tile path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileLevel {
    /// A hash tile at this tile level (tree level `8 * level`).
    Hashes(u8),
    /// An entry bundle (`tile/entries/...`).
    Entries,
}

fn encode_tile_index(n: u64) -> String {
    // Three digits per path element, all but the last prefixed with `x`.
    let mut s = format!("{:03}", n % 1000);
    let mut rest = n / 1000;
    while rest > 0 {
        s = format!("x{:03}/{s}", rest % 1000);
        rest /= 1000;
    }
    s
}

fn tile_path_for(level: &str, n: u64, width: u16) -> String {
    assert!(
        (1..=TILE_WIDTH_MAX).contains(&width),
        "tile width {width} outside 1..=256"
    );
    let mut path = format!("tile/{level}/{}", encode_tile_index(n));
    if width < TILE_WIDTH_MAX {
        path.push_str(&format!(".p/{width}"));
    }
    path
}

/// C2SP hash tile path, e.g. `tile/0/x001/234.p/17`. Panics if `width` is
/// not in `1..=256`.
pub fn tile_path(level: u8, n: u64, width: u16) -> String {
    tile_path_for(&level.to_string(), n, width)
}

/// C2SP entry bundle path, e.g. `tile/entries/x001/234.p/17`. Panics if
/// `width` is not in `1..=256`.
pub fn entry_bundle_path(n: u64, width: u16) -> String {
    tile_path_for("entries", n, width)
}

/// Parses a C2SP tile or entry-bundle path; only the canonical spelling
/// (as produced by [`tile_path`] / [`entry_bundle_path`]) is accepted.
pub fn parse_tile_path(path: &str) -> Result<(TileLevel, u64, u16), LogError> {
    let bad = || {
        LogError::new(
            LogErrorKind::Malformed,
            format!("not a tile path: {path:?}"),
        )
    };
    let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
    let (level_text, rest) = rest.split_once('/').ok_or_else(bad)?;
    let level = if level_text == "entries" {
        TileLevel::Entries
    } else {
        let l: u8 = level_text.parse().map_err(|_| bad())?;
        if l >= 64 {
            return Err(bad());
        }
        TileLevel::Hashes(l)
    };
    let (index_text, width) = match rest.split_once(".p/") {
        Some((index_text, width_text)) => {
            let w: u16 = width_text.parse().map_err(|_| bad())?;
            if !(1..TILE_WIDTH_MAX).contains(&w) {
                return Err(bad());
            }
            (index_text, w)
        }
        None => (rest, TILE_WIDTH_MAX),
    };
    let mut n: u64 = 0;
    for element in index_text.split('/') {
        let digits = element.strip_prefix('x').unwrap_or(element);
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let d: u64 = digits.parse().map_err(|_| bad())?;
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(d))
            .ok_or_else(bad)?;
    }
    let canonical = match level {
        TileLevel::Entries => entry_bundle_path(n, width),
        TileLevel::Hashes(l) => tile_path(l, n, width),
    };
    if canonical != path {
        return Err(bad());
    }
    Ok((level, n, width))
}

/// C2SP entry bundle: each entry as a big-endian u16 length then its bytes.
/// Panics if an entry exceeds 65535 bytes (the log never holds one).
pub fn entry_bundle(entries: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 2).sum());
    for entry in entries {
        let len = u16::try_from(entry.len()).expect("log entries are at most 65535 bytes");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_for_hash_count_inverts_stored_hash_count() {
        for n in 0..600 {
            let count = tlog_tiles::stored_hash_count(n);
            assert_eq!(size_for_hash_count(count), n);
            if count > 0 {
                assert!(size_for_hash_count(count - 1) < n);
            }
        }
    }
}
