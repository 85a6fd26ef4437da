//! Full audit: the log, the stored tree and a signed checkpoint agree.

use crate::checkpoint::Checkpoint;
use crate::error::{LogError, LogErrorKind};
use crate::log::LogReader;
use crate::merkle::{leaf_hash, node_hash, Hash, MerkleTree, TreeReader, EMPTY_TREE_ROOT};

/// `progress` is called with the number of entries checked so far about
/// every `AUDIT_PROGRESS_ENTRIES` entries, and once at the end.
pub const AUDIT_PROGRESS_ENTRIES: u64 = 4096;

/// Leaves appended per batch when catching the tree up with the log.
const CATCH_UP_BATCH_ENTRIES: usize = 4096;

/// Stored leaf hashes an audit reads at a time.
const AUDIT_READ_LEAVES: u64 = 16_384;

/// Recomputes every leaf hash of entries `[0, checkpoint.size)` from the
/// log, compares each with the stored leaf hash, recomputes the root from
/// the leaves alone (trusting no stored interior hash) and compares it, and
/// the stored tree's root, with the checkpoint's.
///
/// Errors: `TreeMismatch { index }` for the first entry whose stored leaf
/// hash differs; `RootMismatch { size }` if the roots differ; `Damaged` if a
/// frame fails its checksum; `OutOfRange` if the log or tree is shorter
/// than the checkpoint.
pub fn audit(
    log: &LogReader,
    tree: &TreeReader,
    checkpoint: &Checkpoint,
    mut progress: impl FnMut(u64),
) -> Result<(), LogError> {
    let size = checkpoint.size;
    if size > log.entry_count() || size > tree.size() {
        return Err(LogError::new(
            LogErrorKind::OutOfRange,
            format!(
                "checkpoint size {size}, log holds {}, tree holds {}",
                log.entry_count(),
                tree.size()
            ),
        ));
    }
    // Roots of the perfect subtrees covering the leaves so far, largest
    // first (a "compact range"): O(log n) memory for any log size.
    let mut perfect_subtrees: Vec<Hash> = Vec::with_capacity(64);
    // The stored leaf hashes, read a block at a time (one read per leaf was most of an audit).
    let mut stored: Vec<Hash> = Vec::new();
    let mut stored_from = 0u64;
    log.for_each(0, size, |index, entry| {
        let recomputed = leaf_hash(entry);
        if index >= stored_from + stored.len() as u64 {
            stored_from = index;
            stored = tree.leaf_hashes(index, (index + AUDIT_READ_LEAVES).min(size))?;
        }
        if stored[(index - stored_from) as usize] != recomputed {
            return Err(LogError::new(
                LogErrorKind::TreeMismatch { index },
                "stored leaf hash differs from the hash of the log entry",
            )
            .at_entry(index));
        }
        let mut hash = recomputed;
        let mut n = index;
        while n & 1 == 1 {
            let left = perfect_subtrees
                .pop()
                .expect("a set low bit means a left sibling exists");
            hash = node_hash(left, hash);
            n >>= 1;
        }
        perfect_subtrees.push(hash);
        if (index + 1).is_multiple_of(AUDIT_PROGRESS_ENTRIES) {
            progress(index + 1);
        }
        Ok(())
    })?;
    progress(size);
    let mut root = perfect_subtrees.pop().unwrap_or(EMPTY_TREE_ROOT);
    while let Some(left) = perfect_subtrees.pop() {
        root = node_hash(left, root);
    }
    if root != checkpoint.root {
        return Err(LogError::new(
            LogErrorKind::RootMismatch { size },
            "root recomputed from the log differs from the checkpoint",
        ));
    }
    if tree.root(size)? != checkpoint.root {
        return Err(LogError::new(
            LogErrorKind::RootMismatch { size },
            "stored tree's root differs from the checkpoint (interior hashes damaged)",
        ));
    }
    Ok(())
}

/// Brings the tree level with the log after a restart: cuts it back to at
/// most `trusted_size` leaves (the hashes file is written without fsync, so
/// only hashes covered by an earlier `MerkleTree::sync`, e.g. before the
/// last checkpoint was signed, are trusted), then appends the leaf hashes of
/// the remaining log entries. Returns the new root.
pub fn catch_up_tree(
    tree: &mut MerkleTree,
    log: &LogReader,
    trusted_size: u64,
) -> Result<Hash, LogError> {
    let count = log.entry_count();
    let keep = tree.size().min(trusted_size).min(count);
    tree.truncate_to(keep)?;
    let mut batch: Vec<Hash> = Vec::with_capacity(CATCH_UP_BATCH_ENTRIES);
    log.for_each(keep, count, |_, entry| {
        batch.push(leaf_hash(entry));
        if batch.len() == CATCH_UP_BATCH_ENTRIES {
            tree.append(&batch)?;
            batch.clear();
        }
        Ok(())
    })?;
    tree.append(&batch)?;
    let root = tree.reader().root(count)?;
    assert_eq!(tree.size(), count, "tree caught up with the log");
    Ok(root)
}
