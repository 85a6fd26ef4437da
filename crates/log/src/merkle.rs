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
use std::sync::{Arc, Mutex, RwLock};
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

/// Most hashes of tree level 8 and above kept in memory by [`TreeReader`] (32 MiB of hashes;
/// a tree of 10^8 leaves has about 780,000 such hashes).
pub const UPPER_HASHES_CACHED_MAX: usize = 1 << 20;
/// Needed stored hashes at most this many apart are read with one positioned read (the
/// bytes between are read and dropped: cheaper than another system call).
const READ_GAP_HASHES_MAX: u64 = 32;

/// Hashes at tree level `TILE_HEIGHT` and above, by level and node index, in
/// dense arrays (an all-zero entry is "not cached": no SHA-256 output is
/// expected to be zero). They are written once and never change while the
/// tree only grows; [`MerkleTree::truncate_to`] clears them and bumps the
/// generation, so a read that began before a truncation never caches what it
/// read.
#[derive(Default)]
struct UpperHashCache {
    generation: u64,
    /// `levels[level - TILE_HEIGHT][n]`.
    levels: Vec<Vec<Hash>>,
    slots_total: usize,
}

impl UpperHashCache {
    fn get(&self, level: u8, n: u64) -> Option<Hash> {
        let hash = self
            .levels
            .get(usize::from(level.checked_sub(TILE_HEIGHT)?))?
            .get(usize::try_from(n).ok()?)?;
        (*hash != [0u8; HASH_BYTES as usize]).then_some(*hash)
    }

    fn insert(&mut self, level: u8, n: u64, hash: Hash) {
        let (Some(row), Ok(n)) = (level.checked_sub(TILE_HEIGHT), usize::try_from(n)) else {
            return;
        };
        let row = usize::from(row);
        if self.levels.len() <= row {
            self.levels.resize_with(row + 1, Vec::new);
        }
        let hashes = &mut self.levels[row];
        if hashes.len() <= n {
            let grow = n + 1 - hashes.len();
            if self.slots_total + grow > UPPER_HASHES_CACHED_MAX {
                return;
            }
            hashes.resize(n + 1, [0u8; HASH_BYTES as usize]);
            self.slots_total += grow;
        }
        hashes[n] = hash;
    }

    fn clear(&mut self) {
        self.generation += 1;
        self.levels.clear();
        self.slots_total = 0;
    }
}

struct TreeShared {
    path: PathBuf,
    file: File,
    /// Leaves whose stored hashes are all written; readers never look past.
    size: AtomicU64,
    upper: RwLock<UpperHashCache>,
    /// The last root computed, with its tree size (cleared on truncation).
    last_root: Mutex<Option<(u64, Hash)>>,
}

/// The writer of the tree, owned by one thread (a node's writer, a mirror's pull).
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
                upper: RwLock::new(UpperHashCache::default()),
                last_root: Mutex::new(None),
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
        {
            let mut upper = self
                .shared
                .upper
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            upper.clear();
        }
        *self
            .shared
            .last_root
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
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

    /// The stored leaf hashes of entries `[start, end)`, with a few large reads (the leaves
    /// lie between interior hashes in the file, close together).
    pub fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<Hash>, LogError> {
        if end > self.size() || start > end {
            return Err(out_of_range(format!(
                "leaves [{start}, {end}) are not in the tree of {}",
                self.size()
            )));
        }
        let nodes: Vec<(u8, u64)> = (start..end).map(|index| (0, index)).collect();
        self.read_nodes(&nodes)
    }

    /// Root of the tree's first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, LogError> {
        self.check_size(size)?;
        let last_root = || {
            self.shared
                .last_root
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        if let Some((cached_size, root)) = *last_root() {
            if cached_size == size {
                return Ok(root);
            }
        }
        let stored = self.stored();
        let result = tlog_tiles::tree_hash(size, &stored);
        let root = stored.finish(result)?.0;
        *last_root() = Some((size, root));
        Ok(root)
    }

    /// Reads the hashes at tree coordinates `(level, n)`: hashes of level 8 and above from
    /// memory when cached (and cached once read), the rest with as few positioned reads as
    /// their closeness allows.
    fn read_nodes(&self, nodes: &[(u8, u64)]) -> Result<Vec<Hash>, LogError> {
        let mut hashes = vec![[0u8; HASH_BYTES as usize]; nodes.len()];
        let mut missing: Vec<(u64, usize)> = Vec::with_capacity(nodes.len());
        let generation = {
            let upper = self
                .shared
                .upper
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for (slot, &(level, n)) in nodes.iter().enumerate() {
                match upper.get(level, n) {
                    Some(hash) => hashes[slot] = hash,
                    None => missing.push((tlog_tiles::stored_hash_index(level, n), slot)),
                }
            }
            upper.generation
        };
        if missing.is_empty() {
            return Ok(hashes);
        }
        missing.sort_unstable();
        let mut buffer = Vec::new();
        let mut start = 0;
        while start < missing.len() {
            let first = missing[start].0;
            let mut end = start + 1;
            while end < missing.len() && missing[end].0 - missing[end - 1].0 <= READ_GAP_HASHES_MAX
            {
                end += 1;
            }
            let count = missing[end - 1].0 - first + 1;
            buffer.resize((count * HASH_BYTES) as usize, 0);
            fsio::read_exact_at(
                &self.shared.file,
                &self.shared.path,
                &mut buffer,
                first * HASH_BYTES,
            )?;
            for &(index, slot) in &missing[start..end] {
                let at = ((index - first) * HASH_BYTES) as usize;
                hashes[slot].copy_from_slice(&buffer[at..at + HASH_BYTES as usize]);
            }
            start = end;
        }
        let mut upper = self
            .shared
            .upper
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if upper.generation == generation {
            for &(_, slot) in &missing {
                let (level, n) = nodes[slot];
                upper.insert(level, n, hashes[slot]);
            }
        }
        Ok(hashes)
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
        // One batch of reads: the leaf, then the complete subtrees each proof
        // element is made of (see `inclusion_proof_plan`).
        let mut nodes = Vec::with_capacity(80);
        nodes.push((0, index));
        let mut parts_per_element = Vec::with_capacity(64);
        inclusion_proof_plan(index, size, &mut nodes, &mut parts_per_element);
        let hashes = self.read_nodes(&nodes)?;
        let leaf = hashes[0];
        let mut next = 1;
        let mut proof = Vec::with_capacity(parts_per_element.len());
        for &count in &parts_per_element {
            let parts = &hashes[next..next + usize::from(count)];
            next += usize::from(count);
            // Fold the complete subtrees from the right (RFC 6962 MTH of a range).
            let mut hash = parts[parts.len() - 1];
            for left in parts[..parts.len() - 1].iter().rev() {
                hash = node_hash(*left, hash);
            }
            proof.push(hash);
        }
        // The proof and the root come from different stored hashes; if the
        // file is damaged they disagree, and we must not hand out a proof
        // that does not verify.
        let root = self.root(size)?;
        verify_inclusion(leaf, index, size, &proof, root)
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

/// The RFC 6962 audit path of leaf `index` in a tree of `size` leaves, as
/// the complete subtrees `(level, n)` each proof element (leaf's sibling
/// first) is made of: appended to `nodes`, their count per element to
/// `parts_per_element`. An element is one complete subtree, except on the
/// tree's right edge, where it is the fold from the right of several.
fn inclusion_proof_plan(
    index: u64,
    size: u64,
    nodes: &mut Vec<(u8, u64)>,
    parts_per_element: &mut Vec<u8>,
) {
    // Walk down from the root recording the subtree not taken (its range),
    // then emit them in reverse: RFC 6962 lists the path from the leaf up.
    let mut not_taken = [(0u64, 0u64); 64];
    let mut depth = 0;
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        // k: the largest power of two smaller than hi - lo.
        let k = 1u64 << (63 - (hi - lo - 1).leading_zeros());
        if index < lo + k {
            not_taken[depth] = (lo + k, hi);
            hi = lo + k;
        } else {
            not_taken[depth] = (lo, lo + k);
            lo += k;
        }
        depth += 1;
    }
    for &(mut lo, hi) in not_taken[..depth].iter().rev() {
        let mut parts = 0u8;
        while lo < hi {
            // The largest power of two not above what remains; `lo` is a
            // multiple of it (each range starts at a multiple of its width).
            let level = 63 - (hi - lo).leading_zeros() as u8;
            debug_assert_eq!(lo % (1u64 << level), 0, "aligned subtree");
            nodes.push((level, lo >> level));
            lo += 1u64 << level;
            parts += 1;
        }
        parts_per_element.push(parts);
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

    /// The batched, cached proof generation gives exactly tlog's proofs.
    #[test]
    fn inclusion_proofs_equal_tlogs_at_every_index_and_size() {
        let dir = std::env::temp_dir().join(format!("merkle-plan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut tree = MerkleTree::open(&dir).unwrap();
        let leaves: Vec<Hash> = (0u64..700).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        tree.append(&leaves).unwrap();
        let reader = tree.reader();
        for size in (1..=700u64).filter(|s| *s < 80 || s % 37 == 0 || *s == 700) {
            for index in 0..size {
                let stored = reader.stored();
                let expected: Vec<Hash> = stored
                    .finish(tlog_tiles::prove_record(size, index, &stored))
                    .unwrap()
                    .iter()
                    .map(|h| h.0)
                    .collect();
                assert_eq!(
                    reader.inclusion_proof(index, size).unwrap(),
                    expected,
                    "index {index}, size {size}"
                );
            }
        }
        // The cache is cleared on truncation: proofs after regrowing with other leaves
        // are those of the new tree.
        tree.truncate_to(300).unwrap();
        let other: Vec<Hash> = (0u64..400)
            .map(|i| leaf_hash(&(i + 9999).to_le_bytes()))
            .collect();
        tree.append(&other).unwrap();
        let stored = reader.stored();
        let expected: Vec<Hash> = stored
            .finish(tlog_tiles::prove_record(700, 5, &stored))
            .unwrap()
            .iter()
            .map(|h| h.0)
            .collect();
        assert_eq!(reader.inclusion_proof(5, 700).unwrap(), expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

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
