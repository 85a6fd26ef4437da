//! The log of record for skill-ledger: durable, tamper-evident storage of
//! opaque entries, and the proofs that let anyone check it.
//!
//! This crate knows nothing of credentials. An entry is an opaque byte
//! string of at most 65535 bytes (so it fits a C2SP entry bundle's u16
//! length). It provides four layers, and two things every crate shares:
//!
//! - [`Log`] / [`LogReader`]: the log of record, append-only segment files
//!   of checksummed frames. One writer (a node's sequencer) appends batches with
//!   one fdatasync each; any number of readers on any threads read
//!   committed entries with `pread`, verifying every checksum.
//! - [`MerkleTree`] / [`TreeReader`]: the RFC 6962 tree over the entries'
//!   leaf hashes, stored in the C2SP tlog-tiles hash order in one flat file,
//!   serving roots, inclusion and consistency proofs (each verified before
//!   it is returned) and tiles.
//! - [`CheckpointSigner`] and [`parse_and_verify_checkpoint`]: C2SP
//!   tlog-checkpoints in C2SP signed notes (Ed25519), with a `time` line,
//!   and a persisted latest checkpoint so that two inconsistent checkpoints
//!   are never signed, even across restarts.
//! - [`audit`]: recomputes everything from the log and compares it with
//!   the tree and a checkpoint.
//! - [`AuthenticatedTiles`]: reads of *another* log's hash tiles (from any
//!   [`TileSource`]) where every tile is checked against a signed root, for
//!   mirrors and auditors that hold only a checkpoint.
//! - [`Clock`] / [`SystemClock`], the one clock of the crates that read the
//!   time, and [`faults`], the one storage seam tests fail writes and fsyncs
//!   through (the log's files, the node's sled writes, the sync crate's files).
//!
//! Errors are one type, [`LogError`], whose [`LogErrorKind`] callers match
//! on and whose context (file, byte offset, entry index) points at damage.
//!
//! # The key decision: what recovery may throw away
//!
//! A crash can leave a partly written batch at the end of the last segment.
//! Recovery cuts such a *torn tail* only when it is provably unacknowledged:
//! the bad frame is in the last segment, at an index at or above
//! `acknowledged_entries_min` (the caller passes the last signed
//! checkpoint's size), and a byte-by-byte search finds no valid frame after
//! it. Anything else (damage in an earlier segment or below the
//! acknowledged count, a valid frame after the bad one, a bad header, a gap
//! in segment numbering) refuses to open with [`LogErrorKind::Damaged`],
//! naming the file, byte offset and entry index, and leaves every byte as
//! it was. A log of record that silently dropped acknowledged credentials
//! would be worse than one that stops and asks an operator.
//!
//! The Merkle tree, by contrast, is derived data: it is written without
//! fsync, and [`catch_up_tree`] rebuilds whatever is not trusted from the log.
//!
//! # Example
//!
//! ```
//! use skill_ledger_log::{leaf_hash, verify_inclusion, Log, LogOptions, MerkleTree};
//!
//! let dir = tempfile::tempdir()?;
//! let (mut log, recovery) = Log::open(&dir.path().join("log"), LogOptions::default(), 0)?;
//! assert_eq!(recovery.entry_count, 0);
//! let range = log.append_batch(&[b"first", b"second"])?;
//! assert_eq!(range, 0..2);
//!
//! let mut tree = MerkleTree::open(&dir.path().join("tree"))?;
//! let root = tree.append(&[leaf_hash(b"first"), leaf_hash(b"second")])?;
//!
//! let reader = log.reader(); // Clone + Send + Sync
//! assert_eq!(reader.read(1)?, b"second");
//! let proof = tree.reader().inclusion_proof(1, 2)?;
//! verify_inclusion(leaf_hash(&reader.read(1)?), 1, 2, &proof, root)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! On-disk formats are specified byte by byte in docs/formats.md (part 2).
mod audit;
mod bundle;
mod checkpoint;
mod clock;
mod error;
mod format;
mod fsio;
mod log;
mod merkle;
mod tiles;

pub use crate::audit::{audit, catch_up_tree, AUDIT_PROGRESS_ENTRIES};
pub use crate::bundle::{
    Bundle, BundleError, BundleErrorKind, BundleNote, BundleSection, ProvenEntry, TlogProof,
    VerifiedBundle, BUNDLE_BYTES_MAX, BUNDLE_HEADER, BUNDLE_HEADER_V1, BUNDLE_NOTES_MAX,
    BUNDLE_SECTIONS_MAX, PROOF_HASHES_MAX, SECTION_LABEL_BYTES_MAX, TLOG_PROOF_HEADER,
};
pub use crate::checkpoint::{
    is_lower_hex, note_signature_key_ids, parse_and_verify_checkpoint,
    parse_and_verify_checkpoint_with_any, parse_checkpoint_unverified, parse_signer_key_text,
    parse_verifier_key, parse_verifier_key_text, sign_note, sign_note_with_keys, signer_key_text,
    verifier_key_id, verifier_key_text, verifier_key_text_of, verifier_public_key, verify_note,
    Checkpoint, CheckpointSigner, SignedCheckpoint, CHECKPOINT_FILE_NAME,
};
pub use crate::clock::{Clock, SystemClock};
pub use crate::error::{LogError, LogErrorKind};
pub use crate::format::{ENTRY_BYTES_MAX_FORMAT, FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES};
/// Injected storage faults (arming them needs the `fault-injection` feature).
pub use crate::fsio::{available_bytes, faults};
pub use crate::log::{Log, LogOptions, LogReader, Recovery, SPARSE_INDEX_STRIDE};
pub use crate::merkle::{
    entry_bundle, entry_bundle_path, leaf_hash, node_hash, parse_tile_path, tile_path,
    verify_consistency, verify_inclusion, Hash, MerkleTree, TileLevel, TreeReader, EMPTY_TREE_ROOT,
    HASHES_FILE_NAME, HASH_BYTES, TILE_HEIGHT, TILE_WIDTH_MAX,
};
pub use crate::tiles::{AuthenticatedTiles, TileSource};
