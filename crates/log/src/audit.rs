//! Full audit: the log, the stored tree and a signed checkpoint agree.

use std::sync::atomic::{AtomicU64, Ordering};

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
    // The leaf hashes of `[split, size)` are recomputed and compared on a second core; this
    // thread does `[0, split)` and folds every leaf hash into the root, so the two shares take
    // about equal time (a leaf hash is about 5 SHA-256 blocks, a node 2).
    let split = audit_split(size);
    let checked_ahead = AtomicU64::new(0);
    let (front, back) = std::thread::scope(|scope| {
        let back = (split < size).then(|| {
            scope.spawn(|| {
                check_leaves(log, tree, (split, size), None, &mut |done| {
                    checked_ahead.store(done, Ordering::Relaxed)
                })
            })
        });
        let mut perfect_subtrees = CompactRange::default();
        let front = check_leaves(
            log,
            tree,
            (0, split),
            Some(&mut perfect_subtrees),
            &mut |done| progress(done + checked_ahead.load(Ordering::Relaxed)),
        )
        .and_then(|()| {
            // The stored leaf hashes of the back, which the other thread compares with the log.
            let mut start = split;
            while start < size {
                let end = (start + AUDIT_READ_LEAVES).min(size);
                for hash in tree.leaf_hashes(start, end)? {
                    perfect_subtrees.push(hash);
                }
                start = end;
            }
            Ok(perfect_subtrees)
        });
        let back = back.map(|thread| {
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (front, back)
    });
    // The first mismatch in log order is reported: the front's before the back's.
    let perfect_subtrees = front?;
    if let Some(back) = back {
        back?;
    }
    let mut perfect_subtrees = perfect_subtrees.roots;
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

/// Where [`audit`] splits `size` entries between its two threads (`size` itself: one
/// thread). The back share only recomputes leaf hashes; the front also folds every leaf into
/// the root, so it takes 3/10 of the entries, rounded to whole blocks of stored leaves.
fn audit_split(size: u64) -> u64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 || size < 2 * AUDIT_READ_LEAVES {
        return size;
    }
    (size / 10 * 3) / AUDIT_READ_LEAVES * AUDIT_READ_LEAVES
}

/// Roots of the perfect subtrees covering the leaves so far, largest first (a "compact
/// range"): O(log n) memory for any log size.
#[derive(Default)]
struct CompactRange {
    roots: Vec<Hash>,
    leaves: u64,
}

impl CompactRange {
    /// Appends the next leaf hash.
    fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut n = self.leaves;
        while n & 1 == 1 {
            let left = self
                .roots
                .pop()
                .expect("a set low bit means a left sibling exists");
            hash = node_hash(left, hash);
            n >>= 1;
        }
        self.roots.push(hash);
        self.leaves += 1;
    }
}

/// Recomputes the leaf hash of every entry `[start, end)`, compares it with the stored one
/// and, with `fold`, appends it to that compact range; `progress` gets the entries checked so
/// far (of this range) about every [`AUDIT_PROGRESS_ENTRIES`].
fn check_leaves(
    log: &LogReader,
    tree: &TreeReader,
    (start, end): (u64, u64),
    mut fold: Option<&mut CompactRange>,
    progress: &mut dyn FnMut(u64),
) -> Result<(), LogError> {
    // The stored leaf hashes, read a block at a time (one read per leaf was most of an audit).
    let mut stored: Vec<Hash> = Vec::new();
    let mut stored_from = start;
    log.for_each(start, end, |index, entry| {
        let recomputed = leaf_hash(entry);
        if index >= stored_from + stored.len() as u64 {
            stored_from = index;
            stored = tree.leaf_hashes(index, (index + AUDIT_READ_LEAVES).min(end))?;
        }
        if stored[(index - stored_from) as usize] != recomputed {
            return Err(LogError::new(
                LogErrorKind::TreeMismatch { index },
                "stored leaf hash differs from the hash of the log entry",
            )
            .at_entry(index));
        }
        if let Some(range) = fold.as_deref_mut() {
            range.push(recomputed);
        }
        if (index + 1 - start).is_multiple_of(AUDIT_PROGRESS_ENTRIES) {
            progress(index + 1 - start);
        }
        Ok(())
    })
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
