//! Storage faults: when the disk fails an fsync (or a write), the node stops acknowledging.
//! A batch whose log fsync failed is answered with an error, never as durable; no checkpoint
//! covers it (the checkpoint file, persisted lazily, is the exception below); later
//! submissions are refused even once the disk works again (a retried fsync may report
//! success for pages the kernel already dropped); and after a restart the ledger opens, the
//! log matches its signed checkpoint, and resubmitting the event gives it one index.
//!
//! A write cut short leaves a torn frame: nothing of it is acknowledged and recovery cuts it.
//! A full disk is not a failure of the disk: the batch is refused `StorageFull` with nothing
//! written (the free-space floor refuses it before any write; a write that still finds the
//! disk full is cut off again) and the node accepts again, in the same process, once space is
//! freed. Only a full disk met after the log append (tree, projections) stops the node.

mod common;

use common::*;
use skill_ledger_domain::{EventKind, Level, ScopeItem, SignedEvent};
use skill_ledger_log::faults::{self, Operation};
use skill_ledger_log::{Log, LogOptions};
use skill_ledger_node::{rebuild, InitOptions, Node, SubmitError};

fn check_stopped(result: Result<skill_ledger_node::Receipt, SubmitError>) -> String {
    match result {
        Err(SubmitError::Stopped(reason)) => reason.to_string(),
        Err(other) => panic!("expected the node to stop, got {other}"),
        Ok(receipt) => panic!(
            "acknowledged entry {} although the disk failed",
            receipt.index
        ),
    }
}

/// Arms `operation` under `part` of a fresh ledger, submits, and checks the node stopped
/// without acknowledging; then disarms, restarts and checks the ledger.
fn given_a_failing_disk_then_the_node_stops_and_recovers(part: &str, operation: Operation) {
    let (fx, node) = Fixture::init();
    let before = node.checkpoint().expect("checkpoint");
    let signed = fx.junior(&y_body(), "500101199001011234", "张三");
    let dir = fx.path().join(part);

    faults::fail(&dir, operation);
    let reason = check_stopped(node.submit(signed.clone()));
    assert!(
        reason.contains(part) || reason.contains("Input/output") || reason.contains("space"),
        "the reason names the failure: {reason}"
    );
    assert!(node.stopped().is_some(), "the node reports it stopped");
    let after = node.checkpoint().expect("checkpoint");
    assert_eq!(
        after.checkpoint.size, before.checkpoint.size,
        "a checkpoint covers the unacknowledged batch"
    );

    // The disk works again: the node still refuses (it does not retry the fsync).
    faults::clear(&dir);
    let other = fx.junior(&y_body(), "500101199001011235", "李四");
    check_stopped(node.submit(other));
    drop(node);

    // A restart recovers: the log matches its signed checkpoint (the node audits at open),
    // and the event gets exactly one index whether or not its bytes reached the disk.
    let (node, _) = Node::open(&fx.path()).expect("the ledger opens after the fault");
    assert!(node.stopped().is_none());
    let receipt = node.submit(signed.clone()).expect("accepted after restart");
    assert_eq!(receipt.index, SETUP_ENTRIES);
    let again = node.submit(signed).expect("resubmission");
    assert_eq!((again.index, again.duplicate), (SETUP_ENTRIES, true));
    assert_eq!(node.entry_count(), SETUP_ENTRIES + 1);
}

#[test]
fn given_the_log_fsync_fails_then_nothing_is_acknowledged_and_the_node_stops() {
    given_a_failing_disk_then_the_node_stops_and_recovers("log", Operation::Fsync);
}

#[test]
fn given_a_log_write_fails_then_nothing_is_acknowledged_and_the_node_stops() {
    given_a_failing_disk_then_the_node_stops_and_recovers("log", Operation::Write);
}

/// The checkpoint file is persisted lazily (at most once a second, when idle, on flush and at
/// close): the batch's entries are already durable in the log when it is signed, so it may be
/// acknowledged first. A checkpoint that cannot be persisted still stops the node, and what it
/// acknowledged survives the restart at the same index.
#[test]
fn given_the_checkpoint_cannot_be_made_durable_then_the_node_stops_and_keeps_what_it_acknowledged()
{
    let (fx, node) = Fixture::init();
    let signed = fx.junior(&y_body(), "500101199001011234", "张三");
    let dir = fx.path().join("tree");

    faults::fail(&dir, Operation::Fsync);
    let acknowledged = node
        .submit(signed.clone())
        .ok()
        .map(|receipt| receipt.index);
    let _ = node.flush();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while node.stopped().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "a checkpoint that cannot be persisted must stop the node"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let reason = node
        .stopped()
        .map(|failure| failure.to_string())
        .unwrap_or_default();
    assert!(
        reason.contains("tree") || reason.contains("Input/output"),
        "the reason names the failure: {reason}"
    );
    faults::clear(&dir);
    let other = fx.junior(&y_body(), "500101199001011235", "李四");
    check_stopped(node.submit(other));
    drop(node);

    let (node, _) = Node::open(&fx.path()).expect("the ledger opens after the fault");
    let receipt = node
        .submit(signed)
        .expect("accepted or found after restart");
    if let Some(index) = acknowledged {
        assert_eq!(
            (receipt.index, receipt.duplicate),
            (index, true),
            "an acknowledged entry keeps its index"
        );
    }
    assert_eq!(receipt.index, SETUP_ENTRIES);
    assert_eq!(node.entry_count(), SETUP_ENTRIES + 1);
}

#[test]
fn given_a_write_to_the_tree_cut_short_then_the_node_stops_and_recovers() {
    // The tree's hashes are derived: a torn hash record is recomputed from the log at restart.
    given_a_failing_disk_then_the_node_stops_and_recovers("tree", Operation::ShortWrite);
}

#[test]
fn given_the_tree_finds_the_disk_full_after_the_log_append_then_the_node_stops_and_recovers() {
    // The batch is durable in the log before the tree is written: a full disk there cannot be
    // undone in place, so the node stops and a restart (with space) brings the tree level.
    given_a_failing_disk_then_the_node_stops_and_recovers("tree", Operation::DiskFull);
}

fn check_storage_full(result: Result<skill_ledger_node::Receipt, SubmitError>) -> String {
    match result {
        Err(SubmitError::StorageFull(reason)) => reason.to_string(),
        Err(other) => panic!("expected a full-disk refusal, got {other}"),
        Ok(receipt) => panic!(
            "acknowledged entry {} although the disk is full",
            receipt.index
        ),
    }
}

/// Queues `events` so they share one batch, and waits for every answer.
fn submit_together(
    node: &Node,
    events: &[SignedEvent],
) -> Vec<Result<skill_ledger_node::Receipt, SubmitError>> {
    let pending: Vec<_> = events
        .iter()
        .map(|signed| node.submit_pending(signed.clone()).expect("queued"))
        .collect();
    pending.into_iter().map(|receipt| receipt.wait()).collect()
}

fn certifications(fx: &Fixture, first: u32, count: u32) -> Vec<SignedEvent> {
    (first..first + count)
        .map(|n| fx.junior(&y_body(), &format!("50010119900{n:07}"), "王五"))
        .collect()
}

#[test]
fn given_a_write_cut_short_then_no_torn_entry_is_acknowledged_and_recovery_cuts_it() {
    let (fx, node) = Fixture::init_with_batch_delay(200);
    // Seven frames of one size: half the batch's bytes end inside the fourth.
    let batch = certifications(&fx, 1, 7);
    let dir = fx.log_dir();

    faults::fail(&dir, Operation::ShortWrite);
    for answer in submit_together(&node, &batch) {
        check_stopped(answer);
    }
    faults::clear(&dir);
    assert_eq!(node.entry_count(), SETUP_ENTRIES, "nothing became readable");
    drop(node);

    // Half the batch's bytes reached the segment: whole frames, then a torn one.
    let (node, report) = Node::open(&fx.path()).expect("the ledger opens after a short write");
    let (file, offset) = report
        .recovery
        .truncated_at
        .clone()
        .expect("recovery cut the torn frame");
    assert_eq!(file, fx.last_segment());
    assert!(report.recovery.truncated_bytes > 0, "{report:?}");
    let kept = node.entry_count() - SETUP_ENTRIES;
    assert_eq!(
        kept, 3,
        "the whole frames stay, the torn one goes: {report:?}"
    );
    assert_eq!(
        std::fs::metadata(&file).expect("segment").len(),
        offset,
        "the segment ends where the torn frame began"
    );
    for index in 0..node.entry_count() {
        node.read_event(index).expect("every kept entry reads back");
    }
    // Whole frames that reached the disk are entries now (never acknowledged, like a crash
    // after the write): resubmitting the batch gives every event exactly one index.
    for (k, answer) in submit_together(&node, &batch).into_iter().enumerate() {
        let receipt = answer.expect("accepted after the restart");
        assert_eq!(receipt.index, SETUP_ENTRIES + k as u64);
        assert_eq!(receipt.duplicate, (k as u64) < kept, "entry {k}");
    }
    assert_eq!(node.entry_count(), SETUP_ENTRIES + batch.len() as u64);
}

/// A ledger whose node keeps no free-space floor, so a full disk is met by a write.
fn init_without_floor(batch_delay_ms: u32) -> (Fixture, Node) {
    let mut options = InitOptions::chongqing().importing_history();
    options.sequencer.disk_free_min_mb = 0;
    options.sequencer.batch_delay_ms_max = batch_delay_ms;
    Fixture::init_with(options)
}

#[test]
fn given_the_disk_fills_during_a_log_write_then_the_batch_is_refused_whole_and_the_node_resumes_when_space_returns(
) {
    let (fx, node) = init_without_floor(200);
    let before = snapshot(&fx.log_dir());
    // One batch: certifications (statistics counters) and a body registration (registry).
    let newcomer = Body {
        number: "Y000050000009".parse().expect("registration number"),
        key: ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
    };
    let registered = node.sign_as_authority(EventKind::BodyRegistered(registration(
        &newcomer,
        vec![ScopeItem {
            occupation: turner(),
            level_max: Level::Senior,
        }],
        skill_ledger_domain::Audience::Public,
    )));
    let mut batch = certifications(&fx, 1, 6);
    batch.push(registered.clone());

    faults::fail(&fx.path(), Operation::DiskFull);
    for answer in submit_together(&node, &batch) {
        let reason = check_storage_full(answer);
        assert!(reason.contains("no space"), "the reason names it: {reason}");
    }
    assert!(
        node.stopped().is_none(),
        "a full disk does not stop the node"
    );
    assert_eq!(node.entry_count(), SETUP_ENTRIES);
    assert!(
        snapshot(&fx.log_dir()) == before,
        "the partial write was cut off again"
    );
    assert!(
        node.body(&newcomer.number).is_none(),
        "the refused registration left no trace"
    );
    // Still full: refused again, still not stopped.
    check_storage_full(node.submit(batch[0].clone()));

    // Space returns: the same node accepts, and the refused events get their indexes now.
    faults::clear(&fx.path());
    let receipt = node
        .submit(batch[0].clone())
        .expect("accepted once space returns");
    assert_eq!((receipt.index, receipt.duplicate), (SETUP_ENTRIES, false));
    for (k, answer) in submit_together(&node, &batch[1..]).into_iter().enumerate() {
        assert_eq!(
            answer.expect("accepted").index,
            SETUP_ENTRIES + 1 + k as u64
        );
    }
    assert!(node.body(&newcomer.number).is_some());

    // The projections and statistics equal a fold of the log from scratch: the refused
    // batch's decisions were rolled back, not counted twice.
    let digest = node.projection_digest().expect("digest");
    let stats = node.stats().expect("stats");
    node.close().expect("close");
    let report = rebuild(&fx.path(), &mut |_, _| {}).expect("rebuild");
    assert_eq!(report.digest_after, digest, "projections equal a rebuild");
    let (node, _) = Node::open(&fx.path()).expect("reopen");
    assert_eq!(node.stats().expect("stats"), stats);
}

#[test]
fn given_the_disk_is_below_the_free_space_floor_then_batches_are_refused_before_any_write_and_accepted_once_space_returns(
) {
    let (fx, node) = Fixture::init();
    node.flush().expect("flush");
    let log_before = snapshot(&fx.log_dir());
    let tree_before = snapshot(&fx.path().join("tree"));
    let signed = fx.junior(&y_body(), "500101199001011234", "张三");
    assert!(node.storage_full().is_none());

    faults::fail(&fx.path(), Operation::DiskFull);
    let reason = check_storage_full(node.submit(signed.clone()));
    assert!(reason.contains("disk_free_min_mb"), "{reason}");
    assert!(
        node.storage_full().is_some(),
        "the node reports the full disk"
    );
    assert!(node.stopped().is_none());
    node.flush().expect("flush");
    assert!(snapshot(&fx.log_dir()) == log_before, "nothing was written");
    assert!(snapshot(&fx.path().join("tree")) == tree_before);

    faults::clear(&fx.path());
    assert!(
        node.storage_full().is_none(),
        "cleared as soon as space returns"
    );
    let receipt = node.submit(signed).expect("accepted once space returns");
    assert_eq!(receipt.index, SETUP_ENTRIES);
}

#[test]
fn given_a_full_disk_when_the_log_is_appended_directly_then_it_is_unchanged_and_appends_continue() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (mut log, _) = Log::open(dir.path(), LogOptions::default(), 0).expect("open");
    log.append_batch(&[b"first".as_slice()]).expect("append");
    let before = snapshot(dir.path());

    faults::fail(dir.path(), Operation::DiskFull);
    let error = log
        .append_batch(&[b"second".as_slice(), b"third".as_slice()])
        .expect_err("the disk is full");
    assert_eq!(
        *error.kind(),
        skill_ledger_log::LogErrorKind::NoSpace,
        "{error}"
    );
    assert!(
        snapshot(dir.path()) == before,
        "the partial write was cut off"
    );
    assert_eq!(log.entry_count(), 1);
    faults::clear(dir.path());

    let range = log
        .append_batch(&[b"second".as_slice(), b"third".as_slice()])
        .expect("appends continue once space returns");
    assert_eq!(range, 1..3);
    drop(log);
    let (log, recovery) = Log::open(dir.path(), LogOptions::default(), 3).expect("reopen");
    assert_eq!(recovery.truncated_bytes, 0, "nothing torn: {recovery:?}");
    assert_eq!(log.reader().read(2).expect("read"), b"third");
}

#[test]
fn given_a_full_disk_when_a_batch_needs_a_new_segment_then_the_flushed_part_is_cut_off_again() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // Room for two 20-byte entries per segment (32-byte header, 8-byte frame headers).
    let options = LogOptions {
        segment_bytes_max: 32 + 2 * (8 + 20),
        ..LogOptions::default()
    };
    let entry = |k: u8| [k; 20];
    let (mut log, _) = Log::open(dir.path(), options, 0).expect("open");
    log.append_batch(&[entry(0).as_slice()]).expect("append");
    let segments = |dir: &std::path::Path| -> Vec<(std::path::PathBuf, Vec<u8>)> {
        snapshot(dir)
            .into_iter()
            .filter(|(path, _)| path.extension().is_some_and(|e| e == "seg"))
            .collect()
    };
    let before = segments(dir.path());

    // The batch's first entry fills the segment (written and synced); creating the next
    // segment finds the disk full.
    let next_segment = dir.path().join(format!("{:020}.seg.tmp", 2));
    faults::fail(&next_segment, Operation::DiskFull);
    let error = log
        .append_batch(&[entry(1).as_slice(), entry(2).as_slice()])
        .expect_err("the disk is full");
    assert_eq!(
        *error.kind(),
        skill_ledger_log::LogErrorKind::NoSpace,
        "{error}"
    );
    assert!(
        segments(dir.path()) == before,
        "the entry flushed into the old segment was cut off again"
    );
    faults::clear(&next_segment);

    let range = log
        .append_batch(&[entry(1).as_slice(), entry(2).as_slice()])
        .expect("appends continue once space returns");
    assert_eq!(range, 1..3);
    drop(log);
    let (log, recovery) = Log::open(dir.path(), options, 3).expect("reopen");
    assert_eq!(recovery.truncated_bytes, 0, "{recovery:?}");
    assert_eq!(segments(dir.path()).len(), 2);
    for k in 0..3u8 {
        assert_eq!(log.reader().read(u64::from(k)).expect("read"), entry(k));
    }
}

mod full_disk_at_random {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        /// A batch of entries of these lengths.
        Append(Vec<usize>),
        /// The disk fills (true) or space is freed (false).
        Full(bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => proptest::collection::vec(1usize..90, 1..6).prop_map(Op::Append),
            1 => any::<bool>().prop_map(Op::Full),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever the order of appends, full disks and freed space (segments of about two
        /// hundred bytes, so batches often roll into a new one), the log holds exactly the
        /// batches whose append succeeded, in order; a full disk fails a batch whole, never
        /// poisons the log, and leaves nothing for recovery to cut.
        #[test]
        fn given_a_disk_that_fills_and_frees_at_random_then_the_log_holds_exactly_the_appends_that_succeeded(
            ops in proptest::collection::vec(op(), 1..24)
        ) {
            let dir = tempfile::tempdir().expect("temporary directory");
            let options = LogOptions {
                segment_bytes_max: 200,
                ..LogOptions::default()
            };
            let (mut log, _) = Log::open(dir.path(), options, 0).expect("open");
            let mut model: Vec<Vec<u8>> = Vec::new();
            let mut full = false;
            let mut serial = 0u8;
            for op in &ops {
                match op {
                    Op::Full(now) => {
                        full = *now;
                        if full {
                            faults::fail(dir.path(), Operation::DiskFull);
                        } else {
                            faults::clear(dir.path());
                        }
                    }
                    Op::Append(lengths) => {
                        let batch: Vec<Vec<u8>> = lengths
                            .iter()
                            .map(|length| {
                                serial = serial.wrapping_add(1);
                                vec![serial; *length]
                            })
                            .collect();
                        let slices: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
                        match log.append_batch(&slices) {
                            Ok(range) => {
                                prop_assert!(!full, "appended {range:?} to a full disk");
                                prop_assert_eq!(range.start, model.len() as u64);
                                model.extend(batch);
                            }
                            Err(error) => {
                                prop_assert!(full, "failed with space free: {}", error);
                                prop_assert_eq!(
                                    error.kind(),
                                    &skill_ledger_log::LogErrorKind::NoSpace,
                                    "{}",
                                    error
                                );
                            }
                        }
                        prop_assert_eq!(log.entry_count(), model.len() as u64);
                    }
                }
            }
            faults::clear(dir.path());
            drop(log);
            let (log, recovery) =
                Log::open(dir.path(), options, model.len() as u64).expect("reopen");
            prop_assert_eq!(recovery.truncated_bytes, 0, "{:?}", recovery);
            prop_assert_eq!(log.entry_count(), model.len() as u64);
            for (index, entry) in model.iter().enumerate() {
                prop_assert_eq!(&log.reader().read(index as u64).expect("read"), entry);
            }
        }
    }
}

#[test]
fn given_the_log_fsync_fails_for_a_batch_of_many_then_none_of_them_is_acknowledged() {
    let (fx, node) = Fixture::init_with_batch_delay(200);
    let before = node.checkpoint().expect("checkpoint").checkpoint.size;
    let batch = certifications(&fx, 1, 6);
    let dir = fx.log_dir();

    faults::fail(&dir, Operation::Fsync);
    for answer in submit_together(&node, &batch) {
        check_stopped(answer);
    }
    assert_eq!(
        node.checkpoint().expect("checkpoint").checkpoint.size,
        before,
        "no checkpoint covers the batch"
    );
    assert_eq!(node.entry_count(), SETUP_ENTRIES, "nothing became readable");
    faults::clear(&dir);
    drop(node);

    // Whether or not the bytes reached the disk, each event ends with exactly one index.
    let (node, _) = Node::open(&fx.path()).expect("the ledger opens after the fault");
    let mut indexes: Vec<u64> = submit_together(&node, &batch)
        .into_iter()
        .map(|answer| answer.expect("accepted or found after the restart").index)
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(indexes.len(), batch.len());
    assert_eq!(node.entry_count(), SETUP_ENTRIES + batch.len() as u64);
}
