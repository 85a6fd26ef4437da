//! Phase 3, integrate: brings the Merkle tree level with the log.
//!
//! The writer thread takes sealed batches in order; their entries are durable in the log
//! already (the sequencer's fsync). Their leaf hashes are appended to the tree, whose size
//! must then equal the log's at the group's cursor.

use skill_ledger_log::{leaf_hash, MerkleTree, TreeReader};

use super::sequence::accepted_entries;
use super::ProjectionWork;
use crate::error::NodeError;

/// The Merkle tree the writer appends to.
pub(super) struct Integrator {
    tree: MerkleTree,
}

impl Integrator {
    pub(super) fn new(tree: MerkleTree) -> Integrator {
        Integrator { tree }
    }

    pub(super) fn reader(&self) -> TreeReader {
        self.tree.reader()
    }

    /// Appends the accepted entries of the group (oldest batch first); the tree then holds
    /// `cursor` leaves.
    pub(super) fn integrate(
        &mut self,
        group: &[ProjectionWork],
        cursor: u64,
    ) -> Result<(), NodeError> {
        let leaves: Vec<_> = group
            .iter()
            .flat_map(|work| accepted_entries(&work.batch, &work.outcomes))
            .map(leaf_hash)
            .collect();
        self.tree.append(&leaves)?;
        assert_eq!(self.tree.size(), cursor, "tree and log sizes diverged");
        Ok(())
    }
}
