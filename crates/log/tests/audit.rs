//! Audit detects a deliberate tamper (valid checksum) with its index.

use skill_ledger_log::{
    audit, catch_up_tree, leaf_hash, Checkpoint, CheckpointSigner, Hash, Log, LogErrorKind,
    LogOptions, MerkleTree, FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES,
};
use std::fs;

const ENTRY_BYTES: u64 = 16;

fn entry(i: u64) -> Vec<u8> {
    format!("entry {i:010}").into_bytes()
}

/// A log of `n` entries in `dir/log`, its tree in `dir/tree`, and a checkpoint of size `n`.
fn signed_log(dir: &std::path::Path, n: u64) -> (Log, MerkleTree, Checkpoint) {
    let (mut log, _) = Log::open(&dir.join("log"), LogOptions::default(), 0).unwrap();
    let mut tree = MerkleTree::open(&dir.join("tree")).unwrap();
    let entries: Vec<Vec<u8>> = (0..n).map(entry).collect();
    assert!(entries.iter().all(|e| e.len() as u64 == ENTRY_BYTES));
    let refs: Vec<&[u8]> = entries.iter().map(|e| e.as_slice()).collect();
    log.append_batch(&refs).unwrap();
    let hashes: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    tree.append(&hashes).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let mut signer = CheckpointSigner::open(&dir.join("cp"), "example.org/log", key).unwrap();
    let checkpoint = signer.sign(&tree.reader(), n, 1).unwrap().checkpoint;
    (log, tree, checkpoint)
}

#[test]
fn audit_passes_then_detects_tamper_with_index() {
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("log");
    let n = 5000u64;
    let (log, tree, checkpoint) = signed_log(dir.path(), n);

    let mut calls = Vec::new();
    audit(&log.reader(), &tree.reader(), &checkpoint, |k| {
        calls.push(k)
    })
    .unwrap();
    assert_eq!(calls, vec![4096, 5000]);
    drop(log);

    // Tamper with entry 1234, so only the tree can tell.
    let target = 1234u64;
    tamper(&log_dir, target);

    let (log, recovery) = Log::open(&log_dir, LogOptions::default(), n).unwrap();
    assert_eq!(recovery.entry_count, n);
    let err = audit(&log.reader(), &tree.reader(), &checkpoint, |_| {}).unwrap_err();
    assert_eq!(err.kind(), &LogErrorKind::TreeMismatch { index: target });
    assert_eq!(err.entry_index(), Some(target));

    // A tree rebuilt from the tampered log has the matching leaf but not the
    // signed root.
    let mut rebuilt = MerkleTree::open(&dir.path().join("rebuilt")).unwrap();
    catch_up_tree(&mut rebuilt, &log.reader(), 0).unwrap();
    let err = audit(&log.reader(), &rebuilt.reader(), &checkpoint, |_| {}).unwrap_err();
    assert_eq!(err.kind(), &LogErrorKind::RootMismatch { size: n });
}

#[test]
fn catch_up_rebuilds_a_damaged_tree_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(&dir.path().join("log"), LogOptions::default(), 0).unwrap();
    let entries: Vec<Vec<u8>> = (0..700).map(entry).collect();
    let refs: Vec<&[u8]> = entries.iter().map(|e| e.as_slice()).collect();
    log.append_batch(&refs).unwrap();
    let mut tree = MerkleTree::open(&dir.path().join("tree")).unwrap();
    let hashes: Vec<Hash> = entries[..600].iter().map(|e| leaf_hash(e)).collect();
    tree.append(&hashes).unwrap();
    let root_600 = tree.reader().root(600).unwrap();
    // Simulate unsynced hashes lost to zeros beyond a trusted size of 500.
    let path = dir.path().join("tree/hashes");
    let mut bytes = fs::read(&path).unwrap();
    let from = bytes.len() - 100 * 32;
    bytes[from..].fill(0);
    fs::write(&path, bytes).unwrap();
    let mut tree = MerkleTree::open(&dir.path().join("tree")).unwrap();
    let root = catch_up_tree(&mut tree, &log.reader(), 500).unwrap();
    assert_eq!(tree.size(), 700);
    assert_eq!(tree.reader().root(600).unwrap(), root_600);
    let fresh = tempfile::tempdir().unwrap();
    let mut expected = MerkleTree::open(fresh.path()).unwrap();
    let all: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    assert_eq!(expected.append(&all).unwrap(), root);
}

/// Changes a payload byte of entry `target` in the first segment and recomputes its crc, so
/// only the tree can tell.
fn tamper(log_dir: &std::path::Path, target: u64) {
    let seg = log_dir.join("00000000000000000000.seg");
    let mut bytes = fs::read(&seg).unwrap();
    let offset = (SEGMENT_HEADER_BYTES + target * (FRAME_HEADER_BYTES + ENTRY_BYTES)) as usize;
    bytes[offset + 8 + 3] ^= 1;
    let payload = bytes[offset + 8..offset + 8 + ENTRY_BYTES as usize].to_vec();
    let crc = crc32c::crc32c_append(crc32c::crc32c(&bytes[offset..offset + 4]), &payload);
    bytes[offset + 4..offset + 8].copy_from_slice(&crc.to_le_bytes());
    fs::write(&seg, bytes).unwrap();
}

/// Given logs large enough for the audit to split them between two threads (the first 3/10
/// checked and folded here, the rest checked beside), when audited sound, then each passes
/// with progress rising to its size; when an entry of the back share is tampered, then that
/// entry is named; when one of the front share is tampered too, then the front's, the first
/// in log order, is named.
#[test]
fn an_audit_split_between_two_threads_names_the_first_tampered_entry() {
    for n in [32_768u64, 32_769, 100_003] {
        let dir = tempfile::tempdir().unwrap();
        let log_dir = dir.path().join("log");
        let (log, tree, checkpoint) = signed_log(dir.path(), n);
        let mut calls = Vec::new();
        audit(&log.reader(), &tree.reader(), &checkpoint, |k| {
            calls.push(k)
        })
        .unwrap_or_else(|error| panic!("a sound log of {n}: {error}"));
        assert_eq!(calls.last(), Some(&n), "{n}: progress ends at the size");
        assert!(
            calls.windows(2).all(|w| w[0] <= w[1]),
            "{n}: progress rises"
        );
        drop(log);

        // The back share's entry first, then one of the front's, which is then the first.
        for tampered in [n - 2, 5] {
            tamper(&log_dir, tampered);
            let (log, _) = Log::open(&log_dir, LogOptions::default(), n).unwrap();
            let err = audit(&log.reader(), &tree.reader(), &checkpoint, |_| {}).unwrap_err();
            assert_eq!(
                err.kind(),
                &LogErrorKind::TreeMismatch { index: tampered },
                "{n}"
            );
        }
        let (log, _) = Log::open(&log_dir, LogOptions::default(), n).unwrap();

        // A tree rebuilt from the tampered log matches it leaf by leaf, but not the signed root.
        let mut rebuilt = MerkleTree::open(&dir.path().join("rebuilt")).unwrap();
        catch_up_tree(&mut rebuilt, &log.reader(), 0).unwrap();
        let err = audit(&log.reader(), &rebuilt.reader(), &checkpoint, |_| {}).unwrap_err();
        assert_eq!(err.kind(), &LogErrorKind::RootMismatch { size: n }, "{n}");
    }
}
