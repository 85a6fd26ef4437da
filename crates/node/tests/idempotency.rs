//! Resubmission: the same signed event is answered with its first index; the same event id
//! with other content is refused, whether the two meet in one batch or in different ones.

mod common;

use std::sync::atomic::Ordering;

use common::*;
use skill_ledger_domain::{Event, EventKind, Level, SignedEvent, Signer};
use skill_ledger_node::{Node, Receipt, SubmitError};

/// Checks an acknowledgement: its index and whether it was a duplicate.
fn check_receipt(result: Result<Receipt, SubmitError>, index: u64, duplicate: bool) {
    let receipt = result.unwrap_or_else(|error| panic!("expected entry {index}, got {error}"));
    assert_eq!(
        (receipt.index, receipt.duplicate),
        (index, duplicate),
        "receipt"
    );
    assert!(
        receipt.checkpoint.checkpoint.size > index,
        "the checkpoint covers the entry"
    );
}

/// The same event id as `signed`, signed properly, over different content.
fn same_id_other_content(fx: &Fixture, signed: &SignedEvent) -> SignedEvent {
    let body = y_body();
    let other = fx.junior(&body, "500101199909099999", "赵六");
    SignedEvent::sign(
        &fx.origin,
        Signer::Body(body.number),
        &body.key,
        Event {
            id: signed.event.id,
            kind: other.event.kind,
        },
    )
}

fn check_entry_count(node: &Node, expected: u64) {
    assert_eq!(node.entry_count(), expected, "entries in the log");
    assert_eq!(
        node.checkpoint().expect("a checkpoint").checkpoint.size,
        expected,
        "checkpoint size"
    );
}

#[test]
fn given_an_accepted_event_when_it_is_resubmitted_in_a_later_batch_then_the_first_index_is_returned_as_duplicate(
) {
    let (fx, node) = Fixture::init();
    let signed = fx.junior(&y_body(), "500101199001011234", "张三");
    check_receipt(node.submit(signed.clone()), SETUP_ENTRIES, false);
    let digest = node.projection_digest().expect("digest");

    check_receipt(node.submit(signed.clone()), SETUP_ENTRIES, true);
    check_receipt(node.submit(signed), SETUP_ENTRIES, true);

    check_entry_count(&node, SETUP_ENTRIES + 1);
    assert_eq!(node.projection_digest().expect("digest"), digest);
    let duplicates = node.metrics().duplicates.load(Ordering::Relaxed);
    assert_eq!(duplicates, 2);
}

#[test]
fn given_an_accepted_event_when_its_id_is_reused_for_other_content_in_a_later_batch_then_it_is_rejected(
) {
    let (fx, node) = Fixture::init();
    let signed = fx.junior(&y_body(), "500101199001011234", "张三");
    check_receipt(node.submit(signed.clone()), SETUP_ENTRIES, false);
    let digest = node.projection_digest().expect("digest");

    let message = check_rejected(
        node.submit(same_id_other_content(&fx, &signed)),
        "duplicate-event-id",
    );
    assert!(message.contains(&SETUP_ENTRIES.to_string()), "{message}");

    check_entry_count(&node, SETUP_ENTRIES + 1);
    assert_eq!(node.projection_digest().expect("digest"), digest);
}

#[test]
fn given_events_queued_together_when_one_is_repeated_and_its_id_reused_then_one_entry_is_written() {
    let (fx, node) = Fixture::init_with_batch_delay(150);
    let signed = fx.junior(&y_body(), "500101199001011234", "张三");
    let other = fx.junior(&s_body(), "500101199202022345", "李四");
    let batches_before = node.metrics().batches.load(Ordering::Relaxed);

    // When: all queued before any answer is awaited (the sequencer batches them).
    let pending = [
        signed.clone(),
        signed.clone(),
        same_id_other_content(&fx, &signed),
        other.clone(),
        other,
        signed,
    ]
    .into_iter()
    .map(|event| node.submit_pending(event).expect("queued"))
    .collect::<Vec<_>>();
    let mut answers = pending.into_iter().map(|pending| pending.wait());

    // Then: each answer refers to the first acceptance.
    let first = SETUP_ENTRIES;
    check_receipt(answers.next().expect("answer"), first, false);
    check_receipt(answers.next().expect("answer"), first, true);
    check_rejected(answers.next().expect("answer"), "duplicate-event-id");
    check_receipt(answers.next().expect("answer"), first + 1, false);
    check_receipt(answers.next().expect("answer"), first + 1, true);
    check_receipt(answers.next().expect("answer"), first, true);
    check_entry_count(&node, SETUP_ENTRIES + 2);
    let batches = node.metrics().batches.load(Ordering::Relaxed) - batches_before;
    assert_eq!(batches, 1, "the six submissions formed one batch");
}

#[test]
fn given_a_restarted_node_when_an_old_event_is_resubmitted_then_it_is_still_recognised() {
    let (fx, node) = Fixture::init();
    let signed = fx.junior(&y_body(), "500101199001011234", "张三");
    check_receipt(node.submit(signed.clone()), SETUP_ENTRIES, false);
    node.close().expect("close");

    let (node, _) = fx.reopen().expect("reopen");
    check_receipt(node.submit(signed.clone()), SETUP_ENTRIES, true);
    check_rejected(
        node.submit(same_id_other_content(&fx, &signed)),
        "duplicate-event-id",
    );
    check_entry_count(&node, SETUP_ENTRIES + 1);
}

#[test]
fn given_a_rejected_event_when_its_id_is_reused_for_a_valid_event_then_that_event_is_accepted() {
    let (fx, node) = Fixture::init();
    let body = y_body();
    let out_of_scope = fx.by_body(
        &body,
        EventKind::LevelCertified(fx.certified(
            &body,
            "500101199001011234",
            "张三",
            cook(),
            Level::Junior,
            "2021-06-01",
            attested(),
        )),
    );
    check_rejected(node.submit(out_of_scope.clone()), "out-of-scope");
    // A rejected event leaves no trace, so submitting it again gets the same answer.
    check_rejected(node.submit(out_of_scope.clone()), "out-of-scope");

    let valid = same_id_other_content(&fx, &out_of_scope);
    check_receipt(node.submit(valid), SETUP_ENTRIES, false);
    check_entry_count(&node, SETUP_ENTRIES + 1);
}
