//! Recovery through the real files: close the node, damage or extend what is under the ledger
//! directory, reopen.

mod common;

use std::io::Write;
use std::path::Path;

use common::*;
use skill_ledger_domain::{CertificateNumber, CredentialStatus, SignedEvent};
use skill_ledger_log::{Log, LogOptions};
use skill_ledger_node::store::{Store, StoreOptions};
use skill_ledger_node::{rebuild, Node, NodeErrorKind};

/// A closed ledger with six certifications after the setup, and what it looked like.
struct Closed {
    fx: Fixture,
    numbers: Vec<CertificateNumber>,
    entry_count: u64,
    digest: [u8; 32],
}

fn closed_ledger() -> Closed {
    closed_ledger_of(6)
}

/// A closed ledger with `certifications` certifications after the setup.
fn closed_ledger_of(certifications: u32) -> Closed {
    let (fx, node) = Fixture::init();
    let mut numbers = Vec::new();
    let mut pending = Vec::new();
    for n in 0..certifications {
        let body = if n % 2 == 0 { y_body() } else { s_body() };
        let signed = fx.junior(&body, &format!("50010119900{n:07}"), "张三");
        numbers.push(number_of(&signed));
        pending.push(node.submit_pending(signed).expect("queued"));
    }
    for receipt in pending {
        receipt.wait().expect("certification accepted");
    }
    let entry_count = node.entry_count();
    let digest = node.projection_digest().expect("digest");
    node.close().expect("close");
    assert_eq!(
        std::fs::read_to_string(fx.path().join("projections.flushed")).expect("flush mark"),
        format!("{entry_count}\n"),
        "close records the flushed cursor (docs/formats.md)"
    );
    Closed {
        fx,
        numbers,
        entry_count,
        digest,
    }
}

/// Checks a reopened node holds exactly what it held when it was closed.
fn check_intact(node: &Node, closed: &Closed) {
    assert_eq!(node.entry_count(), closed.entry_count, "entries");
    assert_eq!(
        node.checkpoint().expect("checkpoint").checkpoint.size,
        closed.entry_count,
        "checkpoint size"
    );
    assert_eq!(
        node.projection_digest().expect("digest"),
        closed.digest,
        "projections"
    );
    for number in &closed.numbers {
        let record = node
            .credential(number)
            .expect("query")
            .unwrap_or_else(|| panic!("{number} is missing"));
        assert_eq!(record.status, CredentialStatus::Valid);
    }
    for index in 0..closed.entry_count {
        node.read_event(index).expect("every entry reads back");
    }
}

/// Checks `Node::open` refuses with an error of `kind` whose message names every fragment,
/// and that the refusal changed no byte of the log or the tree.
fn check_refused(fx: &Fixture, kind: NodeErrorKind, fragments: &[&str]) -> String {
    let log_before = snapshot(&fx.log_dir());
    let tree_before = snapshot(&fx.path().join("tree"));
    let error = match fx.reopen() {
        Ok(_) => panic!("the damaged ledger opened"),
        Err(error) => error,
    };
    let message = error.to_string();
    eprintln!("refused to open: {message}");
    assert_eq!(error.kind(), kind, "{message}");
    for fragment in fragments {
        assert!(message.contains(fragment), "'{fragment}' not in: {message}");
    }
    assert!(snapshot(&fx.log_dir()) == log_before, "the log was changed");
    assert!(
        snapshot(&fx.path().join("tree")) == tree_before,
        "the tree was changed"
    );
    message
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open segment");
    file.write_all(bytes).expect("append");
    file.sync_all().expect("sync");
}

fn truncate(path: &Path, length: u64) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open segment");
    file.set_len(length).expect("truncate");
    file.sync_all().expect("sync");
}

/// Appends entries straight to the log of a closed ledger, as a crash after the log's fsync
/// but before the projections (and checkpoint) caught up would leave them.
fn append_to_log(fx: &Fixture, events: &[SignedEvent]) {
    let (mut log, _) =
        Log::open(&fx.log_dir(), LogOptions::default(), 0).expect("open the log directly");
    let entries: Vec<Vec<u8>> = events
        .iter()
        .map(|signed| signed.to_entry().expect("entry bytes"))
        .collect();
    let slices: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    log.append_batch(&slices).expect("append");
}

#[test]
fn given_a_torn_tail_of_junk_when_the_node_opens_then_it_is_cut_and_the_data_is_intact() {
    let closed = closed_ledger();
    let segment = closed.fx.last_segment();
    let length = std::fs::metadata(&segment).expect("metadata").len();
    append_bytes(&segment, &[0xff; 37]);

    let (node, report) = closed.fx.reopen().expect("reopen after a torn tail");

    assert_eq!(report.recovery.truncated_bytes, 37);
    assert_eq!(
        report.recovery.truncated_at,
        Some((segment.clone(), length))
    );
    assert_eq!(report.replayed, 0);
    check_intact(&node, &closed);
    assert_eq!(std::fs::metadata(&segment).expect("metadata").len(), length);
}

#[test]
fn given_an_unacknowledged_entry_cut_in_half_when_the_node_opens_then_it_is_dropped() {
    let closed = closed_ledger();
    let fx = &closed.fx;
    let extra = fx.junior(&y_body(), "500101199909099999", "赵六");
    append_to_log(fx, std::slice::from_ref(&extra));
    let segment = fx.last_segment();
    let (start, end) = *frames(&segment).last().expect("the extra frame");
    let cut = start + (end - start) / 2;
    truncate(&segment, cut);

    let (node, report) = fx.reopen().expect("reopen after a torn entry");

    assert_eq!(report.recovery.truncated_bytes, cut - start);
    assert_eq!(report.recovery.truncated_at, Some((segment, start)));
    check_intact(&node, &closed);
    assert!(node
        .credential(&number_of(&extra))
        .expect("query")
        .is_none());
    // The cut entry was never acknowledged: submitting it now is a first acceptance.
    let receipt = node.submit(extra).expect("accepted");
    assert_eq!(
        (receipt.index, receipt.duplicate),
        (closed.entry_count, false)
    );
}

#[test]
fn given_a_flipped_byte_in_an_acknowledged_entry_when_the_node_opens_then_it_refuses_naming_the_place(
) {
    let closed = closed_ledger();
    let fx = &closed.fx;
    let segment = fx.last_segment();
    let frames = frames(&segment);
    // A middle entry, and the last one (which a careless recovery would take for a torn tail).
    for index in [4usize, frames.len() - 1] {
        let (start, end) = frames[index];
        let original = std::fs::read(&segment).expect("read");
        let mut damaged = original.clone();
        damaged[((start + end) / 2) as usize] ^= 0x40;
        std::fs::write(&segment, &damaged).expect("write");

        let message = check_refused(
            fx,
            NodeErrorKind::Log,
            &[
                "checksum",
                &format!("byte offset {start}"),
                &format!("entry {index}"),
                "acknowledged",
            ],
        );
        assert_eq!(std::fs::read(&segment).expect("read"), damaged, "{message}");

        std::fs::write(&segment, &original).expect("repair");
    }
    let (node, _) = fx.reopen().expect("reopen after the repair");
    check_intact(&node, &closed);
}

#[test]
fn given_decided_entries_in_the_log_beyond_the_projections_when_the_node_opens_then_they_are_replayed(
) {
    let closed = closed_ledger();
    let fx = &closed.fx;
    // The crash: three accepted certifications and a revocation reached the log (fsynced),
    // neither the projections nor the checkpoint.
    let y = y_body();
    let late: Vec<SignedEvent> = (0..3)
        .map(|n| fx.junior(&y, &format!("50010219950505{n:04}"), "钱七"))
        .collect();
    let mut appended = late.clone();
    appended.push(fx.revocation(&y, number_of(&late[0]), "2023-01-01"));
    append_to_log(fx, &appended);

    let (node, report) = fx.reopen().expect("reopen after the crash");

    assert_eq!(report.replayed, appended.len() as u64);
    assert!(!report.projections_rebuilt);
    assert_eq!(report.recovery.truncated_bytes, 0);
    let count = closed.entry_count + appended.len() as u64;
    assert_eq!(node.entry_count(), count);
    assert_eq!(
        node.checkpoint().expect("checkpoint").checkpoint.size,
        count
    );
    for (offset, signed) in late.iter().enumerate() {
        let record = node
            .credential(&number_of(signed))
            .expect("query")
            .expect("replayed credential");
        assert_eq!(record.entry_index, closed.entry_count + offset as u64);
    }
    let revoked = node
        .credential(&number_of(&late[0]))
        .expect("query")
        .expect("credential");
    assert!(!revoked.is_valid());
    let stats = node.stats().expect("stats");
    assert_eq!(stats.get("certificates.issued"), Some(&9));
    assert_eq!(stats.get("certificates.revoked"), Some(&1));
    // The replayed events are known: resubmitting one is a duplicate.
    let receipt = node.submit(late[1].clone()).expect("duplicate");
    assert_eq!(
        (receipt.index, receipt.duplicate),
        (closed.entry_count + 1, true)
    );

    let digest = node.projection_digest().expect("digest");
    node.close().expect("close");
    let rebuilt = rebuild(&fx.path(), &mut |_, _| {}).expect("rebuild");
    assert_eq!(rebuilt.digest_before, Some(digest));
    assert_eq!(rebuilt.digest_after, digest, "replay equals a full rebuild");
}

/// The checkpoint file is persisted lazily (at most once a second, at a flush, at close): a
/// crash can leave a file older than the last checkpoint handed out. Every checkpoint was
/// signed over entries already fdatasynced in the log, so the restart recomputes a tree that
/// extends both, and the checkpoint it signs agrees with the lost one.
#[test]
fn given_a_lost_newer_checkpoint_file_when_the_node_opens_then_it_signs_a_consistent_checkpoint() {
    let (fx, node) = Fixture::init();
    let y = y_body();
    for n in 0..3 {
        node.submit(fx.junior(&y, &format!("50010119930303{n:04}"), "孙八"))
            .expect("accepted");
    }
    node.flush().expect("flush persists the checkpoint");
    let checkpoint_path = fx
        .path()
        .join("tree")
        .join(skill_ledger_log::CHECKPOINT_FILE_NAME);
    let older = std::fs::read(&checkpoint_path).expect("persisted checkpoint");
    let mut later = Vec::new();
    for n in 0..4 {
        let signed = fx.junior(&y, &format!("50010119940404{n:04}"), "周九");
        node.submit(signed.clone()).expect("accepted");
        later.push(signed);
    }
    let handed_out = node.checkpoint().expect("checkpoint");
    let entry_count = node.entry_count();
    assert_eq!(handed_out.checkpoint.size, entry_count);
    node.close().expect("close");
    // The crash: the newer checkpoint file never reached the disk.
    std::fs::write(&checkpoint_path, &older).expect("restore the older checkpoint");

    let (node, report) = fx.reopen().expect("reopen with the older checkpoint");

    assert_eq!(report.recovery.truncated_bytes, 0);
    let signed = node.checkpoint().expect("checkpoint");
    assert_eq!(signed.checkpoint.size, entry_count);
    assert_eq!(
        signed.checkpoint.root, handed_out.checkpoint.root,
        "the restart signs the same tree as the lost checkpoint: no fork"
    );
    // The held records came back, and the background filter of held certificate numbers
    // does not hide them: reusing a number is still refused.
    let skill_ledger_domain::EventKind::LevelCertified(mut reused) = later[0].event.kind.clone()
    else {
        panic!("a certification")
    };
    reused.subject = fx.subject("500101199505050505");
    check_rejected(
        node.submit(fx.by_body(&y, skill_ledger_domain::EventKind::LevelCertified(reused))),
        "duplicate-certificate",
    );
    let receipt = node
        .submit(fx.junior(&y, "500101199606060606", "吴十"))
        .expect("accepted after the restart");
    assert_eq!(receipt.index, entry_count);
    node.close().expect("close");
    let (node, _) = fx.reopen().expect("reopen");
    assert_eq!(
        node.checkpoint().expect("checkpoint").checkpoint.size,
        entry_count + 1
    );
}

#[test]
fn given_a_deleted_projections_directory_when_the_node_opens_then_it_is_rebuilt_from_the_log() {
    let closed = closed_ledger();
    let fx = &closed.fx;
    std::fs::remove_dir_all(fx.path().join("projections")).expect("delete projections");

    let (node, report) = fx.reopen().expect("reopen without projections");

    assert!(report.projections_rebuilt, "{report:?}");
    assert_eq!(report.replayed, closed.entry_count);
    check_intact(&node, &closed);
    // The registry came back too: bodies can still issue.
    let receipt = node
        .submit(fx.junior(&s_body(), "500101199909099999", "赵六"))
        .expect("accepted after the rebuild");
    assert_eq!(receipt.index, closed.entry_count);
}

#[test]
fn given_a_checkpoint_signed_by_another_key_when_the_node_opens_then_it_refuses() {
    let closed = closed_ledger();
    // Another ledger with the same origin but its own authority key.
    let (other, other_node) = Fixture::init();
    other_node.close().expect("close");
    let checkpoint = |fx: &Fixture| {
        fx.path()
            .join("tree")
            .join(skill_ledger_log::CHECKPOINT_FILE_NAME)
    };
    std::fs::copy(checkpoint(&other), checkpoint(&closed.fx)).expect("replace the checkpoint");

    let message = check_refused(&closed.fx, NodeErrorKind::Log, &["checkpoint"]);
    assert!(message.to_lowercase().contains("signature"), "{message}");
}

#[test]
fn given_a_log_shorter_than_the_signed_checkpoint_when_the_node_opens_then_it_refuses() {
    let closed = closed_ledger();
    let fx = &closed.fx;
    let segment = fx.last_segment();
    let (start, end) = *frames(&segment).last().expect("last frame");
    let acknowledged = closed.entry_count.to_string();
    let original = std::fs::read(&segment).expect("read");

    // The last acknowledged entry cut in half: not a torn tail, it was acknowledged.
    truncate(&segment, (start + end) / 2);
    check_refused(
        fx,
        NodeErrorKind::Log,
        &[&format!("entry {}", closed.entry_count - 1), &acknowledged],
    );

    // The last acknowledged entry removed whole.
    truncate(&segment, start);
    check_refused(
        fx,
        NodeErrorKind::Log,
        &[
            &format!("holds {} entries", closed.entry_count - 1),
            &acknowledged,
        ],
    );

    std::fs::write(&segment, original).expect("repair");
    let (node, _) = fx.reopen().expect("reopen after the repair");
    check_intact(&node, &closed);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy");
    for item in std::fs::read_dir(from).expect("read dir") {
        let item = item.expect("dir entry");
        let target = to.join(item.file_name());
        if item.file_type().expect("file type").is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).expect("copy file");
        }
    }
}

/// Credentials and event-id chunks are written ahead of the batch that moves the cursor
/// (`Projection::commit`), so a crash between the two leaves records of entries past the
/// cursor in the projections. Replaying those entries must give exactly the projections of
/// an uninterrupted run.
#[test]
fn given_records_written_past_the_cursor_when_the_node_opens_then_replay_rewrites_them_identically()
{
    let closed = closed_ledger();
    let fx = &closed.fx;
    let projections = fx.path().join("projections");
    let behind = fx.path().join("projections-behind");
    copy_dir(&projections, &behind);
    // The mark of the last clean close: a crash leaves the one from before the crash.
    let flushed_mark = fx.path().join("projections.flushed");
    let mark_behind = std::fs::read(&flushed_mark).expect("flushed mark");
    // The uninterrupted run: three certifications and a revocation.
    let (node, _) = fx.reopen().expect("reopen");
    let y = y_body();
    let late: Vec<SignedEvent> = (0..3)
        .map(|n| fx.junior(&y, &format!("50010219950505{n:04}"), "钱七"))
        .collect();
    for signed in &late {
        node.submit(signed.clone()).expect("accepted");
    }
    node.submit(fx.revocation(&y, number_of(&late[0]), "2023-01-01"))
        .expect("revocation accepted");
    let uninterrupted = node.projection_digest().expect("digest");
    node.close().expect("close");
    // The crash: the projections are those at the old cursor, plus every credential and
    // event-id record the uninterrupted run wrote (some of them past that cursor).
    {
        let options = StoreOptions::with_cache(1 << 20);
        let full_store = Store::open(&projections, options).expect("open full projections");
        let full = full_store.tree("projection").expect("tree");
        let crashed = Store::open(&behind, options).expect("open projections behind");
        let crashed_tree = crashed.tree("projection").expect("tree");
        for prefix in [b'c', b'e'] {
            for item in full.scan_prefix([prefix]) {
                let (key, value) = item.expect("read");
                crashed_tree.insert(key, value).expect("write");
            }
        }
        crashed.db().flush().expect("flush");
    }
    std::fs::remove_dir_all(&projections).expect("remove");
    std::fs::rename(&behind, &projections).expect("swap in the crashed projections");
    std::fs::write(&flushed_mark, mark_behind).expect("restore the older mark");

    let (node, report) = fx.reopen().expect("reopen after the crash");

    assert_eq!(report.replayed, 4);
    assert!(!report.projections_rebuilt, "{report:?}");
    assert_eq!(node.projection_digest().expect("digest"), uninterrupted);
    let stats = node.stats().expect("stats");
    assert_eq!(stats.get("certificates.issued"), Some(&9));
    assert_eq!(stats.get("certificates.revoked"), Some(&1));
    node.close().expect("close");
    let rebuilt = rebuild(&fx.path(), &mut |_, _| {}).expect("rebuild");
    assert_eq!(
        rebuilt.digest_after, uninterrupted,
        "replay equals a full rebuild"
    );
}

/// The ways a projection directory can be found damaged: every file sled keeps replaced by
/// garbage, cut short, or emptied.
#[derive(Clone, Copy, Debug)]
enum Damage {
    Garbage,
    Truncated,
    Emptied,
    FlippedBytes,
}

fn damage_projections(dir: &Path, damage: Damage, only_db: bool) -> Vec<String> {
    let mut damaged = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read projections") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if only_db && path.file_name() != Some(std::ffi::OsStr::new("db")) {
                continue;
            }
            let bytes = std::fs::read(&path).expect("read sled file");
            let new: Vec<u8> = match damage {
                Damage::Garbage => (0..bytes.len().max(64))
                    .map(|k| (k as u8).wrapping_mul(151).wrapping_add(7))
                    .collect(),
                Damage::Truncated => bytes[..bytes.len() / 3].to_vec(),
                Damage::Emptied => Vec::new(),
                Damage::FlippedBytes => {
                    let mut bytes = bytes.clone();
                    let middle = bytes.len() / 2;
                    for byte in bytes.iter_mut().skip(middle).take(64) {
                        *byte ^= 0x5a;
                    }
                    bytes
                }
            };
            std::fs::write(&path, new).expect("damage sled file");
            damaged.push(format!("{} ({} bytes)", path.display(), bytes.len()));
        }
    }
    damaged
}

/// Damages the projections of one closed ledger twice (`db` alone, then every sled file),
/// each time reopening, checking, and closing again.
fn given_damaged_projections_when_the_node_opens_then_they_are_rebuilt(damage: Damage) {
    let closed = closed_ledger_of(1000);
    for only_db in [true, false] {
        damaged_projections_are_rebuilt(&closed, damage, only_db);
    }
}

fn damaged_projections_are_rebuilt(closed: &Closed, damage: Damage, only_db: bool) {
    let fx = &closed.fx;
    let damaged = damage_projections(&fx.path().join("projections"), damage, only_db);
    eprintln!("{damage:?}: {damaged:?}");

    let (node, report) = fx.reopen().expect("reopen with damaged projections");
    assert!(
        report.projections_rebuilt,
        "{damage:?} (only db: {only_db}) was not detected: {report:?}"
    );
    assert_eq!(report.replayed, closed.entry_count, "rebuilt from entry 0");
    check_intact(&node, closed);
    node.close().expect("close");
    // Once rebuilt, the next start trusts the projections again.
    let (node, report) = fx.reopen().expect("reopen after the rebuild");
    assert!(!report.projections_rebuilt, "{report:?}");
    assert_eq!(report.replayed, 0);
    check_intact(&node, closed);
    node.close().expect("close");
}

#[test]
fn given_sled_files_of_garbage_when_the_node_opens_then_the_projections_are_rebuilt() {
    given_damaged_projections_when_the_node_opens_then_they_are_rebuilt(Damage::Garbage);
}

#[test]
fn given_truncated_sled_files_when_the_node_opens_then_the_projections_are_rebuilt() {
    given_damaged_projections_when_the_node_opens_then_they_are_rebuilt(Damage::Truncated);
}

#[test]
fn given_emptied_sled_files_when_the_node_opens_then_the_projections_are_rebuilt() {
    given_damaged_projections_when_the_node_opens_then_they_are_rebuilt(Damage::Emptied);
}

#[test]
fn given_sled_files_with_flipped_bytes_when_the_node_opens_then_the_projections_are_rebuilt() {
    given_damaged_projections_when_the_node_opens_then_they_are_rebuilt(Damage::FlippedBytes);
}
