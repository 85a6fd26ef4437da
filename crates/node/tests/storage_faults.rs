//! Storage faults: when the disk fails an fsync (or a write), the node stops acknowledging.
//! A batch whose log fsync failed is answered with an error, never as durable; no checkpoint
//! covers it (the checkpoint file, persisted lazily, is the exception below); later
//! submissions are refused even once the disk works again (a retried fsync may report
//! success for pages the kernel already dropped); and after a restart the ledger opens, the
//! log matches its signed checkpoint, and resubmitting the event gives it one index.

mod common;

use common::*;
use skill_ledger_log::faults::{self, Operation};
use skill_ledger_node::{Node, SubmitError};

fn check_stopped(result: Result<skill_ledger_node::Receipt, SubmitError>) -> String {
    match result {
        Err(SubmitError::Stopped(reason)) => reason,
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
        reason.contains(part) || reason.contains("Input/output"),
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
    let reason = node.stopped().unwrap_or_default();
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
